/* Every row of the architectural MSR table (src/cpu/msrs.def) from inside a guest: the value
 * after reset, what a write may set, #GP for each reserved bit and read-only row, the rules
 * beyond a mask (canonical addresses, memory types, EFER), and #GP for unknown indexes. */
#include "guest.h"

enum { RW, RO, WO };

struct row {
    const char *name;
    uint32_t index;
    int access;
    bool check_reset; /* rows the loader or guest library do not write before main */
    uint64_t reset;
    uint64_t writable;
    uint64_t sample; /* a valid value with every writable bit the rules allow; written, read back */
};

#define ALL (~0ull)
#define PHYS 0xfffffff000ull /* MAXPHYADDR 40 */

static const struct row rows[] = {
    {"platform_id", 0x17, RO, true, 0, 0, 0},
    {"feature_control", 0x3a, RO, true, 1, 0, 0},
    {"bios_updt_trig", 0x79, WO, false, 0, ALL, 0},
    {"bios_sign_id", 0x8b, RW, true, 1ull << 32, ALL, 0},
    {"platform_info", 0xce, RO, true, 10ull << 8 | 10ull << 40, 0, 0},
    {"mtrrcap", 0xfe, RO, true, 0x508, 0, 0},
    {"tsc_adjust", 0x3b, RW, true, 0, ALL, 0},
    {"spec_ctrl", 0x48, RW, true, 0, 7, 7},
    {"pred_cmd", 0x49, WO, false, 0, 1, 0},
    {"arch_capabilities", 0x10a, RO, true, 0x16b, 0, 0},
    {"sysenter_cs", 0x174, RW, true, 0, ALL, ALL},
    {"sysenter_esp", 0x175, RW, true, 0, ALL, 0xffff800000001000ull},
    {"sysenter_eip", 0x176, RW, true, 0, ALL, 0x00007ffffffff000ull},
    {"mcg_cap", 0x179, RO, true, 2, 0, 0},
    {"mcg_status", 0x17a, RW, true, 0, 7, 0},
    {"mc0_ctl", 0x400, RW, true, 0, ALL, ALL},
    {"mc0_status", 0x401, RW, true, 0, ALL, 0},
    {"mc0_addr", 0x402, RW, true, 0, ALL, 0x1000},
    {"mc0_misc", 0x403, RW, true, 0, ALL, 0x86},
    {"mc1_ctl", 0x404, RW, true, 0, ALL, ALL},
    {"mc1_status", 0x405, RW, true, 0, ALL, 0},
    {"mc1_addr", 0x406, RW, true, 0, ALL, ALL},
    {"mc1_misc", 0x407, RW, true, 0, ALL, 0},
    {"misc_enable", 0x1a0, RW, true, 0x41801, 0x41809, 0x41809},
    {"debugctl", 0x1d9, RW, true, 0, 0, 0},
    {"mtrr_physbase0", 0x200, RW, true, 0, PHYS | 0xff, PHYS | 6},
    {"mtrr_physmask0", 0x201, RW, true, 0, PHYS | 0x800, PHYS | 0x800},
    {"mtrr_physbase7", 0x20e, RW, true, 0, PHYS | 0xff, 0x1000 | 1},
    {"mtrr_physmask7", 0x20f, RW, true, 0, PHYS | 0x800, 0x800},
    {"mtrr_fix64k_00000", 0x250, RW, true, 0, ALL, 0x0606050504040100ull},
    {"mtrr_fix16k_80000", 0x258, RW, true, 0, ALL, 0x0606060606060606ull},
    {"mtrr_fix16k_a0000", 0x259, RW, true, 0, ALL, 0x0101010100000000ull},
    {"mtrr_fix4k_c0000", 0x268, RW, true, 0, ALL, 0x0505050505050505ull},
    {"mtrr_fix4k_f8000", 0x26f, RW, true, 0, ALL, 0x0404040404040404ull},
    {"pat", 0x277, RW, true, 0x0007040600070406ull, ALL, 0x0007060504010007ull},
    {"mtrr_def_type", 0x2ff, RW, true, 0, 0xcff, 0xc06},
    {"xss", 0xda0, RW, true, 0, 0, 0},
    {"star", 0xc0000081, RW, true, 0, ALL, ALL},
    {"lstar", 0xc0000082, RW, true, 0, ALL, 0xffffffff81000000ull},
    {"cstar", 0xc0000083, RW, true, 0, ALL, 0xffffffff82000000ull},
    {"fmask", 0xc0000084, RW, true, 0, 0xffffffff, 0xffffffff},
    {"kernel_gs_base", 0xc0000102, RW, true, 0, ALL, 0xffff888000000000ull},
    {"tsc_aux", 0xc0000103, RW, true, 0, 0xffffffff, 0xfedcba98},
};

/* The first bit outside `writable` that a write accepts, or 64. */
static unsigned first_accepted_reserved_bit(const struct row *r, uint64_t base)
{
    for (unsigned b = 0; b < 64; b++) {
        uint64_t bit = 1ull << b;
        if (r->access == RW && (r->writable & bit))
            continue;
        if (wrmsr_safe(r->index, base | bit))
            return b;
    }
    return 64;
}

static void check_row(const struct row *r)
{
    char name[64];
    uint64_t v = 0;
    bool rd = rdmsr_safe(r->index, &v);
    snprintf(name, sizeof(name), "msr.%s.read", r->name);
    check(name, rd == (r->access != WO), "rdmsr 0x%x ok=%d", r->index, rd);
    if (r->access == WO) {
        snprintf(name, sizeof(name), "msr.%s.write_accepted", r->name);
        CHECK(name, wrmsr_safe(r->index, 0));
        return;
    }
    if (r->check_reset) {
        snprintf(name, sizeof(name), "msr.%s.reset", r->name);
        CHECK_EQ(name, v, r->reset);
    }
    unsigned b = first_accepted_reserved_bit(r, v);
    snprintf(name, sizeof(name), "msr.%s.reserved_bits_gp", r->name);
    check(name, b == 64, "wrmsr 0x%x accepted reserved bit %u", r->index, b);
    if (r->access == RO) {
        snprintf(name, sizeof(name), "msr.%s.read_only_gp", r->name);
        CHECK(name, !wrmsr_safe(r->index, v));
        return;
    }
    snprintf(name, sizeof(name), "msr.%s.write_read_back", r->name);
    uint64_t back = ~0ull;
    bool ok = wrmsr_safe(r->index, r->sample) && rdmsr_safe(r->index, &back);
    uint64_t want = r->index == 0x8b ? 1ull << 32 : r->sample; /* the signature is fixed */
    check(name, ok && back == want, "wrmsr 0x%x 0x%llx ok=%d read 0x%llx", r->index,
          (unsigned long long)r->sample, ok, (unsigned long long)back);
    wrmsr_safe(r->index, v);
}

struct rule {
    const char *name;
    uint32_t index;
    uint64_t value;
    bool ok;
};

#define NONCANON 0x0000800000000000ull

static const struct rule rules[] = {
    {"msr.lstar.noncanonical_gp", 0xc0000082, NONCANON, false},
    {"msr.cstar.noncanonical_gp", 0xc0000083, NONCANON, false},
    {"msr.sysenter_esp.noncanonical_gp", 0x175, NONCANON, false},
    {"msr.sysenter_eip.noncanonical_gp", 0x176, 0x8000000000000000ull, false},
    {"msr.kernel_gs_base.noncanonical_gp", 0xc0000102, NONCANON, false},
    {"msr.fs_base.noncanonical_gp", 0xc0000100, NONCANON, false},
    {"msr.gs_base.noncanonical_gp", 0xc0000101, 0x00ff000000000000ull, false},
    {"msr.pat.type2_gp", 0x277, 0x0007040600070402ull, false},
    {"msr.pat.type3_gp", 0x277, 0x0007040603070406ull, false},
    {"msr.pat.type8_gp", 0x277, 0x0807040600070406ull, false},
    {"msr.mtrr_def_type.uc_minus_gp", 0x2ff, 0x7, false},
    {"msr.mtrr_def_type.type2_gp", 0x2ff, 0x2, false},
    {"msr.mtrr_fix64k.type7_gp", 0x250, 0x0700, false},
    {"msr.mtrr_fix4k.type3_gp", 0x26c, 0x0300000000000000ull, false},
    {"msr.mtrr_physbase.type7_gp", 0x204, 0x7, false},
    {"msr.mtrr_physbase.bit11_gp", 0x204, 0x806, false},
    {"msr.mtrr_physbase.above_maxphyaddr_gp", 0x204, 1ull << 40 | 6, false},
    {"msr.mtrr_physmask.bit10_gp", 0x205, 0xc00, false},
    {"msr.mtrr_physmask.above_maxphyaddr_gp", 0x205, 1ull << 45 | 0x800, false},
    {"msr.misc_enable.clear_pebs_unavailable_gp", 0x1a0, 0x40801, false},
    {"msr.misc_enable.clear_monitor_fsm_gp", 0x1a0, 0x1801, false},
    {"msr.mcg_status.bit3_gp", 0x17a, 8, false},
    {"msr.mc0_ctl.partial_gp", 0x400, 0xffff, false},
    {"msr.mc1_status.nonzero_gp", 0x405, 1ull << 63, false},
    {"msr.spec_ctrl.bit3_gp", 0x48, 8, false},
    {"msr.pred_cmd.bit1_gp", 0x49, 2, false},
    {"msr.debugctl.lbr_gp", 0x1d9, 1, false},
    {"msr.xss.nonzero_gp", 0xda0, 1, false},
    {"msr.apic_base.reserved_bit9_gp", 0x1b, 0xfee00b00, false},
};

static const uint32_t unknown[] = {0x0, 0x4a, 0x140, 0x408, 0x17b, 0x900, 0xc0000085,
                                   0xc0011029, 0x3fffffff, 0x50000000, 0xffffffff};

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("sys_msr\n");
    for (unsigned k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
        check_row(&rows[k]);

    for (unsigned k = 0; k < sizeof(rules) / sizeof(rules[0]); k++) {
        uint64_t old = 0;
        rdmsr_safe(rules[k].index, &old);
        bool ok = wrmsr_safe(rules[k].index, rules[k].value);
        check(rules[k].name, ok == rules[k].ok, "wrmsr 0x%x 0x%llx ok=%d", rules[k].index,
              (unsigned long long)rules[k].value, ok);
        if (ok)
            wrmsr_safe(rules[k].index, old);
    }

    /* EFER: long mode is active; LME cannot change while paging is on; LMA is read-only. */
    uint64_t efer = rdmsr(0xc0000080);
    CHECK("msr.efer.lma_lme_set", (efer & 0x500) == 0x500);
    CHECK("msr.efer.rewrite_ok", wrmsr_safe(0xc0000080, efer));
    CHECK("msr.efer.clear_lme_paging_gp", !wrmsr_safe(0xc0000080, efer & ~0x100ull));
    CHECK("msr.efer.clear_lma_ignored", wrmsr_safe(0xc0000080, efer & ~0x400ull) && rdmsr(0xc0000080) == efer);
    CHECK("msr.efer.reserved_bit1_gp", !wrmsr_safe(0xc0000080, efer | 2));
    CHECK("msr.efer.reserved_bit12_gp", !wrmsr_safe(0xc0000080, efer | 1ull << 12));
    CHECK("msr.efer.sce_toggle", wrmsr_safe(0xc0000080, efer ^ 1) && rdmsr(0xc0000080) == (efer ^ 1) &&
                                     wrmsr_safe(0xc0000080, efer));

    /* FS/GS base are the segment bases. */
    uint64_t fs = rdmsr(0xc0000100);
    static volatile uint64_t cell = 0x5151;
    wrmsr(0xc0000100, (uint64_t)(uintptr_t)&cell);
    uint64_t got;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(got));
    CHECK_EQ("msr.fs_base.addresses_fs", got, 0x5151);
    wrmsr(0xc0000100, fs);
    uint64_t gs = rdmsr(0xc0000101);
    wrmsr(0xc0000101, (uint64_t)(uintptr_t)&cell - 8);
    __asm__ volatile("movq %%gs:8, %0" : "=r"(got));
    CHECK_EQ("msr.gs_base.addresses_gs", got, 0x5151);
    wrmsr(0xc0000101, gs);

    /* TSC: a write sets it; it keeps counting from there; TSC_ADJUST moved by the same delta,
     * and a TSC_ADJUST write moves the TSC back. */
    uint64_t a0 = rdmsr(0x3b);
    uint64_t t0 = rdtsc() + 1000000000ull;
    CHECK("msr.tsc.write", wrmsr_safe(0x10, t0));
    uint64_t t1 = rdmsr(0x10), t2 = rdtsc();
    check("msr.tsc.counts_from_written", t1 >= t0 && t1 - t0 < 100000 && t2 >= t1,
          "t0 %llu t1 %llu t2 %llu", (unsigned long long)t0, (unsigned long long)t1, (unsigned long long)t2);
    uint64_t a1 = rdmsr(0x3b);
    check("msr.tsc_adjust.follows_tsc_write", a1 - a0 >= 1000000000ull - 100000 && a1 - a0 <= 1000000000ull,
          "delta %lld", (long long)(a1 - a0));
    wrmsr(0x3b, a0);
    uint64_t t3 = rdtsc();
    check("msr.tsc_adjust.write_moves_tsc", t3 < t2 && t2 - t3 > 1000000000ull - 100000,
          "t2 %llu t3 %llu", (unsigned long long)t2, (unsigned long long)t3);

    /* TSC_AUX is what RDTSCP returns in ECX. */
    wrmsr(0xc0000103, 0x1234);
    uint32_t aux;
    __asm__ volatile("rdtscp" : "=c"(aux) : : "rax", "rdx");
    CHECK_EQ("msr.tsc_aux.rdtscp", aux, 0x1234);
    wrmsr(0xc0000103, 0);

    /* Forwarded to the LAPIC: APIC_BASE (BSP, enabled) and TSC_DEADLINE. */
    uint64_t apic = 0;
    CHECK("msr.apic_base.read", rdmsr_safe(0x1b, &apic) && (apic & 0xfffff900) == 0xfee00900);
    uint64_t dl = 1;
    CHECK("msr.tsc_deadline.read", rdmsr_safe(0x6e0, &dl) && dl == 0);

    /* CPUID advertises what the table implements. */
    struct cpuid_regs c7 = cpuid(7, 0), c1 = cpuid(1, 0);
    CHECK("cpuid.arch_capabilities", c7.edx & (1u << 29));
    CHECK("cpuid.spec_ctrl_ibrs_stibp_ssbd", (c7.edx & (1u << 26 | 1u << 27 | 1u << 31)) == (1u << 26 | 1u << 27 | 1u << 31));
    CHECK("cpuid.tsc_adjust", c7.ebx & (1u << 1));
    CHECK("cpuid.mce_mca_mtrr_pat", (c1.edx & (1u << 7 | 1u << 14 | 1u << 12 | 1u << 16)) ==
                                        (1u << 7 | 1u << 14 | 1u << 12 | 1u << 16));

    for (unsigned k = 0; k < sizeof(unknown) / sizeof(unknown[0]); k++) {
        char name[48];
        uint64_t v;
        bool r = rdmsr_safe(unknown[k], &v);
        bool w = wrmsr_safe(unknown[k], 0);
        snprintf(name, sizeof(name), "msr.unknown_0x%x_gp", unknown[k]);
        check(name, !r && !w && trap_last.vector == 13 && trap_last.error_code == 0,
              "rdmsr ok=%d wrmsr ok=%d vector %llu", r, w, (unsigned long long)trap_last.vector);
    }
    test_finish();
}
