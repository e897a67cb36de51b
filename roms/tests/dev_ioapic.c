/* The IOAPIC from the guest side with the PICs masked: ID and version registers, the PIT's IRQ0
 * through GSI 2 and the RTC's IRQ8 through pin 8 as edge entries, a masked entry, and level
 * entries (the HPET in level mode on pins 20-23) whose remote IRR the LAPIC EOI broadcast and
 * the EOI register (0x40) clear. */
#include "guest.h"

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define HPET(reg) (*(volatile uint64_t *)(uintptr_t)(0xFED00000ull + (reg)))
#define HPET_T(n, reg) HPET(0x100 + 0x20 * (n) + (reg))
#define IOAPIC_SEL (*(volatile uint32_t *)(uintptr_t)0xFEC00000ull)
#define IOAPIC_WIN (*(volatile uint32_t *)(uintptr_t)0xFEC00010ull)
#define IOAPIC_EOI (*(volatile uint32_t *)(uintptr_t)0xFEC00040ull)
#define VEC_PIT 0x30
#define VEC_RTC 0x38
#define VEC_LVL 0x70
#define MAX_STAMPS 32
#define PIT_HZ 1193182ull

#define RTE_LEVEL (1u << 15)
#define RTE_MASK (1u << 16)
#define RTE_RIRR (1u << 14)

static volatile unsigned hits[256];
static volatile uint64_t stamps[MAX_STAMPS];
static volatile unsigned nstamps;

/* How the level handler ends the interrupt, and what it saw. */
enum { LVL_LAPIC_EOI, LVL_IOAPIC_EOI, LVL_NO_CLEAR_FIRST };
static volatile unsigned lvl_mode;
static volatile uint32_t rirr_in_handler, rirr_after_ioapic_eoi;
static volatile unsigned tmr_in_handler[2] = {2, 2}; /* edge, level: the LAPIC's TMR bit */

static uint32_t ioapic_read(unsigned reg) { IOAPIC_SEL = reg; return IOAPIC_WIN; }
static void ioapic_write(unsigned reg, uint32_t v) { IOAPIC_SEL = reg; IOAPIC_WIN = v; }
static void ioapic_route(unsigned pin, uint32_t low)
{
    ioapic_write(0x11 + 2 * pin, 0);
    ioapic_write(0x10 + 2 * pin, low);
}
static uint32_t rte(unsigned pin) { return ioapic_read(0x10 + 2 * pin); }
static uint8_t cmos_read(uint8_t r) { outb(0x70, r); return inb(0x71); }
static void cmos_write(uint8_t r, uint8_t v) { outb(0x70, r); outb(0x71, v); }

static bool on_irq(struct trap_frame *f)
{
    uint64_t t = rdtsc();
    unsigned v = (unsigned)(f->vector & 0xFF);
    hits[v]++;
    if (nstamps < MAX_STAMPS)
        stamps[nstamps++] = t;
    if (v == VEC_RTC)
        (void)cmos_read(0x0C);
    if (v == VEC_LVL || v == VEC_PIT)
        tmr_in_handler[v == VEC_LVL] = (LAPIC(0x180 + 0x10 * (v / 32)) >> (v % 32)) & 1;
    if (v == VEC_LVL) {
        rirr_in_handler = rte(22) & RTE_RIRR;
        /* The first time in LVL_NO_CLEAR_FIRST the source stays asserted across the EOI. */
        if (!(lvl_mode == LVL_NO_CLEAR_FIRST && hits[v] == 1))
            HPET(0x20) = 1;
        if (lvl_mode == LVL_IOAPIC_EOI) {
            IOAPIC_EOI = VEC_LVL;
            rirr_after_ioapic_eoi = rte(22) & RTE_RIRR;
        }
    }
    LAPIC(0xB0) = 0;
    return true;
}

static volatile unsigned nmis;
static bool on_nmi(struct trap_frame *f)
{
    (void)f;
    nmis++;
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
    uint64_t tol = want / 200 + 5000;
    check(name, got + tol >= want && got <= want + tol, "took %llu ns, want %llu", (unsigned long long)got,
          (unsigned long long)want);
}

static void reset(unsigned v)
{
    nstamps = 0;
    hits[v] = 0;
}

/* The IOAPIC ID the firmware tables announce: RSDP in the BIOS area -> RSDT -> MADT type 1. */
static int madt_ioapic_id(void)
{
    const uint8_t *rsdp = NULL;
    for (uintptr_t a = 0xE0000; a < 0x100000 && !rsdp; a += 16)
        if (memcmp((const void *)a, "RSD PTR ", 8) == 0)
            rsdp = (const uint8_t *)a;
    if (!rsdp)
        return -1;
    uint32_t rsdt;
    memcpy(&rsdt, rsdp + 16, 4);
    const uint8_t *t = (const uint8_t *)(uintptr_t)rsdt;
    uint32_t len;
    memcpy(&len, t + 4, 4);
    for (uint32_t off = 36; off + 4 <= len && len < 4096; off += 4) {
        uint32_t e;
        memcpy(&e, t + off, 4);
        const uint8_t *m = (const uint8_t *)(uintptr_t)e;
        if (memcmp(m, "APIC", 4) != 0)
            continue;
        uint32_t mlen;
        memcpy(&mlen, m + 4, 4);
        for (uint32_t o = 44; o + 2 <= mlen && m[o + 1] >= 2; o += m[o + 1])
            if (m[o] == 1)
                return m[o + 2];
    }
    return -1;
}

static void test_regs(void)
{
    uint32_t ver = ioapic_read(1);
    CHECK_EQ("ioapic.version", ver & 0xFF, 0x20);
    CHECK_EQ("ioapic.max_redir_entry", (ver >> 16) & 0xFF, 23);
    int madt_id = madt_ioapic_id();
    CHECK("ioapic.madt_entry", madt_id >= 0);
    CHECK_EQ("ioapic.id_matches_madt", (ioapic_read(0) >> 24) & 0xF, (unsigned)madt_id);
    ioapic_write(0, 5u << 24);
    CHECK_EQ("ioapic.id_writable", (ioapic_read(0) >> 24) & 0xF, 5);
    ioapic_write(0, (uint32_t)madt_id << 24);
    CHECK_EQ("ioapic.regsel_readback", (IOAPIC_SEL = 0x10, IOAPIC_SEL) & 0xFF, 0x10);
    bool all_masked = true;
    for (unsigned p = 0; p < 24; p++)
        all_masked = all_masked && (rte(p) & RTE_MASK);
    CHECK("ioapic.reset_all_masked", all_masked);
    ioapic_write(0x10 + 2 * 5, 0x1A5A5 & ~(RTE_RIRR | (1u << 12)));
    CHECK_EQ("ioapic.rte_low_readback", rte(5), 0x1A5A5 & ~(RTE_RIRR | (1u << 12)));
    ioapic_write(0x11 + 2 * 5, 0xAB000000);
    CHECK_EQ("ioapic.rte_high_readback", ioapic_read(0x11 + 2 * 5) & 0xFF000000, 0xAB000000);
    ioapic_write(0x10 + 2 * 5, RTE_MASK | RTE_RIRR);
    CHECK_EQ("ioapic.rte_rirr_read_only", rte(5) & RTE_RIRR, 0);
    ioapic_route(5, RTE_MASK);
}

static void test_pit(void)
{
    /* PIT IRQ0 is wired to GSI 2; mode 2 at ~500 us. */
    const uint16_t n = 597;
    ioapic_route(2, VEC_PIT);
    reset(VEC_PIT);
    outb(0x43, 0x34);
    outb(0x40, (uint8_t)n);
    outb(0x40, (uint8_t)(n >> 8));
    bool ok = wait_hits(VEC_PIT, 11, 100000000);
    CHECK("ioapic.pit_gsi2_edge", ok);
    if (ok)
        check_time("ioapic.pit_gsi2_period", stamps[10] - stamps[0], 10ull * n * 1000000000ull / PIT_HZ);
    CHECK_EQ("ioapic.pit_not_on_pin0", rte(0) & 0xFF, 0);
    /* Masked entry: the PIT keeps running, nothing arrives. */
    ioapic_route(2, VEC_PIT | RTE_MASK);
    spin_ns(100000);
    unsigned h = hits[VEC_PIT];
    spin_ns(3000000);
    CHECK_EQ("ioapic.masked_delivers_nothing", hits[VEC_PIT], h);
    /* Unmasking resumes delivery. */
    ioapic_route(2, VEC_PIT);
    ok = wait_hits(VEC_PIT, h + 2, 10000000);
    CHECK("ioapic.unmask_resumes", ok);

    /* Logical (flat) destination: LDR bit 0 matches, bit 1 does not. */
    LAPIC(0xE0) = 0xFFFFFFFFu;
    LAPIC(0xD0) = 1u << 24;
    ioapic_write(0x11 + 2 * 2, 1u << 24);
    ioapic_write(0x10 + 2 * 2, VEC_PIT | (1u << 11));
    h = hits[VEC_PIT];
    CHECK("ioapic.logical_dest_match", wait_hits(VEC_PIT, h + 2, 10000000));
    ioapic_write(0x11 + 2 * 2, 2u << 24);
    spin_ns(100000);
    h = hits[VEC_PIT];
    spin_ns(2000000);
    CHECK_EQ("ioapic.logical_dest_no_match", hits[VEC_PIT], h);
    /* Lowest priority to the one CPU in the set. */
    ioapic_write(0x11 + 2 * 2, 1u << 24);
    ioapic_write(0x10 + 2 * 2, VEC_PIT | (1u << 11) | (1u << 8));
    CHECK("ioapic.lowest_priority", wait_hits(VEC_PIT, h + 2, 10000000));
    /* NMI delivery mode: the vector field is ignored, the NMI handler runs. */
    ioapic_route(2, RTE_MASK);
    nmis = 0;
    ioapic_route(2, (4u << 8));
    uint64_t end = rdtsc() + 5000000;
    while (nmis < 2 && rdtsc() < end)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    ioapic_route(2, RTE_MASK);
    check("ioapic.nmi_delivery", nmis >= 2, "%u NMIs", nmis);
    outb(0x43, 0x30); /* mode 0 with no count: channel 0 stops raising edges */
}

static void test_rtc(void)
{
    ioapic_route(8, VEC_RTC);
    (void)cmos_read(0x0C);
    reset(VEC_RTC);
    cmos_write(0x0A, 0x26);
    cmos_write(0x0B, 0x42);
    bool ok = wait_hits(VEC_RTC, 11, 100000000);
    cmos_write(0x0B, 0x02);
    (void)cmos_read(0x0C);
    CHECK("ioapic.rtc_pin8", ok);
    if (ok)
        check_time("ioapic.rtc_pin8_period", stamps[10] - stamps[0], 10 * 976562ull);
    ioapic_route(8, RTE_MASK);
}

static void hpet_level_fire(void)
{
    HPET_T(0, 8) = HPET(0xF0) + 5000;
}

static void test_level(void)
{
    HPET(0x10) = 1;
    HPET(0x20) = 7;
    ioapic_route(22, VEC_LVL | RTE_LEVEL);
    HPET_T(0, 0) = (22ull << 9) | (1ull << 2) | (1ull << 1);

    /* LAPIC EOI broadcast clears remote IRR. */
    reset(VEC_LVL);
    lvl_mode = LVL_LAPIC_EOI;
    hpet_level_fire();
    bool ok = wait_hits(VEC_LVL, 1, 10000000);
    CHECK("ioapic.level_delivers", ok);
    CHECK("ioapic.level_remote_irr_set", rirr_in_handler != 0);
    CHECK_EQ("ioapic.level_remote_irr_cleared_by_lapic_eoi", rte(22) & RTE_RIRR, 0);
    CHECK_EQ("ioapic.level_rte_is_level", rte(22) & RTE_LEVEL, RTE_LEVEL);
    CHECK_EQ("ioapic.level_sets_lapic_tmr", tmr_in_handler[1], 1);
    CHECK_EQ("ioapic.edge_clears_lapic_tmr", tmr_in_handler[0], 0);

    /* Source still asserted at EOI: the entry delivers again. */
    reset(VEC_LVL);
    lvl_mode = LVL_NO_CLEAR_FIRST;
    hpet_level_fire();
    ok = wait_hits(VEC_LVL, 2, 10000000);
    CHECK("ioapic.level_redelivers_while_asserted", ok);
    spin_ns(100000);
    CHECK_EQ("ioapic.level_stops_after_clear", hits[VEC_LVL], 2);

    /* The EOI register clears remote IRR on its own. */
    reset(VEC_LVL);
    lvl_mode = LVL_IOAPIC_EOI;
    rirr_after_ioapic_eoi = 1;
    hpet_level_fire();
    ok = wait_hits(VEC_LVL, 1, 10000000);
    CHECK("ioapic.eoi_reg_delivers", ok && rirr_in_handler);
    CHECK_EQ("ioapic.eoi_reg_clears_remote_irr", rirr_after_ioapic_eoi, 0);

    /* Without any EOI, remote IRR stays set and holds off further deliveries. */
    reset(VEC_LVL);
    lvl_mode = LVL_LAPIC_EOI;
    cli();
    hpet_level_fire();
    spin_ns(0);
    uint64_t end = rdtsc() + 100000;
    while (rdtsc() < end)
        __asm__ volatile("pause");
    /* Interrupts are off: the LAPIC holds the vector in IRR and remote IRR is set. */
    CHECK("ioapic.level_rirr_set_before_accept", (rte(22) & RTE_RIRR) != 0);
    CHECK("ioapic.level_lapic_irr", (LAPIC(0x200 + 0x10 * (VEC_LVL / 32)) >> (VEC_LVL % 32)) & 1);
    spin_ns(10000);
    CHECK_EQ("ioapic.level_accepted_once", hits[VEC_LVL], 1);
    CHECK_EQ("ioapic.level_rirr_clear_after", rte(22) & RTE_RIRR, 0);

    HPET_T(0, 0) = 0;
    HPET(0x20) = 7;
    ioapic_route(22, RTE_MASK);
    HPET(0x10) = 0;
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(VEC_PIT, on_irq);
    trap_set_handler(VEC_RTC, on_irq);
    trap_set_handler(VEC_LVL, on_irq);
    trap_set_handler(2, on_nmi);
    test_regs();
    test_pit();
    test_rtc();
    test_level();
    test_finish();
}
