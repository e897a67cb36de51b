/* The architectural MSR table (src/cpu/msrs.def): every row's reset value and reserved bits,
 * each rule that is more than a mask, unknown indexes, and the RDMSR/WRMSR instructions'
 * #GP and exit paths. */
#include <criterion/criterion.h>
#include <string.h>

#include "cpu/msr.h"
#include "harness.h"

enum { RW, RO, WO, FWD };

struct row {
    const char *name;
    uint32_t index, count;
    int access;
    uint64_t reset, writable;
};

/* The same list msr.c dispatches on; storage and hook columns are not needed here. */
static const struct row rows[] = {
#define X(name, idx, cnt, acc, st, rst, wr, hk) {#name, idx, cnt, acc, rst, wr},
#include "cpu/msrs.def"
#undef X
};

static void boot64(struct th *t)
{
    th_init(t);
    th_mode64(t);
    th_idt64(t);
}

/* Rows whose value moves by itself (the TSC) are not compared with their reset value. */
static bool volatile_row(const struct row *r) { return r->index == 0x10; }

Test(cpu_msr, every_row_reads_its_reset_value)
{
    struct th t;
    th_init(&t);
    for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
        const struct row *r = &rows[k];
        for (uint32_t s = 0; s < r->count && s < 0x100; s++) {
            uint64_t v = 0xdead;
            int rc = msr_read(t.vp, r->index + s, &v);
            int want = r->access == FWD ? MSR_EXIT : r->access == WO ? MSR_GP : MSR_OK;
            cr_expect_eq(rc, want, "%s+%u: rdmsr rc %d", r->name, s, rc);
            if (rc == MSR_OK && !volatile_row(r))
                cr_expect_eq(v, r->reset, "%s+%u: reset %#llx, want %#llx", r->name, s,
                             (unsigned long long)v, (unsigned long long)r->reset);
        }
    }
    th_fini(&t);
}

Test(cpu_msr, names_from_the_table)
{
    cr_expect_str_eq(msr_name(0xc0000080), "IA32_EFER");
    cr_expect_str_eq(msr_name(0x26b), "IA32_MTRR_FIX4K_C0000", "a row covering several indexes");
    cr_expect_str_eq(msr_name(0x40000001), "HV_SYNTHETIC");
    cr_expect_null(msr_name(0x12345678));
}

/* Setting any bit outside a row's writable mask is #GP(0) and leaves the MSR unchanged; a
 * read-only row refuses every write. */
Test(cpu_msr, reserved_bits_and_read_only_rows_gp)
{
    struct th t;
    boot64(&t);
    for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
        const struct row *r = &rows[k];
        if (r->access == FWD || r->access == WO || volatile_row(r))
            continue;
        for (uint32_t s = 0; s < r->count; s++) {
            uint64_t before;
            cr_assert_eq(msr_read(t.vp, r->index + s, &before), MSR_OK, "%s", r->name);
            for (unsigned b = 0; b < 64; b++) {
                uint64_t bit = 1ull << b;
                if (r->access == RW && (r->writable & bit))
                    continue;
                cr_expect_eq(msr_write(t.vp, r->index + s, before | bit), MSR_GP,
                             "%s+%u: bit %u accepted", r->name, s, b);
            }
            if (r->access == RO)
                cr_expect_eq(msr_write(t.vp, r->index + s, before), MSR_GP, "%s: RO written", r->name);
            uint64_t after;
            msr_read(t.vp, r->index + s, &after);
            cr_expect_eq(after, before, "%s+%u changed by refused writes", r->name, s);
        }
    }
    th_fini(&t);
}

/* Indexes that are not in the table: #GP in the CPU, never an exit. */
Test(cpu_msr, unknown_indexes_gp)
{
    static const uint32_t unknown[] = {
        0x0,   0x4a, 0x140 /* MISC_FEATURE_ENABLES */, 0x34, 0x64e, 0x17b /* MCG_CTL: no CTL_P */,
        0x408 /* MC2_CTL: two banks */, 0x900, 0x3fffffff, 0x50000000, 0xc0000085, 0xc0000104,
        0xc0011029, 0xffffffff,
    };
    struct th t;
    boot64(&t);
    for (size_t k = 0; k < ARRAY_SIZE(unknown); k++) {
        uint64_t v;
        cr_expect_eq(msr_read(t.vp, unknown[k], &v), MSR_GP, "rdmsr %#x", unknown[k]);
        cr_expect_eq(msr_write(t.vp, unknown[k], 0), MSR_GP, "wrmsr %#x", unknown[k]);
    }
    th_fini(&t);
}

/* The rules beyond a mask: one write each, its result, and the value read back. */
struct wcase {
    const char *name;
    bool paging;      /* 64-bit mode with paging (else 32-bit protected mode, paging off) */
    uint32_t index;
    uint64_t value;
    int rc;
    uint64_t readback; /* when rc == MSR_OK */
};

#define NONCANON 0x0000800000000000ull
#define CANON_HI 0xffff800000000000ull

static const struct wcase wcases[] = {
    {"efer_lme_sce_nxe_paging_off", false, 0xc0000080, 0x901, MSR_OK, 0x901},
    {"efer_lma_is_read_only", false, 0xc0000080, 0x400, MSR_OK, 0},
    {"efer_lme_change_paging_on_gp", true, 0xc0000080, 0x400, MSR_GP, 0},
    {"efer_nxe_paging_on_ok", true, 0xc0000080, 0xd01, MSR_OK, 0xd01},
    {"efer_bit1_reserved_gp", false, 0xc0000080, 0x2, MSR_GP, 0},
    {"star_all_bits", true, 0xc0000081, ~0ull, MSR_OK, ~0ull},
    {"lstar_noncanonical_gp", true, 0xc0000082, NONCANON, MSR_GP, 0},
    {"lstar_canonical_high", true, 0xc0000082, CANON_HI, MSR_OK, CANON_HI},
    {"cstar_noncanonical_gp", true, 0xc0000083, NONCANON, MSR_GP, 0},
    {"sfmask_low_32", true, 0xc0000084, 0xffffffff, MSR_OK, 0xffffffff},
    {"sfmask_bit32_gp", true, 0xc0000084, 1ull << 32, MSR_GP, 0},
    {"fs_base_noncanonical_gp", true, 0xc0000100, NONCANON, MSR_GP, 0},
    {"fs_base_canonical", true, 0xc0000100, CANON_HI | 0x10, MSR_OK, CANON_HI | 0x10},
    {"gs_base_noncanonical_gp", true, 0xc0000101, NONCANON, MSR_GP, 0},
    {"gs_base_canonical", true, 0xc0000101, 0x12345000, MSR_OK, 0x12345000},
    {"kernel_gs_base_noncanonical_gp", true, 0xc0000102, NONCANON, MSR_GP, 0},
    {"kernel_gs_base_canonical", true, 0xc0000102, CANON_HI, MSR_OK, CANON_HI},
    {"tsc_aux_low_32", true, 0xc0000103, 0xfedcba98, MSR_OK, 0xfedcba98},
    {"tsc_aux_bit32_gp", true, 0xc0000103, 1ull << 32, MSR_GP, 0},
    {"sysenter_cs_all_bits", true, 0x174, ~0ull, MSR_OK, ~0ull},
    {"sysenter_esp_noncanonical_gp", true, 0x175, NONCANON, MSR_GP, 0},
    {"sysenter_eip_noncanonical_gp", true, 0x176, NONCANON, MSR_GP, 0},
    {"sysenter_eip_canonical", true, 0x176, CANON_HI, MSR_OK, CANON_HI},
    {"pat_all_types", true, 0x277, 0x0007060504010007ull, MSR_OK, 0x0007060504010007ull},
    {"pat_type2_gp", true, 0x277, 0x0000000000000200ull, MSR_GP, 0},
    {"pat_type3_gp", true, 0x277, 0x0003000000000000ull, MSR_GP, 0},
    {"pat_type8_gp", true, 0x277, 0x0800000000000000ull, MSR_GP, 0},
    {"pat_type_ff_gp", true, 0x277, 0x00000000000000ffull, MSR_GP, 0},
    {"mtrr_def_type_wb_enabled", true, 0x2ff, 0xc06, MSR_OK, 0xc06},
    {"mtrr_def_type_uc_minus_gp", true, 0x2ff, 0x807, MSR_GP, 0},
    {"mtrr_def_type_type2_gp", true, 0x2ff, 0x802, MSR_GP, 0},
    {"mtrr_def_type_bit9_gp", true, 0x2ff, 0x200, MSR_GP, 0},
    {"mtrr_fix64k_types", true, 0x250, 0x0606050504040100ull, MSR_OK, 0x0606050504040100ull},
    {"mtrr_fix16k_type7_gp", true, 0x259, 0x0700000000000000ull, MSR_GP, 0},
    {"mtrr_fix4k_type3_gp", true, 0x26f, 0x03, MSR_GP, 0},
    {"mtrr_physbase_wb", true, 0x200, 0xfffffff006ull, MSR_OK, 0xfffffff006ull},
    {"mtrr_physbase_type7_gp", true, 0x202, 0x7, MSR_GP, 0},
    {"mtrr_physbase_bit8_gp", true, 0x20e, 0x106, MSR_GP, 0},
    {"mtrr_physbase_above_maxphyaddr_gp", true, 0x200, 1ull << 40, MSR_GP, 0},
    {"mtrr_physmask_valid", true, 0x201, 0xfffffff800ull, MSR_OK, 0xfffffff800ull},
    {"mtrr_physmask_bit0_gp", true, 0x20f, 0x801, MSR_GP, 0},
    {"mtrr_physmask_above_maxphyaddr_gp", true, 0x201, (1ull << 40) | 0x800, MSR_GP, 0},
    {"misc_enable_tcc", true, 0x1a0, 0x41808, MSR_OK, 0x41808},
    {"misc_enable_clear_fast_strings", true, 0x1a0, 0x41800, MSR_OK, 0x41800},
    {"misc_enable_clear_bts_unavailable_gp", true, 0x1a0, 0x41001, MSR_GP, 0},
    {"misc_enable_clear_monitor_fsm_gp", true, 0x1a0, 0x1801, MSR_GP, 0},
    {"misc_enable_xd_disable_gp", true, 0x1a0, 0x41801 | 1ull << 34, MSR_GP, 0},
    {"mcg_status_ripv_eipv_mcip", true, 0x17a, 7, MSR_OK, 7},
    {"mcg_status_bit3_gp", true, 0x17a, 8, MSR_GP, 0},
    {"mc0_ctl_all_ones", true, 0x400, ~0ull, MSR_OK, ~0ull},
    {"mc1_ctl_partial_gp", true, 0x404, 0xff, MSR_GP, 0},
    {"mc0_status_zero", true, 0x401, 0, MSR_OK, 0},
    {"mc1_status_nonzero_gp", true, 0x405, 1ull << 63, MSR_GP, 0},
    {"mc0_addr_any", true, 0x402, 0x123456789abcull, MSR_OK, 0x123456789abcull},
    {"mc1_misc_any", true, 0x407, 0x86, MSR_OK, 0x86},
    {"spec_ctrl_ibrs_stibp_ssbd", true, 0x48, 7, MSR_OK, 7},
    {"spec_ctrl_bit3_gp", true, 0x48, 8, MSR_GP, 0},
    {"pred_cmd_ibpb", true, 0x49, 1, MSR_OK, 0},
    {"pred_cmd_bit1_gp", true, 0x49, 2, MSR_GP, 0},
    {"debugctl_zero", true, 0x1d9, 0, MSR_OK, 0},
    {"debugctl_btf_gp", true, 0x1d9, 2, MSR_GP, 0},
    {"xss_nonzero_gp", true, 0xda0, 1, MSR_GP, 0},
    {"bios_sign_id_write_then_revision", true, 0x8b, 0, MSR_OK, MSR_UCODE_REV << 32},
    {"bios_updt_trig_write_ignored", true, 0x79, 0x100000, MSR_OK, 0},
    {"feature_control_write_gp", true, 0x3a, 1, MSR_GP, 0},
    {"mtrrcap_write_gp", true, 0xfe, MSR_MTRRCAP_VALUE, MSR_GP, 0},
    {"arch_capabilities_write_gp", true, 0x10a, 0, MSR_GP, 0},
    {"platform_info_write_gp", true, 0xce, MSR_PLATFORM_INFO_VALUE, MSR_GP, 0},
    {"mcg_cap_write_gp", true, 0x179, 0, MSR_GP, 0},
    {"apic_base_forwarded", true, 0x1b, 0xfee00900, MSR_EXIT, 0},
    {"tsc_deadline_forwarded", true, 0x6e0, 1, MSR_EXIT, 0},
    {"x2apic_eoi_forwarded", true, 0x80b, 0, MSR_EXIT, 0},
    {"hv_guest_os_id_forwarded", true, 0x40000000, 1, MSR_EXIT, 0},
};

Test(cpu_msr, write_rules)
{
    for (size_t k = 0; k < ARRAY_SIZE(wcases); k++) {
        const struct wcase *c = &wcases[k];
        struct th t;
        th_init(&t);
        if (c->paging)
            th_mode64(&t);
        else
            th_mode32(&t);
        uint64_t before = 0;
        bool readable = msr_read(t.vp, c->index, &before) == MSR_OK;
        int rc = msr_write(t.vp, c->index, c->value);
        cr_expect_eq(rc, c->rc, "%s: rc %d, want %d", c->name, rc, c->rc);
        uint64_t v = 0;
        if (readable) {
            cr_assert_eq(msr_read(t.vp, c->index, &v), MSR_OK, "%s: read back", c->name);
            uint64_t want = c->rc == MSR_OK ? c->readback : before;
            cr_expect_eq(v, want, "%s: read %#llx, want %#llx", c->name, (unsigned long long)v,
                         (unsigned long long)want);
        }
        th_fini(&t);
    }
}

Test(cpu_msr, fs_gs_base_write_moves_the_segment_base)
{
    struct th t;
    boot64(&t);
    cr_assert_eq(msr_write(t.vp, 0xc0000100, 0x1000), MSR_OK);
    cr_assert_eq(msr_write(t.vp, 0xc0000101, 0x2000), MSR_OK);
    struct seg fs, gs;
    cpu_get_seg(t.vp, SEG_FS, &fs);
    cpu_get_seg(t.vp, SEG_GS, &gs);
    cr_expect_eq(fs.base, 0x1000);
    cr_expect_eq(gs.base, 0x2000);
    th_fini(&t);
}

/* WRMSR TSC sets the counter; it then advances with retired instructions. */
Test(cpu_msr, tsc_write_then_count)
{
    struct th t;
    boot64(&t);
    uint64_t v;
    cr_assert_eq(msr_write(t.vp, 0x10, 1000000), MSR_OK);
    cr_assert_eq(msr_read(t.vp, 0x10, &v), MSR_OK);
    cr_expect_eq(v, 1000000);
    /* rdtsc; hlt after five NOPs: five more retired instructions. */
    static const uint8_t code[] = {0x90, 0x90, 0x90, 0x90, 0x90, 0x0f, 0x31, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    uint64_t tsc = (cpu_get_gpr(t.vp, REG_RDX) << 32) | (uint32_t)cpu_get_gpr(t.vp, REG_RAX);
    cr_expect_eq(tsc, 1000005, "tsc %llu", (unsigned long long)tsc);
    th_fini(&t);
}

/* TSC and TSC_ADJUST move together (SDM Vol 3 17.17.3). */
Test(cpu_msr, tsc_adjust_tracks_tsc_writes)
{
    struct th t;
    boot64(&t);
    uint64_t tsc, adj;
    msr_read(t.vp, 0x10, &tsc);
    cr_assert_eq(msr_write(t.vp, 0x10, tsc + 5000), MSR_OK);
    cr_assert_eq(msr_read(t.vp, 0x3b, &adj), MSR_OK);
    cr_expect_eq(adj, 5000, "TSC write moved TSC_ADJUST by %lld", (long long)adj);
    cr_assert_eq(msr_write(t.vp, 0x3b, 5000 - 2000), MSR_OK);
    msr_read(t.vp, 0x10, &tsc);
    cr_expect_eq(tsc, 5000 - 2000 + cpu_icount(t.vp), "TSC_ADJUST write moved the TSC");
    cr_assert_eq(msr_write(t.vp, 0x3b, (uint64_t)-100), MSR_OK);
    msr_read(t.vp, 0x10, &tsc);
    cr_expect_eq(tsc, cpu_icount(t.vp) - 100);
    th_fini(&t);
}

/* Through the instructions: a table #GP is delivered as #GP(0) without an exit; FWD rows
 * leave as exits. */
struct icase {
    const char *name;
    bool write;
    uint32_t index;
    int vector;        /* -1: completed */
    unsigned exits;    /* MSR exits seen */
};

static const struct icase icases[] = {
    {"rdmsr_unknown_gp_no_exit", false, 0x4a, 13, 0},
    {"wrmsr_unknown_gp_no_exit", true, 0x17b, 13, 0},
    {"wrmsr_reserved_bit_gp", true, 0xc0000084, 13, 0},
    {"rdmsr_write_only_gp", false, 0x49, 13, 0},
    {"rdmsr_star_in_cpu", false, 0xc0000081, -1, 0},
    {"rdmsr_apic_base_exits", false, 0x1b, -1, 1},
    {"wrmsr_tsc_deadline_exits", true, 0x6e0, -1, 1},
    {"rdmsr_hv_range_exits", false, 0x40000001, -1, 1},
};

Test(cpu_msr, instructions)
{
    for (size_t k = 0; k < ARRAY_SIZE(icases); k++) {
        const struct icase *c = &icases[k];
        struct th t;
        boot64(&t);
        /* wrmsr or rdmsr; mov ebx, 1; hlt  (RDX:RAX = 1 << 32 | 0: a reserved bit of SFMASK) */
        uint8_t code[] = {0x0f, c->write ? 0x30 : 0x32, 0xbb, 1, 0, 0, 0, 0xf4};
        cpu_set_gpr(t.vp, REG_RCX, c->index);
        cpu_set_gpr(t.vp, REG_RDX, 1);
        cpu_set_gpr(t.vp, REG_RAX, 0);
        th_load(&t, TH_CODE, code, sizeof(code));
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", c->name);
        cr_expect_eq(th_vector(&t), c->vector, "%s: vector %d", c->name, th_vector(&t));
        cr_expect_eq(t.reasons[EXIT_REASON_MSR_READ] + t.reasons[EXIT_REASON_MSR_WRITE], c->exits,
                     "%s: exits", c->name);
        if (c->vector >= 0)
            cr_expect_eq(th_rd(&t, cpu_get_gpr(t.vp, REG_RSP), 8), 0, "%s: error code", c->name);
        else
            cr_expect_eq(cpu_get_gpr(t.vp, REG_RBX), 1, "%s: did not complete", c->name);
        th_fini(&t);
    }
}

/* CPUID advertises exactly the MSR-backed features the table implements. */
Test(cpu_msr, cpuid_consistent_with_table)
{
    struct th t;
    th_init(&t);
    uint32_t r[4];
    cpu_cpuid_default(t.vp, 7, 0, r);
    cr_expect(r[3] & (1u << 29), "ARCH_CAPABILITIES advertised");
    cr_expect_eq(r[3] & (1u << 26 | 1u << 27 | 1u << 31), 1u << 26 | 1u << 27 | 1u << 31,
                 "IBRS/IBPB, STIBP, SSBD (IA32_SPEC_CTRL, IA32_PRED_CMD)");
    cr_expect(r[1] & (1u << 1), "IA32_TSC_ADJUST");
    cr_expect(r[2] & (1u << 2), "UMIP");
    cpu_cpuid_default(t.vp, 1, 0, r);
    cr_expect(r[3] & (1u << 7) && r[3] & (1u << 14), "MCE and MCA (IA32_MCG_CAP)");
    cr_expect(r[3] & (1u << 12) && r[3] & (1u << 16), "MTRR and PAT");
    cr_expect(r[2] & (1u << 3), "MONITOR/MWAIT");
    cpu_cpuid_default(t.vp, 5, 0, r);
    cr_expect(r[0] == 64 && r[1] == 64 && r[2] == 3 && r[3] == 0,
              "leaf 5: 64-byte line, extensions + interrupt break event, no C-state sub-states");
    th_fini(&t);
}
