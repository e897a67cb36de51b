/* An interrupt line from a device to the platform's interrupt routing (PIC + IOAPIC). */
#ifndef HVEMU_IRQ_H
#define HVEMU_IRQ_H

struct irq_line {
    /* level 1 = asserted, 0 = deasserted; an edge device pulses 1 then 0. */
    void (*set)(void *opaque, unsigned irq, int level);
    void *opaque;
    unsigned irq; /* ISA/GSI number the device is wired to */
};

static inline void irq_set(const struct irq_line *l, int level)
{
    if (l && l->set)
        l->set(l->opaque, l->irq, level);
}

static inline void irq_pulse(const struct irq_line *l)
{
    irq_set(l, 1);
    irq_set(l, 0);
}

#endif
