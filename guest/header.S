/*
 * The real-mode part of every test guest: boot sector, setup header and a
 * little 16-bit code. The linker (guest/guest.ld) computes setup_sects,
 * syssize, init_size and kernel_info_offset.
 *
 * Entered through the 16-bit boot protocol (at seg+0x20:0, %ds = seg), the
 * guest does not go on to protected mode: it proves the BIOS works and
 * stops. It prints "real mode entry", asks int 15h E820h for the memory map
 * and int 12h for the base memory, prints both, and writes 0x42 to PORT_EXIT
 * (0x41 if the E820h calls failed).
 *
 * Built once per guest with -DGUEST_NAME='"name"' for the version string.
 */
#include <asm/bootparam.h>

#include "x86/layout.h"

#define SMAP		0x534d4150
#define COM1		0x3f8
#define STATUS_OK	0x42
#define STATUS_BAD_BIOS	0x41
#define E820_MAX_CALLS	128
#define SETUP_STACK	BOOT_REALMODE_HEAP_END

/* Mark where a header field must be; guest.ld checks the marks. */
.macro at off
	.globl	__hdr_at_\off
	.set	__hdr_at_\off, .
.endm

	.code16
	.section .setup.header, "ax"
	.globl	bootsect
bootsect:
	/* Booted as a floppy boot sector: nothing to do but stop. */
	cli
1:	hlt
	jmp	1b

	.org	0x1f1
	.globl	hdr
hdr:
	at 0x1f1
setup_sects:		.byte	__setup_sects
root_flags:		.word	0
syssize:		.long	__syssize
ram_size:		.word	0
vid_mode:		.word	0xffff		/* NORMAL_VGA */
root_dev:		.word	0
boot_flag:		.word	0xaa55
	at 0x200
jump:			.byte	0xeb, setup_entry - 1f
1:
	at 0x202
header:			.ascii	"HdrS"
version:		.word	0x020f
realmode_swtch:		.long	0
start_sys_seg:		.word	0x1000		/* obsolete */
kernel_version:		.word	version_string - 0x200
type_of_loader:		.byte	0
loadflags:		.byte	LOADED_HIGH
setup_move_size:	.word	0x8000
code32_start:		.long	KERNEL_LOAD_ADDR
ramdisk_image:		.long	0
ramdisk_size:		.long	0
bootsect_kludge:	.long	0
heap_end_ptr:		.word	0
ext_loader_ver:		.byte	0
ext_loader_type:	.byte	0
cmd_line_ptr:		.long	0
	at 0x22c
initrd_addr_max:	.long	0x7fffffff
kernel_alignment:	.long	0x200000
relocatable_kernel:	.byte	0
min_alignment:		.byte	21
xloadflags:		.word	XLF_KERNEL_64
cmdline_size:		.long	2047
hardware_subarch:	.long	0
hardware_subarch_data:	.quad	0
payload_offset:		.long	0
payload_length:		.long	0
setup_data:		.quad	0
	at 0x258
pref_address:		.quad	KERNEL_LOAD_ADDR
init_size:		.long	__init_size
handover_offset:	.long	0
kernel_info_offset:	.long	__kernel_info_offset
	at 0x26c

/*
 * Here from the jump at 0x200, with %cs = seg + 0x20: every address below is
 * an offset from the start of the image, so use %ds = %es = seg (whatever
 * the loader set), and only relative jumps and calls.
 */
setup_entry:
	cli
	cld
	mov	%cs, %ax
	sub	$0x20, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$SETUP_STACK, %sp

	mov	$msg_entry, %si
	call	puts16

	/* Walk the memory map; %bp counts entries. */
	xor	%ebx, %ebx
	xor	%bp, %bp
2:	mov	$0xe820, %eax
	mov	$20, %ecx
	mov	$SMAP, %edx
	mov	$e820_buf, %di
	int	$0x15
	jc	3f
	cmp	$SMAP, %eax
	jne	bad_bios
	cmp	$20, %ecx
	jne	bad_bios
	inc	%bp
	cmp	$E820_MAX_CALLS, %bp
	jae	3f
	test	%ebx, %ebx
	jnz	2b
3:	test	%bp, %bp
	jz	bad_bios

	mov	$msg_e820, %si
	call	puts16
	mov	%bp, %ax
	call	putdec16
	mov	$msg_entries, %si
	call	puts16

	int	$0x12
	push	%ax
	mov	$msg_base, %si
	call	puts16
	pop	%ax
	call	putdec16
	mov	$msg_kib, %si
	call	puts16

	mov	$STATUS_OK, %al
	jmp	exit16

bad_bios:
	mov	$msg_bad, %si
	call	puts16
	mov	$STATUS_BAD_BIOS, %al

/* Write %al to PORT_EXIT and stop. */
exit16:
	out	%al, $PORT_EXIT
4:	cli
	hlt
	jmp	4b

/* Print the character in %al on COM1. */
putc16:
	push	%ax
	push	%cx
	push	%dx
	mov	%al, %ah
	mov	$COM1 + 5, %dx
	mov	$0x4000, %cx
5:	in	%dx, %al
	test	$0x20, %al
	jnz	6f
	loop	5b
6:	mov	$COM1, %dx
	mov	%ah, %al
	out	%al, %dx
	pop	%dx
	pop	%cx
	pop	%ax
	ret

/* Print the NUL-terminated string at %ds:%si, "\n" as CR LF. */
puts16:
	push	%ax
7:	lodsb
	test	%al, %al
	jz	9f
	cmp	$'\n', %al
	jne	8f
	mov	$'\r', %al
	call	putc16
	mov	$'\n', %al
8:	call	putc16
	jmp	7b
9:	pop	%ax
	ret

/* Print %ax in decimal. */
putdec16:
	push	%ax
	push	%bx
	push	%cx
	push	%dx
	mov	$10, %bx
	xor	%cx, %cx
10:	xor	%dx, %dx
	div	%bx
	push	%dx
	inc	%cx
	test	%ax, %ax
	jnz	10b
11:	pop	%ax
	add	$'0', %al
	call	putc16
	loop	11b
	pop	%dx
	pop	%cx
	pop	%bx
	pop	%ax
	ret

msg_entry:	.asciz	"real mode entry\n"
msg_e820:	.asciz	"e820: "
msg_entries:	.asciz	" entries\n"
msg_base:	.asciz	"int 12h: "
msg_kib:	.asciz	" KiB base memory\n"
msg_bad:	.asciz	"e820: the BIOS call failed\n"
version_string:	.asciz	"lkvm-test-guest " GUEST_NAME

	.balign	4
e820_buf:	.fill	24, 1, 0

	.section .note.GNU-stack, "", @progbits
