/* Software TLB: fill and lookup, the flushes, large pages, write-tag dropping, generations. */
#include "mmu/tlb.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static struct tlb *new_tlb(void)
{
    struct tlb *t = malloc(sizeof(*t));
    cr_assert(t);
    tlb_init(t);
    return t;
}

static uint8_t pages[8][4096];

Test(tlb, fill_and_lookup_by_tag)
{
    struct tlb *t = new_tlb();
    gva_t va = 0xFFFF800000123000ull;
    tlb_fill(t, 0, va, 0x5000, pages[0], true, false, true, false);
    cr_assert_eq(tlb_lookup_r(t, 0, va + 0x10), pages[0] + 0x10);
    cr_assert_eq(tlb_lookup_x(t, 0, va + 0xFFF), pages[0] + 0xFFF);
    cr_assert_null(tlb_lookup_w(t, 0, va));
    cr_assert_null(tlb_lookup_r(t, 2, va), "other mmu_idx");
    cr_assert_null(tlb_lookup_r(t, 0, va + 0x1000), "next page");
    cr_assert_null(tlb_lookup_r(t, 0, va + ((gva_t)TLB_SIZE << PAGE_SHIFT)), "alias index");
    /* Refilling replaces the tags. */
    tlb_fill(t, 0, va, 0x5000, pages[1], false, true, false, false);
    cr_assert_null(tlb_lookup_r(t, 0, va));
    cr_assert_eq(tlb_lookup_w(t, 0, va + 4), pages[1] + 4);
    /* No host page (MMIO): nothing is installed. */
    tlb_fill(t, 1, va, 0xFEE00000, NULL, true, true, true, false);
    cr_assert_null(tlb_lookup_r(t, 1, va));
    cr_assert_null(tlb_lookup_w(t, 1, va));
    /* An out-of-range mmu_idx is ignored rather than written out of bounds. */
    tlb_fill(t, TLB_NIDX, va, 0, pages[0], true, true, true, false);
    free(t);
}

Test(tlb, flush_all_and_nonglobal)
{
    struct tlb *t = new_tlb();
    tlb_fill(t, 0, 0x1000, 0x1000, pages[0], true, true, true, true);
    tlb_fill(t, 2, 0x2000, 0x2000, pages[1], true, true, true, false);
    tlb_fill(t, 1, 0x3000, 0x3000, pages[2], true, false, false, true);
    tlb_flush_nonglobal(t);
    cr_assert_not_null(tlb_lookup_r(t, 0, 0x1000));
    cr_assert_not_null(tlb_lookup_w(t, 0, 0x1000));
    cr_assert_null(tlb_lookup_r(t, 2, 0x2000));
    cr_assert_not_null(tlb_lookup_r(t, 1, 0x3000));
    tlb_flush_all(t);
    cr_assert_null(tlb_lookup_r(t, 0, 0x1000));
    cr_assert_null(tlb_lookup_r(t, 1, 0x3000));
    free(t);
}

Test(tlb, flush_va_drops_all_contexts_and_globals)
{
    struct tlb *t = new_tlb();
    for (unsigned idx = 0; idx < TLB_NIDX; idx++)
        tlb_fill(t, idx, 0x7000, 0x7000, pages[0], true, true, true, true);
    tlb_fill(t, 0, 0x8000, 0x8000, pages[1], true, true, true, false);
    tlb_flush_va(t, 0x7ABC);
    for (unsigned idx = 0; idx < TLB_NIDX; idx++)
        cr_assert_null(tlb_lookup_r(t, idx, 0x7000));
    cr_assert_not_null(tlb_lookup_r(t, 0, 0x8000));
    /* A va aliasing the same index but another page leaves the entry alone. */
    tlb_flush_va(t, 0x8000 + ((gva_t)TLB_SIZE << PAGE_SHIFT));
    cr_assert_not_null(tlb_lookup_r(t, 0, 0x8000));
    free(t);
}

struct large_case {
    gva_t base;
    uint64_t size;
    gva_t flush_at;  /* offset of the INVLPG inside the large page */
};

static const struct large_case large_cases[] = {
    {0x40000000, 2ull << 20, 0x1FF000},
    {0xFFFFFFFF80000000ull, 2ull << 20, 0x123},
    {0x00C00000, 4ull << 20, 0x3FF000},
    {0x7F0000000000ull, 1ull << 30, 0x2345678},
};

Test(tlb, flush_va_drops_every_piece_of_a_large_page)
{
    for (size_t i = 0; i < ARRAY_SIZE(large_cases); i++) {
        const struct large_case *c = &large_cases[i];
        struct tlb *t = new_tlb();
        static const uint64_t offs[] = {0, 0x5000, 0x1F0000};
        for (size_t k = 0; k < ARRAY_SIZE(offs); k++)
            tlb_fill_sized(t, (unsigned)k % TLB_NIDX, c->base + offs[k], 0x100000 + offs[k], pages[k],
                           true, true, false, k == 1, c->size);
        /* Neighbours: the 4K page just past the large page, and another large page. */
        tlb_fill(t, 0, c->base + c->size, 0x9000, pages[4], true, true, true, false);
        tlb_fill_sized(t, 2, c->base - c->size, 0x200000, pages[5], true, false, false, false, c->size);
        tlb_flush_va(t, c->base + c->flush_at);
        for (size_t k = 0; k < ARRAY_SIZE(offs); k++)
            cr_assert_null(tlb_lookup_r(t, (unsigned)k % TLB_NIDX, c->base + offs[k]), "case %zu piece %zu", i, k);
        cr_assert_not_null(tlb_lookup_r(t, 0, c->base + c->size), "case %zu", i);
        cr_assert_not_null(tlb_lookup_r(t, 2, c->base - c->size), "case %zu", i);
        free(t);
    }
}

Test(tlb, large_page_span_resets_on_flush_all)
{
    struct tlb *t = new_tlb();
    tlb_fill_sized(t, 0, 0x200000, 0x200000, pages[0], true, false, false, false, 2ull << 20);
    tlb_flush_all(t);
    cr_assert_gt(t->large_lo, t->large_hi);
    /* A 4K entry filled afterwards inside the old large range survives an unrelated flush. */
    tlb_fill(t, 0, 0x201000, 0x201000, pages[1], true, false, false, false);
    tlb_flush_va(t, 0x300000);
    cr_assert_not_null(tlb_lookup_r(t, 0, 0x201000));
    free(t);
}

Test(tlb, drop_write_gpa_keeps_reads_and_other_pages)
{
    struct tlb *t = new_tlb();
    /* Two virtual aliases of guest page 0x42000, in two contexts, and an unrelated page. */
    tlb_fill(t, 0, 0x1000, 0x42000, pages[0], true, true, true, false);
    tlb_fill(t, 2, 0xFFFF800000042000ull, 0x42000, pages[0], true, true, false, false);
    tlb_fill(t, 0, 0x2000, 0x43000, pages[1], true, true, false, false);
    tlb_drop_write_gpa(t, 0x42ABC);
    cr_assert_null(tlb_lookup_w(t, 0, 0x1000));
    cr_assert_null(tlb_lookup_w(t, 2, 0xFFFF800000042000ull));
    cr_assert_not_null(tlb_lookup_r(t, 0, 0x1000));
    cr_assert_not_null(tlb_lookup_x(t, 0, 0x1000));
    cr_assert_not_null(tlb_lookup_r(t, 2, 0xFFFF800000042000ull));
    cr_assert_not_null(tlb_lookup_w(t, 0, 0x2000));
    free(t);
}

Test(tlb, generation_change_flushes)
{
    struct tlb *t = new_tlb();
    tlb_sync_generation(t, 0);
    tlb_fill(t, 0, 0x1000, 0x1000, pages[0], true, true, true, true);
    tlb_sync_generation(t, 0);
    cr_assert_not_null(tlb_lookup_r(t, 0, 0x1000));
    tlb_sync_generation(t, 1);
    cr_assert_null(tlb_lookup_r(t, 0, 0x1000));
    cr_assert_eq(t->generation, 1);
    free(t);
}
