/* The assembled real-mode BIOS (x86/bios/bios.bin), carried inside lkvm. */
	.section .rodata
	.balign	16
	.globl	bios_blob
	.type	bios_blob, @object
bios_blob:
	.incbin	"x86/bios/bios.bin"
	.globl	bios_blob_end
bios_blob_end:
	.size	bios_blob, bios_blob_end - bios_blob

	.section .note.GNU-stack, "", @progbits
