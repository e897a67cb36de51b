/* Page walker: accessed and dirty bits (SDM Vol 3 4.8), effective permissions in the result. */
#include "unit/mmu/pt_builder.h"

struct ad_case {
    enum pt_mode mode;
    uint64_t size;
};

static const struct ad_case ad_cases[] = {
    {PT_32, 4096}, {PT_32, 4ull << 20}, {PT_PAE, 4096}, {PT_PAE, 2ull << 20},
    {PT_L4, 4096}, {PT_L4, 2ull << 20}, {PT_L4, 1ull << 30},
    {PT_L5, 4096}, {PT_L5, 2ull << 20}, {PT_L5, 1ull << 30},
};

static unsigned leaf_level(const struct ad_case *c)
{
    return c->size == 4096 ? 1 : (c->size == (1ull << 30) ? 3 : 2);
}

Test(walk_ad, accessed_on_every_level_dirty_on_leaf_for_writes)
{
    for (size_t i = 0; i < ARRAY_SIZE(ad_cases); i++) {
        for (unsigned a = MMU_READ; a <= MMU_EXEC; a++) {
            const struct ad_case *c = &ad_cases[i];
            struct ptb b;
            ptb_init(&b, c->mode);
            gva_t va = 0x40000000;
            ptb_map(&b, va, 0x80000000, c->size, E_P | E_RW);
            /* A neighbour entry at every level must come out untouched (4-byte entries too). */
            for (unsigned l = leaf_level(c); l <= ptb_top_level(&b); l++)
                ptb_put(&b, ptb_entry(&b, va, l) + ptb_entry_bytes(&b), 0x5000 | E_RW);
            gpa_t pdpte = b.mode == PT_PAE ? ptb_entry(&b, va, 3) : 0;
            uint64_t pdpte_before = pdpte ? ptb_get(&b, pdpte) : 0;

            struct walk_req req = {.va = va + 8, .access = a, .set_ad = true};
            struct walk_result res;
            uint32_t err;
            cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0, "case %zu", i);
            cr_assert_eq(res.dirty, a == MMU_WRITE, "case %zu access %u", i, a);
            for (unsigned l = leaf_level(c); l <= ptb_top_level(&b); l++) {
                gpa_t ea = ptb_entry(&b, va, l);
                uint64_t e = ptb_get(&b, ea);
                cr_assert_eq(ptb_get(&b, ea + ptb_entry_bytes(&b)), 0x5000 | E_RW, "case %zu level %u neighbour", i, l);
                if (ea == pdpte) {
                    cr_assert_eq(e, pdpte_before, "case %zu: PAE PDPTE has no A bit", i);
                    continue;
                }
                cr_assert(e & E_A, "case %zu access %u level %u: A clear", i, a, l);
                bool want_d = a == MMU_WRITE && l == leaf_level(c);
                cr_assert_eq(!!(e & E_D), want_d, "case %zu access %u level %u: D", i, a, l);
            }
            ptb_destroy(&b);
        }
    }
}

Test(walk_ad, no_update_without_set_ad_or_on_fault)
{
    for (size_t i = 0; i < ARRAY_SIZE(ad_cases); i++) {
        const struct ad_case *c = &ad_cases[i];
        struct ptb b;
        ptb_init(&b, c->mode);
        b.ps.cr0 |= MMU_CR0_WP;
        gva_t va = 0x40000000;
        ptb_map(&b, va, 0x80000000, c->size, E_P | E_RW);
        struct walk_result res;
        uint32_t err;
        /* A debugger peek translates without touching the tables. */
        struct walk_req peek = {.va = va, .access = MMU_WRITE, .set_ad = false};
        cr_assert_eq(mmu_walk(&b.pm, &b.ps, &peek, &res, &err), 0);
        cr_assert_not(res.dirty);
        /* A user access to the supervisor page faults and sets nothing. */
        struct walk_req user = {.va = va, .access = MMU_READ, .user = true, .set_ad = true};
        cr_assert_eq(mmu_walk(&b.pm, &b.ps, &user, &res, &err), -1);
        cr_assert_eq(err, PF_P | PF_U);
        for (unsigned l = leaf_level(c); l <= ptb_top_level(&b); l++)
            cr_assert_eq(ptb_get(&b, ptb_entry(&b, va, l)) & (E_A | E_D), 0, "case %zu level %u", i, l);
        ptb_destroy(&b);
    }
}

Test(walk_ad, dirty_leaf_reported_without_write)
{
    struct ptb b;
    ptb_init(&b, PT_L4);
    ptb_map(&b, 0x1000, 0x2000, 4096, E_P | E_RW | E_D);
    struct walk_req req = {.va = 0x1000, .set_ad = true};
    struct walk_result res;
    uint32_t err;
    cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0);
    cr_assert(res.dirty);
    ptb_destroy(&b);
}

struct perm_case {
    unsigned level;   /* entry whose bits change */
    uint64_t set, clear;
    bool writable, user, nx;
};

static const struct perm_case perm_cases[] = {
    {0, 0, 0, true, true, false},
    {1, 0, E_RW, false, true, false},
    {4, 0, E_RW, false, true, false},
    {3, 0, E_US, true, false, false},
    {2, E_XD, 0, true, true, true},
    {4, E_XD, E_US, true, false, true},
};

Test(walk_ad, effective_permissions_combine_levels)
{
    for (size_t i = 0; i < ARRAY_SIZE(perm_cases); i++) {
        const struct perm_case *c = &perm_cases[i];
        struct ptb b;
        ptb_init(&b, PT_L4);
        ptb_map(&b, 0x1000, 0x2000, 4096, E_P | E_RW | E_US);
        if (c->level)
            ptb_modify(&b, 0x1000, c->level, c->set, c->clear);
        struct walk_req req = {.va = 0x1000};
        struct walk_result res;
        uint32_t err;
        cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0, "case %zu", i);
        cr_assert_eq(res.writable, c->writable, "case %zu", i);
        cr_assert_eq(res.user, c->user, "case %zu", i);
        cr_assert_eq(res.nx, c->nx, "case %zu", i);
        ptb_destroy(&b);
    }
}

/* A page table that maps itself: the entry used at several levels ends with A and D. */
Test(walk_ad, recursive_mapping_keeps_all_bits)
{
    struct ptb b;
    ptb_init(&b, PT_L4);
    const uint64_t s = 0x1ED;
    gpa_t pml4 = b.ps.cr3;
    physmem_write_u(&b.pm, pml4 + s * 8, pml4 | E_P | E_RW, 8);
    gva_t va = 0xFFFF000000000000ull | s << 39 | s << 30 | s << 21 | s << 12 | 0x10;
    struct walk_req req = {.va = va, .access = MMU_WRITE, .set_ad = true};
    struct walk_result res;
    uint32_t err;
    cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0);
    cr_assert_eq(res.gpa, pml4 + 0x10);
    cr_assert_eq(physmem_read_u(&b.pm, pml4 + s * 8, 8), pml4 | E_P | E_RW | E_A | E_D);
    ptb_destroy(&b);
}
