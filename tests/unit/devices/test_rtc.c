/* MC146818 RTC/CMOS: time formats, setting the clock, interrupts, memory-size bytes. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"
#include <time.h>

#include "devices/mc146818.h"

enum op { END, OUT, IN, ADV, IRQL };
struct step { enum op op; uint64_t a, b; };
struct rtc_case { const char *name; struct step s[40]; };

#define MS 1000000ull
#define SEC 1000000000ull
#define WR(i, v) {OUT, 0x70, (i)}, {OUT, 0x71, (v)}
#define RD(i, v) {OUT, 0x70, (i)}, {IN, 0x71, (v)}
#define AT(ns) {ADV, (ns), 0}

static const struct rtc_case cases[] = {
    {"starts at 2026-01-01 00:00:00 (Thursday), BCD", {RD(0, 0x00), RD(2, 0x00), RD(4, 0x00),
        RD(6, 0x05), RD(7, 0x01), RD(8, 0x01), RD(9, 0x26), RD(0x32, 0x20)}},
    {"advances with virtual time", {AT(3725 * SEC + 500 * MS), RD(0, 0x05), RD(2, 0x02),
        RD(4, 0x01), RD(7, 0x01)}},
    {"binary mode", {WR(0x0b, 0x06), AT(3725 * SEC), RD(0, 5), RD(2, 2), RD(4, 1),
        AT(3725 * SEC + 54 * SEC), RD(0, 59), RD(9, 26), RD(0x32, 20)}},
    {"12-hour mode", {WR(0x0b, 0x00), RD(4, 0x12), AT(3600 * SEC), RD(4, 0x01),
        AT(12 * 3600 * SEC), RD(4, 0x92), AT(13 * 3600 * SEC), RD(4, 0x81)}},
    {"set the clock under SET, rolls over the century", {WR(0x0b, 0x82), WR(4, 0x23),
        WR(2, 0x59), WR(0, 0x58), WR(7, 0x31), WR(8, 0x12), WR(9, 0x99), WR(0x32, 0x19),
        AT(5 * SEC), RD(0, 0x58), WR(0x0b, 0x02), AT(7 * SEC), RD(0, 0x00), RD(2, 0x00),
        RD(4, 0x00), RD(7, 0x01), RD(8, 0x01), RD(9, 0x00), RD(0x32, 0x20), RD(6, 0x07)}},
    {"writing a time byte while running takes effect", {AT(500 * MS), WR(2, 0x30),
        AT(1500 * MS), RD(0, 0x01), RD(2, 0x30)}},
    {"12-hour write is understood", {WR(0x0b, 0x80), WR(4, 0x81), WR(0x0b, 0x02), RD(4, 0x13)}},
    {"update-ended interrupt and register C", {WR(0x0b, 0x12), AT(999 * MS), {IRQL, 0, 0},
        AT(1000 * MS), {IRQL, 1, 0}, RD(0x0c, 0xd0), {IRQL, 0, 0}, RD(0x0c, 0x00)}},
    {"alarm with don't-care bytes", {WR(1, 0x05), WR(3, 0xc0), WR(5, 0xff), WR(0x0b, 0x22),
        AT(4500 * MS), {IRQL, 0, 0}, RD(0x0c, 0x50), AT(5500 * MS), {IRQL, 1, 0},
        RD(0x0c, 0xf0), {IRQL, 0, 0}, AT(6500 * MS), RD(0x0c, 0x50)}},
    {"update in progress just before the second", {AT(500 * MS), RD(0x0a, 0x26),
        AT(SEC - 100000), RD(0x0a, 0xa6), AT(SEC + 1000), RD(0x0a, 0x26)}},
    {"divider reset stops the clock", {AT(500 * MS), WR(0x0a, 0x76), AT(10 * SEC), RD(0, 0x00),
        WR(0x0a, 0x26), AT(10 * SEC + 999 * MS), RD(0, 0x00), AT(11 * SEC), RD(0, 0x01)}},
    {"PF and UF are set with their interrupts off", {AT(500 * MS), RD(0x0c, 0x40),
        AT(600 * MS), RD(0x0c, 0x40), AT(1200 * MS), RD(0x0c, 0x50), WR(0x0a, 0x20),
        AT(1300 * MS), RD(0x0c, 0x00), {IRQL, 0, 0}}},
    {"SET clears UIE", {WR(0x0b, 0x92), RD(0x0b, 0x82)}},
    {"C and D are read-only", {WR(0x0c, 0xff), RD(0x0c, 0x00), WR(0x0d, 0x00), RD(0x0d, 0x80)}},
    {"memory size bytes", {RD(0x15, 0x80), RD(0x16, 0x02), RD(0x17, 0xff), RD(0x18, 0xff),
        RD(0x30, 0xff), RD(0x31, 0xff), RD(0x34, 0x00), RD(0x35, 0x1f), RD(0x5b, 0x00),
        RD(0x5c, 0x40), RD(0x5d, 0x00), RD(0x5f, 0x03)}},
    /* Keep last: the loop checks the NMI mask after it. */
    {"CMOS memory and NMI mask bit", {WR(0x40, 0x5a), RD(0x40, 0x5a), WR(0xc0, 0xa5),
        RD(0x40, 0xa5), {OUT, 0x70, 0x8d}, {IN, 0x71, 0x80}, {IN, 0x70, 0xff}}},
};

struct irq_rec { int level; unsigned rises; };
static void rec_set(void *opaque, unsigned irq, int level)
{
    struct irq_rec *r = opaque;
    if (level && !r->level)
        r->rises++;
    r->level = level;
}

static const struct rtc_config cfg_512m = {512ull << 20, 1ull << 30, 4, false, 0};

Test(rtc, scripts)
{
    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        struct vclock clk;
        struct iobus bus;
        struct mc146818 rtc;
        struct irq_rec rec = {0, 0};
        struct irq_line line = {rec_set, &rec, 8};
        vclock_init(&clk);
        iobus_init(&bus);
        rtc_init(&rtc, &clk, &line, &cfg_512m);
        cr_assert_eq(rtc_register(&rtc, &bus), 0);
        const struct rtc_case *k = &cases[c];
        for (unsigned i = 0; i < ARRAY_SIZE(k->s) && k->s[i].op != END; i++) {
            const struct step *s = &k->s[i];
            switch (s->op) {
            case OUT:
                iobus_write(&bus, (uint16_t)s->a, (uint32_t)s->b, 1);
                break;
            case IN: {
                uint32_t v = iobus_read(&bus, (uint16_t)s->a, 1);
                cr_expect_eq(v, s->b, "%s: step %u in = %#x, want %#x", k->name, i, v,
                             (unsigned)s->b);
                break;
            }
            case ADV:
                vclock_advance_to(&clk, s->a);
                break;
            case IRQL:
                cr_expect_eq(rec.level, (int)s->a, "%s: step %u IRQ8 level", k->name, i);
                break;
            default:
                break;
            }
        }
        if (c == ARRAY_SIZE(cases) - 1)
            cr_expect(rtc_nmi_masked(&rtc));
    }
}

/* Periodic interrupt rates from register A's RS field, counted over one virtual second with
 * the handler reading C as Linux's rtc driver does. */
static const struct { uint8_t rs; unsigned per_sec; } rates[] = {
    {0x0, 0}, {0x1, 256}, {0x2, 128}, {0x3, 8192}, {0x6, 1024}, {0xf, 2},
};

Test(rtc, periodic_rates)
{
    for (size_t c = 0; c < ARRAY_SIZE(rates); c++) {
        struct vclock clk;
        struct iobus bus;
        struct mc146818 rtc;
        struct irq_rec rec = {0, 0};
        struct irq_line line = {rec_set, &rec, 8};
        vclock_init(&clk);
        iobus_init(&bus);
        rtc_init(&rtc, &clk, &line, &cfg_512m);
        rtc_register(&rtc, &bus);
        iobus_write(&bus, 0x70, 0x0a, 1);
        iobus_write(&bus, 0x71, 0x20u | rates[c].rs, 1);
        iobus_write(&bus, 0x70, 0x0b, 1);
        iobus_write(&bus, 0x71, 0x42, 1);
        unsigned pf = 0;
        for (uint64_t t = 50000; t <= SEC; t += 50000) {
            vclock_advance_to(&clk, t);
            iobus_write(&bus, 0x70, 0x0c, 1);
            if (iobus_read(&bus, 0x71, 1) & 0x40)
                pf++;
        }
        cr_expect_eq(pf, rates[c].per_sec, "RS %u: %u periodic flags", rates[c].rs, pf);
        cr_expect_eq(rec.rises, rates[c].per_sec, "RS %u: %u IRQ8 edges", rates[c].rs,
                     rec.rises);
    }
}

Test(rtc, small_memory_and_start_time)
{
    struct vclock clk;
    struct iobus bus;
    struct mc146818 rtc;
    struct rtc_config cfg = {8ull << 20, 0, 1, false, 946684800}; /* 2000-01-01 */
    vclock_init(&clk);
    iobus_init(&bus);
    rtc_init(&rtc, &clk, NULL, &cfg);
    rtc_register(&rtc, &bus);
    static const uint8_t want[][2] = {{0x17, 0x00}, {0x18, 0x1c}, {0x34, 0}, {0x35, 0},
                                      {0x09, 0x00}, {0x32, 0x20}, {0x06, 0x07}};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        iobus_write(&bus, 0x70, want[i][0], 1);
        cr_expect_eq(iobus_read(&bus, 0x71, 1), want[i][1], "CMOS %#x", want[i][0]);
    }
    cr_expect_eq(rtc_get_time(&rtc), 946684800);
}

Test(rtc, host_time_option)
{
    struct vclock clk;
    struct mc146818 rtc;
    struct rtc_config cfg = {0, 0, 1, true, 0};
    vclock_init(&clk);
    rtc_init(&rtc, &clk, NULL, &cfg);
    int64_t d = rtc_get_time(&rtc) - (int64_t)time(NULL);
    cr_expect(d >= -5 && d <= 5);
}



Test(rtc, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0x70, 0x71, 0x71, 0x71};
    struct vclock clk;
    struct iobus bus;
    struct mc146818 rtc;
    vclock_init(&clk);
    iobus_init(&bus);
    rtc_init(&rtc, &clk, NULL, &cfg_512m);
    rtc_register(&rtc, &bus);
    fuzz_ports(&bus, &clk, ports, ARRAY_SIZE(ports), 0x146818, NULL, NULL);
}
