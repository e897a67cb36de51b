/* Interrupt routing: ISA IRQs to PIC inputs and IOAPIC pins (IRQ0 -> GSI2), PCI GSIs to the
 * IOAPIC only, HPET legacy replacement cutting off the PIT and RTC lines. */
#include <criterion/criterion.h>

#include "devices/hpet.h"
#include "devices/irq_router.h"

struct rig {
    struct apic_bus bus;
    struct ioapic io;
    struct irq_router r;
    int pic[16];
    unsigned pic_calls;
};

static void pic_set(void *o, unsigned irq, int level)
{
    struct rig *g = o;
    cr_assert_lt(irq, 16u);
    g->pic[irq] = level;
    g->pic_calls++;
}

static void rig_init(struct rig *g)
{
    memset(g, 0, sizeof(*g));
    apic_bus_init(&g->bus);
    ioapic_init(&g->io, &g->bus, 0);
    struct irq_router_pic pic = { g, pic_set };
    irq_router_init(&g->r, &g->io, &pic);
}

static bool pin(const struct rig *g, unsigned gsi) { return (g->io.pin_level >> gsi) & 1; }

struct route_case {
    unsigned line;
    int pic_input;  /* -1: the PIC sees nothing */
    int gsi;        /* -1: the IOAPIC sees nothing */
};

static const struct route_case routes[] = {
    {0, 0, 2}, {1, 1, 1}, {2, -1, -1}, {4, 4, 4}, {8, 8, 8}, {9, 9, 9}, {15, 15, 15},
    {16, -1, 16}, {23, -1, 23},
};

Test(irq_router, routes)
{
    for (size_t k = 0; k < ARRAY_SIZE(routes); k++) {
        struct rig g;
        rig_init(&g);
        const struct route_case *c = &routes[k];
        irq_set(irq_router_line(&g.r, c->line), 1);
        for (unsigned i = 0; i < 16; i++)
            cr_assert_eq(g.pic[i], (int)i == c->pic_input, "line %u: PIC input %u", c->line, i);
        for (unsigned i = 0; i < IOAPIC_PINS; i++)
            cr_assert_eq(pin(&g, i), (int)i == c->gsi, "line %u: IOAPIC pin %u", c->line, i);
        cr_assert_eq(irq_router_gsi(c->line), c->gsi);
        irq_set(irq_router_line(&g.r, c->line), 0);
        cr_assert_eq(g.io.pin_level, 0u);
    }
    struct rig g;
    rig_init(&g);
    cr_assert_null(irq_router_line(&g.r, IRQ_ROUTER_LINES));
    irq_router_set(&g.r, 99, 1);
    cr_assert_eq(g.pic_calls, 0u);
}

Test(irq_router, hpet_legacy_replacement)
{
    struct rig g;
    rig_init(&g);
    irq_set(irq_router_line(&g.r, 0), 1); /* PIT output high */
    irq_set(irq_router_line(&g.r, 8), 1); /* RTC interrupt pending */
    cr_assert(g.pic[0] && pin(&g, 2) && g.pic[8] && pin(&g, 8));
    irq_router_set_hpet_legacy(&g.r, true);
    cr_assert(!g.pic[0] && !pin(&g, 2) && !g.pic[8] && !pin(&g, 8));
    irq_router_hpet_set(&g.r, 0, 1);
    cr_assert(g.pic[0] && pin(&g, 2));
    irq_router_hpet_set(&g.r, 0, 0);
    irq_set(irq_router_line(&g.r, 0), 0);
    irq_set(irq_router_line(&g.r, 0), 1); /* PIT pulses are cut off */
    cr_assert(!g.pic[0] && !pin(&g, 2));
    irq_set(irq_router_line(&g.r, 4), 1); /* other lines unaffected */
    cr_assert(g.pic[4] && pin(&g, 4));
    irq_router_set_hpet_legacy(&g.r, false);
    cr_assert(g.pic[0] && pin(&g, 2) && g.pic[8]);
}

Test(irq_router, shared_line_is_an_or)
{
    struct rig g;
    rig_init(&g);
    irq_router_set(&g.r, 20, 1);
    irq_router_hpet_set(&g.r, 20, 1);
    irq_router_hpet_set(&g.r, 20, 0);
    cr_assert(pin(&g, 20));
    irq_router_set(&g.r, 20, 0);
    cr_assert(!pin(&g, 20));
}

Test(irq_router, works_without_pic_or_ioapic)
{
    struct irq_router r;
    irq_router_init(&r, NULL, NULL);
    irq_pulse(irq_router_line(&r, 4));
    irq_router_hpet_set(&r, 0, 1);
    cr_assert_eq(r.hpet_level, 1u);
}

/* The whole path a timer interrupt takes once Linux has switched to the IOAPIC: HPET legacy
 * timer 0 -> ISA IRQ0 -> IOAPIC pin 2 -> LAPIC vector, with the PIT's own IRQ0 cut off; and
 * the SCI as a level interrupt that redelivers until the device drops it. */
Test(irq_router, hpet_and_sci_reach_the_cpu)
{
    struct rig g;
    rig_init(&g);
    struct vclock clock;
    vclock_init(&clock);
    struct lapic l;
    lapic_init(&l, &g.bus, &clock, NULL, 0, true);
    lapic_mmio_write(&l, 0xF0, 0x1FF, 4);
    apic_bus_set_eoi_broadcast(&g.bus, ioapic_eoi_broadcast, &g.io);
    /* IOAPIC pin 2: vector 0x30, edge, to APIC 0; pin 9: vector 0x39, level. */
    ioapic_mmio_write(&g.io, IOAPIC_REGSEL, 0x10 + 2 * 2, 4);
    ioapic_mmio_write(&g.io, IOAPIC_IOWIN, 0x30, 4);
    ioapic_mmio_write(&g.io, IOAPIC_REGSEL, 0x10 + 2 * 9, 4);
    ioapic_mmio_write(&g.io, IOAPIC_IOWIN, 0x8039, 4);

    struct hpet h;
    struct hpet_irq_ops ops = { &g.r, irq_router_hpet_set, irq_router_set_hpet_legacy };
    hpet_init(&h, &clock, &ops);
    hpet_mmio_write(&h, HPET_REG_TIMER(0) + HPET_TIMER_CONFIG, HPET_TN_ENABLE, 8);
    hpet_mmio_write(&h, HPET_REG_TIMER(0) + HPET_TIMER_CMP, 100, 8);
    hpet_mmio_write(&h, HPET_REG_CONFIG, HPET_CFG_ENABLE | HPET_CFG_LEGACY, 8);
    irq_set(irq_router_line(&g.r, 0), 1); /* the PIT holds IRQ0 high: cut off */
    cr_assert_eq(lapic_pending_vector(&l), -1);
    vclock_advance_to(&clock, 1000);
    cr_assert_eq(lapic_ack(&l), 0x30);
    lapic_eoi(&l);

    const struct irq_line *sci = irq_router_line(&g.r, 9);
    irq_set(sci, 1);
    cr_assert(g.pic[9]);
    cr_assert_eq(lapic_ack(&l), 0x39);
    lapic_eoi(&l); /* still asserted: delivered again */
    cr_assert_eq(lapic_ack(&l), 0x39);
    irq_set(sci, 0);
    lapic_eoi(&l);
    cr_assert_eq(lapic_ack(&l), -1);
}
