#ifndef X86__E820_H
#define X86__E820_H

#include <asm/bootparam.h>

#include "kvm/util.h"

#define E820_RAM	1
#define E820_RESERVED	2
#define E820_ACPI	3

struct e820_table {
	u32			nr;
	struct boot_e820_entry	map[E820_MAX_ENTRIES_ZEROPAGE];
};

/* Build the guest's memory map for @ram_size bytes, @ram_low of them below 4 GiB. */
int e820__build(struct e820_table *t, u64 ram_size, u64 ram_low);
int e820__add(struct e820_table *t, u64 addr, u64 size, u32 type);

#endif
