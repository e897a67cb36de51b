/* Dual 8259A PIC: register-level scripts as a guest kernel drives it. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/i8259.h"
#include "devices/vclock.h"

enum op { END, OUT, IN, IRQ, ACK, PEND, INTR };
struct step { enum op op; uint32_t a, b; };
struct pic_case { const char *name; struct step s[32]; };

/* Linux's init_8259A: vectors 0x20/0x28, cascade on IRQ2, 8086 mode, all unmasked. */
#define INIT_NORMAL \
    {OUT, 0x20, 0x11}, {OUT, 0x21, 0x20}, {OUT, 0x21, 0x04}, {OUT, 0x21, 0x01}, \
    {OUT, 0xA0, 0x11}, {OUT, 0xA1, 0x28}, {OUT, 0xA1, 0x02}, {OUT, 0xA1, 0x01}, \
    {OUT, 0x21, 0x00}, {OUT, 0xA1, 0x00}
#define READ_ISR {OUT, 0x20, 0x0b}
#define READ_IRR {OUT, 0x20, 0x0a}

static const struct pic_case cases[] = {
    {"ack moves IRR to ISR, EOI clears", {INIT_NORMAL, {IRQ, 3, 1}, READ_IRR, {IN, 0x20, 0x08},
        {PEND, 1, 0}, {ACK, 0x23, 0}, READ_ISR, {IN, 0x20, 0x08}, READ_IRR, {IN, 0x20, 0x00},
        {OUT, 0x20, 0x20}, READ_ISR, {IN, 0x20, 0x00}, {PEND, 0, 0}}},
    {"lower priority waits for EOI", {INIT_NORMAL, {IRQ, 5, 1}, {IRQ, 3, 1}, {ACK, 0x23, 0},
        {PEND, 0, 0}, {OUT, 0x20, 0x20}, {PEND, 1, 0}, {ACK, 0x25, 0}}},
    {"higher priority nests", {INIT_NORMAL, {IRQ, 5, 1}, {ACK, 0x25, 0}, {IRQ, 1, 1}, {PEND, 1, 0},
        {ACK, 0x21, 0}, READ_ISR, {IN, 0x20, 0x22}}},
    {"spurious IRQ7 leaves ISR alone", {INIT_NORMAL, {PEND, 0, 0}, {ACK, 0x27, 0}, READ_ISR,
        {IN, 0x20, 0x00}}},
    {"cascade delivers slave vector", {INIT_NORMAL, {IRQ, 12, 1}, {PEND, 1, 0}, {ACK, 0x2c, 0},
        READ_ISR, {IN, 0x20, 0x04}, {OUT, 0xA0, 0x0b}, {IN, 0xA0, 0x10}, {OUT, 0xA0, 0x20},
        {OUT, 0x20, 0x20}, READ_ISR, {IN, 0x20, 0x00}}},
    {"spurious IRQ15 still acks cascade", {INIT_NORMAL, {OUT, 0x4D1, 0x04}, {IRQ, 10, 1},
        {IRQ, 10, 0}, {PEND, 1, 0}, {ACK, 0x2f, 0}, READ_ISR, {IN, 0x20, 0x04}, {OUT, 0xA0, 0x0b},
        {IN, 0xA0, 0x00}}},
    {"masked edge latches until unmasked", {INIT_NORMAL, {OUT, 0x21, 0x10}, {IRQ, 4, 1},
        {IRQ, 4, 0}, {PEND, 0, 0}, {IN, 0x21, 0x10}, {OUT, 0x21, 0x00}, {PEND, 1, 0},
        {ACK, 0x24, 0}}},
    {"edge input: one request per rising edge", {INIT_NORMAL, {IRQ, 6, 1}, {ACK, 0x26, 0},
        {OUT, 0x20, 0x20}, {PEND, 0, 0}, {IRQ, 6, 1}, {PEND, 0, 0}, {IRQ, 6, 0}, {IRQ, 6, 1},
        {PEND, 1, 0}}},
    {"level input (ELCR) re-requests after EOI", {INIT_NORMAL, {OUT, 0x4D1, 0x04},
        {IN, 0x4D1, 0x04}, {IRQ, 10, 1}, {ACK, 0x2a, 0}, {OUT, 0xA0, 0x20}, {OUT, 0x20, 0x20},
        {PEND, 1, 0}, {ACK, 0x2a, 0}, {IRQ, 10, 0}, {OUT, 0xA0, 0x20}, {OUT, 0x20, 0x20},
        {PEND, 0, 0}}},
    {"ELCR fixed-edge bits read 0", {{OUT, 0x4D0, 0xff}, {IN, 0x4D0, 0xf8}, {OUT, 0x4D1, 0xff},
        {IN, 0x4D1, 0xde}}},
    {"auto-EOI leaves ISR clear", {{OUT, 0x20, 0x11}, {OUT, 0x21, 0x40}, {OUT, 0x21, 0x04},
        {OUT, 0x21, 0x03}, {OUT, 0x21, 0xfe}, {IRQ, 0, 1}, {ACK, 0x40, 0}, READ_ISR,
        {IN, 0x20, 0x00}}},
    /* After rotating on IRQ3's EOI, IRQ3 is lowest and IRQ4 highest. */
    {"rotate on non-specific EOI", {INIT_NORMAL, {IRQ, 3, 1}, {ACK, 0x23, 0}, {OUT, 0x20, 0xa0},
        {IRQ, 3, 0}, {IRQ, 3, 1}, {IRQ, 1, 1}, {IRQ, 4, 1}, {ACK, 0x24, 0}, {OUT, 0x20, 0x20},
        {ACK, 0x21, 0}, {OUT, 0x20, 0x20}, {ACK, 0x23, 0}}},
    {"rotate on specific EOI", {INIT_NORMAL, {IRQ, 6, 1}, {ACK, 0x26, 0}, {OUT, 0x20, 0xe6},
        {IRQ, 6, 0}, {IRQ, 6, 1}, {IRQ, 7, 1}, {ACK, 0x27, 0}}},
    {"specific EOI clears only its level", {INIT_NORMAL, {IRQ, 5, 1}, {ACK, 0x25, 0}, {IRQ, 1, 1},
        {ACK, 0x21, 0}, {OUT, 0x20, 0x65}, READ_ISR, {IN, 0x20, 0x02}}},
    {"set priority makes next IRQ highest", {INIT_NORMAL, {OUT, 0x20, 0xc4}, {IRQ, 1, 1},
        {IRQ, 4, 1}, {IRQ, 5, 1}, {ACK, 0x25, 0}}},
    {"special mask mode lets lower levels in", {INIT_NORMAL, {IRQ, 3, 1}, {ACK, 0x23, 0},
        {IRQ, 5, 1}, {PEND, 0, 0}, {OUT, 0x21, 0x08}, {OUT, 0x20, 0x68}, {PEND, 1, 0},
        {ACK, 0x25, 0}, {OUT, 0x20, 0x48}, {OUT, 0x20, 0x65}, {PEND, 0, 0}}},
    {"poll mode acknowledges by read", {INIT_NORMAL, {IRQ, 3, 1}, {OUT, 0x20, 0x0c},
        {IN, 0x20, 0x83}, READ_ISR, {IN, 0x20, 0x08}, {OUT, 0x20, 0x20}, {OUT, 0x20, 0x0c},
        {IN, 0x20, 0x00}}},
    {"IMR reads back, ICW1 clears it", {INIT_NORMAL, {OUT, 0xA1, 0x5a}, {IN, 0xA1, 0x5a},
        {OUT, 0xA0, 0x11}, {IN, 0xA1, 0x00}}},
    {"INTR output follows deliverable IRQ", {INIT_NORMAL, {INTR, 0, 0}, {IRQ, 1, 1}, {INTR, 1, 0},
        {ACK, 0x21, 0}, {INTR, 0, 0}, {OUT, 0x20, 0x20}, {INTR, 0, 0}}},
    {"ICW2 ignores low vector bits", {{OUT, 0x20, 0x11}, {OUT, 0x21, 0x37}, {OUT, 0x21, 0x04},
        {OUT, 0x21, 0x01}, {OUT, 0x21, 0x00}, {IRQ, 1, 1}, {ACK, 0x31, 0}}},
};

static void record_intr(void *opaque, unsigned irq, int level)
{
    *(int *)opaque = level;
}

Test(pic, scripts)
{
    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        struct iobus bus;
        struct i8259 pic;
        int intr_level = 0;
        struct irq_line intr = {record_intr, &intr_level, 0};
        iobus_init(&bus);
        pic_init(&pic, &intr);
        cr_assert_eq(pic_register(&pic, &bus), 0);
        const struct pic_case *k = &cases[c];
        for (unsigned i = 0; i < ARRAY_SIZE(k->s) && k->s[i].op != END; i++) {
            const struct step *s = &k->s[i];
            switch (s->op) {
            case OUT:
                iobus_write(&bus, (uint16_t)s->a, s->b, 1);
                break;
            case IN: {
                uint32_t v = iobus_read(&bus, (uint16_t)s->a, 1);
                cr_expect_eq(v, s->b, "%s: step %u in(%#x) = %#x, want %#x", k->name, i, s->a,
                             v, s->b);
                break;
            }
            case IRQ:
                pic_set_irq(&pic, s->a, (int)s->b);
                break;
            case ACK: {
                unsigned v = pic_ack(&pic);
                cr_expect_eq(v, s->a, "%s: step %u ack = %#x, want %#x", k->name, i, v, s->a);
                break;
            }
            case PEND:
                cr_expect_eq(pic_intr_pending(&pic), s->a != 0, "%s: step %u pending", k->name, i);
                break;
            case INTR:
                cr_expect_eq(intr_level, (int)s->a, "%s: step %u INTR", k->name, i);
                break;
            default:
                break;
            }
        }
    }
}

Test(pic, hostile_inputs_are_ignored)
{
    struct i8259 pic;
    pic_init(&pic, NULL);
    pic_set_irq(&pic, 16, 1);
    pic_set_irq(&pic, 0xffffffffu, 1);
    cr_expect(!pic_intr_pending(&pic));
}



static void fuzz_extra(void *ctx, uint64_t r)
{
    struct i8259 *p = ctx;
    pic_set_irq(p, (unsigned)(r >> 40) % 18, (int)((r >> 50) & 1));
    if (((r >> 52) & 3) == 0 && pic_intr_pending(p))
        pic_ack(p);
}

Test(pic, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1};
    struct iobus bus;
    struct i8259 pic;
    iobus_init(&bus);
    pic_init(&pic, NULL);
    pic_register(&pic, &bus);
    fuzz_ports(&bus, NULL, ports, ARRAY_SIZE(ports), 0x8259, fuzz_extra, &pic);
    pic_ack(&pic);
}
