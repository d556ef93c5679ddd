/*
 * The tiny real-mode BIOS for legacy boots. lkvm starts the kernel's
 * real-mode setup code directly (no POST), so this is only the interrupt
 * handlers that code calls. It is linked at offset 0 of segment 0xf000
 * (BIOS_ADDR) and reads the e820 table lkvm copies to BIOS_E820_ADDR.
 *
 * Rules for every handler: run on the caller's stack (a few words at most),
 * change only the registers the call returns in, and report CF/ZF by editing
 * the FLAGS word of the interrupt frame, so that iret gives the caller back
 * its own IF and DF.
 */
#include "x86/bios.h"
#include "x86/layout.h"

#define SMAP		0x534d4150	/* "SMAP" */
#define E820_OFF	(BIOS_E820_ADDR - BIOS_ADDR)
#define E820_ENTRY	20		/* sizeof(struct boot_e820_entry) */
#define E820_RAM	1
#define BDA_SEG		(BOOT_BDA_ADDR >> 4)
#define COM1		0x3f8
#define UART_LSR	5
#define UART_THRE	0x20
#define FLAGS_CF	0x0001
#define FLAGS_ZF	0x0040
#define FRAME_FLAGS	6		/* FLAGS from %bp once %bp is pushed */
#define PIC1_CMD	0x20
#define PIC2_CMD	0xa0
#define PIC_EOI		0x20

	.code16
	.section .text.header, "ax"

/* The header bios.c reads: magic, handler count, handler offsets. */
	.globl	bios_header
bios_header:
	.long	BIOS_MAGIC
	.word	BIOS_NR_HANDLERS

.macro handler idx, label
	.org	BIOS_HDR_VEC + 2 * (\idx)
	.word	\label
.endm
	handler	BIOS_H_DEFAULT, int_default
	handler	BIOS_H_IRQ, int_irq
	handler	BIOS_H_INT10, int10
	handler	BIOS_H_INT11, int11
	handler	BIOS_H_INT12, int12
	handler	BIOS_H_INT13, int13
	handler	BIOS_H_INT15, int15
	handler	BIOS_H_INT16, int16
	.org	BIOS_HDR_VEC + 2 * BIOS_NR_HANDLERS

	.text

/* Common tails: return from the interrupt with CF (or ZF) set or clear. */
iret_cf_set:
	push	%bp
	mov	%sp, %bp
	orw	$FLAGS_CF, FRAME_FLAGS(%bp)
	pop	%bp
	iret

iret_cf_clear:
	push	%bp
	mov	%sp, %bp
	andw	$~FLAGS_CF, FRAME_FLAGS(%bp)
	pop	%bp
	iret

iret_zf_set:
	push	%bp
	mov	%sp, %bp
	orw	$FLAGS_ZF, FRAME_FLAGS(%bp)
	pop	%bp
	iret

/* Any software interrupt nobody handles: "not supported". */
int_default:
	jmp	iret_cf_set

/*
 * Hardware interrupts (and CPU exceptions, which share vectors 0-0x1f in
 * real mode): acknowledge at the PICs and return with the flags untouched.
 */
int_irq:
	push	%ax
	mov	$PIC_EOI, %al
	out	%al, $PIC2_CMD
	out	%al, $PIC1_CMD
	pop	%ax
	iret

/* int 10h, video: a text-mode CGA that prints to COM1. */
int10:
	cmp	$0x0e, %ah
	je	int10_teletype
	cmp	$0x0f, %ah
	je	int10_get_mode
	cmp	$0x03, %ah
	je	int10_get_cursor
	cmp	$0x4f, %ah
	je	int10_vesa
	/* Set mode, set cursor, fonts, EGA info (BL stays 10h: no EGA)... */
	iret

int10_teletype:
	push	%ax
	push	%cx
	push	%dx
	mov	%al, %ah
	mov	$COM1 + UART_LSR, %dx
	mov	$0x4000, %cx		/* bounded wait for the transmitter */
1:	in	%dx, %al
	test	$UART_THRE, %al
	jnz	2f
	loop	1b
2:	mov	$COM1, %dx
	mov	%ah, %al
	out	%al, %dx
	pop	%dx
	pop	%cx
	pop	%ax
	iret

int10_get_mode:
	mov	$0x5003, %ax		/* 80 columns, mode 3 */
	xor	%bh, %bh		/* page 0 */
	iret

int10_get_cursor:
	xor	%ax, %ax
	mov	$0x0607, %cx		/* cursor scan lines 6-7: visible */
	xor	%dx, %dx		/* row 0, column 0 */
	iret

int10_vesa:
	mov	$0x014f, %ax		/* VBE function supported, but failed */
	iret

/* int 11h: equipment list word from the BDA. */
int11:
	push	%ds
	push	$BDA_SEG
	pop	%ds
	mov	0x10, %ax
	pop	%ds
	iret

/* int 12h: base memory in KiB, from the BDA. */
int12:
	push	%ds
	push	$BDA_SEG
	pop	%ds
	mov	0x13, %ax
	pop	%ds
	iret

/* int 13h: there are no BIOS disks. */
int13:
	mov	$0x01, %ah		/* invalid function */
	jmp	iret_cf_set

/* int 15h: system services. */
int15:
	cmp	$0xe820, %ax
	je	int15_e820
	cmp	$0xe801, %ax
	je	int15_e801
	cmp	$0x88, %ah
	je	int15_88
int15_unsupported:
	mov	$0x86, %ah
	jmp	iret_cf_set

/*
 * AX=E820h: EBX = continuation (entry index), ES:DI = buffer, ECX = its
 * size, EDX = "SMAP". Returns one entry, EAX = "SMAP", ECX = 20, EBX = next
 * index or 0 after the last entry; CF set past the end or on bad input.
 */
int15_e820:
	cmp	$SMAP, %edx
	jne	int15_unsupported
	cmp	$E820_ENTRY, %ecx
	jb	int15_unsupported
	cmp	%cs:E820_OFF, %ebx
	jae	int15_unsupported
	push	%ds
	push	%si
	push	%di
	imul	$E820_ENTRY, %bx, %si
	add	$E820_OFF + 4, %si
	push	%cs
	pop	%ds
	mov	$E820_ENTRY, %cx
	cld
	rep movsb
	pop	%di
	pop	%si
	pop	%ds
	inc	%ebx
	cmp	%cs:E820_OFF, %ebx
	jb	1f
	xor	%ebx, %ebx
1:	mov	$SMAP, %eax
	mov	$E820_ENTRY, %ecx
	jmp	iret_cf_clear

/*
 * %eax = bytes of RAM from 1 MiB up, from the e820 entry that covers
 * 1 MiB (0 if none, at most 4 GiB - 1 MiB). Clobbers nothing else.
 */
ext_mem_bytes:
	push	%si
	push	%ecx
	push	%edx
	mov	%cs:E820_OFF, %ecx
	mov	$E820_OFF + 4, %si
1:	test	%ecx, %ecx
	jz	4f
	cmpl	$E820_RAM, %cs:16(%si)
	jne	2f
	cmpl	$0, %cs:4(%si)
	jne	2f
	cmpl	$KERNEL_LOAD_ADDR, %cs:(%si)
	ja	2f
	mov	%cs:(%si), %eax		/* end = addr + size, 64-bit */
	mov	%cs:12(%si), %edx
	add	%cs:8(%si), %eax
	adc	$0, %edx
	jnz	3f			/* ends at or above 4 GiB */
	cmp	$KERNEL_LOAD_ADDR, %eax
	ja	5f
2:	add	$E820_ENTRY, %si
	dec	%ecx
	jmp	1b
3:	mov	$0xffffffff, %eax
5:	sub	$KERNEL_LOAD_ADDR, %eax
	jmp	6f
4:	xor	%eax, %eax
6:	pop	%edx
	pop	%ecx
	pop	%si
	ret

/* AX=E801h: AX=CX = KiB between 1 and 16 MiB, BX=DX = 64 KiB blocks above. */
int15_e801:
	call	ext_mem_bytes
	test	%eax, %eax
	jz	int15_unsupported
	mov	%eax, %edx
	shr	$10, %eax
	cmp	$15 * 1024, %eax
	jbe	1f
	sub	$15 * 1024 * 1024, %edx
	shr	$16, %edx
	mov	$15 * 1024, %eax
	jmp	2f
1:	xor	%edx, %edx
2:	mov	%eax, %ecx
	mov	%edx, %ebx
	jmp	iret_cf_clear

/* AH=88h: AX = KiB of memory above 1 MiB (at most 63 MiB). */
int15_88:
	call	ext_mem_bytes
	shr	$10, %eax
	cmp	$0xfc00, %eax
	jbe	1f
	mov	$0xfc00, %eax
1:	jmp	iret_cf_clear

/* int 16h, keyboard: there is never a key. */
int16:
	cmp	$0x01, %ah
	je	iret_zf_set		/* peek: ZF set = no key */
	cmp	$0x11, %ah
	je	iret_zf_set
	cmp	$0x00, %ah
	je	int16_read
	cmp	$0x10, %ah
	je	int16_read
	cmp	$0x02, %ah
	je	int16_shift
	cmp	$0x12, %ah
	je	int16_read
	iret				/* 03h set typematic rate, etc. */

int16_read:
	xor	%ax, %ax
	iret

int16_shift:
	xor	%al, %al		/* no shift or lock keys */
	iret

	.section .note.GNU-stack, "", @progbits
