/* System ports: 0x61 with PIT channel 2, 0x92 fast A20/reset, 0x80 POST, 0xCF9 reset. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/sysports.h"

struct rec { int resets, a20_calls; bool a20; };
static void req(void *opaque, enum sys_request r, int status)
{
    if (r == SYS_REQ_RESET)
        ((struct rec *)opaque)->resets++;
}
static void a20(void *opaque, bool on)
{
    struct rec *r = opaque;
    r->a20_calls++;
    r->a20 = on;
}

struct fixture {
    struct vclock clk;
    struct iobus bus;
    struct i8254 pit;
    struct sysports sp;
    struct rec r;
    struct sys_ctl ctl;
};

static void setup(struct fixture *f)
{
    vclock_init(&f->clk);
    iobus_init(&f->bus);
    f->r = (struct rec){0, 0, true};
    f->ctl = (struct sys_ctl){&f->r, req, a20};
    pit_init(&f->pit, &f->clk, NULL);
    sysports_init(&f->sp, &f->pit, &f->clk, &f->ctl);
    cr_assert_eq(pit_register(&f->pit, &f->bus), 0);
    cr_assert_eq(sysports_register(&f->sp, &f->bus), 0);
}

/* Linux's pit_calibrate_tsc: gate high, speaker off, channel 2 mode 0, poll bit 5. */
Test(sysports, tsc_calibration_loop_sees_out2)
{
    struct fixture f;
    setup(&f);
    iobus_write(&f.bus, 0x61, (iobus_read(&f.bus, 0x61, 1) & ~0x02u) | 0x01, 1);
    iobus_write(&f.bus, 0x43, 0xb0, 1);
    uint16_t latch = 1193182 / 20; /* 50 ms */
    iobus_write(&f.bus, 0x42, latch & 0xff, 1);
    iobus_write(&f.bus, 0x42, latch >> 8, 1);
    uint64_t t = 0;
    while (!(iobus_read(&f.bus, 0x61, 1) & 0x20) && t < 100000000) {
        t += 1000;
        vclock_advance_to(&f.clk, t);
    }
    cr_expect(t >= 49999000 && t <= 50001000, "OUT2 rose after %llu ns", (unsigned long long)t);
}

static const struct { uint64_t at; uint8_t refresh; } refresh[] = {
    {0, 0x00}, {15084, 0x00}, {15085, 0x10}, {30169, 0x10}, {30170, 0x00},
};

Test(sysports, port61_bits)
{
    struct fixture f;
    setup(&f);
    iobus_write(&f.bus, 0x61, 0xff, 1);
    cr_expect_eq(iobus_read(&f.bus, 0x61, 1) & 0x0f, 0x0f);
    cr_expect(sysports_speaker_on(&f.sp));
    cr_expect(pit_get_gate(&f.pit, 2));
    iobus_write(&f.bus, 0x61, 0x00, 1);
    cr_expect(!pit_get_gate(&f.pit, 2));
    for (size_t i = 0; i < ARRAY_SIZE(refresh); i++) {
        vclock_advance_to(&f.clk, refresh[i].at);
        cr_expect_eq(iobus_read(&f.bus, 0x61, 1) & 0x10, refresh[i].refresh, "at %llu ns",
                     (unsigned long long)refresh[i].at);
    }
}

static const struct { uint16_t port; uint8_t v; int resets, a20_calls; bool a20; uint8_t rd; }
    writes[] = {
        {0x92, 0x00, 0, 1, false, 0x00}, /* A20 off */
        {0x92, 0x02, 0, 2, true, 0x02},  /* A20 on */
        {0x92, 0x03, 1, 2, true, 0x03},  /* fast reset on 0->1 */
        {0x92, 0x03, 1, 2, true, 0x03},  /* no edge, no reset */
        {0xcf9, 0x02, 1, 2, true, 0x02}, /* SYS_RST alone only selects the reset kind */
        {0xcf9, 0x06, 2, 2, true, 0x02}, /* RST_CPU resets */
        {0x80, 0x42, 2, 2, true, 0x42},  /* POST code */
    };

Test(sysports, reset_a20_post)
{
    struct fixture f;
    setup(&f);
    cr_expect_eq(iobus_read(&f.bus, 0x92, 1), 0x02);
    for (size_t i = 0; i < ARRAY_SIZE(writes); i++) {
        iobus_write(&f.bus, writes[i].port, writes[i].v, 1);
        cr_expect_eq(f.r.resets, writes[i].resets, "write %zu resets", i);
        cr_expect_eq(f.r.a20_calls, writes[i].a20_calls, "write %zu a20 calls", i);
        cr_expect_eq(f.r.a20, writes[i].a20, "write %zu a20", i);
        cr_expect_eq(iobus_read(&f.bus, writes[i].port, 1), writes[i].rd, "write %zu read", i);
    }
    cr_expect_eq(sysports_post_code(&f.sp), 0x42);
}



Test(sysports, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0x61, 0x92, 0x80, 0xcf9, 0x40, 0x42, 0x43};
    struct fixture f;
    setup(&f);
    fuzz_ports(&f.bus, &f.clk, ports, ARRAY_SIZE(ports), 0x61, NULL, NULL);
}
