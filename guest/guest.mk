# Tiny test guests (freestanding bzImages, no SSE): see guest/README.md.
# Included by the top Makefile; builds guest/NAME.bzImage with `make guests`.
GUESTS		:= hello exit-code zeropage smp virtq-hostile
GUEST_IMAGES	:= $(GUESTS:%=guest/%.bzImage)

GUEST_CFLAGS	:= -m64 -std=gnu11 -O2 -g0 -Wall -Wextra -Werror -Wno-unused-parameter \
		   -ffreestanding -nostdlib -fno-pic -fno-pie -mcmodel=small \
		   -mno-red-zone -mgeneral-regs-only -mno-sse -mno-popcnt \
		   -fno-stack-protector -fno-asynchronous-unwind-tables \
		   -fno-tree-loop-distribute-patterns -fcf-protection=none \
		   -Iinclude -Iguest -MMD -MP
GUEST_ASFLAGS	:= -m64 -D__ASSEMBLY__ -Iinclude -Iguest -MMD -MP
GUEST_LDFLAGS	:= -m elf_x86_64 -nostdlib -static --build-id=none -T guest/guest.ld \
		   $(shell $(LD) --help 2>/dev/null | grep -q no-warn-rwx-segments && \
			   echo --no-warn-rwx-segments)

# Every guest: its real-mode part, the 64-bit entry, the library, its main.
GUEST_COMMON	:= guest/head64.o guest/lib.o
guest_objs	= guest/header-$(1).o $(GUEST_COMMON) guest/$(1).o $(GUEST_EXTRA_$(1))
GUEST_EXTRA_smp	:= guest/smp-tramp.o

GUEST_OBJS	:= $(sort $(foreach g,$(GUESTS),$(call guest_objs,$(g))))

guests: $(GUEST_IMAGES)

guest/%.o: guest/%.c
	@echo "  GCC64   $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -c -o $@ $<

guest/%.o: guest/%.S
	@echo "  GAS64   $@"
	$(Q)$(CC) $(GUEST_ASFLAGS) -c -o $@ $<

# The real-mode part names its guest in the kernel_version string.
$(GUESTS:%=guest/header-%.o): guest/header-%.o: guest/header.S
	@echo "  GAS16   $@"
	$(Q)$(CC) $(GUEST_ASFLAGS) -DGUEST_NAME='"$*"' -c -o $@ $<

define guest_link
guest/$(1).elf: $(call guest_objs,$(1)) guest/guest.ld
	@echo "  LD      $$@"
	$$(Q)$$(LD) $$(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^)
endef
$(foreach g,$(GUESTS),$(eval $(call guest_link,$(g))))

guest/%.bzImage: guest/%.elf
	@echo "  BZIMAGE $@"
	$(Q)$(OBJCOPY) -O binary $< $@

# Cross-check under QEMU TCG, for machines without /dev/kvm: the guests
# booted with lkvm's own BIOS and boot code (guest/qemu/mkimg.c).
GUEST_QEMU_OBJS	:= x86/boot.o x86/e820.o x86/bios.o x86/bios/bios-blob.o util/util.o

guest/qemu/mkimg: guest/qemu/mkimg.c $(GUEST_QEMU_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(GUEST_QEMU_OBJS)

guest/qemu/stub.bin: guest/qemu/stub.S
	@echo "  GAS16   $@"
	$(Q)$(CC) -c -o guest/qemu/stub.o $<
	$(Q)$(LD) -m elf_x86_64 -Ttext=0xff000 -e legacy --oformat=binary -o $@ guest/qemu/stub.o

guests-qemu-check: guests guest/qemu/mkimg guest/qemu/stub.bin
	guest/qemu/check.sh

GUEST_CLEAN	:= $(GUEST_IMAGES) $(GUEST_IMAGES:.bzImage=.elf) $(GUEST_OBJS) \
		   guest/qemu/mkimg guest/qemu/stub.o guest/qemu/stub.bin

.PHONY: guests guests-qemu-check
.SECONDARY: $(GUEST_OBJS) $(GUEST_IMAGES:.bzImage=.elf)
