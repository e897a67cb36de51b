/* Interrupt routing from device lines to the PIC and IOAPIC, with the ISA IRQ0 -> GSI2 override
 * and the HPET legacy replacement cut-off of the PIT and RTC lines. */
#include "devices/irq_router.h"

#include <string.h>

int irq_router_gsi(unsigned n)
{
    if (n == 2 || n >= IRQ_ROUTER_LINES)
        return -1;
    return n == 0 ? ISA_IRQ0_GSI : (int)n;
}

static bool line_level(const struct irq_router *r, unsigned n)
{
    uint32_t bit = 1u << n;
    bool dev = (r->dev_level & bit) != 0;
    if (r->hpet_legacy && (n == 0 || n == 8))
        dev = false;
    return dev || (r->hpet_level & bit) != 0;
}

static void propagate(struct irq_router *r, unsigned n, bool before)
{
    bool now = line_level(r, n);
    if (now == before)
        return;
    if (n < 16 && r->pic.set_irq)
        r->pic.set_irq(r->pic.opaque, n, now);
    int gsi = irq_router_gsi(n);
    if (gsi >= 0 && r->ioapic)
        ioapic_set_irq(r->ioapic, (unsigned)gsi, now);
}

void irq_router_set(void *opaque, unsigned n, int level)
{
    struct irq_router *r = opaque;
    if (n >= IRQ_ROUTER_LINES || n == 2)
        return;
    bool before = line_level(r, n);
    if (level)
        r->dev_level |= 1u << n;
    else
        r->dev_level &= ~(1u << n);
    propagate(r, n, before);
}

void irq_router_hpet_set(void *opaque, unsigned n, int level)
{
    struct irq_router *r = opaque;
    if (n >= IRQ_ROUTER_LINES || n == 2)
        return;
    bool before = line_level(r, n);
    if (level)
        r->hpet_level |= 1u << n;
    else
        r->hpet_level &= ~(1u << n);
    propagate(r, n, before);
}

void irq_router_set_hpet_legacy(void *opaque, bool on)
{
    struct irq_router *r = opaque;
    bool before0 = line_level(r, 0), before8 = line_level(r, 8);
    r->hpet_legacy = on;
    propagate(r, 0, before0);
    propagate(r, 8, before8);
}

const struct irq_line *irq_router_line(struct irq_router *r, unsigned n)
{
    return n < IRQ_ROUTER_LINES ? &r->lines[n] : NULL;
}

void irq_router_init(struct irq_router *r, struct ioapic *ioapic, const struct irq_router_pic *pic)
{
    memset(r, 0, sizeof(*r));
    r->ioapic = ioapic;
    if (pic)
        r->pic = *pic;
    for (unsigned i = 0; i < IRQ_ROUTER_LINES; i++)
        r->lines[i] = (struct irq_line){ .set = irq_router_set, .opaque = r, .irq = i };
}
