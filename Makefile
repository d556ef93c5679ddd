# lkvm: make builds ./lkvm (static); make check runs every test layer.
MAKEFLAGS	+= -r
CC		?= gcc
LD		?= ld
OBJCOPY		?= objcopy
V		?=
Q		:= $(if $(V),,@)

CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
		   -Wno-missing-field-initializers -fno-strict-aliasing \
		   -D_GNU_SOURCE -Iinclude -MMD -MP
LDFLAGS		+= -static -pthread
LIBS		:=

VERSION		:= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CORE_SRCS	:= kvm.c kvm-cpu.c term.c control.c
SRCS		:= $(CORE_SRCS) $(wildcard builtin/*.c util/*.c x86/*.c hw/*.c virtio/*.c)
OBJS		:= $(SRCS:.c=.o)
# Blobs assembled at build time and carried inside the binary.
BLOB_OBJS	:= x86/bios/bios-blob.o guest/init/init-blob.o
MAIN_OBJ	:= kvmtool.o

all: lkvm

lkvm: $(MAIN_OBJ) $(OBJS) $(BLOB_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

%.o: %.c
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

builtin/version.o: CFLAGS += -DLKVM_VERSION='"$(VERSION)"'
builtin/version.o: .version-stamp
.version-stamp: FORCE
	@echo "$(VERSION)" | cmp -s - $@ || echo "$(VERSION)" > $@

# The tiny real-mode BIOS: 16-bit code linked at offset 0 of segment 0xf000.
x86/bios/bios.elf: x86/bios/bios.S x86/bios/bios.ld include/x86/layout.h include/x86/bios.h
	@echo "  AS16    $@"
	$(Q)$(CC) -m32 -ffreestanding -nostdlib -Iinclude -c -o x86/bios/bios.o x86/bios/bios.S
	$(Q)$(LD) -m elf_i386 -T x86/bios/bios.ld -o $@ x86/bios/bios.o

x86/bios/bios.bin: x86/bios/bios.elf
	$(Q)$(OBJCOPY) -O binary $< $@

x86/bios/bios-blob.o: x86/bios/bios-blob.S x86/bios/bios.bin
	@echo "  BLOB    $@"
	$(Q)$(CC) -c -o $@ $<

# ---- tests ----
UNIT_SRCS	:= $(wildcard tests/unit/*.c)
UNIT_OBJS	:= $(UNIT_SRCS:.c=.o)

tests/unit/run-unit: $(UNIT_OBJS) $(OBJS) $(BLOB_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

include guest/guest.mk
include guest/init/init.mk

check: lkvm tests/unit/run-unit guests
	tests/run-all.sh

# Build lkvm and boot a Linux guest (in the nested rig where needed).
demo: lkvm
	tests/rig/demo.sh

check-unit: tests/unit/run-unit
	tests/unit/run-unit

clean:
	rm -f lkvm $(MAIN_OBJ) $(OBJS) $(UNIT_OBJS) $(BLOB_OBJS) tests/unit/run-unit \
		x86/bios/bios.o x86/bios/bios.elf x86/bios/bios.bin .version-stamp \
		$(GUEST_CLEAN) $(INIT_CLEAN)
	find . -name '*.d' -delete

.PHONY: all check check-unit demo clean FORCE
-include $(shell find . -name '*.d' 2>/dev/null)
