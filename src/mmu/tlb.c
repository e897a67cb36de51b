/* The per-VP software TLB: fill, and the flushes of INVLPG, MOV CR3, CR4 writes and code pages. */
#include "mmu/tlb.h"

#include <string.h>

static void entry_clear(struct tlb_entry *e)
{
    e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
    e->addend = 0;
    e->gpa_page = TLB_INVALID;
    e->global = false;
    e->page_shift = PAGE_SHIFT;
}

/* The virtual page an entry maps, or TLB_INVALID when it maps nothing. */
static uint64_t entry_va(const struct tlb_entry *e)
{
    if (e->tag_r != TLB_INVALID)
        return e->tag_r;
    if (e->tag_w != TLB_INVALID)
        return e->tag_w;
    return e->tag_x;
}

static void large_span_reset(struct tlb *t)
{
    t->large_lo = TLB_INVALID;
    t->large_hi = 0;
}

void tlb_init(struct tlb *t)
{
    for (unsigned i = 0; i < TLB_NIDX; i++)
        for (unsigned j = 0; j < TLB_SIZE; j++)
            entry_clear(&t->e[i][j]);
    t->hits = t->misses = 0;
    large_span_reset(t);
}

void tlb_fill_sized(struct tlb *t, unsigned idx, gva_t va, gpa_t gpa_page, uint8_t *host_page,
                    bool r, bool w, bool x, bool global, uint64_t page_size)
{
    if (idx >= TLB_NIDX)
        return;
    gva_t page = va & PAGE_MASK;
    struct tlb_entry *e = &t->e[idx][tlb_index(va)];
    entry_clear(e);
    if (!host_page)
        return;
    e->tag_r = r ? page : TLB_INVALID;
    e->tag_w = w ? page : TLB_INVALID;
    e->tag_x = x ? page : TLB_INVALID;
    /* Unsigned wrap-around makes va + addend land on host_page for any va in the page. */
    e->addend = (uintptr_t)host_page - (uintptr_t)page;
    e->gpa_page = gpa_page & PAGE_MASK;
    e->global = global;
    unsigned shift = PAGE_SHIFT;
    while (shift < 63 && (1ull << shift) < page_size)
        shift++;
    e->page_shift = (uint8_t)shift;
    if (shift > PAGE_SHIFT) {
        gva_t lo = page & ~((1ull << shift) - 1);
        gva_t hi = lo + ((1ull << shift) - PAGE_SIZE);
        if (lo < t->large_lo)
            t->large_lo = lo;
        if (hi > t->large_hi)
            t->large_hi = hi;
    }
}

void tlb_fill(struct tlb *t, unsigned idx, gva_t va, gpa_t gpa_page, uint8_t *host_page,
              bool r, bool w, bool x, bool global)
{
    tlb_fill_sized(t, idx, va, gpa_page, host_page, r, w, x, global, PAGE_SIZE);
}

void tlb_flush_all(struct tlb *t)
{
    for (unsigned i = 0; i < TLB_NIDX; i++)
        for (unsigned j = 0; j < TLB_SIZE; j++)
            entry_clear(&t->e[i][j]);
    large_span_reset(t);
}

/* MOV CR3 without PCID keeps global translations (SDM Vol 3 4.10.4.1). */
void tlb_flush_nonglobal(struct tlb *t)
{
    for (unsigned i = 0; i < TLB_NIDX; i++)
        for (unsigned j = 0; j < TLB_SIZE; j++)
            if (!t->e[i][j].global)
                entry_clear(&t->e[i][j]);
}

void tlb_flush_va(struct tlb *t, gva_t va)
{
    gva_t page = va & PAGE_MASK;
    for (unsigned i = 0; i < TLB_NIDX; i++) {
        struct tlb_entry *e = &t->e[i][tlb_index(va)];
        if (entry_va(e) == page)
            entry_clear(e);
    }
    if (page < t->large_lo || page > t->large_hi)
        return;
    /* SDM Vol 3 4.10.4.1: INVLPG invalidates the whole large page that holds va. */
    for (unsigned i = 0; i < TLB_NIDX; i++) {
        for (unsigned j = 0; j < TLB_SIZE; j++) {
            struct tlb_entry *e = &t->e[i][j];
            uint64_t ev = entry_va(e);
            if (e->page_shift > PAGE_SHIFT && ev != TLB_INVALID &&
                (ev >> e->page_shift) == (page >> e->page_shift))
                entry_clear(e);
        }
    }
}

void tlb_drop_write_gpa(struct tlb *t, gpa_t page)
{
    page &= PAGE_MASK;
    for (unsigned i = 0; i < TLB_NIDX; i++)
        for (unsigned j = 0; j < TLB_SIZE; j++)
            if (t->e[i][j].gpa_page == page)
                t->e[i][j].tag_w = TLB_INVALID;
}
