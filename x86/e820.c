/* The guest's BIOS memory map (e820), shared by the zero page and the BIOS. */
#include "x86/e820.h"
#include "x86/layout.h"

#include <errno.h>

int e820__add(struct e820_table *t, u64 addr, u64 size, u32 type)
{
	if (!size)
		return 0;
	if (t->nr >= E820_MAX_ENTRIES_ZEROPAGE)
		return -ENOSPC;
	t->map[t->nr].addr = addr;
	t->map[t->nr].size = size;
	t->map[t->nr].type = type;
	t->nr++;
	return 0;
}

int e820__build(struct e820_table *t, u64 ram_size, u64 ram_low)
{
	int ret = 0;

	t->nr = 0;
	if (ram_low < KERNEL_LOAD_ADDR || ram_low > ram_size)
		return -EINVAL;
	ret |= e820__add(t, 0, LOW_RAM_END, E820_RAM);
	ret |= e820__add(t, LOW_RAM_END, KERNEL_LOAD_ADDR - LOW_RAM_END, E820_RESERVED);
	ret |= e820__add(t, KERNEL_LOAD_ADDR, ram_low - KERNEL_LOAD_ADDR, E820_RAM);
	ret |= e820__add(t, 0x100000000ull, ram_size - ram_low, E820_RAM);
	return ret ? -ENOSPC : 0;
}
