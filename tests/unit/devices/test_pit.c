/* 8254 PIT: programmed through ports 0x40-0x43, time advanced on the virtual clock. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/i8254.h"

enum op { END, OUT, IN, ADV, EDGES, LEVEL, ZERO, GATE, OUTPIN, OUT0 };
struct step { enum op op; uint64_t a, b; };
struct pit_case { const char *name; struct step s[24]; };

#define MS 1000000ull
#define US 1000ull

static const struct pit_case cases[] = {
    /* Linux's periodic clockevent: mode 2, LATCH = 1193 for HZ=1000. */
    {"mode 2: 10 IRQ0 edges in 10 ms", {{OUT, 0x43, 0x34}, {OUT, 0x40, 1193 & 0xff},
        {OUT, 0x40, 1193 >> 8}, {ZERO, 0, 0}, {ADV, 10 * MS, 0}, {EDGES, 10, 0}}},
    /* A new count written mid-period (no control word) waits for the next reload. */
    {"mode 2: new count takes effect at the next reload", {{OUT, 0x43, 0x34},
        {OUT, 0x40, 1193 & 0xff}, {OUT, 0x40, 1193 >> 8}, {ADV, 1300 * US, 0},
        {OUT, 0x40, 2386 & 0xff}, {OUT, 0x40, 2386 >> 8}, {ZERO, 0, 0}, {ADV, 2100 * US, 0},
        {EDGES, 1, 0}, {ADV, 3900 * US, 0}, {EDGES, 1, 0}, {ADV, 4100 * US, 0}, {EDGES, 2, 0},
        {ADV, 6100 * US, 0}, {EDGES, 3, 0}}},
    {"mode 2: a second new count replaces the waiting one", {{ADV, 100 * MS, 0},
        {OUT, 0x43, 0x34}, {OUT, 0x40, 1193 & 0xff}, {OUT, 0x40, 1193 >> 8},
        {ADV, 101300 * US, 0}, {OUT, 0x40, 5000 & 0xff}, {OUT, 0x40, 5000 >> 8},
        {ADV, 101400 * US, 0}, {OUT, 0x40, 2386 & 0xff}, {OUT, 0x40, 2386 >> 8}, {ZERO, 0, 0},
        {ADV, 102100 * US, 0}, {EDGES, 1, 0}, {ADV, 103900 * US, 0}, {EDGES, 1, 0},
        {ADV, 104100 * US, 0}, {EDGES, 2, 0}}},
    {"mode 3: 10 IRQ0 edges in 10 ms", {{OUT, 0x43, 0x36}, {OUT, 0x40, 1193 & 0xff},
        {OUT, 0x40, 1193 >> 8}, {ZERO, 0, 0}, {ADV, 10 * MS, 0}, {EDGES, 10, 0}}},
    {"mode 3: square wave halves", {{OUT, 0x43, 0x36}, {OUT, 0x40, 100}, {OUT, 0x40, 0},
        {ADV, 30 * US, 0}, {OUT0, 1, 0}, {ADV, 40 * US, 0}, {LEVEL, 1, 0}, {OUT0, 1, 0},
        {ADV, 45 * US, 0}, {LEVEL, 0, 0}, {OUT0, 0, 0}, {ADV, 80 * US, 0}, {OUT0, 0, 0},
        {ADV, 85 * US, 0}, {LEVEL, 1, 0}, {OUT0, 1, 0}}},
    {"mode 3: count decrements by two", {{OUT, 0x43, 0x36}, {OUT, 0x40, 1000 & 0xff},
        {OUT, 0x40, 1000 >> 8}, {ADV, 83810, 0}, {IN, 0x40, 800 & 0xff}, {IN, 0x40, 800 >> 8}}},
    {"mode 2: count 0 means 65536", {{OUT, 0x43, 0x34}, {OUT, 0x40, 0}, {OUT, 0x40, 0},
        {ZERO, 0, 0}, {ADV, 54 * MS, 0}, {EDGES, 0, 0}, {ADV, 56 * MS, 0}, {EDGES, 1, 0}}},
    {"mode 0: one shot after count", {{OUT, 0x43, 0x30}, {OUT, 0x40, 100}, {OUT, 0x40, 0},
        {LEVEL, 0, 0}, {ZERO, 0, 0}, {ADV, 83 * US, 0}, {LEVEL, 0, 0}, {ADV, 84 * US, 0},
        {LEVEL, 1, 0}, {ADV, 100 * MS, 0}, {EDGES, 1, 0}, {LEVEL, 1, 0}}},
    {"mode 4: one low clock at terminal count", {{OUT, 0x43, 0x38}, {OUT, 0x40, 100},
        {OUT, 0x40, 0}, {LEVEL, 1, 0}, {ZERO, 0, 0}, {ADV, 84 * US, 0}, {LEVEL, 0, 0},
        {ADV, 86 * US, 0}, {LEVEL, 1, 0}, {ADV, 10 * MS, 0}, {EDGES, 1, 0}}},
    {"counter latch freezes the value read", {{OUT, 0x43, 0x34}, {OUT, 0x40, 1000 & 0xff},
        {OUT, 0x40, 1000 >> 8}, {ADV, 83810, 0}, {OUT, 0x43, 0x00}, {ADV, 200 * US, 0},
        {IN, 0x40, 900 & 0xff}, {IN, 0x40, 900 >> 8}, {IN, 0x40, (1000 - 238) & 0xff},
        {IN, 0x40, (1000 - 238) >> 8}}},
    {"read-back status then count", {{OUT, 0x43, 0x34}, {OUT, 0x40, 0x00}, {OUT, 0x40, 0x10},
        {OUT, 0x43, 0xc2}, {IN, 0x40, 0xb4}, {IN, 0x40, 0x00}, {IN, 0x40, 0x10}}},
    {"read-back status shows null count", {{OUT, 0x43, 0x30}, {OUT, 0x43, 0xe2},
        {IN, 0x40, 0x70}}},
    {"lobyte-only access", {{OUT, 0x43, 0x10}, {OUT, 0x40, 0x50}, {IN, 0x40, 0x50},
        {IN, 0x40, 0x50}}},
    {"hibyte-only access", {{OUT, 0x43, 0x20}, {OUT, 0x40, 0x02}, {IN, 0x40, 0x02},
        {ADV, 100 * US, 0}, {IN, 0x40, 0x01}}},
    {"BCD counts in decimal", {{OUT, 0x43, 0x31}, {OUT, 0x40, 0x00}, {OUT, 0x40, 0x10},
        {ADV, 83810, 0}, {IN, 0x40, 0x00}, {IN, 0x40, 0x09}}},
    {"channel 2 mode 0 waits for its gate", {{OUT, 0x43, 0xb0}, {OUT, 0x42, 100},
        {OUT, 0x42, 0}, {ADV, 1 * MS, 0}, {OUTPIN, 0, 0}, {IN, 0x42, 100}, {IN, 0x42, 0},
        {GATE, 1, 0}, {ADV, 1 * MS + 80 * US, 0}, {OUTPIN, 0, 0}, {ADV, 1 * MS + 90 * US, 0},
        {OUTPIN, 1, 0}}},
    {"channel 2 mode 1 triggers on gate edge", {{OUT, 0x43, 0xb2}, {OUT, 0x42, 50},
        {OUT, 0x42, 0}, {OUTPIN, 1, 0}, {ADV, 1 * MS, 0}, {OUTPIN, 1, 0}, {GATE, 1, 0},
        {ADV, 1 * MS + 1 * US, 0}, {OUTPIN, 0, 0}, {ADV, 1 * MS + 43 * US, 0}, {OUTPIN, 1, 0}}},
    {"channel 2 gate low holds mode 2 output high", {{GATE, 1, 0}, {OUT, 0x43, 0xb4},
        {OUT, 0x42, 2}, {OUT, 0x42, 0}, {GATE, 0, 0}, {OUTPIN, 1, 0}, {ADV, 10 * US, 0},
        {OUTPIN, 1, 0}, {IN, 0x42, 2}}},
    {"control word register reads nothing", {{IN, 0x43, 0xff}}},
};

struct irq_rec { int level; unsigned rises; };
static void rec_set(void *opaque, unsigned irq, int level)
{
    struct irq_rec *r = opaque;
    if (level && !r->level)
        r->rises++;
    r->level = level;
}

Test(pit, scripts)
{
    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        struct vclock clk;
        struct iobus bus;
        struct i8254 pit;
        struct irq_rec rec = {0, 0};
        struct irq_line line = {rec_set, &rec, 0};
        vclock_init(&clk);
        iobus_init(&bus);
        pit_init(&pit, &clk, &line);
        cr_assert_eq(pit_register(&pit, &bus), 0);
        const struct pit_case *k = &cases[c];
        for (unsigned i = 0; i < ARRAY_SIZE(k->s) && k->s[i].op != END; i++) {
            const struct step *s = &k->s[i];
            switch (s->op) {
            case OUT:
                iobus_write(&bus, (uint16_t)s->a, (uint32_t)s->b, 1);
                break;
            case IN: {
                uint32_t v = iobus_read(&bus, (uint16_t)s->a, 1);
                cr_expect_eq(v, s->b, "%s: step %u in(%#x) = %#x, want %#x", k->name, i,
                             (unsigned)s->a, v, (unsigned)s->b);
                break;
            }
            case ADV:
                vclock_advance_to(&clk, s->a);
                break;
            case ZERO:
                rec.rises = 0;
                break;
            case EDGES:
                cr_expect_eq(rec.rises, s->a, "%s: step %u: %u IRQ0 edges, want %u", k->name, i,
                             rec.rises, (unsigned)s->a);
                break;
            case LEVEL:
                cr_expect_eq(rec.level, (int)s->a, "%s: step %u IRQ0 level", k->name, i);
                break;
            case GATE:
                pit_set_gate(&pit, 2, s->a != 0);
                break;
            case OUTPIN:
                cr_expect_eq(pit_get_out(&pit, 2), s->a != 0, "%s: step %u OUT2", k->name, i);
                break;
            case OUT0:
                cr_expect_eq(pit_get_out(&pit, 0), s->a != 0, "%s: step %u OUT0", k->name, i);
                break;
            default:
                break;
            }
        }
    }
}

/* With a VP attached the run loop runs timers only between slices, i.e. late; the short low
 * pulse of mode 2 must still produce one rising edge per period. */
Test(pit, late_timer_runs_keep_every_edge)
{
    struct vclock clk;
    struct iobus bus;
    struct i8254 pit;
    struct irq_rec rec = {0, 0};
    struct irq_line line = {rec_set, &rec, 0};
    uint64_t icount = 0;
    vclock_init(&clk);
    vclock_attach(&clk, 0, &icount);
    iobus_init(&bus);
    pit_init(&pit, &clk, &line);
    pit_register(&pit, &bus);
    iobus_write(&bus, 0x43, 0x34, 1);
    iobus_write(&bus, 0x40, 1193 & 0xff, 1);
    iobus_write(&bus, 0x40, 1193 >> 8, 1);
    rec.rises = 0;
    /* Slices of 20 us, far longer than the 838 ns low pulse. */
    while (icount < 10000000) {
        icount += 20000;
        vclock_run_timers(&clk);
    }
    cr_expect_eq(rec.rises, 10);
}

Test(pit, periodic_timer_uses_deadlines_not_ticks)
{
    struct vclock clk;
    struct iobus bus;
    struct i8254 pit;
    vclock_init(&clk);
    iobus_init(&bus);
    pit_init(&pit, &clk, NULL);
    pit_register(&pit, &bus);
    iobus_write(&bus, 0x43, 0x34, 1);
    iobus_write(&bus, 0x40, 0xa9, 1);
    iobus_write(&bus, 0x40, 0x04, 1);
    /* One armed deadline, at the next output transition (count 1193: low at tick 1192). */
    cr_expect_eq(vclock_next_deadline(&clk), 999010u);
}



static void fuzz_extra(void *ctx, uint64_t r)
{
    pit_set_gate(ctx, (unsigned)(r >> 40) % 4, (r >> 50) & 1);
}

Test(pit, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0x40, 0x41, 0x42, 0x43};
    struct vclock clk;
    struct iobus bus;
    struct i8254 pit;
    vclock_init(&clk);
    iobus_init(&bus);
    pit_init(&pit, &clk, NULL);
    pit_register(&pit, &bus);
    fuzz_ports(&bus, &clk, ports, ARRAY_SIZE(ports), 0x8254, fuzz_extra, &pit);
}
