/* The guest-physical address space: RAM, ROM, MMIO regions, overlay pages, holes, A20 and
 * tracking of pages that hold decoded code. */
#ifndef HVEMU_PHYSMEM_H
#define HVEMU_PHYSMEM_H

#include "types.h"

/* Offsets are relative to the region base; size is 1, 2, 4 or 8 and never straddles the region. */
struct mmio_ops {
    uint64_t (*read)(void *dev, gpa_t offset, unsigned size);
    void (*write)(void *dev, gpa_t offset, uint64_t value, unsigned size);
};

enum phys_kind { PHYS_HOLE, PHYS_RAM, PHYS_ROM, PHYS_MMIO, PHYS_OVERLAY };

struct phys_region {
    gpa_t base;
    uint64_t size;
    enum phys_kind kind;
    uint8_t *host;               /* ROM and overlay backing */
    const struct mmio_ops *ops;  /* MMIO */
    void *dev;
    const char *name;
    bool readonly;               /* overlay the guest may read and execute but not write */
};

/* Low RAM ends where the PCI/device hole starts; the rest of RAM is placed from 4 GiB up. */
#define PHYS_LOWMEM_END 0xC0000000ull
#define PHYS_HIGHMEM_BASE 0x100000000ull
#define PHYS_MAX_REGIONS 256 /* 2 SynIC overlays per VP, 64 VPs, plus devices */

/* Called when a write hits a page that holds decoded code, before the write lands. */
typedef void (*code_write_fn)(void *opaque, gpa_t page);

/* The second-level stage (GPA -> host). A physmem's RAM is normally its own allocation (ram).
 * With a stage-2 translator it is instead whatever translate() says, page run by page run: the
 * hook a child partition's memory (a window into its parent's guest-physical space) and, later,
 * VMX EPT plug into, without changing the fast path, which only ever sees host pointers that
 * physmem_lookup handed to the TLB. Offsets are RAM offsets of this space (physmem_ram_offset),
 * so the RAM/hole layout above stays this space's own. */
struct phys_stage2 {
    /* Host pointer for RAM offset off, valid for *avail bytes (> 0), or NULL when nothing backs
     * it (accesses then behave as a hole: reads all-ones, writes ignored). */
    uint8_t *(*translate)(void *opaque, uint64_t off, uint64_t *avail);
    /* Before a write of len bytes at RAM offset off lands: lets the backing space invalidate
     * code it decoded from those bytes (its own code tracking). May be NULL. */
    void (*before_write)(void *opaque, uint64_t off, uint64_t len);
    void *opaque;
};

struct physmem {
    uint8_t *ram;          /* ram_size bytes, lazily committed by the host */
    uint64_t ram_size;
    uint64_t low_size;     /* bytes of RAM below PHYS_LOWMEM_END */
    uint64_t a20_mask;     /* ~(1<<20) while the A20 gate is closed, else all-ones */
    struct phys_region regions[PHYS_MAX_REGIONS];
    unsigned nregions;
    uint8_t *code_pages;   /* one bit per RAM page */
    code_write_fn code_write;
    void *code_write_opaque;
    uint64_t generation;   /* bumped whenever the map changes, so TLBs can drop stale entries */
    struct phys_stage2 stage2;   /* translate == NULL: RAM is ram[], owned by this physmem */
    struct physmem *alias_parent; /* physmem_init_alias: the space this one's RAM is a window of */
    gpa_t alias_base;
    struct physmem *alias_children, *alias_next; /* windows onto this space, for code tracking */
};

/* A resolved guest-physical address. */
struct phys_lookup {
    enum phys_kind kind;
    uint8_t *host;                   /* RAM/ROM/overlay: host pointer for gpa; else NULL */
    uint64_t avail;                  /* bytes from gpa to the end of this mapping */
    const struct phys_region *region; /* MMIO/ROM/overlay region, else NULL */
};

int physmem_init(struct physmem *pm, uint64_t ram_size);
/* A space whose ram_size bytes of RAM (laid out as physmem_init would) are the parent's
 * guest-physical range [parent_base, parent_base + ram_size): a partition's memory as a window of
 * its parent's. Only parent RAM shows through (parent MMIO/ROM/overlays/holes read as holes).
 * A write through physmem in any space fires the code hook of every space that sees the bytes
 * (parent, child, siblings). Not covered: direct host-pointer writes from another space's TLB,
 * so a partition that runs code from shared memory must also mark those pages as code in the
 * spaces that write them. Destroying the parent first turns the window into a hole. */
int physmem_init_alias(struct physmem *pm, struct physmem *parent, gpa_t parent_base,
                       uint64_t ram_size);
/* Install a custom second-level stage (EPT...); pm's own RAM is then unused. */
void physmem_set_stage2(struct physmem *pm, const struct phys_stage2 *stage2);
void physmem_destroy(struct physmem *pm);

int physmem_map_rom(struct physmem *pm, gpa_t base, const void *data, uint64_t size, const char *name);
int physmem_map_mmio(struct physmem *pm, gpa_t base, uint64_t size, const struct mmio_ops *ops,
                     void *dev, const char *name);
/* Overlay one 4 KiB host page over a guest page (hypercall, SynIC, TSC pages); hides RAM. */
int physmem_map_overlay(struct physmem *pm, gpa_t page, uint8_t *host_page, const char *name,
                        bool readonly);
void physmem_unmap_overlay(struct physmem *pm, gpa_t page);

void physmem_lookup(const struct physmem *pm, gpa_t gpa, struct phys_lookup *out);
/* Host pointer to len bytes of RAM at gpa, or NULL unless the whole range is plain RAM. */
uint8_t *physmem_ram_ptr(struct physmem *pm, gpa_t gpa, uint64_t len);

/* Byte-exact accesses of any length through the map (MMIO split into aligned pieces). */
void physmem_read(struct physmem *pm, gpa_t gpa, void *buf, uint64_t len);
void physmem_write(struct physmem *pm, gpa_t gpa, const void *buf, uint64_t len);
uint64_t physmem_read_u(struct physmem *pm, gpa_t gpa, unsigned size);
void physmem_write_u(struct physmem *pm, gpa_t gpa, uint64_t value, unsigned size);

/* Loader helper: copies into RAM only; -1 if any byte falls outside RAM. */
int physmem_load(struct physmem *pm, gpa_t gpa, const void *data, uint64_t len);

void physmem_set_a20(struct physmem *pm, bool enabled);

/* Self-modifying-code tracking. */
void physmem_set_code_hook(struct physmem *pm, code_write_fn fn, void *opaque);
void physmem_mark_code(struct physmem *pm, gpa_t gpa);
void physmem_clear_code(struct physmem *pm, gpa_t gpa);
bool physmem_is_code(const struct physmem *pm, gpa_t gpa);

/* RAM offset of gpa (accounting for the hole), or UINT64_MAX if gpa is not RAM. */
static inline uint64_t physmem_ram_offset(const struct physmem *pm, gpa_t gpa)
{
    if (gpa < pm->low_size)
        return gpa;
    if (gpa >= PHYS_HIGHMEM_BASE && gpa - PHYS_HIGHMEM_BASE < pm->ram_size - pm->low_size)
        return gpa - PHYS_HIGHMEM_BASE + pm->low_size;
    return UINT64_MAX;
}

#endif
