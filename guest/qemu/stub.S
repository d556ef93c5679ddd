/*
 * Reset code for the QEMU cross-check (guest/qemu/mkimg.c), linked at
 * 0xff000 inside the 64 KiB firmware image: set up the CPU the way lkvm
 * does for --boot=legacy (at 0xff000) or the 64-bit entry (at 0xff100).
 */
	.code16
	.globl	legacy
legacy:			/* at 0xff000: what lkvm does for --boot=legacy */
	cli
	mov	$0x1000, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %fs
	mov	%ax, %gs
	mov	%ax, %ss
	mov	$0xe000, %sp
	ljmp	$0x1020, $0

	.org	0x100
long:			/* at 0xff100: long mode, identity map at 0x9000 */
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	lgdtl	%cs:gdtr - legacy + 0xf000
	mov	$0x20, %eax
	mov	%eax, %cr4
	mov	$0x9000, %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx
	rdmsr
	or	$0x100, %eax
	wrmsr
	mov	%cr0, %eax
	or	$0x80000001, %eax
	mov	%eax, %cr0
	ljmpl	$0x10, $long64
	.code64
long64:
	mov	$0x18, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7000, %esi
	mov	$0x8000, %esp
	mov	$0x100200, %eax
	jmp	*%rax
	.balign	8
gdt:
	.quad	0, 0, 0x00af9a000000ffff, 0x00cf92000000ffff
gdtr:
	.word	4 * 8 - 1
	.long	gdt

	.section .note.GNU-stack, "", @progbits
