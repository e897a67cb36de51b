/* The per-VP software TLB: direct-mapped, one tag each for read, write and execute, and an
 * addend that turns a guest-virtual address into a host pointer, so a hit costs a shift, a
 * mask, a compare and an add. Separate arrays per privilege context (mmu_idx) spare a flush on
 * every CPL or RFLAGS.AC change. */
#ifndef HVEMU_TLB_H
#define HVEMU_TLB_H

#include "types.h"

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
/* mmu_idx: 0 supervisor (SMAP enforced), 1 supervisor with RFLAGS.AC=1, 2 user. */
#define TLB_NIDX 3
#define TLB_INVALID (~0ull)

struct tlb_entry {
    uint64_t tag_r; /* page-aligned va when readable through host pointer, else TLB_INVALID */
    uint64_t tag_w;
    uint64_t tag_x;
    uintptr_t addend; /* host = va + addend */
    gpa_t gpa_page;   /* guest-physical page, for invalidation by physical address */
    bool global;
};

struct tlb {
    struct tlb_entry e[TLB_NIDX][TLB_SIZE];
    uint64_t hits, misses;
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
void tlb_flush_all(struct tlb *t);
void tlb_flush_nonglobal(struct tlb *t);
void tlb_flush_va(struct tlb *t, gva_t va);
/* Drop write tags that map the given guest-physical page (it now holds decoded code). */
void tlb_drop_write_gpa(struct tlb *t, gpa_t page);

#endif
