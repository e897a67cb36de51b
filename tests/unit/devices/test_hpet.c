/* HPET: capabilities, the 100 MHz counter on the virtual clock, one-shot and periodic
 * comparators, 32-bit mode, level/edge interrupts with the status register, legacy routing. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/hpet.h"

/* Script steps leave their unused trailing operands to zero-initialisation. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct rig {
    struct vclock clock;
    struct hpet h;
    int level[24];
    unsigned edges[24];
    bool legacy;
};

static void rec_irq(void *o, unsigned irq, int level)
{
    struct rig *g = o;
    cr_assert_lt(irq, 24u);
    if (level && !g->level[irq])
        g->edges[irq]++;
    g->level[irq] = level;
}

static void rec_legacy(void *o, bool on) { ((struct rig *)o)->legacy = on; }

static void rig_init(struct rig *g)
{
    memset(g, 0, sizeof(*g));
    vclock_init(&g->clock);
    struct hpet_irq_ops ops = { g, rec_irq, rec_legacy };
    hpet_init(&g->h, &g->clock, &ops);
}

enum op {
    END,
    W64, W32, /* a: offset, b: value */
    R64, R32, /* a: offset, b: expected */
    ADV,      /* a: ns */
    EDGES,    /* a: irq, b: expected rising edges */
    LEVEL,    /* a: irq, b: expected level */
    LEG,      /* a: expected legacy-replacement state reported to the platform */
};

struct step { enum op op; uint64_t a, b; };
struct hcase { const char *name; struct step s[32]; };

#define CONF(n) (HPET_REG_TIMER(n) + HPET_TIMER_CONFIG)
#define CMP(n) (HPET_REG_TIMER(n) + HPET_TIMER_CMP)
#define ROUTE(r) ((uint64_t)(r) << HPET_TN_ROUTE_SHIFT)
#define CAPS (HPET_TN_PERIODIC_CAP | HPET_TN_SIZE_CAP | ((uint64_t)HPET_ROUTE_CAP << 32))
#define START {W64, HPET_REG_CONFIG, HPET_CFG_ENABLE}

static const struct hcase cases[] = {
    {"capabilities", {{R64, HPET_REG_CAP, 0x009896808086A201ull}, {R32, 4, 10000000},
        {R32, 0, 0x8086A201}, {W64, HPET_REG_CAP, 0}, {R32, 0, 0x8086A201},
        {R64, CONF(2), CAPS}, {R64, CMP(1), ~0ull}}},
    {"counter runs at 100 MHz only while enabled", {{ADV, 1000}, {R64, HPET_REG_COUNTER, 0},
        START, {ADV, 1000}, {R64, HPET_REG_COUNTER, 100}, {ADV, 5}, {R64, HPET_REG_COUNTER, 100},
        {ADV, 5}, {R64, HPET_REG_COUNTER, 101}, {W64, HPET_REG_CONFIG, 0}, {ADV, 1000},
        {R64, HPET_REG_COUNTER, 101}, {W64, HPET_REG_COUNTER, 0x1234},
        {W32, HPET_REG_COUNTER + 4, 1}, {R64, HPET_REG_COUNTER, 0x100001234ull}, START,
        {W64, HPET_REG_COUNTER, 0}, {ADV, 10}, {R32, HPET_REG_COUNTER, 0x1235},
        {R32, HPET_REG_COUNTER + 4, 1}}},
    {"timer config: writable bits and capabilities", {{W64, CONF(0), ~0ull},
        {R64, CONF(0), CAPS | 0x3F4E}, {W64, CONF(0), 0}, {R64, CONF(0), CAPS}}},
    {"one-shot comparator fires once", {{W64, CONF(2), HPET_TN_ENABLE | ROUTE(20)},
        {W64, CMP(2), 500}, START, {ADV, 4999}, {EDGES, 20, 0}, {ADV, 1}, {EDGES, 20, 1},
        {LEVEL, 20, 0}, {ADV, 1000000}, {EDGES, 20, 1}}},
    {"periodic: comparator advances by the period", {
        {W64, CONF(0), HPET_TN_ENABLE | HPET_TN_PERIODIC | HPET_TN_SETVAL | ROUTE(21)},
        {W64, CMP(0), 50}, {W64, CMP(0), 200}, {R64, CMP(0), 50},
        {R64, CONF(0), CAPS | HPET_TN_ENABLE | HPET_TN_PERIODIC | ROUTE(21)}, START,
        {ADV, 499}, {EDGES, 21, 0}, {ADV, 1}, {EDGES, 21, 1}, {R64, CMP(0), 250}, {ADV, 2000},
        {EDGES, 21, 2}, {R64, CMP(0), 450}, {ADV, 10000}, {EDGES, 21, 7}}},
    {"periodic write without VAL_SET sets only the period", {
        {W64, CONF(1), HPET_TN_ENABLE | ROUTE(22)}, {W64, CMP(1), 100},
        {W64, CONF(1), HPET_TN_ENABLE | HPET_TN_PERIODIC | ROUTE(22)}, {W64, CMP(1), 300},
        {R64, CMP(1), 100}, START, {ADV, 1000}, {EDGES, 22, 1}, {R64, CMP(1), 400},
        {ADV, 3000}, {EDGES, 22, 2}}},
    {"one-tick period coalesces, comparator keeps whole periods", {
        {W64, CONF(0), HPET_TN_ENABLE | HPET_TN_PERIODIC | HPET_TN_SETVAL | ROUTE(21)},
        {W64, CMP(0), 1}, {W64, CMP(0), 1}, START, {ADV, 10}, {EDGES, 21, 1}, {ADV, 999},
        {EDGES, 21, 1}, {ADV, 1}, {EDGES, 21, 2}, {R64, CMP(0), 102}}},
    {"legacy replacement: timer 0 -> IRQ0, timer 1 -> IRQ8", {
        {W64, CONF(0), HPET_TN_ENABLE | ROUTE(20)}, {W64, CMP(0), 10},
        {W64, CONF(1), HPET_TN_ENABLE | ROUTE(20)}, {W64, CMP(1), 20},
        {W64, HPET_REG_CONFIG, HPET_CFG_ENABLE | HPET_CFG_LEGACY}, {LEG, 1}, {ADV, 1000},
        {EDGES, 0, 1}, {EDGES, 8, 1}, {EDGES, 20, 0}, {W64, HPET_REG_CONFIG, 0}, {LEG, 0}}},
    {"level: status bit holds the line until written 1", {
        {W64, CONF(1), HPET_TN_ENABLE | HPET_TN_LEVEL | ROUTE(22)}, {W64, CMP(1), 10},
        {W64, CONF(2), HPET_TN_LEVEL | ROUTE(23)}, {W64, CMP(2), 10}, START, {ADV, 100},
        {LEVEL, 22, 1}, {LEVEL, 23, 0}, {R64, HPET_REG_ISR, 0x6}, {W64, HPET_REG_ISR, 0x1},
        {LEVEL, 22, 1}, {W32, HPET_REG_ISR, 0x2}, {LEVEL, 22, 0}, {R64, HPET_REG_ISR, 0x4},
        {W64, CONF(2), HPET_TN_LEVEL | HPET_TN_ENABLE | ROUTE(23)}, {LEVEL, 23, 1},
        {W64, HPET_REG_CONFIG, 0}, {LEVEL, 23, 0}}},
    {"two level timers sharing a line", {
        {W64, CONF(1), HPET_TN_ENABLE | HPET_TN_LEVEL | ROUTE(22)}, {W64, CMP(1), 10},
        {W64, CONF(2), HPET_TN_ENABLE | HPET_TN_LEVEL | ROUTE(22)}, {W64, CMP(2), 20}, START,
        {ADV, 1000}, {LEVEL, 22, 1}, {EDGES, 22, 1}, {W64, HPET_REG_ISR, 0x2}, {LEVEL, 22, 1},
        {W64, HPET_REG_ISR, 0x4}, {LEVEL, 22, 0}}},
    {"edge timers leave the status register alone", {{W64, CONF(0), HPET_TN_ENABLE | ROUTE(20)},
        {W64, CMP(0), 1}, START, {ADV, 100}, {EDGES, 20, 1}, {R64, HPET_REG_ISR, 0}}},
    {"route outside the capability mask is not delivered", {
        {W64, CONF(2), HPET_TN_ENABLE | ROUTE(5)}, {W64, CMP(2), 1}, START, {ADV, 100},
        {EDGES, 5, 0}, {R64, CONF(2), CAPS | HPET_TN_ENABLE | ROUTE(5)}}},
    {"32-bit mode truncates and matches the low half", {
        {W64, CONF(2), HPET_TN_ENABLE | HPET_TN_32BIT | ROUTE(20)}, {W64, CMP(2), 0x100000010ull},
        {R64, CMP(2), 0x10}, START, {ADV, 159}, {EDGES, 20, 0}, {ADV, 1}, {EDGES, 20, 1},
        {ADV, (1ull << 32) * 10 - 1}, {EDGES, 20, 1}, {ADV, 1}, {EDGES, 20, 2}}},
    {"64-bit comparator written in halves", {{W64, CONF(2), HPET_TN_ENABLE | ROUTE(20)},
        {W32, CMP(2), 0x20}, {W32, CMP(2) + 4, 0x1}, {R64, CMP(2), 0x100000020ull},
        {W32, CMP(2) + 4, 0}, START, {ADV, 320}, {EDGES, 20, 1}}},
    {"a passed 64-bit comparator never fires", {{W64, CONF(2), HPET_TN_ENABLE | ROUTE(20)},
        START, {ADV, 1000}, {W64, CMP(2), 50}, {ADV, 100000}, {EDGES, 20, 0}}},
    {"comparator set while halted counts from the frozen counter", {
        {W64, HPET_REG_COUNTER, 1000}, {W64, CONF(0), HPET_TN_ENABLE | ROUTE(21)},
        {W64, CMP(0), 1010}, START, {ADV, 99}, {EDGES, 21, 0}, {ADV, 1}, {EDGES, 21, 1}}},
};

static void run_case(const struct hcase *c)
{
    struct rig g;
    rig_init(&g);
    for (unsigned i = 0; c->s[i].op != END; i++) {
        const struct step *s = &c->s[i];
        uint64_t v;
        switch (s->op) {
        case W64: hpet_mmio_write(&g.h, s->a, s->b, 8); break;
        case W32: hpet_mmio_write(&g.h, s->a, s->b, 4); break;
        case R64:
        case R32:
            v = hpet_mmio_read(&g.h, s->a, s->op == R64 ? 8 : 4);
            cr_assert_eq(v, s->b, "%s: step %u: read %#llx = %#llx, want %#llx", c->name, i,
                         (unsigned long long)s->a, (unsigned long long)v,
                         (unsigned long long)s->b);
            break;
        case ADV: vclock_advance_to(&g.clock, vclock_now(&g.clock) + s->a); break;
        case EDGES:
            cr_assert_eq(g.edges[s->a], s->b, "%s: step %u: irq %llu edges %u", c->name, i,
                         (unsigned long long)s->a, g.edges[s->a]);
            break;
        case LEVEL:
            cr_assert_eq(g.level[s->a], (int)s->b, "%s: step %u: irq %llu level", c->name, i,
                         (unsigned long long)s->a);
            break;
        case LEG: cr_assert_eq(g.legacy, s->a != 0, "%s: step %u: legacy", c->name, i); break;
        case END: break;
        }
    }
}

Test(hpet, scripts)
{
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        run_case(&cases[i]);
}

/* A register read in the middle of a slice sees a match whose timer callback has not run. */
Test(hpet, mid_slice_reads_are_exact)
{
    struct rig g;
    rig_init(&g);
    uint64_t icount = 0;
    vclock_attach(&g.clock, 0, &icount);
    hpet_mmio_write(&g.h, CONF(0), HPET_TN_ENABLE | HPET_TN_LEVEL | ROUTE(20), 8);
    hpet_mmio_write(&g.h, CMP(0), 10, 8);
    hpet_mmio_write(&g.h, HPET_REG_CONFIG, HPET_CFG_ENABLE, 8);
    icount = 99;
    cr_assert_eq(hpet_mmio_read(&g.h, HPET_REG_ISR, 8), 0);
    icount = 100;
    cr_assert_eq(hpet_mmio_read(&g.h, HPET_REG_COUNTER, 4), 10);
    cr_assert_eq(hpet_mmio_read(&g.h, HPET_REG_ISR, 8), 1);
    cr_assert_eq(g.level[20], 1);
    cr_assert_eq(vclock_run_timers(&g.clock), 0, "already fired");
}

Test(hpet, hostile_accesses)
{
    struct rig g;
    rig_init(&g);
    cr_assert_eq(hpet_mmio_read(&g.h, 0x400, 4), 0);
    cr_assert_eq(hpet_mmio_read(&g.h, 0x3FF, 1), 0);
    hpet_mmio_write(&g.h, 0x3F8, ~0ull, 8);
    hpet_mmio_write(&g.h, CONF(0) + 1, 0xFF, 1); /* byte write: route bits 13:9 -> 31 */
    cr_assert_eq(hpet_mmio_read(&g.h, CONF(0), 8), CAPS | ROUTE(0x1F) | HPET_TN_32BIT);
    cr_assert_eq(hpet_mmio_read(&g.h, HPET_REG_CAP + 2, 2), 0x8086);
}


/* Random register traffic and time jumps. Invariant: each level timer holds its line high
 * exactly while its status bit is set, its interrupt enabled and the HPET running. */
Test(hpet, random_guest_io_is_harmless)
{
    static const unsigned sizes[4] = { 1, 2, 4, 8 };
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct rig g;
        rig_init(&g);
        uint64_t s = seed * 0x9E3779B97F4A7C15ull;
        for (unsigned n = 0; n < 20000; n++) {
            uint64_t x = xorshift(&s), v = xorshift(&s);
            gpa_t off = (x >> 8) & 0x3FF;
            if (x & 0x40000)
                off &= 0x178; /* bias towards real registers */
            switch (x & 3) {
            case 0: hpet_mmio_read(&g.h, off, sizes[(x >> 4) & 3]); break;
            case 1:
            case 2: {
                /* Mix raw values with plausible ones: small comparators, allowed routes. */
                static const uint64_t keep[4] = { ~0ull, 0xFFF, 0x14F, 0x7 };
                uint64_t val = v & keep[(x >> 20) & 3];
                if (((x >> 20) & 3) == 2)
                    val |= (20 + ((v >> 20) & 3)) << HPET_TN_ROUTE_SHIFT;
                hpet_mmio_write(&g.h, off, val, sizes[(x >> 4) & 3]);
                break;
            }
            default: vclock_advance_to(&g.clock, vclock_now(&g.clock) + (v & 0xFFFF)); break;
            }
            uint32_t want = 0;
            for (unsigned t = 0; t < HPET_NUM_TIMERS; t++) {
                const struct hpet_timer *tm = &g.h.timers[t];
                int irq = (int)((tm->config & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
                if (!((HPET_ROUTE_CAP >> irq) & 1))
                    irq = -1;
                if ((g.h.config & HPET_CFG_LEGACY) && t < 2)
                    irq = t == 0 ? 0 : 8;
                if ((g.h.config & HPET_CFG_ENABLE) && (tm->config & HPET_TN_LEVEL) &&
                    (tm->config & HPET_TN_ENABLE) && ((g.h.isr >> t) & 1) && irq >= 0)
                    want |= 1u << irq;
            }
            for (unsigned irq = 0; irq < 24; irq++)
                cr_assert_eq(g.level[irq], (int)((want >> irq) & 1), "seed %llu step %u irq %u",
                             (unsigned long long)seed, n, irq);
        }
    }
}
