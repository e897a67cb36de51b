/* IOAPIC: register window, redirection entries, edge and level delivery with remote IRR and
 * EOI (LAPIC broadcast and the version 0x20 EOI register), destinations on a 2-CPU bus. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/ioapic.h"

/* Script steps leave their unused trailing operands to zero-initialisation. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct rig {
    struct vclock clock;
    struct apic_bus bus;
    struct lapic l[2];
    struct ioapic io;
    unsigned nmi[2];
};

static void rec_nmi(void *o) { (*(unsigned *)o)++; }

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    vclock_init(&r->clock);
    apic_bus_init(&r->bus);
    for (unsigned i = 0; i < 2; i++) {
        struct lapic_cpu_ops ops = { .opaque = &r->nmi[i], .nmi = rec_nmi };
        lapic_init(&r->l[i], &r->bus, &r->clock, &ops, i, i == 0);
        lapic_mmio_write(&r->l[i], 0xF0, 0x1FF, 4);
        lapic_mmio_write(&r->l[i], 0xD0, (1u << i) << 24, 4); /* flat logical ID bit i */
    }
    ioapic_init(&r->io, &r->bus, 0);
    apic_bus_set_eoi_broadcast(&r->bus, ioapic_eoi_broadcast, &r->io);
}

enum op {
    END,
    WR,     /* a: register index, b: value */
    RD,     /* a: register index, b: expected */
    PIN,    /* a: gsi, b: level */
    IRRV,   /* a: cpu, b: vector, c: expected IRR bit */
    ACKEOI, /* a: cpu, b: expected vector; then EOI through the LAPIC */
    ACK,    /* a: cpu, b: expected vector, no EOI */
    EOIREG, /* a: vector written to the IOAPIC EOI register */
    REMOTE, /* a: pin, b: expected remote IRR */
    TPR,    /* a: cpu, b: value */
    NMIS,   /* a: cpu, b: expected NMI count */
};

struct step { enum op op; int64_t a, b, c; };
struct icase { const char *name; struct step s[32]; };

#define LO(pin) (0x10 + 2 * (pin))
#define HI(pin) (0x11 + 2 * (pin))
#define ROUTE(pin, lo, dest) {WR, LO(pin), lo}, {WR, HI(pin), (int64_t)(dest) << 24}

static const struct icase cases[] = {
    {"ID, version, arbitration", {{RD, 1, 0x170020}, {WR, 0, 0x0A000000}, {RD, 0, 0x0A000000},
        {RD, 2, 0x0A000000}, {WR, 1, 0}, {RD, 1, 0x170020}, {RD, 0x40, 0}}},
    {"entries reset masked; read-only bits", {{RD, LO(0), 0x10000}, {RD, HI(23), 0},
        {WR, LO(5), 0xFFFFFFFF}, {RD, LO(5), 0x1AFFF}, {WR, HI(5), 0xFFFFFFFF},
        {RD, HI(5), 0xFFFFFFFF}}},
    {"edge: one message per rising edge", {ROUTE(4, 0x34, 1), {PIN, 4, 1}, {IRRV, 1, 0x34, 1},
        {IRRV, 0, 0x34, 0}, {ACKEOI, 1, 0x34}, {PIN, 4, 1}, {IRRV, 1, 0x34, 0}, {PIN, 4, 0},
        {PIN, 4, 1}, {IRRV, 1, 0x34, 1}, {REMOTE, 4, 0}}},
    {"edge while masked is lost", {ROUTE(4, 0x10034, 1), {PIN, 4, 1}, {WR, LO(4), 0x34},
        {IRRV, 1, 0x34, 0}}},
    {"level: remote IRR until EOI, redelivery while asserted", {ROUTE(10, 0x803A, 0),
        {PIN, 10, 1}, {IRRV, 0, 0x3A, 1}, {REMOTE, 10, 1}, {ACK, 0, 0x3A}, {PIN, 10, 0},
        {PIN, 10, 1}, {IRRV, 0, 0x3A, 0}, {ACKEOI, 0, -1}, {REMOTE, 10, 1}, {IRRV, 0, 0x3A, 1},
        {PIN, 10, 0}, {ACKEOI, 0, 0x3A}, {REMOTE, 10, 0}, {IRRV, 0, 0x3A, 0}}},
    {"IOAPIC EOI register clears remote IRR", {ROUTE(11, 0x803B, 1), {PIN, 11, 1},
        {ACK, 1, 0x3B}, {PIN, 11, 0}, {REMOTE, 11, 1}, {EOIREG, 0x3C}, {REMOTE, 11, 1},
        {EOIREG, 0x3B}, {REMOTE, 11, 0}, {IRRV, 1, 0x3B, 0}}},
    {"unmasking an asserted level line delivers", {ROUTE(9, 0x18039, 0), {PIN, 9, 1},
        {IRRV, 0, 0x39, 0}, {WR, LO(9), 0x8039}, {IRRV, 0, 0x39, 1}, {REMOTE, 9, 1}}},
    {"switching to edge clears remote IRR", {ROUTE(9, 0x8039, 0), {PIN, 9, 1}, {REMOTE, 9, 1},
        {WR, LO(9), 0x0039}, {REMOTE, 9, 0}}},
    {"physical broadcast", {ROUTE(3, 0x33, 0xFF), {PIN, 3, 1}, {IRRV, 0, 0x33, 1},
        {IRRV, 1, 0x33, 1}}},
    {"logical flat destination", {ROUTE(3, 0x833, 0x02), {PIN, 3, 1}, {IRRV, 0, 0x33, 0},
        {IRRV, 1, 0x33, 1}}},
    {"lowest priority", {{TPR, 0, 0x20}, ROUTE(6, 0x936, 0x03), {PIN, 6, 1}, {IRRV, 0, 0x36, 0},
        {IRRV, 1, 0x36, 1}}},
    {"NMI delivery mode", {ROUTE(7, 0x400, 1), {PIN, 7, 1}, {NMIS, 1, 1}, {NMIS, 0, 0}}},
    {"out-of-range pins and registers", {{PIN, 24, 1}, {PIN, 200, 1}, {RD, 0x40, 0},
        {RD, 0xFF, 0}, {WR, 0x40, 1}}},
};

static void run_case(const struct icase *c)
{
    struct rig r;
    rig_init(&r);
    for (unsigned i = 0; c->s[i].op != END; i++) {
        const struct step *s = &c->s[i];
        struct lapic *l = &r.l[s->a & 1];
        switch (s->op) {
        case WR:
            ioapic_mmio_write(&r.io, IOAPIC_REGSEL, (uint64_t)s->a, 4);
            ioapic_mmio_write(&r.io, IOAPIC_IOWIN, (uint64_t)s->b, 4);
            break;
        case RD: {
            ioapic_mmio_write(&r.io, IOAPIC_REGSEL, (uint64_t)s->a, 4);
            uint64_t v = ioapic_mmio_read(&r.io, IOAPIC_IOWIN, 4);
            cr_assert_eq(v, (uint64_t)s->b, "%s: step %u: reg %#llx = %#llx", c->name, i,
                         (unsigned long long)s->a, (unsigned long long)v);
            break;
        }
        case PIN: ioapic_set_irq(&r.io, (unsigned)s->a, (int)s->b); break;
        case IRRV: {
            bool bit = (lapic_mmio_read(l, 0x200 + 0x10 * (gpa_t)(s->b / 32), 4) >> (s->b % 32)) & 1;
            cr_assert_eq(bit, s->c != 0, "%s: step %u: cpu %lld IRR[%#llx]", c->name, i,
                         (long long)s->a, (unsigned long long)s->b);
            break;
        }
        case ACKEOI:
        case ACK: {
            int v = lapic_ack(l);
            if (s->b >= 0)
                cr_assert_eq(v, s->b, "%s: step %u: ack %d", c->name, i, v);
            if (s->op == ACKEOI)
                lapic_mmio_write(l, 0xB0, 0, 4);
            break;
        }
        case EOIREG: ioapic_mmio_write(&r.io, IOAPIC_EOI, (uint64_t)s->a, 4); break;
        case REMOTE: {
            bool rirr = (r.io.redir[s->a] & IOAPIC_RTE_REMOTE_IRR) != 0;
            cr_assert_eq(rirr, s->b != 0, "%s: step %u: remote IRR", c->name, i);
            ioapic_mmio_write(&r.io, IOAPIC_REGSEL, LO(s->a), 4);
            cr_assert_eq((ioapic_mmio_read(&r.io, IOAPIC_IOWIN, 4) >> 14) & 1, (uint64_t)s->b);
            break;
        }
        case TPR: lapic_mmio_write(l, 0x80, (uint64_t)s->b, 4); break;
        case NMIS: cr_assert_eq(r.nmi[s->a & 1], s->b, "%s: step %u: NMIs", c->name, i); break;
        case END: break;
        }
    }
}

Test(ioapic, scripts)
{
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        run_case(&cases[i]);
}

Test(ioapic, narrow_regsel_access)
{
    struct rig r;
    rig_init(&r);
    ioapic_mmio_write(&r.io, IOAPIC_REGSEL, 0x101, 1);
    cr_assert_eq(ioapic_mmio_read(&r.io, IOAPIC_REGSEL, 4), 0x01);
    cr_assert_eq(ioapic_mmio_read(&r.io, IOAPIC_IOWIN + 2, 1), 0x17);
}


/* Random register, pin and EOI traffic. Invariant: an unmasked level entry whose pin is
 * asserted has been delivered and awaits EOI (remote IRR set). */
Test(ioapic, random_guest_io_is_harmless)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct rig r;
        rig_init(&r);
        uint64_t s = seed * 0x9E3779B97F4A7C15ull;
        for (unsigned n = 0; n < 20000; n++) {
            uint64_t x = xorshift(&s), v = xorshift(&s);
            switch (x & 7) {
            case 0: ioapic_mmio_write(&r.io, IOAPIC_REGSEL, (x >> 8) & 0x3F, 4); break;
            case 1: ioapic_mmio_write(&r.io, IOAPIC_IOWIN, v, 4); break;
            case 2: ioapic_mmio_read(&r.io, (x >> 8) & 0xFF, 1 + ((x >> 16) & 3)); break;
            case 3: ioapic_mmio_write(&r.io, (x >> 8) & 0xFF, v, 4); break;
            case 4:
            case 5: ioapic_set_irq(&r.io, (unsigned)(x >> 8) % 26, (int)(v & 1)); break;
            case 6: {
                struct lapic *l = &r.l[(x >> 8) & 1];
                if (lapic_ack(l) >= 0 || (x & 0x10000))
                    lapic_eoi(l);
                break;
            }
            default: ioapic_eoi(&r.io, (uint8_t)v); break;
            }
            for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
                uint64_t e = r.io.redir[pin];
                if ((e & IOAPIC_RTE_LEVEL) && !(e & IOAPIC_RTE_MASKED) &&
                    ((r.io.pin_level >> pin) & 1))
                    cr_assert(e & IOAPIC_RTE_REMOTE_IRR, "seed %llu step %u pin %u",
                              (unsigned long long)seed, n, pin);
            }
        }
    }
}
