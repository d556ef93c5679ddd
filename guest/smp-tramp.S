/*
 * The application processors' start-up code for guest/smp. guest_main
 * copies it to SMP_TRAMPOLINE_ADDR and sends INIT-SIPI-SIPI; each AP starts
 * here in real mode (%cs = SMP_TRAMPOLINE_ADDR >> 4, %ip = 0), adds one to
 * the counter at the end of the code and halts for good. Position
 * independent: it only uses offsets from its own start.
 */
	.section .rodata
	.code16
	.globl	smp_tramp, smp_tramp_end, smp_tramp_count
smp_tramp:
	cli
	mov	%cs, %ax
	mov	%ax, %ds
	mov	$1, %eax
	lock xadd %eax, smp_tramp_count - smp_tramp
1:	cli
	hlt
	jmp	1b
	.balign	4
smp_tramp_count:
	.long	0
smp_tramp_end:
	.code64

	.section .note.GNU-stack, "", @progbits
