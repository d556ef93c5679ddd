# The embedded guest init (guest/init/): a static x86-64 Linux program with
# no libc, carried inside lkvm (init-blob.S). Included by the top Makefile.
INIT_SRCS	:= guest/init/init.c guest/init/setup.c guest/init/run.c guest/init/lib.c
INIT_OBJS	:= $(INIT_SRCS:.c=.o)
INIT_BIN	:= guest/init/lkvm-init

INIT_CFLAGS	:= -m64 -std=gnu11 -Os -g0 -Wall -Wextra -Werror -Wno-unused-parameter \
		   -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
		   -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
		   -fno-tree-loop-distribute-patterns -fcf-protection=none \
		   -ffunction-sections -fdata-sections -Iinclude -MMD -MP
INIT_LDFLAGS	:= -m64 -nostdlib -static -no-pie -s -Wl,--gc-sections -Wl,--build-id=none \
		   -Wl,-z,norelro -Wl,-z,noexecstack -Wl,-z,noseparate-code

guest/init/%.o: guest/init/%.c
	@echo "  INITCC  $@"
	$(Q)$(CC) $(INIT_CFLAGS) -c -o $@ $<

$(INIT_BIN): $(INIT_OBJS)
	@echo "  INITLD  $@"
	$(Q)$(CC) $(INIT_LDFLAGS) -o $@ $(INIT_OBJS)

guest/init/init-blob.o: guest/init/init-blob.S $(INIT_BIN)
	@echo "  BLOB    $@"
	$(Q)$(CC) -c -o $@ $<

INIT_CLEAN	:= $(INIT_OBJS) $(INIT_BIN) guest/init/init-blob.o
