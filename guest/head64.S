/*
 * The protected-mode part of every test guest, loaded at 0x100000:
 * a 32-bit entry at +0 (not supported: exits with 0x7e) and the 64-bit entry
 * at +0x200, entered in long mode with identity-mapped paging, interrupts
 * off and %rsi = the zero page. It zeroes .bss, takes its own stack and
 * calls guest_main(boot_params); the return value is the exit status.
 */
#include <asm/bootparam.h>

#include "x86/layout.h"

#define STATUS_NO_32BIT	0x7e
#define STACK_SIZE	16384

	.section .head.text, "ax"
	.code32
	.globl	startup_32
startup_32:
	cli
	mov	$STATUS_NO_32BIT, %al
	out	%al, $PORT_EXIT
1:	hlt
	jmp	1b

	.org	0x200
	.code64
	.globl	startup_64
startup_64:
	cli
	cld
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb
	lea	stack_top(%rip), %rsp
	mov	%rsi, %rdi
	call	guest_main
	mov	%eax, %edi
	call	guest_exit
2:	hlt
	jmp	2b

/* Boot protocol 2.15: kernel_info, found through kernel_info_offset. */
	.section .rodata
	.balign	4
	.globl	kernel_info
kernel_info:
	.ascii	"LToP"
	.long	kernel_info_var_len_data - kernel_info
	.long	kernel_info_end - kernel_info
	.long	SETUP_TYPE_MAX
kernel_info_var_len_data:
kernel_info_end:

	.section .bss
	.balign	16
stack:
	.skip	STACK_SIZE
stack_top:

	.section .note.GNU-stack, "", @progbits
