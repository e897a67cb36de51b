/* Page walker: translation in every paging mode and page size, memtype and global bits,
 * paging off, canonical checks, PAE PDPTE loading. */
#include "unit/mmu/pt_builder.h"

struct mode_case {
    const char *name;
    enum pt_mode mode;
    gva_t va;
    gpa_t pa;      /* page base */
    uint64_t size;
};

static const struct mode_case mode_cases[] = {
    {"32-bit 4K", PT_32, 0x80123456, 0x00345000, 4096},
    {"32-bit 4M", PT_32, 0xC0654321, 0x01C00000, 4ull << 20},
    {"32-bit 4M PSE-36", PT_32, 0x00412345, 0xAB00400000ull, 4ull << 20},
    {"PAE 4K", PT_PAE, 0xBFFFF123, 0x00777000, 4096},
    {"PAE 2M", PT_PAE, 0x40312345, 0x00600000, 2ull << 20},
    {"PAE 4K above 4G", PT_PAE, 0x00001FFF, 0xF000001000ull, 4096},
    {"4-level 4K low", PT_L4, 0x00007FABC0123456ull, 0x00123000, 4096},
    {"4-level 4K high half", PT_L4, 0xFFFF800012345678ull, 0x00456000, 4096},
    {"4-level 2M", PT_L4, 0xFFFFFFFF80234567ull, 0x3400000, 2ull << 20},
    {"4-level 1G", PT_L4, 0x0000004056789ABCull, 0xC0000000ull, 1ull << 30},
    {"4-level 1G top of MAXPHYADDR", PT_L4, 0x12345678ull, 0xFFC0000000ull, 1ull << 30},
    {"5-level 4K", PT_L5, 0x00ABCDE012345678ull, 0x00789000, 4096},
    {"5-level 2M high", PT_L5, 0xFF12345678923456ull, 0x00A00000, 2ull << 20},
    {"5-level 1G", PT_L5, 0x00F0000040000123ull, 0x80000000ull, 1ull << 30},
};

Test(walk_modes, translate_every_mode_and_size)
{
    for (size_t i = 0; i < ARRAY_SIZE(mode_cases); i++) {
        const struct mode_case *c = &mode_cases[i];
        struct ptb b;
        ptb_init(&b, c->mode);
        ptb_map(&b, c->va, c->pa, c->size, E_P | E_RW);
        for (unsigned a = MMU_READ; a <= MMU_EXEC; a++) {
            struct walk_req req = {.va = c->va, .access = a, .set_ad = true};
            struct walk_result res;
            uint32_t err = 0xdead;
            int r = mmu_walk(&b.pm, &b.ps, &req, &res, &err);
            cr_assert_eq(r, 0, "%s access %u: ret %d err %#x", c->name, a, r, err);
            cr_assert_eq(res.gpa, c->pa + (c->va & (c->size - 1)), "%s: gpa %#llx", c->name,
                         (unsigned long long)res.gpa);
            cr_assert_eq(res.page_size, c->size, "%s", c->name);
            cr_assert(res.writable && !res.user && !res.nx, "%s", c->name);
        }
        ptb_destroy(&b);
    }
}

/* Large pages with nothing at the next level: the walker must stop at the PS entry. */
Test(walk_modes, large_page_neighbour_4k_mapping_independent)
{
    struct ptb b;
    ptb_init(&b, PT_L4);
    ptb_map(&b, 0x40000000, 0x200000, 2ull << 20, E_P);
    ptb_map(&b, 0x40200000, 0x5000, 4096, E_P);
    struct walk_req req = {.va = 0x40200abc};
    struct walk_result res;
    uint32_t err;
    cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0);
    cr_assert_eq(res.gpa, 0x5abc);
    req.va = 0x401fffff;
    cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0);
    cr_assert_eq(res.gpa, 0x3fffff);
    ptb_destroy(&b);
}

struct memtype_case {
    const char *name;
    enum pt_mode mode;
    uint64_t size;
    uint64_t flags;
    bool pge;
    uint8_t memtype;
    bool global;
};

#define PAT4K (1ull << 7)
#define PATL  (1ull << 12)

static const struct memtype_case memtype_cases[] = {
    {"4K none", PT_L4, 4096, 0, true, 0, false},
    {"4K PWT", PT_L4, 4096, E_PWT, true, 1, false},
    {"4K PCD", PT_L4, 4096, E_PCD, true, 2, false},
    {"4K PAT", PT_L4, 4096, PAT4K, true, 4, false},
    {"4K all G", PT_L4, 4096, PAT4K | E_PCD | E_PWT | E_G, true, 7, true},
    {"4K G without PGE", PT_L4, 4096, E_G, false, 0, false},
    {"2M PAT bit 12", PT_L4, 2ull << 20, PATL | E_PWT, true, 5, false},
    {"1G PAT PCD G", PT_L4, 1ull << 30, PATL | E_PCD | E_G, true, 6, true},
    {"PAE 2M PAT", PT_PAE, 2ull << 20, PATL, true, 4, false},
    {"32-bit 4K PAT", PT_32, 4096, PAT4K | E_PCD, true, 6, false},
    {"32-bit 4M PAT G", PT_32, 4ull << 20, PATL | E_G, true, 4, true},
};

Test(walk_modes, memtype_and_global_bits)
{
    for (size_t i = 0; i < ARRAY_SIZE(memtype_cases); i++) {
        const struct memtype_case *c = &memtype_cases[i];
        struct ptb b;
        ptb_init(&b, c->mode);
        if (c->pge)
            b.ps.cr4 |= MMU_CR4_PGE;
        gva_t va = 0x40000000;
        ptb_map(&b, va, 0x40000000, c->size, E_P | c->flags);
        struct walk_req req = {.va = va + 0x123};
        struct walk_result res;
        uint32_t err;
        cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0, "%s", c->name);
        cr_assert_eq(res.memtype_bits, c->memtype, "%s: %u", c->name, res.memtype_bits);
        cr_assert_eq(res.global, c->global, "%s", c->name);
        cr_assert_eq(res.gpa, 0x40000123, "%s", c->name);
        ptb_destroy(&b);
    }
}

Test(walk_modes, paging_off_is_identity_truncated_to_32_bits)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
    struct paging_state ps = {.cr0 = 1};
    static const gva_t vas[] = {0, 0xFFFF0, 0x10FFEF, 0xFFFFFFFF, 0x123456789ull};
    for (size_t i = 0; i < ARRAY_SIZE(vas); i++) {
        struct walk_req req = {.va = vas[i], .access = MMU_WRITE, .user = true, .set_ad = true};
        struct walk_result res;
        uint32_t err;
        cr_assert_eq(mmu_walk(&pm, &ps, &req, &res, &err), 0);
        cr_assert_eq(res.gpa, (uint32_t)vas[i]);
        cr_assert(res.writable && res.user && !res.nx);
    }
    physmem_destroy(&pm);
}

struct canon_case {
    gva_t va;
    bool la57;
    bool canonical;
};

static const struct canon_case canon_cases[] = {
    {0, false, true},
    {0x00007FFFFFFFFFFFull, false, true},
    {0x0000800000000000ull, false, false},
    {0xFFFF7FFFFFFFFFFFull, false, false},
    {0xFFFF800000000000ull, false, true},
    {0x0000800000000000ull, true, true},
    {0x00FFFFFFFFFFFFFFull, true, true},
    {0x0100000000000000ull, true, false},
    {0xFF00000000000000ull, true, true},
    {0xFE00000000000000ull, true, false},
};

Test(walk_modes, canonical_checks)
{
    for (size_t i = 0; i < ARRAY_SIZE(canon_cases); i++) {
        const struct canon_case *c = &canon_cases[i];
        struct ptb b;
        ptb_init(&b, c->la57 ? PT_L5 : PT_L4);
        cr_assert_eq(mmu_canonical(&b.ps, c->va), c->canonical, "case %zu", i);
        struct walk_req req = {.va = c->va};
        struct walk_result res;
        uint32_t err;
        int r = mmu_walk(&b.pm, &b.ps, &req, &res, &err);
        if (c->canonical)
            cr_assert_eq(r, -1, "case %zu: unmapped canonical must #PF", i);
        else
            cr_assert_eq(r, MMU_WALK_NONCANONICAL, "case %zu", i);
        ptb_destroy(&b);
    }
}

struct pdpte_case {
    const char *name;
    uint64_t set;     /* bits added to PDPTE 2 */
    uint64_t clear;
    int check;        /* mmu_check_pdptes */
    int walk;
    uint32_t err;
};

static const struct pdpte_case pdpte_cases[] = {
    {"valid", 0, 0, 0, 0, 0},
    {"not present", 0, E_P, 0, -1, 0},
    {"not present with reserved bits", E_RW | E_XD, E_P, 0, -1, 0},
    {"R/W reserved", E_RW, 0, -1, -1, PF_P | PF_RSVD},
    {"U/S reserved", E_US, 0, -1, -1, PF_P | PF_RSVD},
    {"bit 5 reserved", E_A, 0, -1, -1, PF_P | PF_RSVD},
    {"bit 8 reserved", E_G, 0, -1, -1, PF_P | PF_RSVD},
    {"XD reserved even with NXE", E_XD, 0, -1, -1, PF_P | PF_RSVD},
    {"bit 45 reserved", 1ull << 45, 0, -1, -1, PF_P | PF_RSVD},
    {"PWT PCD allowed", E_PWT | E_PCD, 0, 0, 0, 0},
};

Test(walk_modes, pae_pdpte_checks)
{
    for (size_t i = 0; i < ARRAY_SIZE(pdpte_cases); i++) {
        const struct pdpte_case *c = &pdpte_cases[i];
        struct ptb b;
        ptb_init(&b, PT_PAE);
        /* CR3 is only 32-byte aligned in PAE paging. */
        b.ps.cr3 += 0x20;
        ptb_map(&b, 0x80001000, 0x9000, 4096, E_P);
        ptb_modify(&b, 0x80001000, 3, c->set, c->clear);
        cr_assert_eq(mmu_check_pdptes(&b.pm, &b.ps), c->check, "%s", c->name);
        struct walk_req req = {.va = 0x80001234};
        struct walk_result res;
        uint32_t err = 0;
        cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), c->walk, "%s", c->name);
        if (c->walk)
            cr_assert_eq(err, c->err, "%s: %#x", c->name, err);
        else
            cr_assert_eq(res.gpa, 0x9234, "%s", c->name);
        cr_assert_eq(ptb_get(&b, ptb_entry(&b, 0x80001000, 3)) & E_A, c->set & E_A, "%s: no A in PDPTEs", c->name);
        ptb_destroy(&b);
    }
}

/* A paging structure outside RAM reads all-ones: reserved bits in PAE/IA-32e paging. */
Test(walk_modes, table_outside_ram_faults_reserved)
{
    static const enum pt_mode modes[] = {PT_PAE, PT_L4, PT_L5};
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        struct ptb b;
        ptb_init(&b, modes[i]);
        ptb_map(&b, 0x1000, 0x2000, 4096, E_P);
        gpa_t pde = ptb_entry(&b, 0x1000, 2);
        ptb_put(&b, pde, 0xFF00000000ull | E_P | E_RW);
        struct walk_req req = {.va = 0x1000, .access = MMU_WRITE};
        struct walk_result res;
        uint32_t err;
        cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), -1, "mode %d", modes[i]);
        cr_assert_eq(err, PF_P | PF_W | PF_RSVD, "mode %d: %#x", modes[i], err);
        ptb_destroy(&b);
    }
}

/* CR3's low bits are PCID or PWT/PCD, never part of the table address. */
Test(walk_modes, cr3_low_bits_ignored)
{
    static const enum pt_mode modes[] = {PT_32, PT_L4, PT_L5};
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        struct ptb b;
        ptb_init(&b, modes[i]);
        ptb_map(&b, 0x5000, 0x7000, 4096, E_P);
        b.ps.cr3 |= 0xFFF;
        struct walk_req req = {.va = 0x5008};
        struct walk_result res;
        uint32_t err;
        cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0, "mode %d", modes[i]);
        cr_assert_eq(res.gpa, 0x7008);
        ptb_destroy(&b);
    }
}

/* 32-bit paging has no reserved bits in a 4-byte PTE: an all-ones PTE read from outside RAM is a
 * present, writable user page at 0xFFFFF000, as on hardware; nothing crashes. */
Test(walk_modes, table_outside_ram_32bit)
{
    struct ptb b;
    ptb_init(&b, PT_32);
    ptb_map(&b, 0x1000, 0x2000, 4096, E_P);
    ptb_put(&b, ptb_entry(&b, 0x1000, 2), 0xD0000000u | E_P | E_RW | E_US);
    struct walk_req req = {.va = 0x1234, .access = MMU_WRITE, .user = true, .set_ad = true};
    struct walk_result res;
    uint32_t err;
    cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0);
    cr_assert_eq(res.gpa, 0xFFFFF234);
    cr_assert_eq(res.page_size, 4096);
    ptb_destroy(&b);
}
