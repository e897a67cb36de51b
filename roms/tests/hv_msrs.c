/* Hyper-V conformance, synthetic MSRs (TLFS v6.0b 2.4.4, 3.13, 10.2.3, 11.8, 12.4-12.5, REFERENCE.md
 * 3, 7, 11, 12): VP_INDEX, every MSR's reset value, read-only/write-only #GPs, the SINT vector rule,
 * the crash parameter MSRs (not the crash itself: hv_crash.c), the APIC MSRs and GUEST_IDLE. */
#include "guest.h"

#define MSR_GUEST_OS_ID    0x40000000
#define MSR_HYPERCALL      0x40000001
#define MSR_VP_INDEX       0x40000002
#define MSR_RESET          0x40000003
#define MSR_VP_RUNTIME     0x40000010
#define MSR_TIME_REF       0x40000020
#define MSR_REFERENCE_TSC  0x40000021
#define MSR_TSC_FREQUENCY  0x40000022
#define MSR_APIC_FREQUENCY 0x40000023
#define MSR_EOI            0x40000070
#define MSR_ICR            0x40000071
#define MSR_TPR            0x40000072
#define MSR_VP_ASSIST      0x40000073
#define MSR_SCONTROL       0x40000080
#define MSR_SVERSION       0x40000081
#define MSR_SIEFP          0x40000082
#define MSR_SIMP           0x40000083
#define MSR_EOM            0x40000084
#define MSR_SINT0          0x40000090
#define MSR_STIMER0_CONFIG 0x400000B0
#define MSR_GUEST_IDLE     0x400000F0
#define MSR_CRASH_P0       0x40000100
#define MSR_CRASH_CTL      0x40000105
#define MSR_TSC_INVARIANT  0x40000118

#define CRASH_NOTIFY  (1ull << 63)
#define CRASH_MESSAGE (1ull << 62)

static struct cpuid_regs feat;

static bool eax(unsigned bit) { return (feat.eax >> bit) & 1; }
static bool edx(unsigned bit) { return (feat.edx >> bit) & 1; }

static uint8_t assist_page[4096] __attribute__((aligned(4096)));

struct reset_case {
    uint32_t msr;
    uint64_t want;
    bool present;
    const char *name;
};

static void check_reset_values(void)
{
    struct reset_case cases[64];
    unsigned n = 0;
#define RC(m, w, p, nm) cases[n++] = (struct reset_case){m, w, p, nm}
    RC(MSR_GUEST_OS_ID, 0, eax(5), "GUEST_OS_ID");
    RC(MSR_HYPERCALL, 0, eax(5), "HYPERCALL");
    RC(MSR_RESET, 0, eax(7), "RESET");
    RC(MSR_REFERENCE_TSC, 0, eax(9), "REFERENCE_TSC");
    RC(MSR_TPR, 0, eax(4), "TPR");
    RC(MSR_VP_ASSIST, 0, eax(4), "VP_ASSIST_PAGE");
    RC(MSR_SCONTROL, 0, eax(2), "SCONTROL");
    RC(MSR_SVERSION, 1, eax(2), "SVERSION");
    RC(MSR_SIEFP, 0, eax(2), "SIEFP");
    RC(MSR_SIMP, 0, eax(2), "SIMP");
    RC(MSR_EOM, 0, eax(2), "EOM");
    static const char *const sint_names[16] = {"SINT0", "SINT1", "SINT2", "SINT3", "SINT4", "SINT5",
                                               "SINT6", "SINT7", "SINT8", "SINT9", "SINT10", "SINT11",
                                               "SINT12", "SINT13", "SINT14", "SINT15"};
    for (unsigned i = 0; i < 16; i++)
        RC(MSR_SINT0 + i, 0x10000, eax(2), sint_names[i]);
    static const char *const st_names[8] = {"STIMER0_CONFIG", "STIMER0_COUNT", "STIMER1_CONFIG",
                                            "STIMER1_COUNT", "STIMER2_CONFIG", "STIMER2_COUNT",
                                            "STIMER3_CONFIG", "STIMER3_COUNT"};
    for (unsigned i = 0; i < 8; i++)
        RC(MSR_STIMER0_CONFIG + i, 0, eax(3), st_names[i]);
    static const char *const crash_names[5] = {"CRASH_P0", "CRASH_P1", "CRASH_P2", "CRASH_P3",
                                               "CRASH_P4"};
    for (unsigned i = 0; i < 5; i++)
        RC(MSR_CRASH_P0 + i, 0, edx(10), crash_names[i]);
    RC(MSR_TSC_INVARIANT, 0, eax(15), "TSC_INVARIANT_CONTROL");
#undef RC
    for (unsigned i = 0; i < n; i++) {
        if (!cases[i].present)
            continue;
        char name[64];
        uint64_t v = 0xDEAD;
        bool ok = rdmsr_safe(cases[i].msr, &v);
        snprintf(name, sizeof(name), "reset.%s", cases[i].name);
        /* SVERSION: only bits 31:0 are defined. */
        if (cases[i].msr == MSR_SVERSION)
            v &= 0xFFFFFFFF;
        check(name, ok && v == cases[i].want, "rdmsr 0x%x: %s 0x%llx, want 0x%llx", cases[i].msr,
              ok ? "read" : "#GP", (unsigned long long)v, (unsigned long long)cases[i].want);
    }
}

static void check_access_rules(void)
{
    /* Read-only MSRs: writes #GP (TLFS: VP_INDEX 2.4.x, TIME_REF_COUNT 12.4.1, SVERSION 11.8.2,
     * frequencies and VP_RUNTIME are read-only). */
    static const struct { uint32_t msr; unsigned word, bit; const char *name; } ro[] = {
        {MSR_VP_INDEX, 0, 6, "ro.VP_INDEX_write_gp"},
        {MSR_VP_RUNTIME, 0, 0, "ro.VP_RUNTIME_write_gp"},
        {MSR_TIME_REF, 0, 1, "ro.TIME_REF_COUNT_write_gp"},
        {MSR_TSC_FREQUENCY, 0, 11, "ro.TSC_FREQUENCY_write_gp"},
        {MSR_APIC_FREQUENCY, 0, 11, "ro.APIC_FREQUENCY_write_gp"},
        {MSR_SVERSION, 0, 2, "ro.SVERSION_write_gp"},
    };
    for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
        if (!eax(ro[i].bit))
            continue;
        uint64_t v = 0;
        rdmsr_safe(ro[i].msr, &v);
        check(ro[i].name, !wrmsr_safe(ro[i].msr, v + 1), "wrmsr 0x%x accepted", ro[i].msr);
    }
    /* EOI is write-only: "Attempts to read from this register will result in a #GP" (10.2.3.1). */
    if (eax(4)) {
        uint64_t v;
        CHECK("wo.EOI_read_gp", !rdmsr_safe(MSR_EOI, &v));
    }
    /* VP_INDEX: BSP is VP 0 here, below the maximum VP count (0x40000005.EAX). */
    if (eax(6)) {
        uint64_t vp = rdmsr(MSR_VP_INDEX);
        CHECK_EQ("vp_index.bsp_is_0", vp, 0);
        CHECK("vp_index.below_max_vps", vp < cpuid(0x40000005, 0).eax);
        CHECK_EQ("vp_index.stable", rdmsr(MSR_VP_INDEX), vp);
    }
    /* SINT vectors 0-15 are invalid: #GP (TLFS 11.8.4). 16 is the smallest valid one. */
    if (eax(2)) {
        CHECK("sint.vector_0_unmasked_gp", !wrmsr_safe(MSR_SINT0 + 1, 0));
        CHECK("sint.vector_15_unmasked_gp", !wrmsr_safe(MSR_SINT0 + 1, 15));
        CHECK("sint.vector_16_ok", wrmsr_safe(MSR_SINT0 + 1, 16));
        CHECK_EQ("sint.vector_16_read_back", rdmsr(MSR_SINT0 + 1), 16);
        CHECK("sint.vector_255_ok", wrmsr_safe(MSR_SINT0 + 1, 0x100FF));
        CHECK_EQ("sint.masked_read_back", rdmsr(MSR_SINT0 + 1), 0x100FF);
        wrmsr(MSR_SINT0 + 1, 0x10000);
        /* EOM: writes are a trigger, reads return 0 (11.8.3). */
        CHECK("eom.write_ok", wrmsr_safe(MSR_EOM, 0));
        CHECK_EQ("eom.reads_zero", rdmsr(MSR_EOM), 0);
        /* SCONTROL and SIMP hold what was written. */
        wrmsr(MSR_SCONTROL, 1);
        CHECK_EQ("scontrol.read_back", rdmsr(MSR_SCONTROL), 1);
        wrmsr(MSR_SCONTROL, 0);
    }
    /* Guest OS ID: any value reads back (TLFS 3.13). */
    if (eax(5)) {
        wrmsr(MSR_GUEST_OS_ID, 0x0001040006020000ull); /* proprietary layout: Windows NT 6.2 */
        CHECK_EQ("guest_os_id.proprietary_read_back", rdmsr(MSR_GUEST_OS_ID), 0x0001040006020000ull);
        wrmsr(MSR_GUEST_OS_ID, 0);
    }
}

static void check_crash_msrs(void)
{
    if (!edx(10)) {
        printf("SKIP: crash.* (0x40000003.EDX[10] not set)\n");
        return;
    }
    for (unsigned i = 0; i < 5; i++) {
        char name[48];
        uint64_t v = 0x1111111111111111ull * (i + 1);
        snprintf(name, sizeof(name), "crash.P%u_read_back", i);
        wrmsr(MSR_CRASH_P0 + i, v);
        CHECK_EQ(name, rdmsr(MSR_CRASH_P0 + i), v);
    }
    /* CRASH_CTL reads back the supported actions: CrashNotify at least (REFERENCE 11). */
    uint64_t caps = rdmsr(MSR_CRASH_CTL);
    printf("CRASH_CTL capabilities 0x%llx\n", (unsigned long long)caps);
    CHECK("crash.ctl_capabilities_notify", caps & CRASH_NOTIFY);
    CHECK_EQ("crash.ctl_capabilities_defined_bits_only", caps & ~(0x3Full << 58), 0);
    /* A write without CrashNotify logs nothing and does not stop the guest. */
    CHECK("crash.ctl_write_without_notify", wrmsr_safe(MSR_CRASH_CTL, 0));
    CHECK_EQ("crash.ctl_still_capabilities", rdmsr(MSR_CRASH_CTL), caps);
    for (unsigned i = 0; i < 5; i++)
        wrmsr(MSR_CRASH_P0 + i, 0);
}

/* ---- APIC MSRs and GUEST_IDLE need interrupts. ---- */
#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
static volatile unsigned hits[256];
static volatile bool skip_eoi;

static volatile bool assist_mode;
static volatile unsigned assist_skipped;

static bool on_vector(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector & 0xFF;
    hits[v]++;
    if (assist_mode) {
        uint32_t old = __atomic_exchange_n((uint32_t *)assist_page, 0u, __ATOMIC_SEQ_CST);
        if (old & 1) {
            assist_skipped++;
            return true;
        }
        wrmsr(MSR_EOI, 0);
        return true;
    }
    if (!skip_eoi)
        LAPIC(0xB0) = 0;
    return true;
}

static bool isr_bit(unsigned vector)
{
    return (LAPIC(0x100 + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

static void check_apic_msrs(void)
{
    if (!eax(4)) {
        printf("SKIP: apic_msr.* (0x40000003.EAX[4] not set)\n");
        return;
    }
    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(0x50, on_vector);
    trap_set_handler(0x52, on_vector);
    /* TPR (10.2.3.3): bits 7:0 alias the APIC TPR; CR8 is TPR[7:4]. */
    wrmsr(MSR_TPR, 0x20);
    CHECK_EQ("apic_msr.tpr_read_back", rdmsr(MSR_TPR), 0x20);
    CHECK_EQ("apic_msr.tpr_is_mmio_tpr", LAPIC(0x80) & 0xFF, 0x20);
    uint64_t cr8;
    __asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
    CHECK_EQ("apic_msr.tpr_is_cr8", cr8, 2);
    wrmsr(MSR_TPR, 0);
    /* ICR (10.2.3.2): 63:32 = ICR high, 31:0 = ICR low; a write sends. Self IPI, fixed,
     * physical destination APIC ID 0. REQ: a self-IPI is taken before the next instruction. */
    unsigned h0 = hits[0x50];
    unsigned seen;
    __asm__ volatile("sti\n\twrmsr\n\tmovl %[cnt], %[seen]\n\tcli"
                     : [seen] "=r"(seen)
                     : "c"(MSR_ICR), "a"(0x4050u), "d"(0u), [cnt] "m"(hits[0x50])
                     : "memory");
    check("apic_msr.icr_self_ipi_before_next_instruction", seen == h0 + 1,
          "handler count right after WRMSR: %u, want %u", seen, h0 + 1);
    __asm__ volatile("sti; nop; cli" ::: "memory");
    CHECK_EQ("apic_msr.icr_self_ipi_delivered_once", hits[0x50], h0 + 1);
    uint64_t icr = rdmsr(MSR_ICR);
    CHECK_EQ("apic_msr.icr_read_vector", icr & 0xFF, 0x50);
    CHECK_EQ("apic_msr.icr_read_idle", (icr >> 12) & 1, 0);
    /* EOI (10.2.3.1): a handler that does not EOI leaves the ISR bit; the EOI MSR clears it. */
    skip_eoi = true;
    wrmsr(MSR_ICR, 0x4052);
    __asm__ volatile("sti; nop; cli" ::: "memory");
    skip_eoi = false;
    CHECK_EQ("apic_msr.eoi_test_interrupt_taken", hits[0x52], 1);
    CHECK("apic_msr.isr_set_before_eoi", isr_bit(0x52));
    wrmsr(MSR_EOI, 0);
    CHECK("apic_msr.eoi_msr_clears_isr", !isr_bit(0x52));
    /* VP assist page (7): enable/disable read back. */
    uint64_t gpa = (uint64_t)(uintptr_t)assist_page;
    CHECK("vp_assist.enable", wrmsr_safe(MSR_VP_ASSIST, gpa | 1));
    CHECK_EQ("vp_assist.read_back", rdmsr(MSR_VP_ASSIST), gpa | 1);
    /* EOI assist (Linux hv_apic_eoi_write): the handler swaps apic_assist with 0 and skips the
     * EOI when NoEoiRequired (bit 0) was set; either way the vector must leave service. */
    assist_mode = true;
    unsigned before = hits[0x52];
    for (unsigned k = 0; k < 3; k++) {
        wrmsr(MSR_ICR, 0x4052);
        __asm__ volatile("sti; nop; cli" ::: "memory");
    }
    assist_mode = false;
    printf("EOI assist: %u of 3 interrupts offered NoEoiRequired\n", assist_skipped);
    /* Each self-IPI arrives with nothing else pending or in service: every one is offered. */
    CHECK_EQ("vp_assist.eoi_assist.every_interrupt_offered", assist_skipped, 3);
    CHECK_EQ("vp_assist.eoi_assist.interrupts_taken", hits[0x52], before + 3);
    CHECK("vp_assist.eoi_assist.not_in_service", !isr_bit(0x52));
    CHECK_EQ("vp_assist.eoi_assist.bit_clear_after", *(volatile uint32_t *)assist_page & 1, 0);
    wrmsr(MSR_VP_ASSIST, 0);
    CHECK_EQ("vp_assist.disabled", rdmsr(MSR_VP_ASSIST), 0);
}

/* GUEST_IDLE (REFERENCE 12): a read idles the VP until any interrupt, even with IF = 0; the
 * interrupt then stays pending until IF = 1. A direct-mode stimer provides the interrupt. */
static void check_guest_idle(void)
{
    if (!eax(10) || !eax(3) || !edx(19)) {
        printf("SKIP: guest_idle.* (needs 0x40000003.EAX[10], EAX[3], EDX[19])\n");
        return;
    }
    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(0x70, on_vector);
    uint64_t due = rdmsr(MSR_TIME_REF) + 5000;
    wrmsr(MSR_STIMER0_CONFIG + 1, due);
    wrmsr(MSR_STIMER0_CONFIG, 1 | (1ull << 12) | (0x70ull << 4));
    cli();
    uint64_t v;
    bool ok = rdmsr_safe(MSR_GUEST_IDLE, &v);
    uint64_t woke = rdmsr(MSR_TIME_REF);
    unsigned before = hits[0x70];
    __asm__ volatile("sti; nop; cli" ::: "memory");
    CHECK("guest_idle.read_ok", ok);
    check("guest_idle.idles_until_interrupt", woke >= due, "woke at %llu, timer due %llu",
          (unsigned long long)woke, (unsigned long long)due);
    check("guest_idle.wakes_promptly", woke <= due + 1000, "woke at %llu, timer due %llu",
          (unsigned long long)woke, (unsigned long long)due);
    CHECK_EQ("guest_idle.interrupt_stays_pending_with_if0", before, 0);
    CHECK_EQ("guest_idle.interrupt_taken_after_sti", hits[0x70], 1);
    wrmsr(MSR_STIMER0_CONFIG, 0);
}

/* VP_RUNTIME (TLFS v2.0A 10.3.2): time the VP consumed running guest code or hypervisor code on
 * its behalf. A VP halted for 10 ms of reference time consumes almost none of it. */
static void check_vp_runtime(void)
{
    if (!eax(0) || !eax(3) || !edx(19)) {
        printf("SKIP: vp_runtime.* (needs 0x40000003.EAX[0], EAX[3], EDX[19])\n");
        return;
    }
    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(0x71, on_vector);
    uint64_t r0 = rdmsr(MSR_VP_RUNTIME), t0 = rdmsr(MSR_TIME_REF);
    wrmsr(MSR_STIMER0_CONFIG + 1, t0 + 100000);
    wrmsr(MSR_STIMER0_CONFIG, 1 | (1ull << 12) | (0x71ull << 4));
    while (hits[0x71] == 0)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    uint64_t r1 = rdmsr(MSR_VP_RUNTIME), t1 = rdmsr(MSR_TIME_REF);
    printf("halted %llu ticks; VP_RUNTIME advanced %llu\n", (unsigned long long)(t1 - t0),
           (unsigned long long)(r1 - r0));
    CHECK("vp_runtime.monotonic", r1 >= r0);
    check("vp_runtime.excludes_halted_time", (r1 - r0) < (t1 - t0) / 2,
          "VP_RUNTIME advanced %llu ticks while the VP was halted for %llu", (unsigned long long)(r1 - r0),
          (unsigned long long)(t1 - t0));
    wrmsr(MSR_STIMER0_CONFIG, 0);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("hv_msrs\n");
    feat = cpuid(0x40000003, 0);
    check_reset_values();
    check_access_rules();
    check_crash_msrs();
    check_apic_msrs();
    check_guest_idle();
    check_vp_runtime();
    test_finish();
}
