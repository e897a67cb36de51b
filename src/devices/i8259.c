/* Dual 8259A PIC: initialisation words, priorities, EOI modes, ELCR, poll mode and INTA. */
#include "devices/i8259.h"

#include <string.h>

/* Intel 8259A datasheet; PIIX ELCR: IRQ0, 1, 2, 8 and 13 are always edge-triggered. */
static const uint8_t elcr_masks[2] = {0xf8, 0xde};

static bool chip_is_level(const struct pic_chip *c, unsigned irq)
{
    return c->ltim || (c->elcr & (1u << irq));
}

/* Rank of the highest-priority bit set in mask, counting from priority_add; 8 when none. */
static unsigned get_priority(const struct pic_chip *c, uint8_t mask)
{
    if (!mask)
        return 8;
    unsigned pr = 0;
    while (!(mask & (1u << ((pr + c->priority_add) & 7))))
        pr++;
    return pr;
}

/* The IRQ this chip would present, or -1. In special mask mode masked in-service levels do not
 * block lower ones (8259A "special mask mode"); in special fully nested mode the master lets
 * the cascade line through again while it is in service. */
static int chip_get_irq(const struct pic_chip *c, bool master)
{
    unsigned pr = get_priority(c, (uint8_t)(c->irr & ~c->imr));
    if (pr == 8)
        return -1;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= (uint8_t)~c->imr;
    if (master && c->special_fully_nested)
        in_service &= (uint8_t)~(1u << 2);
    if (pr < get_priority(c, in_service))
        return (int)((pr + c->priority_add) & 7);
    return -1;
}

static void chip_set_input(struct pic_chip *c, unsigned irq, int level)
{
    uint8_t m = (uint8_t)(1u << irq);
    if (chip_is_level(c, irq)) {
        if (level) {
            c->irr |= m;
            c->last_irr |= m;
        } else {
            c->irr &= (uint8_t)~m;
            c->last_irr &= (uint8_t)~m;
        }
    } else {
        if (level) {
            if (!(c->last_irr & m))
                c->irr |= m;
            c->last_irr |= m;
        } else {
            c->last_irr &= (uint8_t)~m;
        }
    }
}

static void pic_update(struct i8259 *p)
{
    chip_set_input(&p->chip[0], 2, chip_get_irq(&p->chip[1], false) >= 0);
    int level = chip_get_irq(&p->chip[0], true) >= 0;
    if (level != p->intr_level) {
        p->intr_level = level;
        irq_set(&p->intr, level);
    }
}

static void chip_intack(struct pic_chip *c, unsigned irq)
{
    if (c->auto_eoi) {
        if (c->rotate_on_auto_eoi)
            c->priority_add = (uint8_t)((irq + 1) & 7);
    } else {
        c->isr |= (uint8_t)(1u << irq);
    }
    /* A level input stays requested while the device holds it. */
    if (!chip_is_level(c, irq))
        c->irr &= (uint8_t)~(1u << irq);
}

static void chip_init_reset(struct pic_chip *c)
{
    /* ICW1 clears IMR, ISR and the edge latches; a level input still asserted stays requested. */
    uint8_t elcr = c->elcr, elcr_mask = c->elcr_mask;
    uint8_t irr = c->irr & elcr, last = c->last_irr & elcr;
    memset(c, 0, sizeof(*c));
    c->elcr = elcr;
    c->elcr_mask = elcr_mask;
    c->irr = irr;
    c->last_irr = last;
}

uint8_t pic_ack(struct i8259 *p)
{
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    int irq = chip_get_irq(m, true);
    uint8_t vec;
    if (irq < 0) {
        vec = (uint8_t)(m->irq_base + 7); /* spurious IRQ7: ISR untouched */
    } else if (irq == 2) {
        int irq2 = chip_get_irq(s, false);
        if (irq2 >= 0) {
            chip_intack(s, (unsigned)irq2);
            vec = (uint8_t)(s->irq_base + irq2);
        } else {
            vec = (uint8_t)(s->irq_base + 7); /* spurious IRQ15; master still acks IRQ2 */
        }
        chip_intack(m, 2);
    } else {
        chip_intack(m, (unsigned)irq);
        vec = (uint8_t)(m->irq_base + irq);
    }
    pic_update(p);
    return vec;
}

bool pic_intr_pending(const struct i8259 *p)
{
    return chip_get_irq(&p->chip[0], true) >= 0;
}

void pic_set_irq(struct i8259 *p, unsigned irq, int level)
{
    if (irq >= 16)
        return;
    chip_set_input(&p->chip[irq >> 3], irq & 7, level);
    pic_update(p);
}

void pic_irq_handler(void *opaque, unsigned irq, int level)
{
    pic_set_irq(opaque, irq, level);
}

/* Poll command (OCW3 P=1): the next read returns 0x80|irq and acknowledges it, or 0. */
static uint8_t chip_poll_read(struct i8259 *p, unsigned idx)
{
    struct pic_chip *c = &p->chip[idx];
    int irq = chip_get_irq(c, idx == 0);
    if (irq < 0)
        return 0;
    chip_intack(c, (unsigned)irq);
    pic_update(p);
    return (uint8_t)(0x80 | irq);
}

static void chip_write(struct i8259 *p, unsigned idx, unsigned off, uint8_t v)
{
    struct pic_chip *c = &p->chip[idx];
    if (off == 0) {
        if (v & 0x10) { /* ICW1 */
            chip_init_reset(c);
            c->init_state = 1;
            c->init4 = v & 1;
            c->single_mode = (v >> 1) & 1;
            c->ltim = (v >> 3) & 1;
        } else if (v & 0x08) { /* OCW3 */
            if (v & 0x04)
                c->poll = true;
            if (v & 0x02)
                c->read_isr = v & 1;
            if (v & 0x40)
                c->special_mask = (v >> 5) & 1;
        } else { /* OCW2 */
            unsigned cmd = v >> 5, pr, irq;
            switch (cmd) {
            case 0: /* clear / set rotate in automatic EOI mode */
            case 4:
                c->rotate_on_auto_eoi = cmd == 4;
                break;
            case 1: /* non-specific EOI */
            case 5: /* rotate on non-specific EOI */
                pr = get_priority(c, c->isr);
                if (pr != 8) {
                    irq = (pr + c->priority_add) & 7;
                    c->isr &= (uint8_t)~(1u << irq);
                    if (cmd == 5)
                        c->priority_add = (uint8_t)((irq + 1) & 7);
                }
                break;
            case 3: /* specific EOI */
                c->isr &= (uint8_t)~(1u << (v & 7));
                break;
            case 6: /* set priority: IRQ v&7 becomes lowest */
                c->priority_add = (uint8_t)((v + 1) & 7);
                break;
            case 7: /* rotate on specific EOI */
                c->isr &= (uint8_t)~(1u << (v & 7));
                c->priority_add = (uint8_t)((v + 1) & 7);
                break;
            default: /* 2: no operation */
                break;
            }
        }
    } else {
        switch (c->init_state) {
        case 0: /* OCW1 */
            c->imr = v;
            break;
        case 1: /* ICW2: x86 mode takes vector bits 7-3 */
            c->irq_base = v & 0xf8;
            c->init_state = c->single_mode ? (c->init4 ? 3 : 0) : 2;
            break;
        case 2: /* ICW3: cascade wiring is fixed on a PC */
            c->init_state = c->init4 ? 3 : 0;
            break;
        default: /* ICW4 */
            c->special_fully_nested = (v >> 4) & 1;
            c->auto_eoi = (v >> 1) & 1;
            c->init_state = 0;
            break;
        }
    }
    pic_update(p);
}

static uint8_t chip_read(struct i8259 *p, unsigned idx, unsigned off)
{
    struct pic_chip *c = &p->chip[idx];
    if (c->poll) {
        c->poll = false;
        return chip_poll_read(p, idx);
    }
    if (off == 0)
        return c->read_isr ? c->isr : c->irr;
    return c->imr;
}

static uint32_t master_read(void *dev, uint16_t off, unsigned size)
{
    return chip_read(dev, 0, off & 1);
}
static void master_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    chip_write(dev, 0, off & 1, (uint8_t)v);
}
static uint32_t slave_read(void *dev, uint16_t off, unsigned size)
{
    return chip_read(dev, 1, off & 1);
}
static void slave_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    chip_write(dev, 1, off & 1, (uint8_t)v);
}

/* 0x4D0 covers IRQ0-7, 0x4D1 IRQ8-15; a word access reaches both. */
static uint32_t elcr_read(void *dev, uint16_t off, unsigned size)
{
    struct i8259 *p = dev;
    uint32_t v = 0;
    for (unsigned i = 0; i < size && off + i < 2; i++)
        v |= (uint32_t)p->chip[off + i].elcr << (8 * i);
    return v;
}
static void elcr_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct i8259 *p = dev;
    for (unsigned i = 0; i < size && off + i < 2; i++) {
        struct pic_chip *c = &p->chip[off + i];
        c->elcr = (uint8_t)(v >> (8 * i)) & c->elcr_mask;
    }
    pic_update(p);
}

static const struct io_ops master_ops = {master_read, master_write};
static const struct io_ops slave_ops = {slave_read, slave_write};
static const struct io_ops elcr_ops = {elcr_read, elcr_write};

void pic_reset(struct i8259 *p)
{
    for (unsigned i = 0; i < 2; i++) {
        chip_init_reset(&p->chip[i]);
        p->chip[i].elcr = 0;
        p->chip[i].elcr_mask = elcr_masks[i];
    }
    if (p->intr_level) {
        p->intr_level = 0;
        irq_set(&p->intr, 0);
    }
}

void pic_init(struct i8259 *p, const struct irq_line *intr)
{
    memset(p, 0, sizeof(*p));
    if (intr)
        p->intr = *intr;
    pic_reset(p);
}

int pic_register(struct i8259 *p, struct iobus *bus)
{
    if (iobus_register(bus, PIC_MASTER_BASE, 2, &master_ops, p, "pic-master") ||
        iobus_register(bus, PIC_SLAVE_BASE, 2, &slave_ops, p, "pic-slave") ||
        iobus_register(bus, PIC_ELCR_BASE, 2, &elcr_ops, p, "elcr"))
        return -1;
    return 0;
}
