/* Local APIC from the guest side: xAPIC enable and version, the timer in one-shot (divide 1 and
 * 16), periodic and TSC-deadline modes timed with RDTSC, LVT masking, TPR blocking, self IPI,
 * the ESR's illegal-vector bit, then the same timer and self IPI in x2APIC mode through MSRs. */
#include "guest.h"

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define VEC_TIMER 0x40
#define VEC_SELF 0x51
#define VEC_LOW 0x45
#define MAX_STAMPS 32

static volatile unsigned hits[256];
static volatile uint64_t stamps[MAX_STAMPS];
static volatile unsigned nstamps;
static bool x2apic;

static void eoi(void)
{
    if (x2apic)
        wrmsr(0x80B, 0);
    else
        LAPIC(0xB0) = 0;
}

static bool on_irq(struct trap_frame *f)
{
    uint64_t t = rdtsc();
    unsigned v = (unsigned)(f->vector & 0xFF);
    hits[v]++;
    if (v == VEC_TIMER && nstamps < MAX_STAMPS)
        stamps[nstamps++] = t;
    eoi();
    return true;
}

/* Halts with interrupts on until hits[v] reaches n or max_ns passed; something must be pending. */
static bool wait_hits(unsigned v, unsigned n, uint64_t max_ns)
{
    uint64_t end = rdtsc() + max_ns;
    while (hits[v] < n && rdtsc() < end)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    return hits[v] >= n;
}

/* Spins with interrupts on for ns of virtual time (no HLT: nothing may be pending). */
static void spin_ns(uint64_t ns)
{
    uint64_t end = rdtsc() + ns;
    while (rdtsc() < end)
        __asm__ volatile("sti; pause; jmp 1f; 1: cli" ::: "memory");
}

static bool near(uint64_t got, uint64_t want)
{
    uint64_t tol = want / 100 + 3000;
    return got + tol >= want && got <= want + tol;
}

static void reset_stamps(void)
{
    nstamps = 0;
    hits[VEC_TIMER] = 0;
}

static void check_time(const char *name, uint64_t got, uint64_t want)
{
    check(name, near(got, want), "took %llu ns, want %llu", (unsigned long long)got, (unsigned long long)want);
}

static void oneshot(const char *name, uint32_t divcfg, unsigned div, uint32_t count)
{
    reset_stamps();
    LAPIC(0x3E0) = divcfg;
    LAPIC(0x320) = VEC_TIMER;
    uint64_t t0 = rdtsc();
    LAPIC(0x380) = count;
    bool ok = wait_hits(VEC_TIMER, 1, 100000000);
    if (!ok) {
        check(name, false, "no interrupt");
        return;
    }
    check_time(name, stamps[0] - t0, (uint64_t)count * div);
}

static void test_xapic(void)
{
    uint64_t base = rdmsr(0x1B);
    CHECK_EQ("lapic.base_default", base & ~0xFFFull & 0xFFFFFFFFFull, 0xFEE00000ull);
    CHECK("lapic.base_enabled", (base & (1u << 11)) != 0);
    CHECK("lapic.base_bsp", (base & (1u << 8)) != 0);
    CHECK_EQ("lapic.version", LAPIC(0x30) & 0xFF, 0x14);
    CHECK("lapic.max_lvt", ((LAPIC(0x30) >> 16) & 0xFF) >= 4);
    CHECK_EQ("lapic.id_bsp", LAPIC(0x20) >> 24, 0);
    LAPIC(0xF0) = 0x1FF;
    CHECK_EQ("lapic.svr_enable", LAPIC(0xF0) & 0x1FF, 0x1FF);
    LAPIC(0x80) = 0;

    oneshot("lapic.timer_oneshot_div1", 0xB, 1, 200000);
    oneshot("lapic.timer_oneshot_div16", 0x3, 16, 20000);
    CHECK_EQ("lapic.timer_oneshot_once", (spin_ns(500000), hits[VEC_TIMER]), 1);
    CHECK_EQ("lapic.timer_current_zero_after", LAPIC(0x390), 0);

    /* Current count runs down at the divided rate. */
    LAPIC(0x320) = VEC_TIMER | (1u << 16);
    LAPIC(0x3E0) = 0xB;
    LAPIC(0x380) = 1000000;
    uint32_t c1 = LAPIC(0x390);
    spin_ns(10000);
    uint32_t c2 = LAPIC(0x390);
    check("lapic.timer_current_decreases", c2 < c1 && c1 - c2 >= 9000 && c1 - c2 <= 13000, "%u -> %u", c1, c2);
    LAPIC(0x380) = 0;

    /* Periodic: 10 periods between the first and the eleventh interrupt. */
    reset_stamps();
    LAPIC(0x3E0) = 0xB;
    LAPIC(0x320) = VEC_TIMER | (1u << 17);
    LAPIC(0x380) = 100000;
    bool ok = wait_hits(VEC_TIMER, 11, 100000000);
    LAPIC(0x380) = 0;
    CHECK("lapic.timer_periodic_fires", ok);
    if (ok)
        check_time("lapic.timer_periodic_span", stamps[10] - stamps[0], 1000000);
    unsigned h = hits[VEC_TIMER];
    spin_ns(300000);
    CHECK_EQ("lapic.timer_periodic_stops_on_zero", hits[VEC_TIMER], h);

    /* Masked LVT: the count runs out, no interrupt. */
    reset_stamps();
    LAPIC(0x320) = VEC_TIMER | (1u << 16);
    LAPIC(0x380) = 10000;
    spin_ns(100000);
    CHECK_EQ("lapic.timer_masked_no_irq", hits[VEC_TIMER], 0);
    CHECK_EQ("lapic.timer_masked_count_ran_out", LAPIC(0x390), 0);

    /* TSC deadline. */
    bool has_dl = (cpuid(1, 0).ecx >> 24) & 1;
    CHECK("lapic.cpuid_tsc_deadline", has_dl);
    if (has_dl) {
        reset_stamps();
        LAPIC(0x320) = VEC_TIMER | (2u << 17);
        uint64_t dl = rdtsc() + 150000;
        wrmsr(0x6E0, dl);
        ok = wait_hits(VEC_TIMER, 1, 10000000);
        CHECK("lapic.tsc_deadline_fires", ok);
        if (ok)
            check("lapic.tsc_deadline_time", stamps[0] >= dl && stamps[0] - dl < 5000, "fired %lld ns after",
                  (long long)(stamps[0] - dl));
        CHECK_EQ("lapic.tsc_deadline_msr_cleared", rdmsr(0x6E0), 0);
        /* Disarm by writing 0. */
        reset_stamps();
        wrmsr(0x6E0, rdtsc() + 20000);
        wrmsr(0x6E0, 0);
        spin_ns(100000);
        CHECK_EQ("lapic.tsc_deadline_disarm", hits[VEC_TIMER], 0);
        /* A deadline in the past fires at once. */
        wrmsr(0x6E0, 1);
        spin_ns(2000);
        CHECK_EQ("lapic.tsc_deadline_past_fires", hits[VEC_TIMER], 1);
        LAPIC(0x320) = VEC_TIMER | (1u << 16);
    }

    /* Self IPI. */
    hits[VEC_SELF] = 0;
    LAPIC(0x300) = (1u << 18) | VEC_SELF;
    spin_ns(2000);
    CHECK_EQ("lapic.self_ipi", hits[VEC_SELF], 1);
    LAPIC(0x310) = 0;
    LAPIC(0x300) = VEC_SELF; /* fixed, physical, destination ID 0 = this CPU */
    spin_ns(2000);
    CHECK_EQ("lapic.ipi_to_own_id", hits[VEC_SELF], 2);
    CHECK_EQ("lapic.icr_idle", LAPIC(0x300) & (1u << 12), 0);

    /* TPR: class 4 is held back while TPR class is 5, delivered once lowered. */
    hits[VEC_LOW] = 0;
    LAPIC(0x80) = 0x50;
    LAPIC(0x300) = (1u << 18) | VEC_LOW;
    spin_ns(2000);
    CHECK_EQ("lapic.tpr_blocks", hits[VEC_LOW], 0);
    CHECK("lapic.tpr_irr_pending", (LAPIC(0x200 + 0x10 * (VEC_LOW / 32)) >> (VEC_LOW % 32)) & 1);
    CHECK_EQ("lapic.ppr_from_tpr", LAPIC(0xA0) & 0xF0, 0x50);
    hits[VEC_SELF] = 0;
    LAPIC(0x300) = (1u << 18) | VEC_SELF; /* class 5: not above TPR 0x50 either */
    spin_ns(2000);
    CHECK_EQ("lapic.tpr_blocks_equal_class", hits[VEC_SELF], 0);
    LAPIC(0x80) = 0;
    spin_ns(2000);
    CHECK_EQ("lapic.tpr_lowered_delivers", hits[VEC_LOW], 1);
    CHECK_EQ("lapic.tpr_lowered_delivers_both", hits[VEC_SELF], 1);
    CHECK_EQ("lapic.irr_clear_after", (LAPIC(0x200 + 0x10 * (VEC_LOW / 32)) >> (VEC_LOW % 32)) & 1, 0);
    CHECK_EQ("lapic.isr_clear_after_eoi", (LAPIC(0x100 + 0x10 * (VEC_LOW / 32)) >> (VEC_LOW % 32)) & 1, 0);

    /* ESR: sending vector 3 is illegal. */
    LAPIC(0x280) = 0;
    (void)LAPIC(0x280);
    LAPIC(0x300) = (1u << 18) | 3;
    spin_ns(1000);
    LAPIC(0x280) = 0;
    uint32_t esr = LAPIC(0x280);
    check("lapic.esr_illegal_vector", (esr & 0x20) != 0, "ESR 0x%x", esr);
    LAPIC(0x280) = 0;
    check("lapic.esr_cleared_by_write", LAPIC(0x280) == 0, "ESR 0x%x", LAPIC(0x280));
}

/* Every divide configuration (SDM 10.5.4: bits 0, 1 and 3) against the current-count rate. */
static void test_dividers(void)
{
    static const struct { uint32_t cfg; unsigned div; } divs[] = {
        {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1},
    };
    bool ok = true;
    char bad[64] = "";
    LAPIC(0x320) = VEC_TIMER | (1u << 16);
    for (unsigned i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
        LAPIC(0x3E0) = divs[i].cfg;
        LAPIC(0x380) = 0xFFFFFFFFu;
        uint32_t c1 = LAPIC(0x390);
        spin_ns(64000);
        uint32_t c2 = LAPIC(0x390);
        uint32_t want = 64000 / divs[i].div, got = c1 - c2;
        if (got + want / 10 + 200 < want || got > want + want / 10 + 200) {
            ok = false;
            snprintf(bad, sizeof(bad), "div %u: %u ticks, want ~%u", divs[i].div, got, want);
        }
        if (LAPIC(0x3E0) != divs[i].cfg)
            ok = false;
    }
    check("lapic.timer_all_dividers", ok, "%s", bad);
    LAPIC(0x380) = 0;
    LAPIC(0x3E0) = 0xB;

    /* Writing the initial count restarts a running one-shot. */
    reset_stamps();
    LAPIC(0x320) = VEC_TIMER;
    uint64_t t0 = rdtsc();
    LAPIC(0x380) = 50000;
    spin_ns(30000);
    uint64_t t1 = rdtsc();
    LAPIC(0x380) = 50000;
    bool fired = wait_hits(VEC_TIMER, 1, 10000000);
    check("lapic.timer_rewrite_restarts", fired && hits[VEC_TIMER] == 1 && stamps[0] - t1 >= 49000 &&
          stamps[0] - t0 >= 79000, "fired %llu ns after the rewrite",
          (unsigned long long)(stamps[0] - t1));
    /* Writing 0 stops it. */
    reset_stamps();
    LAPIC(0x380) = 20000;
    LAPIC(0x380) = 0;
    spin_ns(60000);
    CHECK_EQ("lapic.timer_zero_stops", hits[VEC_TIMER], 0);
    /* Switching a running periodic timer to masked keeps counting but delivers nothing. */
    LAPIC(0x320) = VEC_TIMER | (1u << 17);
    LAPIC(0x380) = 10000;
    LAPIC(0x320) = VEC_TIMER | (1u << 17) | (1u << 16);
    spin_ns(50000);
    CHECK_EQ("lapic.periodic_masked_midway", hits[VEC_TIMER], 0);
    uint32_t cc = LAPIC(0x390);
    check("lapic.periodic_masked_reloads", cc > 0 && cc <= 10000, "current %u", cc);
    LAPIC(0x380) = 0;

    /* Software disable: LVTs read masked and stay masked; self IPIs are not accepted. */
    LAPIC(0x320) = VEC_TIMER;
    LAPIC(0xF0) = 0xFF;
    CHECK("lapic.sw_disable_masks_lvt", (LAPIC(0x320) & (1u << 16)) != 0);
    LAPIC(0x320) = VEC_TIMER;
    CHECK("lapic.sw_disabled_mask_sticks", (LAPIC(0x320) & (1u << 16)) != 0);
    LAPIC(0xF0) = 0x1FF;
    CHECK("lapic.sw_enable_keeps_mask", (LAPIC(0x320) & (1u << 16)) != 0);
    LAPIC(0x320) = VEC_TIMER | (1u << 16);
    CHECK_EQ("lapic.lvt_lint0_reset_masked", LAPIC(0x350) & (1u << 16), 1u << 16);
    CHECK_EQ("lapic.lvt_error_reset_masked", LAPIC(0x370) & (1u << 16), 1u << 16);

    /* The error LVT delivers when unmasked. */
    hits[VEC_LOW] = 0;
    LAPIC(0x370) = VEC_LOW;
    LAPIC(0x300) = (1u << 18) | 2;
    spin_ns(2000);
    CHECK_EQ("lapic.error_lvt_delivers", hits[VEC_LOW], 1);
    LAPIC(0x370) = (1u << 16) | VEC_LOW;
    LAPIC(0x280) = 0;
    LAPIC(0x280) = 0;
}

/* Nesting: a handler that re-enables interrupts is preempted only by a higher priority class;
 * PPR follows the in-service vector; EOI retires the highest in-service vector. */
#define VEC_NEST_LOW 0x61
#define VEC_NEST_HIGH 0x71
#define VEC_NEST_SAME 0x62
static volatile unsigned order[8], norder;
static volatile uint32_t ppr_in_low;
static bool on_nest(struct trap_frame *f)
{
    unsigned v = (unsigned)(f->vector & 0xFF);
    if (norder < 8)
        order[norder++] = v;
    if (v == VEC_NEST_LOW) {
        ppr_in_low = LAPIC(0xA0);
        LAPIC(0x300) = (1u << 18) | VEC_NEST_SAME; /* same class: waits for our EOI */
        LAPIC(0x300) = (1u << 18) | VEC_NEST_HIGH; /* higher class: preempts */
        __asm__ volatile("sti; nop; nop; nop; cli" ::: "memory");
        if (norder < 8)
            order[norder++] = 0xEE; /* end of the low handler */
    }
    eoi();
    return true;
}

static void test_nesting(void)
{
    trap_set_handler(VEC_NEST_LOW, on_nest);
    trap_set_handler(VEC_NEST_HIGH, on_nest);
    trap_set_handler(VEC_NEST_SAME, on_nest);
    norder = 0;
    LAPIC(0x300) = (1u << 18) | VEC_NEST_LOW;
    spin_ns(5000);
    CHECK_EQ("lapic.nest_ppr_from_isr", ppr_in_low & 0xF0, 0x60);
    check("lapic.nest_order", norder == 4 && order[0] == VEC_NEST_LOW && order[1] == VEC_NEST_HIGH &&
          order[2] == 0xEE && order[3] == VEC_NEST_SAME, "%u events: 0x%x 0x%x 0x%x 0x%x", norder, order[0],
          order[1], order[2], order[3]);
    CHECK_EQ("lapic.nest_isr_empty", LAPIC(0x100 + 0x10 * 3), 0);
    CHECK_EQ("lapic.nest_ppr_idle", LAPIC(0xA0), 0);

    if ((cpuid(1, 0).ecx >> 24) & 1) {
        /* Leaving TSC-deadline mode disarms the deadline (SDM 10.5.4.1). */
        reset_stamps();
        wrmsr(0x6E0, rdtsc() + 30000);
        LAPIC(0x320) = VEC_TIMER;
        CHECK_EQ("lapic.mode_switch_disarms_deadline", rdmsr(0x6E0), 0);
        spin_ns(80000);
        CHECK_EQ("lapic.mode_switch_no_irq", hits[VEC_TIMER], 0);
        /* In TSC-deadline mode the initial count is ignored. */
        LAPIC(0x320) = VEC_TIMER | (2u << 17);
        LAPIC(0x380) = 1000;
        spin_ns(20000);
        CHECK_EQ("lapic.deadline_mode_ignores_initial_count", hits[VEC_TIMER], 0);
        CHECK_EQ("lapic.deadline_mode_current_count_zero", LAPIC(0x390), 0);
        LAPIC(0x320) = VEC_TIMER | (1u << 16);
    }
}

static void test_x2apic(void)
{
    bool has = (cpuid(1, 0).ecx >> 21) & 1;
    CHECK("x2apic.cpuid", has);
    if (!has)
        return;
    wrmsr(0x1B, 0xFEE00000ull | (1u << 8) | (1u << 11) | (1u << 10));
    x2apic = true;
    CHECK("x2apic.enabled", (rdmsr(0x1B) & (1u << 10)) != 0);
    CHECK_EQ("x2apic.id", rdmsr(0x802), 0);
    CHECK_EQ("x2apic.version", rdmsr(0x803) & 0xFF, 0x14);
    CHECK_EQ("x2apic.svr", rdmsr(0x80F) & 0x1FF, 0x1FF);
    uint64_t v;
    CHECK("x2apic.icr_high_gone", !rdmsr_safe(0x831, &v));
    reset_stamps();
    wrmsr(0x83E, 0xB);
    wrmsr(0x832, VEC_TIMER);
    uint64_t t0 = rdtsc();
    wrmsr(0x838, 80000);
    bool ok = wait_hits(VEC_TIMER, 1, 10000000);
    CHECK("x2apic.timer_fires", ok);
    if (ok)
        check_time("x2apic.timer_oneshot_time", stamps[0] - t0, 80000);
    hits[VEC_SELF] = 0;
    wrmsr(0x83F, VEC_SELF);
    spin_ns(2000);
    CHECK_EQ("x2apic.self_ipi", hits[VEC_SELF], 1);
    hits[VEC_SELF] = 0;
    wrmsr(0x830, (1u << 18) | VEC_SELF);
    spin_ns(2000);
    CHECK_EQ("x2apic.icr_self", hits[VEC_SELF], 1);
    /* Physical destination 0 in ICR bits 63:32. */
    wrmsr(0x830, VEC_SELF);
    spin_ns(2000);
    CHECK_EQ("x2apic.icr_physical_own_id", hits[VEC_SELF], 2);
    /* SDM 10.12.10.2: the logical ID derives from the x2APIC ID, read-only. */
    CHECK_EQ("x2apic.ldr_derived", rdmsr(0x80D), 1);
    CHECK("x2apic.ldr_read_only", !wrmsr_safe(0x80D, 0x55));
    CHECK("x2apic.id_read_only", !wrmsr_safe(0x802, 7));
    CHECK("x2apic.dfr_gone", !rdmsr_safe(0x80E, &v));
    CHECK("x2apic.self_ipi_reserved_bits_gp", !wrmsr_safe(0x83F, 0x100 | VEC_SELF));
    CHECK("x2apic.eoi_nonzero_gp", !wrmsr_safe(0x80B, 1));
    /* TPR through MSR 0x808. */
    hits[VEC_LOW] = 0;
    wrmsr(0x808, 0x50);
    wrmsr(0x83F, VEC_LOW);
    spin_ns(2000);
    CHECK_EQ("x2apic.tpr_blocks", hits[VEC_LOW], 0);
    wrmsr(0x808, 0);
    spin_ns(2000);
    CHECK_EQ("x2apic.tpr_lowered", hits[VEC_LOW], 1);
    /* Periodic via MSRs: 5 periods of 50 us. */
    reset_stamps();
    wrmsr(0x832, VEC_TIMER | (1u << 17));
    wrmsr(0x838, 50000);
    ok = wait_hits(VEC_TIMER, 6, 10000000);
    wrmsr(0x838, 0);
    CHECK("x2apic.timer_periodic", ok);
    if (ok)
        check_time("x2apic.timer_periodic_span", stamps[5] - stamps[0], 250000);
    /* TSC deadline in x2APIC mode. */
    reset_stamps();
    wrmsr(0x832, VEC_TIMER | (2u << 17));
    uint64_t dl = rdtsc() + 40000;
    wrmsr(0x6E0, dl);
    ok = wait_hits(VEC_TIMER, 1, 10000000);
    CHECK("x2apic.tsc_deadline", ok && stamps[0] >= dl && stamps[0] - dl < 5000);
    wrmsr(0x832, VEC_TIMER | (1u << 16));
    /* Leaving x2APIC for xAPIC directly is illegal (SDM 10.12.5): #GP. */
    CHECK("x2apic.to_xapic_gp", !wrmsr_safe(0x1B, 0xFEE00000ull | (1u << 8) | (1u << 11)));
    CHECK("x2apic.still_x2apic", (rdmsr(0x1B) & (3u << 10)) == (3u << 10));
}

/* TSC deadline follows the guest TSC after a write to IA32_TIME_STAMP_COUNTER (SDM 10.5.4.1:
 * the timer fires when the TSC reaches the deadline). Runs last, in x2APIC mode, only with
 * "tscwrite" on the command line: hvemu does not pass the TSC offset to the LAPIC yet. */
static void test_tsc_write(void)
{
    wrmsr(0x10, rdtsc() + 0x100000000000ull);
    reset_stamps();
    wrmsr(0x832, VEC_TIMER | (2u << 17));
    uint64_t dl = rdtsc() + 60000;
    wrmsr(0x6E0, dl);
    bool ok = wait_hits(VEC_TIMER, 1, 10000000);
    check("lapic.tsc_deadline_after_tsc_write", ok && stamps[0] >= dl && stamps[0] - dl < 5000,
          "%s, %lld ns after the deadline", ok ? "fired" : "no interrupt", ok ? (long long)(stamps[0] - dl) : 0ll);
    wrmsr(0x832, VEC_TIMER | (1u << 16));
}

int main(uint32_t mb_info)
{
    const char *cl = guest_cmdline(mb_info);
    trap_set_handler(VEC_TIMER, on_irq);
    trap_set_handler(VEC_SELF, on_irq);
    trap_set_handler(VEC_LOW, on_irq);
    test_xapic();
    test_dividers();
    test_nesting();
    uint64_t v;
    CHECK("lapic.x2apic_msr_gp_in_xapic", !rdmsr_safe(0x802, &v));
    test_x2apic();
    if (x2apic && cmdline_has_word(cl, "tscwrite"))
        test_tsc_write();
    test_finish();
}
