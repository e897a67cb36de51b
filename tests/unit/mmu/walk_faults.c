/* Page walker: every #PF error-code bit (P, W, U, RSVD, I, PK) and the permission rules. */
#include "unit/mmu/pt_builder.h"

#define R MMU_READ
#define W MMU_WRITE
#define X MMU_EXEC
#define PK(k) ((uint64_t)(k) << 59)
#define BIT(n) (1ull << (n))

struct fault_case {
    const char *name;
    enum pt_mode mode;
    uint64_t size;                 /* 0 = 4K */
    uint64_t cr0_set, cr4_set, cr4_clear, efer_clear;
    unsigned level;                /* entry to modify: 1 PT ... 5 PML5; 0 none */
    uint64_t set, clear;
    enum mmu_access access;
    bool user, implicit, ac;
    uint32_t pkru;
    int ret;
    uint32_t err;
};

static const struct fault_case fault_cases[] = {
    /* Present, not present. */
    {"read ok", PT_L4, 0, 0, 0, 0, 0, 0, 0, 0, R, false, false, false, 0, 0, 0},
    {"PTE not present read", PT_L4, 0, 0, 0, 0, 0, 1, 0, E_P, R, false, false, false, 0, -1, 0},
    {"PTE not present user write", PT_L4, 0, 0, 0, 0, 0, 1, 0, E_P, W, true, false, false, 0, -1, PF_W | PF_U},
    {"PDE not present", PT_L4, 0, 0, 0, 0, 0, 2, 0, E_P, R, false, false, false, 0, -1, 0},
    {"PML4E not present user", PT_L4, 0, 0, 0, 0, 0, 4, 0, E_P, R, true, false, false, 0, -1, PF_U},
    {"PML5E not present", PT_L5, 0, 0, 0, 0, 0, 5, 0, E_P, W, false, false, false, 0, -1, PF_W},
    {"PAE PDPTE not present", PT_PAE, 0, 0, 0, 0, 0, 3, 0, E_P, R, true, false, false, 0, -1, PF_U},
    {"32-bit PDE not present", PT_32, 0, 0, 0, 0, 0, 2, 0, E_P, W, false, false, false, 0, -1, PF_W},
    /* I/D only with NXE under PAE/IA-32e, or SMEP. */
    {"fetch not present NXE", PT_L4, 0, 0, 0, 0, 0, 1, 0, E_P, X, false, false, false, 0, -1, PF_I},
    {"fetch not present no NXE", PT_L4, 0, 0, 0, 0, MMU_EFER_NXE, 1, 0, E_P, X, false, false, false, 0, -1, 0},
    {"fetch not present PAE NXE", PT_PAE, 0, 0, 0, 0, 0, 1, 0, E_P, X, true, false, false, 0, -1, PF_U | PF_I},
    {"32-bit fetch not present", PT_32, 0, 0, 0, 0, 0, 1, 0, E_P, X, false, false, false, 0, -1, 0},
    {"32-bit fetch not present SMEP", PT_32, 0, 0, MMU_CR4_SMEP, 0, 0, 1, 0, E_P, X, false, false, false, 0, -1, PF_I},
    /* R/W and CR0.WP. */
    {"sup write RO WP=0", PT_L4, 0, 0, 0, 0, 0, 1, 0, E_RW, W, false, false, false, 0, 0, 0},
    {"sup write RO WP=1", PT_L4, 0, MMU_CR0_WP, 0, 0, 0, 1, 0, E_RW, W, false, false, false, 0, -1, PF_P | PF_W},
    {"sup write RO upper level WP=1", PT_L4, 0, MMU_CR0_WP, 0, 0, 0, 3, 0, E_RW, W, false, false, false, 0, -1, PF_P | PF_W},
    {"user write RO WP=0", PT_L4, 0, 0, 0, 0, 0, 1, 0, E_RW, W, true, false, false, 0, -1, PF_P | PF_W | PF_U},
    {"user write RO PDE 32-bit", PT_32, 0, 0, 0, 0, 0, 2, 0, E_RW, W, true, false, false, 0, -1, PF_P | PF_W | PF_U},
    {"user read RO ok", PT_L4, 0, 0, 0, 0, 0, 1, 0, E_RW, R, true, false, false, 0, 0, 0},
    {"sup write RO 2M WP=1", PT_PAE, 2ull << 20, MMU_CR0_WP, 0, 0, 0, 2, 0, E_RW, W, false, false, false, 0, -1, PF_P | PF_W},
    /* U/S. */
    {"user read sup page", PT_L4, 0, 0, 0, 0, 0, 1, 0, E_US, R, true, false, false, 0, -1, PF_P | PF_U},
    {"user read sup PDPTE", PT_L4, 0, 0, 0, 0, 0, 3, 0, E_US, R, true, false, false, 0, -1, PF_P | PF_U},
    {"user fetch sup PML5E", PT_L5, 0, 0, 0, 0, 0, 5, 0, E_US, X, true, false, false, 0, -1, PF_P | PF_U | PF_I},
    {"user read sup 1G", PT_L4, 1ull << 30, 0, 0, 0, 0, 3, 0, E_US, R, true, false, false, 0, -1, PF_P | PF_U},
    {"user read sup 4M", PT_32, 4ull << 20, 0, 0, 0, 0, 2, 0, E_US, R, true, false, false, 0, -1, PF_P | PF_U},
    {"sup read user page", PT_L4, 0, 0, 0, 0, 0, 0, 0, 0, R, false, false, false, 0, 0, 0},
    /* NX. */
    {"fetch NX leaf", PT_L4, 0, 0, 0, 0, 0, 1, E_XD, 0, X, false, false, false, 0, -1, PF_P | PF_I},
    {"fetch NX PML4E user", PT_L4, 0, 0, 0, 0, 0, 4, E_XD, 0, X, true, false, false, 0, -1, PF_P | PF_U | PF_I},
    {"read NX ok", PT_L4, 0, 0, 0, 0, 0, 1, E_XD, 0, R, true, false, false, 0, 0, 0},
    {"fetch NX PAE 2M", PT_PAE, 2ull << 20, 0, 0, 0, 0, 2, E_XD, 0, X, false, false, false, 0, -1, PF_P | PF_I},
    {"XD without NXE reserved", PT_L4, 0, 0, 0, 0, MMU_EFER_NXE, 1, E_XD, 0, X, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"XD without NXE reserved PDE", PT_PAE, 0, 0, 0, 0, MMU_EFER_NXE, 2, E_XD, 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    /* SMEP. */
    {"SMEP sup fetch user page", PT_L4, 0, 0, MMU_CR4_SMEP, 0, 0, 0, 0, 0, X, false, false, false, 0, -1, PF_P | PF_I},
    {"SMEP sup fetch user page no NXE", PT_L4, 0, 0, MMU_CR4_SMEP, 0, MMU_EFER_NXE, 0, 0, 0, X, false, false, false, 0, -1, PF_P | PF_I},
    {"no SMEP sup fetch user page", PT_L4, 0, 0, 0, 0, 0, 0, 0, 0, X, false, false, false, 0, 0, 0},
    {"SMEP sup fetch sup page", PT_L4, 0, 0, MMU_CR4_SMEP, 0, 0, 2, 0, E_US, X, false, false, false, 0, 0, 0},
    {"SMEP user fetch user page", PT_L4, 0, 0, MMU_CR4_SMEP, 0, 0, 0, 0, 0, X, true, false, false, 0, 0, 0},
    {"SMEP 32-bit", PT_32, 0, 0, MMU_CR4_SMEP, 0, 0, 0, 0, 0, X, false, false, false, 0, -1, PF_P | PF_I},
    /* SMAP. */
    {"SMAP sup read user AC=0", PT_L4, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, R, false, false, false, 0, -1, PF_P},
    {"SMAP sup read user AC=1", PT_L4, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, R, false, false, true, 0, 0, 0},
    {"SMAP implicit read AC=1", PT_L4, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, R, false, true, true, 0, -1, PF_P},
    {"SMAP sup write user AC=0", PT_L4, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, W, false, false, false, 0, -1, PF_P | PF_W},
    {"SMAP sup write user AC=1", PT_L4, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, W, false, false, true, 0, 0, 0},
    {"SMAP AC=1 write RO WP=1", PT_L4, 0, MMU_CR0_WP, MMU_CR4_SMAP, 0, 0, 1, 0, E_RW, W, false, false, true, 0, -1, PF_P | PF_W},
    {"SMAP sup read sup page", PT_L4, 0, 0, MMU_CR4_SMAP, 0, 0, 1, 0, E_US, R, false, false, false, 0, 0, 0},
    {"SMAP user read user", PT_L4, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, R, true, false, false, 0, 0, 0},
    {"SMAP PAE", PT_PAE, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, R, false, false, false, 0, -1, PF_P},
    {"SMAP 32-bit implicit write", PT_32, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, W, false, true, false, 0, -1, PF_P | PF_W},
    {"SMAP sup fetch user (SMEP off)", PT_L4, 0, 0, MMU_CR4_SMAP, 0, 0, 0, 0, 0, X, false, false, false, 0, 0, 0},
    /* Reserved bits. */
    {"rsvd PTE bit 40", PT_L4, 0, 0, 0, 0, 0, 1, BIT(40), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd PDE bit 51 user write", PT_L4, 0, 0, 0, 0, 0, 2, BIT(51), 0, W, true, false, false, 0, -1, PF_P | PF_RSVD | PF_W | PF_U},
    {"rsvd PDPTE bit 45", PT_L4, 0, 0, 0, 0, 0, 3, BIT(45), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd PML4E bit 47", PT_L4, 0, 0, 0, 0, 0, 4, BIT(47), 0, X, false, false, false, 0, -1, PF_P | PF_RSVD | PF_I},
    {"rsvd PML5E bit 40", PT_L5, 0, 0, 0, 0, 0, 5, BIT(40), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd PML4E PS", PT_L4, 0, 0, 0, 0, 0, 4, E_PS, 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd PML5E PS", PT_L5, 0, 0, 0, 0, 0, 5, E_PS, 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd 1G bit 13", PT_L4, 1ull << 30, 0, 0, 0, 0, 3, BIT(13), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd 1G bit 29", PT_L5, 1ull << 30, 0, 0, 0, 0, 3, BIT(29), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd 2M bit 20", PT_L4, 2ull << 20, 0, 0, 0, 0, 2, BIT(20), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd PAE 2M bit 13", PT_PAE, 2ull << 20, 0, 0, 0, 0, 2, BIT(13), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"4K PTE bit 13 is address", PT_L4, 0, 0, 0, 0, 0, 1, BIT(13), 0, R, false, false, false, 0, 0, 0},
    {"ignored bit 52 IA-32e", PT_L4, 0, 0, 0, 0, 0, 1, BIT(52), 0, R, false, false, false, 0, 0, 0},
    {"rsvd bit 52 PAE PTE", PT_PAE, 0, 0, 0, 0, 0, 1, BIT(52), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd bit 62 PAE PDE", PT_PAE, 0, 0, 0, 0, 0, 2, BIT(62), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd PAE PDPTE R/W", PT_PAE, 0, 0, 0, 0, 0, 3, E_RW, 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd PAE PDPTE XD", PT_PAE, 0, 0, 0, 0, 0, 3, E_XD, 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"rsvd 32-bit 4M bit 21", PT_32, 4ull << 20, 0, 0, 0, 0, 2, BIT(21), 0, R, false, false, false, 0, -1, PF_P | PF_RSVD},
    {"32-bit PS ignored without PSE", PT_32, 0, 0, 0, MMU_CR4_PSE, 0, 2, E_PS, 0, R, false, false, false, 0, 0, 0},
    {"rsvd before not-present below", PT_L4, 0, 0, 0, 0, 0, 3, BIT(41), 0, W, false, false, false, 0, -1, PF_P | PF_RSVD | PF_W},
    {"not present hides rsvd bits", PT_L4, 0, 0, 0, 0, 0, 2, BIT(45), E_P, R, false, false, false, 0, -1, 0},
    /* Protection keys (IA-32e only, data accesses to user addresses). */
    {"PK user read AD", PT_L4, 0, 0, MMU_CR4_PKE, 0, 0, 1, PK(3), 0, R, true, false, false, 1u << 6, -1, PF_P | PF_U | PF_PK},
    {"PK user read other key AD", PT_L4, 0, 0, MMU_CR4_PKE, 0, 0, 1, PK(3), 0, R, true, false, false, 1u << 4, 0, 0},
    {"PK user write WD", PT_L4, 0, 0, MMU_CR4_PKE, 0, 0, 1, PK(15), 0, W, true, false, false, 1u << 31, -1, PF_P | PF_W | PF_U | PF_PK},
    {"PK user read WD ok", PT_L4, 0, 0, MMU_CR4_PKE, 0, 0, 1, PK(15), 0, R, true, false, false, 1u << 31, 0, 0},
    {"PK sup write WD WP=0", PT_L4, 0, 0, MMU_CR4_PKE, 0, 0, 1, PK(1), 0, W, false, false, false, 1u << 3, 0, 0},
    {"PK sup write WD WP=1", PT_L4, 0, MMU_CR0_WP, MMU_CR4_PKE, 0, 0, 1, PK(1), 0, W, false, false, false, 1u << 3, -1, PF_P | PF_W | PF_PK},
    {"PK sup read AD", PT_L5, 2ull << 20, 0, MMU_CR4_PKE, 0, 0, 2, PK(2), 0, R, false, false, false, 1u << 4, -1, PF_P | PF_PK},
    {"PK fetch ignores AD", PT_L4, 0, 0, MMU_CR4_PKE, 0, 0, 1, PK(0), 0, X, true, false, false, 1u, 0, 0},
    {"PK sup page ignored", PT_L4, 0, 0, MMU_CR4_PKE, 0, 0, 1, PK(0), E_US, R, false, false, false, 1u, 0, 0},
    {"PK off ignores PKRU", PT_L4, 0, 0, 0, 0, 0, 1, PK(0), 0, R, true, false, false, 1u, 0, 0},
    {"PK with RO user write", PT_L4, 0, 0, MMU_CR4_PKE, 0, 0, 1, PK(5) | 0, E_RW, W, true, false, false, 2u << 10, -1, PF_P | PF_W | PF_U | PF_PK},
    {"PK bits ignored in PAE", PT_PAE, 0, 0, MMU_CR4_PKE, 0, 0, 1, 0, 0, R, true, false, false, ~0u, 0, 0},
    {"PK key from 1G leaf", PT_L4, 1ull << 30, 0, MMU_CR4_PKE, 0, 0, 3, PK(7), 0, W, true, false, false, 1u << 14, -1, PF_P | PF_W | PF_U | PF_PK},
};

Test(walk_faults, error_codes)
{
    const gva_t va = 0x7F4012345ull;
    for (size_t i = 0; i < ARRAY_SIZE(fault_cases); i++) {
        const struct fault_case *c = &fault_cases[i];
        uint64_t size = c->size ? c->size : PAGE_SIZE;
        gva_t v = c->mode == PT_L4 || c->mode == PT_L5 ? va : (uint32_t)va;
        struct ptb b;
        ptb_init(&b, c->mode);
        ptb_map(&b, v, 0x40000000, size, E_P | E_RW | E_US);
        b.ps.cr0 |= c->cr0_set;
        b.ps.cr4 = (b.ps.cr4 | c->cr4_set) & ~c->cr4_clear;
        b.ps.efer &= ~c->efer_clear;
        if (c->level)
            ptb_modify(&b, v, c->level, c->set, c->clear);
        struct walk_req req = {.va = v, .access = c->access, .user = c->user,
                               .implicit = c->implicit, .ac = c->ac, .pkru = c->pkru, .set_ad = true};
        struct walk_result res;
        uint32_t err = 0xdead;
        int r = mmu_walk(&b.pm, &b.ps, &req, &res, &err);
        cr_assert_eq(r, c->ret, "%s: ret %d (err %#x)", c->name, r, err);
        if (r)
            cr_assert_eq(err, c->err, "%s: err %#x, want %#x", c->name, err, c->err);
        else
            cr_assert_eq(res.gpa & (size - 1), v & (size - 1), "%s", c->name);
        ptb_destroy(&b);
    }
}

/* SDM Vol 3 4.7: I/D is set for fetches only with SMEP, or with PAE-style paging and NXE. */
struct ibit_case {
    enum pt_mode mode;
    uint64_t cr4_set;
    uint64_t efer;
    bool i;
};

static const struct ibit_case ibit_cases[] = {
    {PT_32, 0, 0, false},
    {PT_32, 0, MMU_EFER_NXE, false},
    {PT_32, MMU_CR4_SMEP, 0, true},
    {PT_PAE, 0, 0, false},
    {PT_PAE, 0, MMU_EFER_NXE, true},
    {PT_PAE, MMU_CR4_SMEP, 0, true},
    {PT_L4, 0, MMU_EFER_LMA | MMU_EFER_LME, false},
    {PT_L4, 0, MMU_EFER_LMA | MMU_EFER_LME | MMU_EFER_NXE, true},
    {PT_L5, MMU_CR4_SMEP, MMU_EFER_LMA | MMU_EFER_LME, true},
};

Test(walk_faults, instruction_fetch_bit)
{
    for (size_t i = 0; i < ARRAY_SIZE(ibit_cases); i++) {
        const struct ibit_case *c = &ibit_cases[i];
        struct ptb b;
        ptb_init(&b, c->mode);
        b.ps.cr4 |= c->cr4_set;
        b.ps.efer = c->efer;
        for (int user = 0; user < 2; user++) {
            struct walk_req req = {.va = 0x12345000, .access = MMU_EXEC, .user = user};
            struct walk_result res;
            uint32_t err;
            cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), -1, "case %zu", i);
            cr_assert_eq(err, (c->i ? PF_I : 0) | (user ? PF_U : 0), "case %zu user %d: %#x", i, user, err);
        }
        ptb_destroy(&b);
    }
}
