/* The embedded guest init (guest/init/lkvm-init), carried inside lkvm. */
	.section .rodata
	.balign	16
	.globl	init_blob
	.type	init_blob, @object
init_blob:
	.incbin	"guest/init/lkvm-init"
	.globl	init_blob_end
init_blob_end:
	.size	init_blob, init_blob_end - init_blob

	.section .note.GNU-stack, "", @progbits
