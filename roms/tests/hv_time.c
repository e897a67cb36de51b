/* Hyper-V conformance, partition reference time (TLFS v6.0b 12.4, REFERENCE.md 4): the
 * reference counter in 100 ns units against the TSC, the reference TSC page (overlay,
 * sequence/scale/offset protocol) against the counter, and the frequency MSRs. */
#include "guest.h"

#define MSR_TIME_REF_COUNT 0x40000020
#define MSR_REFERENCE_TSC  0x40000021
#define MSR_TSC_FREQUENCY  0x40000022
#define MSR_APIC_FREQUENCY 0x40000023
#define MSR_VP_RUNTIME     0x40000010

/* The TSC rate hvemu documents for its virtual clock (src/devices/vclock.h). */
#define DOCUMENTED_TSC_HZ 1000000000ull

static uint8_t tsc_page[4096] __attribute__((aligned(4096)));

struct tsc_page_view {
    uint32_t seq;
    uint64_t scale;
    int64_t offset;
};

static void spin(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++)
        ;
}

/* TLFS 12.4.3.2 reader: sequence, scale/offset, TSC, sequence again; 0 means "use the MSR". */
static bool tsc_page_time(uint64_t *ref, struct tsc_page_view *view)
{
    volatile uint32_t *seqp = (volatile uint32_t *)tsc_page;
    for (int tries = 0; tries < 100; tries++) {
        uint32_t seq = *seqp;
        if (seq == 0)
            return false;
        __asm__ volatile("" ::: "memory");
        uint64_t scale = *(volatile uint64_t *)(tsc_page + 8);
        int64_t offset = *(volatile int64_t *)(tsc_page + 16);
        uint64_t tsc = rdtsc();
        __asm__ volatile("" ::: "memory");
        if (*seqp != seq)
            continue;
        *ref = (uint64_t)(((unsigned __int128)tsc * scale) >> 64) + (uint64_t)offset;
        if (view)
            *view = (struct tsc_page_view){seq, scale, offset};
        return true;
    }
    return false;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

static void check_ref_counter(uint64_t tsc_hz)
{
    uint64_t r0 = rdmsr(MSR_TIME_REF_COUNT), r1 = rdmsr(MSR_TIME_REF_COUNT);
    CHECK("ref_count.monotonic_back_to_back", r1 >= r0);
    uint64_t t0 = rdtsc(), a = rdmsr(MSR_TIME_REF_COUNT);
    spin(200000);
    uint64_t t1 = rdtsc(), b = rdmsr(MSR_TIME_REF_COUNT);
    uint64_t dref = b - a, dtsc = t1 - t0;
    printf("ref delta %llu ticks, tsc delta %llu cycles\n", (unsigned long long)dref,
           (unsigned long long)dtsc);
    CHECK("ref_count.advances", b > a);
    /* 100 ns per tick: the counter moves dtsc * 10^7 / f ticks, within 1% plus 2 ticks. */
    uint64_t want = dtsc * 10000000ull / tsc_hz; /* small deltas: no overflow */
    check("ref_count.rate_matches_tsc", absdiff(dref, want) <= want / 100 + 2,
          "ref delta %llu, TSC says %llu", (unsigned long long)dref, (unsigned long long)want);
    /* Starts at 0 when the partition is created: after a short boot it is small (< 1 s). */
    check("ref_count.started_at_zero", a < 10000000ull, "counter at %llu", (unsigned long long)a);
    CHECK("ref_count.write_gp", !wrmsr_safe(MSR_TIME_REF_COUNT, 0));
}

static void check_frequencies(bool have, uint64_t *tsc_hz)
{
    *tsc_hz = DOCUMENTED_TSC_HZ;
    if (!have) {
        printf("SKIP: freq.* (0x40000003.EAX[11]/EDX[8] not set)\n");
        return;
    }
    uint64_t f = rdmsr(MSR_TSC_FREQUENCY), apic = rdmsr(MSR_APIC_FREQUENCY);
    printf("TSC %llu Hz, APIC %llu Hz\n", (unsigned long long)f, (unsigned long long)apic);
    CHECK_EQ("freq.tsc_is_documented_1ghz", f, DOCUMENTED_TSC_HZ);
    CHECK("freq.apic_nonzero", apic != 0);
    CHECK("freq.tsc_write_gp", !wrmsr_safe(MSR_TSC_FREQUENCY, f));
    CHECK("freq.apic_write_gp", !wrmsr_safe(MSR_APIC_FREQUENCY, apic));
    if (f)
        *tsc_hz = f;
    /* The LAPIC timer counts down at the advertised APIC frequency (divide by 1). */
    volatile uint32_t *lapic = (volatile uint32_t *)(uintptr_t)0xFEE00000ull;
    lapic[0xF0 / 4] = 0x1FF;     /* SVR: software-enable */
    lapic[0x3E0 / 4] = 0xB;      /* divide configuration: by 1 */
    lapic[0x320 / 4] = 0x10040;  /* LVT timer: masked, one-shot */
    lapic[0x380 / 4] = 0xFFFFFFFF;
    uint64_t a = rdmsr(MSR_TIME_REF_COUNT);
    uint32_t c0 = lapic[0x390 / 4];
    spin(200000);
    uint32_t c1 = lapic[0x390 / 4];
    uint64_t b = rdmsr(MSR_TIME_REF_COUNT);
    uint64_t counted = c0 - c1, want = (b - a) * apic / 10000000ull;
    printf("APIC timer counted %llu in %llu ticks\n", (unsigned long long)counted,
           (unsigned long long)(b - a));
    check("freq.apic_timer_rate_matches", absdiff(counted, want) <= want / 50 + 1000,
          "APIC timer counted %llu, %llu Hz over %llu ref ticks says %llu", (unsigned long long)counted,
          (unsigned long long)apic, (unsigned long long)(b - a), (unsigned long long)want);
    lapic[0x380 / 4] = 0;
}

static void check_tsc_page(uint64_t tsc_hz)
{
    uint64_t v = 1;
    CHECK("tsc_page.msr_reset_zero", rdmsr_safe(MSR_REFERENCE_TSC, &v) && v == 0);
    /* The RAM underneath: the overlay must hide it while enabled and give it back after. */
    memset(tsc_page, 0x5A, sizeof(tsc_page));
    uint64_t gpa = (uint64_t)(uintptr_t)tsc_page;
    wrmsr(MSR_REFERENCE_TSC, gpa | 1);
    CHECK_EQ("tsc_page.msr_read_back", rdmsr(MSR_REFERENCE_TSC), gpa | 1);

    uint32_t seq = *(volatile uint32_t *)tsc_page;
    printf("TSC page: sequence 0x%x scale 0x%llx offset %lld\n", seq,
           (unsigned long long)*(volatile uint64_t *)(tsc_page + 8),
           (long long)*(volatile int64_t *)(tsc_page + 16));
    /* Valid right after the WRMSR (Linux's sched_clock reads it at once); 0 and 0xFFFFFFFF are
     * never valid sequences (TLFS 12.4.3.2, early-spec invalid marker). */
    check("tsc_page.sequence_valid", seq != 0 && seq != 0xFFFFFFFFu, "sequence 0x%x", seq);
    CHECK_EQ("tsc_page.reserved_dword_zero", *(volatile uint32_t *)(tsc_page + 4), 0);
    bool rest_zero = true;
    for (unsigned i = 0x18; i < 4096; i++)
        rest_zero &= tsc_page[i] == 0;
    CHECK("tsc_page.reserved_tail_not_ram", rest_zero);

    struct tsc_page_view pv;
    uint64_t page_t = 0;
    bool ok = tsc_page_time(&page_t, &pv);
    uint64_t msr_t = rdmsr(MSR_TIME_REF_COUNT);
    CHECK("tsc_page.readable", ok);
    /* Scale = 2^64 * 10^7 / f: check scale * f against 10^7 << 64 within one f. */
    unsigned __int128 prod = (unsigned __int128)pv.scale * tsc_hz, ideal = (unsigned __int128)10000000ull << 64;
    unsigned __int128 err = prod > ideal ? prod - ideal : ideal - prod;
    check("tsc_page.scale_matches_tsc_frequency", err <= tsc_hz, "scale 0x%llx for %llu Hz",
          (unsigned long long)pv.scale, (unsigned long long)tsc_hz);
    /* Page time and the MSR agree: the MSR was read just after, so it is at most a little
     * ahead (10 us = 100 ticks covers the instructions in between). */
    check("tsc_page.agrees_with_ref_count", msr_t >= page_t && msr_t - page_t <= 100,
          "page %llu, MSR %llu", (unsigned long long)page_t, (unsigned long long)msr_t);
    uint64_t m0 = rdmsr(MSR_TIME_REF_COUNT);
    uint64_t p1 = 0;
    tsc_page_time(&p1, NULL);
    check("tsc_page.not_behind_earlier_msr_read", p1 >= m0, "MSR %llu then page %llu",
          (unsigned long long)m0, (unsigned long long)p1);
    spin(100000);
    uint64_t p2 = 0;
    tsc_page_time(&p2, NULL);
    uint64_t m2 = rdmsr(MSR_TIME_REF_COUNT);
    CHECK("tsc_page.advances", p2 > p1);
    check("tsc_page.agrees_after_spin", m2 >= p2 && m2 - p2 <= 100, "page %llu, MSR %llu",
          (unsigned long long)p2, (unsigned long long)m2);

    /* A guest write to the TSC page is undefined; do not test it. Disable: RAM comes back. */
    wrmsr(MSR_REFERENCE_TSC, gpa);
    CHECK_EQ("tsc_page.disabled_msr", rdmsr(MSR_REFERENCE_TSC) & 1, 0);
    CHECK_EQ("tsc_page.disabled_ram_visible_again", *(volatile uint32_t *)tsc_page, 0x5A5A5A5Au);
    /* Re-enable: still valid, with a sequence value again != 0. */
    wrmsr(MSR_REFERENCE_TSC, gpa | 1);
    uint32_t seq2 = *(volatile uint32_t *)tsc_page;
    check("tsc_page.reenabled_sequence_valid", seq2 != 0 && seq2 != 0xFFFFFFFFu, "sequence 0x%x",
          seq2);
    uint64_t p3 = 0;
    CHECK("tsc_page.reenabled_readable", tsc_page_time(&p3, NULL));
    CHECK("tsc_page.reenabled_continuous", p3 >= p2);
    wrmsr(MSR_REFERENCE_TSC, 0);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("hv_time\n");
    struct cpuid_regs f = cpuid(0x40000003, 0);
    uint64_t tsc_hz;
    check_frequencies(((f.eax >> 11) & 1) && ((f.edx >> 8) & 1), &tsc_hz);
    check_ref_counter(tsc_hz);
    if ((f.eax >> 9) & 1)
        check_tsc_page(tsc_hz);
    else
        printf("SKIP: tsc_page.* (0x40000003.EAX[9] not set)\n");
    if (f.eax & 1) {
        uint64_t a = rdmsr(MSR_VP_RUNTIME);
        spin(100000);
        uint64_t b = rdmsr(MSR_VP_RUNTIME);
        CHECK("vp_runtime.advances", b > a);
        CHECK("vp_runtime.write_gp", !wrmsr_safe(MSR_VP_RUNTIME, 0));
    }
    test_finish();
}
