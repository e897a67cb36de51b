/* The per-VP software TLB: direct-mapped, one tag each for read, write and execute, and an
 * addend that turns a guest-virtual address into a host pointer, so a hit costs a shift, a
 * mask, a compare and an add. Separate arrays per privilege context (mmu_idx) spare a flush on
 * every CPL or RFLAGS.AC change. */
#ifndef HVEMU_TLB_H
#define HVEMU_TLB_H

#include "types.h"

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
/* mmu_idx: 0 supervisor (SMAP enforced), 1 supervisor with RFLAGS.AC=1, 2 user, and
 * TLB_BYPASS, an array never filled, so every access misses and takes the slow path (the CPU
 * uses it while each access must be checked: data breakpoints, alignment checks). */
#define TLB_BYPASS 3
#define TLB_NIDX 4
#define TLB_INVALID (~0ull)

struct tlb_entry {
    uint64_t tag_r; /* page-aligned va when readable through host pointer, else TLB_INVALID */
    uint64_t tag_w;
    uint64_t tag_x;
    uintptr_t addend; /* host = va + addend */
    gpa_t gpa_page;   /* guest-physical page, for invalidation by physical address */
    bool global;
    uint8_t page_shift; /* 12, or 21/22/30 when this 4 KiB entry is a piece of a large page */
};

struct tlb {
    struct tlb_entry e[TLB_NIDX][TLB_SIZE];
    uint64_t hits, misses;
    /* Span [large_lo, large_hi] of virtual pages filled from large pages since the last full
     * flush: INVLPG anywhere inside a large page must drop all its 4 KiB pieces, which sit at
     * other indices, so tlb_flush_va scans only when va falls inside this span. */
    gva_t large_lo, large_hi;
    uint64_t generation; /* physmem generation the entries were filled under */
};

static inline unsigned tlb_index(gva_t va)
{
    return (unsigned)(va >> PAGE_SHIFT) & (TLB_SIZE - 1);
}

/* Host pointer for an access of size bytes at va that stays within one page, or NULL. */
static inline uint8_t *tlb_lookup_r(struct tlb *t, unsigned idx, gva_t va)
{
    struct tlb_entry *e = &t->e[idx][tlb_index(va)];
    if (likely(e->tag_r == (va & PAGE_MASK)))
        return (uint8_t *)(uintptr_t)(va + e->addend);
    return NULL;
}
static inline uint8_t *tlb_lookup_w(struct tlb *t, unsigned idx, gva_t va)
{
    struct tlb_entry *e = &t->e[idx][tlb_index(va)];
    if (likely(e->tag_w == (va & PAGE_MASK)))
        return (uint8_t *)(uintptr_t)(va + e->addend);
    return NULL;
}
static inline uint8_t *tlb_lookup_x(struct tlb *t, unsigned idx, gva_t va)
{
    struct tlb_entry *e = &t->e[idx][tlb_index(va)];
    if (likely(e->tag_x == (va & PAGE_MASK)))
        return (uint8_t *)(uintptr_t)(va + e->addend);
    return NULL;
}

void tlb_init(struct tlb *t);
/* Install a 4 KiB translation for va -> host page. r/w/x say which tags to set. */
void tlb_fill(struct tlb *t, unsigned idx, gva_t va, gpa_t gpa_page, uint8_t *host_page,
              bool r, bool w, bool x, bool global);
/* As tlb_fill, for a 4 KiB piece of a translation of page_size bytes (4K/2M/4M/1G): the CPU
 * should call this with walk_result.page_size so that tlb_flush_va drops every piece. tlb_fill is
 * tlb_fill_sized with PAGE_SIZE. A NULL host_page (MMIO, hole) installs no tag. */
void tlb_fill_sized(struct tlb *t, unsigned idx, gva_t va, gpa_t gpa_page, uint8_t *host_page,
                    bool r, bool w, bool x, bool global, uint64_t page_size);
void tlb_flush_all(struct tlb *t);
/* Host pointers go stale when the physical map changes (overlay mapped over RAM, A20 toggled):
 * call with physmem.generation before using the TLB, e.g. at every block boundary. */
static inline void tlb_sync_generation(struct tlb *t, uint64_t generation)
{
    if (unlikely(t->generation != generation)) {
        tlb_flush_all(t);
        t->generation = generation;
    }
}
void tlb_flush_nonglobal(struct tlb *t);
/* INVLPG: drops va's entries in every mmu_idx, global ones included, and every piece of a large
 * page containing va. */
void tlb_flush_va(struct tlb *t, gva_t va);
/* Drop write tags that map the given guest-physical page (it now holds decoded code). */
void tlb_drop_write_gpa(struct tlb *t, gpa_t page);

#endif
