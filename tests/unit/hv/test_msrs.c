/* Synthetic MSRs: access rules, privilege gating, reset values and per-MSR semantics. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

enum { R = 1, W = 2 };

struct msr_case {
    uint32_t index;
    unsigned access;     /* R, W: allowed accesses with the feature on */
    const char *without; /* --hv words that remove the privilege (NULL: always there) */
    uint64_t initial;    /* value read right after creation (when readable) */
    uint64_t sample;     /* a legal value to write (when writable and side-effect free) */
};

#define NOSAMPLE UINT64_MAX
static const struct msr_case msrs[] = {
    {0x40000000, R | W, NULL, 0, 0x8100000601FF0000ull},
    {0x40000001, R | W, NULL, 0, 0x5000ull},                /* disabled page: GPFN kept */
    {0x40000002, R, NULL, 0, NOSAMPLE},
    {0x40000003, R | W, "-reset", 0, 0},
    {0x40000010, R, "-runtime", 0, NOSAMPLE},
    {0x40000020, R, "-time", 0, NOSAMPLE},
    {0x40000021, R | W, "-time", 0, 0x7000ull},
    {0x40000022, R, "-frequencies", 1000000000ull, NOSAMPLE},
    {0x40000023, R, "-frequencies", 1000000000ull, NOSAMPLE},
    {0x40000070, W, "-vapic", 0, NOSAMPLE},
    {0x40000071, R | W, "-vapic", 0, NOSAMPLE},
    {0x40000072, R | W, "-vapic", 0, 0x40},
    {0x40000073, R | W, NULL, 0, 0x9000ull},
    {0x40000080, R | W, "-synic", 0, 0x2},
    {0x40000081, R, "-synic", 1, NOSAMPLE},
    {0x40000082, R | W, "-synic", 0, 0xA000ull},
    {0x40000083, R | W, "-synic", 0, 0xB000ull},
    {0x40000084, R | W, "-synic", 0, 0},
    {0x40000090, R | W, "-synic", 0x10000, 0x300F0},
    {0x40000095, R | W, "-synic", 0x10000, 0x000F0},
    {0x4000009F, R | W, "-synic", 0x10000, 0x10005},
    {0x400000B0, R | W, "-stimer", 0, 0x20000},
    {0x400000B1, R | W, "-stimer", 0, 0},
    {0x400000B6, R | W, "-stimer", 0, 0x50002},
    {0x400000B7, R | W, "-stimer", 0, 0},
    {0x400000F0, R, "-idle", 0, NOSAMPLE},
    {0x40000100, R | W, "-crash", 0, 0x1111},
    {0x40000104, R | W, "-crash", 0, 0x4444},
    {0x40000105, R | W, "-crash", 0xC000000000000000ull, 0},
    {0x40000118, R | W, "-tsc-invariant", 0, 1},
};

static struct fake_host *make(const char *spec)
{
    struct hv_config cfg;
    hv_config_default(&cfg);
    cfg.tsc_invariant = true;
    cr_assert_eq(hv_config_parse(&cfg, spec, NULL, 0), 0, "%s", spec);
    return fake_create(&cfg, 2);
}

Test(hv_msrs, access_rules)
{
    struct fake_host *f = make("");
    struct hv_vp *vp = fake_vp(f, 0);
    for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
        const struct msr_case *c = &msrs[i];
        uint64_t v = 0x1234;
        int rc = hv_msr_read(f->p, vp, c->index, &v);
        cr_expect_eq(rc, (c->access & R) ? 0 : -1, "rdmsr %s (0x%x)", hv_msr_name(c->index), c->index);
        if (rc == 0 && c->index != 0x40000020 && c->index != 0x40000010)
            cr_expect_eq(v, c->initial, "initial %s = 0x%llx", hv_msr_name(c->index),
                         (unsigned long long)v);
        if (c->sample != NOSAMPLE) {
            cr_expect_eq(hv_msr_write(f->p, vp, c->index, c->sample), 0, "wrmsr %s",
                         hv_msr_name(c->index));
        } else if (!(c->access & W)) {
            cr_expect_eq(hv_msr_write(f->p, vp, c->index, 0), -1, "wrmsr of read-only %s",
                         hv_msr_name(c->index));
        }
    }
    fake_destroy(f);
}

Test(hv_msrs, privilege_gating_is_gp)
{
    for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
        const struct msr_case *c = &msrs[i];
        if (!c->without)
            continue;
        struct fake_host *f = make(c->without);
        uint64_t v;
        cr_expect_eq(hv_msr_read(f->p, fake_vp(f, 0), c->index, &v), -1, "rdmsr %s with %s",
                     hv_msr_name(c->index), c->without);
        cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 0), c->index, 0), -1, "wrmsr %s with %s",
                     hv_msr_name(c->index), c->without);
        fake_destroy(f);
    }
}

Test(hv_msrs, range_and_unknown)
{
    struct fake_host *f = make("");
    uint64_t v;
    struct hv_vp *vp = fake_vp(f, 0);
    static const uint32_t unknown[] = {0x40000004, 0x40000040, 0x40000085, 0x400000B8,
                                       0x400000E0, 0x400000F1, 0x40000106, 0x400001FF};
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
        cr_expect_eq(hv_msr_read(f->p, vp, unknown[i], &v), -1, "0x%x", unknown[i]);
        cr_expect_eq(hv_msr_write(f->p, vp, unknown[i], 0), -1, "0x%x", unknown[i]);
        cr_expect_null(hv_msr_name(unknown[i]));
    }
    static const uint32_t foreign[] = {0x10, 0x1B, 0x3FFFFFFF, 0x40000200, 0xC0000080};
    for (size_t i = 0; i < ARRAY_SIZE(foreign); i++) {
        cr_expect_eq(hv_msr_read(f->p, vp, foreign[i], &v), 1, "0x%x", foreign[i]);
        cr_expect_eq(hv_msr_write(f->p, vp, foreign[i], 0), 1, "0x%x", foreign[i]);
    }
    unsigned named = 0;
    for (uint32_t i = 0x40000000; i <= 0x400001FF; i++)
        named += hv_msr_name(i) != NULL;
    cr_expect_eq(named, 50, "every row of msrs.def found (the table must stay sorted)");
    cr_expect_str_eq(hv_msr_name(0x40000001), "HV_X64_MSR_HYPERCALL");
    cr_expect_str_eq(hv_msr_name(0x4000009A), "HV_X64_MSR_SINT10");
    cr_expect_str_eq(hv_msr_name(0x400000B5), "HV_X64_MSR_STIMER2_COUNT");
    fake_destroy(f);
}

Test(hv_msrs, reset_restores_reset_values)
{
    struct fake_host *f = make("");
    for (unsigned vp = 0; vp < 2; vp++)
        for (size_t i = 0; i < ARRAY_SIZE(msrs); i++)
            if (msrs[i].sample != NOSAMPLE && msrs[i].index != 0x40000003)
                wrmsr_ok(f, vp, msrs[i].index, msrs[i].sample);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    hv_partition_reset(f->p);
    for (unsigned vp = 0; vp < 2; vp++)
        for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
            uint64_t reset = hv_msr_reset_value(msrs[i].index);
            if (reset == UINT64_MAX)
                continue;
            cr_expect_eq(rdmsr_ok(f, vp, msrs[i].index), reset, "%s after reset on vp%u",
                         hv_msr_name(msrs[i].index), vp);
        }
    cr_expect_eq(f->mem.nregions, 0, "reset must unmap every overlay");
    fake_destroy(f);
}

Test(hv_msrs, vp_index_per_vp)
{
    struct fake_host *f = fake_create(NULL, 4);
    for (unsigned i = 0; i < 4; i++)
        cr_expect_eq(rdmsr_ok(f, i, 0x40000002), i);
    fake_destroy(f);
}

Test(hv_msrs, hypercall_page)
{
    struct fake_host *f = fake_create(NULL, 1);
    /* Before the guest OS ID is set, Enable does not stick. */
    wrmsr_ok(f, 0, 0x40000001, GPA_HYPERCALL | 1);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000001), GPA_HYPERCALL);
    cr_expect_eq(f->mem.nregions, 0);
    wrmsr_ok(f, 0, 0x40000000, 0x8100000601FF0000ull);
    wrmsr_ok(f, 0, 0x40000001, GPA_HYPERCALL | 1);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000001), GPA_HYPERCALL | 1);
    uint8_t code[8];
    physmem_read(&f->mem, GPA_HYPERCALL, code, sizeof(code));
    static const uint8_t want[8] = {0x0F, 0x01, 0xC1, 0xC3, 0, 0, 0, 0}; /* VMCALL; RET */
    cr_expect_arr_eq(code, want, 8);
    struct phys_lookup l;
    physmem_lookup(&f->mem, GPA_HYPERCALL, &l);
    cr_expect_eq(l.kind, PHYS_OVERLAY);
    /* Clearing the guest OS ID disables the page. */
    wrmsr_ok(f, 0, 0x40000000, 0);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000001), GPA_HYPERCALL);
    physmem_lookup(&f->mem, GPA_HYPERCALL, &l);
    cr_expect_eq(l.kind, PHYS_RAM);
    /* A GPFN beyond MAXPHYADDR (40 bits by default) is #GP and changes nothing. */
    wrmsr_ok(f, 0, 0x40000000, 1);
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 0), 0x40000001, (1ull << 40) | 1), -1);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000001), GPA_HYPERCALL);
    fake_destroy(f);
}

Test(hv_msrs, overlays_cannot_share_a_page)
{
    struct fake_host *f = fake_create(NULL, 2);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 0), 0x40000021, GPA_HYPERCALL | 1), -1);
    wrmsr_ok(f, 0, 0x40000083, GPA_SIMP(0) | 1);
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 1), 0x40000083, GPA_SIMP(0) | 1), -1,
                 "vp1 must not steal vp0's SIM page");
    cr_expect_eq(rdmsr_ok(f, 1, 0x40000083), 0);
    /* Moving an overlay releases the old page. */
    wrmsr_ok(f, 0, 0x40000083, GPA_SIMP(1) | 1);
    struct phys_lookup l;
    physmem_lookup(&f->mem, GPA_SIMP(0), &l);
    cr_expect_eq(l.kind, PHYS_RAM);
    physmem_lookup(&f->mem, GPA_SIMP(1), &l);
    cr_expect_eq(l.kind, PHYS_OVERLAY);
    fake_destroy(f);
}

Test(hv_msrs, reset_msr_requests_reset)
{
    struct fake_host *f = fake_create(NULL, 1);
    wrmsr_ok(f, 0, 0x40000003, 0);
    cr_expect_eq(f->stops, 0);
    wrmsr_ok(f, 0, 0x40000003, 1);
    cr_expect_eq(f->stops, 1);
    cr_expect_eq(f->last_stop, HV_STOP_RESET);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000003), 0);
    fake_destroy(f);
}

Test(hv_msrs, apic_msrs)
{
    struct fake_host *f = fake_create(NULL, 2);
    wrmsr_ok(f, 1, 0x40000070, 0);
    cr_expect_eq(f->eoi[1], 1);
    cr_expect_eq(f->eoi[0], 0);
    wrmsr_ok(f, 0, 0x40000071, 0x0000000300004041ull);
    cr_expect_eq(f->icr[0], 0x0000000300004041ull);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000071), 0x0000000300004041ull);
    f->icr_rc = -1;
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 0), 0x40000071, 0xFFFFFFFFFFFFFFFFull), -1);
    wrmsr_ok(f, 1, 0x40000072, 0x50);
    cr_expect_eq(f->tpr[1], 0x50);
    cr_expect_eq(rdmsr_ok(f, 1, 0x40000072), 0x50);
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 1), 0x40000072, 0x150), -1, "TPR 63:8 are RsvdZ");
    fake_destroy(f);
}

Test(hv_msrs, vp_assist_page_and_eoi_assist)
{
    struct fake_host *f = fake_create(NULL, 1);
    struct hv_vp *vp = fake_vp(f, 0);
    const gpa_t page = 0x400000;
    put_u64(f, page, 0xFFFFFFFFFFFFFFFFull);
    cr_expect_not(hv_apic_assist_offer(f->p, vp), "no page, no offer");
    cr_expect_eq(hv_msr_write(f->p, vp, 0x40000073, (FAKE_RAM + 0x100000) | 1), -1,
                 "the page must be RAM");
    wrmsr_ok(f, 0, 0x40000073, page | 1);
    cr_expect_eq(get_u32(f, page), 0, "enable clears apic_assist");
    cr_expect_eq(get_u32(f, page + 4), 0xFFFFFFFF, "the rest of the page is the guest's");
    /* Offer, guest consumes it by clearing the bit: the APIC must EOI. */
    cr_expect(hv_apic_assist_offer(f->p, vp));
    cr_expect_eq(get_u32(f, page), 1);
    uint32_t zero = 0;
    physmem_write(&f->mem, page, &zero, 4);
    cr_expect(hv_apic_assist_collect(f->p, vp));
    /* Offer not consumed: it is taken back and the guest EOIs itself. */
    cr_expect(hv_apic_assist_offer(f->p, vp));
    cr_expect_not(hv_apic_assist_collect(f->p, vp));
    cr_expect_eq(get_u32(f, page), 0);
    cr_expect_not(hv_apic_assist_collect(f->p, vp), "nothing armed");
    fake_destroy(f);
}

Test(hv_msrs, sint_rules)
{
    struct fake_host *f = fake_create(NULL, 1);
    struct hv_vp *vp = fake_vp(f, 0);
    cr_expect_eq(hv_msr_write(f->p, vp, 0x40000092, 0x0F), -1, "unmasked vector < 16");
    wrmsr_ok(f, 0, 0x40000092, 0x1000F); /* masked: any vector */
    wrmsr_ok(f, 0, 0x40000092, 0x20010);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000092), 0x20010);
    cr_expect_eq(hv_msr_write(f->p, vp, 0x40000081, 1), -1, "SVERSION is read-only");
    fake_destroy(f);
}

Test(hv_msrs, guest_idle_and_time)
{
    struct fake_host *f = fake_create(NULL, 1);
    rdmsr_ok(f, 0, 0x400000F0);
    cr_expect_eq(f->idles, 1);
    fake_advance(f, 123456789);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000020), 1234567);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000010), 1234567, "VP runtime defaults to reference time");
    /* The counter never goes backwards, even if the clock is re-based behind it. */
    f->clock.base_ns = 1000;
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000020), 1234567);
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 0), 0x40000118, 2), -1);
    fake_destroy(f);
}

Test(hv_msrs, crash_report)
{
    struct fake_host *f = fake_create(NULL, 1);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000105), 0xC000000000000000ull);
    for (unsigned i = 0; i < 5; i++)
        wrmsr_ok(f, 0, 0x40000100 + i, 0x100 + i);
    wrmsr_ok(f, 0, 0x40000105, 0);
    cr_expect_eq(f->stops, 0, "CTL without CrashNotify reports nothing");
    wrmsr_ok(f, 0, 0x40000105, 1ull << 63);
    cr_expect_eq(f->stops, 1);
    cr_expect_eq(f->last_stop, HV_STOP_CRASH);
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(f->crash.p[i], 0x100 + i);
    cr_expect_eq(f->crash.msg_len, 0);
    /* CrashMessage: P3 = GPA, P4 = length. */
    const char text[] = "Kernel panic - not syncing";
    physmem_write(&f->mem, 0x500000, text, sizeof(text) - 1);
    wrmsr_ok(f, 0, 0x40000103, 0x500000);
    wrmsr_ok(f, 0, 0x40000104, sizeof(text) - 1);
    wrmsr_ok(f, 0, 0x40000105, (1ull << 63) | (1ull << 62));
    cr_expect_eq(f->stops, 2);
    cr_expect_eq(f->crash.msg_len, sizeof(text) - 1);
    cr_expect_str_eq(f->crash.msg, text);
    /* A huge length is clamped to one page. */
    wrmsr_ok(f, 0, 0x40000104, 1ull << 40);
    wrmsr_ok(f, 0, 0x40000105, (1ull << 63) | (1ull << 62));
    cr_expect_eq(f->crash.msg_len, 4096);
    fake_destroy(f);
}

Test(hv_msrs, trace_lines_name_the_msr)
{
    struct fake_host *f = fake_create(NULL, 1);
    fake_trace_on(f);
    wrmsr_ok(f, 0, 0x40000000, 5);
    cr_expect_str_eq(f->last_trace, "vp0 wrmsr HV_X64_MSR_GUEST_OS_ID (0x40000000) <- 0x5");
    uint64_t v;
    hv_msr_read(f->p, fake_vp(f, 0), 0x40000070, &v);
    cr_expect_str_eq(f->last_trace, "vp0 rdmsr HV_X64_MSR_EOI (0x40000070) -> #GP");
    hv_set_trace(f->p, NULL);
    unsigned n = f->ntrace;
    wrmsr_ok(f, 0, 0x40000000, 6);
    cr_expect_eq(f->ntrace, n, "no lines while tracing is off");
    fake_destroy(f);
}
