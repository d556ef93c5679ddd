#ifndef X86__BIOS_H
#define X86__BIOS_H

/*
 * The built-in real-mode BIOS (x86/bios/bios.S) for legacy boots: interrupt
 * handlers only, no POST. The blob runs in segment BIOS_ADDR >> 4 and starts
 * with a header that tells lkvm where its handlers are:
 *
 *   offset 0	u32 BIOS_MAGIC
 *   offset 4	u16 number of handlers (BIOS_NR_HANDLERS)
 *   offset 6	u16 handler offsets in the segment, indexed by BIOS_H_*
 *
 * This file is included by bios.S too: keep the part above __ASSEMBLER__
 * to plain #defines.
 */
#define BIOS_MAGIC		0x534f4942	/* "BIOS" */
#define BIOS_HDR_MAGIC		0
#define BIOS_HDR_NR		4
#define BIOS_HDR_VEC		6

#define BIOS_H_DEFAULT		0	/* unhandled call: CF set, iret */
#define BIOS_H_IRQ		1	/* hardware interrupt: EOI the PICs, iret */
#define BIOS_H_INT10		2	/* video */
#define BIOS_H_INT11		3	/* equipment list */
#define BIOS_H_INT12		4	/* base memory size */
#define BIOS_H_INT13		5	/* disk: no drives */
#define BIOS_H_INT15		6	/* system: e820, e801, 88h */
#define BIOS_H_INT16		7	/* keyboard: never a key */
#define BIOS_NR_HANDLERS	8

#ifndef __ASSEMBLER__

#include <stddef.h>

#include "kvm/kvm.h"
#include "x86/e820.h"

/* The assembled blob, from x86/bios/bios-blob.S. */
extern const u8 bios_blob[];
extern const u8 bios_blob_end[];

/*
 * Install @blob at BIOS_ADDR, the e820 copy at BIOS_E820_ADDR, the IVT and
 * the BDA. Returns 0 or a negative errno (with a one-line message).
 */
int bios__load(struct kvm *kvm, const u8 *blob, size_t size, const struct e820_table *t);
/* The same with the built-in blob. */
int bios__setup(struct kvm *kvm, const struct e820_table *t);

#endif /* __ASSEMBLER__ */
#endif
