/* Platform interrupt routing: ISA IRQs and GSIs from devices to the 8259 PIC and the IOAPIC. */
#ifndef HVEMU_IRQ_ROUTER_H
#define HVEMU_IRQ_ROUTER_H

#include "devices/ioapic.h"
#include "devices/irq.h"

/* Lines 0-15 are ISA IRQs: they reach PIC input n and IOAPIC pin n, except IRQ0, which reaches
 * pin ISA_IRQ0_GSI (2) as the MADT's interrupt source override says. IRQ2 is the PIC cascade
 * and is not wired. Lines 16-23 are PCI GSIs and reach the IOAPIC only. */
#define IRQ_ROUTER_LINES IOAPIC_PINS

/* The PIC belongs to another file; the router reaches it through this hook. */
struct irq_router_pic {
    void *opaque;
    void (*set_irq)(void *opaque, unsigned irq, int level);
};

struct irq_router {
    struct irq_router_pic pic;
    struct ioapic *ioapic;              /* may be NULL */
    struct irq_line lines[IRQ_ROUTER_LINES];
    /* Each line is the OR of its two source groups: ordinary devices and the HPET. In HPET
     * legacy replacement mode the ordinary sources of IRQ0 (PIT) and IRQ8 (RTC) are cut off. */
    uint32_t dev_level, hpet_level;
    bool hpet_legacy;
};

void irq_router_init(struct irq_router *r, struct ioapic *ioapic, const struct irq_router_pic *pic);
/* The irq_line a device wired to ISA IRQ / GSI n drives; NULL if n is out of range. */
const struct irq_line *irq_router_line(struct irq_router *r, unsigned n);
/* Drive line n directly (struct irq_line signature; opaque = router). */
void irq_router_set(void *opaque, unsigned n, int level);
/* The HPET's own inputs, and its legacy replacement switch. */
void irq_router_hpet_set(void *opaque, unsigned n, int level);
void irq_router_set_hpet_legacy(void *opaque, bool on);
/* IOAPIC pin for ISA IRQ / GSI n, or -1 when not wired. */
int irq_router_gsi(unsigned n);

#endif
