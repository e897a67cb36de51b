/* i8042 controller: status, command byte, self-tests, output port, keyboard probe replies. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/i8042.h"
#include "devices/vclock.h"

enum op { END, OUT, IN, KIRQ, AIRQ, RESETS, A20, KRISES };
struct step { enum op op; uint32_t a, b; };
struct kbc_case { const char *name; struct step s[24]; };

#define CMD(v) {OUT, 0x64, (v)}
#define DATA(v) {OUT, 0x60, (v)}
#define RDATA(v) {IN, 0x60, (v)}
#define STATUS(v) {IN, 0x64, (v)}

static const struct kbc_case cases[] = {
    {"status after reset", {STATUS(0x14)}},
    {"self-test answers 0x55", {CMD(0xaa), STATUS(0x1d), RDATA(0x55), STATUS(0x1c)}},
    {"command byte read and write", {CMD(0x20), RDATA(0x65), CMD(0x60), DATA(0x47), CMD(0x20),
        RDATA(0x47), STATUS(0x1c)}},
    {"command byte SYS bit shows in status", {CMD(0x60), DATA(0x61), STATUS(0x10), CMD(0x60),
        DATA(0x65), STATUS(0x14)}},
    {"interface tests pass", {CMD(0xab), RDATA(0x00), CMD(0xa9), RDATA(0x00)}},
    {"disable and enable keyboard / aux", {CMD(0xad), CMD(0x20), RDATA(0x75), CMD(0xae),
        CMD(0x20), RDATA(0x65), CMD(0xa8), CMD(0x20), RDATA(0x45), CMD(0xa7), CMD(0x20),
        RDATA(0x65)}},
    {"controller RAM", {CMD(0x65), DATA(0x3c), CMD(0x25), RDATA(0x3c)}},
    {"output port read", {CMD(0xd0), RDATA(0x03)}},
    {"output port A20 bit", {CMD(0xd1), DATA(0x01), {A20, 1, 0}, {RESETS, 0, 0}, CMD(0xd1),
        DATA(0x03), {A20, 2, 1}, CMD(0xd0), RDATA(0x03)}},
    {"output port reset bit low resets", {CMD(0xd1), DATA(0x02), {RESETS, 1, 0}}},
    {"A20 enable/disable commands", {CMD(0xdd), {A20, 1, 0}, CMD(0xdf), {A20, 2, 1}}},
    {"pulse reset line", {CMD(0xff), {RESETS, 0, 0}, CMD(0xfe), {RESETS, 1, 0}}},
    {"keyboard reset: ACK then BAT", {{KIRQ, 0, 0}, DATA(0xff), {KIRQ, 1, 0}, STATUS(0x15),
        RDATA(0xfa), RDATA(0xaa), {KIRQ, 0, 0}, STATUS(0x14)}},
    {"keyboard ID, translated", {DATA(0xf2), RDATA(0xfa), RDATA(0xab), RDATA(0x41)}},
    {"keyboard ID, untranslated", {CMD(0x60), DATA(0x05), DATA(0xf2), RDATA(0xfa), RDATA(0xab),
        RDATA(0x83)}},
    {"keyboard LED command takes a parameter", {DATA(0xed), RDATA(0xfa), DATA(0x07),
        RDATA(0xfa), STATUS(0x14)}},
    {"keyboard echo and bad command", {DATA(0xee), RDATA(0xee), DATA(0x12), RDATA(0xfe)}},
    {"no IRQ1 when keyboard interrupt is off", {CMD(0x60), DATA(0x44), DATA(0xf4),
        {KIRQ, 0, 0}, STATUS(0x15), RDATA(0xfa)}},
    {"aux loopback goes to the aux buffer", {CMD(0x60), DATA(0x47), CMD(0xd3), DATA(0x5a),
        STATUS(0x35), {AIRQ, 1, 0}, {KIRQ, 0, 0}, RDATA(0x5a), {AIRQ, 0, 0}}},
    {"no mouse behind the aux port", {CMD(0xd4), DATA(0xff), STATUS(0x35), RDATA(0xfe)}},
    {"write keyboard buffer", {CMD(0xd2), DATA(0x1c), {KIRQ, 1, 0}, RDATA(0x1c)}},
    /* Each queued byte is a new edge on IRQ1: the line drops on the read that empties the
     * buffer and rises again with the next byte. */
    {"one IRQ1 edge per byte of a reply", {DATA(0xf2), {KRISES, 1, 0}, RDATA(0xfa),
        {KRISES, 2, 0}, {KIRQ, 1, 0}, RDATA(0xab), {KRISES, 3, 0}, RDATA(0x41), {KIRQ, 0, 0},
        {KRISES, 3, 0}}},
    {"one IRQ1 edge per byte of reset", {DATA(0xff), RDATA(0xfa), RDATA(0xaa), {KRISES, 2, 0}}},
};

struct rec { int kbd, aux, resets, a20_calls, kbd_rises; bool a20; };
static void kbd_set(void *opaque, unsigned irq, int level)
{
    struct rec *r = opaque;
    r->kbd_rises += level && !r->kbd;
    r->kbd = level;
}
static void aux_set(void *opaque, unsigned irq, int level)
{
    ((struct rec *)opaque)->aux = level;
}
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

Test(i8042, scripts)
{
    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        struct iobus bus;
        struct i8042 k;
        struct rec r = {0, 0, 0, 0, 0, true};
        struct irq_line kl = {kbd_set, &r, 1}, al = {aux_set, &r, 12};
        struct sys_ctl ctl = {&r, req, a20};
        iobus_init(&bus);
        i8042_init(&k, &kl, &al, &ctl);
        cr_assert_eq(i8042_register(&k, &bus), 0);
        const struct kbc_case *t = &cases[c];
        for (unsigned i = 0; i < ARRAY_SIZE(t->s) && t->s[i].op != END; i++) {
            const struct step *s = &t->s[i];
            switch (s->op) {
            case OUT:
                iobus_write(&bus, (uint16_t)s->a, s->b, 1);
                break;
            case IN: {
                uint32_t v = iobus_read(&bus, (uint16_t)s->a, 1);
                cr_expect_eq(v, s->b, "%s: step %u in(%#x) = %#x, want %#x", t->name, i, s->a,
                             v, s->b);
                break;
            }
            case KIRQ:
                cr_expect_eq(r.kbd, (int)s->a, "%s: step %u IRQ1", t->name, i);
                break;
            case AIRQ:
                cr_expect_eq(r.aux, (int)s->a, "%s: step %u IRQ12", t->name, i);
                break;
            case RESETS:
                cr_expect_eq(r.resets, (int)s->a, "%s: step %u resets", t->name, i);
                break;
            case KRISES:
                cr_expect_eq(r.kbd_rises, (int)s->a, "%s: step %u IRQ1 edges %d", t->name, i,
                             r.kbd_rises);
                break;
            case A20:
                cr_expect_eq(r.a20_calls, (int)s->a, "%s: step %u A20 calls", t->name, i);
                cr_expect_eq(r.a20, s->b != 0, "%s: step %u A20 state", t->name, i);
                break;
            default:
                break;
            }
        }
    }
}

Test(i8042, typed_scancodes_queue_behind_the_buffer)
{
    struct iobus bus;
    struct i8042 k;
    iobus_init(&bus);
    i8042_init(&k, NULL, NULL, NULL);
    i8042_register(&k, &bus);
    for (unsigned i = 0; i < 40; i++) /* more than the queue holds: the rest are dropped */
        i8042_kbd_push(&k, (uint8_t)(0x10 + i));
    /* The output buffer holds one byte and the queue the next ones. */
    for (unsigned i = 0; i < I8042_QUEUE_SIZE + 1; i++)
        cr_expect_eq(iobus_read(&bus, 0x60, 1), 0x10 + i);
    cr_expect_eq(iobus_read(&bus, 0x64, 1) & 1, 0);
}



Test(i8042, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0x60, 0x64};
    struct iobus bus;
    struct i8042 k;
    iobus_init(&bus);
    i8042_init(&k, NULL, NULL, NULL);
    i8042_register(&k, &bus);
    fuzz_ports(&bus, NULL, ports, ARRAY_SIZE(ports), 0x8042, NULL, NULL);
}
