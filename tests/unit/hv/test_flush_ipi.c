/* TLB-flush and IPI hypercalls, and the sparse VP sets of their Ex forms. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

/* Bitmap of the VPs the fake host saw flushed / interrupted. */
static void flushed_set(const struct fake_host *f, uint64_t out[4], bool *global, unsigned *pages)
{
    memset(out, 0, 4 * sizeof(uint64_t));
    for (unsigned i = 0; i < f->nfl; i++) {
        out[f->fl[i].vp / 64] |= 1ull << (f->fl[i].vp % 64);
        if (global)
            *global = f->fl[i].global;
        if (pages)
            *pages = f->fl[i].n;
    }
}

static void injected_set(const struct fake_host *f, uint64_t out[4], uint8_t vector)
{
    memset(out, 0, 4 * sizeof(uint64_t));
    for (unsigned i = 0; i < f->ninj; i++) {
        cr_expect_eq(f->inj[i].vector, vector);
        cr_expect_not(f->inj[i].auto_eoi);
        out[f->inj[i].vp / 64] |= 1ull << (f->inj[i].vp % 64);
    }
}

struct flush_case {
    uint64_t flags, mask;
    uint16_t status;
    uint64_t vps; /* of 4 */
    bool global;
};

Test(hv_flush, space_processor_mask)
{
    static const struct flush_case cases[] = {
        {0, 0x5, 0, 0x5, true},
        {1, 0x1, 0, 0xF, true},         /* ALL_PROCESSORS */
        {0, 0, 0, 0xF, true},           /* empty mask = all (KVM, WS2012) */
        {0, 0x402, 0, 0x2, true},       /* VP 10 does not exist: ignored */
        {4, 0x8, 0, 0x8, false},        /* NON_GLOBAL_MAPPINGS_ONLY */
        {2, 0x8, 0, 0x8, true},         /* ALL_VIRTUAL_ADDRESS_SPACES */
        {8, 0x1, HV_STATUS_INVALID_PARAMETER, 0, true}, /* extended ranges: not offered */
    };
    static const struct {
        uint64_t as, flags;
        uint16_t status;
    } spaces[] = {
        {0x1000, 0, 0},
        {0x8000000000001000ull, 0, 0},          /* CR3 bit 63 (no-flush hint) is legal */
        {1ull << 40, 0, HV_STATUS_INVALID_PARAMETER}, /* beyond MAXPHYADDR */
        {1ull << 40, 2, 0},                     /* ... ignored with ALL_VIRTUAL_ADDRESS_SPACES */
    };
    for (size_t i = 0; i < ARRAY_SIZE(spaces); i++) {
        struct fake_host *f = fake_create(NULL, 1);
        fake_enable_hypercalls(f, GPA_HYPERCALL);
        put_u64(f, GPA_IN, spaces[i].as);
        put_u64(f, GPA_IN + 8, spaces[i].flags);
        put_u64(f, GPA_IN + 16, 1);
        put_u64(f, GPA_IN + 24, 0x1000);
        cr_expect_eq(STATUS(call_slow(f, 0, HC(0x0002), GPA_IN, 0)), spaces[i].status, "space %zu", i);
        cr_expect_eq(STATUS(call_slow(f, 0, HC(0x0003) | HC_REP(1, 0), GPA_IN, 0)), spaces[i].status,
                     "list %zu", i);
        fake_destroy(f);
    }
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct fake_host *f = fake_create(NULL, 4);
        fake_enable_hypercalls(f, GPA_HYPERCALL);
        put_u64(f, GPA_IN, 0x1000);
        put_u64(f, GPA_IN + 8, cases[i].flags);
        put_u64(f, GPA_IN + 16, cases[i].mask);
        uint64_t rax = call_slow(f, 1, HC(0x0002), GPA_IN, 0);
        cr_expect_eq(STATUS(rax), cases[i].status, "case %zu", i);
        uint64_t set[4];
        bool global = true;
        unsigned pages = 99;
        flushed_set(f, set, &global, &pages);
        cr_expect_eq(set[0], cases[i].vps, "case %zu: flushed 0x%llx", i, (unsigned long long)set[0]);
        if (f->nfl) {
            cr_expect_eq(global, cases[i].global, "case %zu", i);
            cr_expect_eq(pages, 0, "case %zu: whole TLB", i);
        }
        fake_destroy(f);
    }
}

struct vpset_case {
    const char *what;
    uint64_t format, banks_mask;
    unsigned nbanks;        /* qwords written after the header */
    uint64_t banks[4];
    unsigned varhead;
    uint16_t status;
    uint64_t expect[4];     /* VPs of 130 */
};

static const struct vpset_case sets[] = {
    {"sparse banks 0 and 2", 0, 0x5, 2, {0x1, 0x3}, 2, 0, {0x1, 0, 0x3, 0}},
    {"sparse bank 1 only", 0, 0x2, 1, {0x8000000000000001ull}, 1, 0, {0, 0x8000000000000001ull, 0, 0}},
    {"bank beyond the VPs", 0, 0x9, 2, {0x2, 0xFF}, 2, 0, {0x2, 0, 0, 0}},
    {"VPs beyond 129 in bank 2", 0, 0x4, 1, {0xFFFFFFFFFFFFFFFFull}, 1, 0, {0, 0, 0x3, 0}},
    {"all-zero bank", 0, 0x1, 1, {0}, 1, 0, {0, 0, 0, 0}},
    {"format all", 1, 0, 0, {0}, 0, 0, {~0ull, ~0ull, 0x3, 0}},
    {"varhead short of the banks", 0, 0x5, 2, {0x1, 0x3}, 1, HV_STATUS_INVALID_HYPERCALL_INPUT, {0}},
    {"varhead beyond the banks", 0, 0x1, 1, {0x1}, 2, HV_STATUS_INVALID_HYPERCALL_INPUT, {0}},
    {"unknown format", 2, 0x1, 1, {0x1}, 1, HV_STATUS_INVALID_PARAMETER, {0}},
};

Test(hv_flush, space_ex_sparse_sets)
{
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        const struct vpset_case *c = &sets[i];
        struct fake_host *f = fake_create(NULL, 130);
        fake_enable_hypercalls(f, GPA_HYPERCALL);
        put_u64(f, GPA_IN, 0);
        put_u64(f, GPA_IN + 8, 0);
        put_u64(f, GPA_IN + 16, c->format);
        put_u64(f, GPA_IN + 24, c->banks_mask);
        for (unsigned b = 0; b < c->nbanks; b++)
            put_u64(f, GPA_IN + 32 + 8 * b, c->banks[b]);
        uint64_t rax = call_slow(f, 0, HC(0x0013) | HC_VARHEAD(c->varhead), GPA_IN, 0);
        cr_expect_eq(STATUS(rax), c->status, "%s: status 0x%x", c->what, STATUS(rax));
        uint64_t set[4];
        flushed_set(f, set, NULL, NULL);
        for (unsigned w = 0; w < 4; w++)
            cr_expect_eq(set[w], c->status ? 0 : c->expect[w], "%s: word %u = 0x%llx", c->what, w,
                         (unsigned long long)set[w]);
        fake_destroy(f);
    }
}

Test(hv_flush, list_ex_elements_follow_banks)
{
    struct fake_host *f = fake_create(NULL, 130);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    put_u64(f, GPA_IN + 16, 0);    /* sparse */
    put_u64(f, GPA_IN + 24, 0x4);  /* bank 2 */
    put_u64(f, GPA_IN + 32, 0x2);  /* VP 129 */
    put_u64(f, GPA_IN + 40, 0x7000002); /* 0x7000000 + 2 more pages */
    put_u64(f, GPA_IN + 48, 0x9000000);
    uint64_t rax = call_slow(f, 0, HC(0x0014) | HC_VARHEAD(1) | HC_REP(2, 0), GPA_IN, 0);
    cr_expect_eq(STATUS(rax), 0);
    cr_expect_eq(REPS(rax), 2);
    cr_assert_eq(f->nfl, 1);
    cr_expect_eq(f->fl[0].vp, 129);
    cr_assert_eq(f->fl[0].n, 4);
    static const gva_t want[4] = {0x7000000, 0x7001000, 0x7002000, 0x9000000};
    for (unsigned i = 0; i < 4; i++)
        cr_expect_eq(f->fl[0].pages[i], want[i]);
    fake_destroy(f);
}

Test(hv_flush, list_large_range_flushes_everything)
{
    struct fake_host *f = fake_create(NULL, 1);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    put_u64(f, GPA_IN + 16, 1);
    put_u64(f, GPA_IN + 24, 0x40000000ull | 0xFFF); /* 4096 pages */
    uint64_t rax = call_slow(f, 0, HC(0x0003) | HC_REP(1, 0), GPA_IN, 0);
    cr_expect_eq(STATUS(rax), 0);
    cr_assert_eq(f->nfl, 1);
    cr_expect_eq(f->fl[0].n, 0, "whole-TLB flush instead of 4096 pages");
    /* NON_GLOBAL_MAPPINGS_ONLY is invalid for the list calls. */
    put_u64(f, GPA_IN + 8, 4);
    rax = call_slow(f, 0, HC(0x0003) | HC_REP(1, 0), GPA_IN, 0);
    cr_expect_eq(STATUS(rax), HV_STATUS_INVALID_PARAMETER);
    fake_destroy(f);
}

struct ipi_case {
    uint64_t rdx, r8;
    uint16_t status;
    uint64_t vps;
};

Test(hv_ipi, cluster_ipi_fast)
{
    static const struct ipi_case cases[] = {
        {0x20, 0xA, 0, 0xA},
        {0xFF, 0x1, 0, 0x1},
        {0x10, 0x0, 0, 0x0},               /* empty mask: nobody */
        {0x20, 0x30, 0, 0x0},              /* VPs 4, 5 do not exist */
        {0x0F, 0x1, HV_STATUS_INVALID_PARAMETER, 0},
        {0x100, 0x1, HV_STATUS_INVALID_PARAMETER, 0},
        {0x20 | (0x10ull << 32), 0x1, 0, 0x1},                       /* UseTargetVtl, VTL 0 */
        {0x20 | (0x11ull << 32), 0x1, HV_STATUS_INVALID_PARAMETER, 0}, /* VTL 1 */
        {0x20 | (1ull << 32), 0x1, HV_STATUS_INVALID_PARAMETER, 0},
        {0x20 | (1ull << 56), 0x1, HV_STATUS_INVALID_PARAMETER, 0}, /* RsvdZ padding */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct fake_host *f = fake_create(NULL, 4);
        fake_enable_hypercalls(f, GPA_HYPERCALL);
        struct hv_call_regs r = regs64(HC(0x000B) | HC_FASTBIT, cases[i].rdx, cases[i].r8);
        cr_assert_eq(hv_hypercall(f->p, fake_vp(f, 0), &r), HV_CALL_DONE);
        cr_expect_eq(STATUS(r.gpr[REG_RAX]), cases[i].status, "case %zu", i);
        uint64_t set[4];
        injected_set(f, set, (uint8_t)cases[i].rdx);
        cr_expect_eq(set[0], cases[i].vps, "case %zu", i);
        fake_destroy(f);
    }
}

Test(hv_ipi, cluster_ipi_ex_memory_and_xmm)
{
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        const struct vpset_case *c = &sets[i];
        for (int fast = 0; fast < 2; fast++) {
            struct fake_host *f = fake_create(NULL, 130);
            fake_enable_hypercalls(f, GPA_HYPERCALL);
            uint8_t in[64];
            memset(in, 0, sizeof(in));
            uint32_t vector = 0x31;
            memcpy(in, &vector, 4);
            memcpy(in + 8, &c->format, 8);
            memcpy(in + 16, &c->banks_mask, 8);
            memcpy(in + 24, c->banks, 8 * c->nbanks);
            struct hv_call_regs r;
            if (fast) {
                /* RDX, R8, then XMM0-5 carry the input bytes in order. */
                uint64_t q[8];
                memcpy(q, in, sizeof(q));
                r = regs64(HC(0x0015) | HC_FASTBIT | HC_VARHEAD(c->varhead), q[0], q[1]);
                for (unsigned x = 0; x < 3; x++) {
                    r.xmm[x][0] = q[2 + 2 * x];
                    r.xmm[x][1] = q[3 + 2 * x];
                }
            } else {
                physmem_write(&f->mem, GPA_IN, in, sizeof(in));
                r = regs64(HC(0x0015) | HC_VARHEAD(c->varhead), GPA_IN, 0);
            }
            cr_assert_eq(hv_hypercall(f->p, fake_vp(f, 0), &r), HV_CALL_DONE);
            cr_expect_eq(STATUS(r.gpr[REG_RAX]), c->status, "%s fast=%d", c->what, fast);
            uint64_t set[4];
            injected_set(f, set, 0x31);
            for (unsigned w = 0; w < 4; w++)
                cr_expect_eq(set[w], c->status ? 0 : c->expect[w], "%s fast=%d word %u", c->what,
                             fast, w);
            fake_destroy(f);
        }
    }
}

Test(hv_ipi, notify_long_spin_wait_yields)
{
    struct hv_config cfg;
    hv_config_default(&cfg);
    cfg.spin_retries = 0x1000;
    struct fake_host *f = fake_create(&cfg, 1);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    struct hv_call_regs r = regs64(HC(0x0008) | HC_FASTBIT, 5000, 0);
    cr_assert_eq(hv_hypercall(f->p, fake_vp(f, 0), &r), HV_CALL_DONE);
    cr_expect_eq(STATUS(r.gpr[REG_RAX]), 0);
    cr_expect_eq(f->yields, 1);
    fake_destroy(f);
}
