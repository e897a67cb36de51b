/* CPUID leaves 0x40000000-0x40000006 and the base-leaf adjustments under several configs. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

struct cpuid_case {
    const char *spec; /* applied to the defaults with hv_config_parse */
    uint32_t leaf;
    uint32_t expect[4];
};

/* Default privileges: EAX bits 0,1,2,3,4,5,6,7,9,10,11 = 0xEFF; EBX bits 4,5 = 0x30;
 * EDX bits 4,8,10,19 = 0x80510; hints bits 2,3,5,9,10,11 = 0xE2C. */
static const struct cpuid_case cases[] = {
    {"", 0x40000000, {0x40000006, 0x7263694D, 0x666F736F, 0x76482074}},
    {"", 0x40000001, {0x31237648, 0, 0, 0}},
    /* TLFS 2.4.3: zero until the guest OS ID is set (see version_after_guest_os_id). */
    {"", 0x40000002, {0, 0, 0, 0}},
    {"", 0x40000003, {0x00000EFF, 0x30, 0, 0x80510}},
    {"", 0x40000004, {0xE2C, 0xFFFFFFFF, 0, 0}},
    {"", 0x40000005, {HV_MAX_VPS, 2, 0, 0}},
    {"", 0x40000006, {0, 0, 0, 0}},
    {"", 0x40000100, {0, 0, 0, 0}}, /* no second (KVM) signature */
    /* "none": only the mandatory hypercall and VP index MSRs. */
    {"none", 0x40000003, {0x60, 0, 0, 0}},
    {"none", 0x40000004, {0, 0xFFFFFFFF, 0, 0}},
    {"-synic", 0x40000003, {0x00000EFB, 0, 0, 0x80510}},
    {"-stimer", 0x40000003, {0x00000EF7, 0x30, 0, 0x00510}},
    {"-stimer-direct", 0x40000003, {0x00000EFF, 0x30, 0, 0x00510}},
    {"-time,-runtime", 0x40000003, {0x00000CFC, 0x30, 0, 0x80510}},
    {"-vapic", 0x40000003, {0x00000EEF, 0x30, 0, 0x80510}},
    {"-vapic", 0x40000004, {0xE24, 0xFFFFFFFF, 0, 0}},
    {"-frequencies,-crash,-xmm-input", 0x40000003, {0x000006FF, 0x30, 0, 0x80000}},
    {"-tlbflush", 0x40000004, {0xE28, 0xFFFFFFFF, 0, 0}},
    {"-ipi", 0x40000004, {0xA2C, 0xFFFFFFFF, 0, 0}},
    {"-ipi,-tlbflush", 0x40000004, {0x228, 0xFFFFFFFF, 0, 0}}, /* no Ex masks without their calls */
    {"-ex-masks", 0x40000004, {0x62C, 0xFFFFFFFF, 0, 0}},
    {"no-relaxed,-deprecate-autoeoi", 0x40000004, {0xC0C, 0xFFFFFFFF, 0, 0}},
    {"tsc-invariant,ext-calls", 0x40000003, {0x00008EFF, 0x100030, 0, 0x80510}},
    {"-reset,-idle", 0x40000003, {0x00000A7F, 0x30, 0, 0x80510}},
    {"spinlocks=0x1000", 0x40000004, {0xE2C, 0x1000, 0, 0}},
};

Test(hv_cpuid, leaves_follow_config)
{
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct cpuid_case *c = &cases[i];
        struct hv_config cfg;
        char err[80];
        hv_config_default(&cfg);
        cr_assert_eq(hv_config_parse(&cfg, c->spec, err, sizeof(err)), 0, "%s", err);
        struct fake_host *f = fake_create(&cfg, 2);
        uint32_t out[4];
        cr_assert(hv_cpuid(f->p, fake_vp(f, 0), c->leaf, 0, out));
        for (int r = 0; r < 4; r++)
            cr_expect_eq(out[r], c->expect[r], "case %zu '%s' leaf 0x%x reg %d: 0x%x != 0x%x", i,
                         c->spec, c->leaf, r, out[r], c->expect[r]);
        fake_destroy(f);
    }
}

Test(hv_cpuid, off_means_no_hypervisor)
{
    struct hv_config cfg;
    hv_config_default(&cfg);
    cr_assert_eq(hv_config_parse(&cfg, "off", NULL, 0), 0);
    struct fake_host *f = fake_create(&cfg, 1);
    uint32_t out[4] = {1, 2, 3, 4};
    cr_expect_not(hv_cpuid(f->p, fake_vp(f, 0), 0x40000000, 0, out));
    cr_expect_eq(out[0], 1, "an unhandled leaf must leave the CPU's answer alone");
    uint32_t base[4] = {0, 0, 0x80000000u | 0x1234, 0};
    hv_cpuid_adjust_base(f->p, 1, 0, base);
    cr_expect_eq(base[2], 0x1234, "hypervisor-present bit must be clear with --hv off");
    uint64_t v;
    cr_expect_eq(hv_msr_read(f->p, fake_vp(f, 0), 0x40000000, &v), 1);
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 0), 0x40000000, 1), 1);
    struct hv_call_regs r = regs64(2, 0, 0);
    cr_expect_eq(hv_hypercall(f->p, fake_vp(f, 0), &r), HV_CALL_UD);
    fake_destroy(f);
}

Test(hv_cpuid, base_leaf_adjustments)
{
    struct hv_config cfg;
    hv_config_default(&cfg);
    cfg.tsc_invariant = true;
    struct fake_host *f = fake_create(&cfg, 1);
    uint32_t l1[4] = {0, 0, 0x1, 0};
    hv_cpuid_adjust_base(f->p, 1, 0, l1);
    cr_expect_eq(l1[2], 0x80000001u);
    uint32_t inv[4] = {0, 0, 0, 1u << 8};
    hv_cpuid_adjust_base(f->p, 0x80000007u, 0, inv);
    cr_expect_eq(inv[3], 0, "invariant TSC hidden until TSC_INVARIANT_CONTROL is set");
    wrmsr_ok(f, 0, 0x40000118, 1);
    hv_cpuid_adjust_base(f->p, 0x80000007u, 0, inv);
    cr_expect_eq(inv[3], 1u << 8);
    uint32_t other[4] = {5, 6, 7, 8};
    hv_cpuid_adjust_base(f->p, 0, 0, other);
    cr_expect_eq(other[0] + other[1] + other[2] + other[3], 26, "other leaves untouched");
    fake_destroy(f);
}

Test(hv_cpuid, vendor_string_is_configurable)
{
    struct hv_config cfg;
    hv_config_default(&cfg);
    memcpy(cfg.vendor, "hvemu hvemu!", 13);
    struct fake_host *f = fake_create(&cfg, 1);
    uint32_t out[4];
    cr_assert(hv_cpuid(f->p, NULL, 0x40000000, 0, out));
    char s[13];
    memcpy(s, &out[1], 4);
    memcpy(s + 4, &out[2], 4);
    memcpy(s + 8, &out[3], 4);
    s[12] = 0;
    cr_expect_str_eq(s, "hvemu hvemu!");
    fake_destroy(f);
}

struct parse_case {
    const char *spec;
    int rc;
    bool enabled, synic, tsc_invariant;
};

Test(hv_config, parse)
{
    static const struct parse_case pc[] = {
        {"on", 0, true, true, false},
        {"off", 0, false, true, false},
        {"-synic", 0, true, false, false},
        {"no-synic", 0, true, false, false},
        {"+tsc-invariant", 0, true, true, true},
        {"none,synic", 0, true, true, false},
        {"all", 0, true, true, true},
        {"bogus", -1, true, true, false},
        {"synic,,time", -1, true, true, false},
        {"spinlocks=0x100000000", -1, true, true, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(pc); i++) {
        struct hv_config cfg;
        char err[80] = "";
        hv_config_default(&cfg);
        int rc = hv_config_parse(&cfg, pc[i].spec, err, sizeof(err));
        cr_expect_eq(rc, pc[i].rc, "'%s'", pc[i].spec);
        if (rc == 0) {
            cr_expect_eq(cfg.enabled, pc[i].enabled, "'%s'", pc[i].spec);
            cr_expect_eq(cfg.synic, pc[i].synic, "'%s'", pc[i].spec);
            cr_expect_eq(cfg.tsc_invariant, pc[i].tsc_invariant, "'%s'", pc[i].spec);
        } else {
            cr_expect(strstr(err, "unknown --hv setting"), "'%s': %s", pc[i].spec, err);
        }
    }
    cr_expect_eq(hv_config_flag_count(), 18);
    cr_expect_str_eq(hv_config_flag_name(0), "relaxed");
    cr_expect_null(hv_config_flag_name(18));
}

Test(hv_cpuid, version_after_guest_os_id)
{
    struct hv_config cfg;
    hv_config_default(&cfg);
    struct fake_host *f = fake_create(&cfg, 1);
    uint32_t out[4];
    cr_assert(hv_cpuid(f->p, fake_vp(f, 0), 0x40000002, 0, out));
    cr_expect_eq(out[0] | out[1] | out[2] | out[3], 0);
    cr_assert_eq(hv_msr_write(f->p, fake_vp(f, 0), 0x40000000, 0x8100ull << 48), 0);
    cr_assert(hv_cpuid(f->p, fake_vp(f, 0), 0x40000002, 0, out));
    cr_expect_eq(out[0], 0x3839);
    cr_expect_eq(out[1], 0x000A0000);
    fake_destroy(f);
}
