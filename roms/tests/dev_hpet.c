/* The HPET from the guest side: capabilities, the main counter against the TSC, timer 0 one-shot
 * and periodic through the IOAPIC pins the route capabilities offer, 32-bit mode wrap, legacy replacement (timer 0 on GSI 2,
 * timer 1 on IRQ 8) and the level-triggered status register's write-1-to-clear. */
#include "guest.h"

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define HPET(reg) (*(volatile uint64_t *)(uintptr_t)(0xFED00000ull + (reg)))
#define HPET_T(n, reg) HPET(0x100 + 0x20 * (n) + (reg))
#define IOAPIC_SEL (*(volatile uint32_t *)(uintptr_t)0xFEC00000ull)
#define IOAPIC_WIN (*(volatile uint32_t *)(uintptr_t)0xFEC00010ull)
#define VEC_T0 0x60
#define VEC_T1 0x61
#define VEC_LEG0 0x62
#define VEC_LEG1 0x68
#define MAX_STAMPS 32

#define CFG_ENABLE 1ull
#define CFG_LEGACY 2ull
#define TN_LEVEL (1ull << 1)
#define TN_ENABLE (1ull << 2)
#define TN_PERIODIC (1ull << 3)
#define TN_PER_CAP (1ull << 4)
#define TN_SIZE_CAP (1ull << 5)
#define TN_SETVAL (1ull << 6)
#define TN_32BIT (1ull << 8)
#define TN_ROUTE(p) ((uint64_t)(p) << 9)

static volatile unsigned hits[256];
static volatile uint64_t stamps[MAX_STAMPS];
static volatile unsigned nstamps;
static volatile uint64_t isr_in_handler;
static volatile bool level_clear;

static void ioapic_write(unsigned reg, uint32_t v) { IOAPIC_SEL = reg; IOAPIC_WIN = v; }
static void ioapic_route(unsigned pin, uint32_t low)
{
    ioapic_write(0x11 + 2 * pin, 0);
    ioapic_write(0x10 + 2 * pin, low);
}

static bool on_irq(struct trap_frame *f)
{
    uint64_t t = rdtsc();
    unsigned v = (unsigned)(f->vector & 0xFF);
    hits[v]++;
    if (nstamps < MAX_STAMPS)
        stamps[nstamps++] = t;
    if (v == VEC_T1) {
        isr_in_handler = HPET(0x20);
        if (level_clear)
            HPET(0x20) = 2;
    }
    LAPIC(0xB0) = 0;
    return true;
}

static bool wait_hits(unsigned v, unsigned n, uint64_t max_ns)
{
    uint64_t end = rdtsc() + max_ns;
    while (hits[v] < n && rdtsc() < end)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    return hits[v] >= n;
}

static void spin_ns(uint64_t ns)
{
    uint64_t end = rdtsc() + ns;
    while (rdtsc() < end)
        __asm__ volatile("sti; pause; jmp 1f; 1: cli" ::: "memory");
}

static void check_time(const char *name, uint64_t got, uint64_t want)
{
    uint64_t tol = want / 100 + 3000;
    check(name, got + tol >= want && got <= want + tol, "took %llu ns, want %llu", (unsigned long long)got,
          (unsigned long long)want);
}

static void reset(unsigned v)
{
    nstamps = 0;
    hits[v] = 0;
}

/* IOAPIC pins the timers use, chosen from their route capabilities (pins 16-23 first). */
static unsigned pin0, pin1, pin2;
static unsigned pick_pin(unsigned t, unsigned avoid)
{
    uint32_t rc = (uint32_t)(HPET_T(t, 0) >> 32);
    for (unsigned p = 16; p < 24; p++)
        if (((rc >> p) & 1) && p != avoid && p != pin0)
            return p;
    for (unsigned p = 0; p < 24; p++)
        if ((rc >> p) & 1)
            return p;
    return 23;
}

static void test_caps(void)
{
    uint64_t cap = HPET(0x00);
    CHECK_EQ("hpet.cap_period_fs", cap >> 32, 10000000);
    CHECK_EQ("hpet.cap_vendor", (cap >> 16) & 0xFFFF, 0x8086);
    CHECK_EQ("hpet.cap_num_timers", ((cap >> 8) & 0x1F) + 1, 3);
    CHECK("hpet.cap_64bit", (cap >> 13) & 1);
    CHECK("hpet.cap_legacy_route", (cap >> 15) & 1);
    CHECK("hpet.cap_rev_nonzero", (cap & 0xFF) != 0);
    for (unsigned t = 0; t < 3; t++) {
        uint32_t rc = (uint32_t)(HPET_T(t, 0) >> 32);
        char name[40];
        snprintf(name, sizeof(name), "hpet.timer%u_route_cap_pci_pins", t);
        check(name, (rc & 0x00FF0000u) != 0, "route cap 0x%x", rc);
    }
    pin0 = pick_pin(0, 24);
    pin1 = pick_pin(1, pin0);
    pin2 = pick_pin(2, pin1);
    printf("INFO: HPET timers on IOAPIC pins %u %u %u\n", pin0, pin1, pin2);
    CHECK("hpet.timer0_periodic_cap", (HPET_T(0, 0) & TN_PER_CAP) != 0);
    CHECK("hpet.timer0_64bit_cap", (HPET_T(0, 0) & TN_SIZE_CAP) != 0);
}

static void test_counter(void)
{
    HPET(0x10) = 0;
    HPET(0xF0) = 0;
    CHECK_EQ("hpet.counter_write_halted", HPET(0xF0), 0);
    spin_ns(20000);
    CHECK_EQ("hpet.counter_halted_holds", HPET(0xF0), 0);
    HPET(0x10) = CFG_ENABLE;
    uint64_t c0 = HPET(0xF0), t0 = rdtsc();
    spin_ns(1000000);
    uint64_t c1 = HPET(0xF0), t1 = rdtsc();
    uint64_t ns = (c1 - c0) * 10;
    check("hpet.counter_rate_vs_tsc", ns + 200 >= t1 - t0 && ns <= t1 - t0 + 200, "counter %llu ns, TSC %llu ns",
          (unsigned long long)ns, (unsigned long long)(t1 - t0));
}

static void test_timers(void)
{
    /* One-shot. */
    ioapic_route(pin0, VEC_T0);
    reset(VEC_T0);
    HPET_T(0, 0) = TN_ROUTE(pin0) | TN_ENABLE;
    CHECK_EQ("hpet.timer0_route_readback", (HPET_T(0, 0) >> 9) & 0x1F, pin0);
    uint64_t t0 = rdtsc();
    HPET_T(0, 8) = HPET(0xF0) + 20000; /* 200 us */
    bool ok = wait_hits(VEC_T0, 1, 10000000);
    CHECK("hpet.oneshot_fires", ok);
    if (ok)
        check_time("hpet.oneshot_time", stamps[0] - t0, 200000);
    spin_ns(500000);
    CHECK_EQ("hpet.oneshot_once", hits[VEC_T0], 1);

    /* Periodic, the way Linux sets it up: halt, counter 0, SETVAL, comparator twice, start. */
    reset(VEC_T0);
    HPET(0x10) = 0;
    HPET(0xF0) = 0;
    HPET_T(0, 0) = TN_ROUTE(pin0) | TN_ENABLE | TN_PERIODIC | TN_SETVAL;
    HPET_T(0, 8) = 10000; /* 100 us */
    HPET_T(0, 8) = 10000;
    HPET(0x10) = CFG_ENABLE;
    ok = wait_hits(VEC_T0, 11, 10000000);
    CHECK("hpet.periodic_fires", ok);
    if (ok)
        check_time("hpet.periodic_span", stamps[10] - stamps[0], 1000000);
    uint64_t cmp = HPET_T(0, 8);
    uint64_t now = HPET(0xF0);
    check("hpet.periodic_comparator_advances", cmp > now && cmp - now <= 10000, "cmp %llu counter %llu",
          (unsigned long long)cmp, (unsigned long long)now);
    HPET_T(0, 0) = TN_ROUTE(pin0);
    unsigned h = hits[VEC_T0];
    spin_ns(300000);
    CHECK_EQ("hpet.periodic_disable_stops", hits[VEC_T0], h);

    /* 32-bit mode: the comparator holds 32 bits and matches after the low half wraps. */
    reset(VEC_T0);
    HPET(0x10) = 0;
    HPET(0xF0) = 0xFFFFF000ull;
    HPET_T(0, 0) = TN_ROUTE(pin0) | TN_ENABLE | TN_32BIT;
    HPET_T(0, 8) = 0xABCD000000001000ull;
    CHECK_EQ("hpet.32bit_comparator_low", HPET_T(0, 8) & 0xFFFFFFFFull, 0x1000);
    t0 = rdtsc();
    HPET(0x10) = CFG_ENABLE;
    ok = wait_hits(VEC_T0, 1, 10000000);
    CHECK("hpet.32bit_wrap_fires", ok);
    if (ok)
        check_time("hpet.32bit_wrap_time", stamps[0] - t0, 0x2000 * 10);
    HPET_T(0, 0) = TN_ROUTE(pin0);
    ioapic_route(pin0, 0x10000);

    /* Level-triggered timer 1: status bit set, cleared only by writing 1. */
    ioapic_route(pin1, VEC_T1 | (1u << 15));
    reset(VEC_T1);
    level_clear = true;
    HPET(0x20) = 7;
    HPET_T(1, 0) = TN_ROUTE(pin1) | TN_ENABLE | TN_LEVEL;
    HPET_T(1, 8) = HPET(0xF0) + 5000;
    ok = wait_hits(VEC_T1, 1, 10000000);
    CHECK("hpet.level_fires", ok);
    CHECK("hpet.level_status_set", (isr_in_handler & 2) != 0);
    CHECK_EQ("hpet.level_status_w1c", HPET(0x20) & 2, 0);
    spin_ns(100000);
    CHECK_EQ("hpet.level_once_after_clear", hits[VEC_T1], 1);
    /* Status write of 0 leaves the bit; mask the pin so the asserted line is held off. */
    ioapic_route(pin1, VEC_T1 | (1u << 15) | (1u << 16));
    HPET_T(1, 8) = HPET(0xF0) + 1000;
    spin_ns(50000);
    CHECK("hpet.level_status_set_masked", (HPET(0x20) & 2) != 0);
    HPET(0x20) = 0;
    CHECK("hpet.status_write0_keeps", (HPET(0x20) & 2) != 0);
    HPET(0x20) = 2;
    CHECK_EQ("hpet.status_write1_clears", HPET(0x20) & 2, 0);
    /* Edge timers leave the status bit alone. */
    HPET_T(1, 0) = TN_ROUTE(pin1);
    ioapic_route(pin1, 0x10000);
    CHECK_EQ("hpet.level_masked_no_irq", hits[VEC_T1], 1);
}

static void test_more(void)
{
    /* 32-bit halves of the main counter. */
    HPET(0x10) = 0;
    HPET(0xF0) = 0x123456789ull;
    volatile uint32_t *c32 = (volatile uint32_t *)(uintptr_t)(0xFED00000ull + 0xF0);
    CHECK("hpet.counter_low_half", c32[0] == 0x23456789u);
    CHECK("hpet.counter_high_half", c32[1] == 1u);
    c32[1] = 0;
    CHECK_EQ("hpet.counter_high_half_write", HPET(0xF0), 0x23456789ull);
    HPET(0xF0) = 0;
    HPET(0x10) = CFG_ENABLE;

    /* Timer 2. */
    ioapic_route(pin2, VEC_T0);
    reset(VEC_T0);
    HPET_T(2, 0) = TN_ROUTE(pin2) | TN_ENABLE;
    uint64_t t0 = rdtsc();
    HPET_T(2, 8) = HPET(0xF0) + 7000;
    bool ok = wait_hits(VEC_T0, 1, 10000000);
    CHECK("hpet.timer2_fires", ok);
    if (ok)
        check_time("hpet.timer2_time", stamps[0] - t0, 70000);
    /* A 64-bit comparator already passed does not fire (until the counter wraps). */
    reset(VEC_T0);
    HPET_T(2, 8) = HPET(0xF0) - 100;
    spin_ns(200000);
    CHECK_EQ("hpet.past_comparator_no_irq", hits[VEC_T0], 0);
    /* Disabled timer: no interrupt at the match. */
    HPET_T(2, 0) = TN_ROUTE(pin2);
    HPET_T(2, 8) = HPET(0xF0) + 1000;
    spin_ns(100000);
    CHECK_EQ("hpet.disabled_timer_no_irq", hits[VEC_T0], 0);
    /* Main counter halted: a pending match waits for it. */
    HPET_T(2, 0) = TN_ROUTE(pin2) | TN_ENABLE;
    HPET(0x10) = 0;
    HPET_T(2, 8) = HPET(0xF0) + 1000;
    spin_ns(100000);
    CHECK_EQ("hpet.halted_counter_no_irq", hits[VEC_T0], 0);
    HPET(0x10) = CFG_ENABLE;
    CHECK("hpet.resumed_counter_fires", wait_hits(VEC_T0, 1, 1000000));
    HPET_T(2, 0) = 0;
    ioapic_route(pin2, 0x10000);

    /* Periodic in 32-bit mode across the low half's wrap: the period holds. */
    ioapic_route(pin0, VEC_T0);
    reset(VEC_T0);
    HPET(0x10) = 0;
    HPET(0xF0) = 0xFFFF0000ull;
    HPET_T(0, 0) = TN_ROUTE(pin0) | TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_32BIT;
    HPET_T(0, 8) = 0xFFFF0000ull + 10000;
    HPET_T(0, 8) = 10000;
    HPET(0x10) = CFG_ENABLE;
    ok = wait_hits(VEC_T0, 11, 10000000);
    CHECK("hpet.periodic_32bit_fires", ok);
    if (ok)
        check_time("hpet.periodic_32bit_across_wrap", stamps[10] - stamps[0], 1000000);
    HPET_T(0, 0) = TN_ROUTE(pin0);
    ioapic_route(pin0, 0x10000);

    /* A long one-shot (~168 ms) armed while the main counter is halted, timed from the start. */
    reset(VEC_T0);
    ioapic_route(pin0, VEC_T0);
    HPET(0x10) = 0;
    HPET(0xF0) = 0;
    HPET_T(0, 0) = TN_ROUTE(pin0) | TN_ENABLE;
    HPET_T(0, 8) = 0x1000000;
    t0 = rdtsc();
    HPET(0x10) = CFG_ENABLE;
    ok = wait_hits(VEC_T0, 1, 400000000);
    CHECK("hpet.oneshot_long", ok);
    if (ok)
        check_time("hpet.oneshot_long_time", stamps[0] - t0, 0x1000000ull * 10);
    HPET_T(0, 0) = TN_ROUTE(pin0);
    ioapic_route(pin0, 0x10000);
}

static void test_legacy(void)
{
    ioapic_route(2, VEC_LEG0);
    ioapic_route(8, VEC_LEG1);
    HPET(0x10) = CFG_ENABLE | CFG_LEGACY;
    reset(VEC_LEG0);
    HPET_T(0, 0) = TN_ENABLE;
    uint64_t t0 = rdtsc();
    HPET_T(0, 8) = HPET(0xF0) + 30000;
    bool ok = wait_hits(VEC_LEG0, 1, 10000000);
    CHECK("hpet.legacy_timer0_gsi2", ok);
    if (ok)
        check_time("hpet.legacy_timer0_time", stamps[0] - t0, 300000);
    reset(VEC_LEG1);
    HPET_T(1, 0) = TN_ENABLE;
    HPET_T(1, 8) = HPET(0xF0) + 30000;
    ok = wait_hits(VEC_LEG1, 1, 10000000);
    CHECK("hpet.legacy_timer1_irq8", ok);
    HPET_T(0, 0) = 0;
    HPET_T(1, 0) = 0;
    HPET(0x10) = CFG_ENABLE;
    ioapic_route(2, 0x10000);
    ioapic_route(8, 0x10000);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(VEC_T0, on_irq);
    trap_set_handler(VEC_T1, on_irq);
    trap_set_handler(VEC_LEG0, on_irq);
    trap_set_handler(VEC_LEG1, on_irq);
    test_caps();
    test_counter();
    test_timers();
    test_more();
    test_legacy();
    HPET(0x10) = 0;
    test_finish();
}
