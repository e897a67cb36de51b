/* 16550A UART: programmed through its eight ports as Linux's 8250 driver does. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"
#include <string.h>

#include "devices/uart16550.h"

enum op { END, OUT, IN, RX, ADV, IRQL, SINK, SPACE, ACCEPT };
struct step { enum op op; uint32_t a, b; const char *str; };
struct uart_case { const char *name; struct step s[28]; };

#define B 0x3f8
#define W(off, v) {OUT, B + (off), (v), NULL}
#define R(off, v) {IN, B + (off), (v), NULL}
#define IRQ_IS(l) {IRQL, (l), 0, NULL}
#define MS 1000000u

static const struct uart_case cases[] = {
    {"scratch register", {W(7, 0xa5), R(7, 0xa5), W(7, 0x5a), R(7, 0x5a)}},
    {"DLAB exposes the divisor latch", {W(3, 0x83), W(0, 0x01), W(1, 0x02), R(0, 0x01),
        R(1, 0x02), W(3, 0x03), R(1, 0x00), R(3, 0x03)}},
    {"IER keeps its low four bits", {W(1, 0xff), R(1, 0x0f)}},
    {"transmit goes to the sink", {W(0, 'h'), W(0, 'i'), {SINK, 0, 0, "hi"}, R(5, 0x60)}},
    {"reset state: no interrupt, FIFOs off", {R(2, 0x01), R(5, 0x60), R(4, 0x00), R(6, 0xb0)}},
    {"FIFO enable shows in IIR", {W(2, 0x01), R(2, 0xc1), W(2, 0x00), R(2, 0x01)}},
    {"loopback returns transmitted bytes", {W(4, 0x10), W(0, 0x55), R(5, 0x61), R(0, 0x55),
        R(5, 0x60), {SINK, 0, 0, ""}}},
    {"loopback modem lines (Linux autoconfig)", {W(4, 0x1a), {IN, B + 6, 0x90 | 0x02, NULL},
        R(6, 0x90)}},
    {"THRE interrupt on enable, cleared by IIR read", {IRQ_IS(0), W(1, 0x02), IRQ_IS(1),
        R(2, 0x02), IRQ_IS(0), R(2, 0x01)}},
    {"THRE interrupt again after each write", {W(1, 0x02), R(2, 0x02), W(0, 'x'), IRQ_IS(1),
        R(2, 0x02), R(2, 0x01)}},
    {"THRE probe twice (UART_BUG_THRE)", {W(1, 0x02), R(2, 0x02), W(1, 0x00), W(1, 0x02),
        R(2, 0x02)}},
    {"received data interrupt", {W(1, 0x01), {RX, 0, 0, "A"}, IRQ_IS(1), R(2, 0x04),
        R(5, 0x61), R(0, 'A'), R(2, 0x01), IRQ_IS(0)}},
    {"RX data outranks THRE", {W(1, 0x03), {RX, 0, 0, "z"}, R(2, 0x04), R(0, 'z'), R(2, 0x02)}},
    {"FIFO trigger level 14", {W(2, 0xc1), W(1, 0x01), {RX, 0, 0, "abcdefghijklm"},
        R(2, 0xc1), {RX, 0, 0, "n"}, R(2, 0xc4), R(0, 'a')}},
    {"character timeout below the trigger", {W(2, 0x41), W(1, 0x01), {RX, 0, 0, "xy"},
        R(2, 0xc1), {ADV, 4 * MS, 0, NULL}, R(2, 0xc1), {ADV, 5 * MS, 0, NULL}, R(2, 0xcc),
        IRQ_IS(1), R(0, 'x'), R(2, 0xc1), IRQ_IS(0), {ADV, 10 * MS, 0, NULL}, R(2, 0xcc),
        R(0, 'y'), {ADV, 20 * MS, 0, NULL}, R(2, 0xc1)}},
    {"overrun without FIFO", {{ACCEPT, 2, 1, "pq"}, R(5, 0x63), R(5, 0x61), R(0, 'p'),
        R(5, 0x60)}},
    {"line status interrupt outranks data", {W(1, 0x05), {RX, 0, 0, "pq"}, R(2, 0x06),
        R(5, 0x63), R(2, 0x04)}},
    {"FIFO error bit with FIFOs on", {W(2, 0x01), {RX, 0, 0, "0123456789abcdefg"},
        R(5, 0xe3), R(5, 0x61)}},
    {"FCR clears the receive FIFO", {W(2, 0x01), {RX, 0, 0, "abc"}, R(5, 0x61), W(2, 0x03),
        R(5, 0x60), R(2, 0xc1)}},
    {"modem status deltas in loopback", {W(4, 0x12), R(6, 0x1a), R(6, 0x10), W(4, 0x14),
        R(6, 0x41), W(1, 0x08), W(4, 0x10), R(2, 0x00), R(6, 0x04), R(2, 0x01)}},
    /* drivers/tty/serial/8250/8250_port.c autoconfig(): IER scratch test, loopback MSR test,
     * EFR probe under LCR 0xBF, FIFO type from IIR bits 7-6, the TI16750 64-byte FIFO test
     * under DLAB and the XScale UUE bit: the answers that make it say "16550A". */
    {"Linux autoconfig sees a 16550A", {W(1, 0x00), R(1, 0x00), W(1, 0x0f), R(1, 0x0f),
        W(1, 0x00), W(4, 0x1a), R(6, 0x92), W(4, 0x00), W(3, 0xbf), W(2, 0x00), W(3, 0x00),
        W(2, 0x01), R(2, 0xc1), W(3, 0x80), R(2, 0xc1), W(3, 0x00), W(2, 0x21), R(2, 0xc1),
        W(3, 0x80), W(2, 0x21), R(2, 0xc1), W(2, 0x01), W(3, 0x00), W(1, 0x40), R(1, 0x00)}},
    {"receive space", {{SPACE, 1, 0, NULL}, W(2, 0x01), {SPACE, 16, 0, NULL},
        {RX, 0, 0, "abc"}, {SPACE, 13, 0, NULL}, W(4, 0x10), {SPACE, 0, 0, NULL},
        {ACCEPT, 1, 0, "r"}}},
};

struct sink { char buf[64]; size_t len; };
static void sink_tx(void *opaque, uint8_t b)
{
    struct sink *s = opaque;
    if (s->len < sizeof(s->buf) - 1)
        s->buf[s->len++] = (char)b;
}

struct irq_rec { int level; };
static void rec_set(void *opaque, unsigned irq, int level)
{
    ((struct irq_rec *)opaque)->level = level;
}

Test(uart, scripts)
{
    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        struct vclock clk;
        struct iobus bus;
        struct uart16550 u;
        struct sink sk;
        struct irq_rec rec = {0};
        struct irq_line line = {rec_set, &rec, 4};
        struct uart_backend be = {&sk, sink_tx, NULL};
        memset(&sk, 0, sizeof(sk));
        vclock_init(&clk);
        iobus_init(&bus);
        uart_init(&u, UART_COM1_BASE, &clk, &line, &be);
        cr_assert_eq(uart_register(&u, &bus), 0);
        const struct uart_case *k = &cases[c];
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
            case RX:
                uart_receive(&u, (const uint8_t *)s->str, strlen(s->str));
                break;
            case ACCEPT: {
                size_t n = uart_receive(&u, (const uint8_t *)s->str, strlen(s->str));
                cr_expect_eq(n, s->b, "%s: step %u accepted %zu", k->name, i, n);
                break;
            }
            case ADV:
                vclock_advance_to(&clk, s->a);
                break;
            case IRQL:
                cr_expect_eq(rec.level, (int)s->a, "%s: step %u IRQ level", k->name, i);
                break;
            case SINK:
                cr_expect_str_eq(sk.buf, s->str, "%s: step %u sink", k->name, i);
                break;
            case SPACE:
                cr_expect_eq(uart_rx_space(&u), s->a, "%s: step %u space", k->name, i);
                break;
            default:
                break;
            }
        }
    }
}

struct source { const char *data; size_t pos; };
static size_t source_rx(void *opaque, uint8_t *buf, size_t max)
{
    struct source *s = opaque;
    size_t n = 0;
    while (n < max && s->data[s->pos])
        buf[n++] = (uint8_t)s->data[s->pos++];
    return n;
}

Test(uart, poll_pulls_only_what_fits)
{
    struct iobus bus;
    struct uart16550 u;
    struct source src = {"0123456789abcdefXYZ", 0};
    struct uart_backend be = {&src, NULL, source_rx};
    iobus_init(&bus);
    uart_init(&u, UART_COM2_BASE, NULL, NULL, &be);
    uart_register(&u, &bus);
    iobus_write(&bus, 0x2fa, 0x01, 1);
    uart_poll(&u);
    cr_expect_eq(src.pos, 16);
    cr_expect_eq(iobus_read(&bus, 0x2fd, 1) & 0x02, 0, "no overrun from polling");
    for (unsigned i = 0; i < 16; i++)
        cr_expect_eq(iobus_read(&bus, 0x2f8, 1), (uint32_t)"0123456789abcdef"[i]);
    uart_poll(&u);
    cr_expect_eq(iobus_read(&bus, 0x2f8, 1), 'X');
}



static void fuzz_extra(void *ctx, uint64_t r)
{
    uint8_t b[3] = {(uint8_t)(r >> 40), (uint8_t)(r >> 48), (uint8_t)(r >> 56)};
    if (((r >> 36) & 7) == 0)
        uart_receive(ctx, b, (r >> 39) % 4);
}

Test(uart, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff};
    struct vclock clk;
    struct iobus bus;
    struct uart16550 u;
    vclock_init(&clk);
    iobus_init(&bus);
    uart_init(&u, UART_COM1_BASE, &clk, NULL, NULL);
    uart_register(&u, &bus);
    fuzz_ports(&bus, &clk, ports, ARRAY_SIZE(ports), 0x16550, fuzz_extra, &u);
}
