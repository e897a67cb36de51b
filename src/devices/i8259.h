/* Dual 8259A programmable interrupt controller (master 0x20, slave 0xA0 on IRQ2, ELCR 0x4D0). */
#ifndef HVEMU_I8259_H
#define HVEMU_I8259_H

#include "devices/iobus.h"
#include "devices/irq.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE  0xA0
#define PIC_ELCR_BASE   0x4D0

struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t elcr, elcr_mask;
    uint8_t last_irr;      /* input levels seen, for edge detection */
    uint8_t priority_add;  /* IRQ with highest priority = priority_add */
    uint8_t irq_base;      /* ICW2 vector base */
    uint8_t init_state;    /* 0 = operational, 1..3 = expecting ICW2..ICW4 */
    bool init4, single_mode, ltim;
    bool read_isr, poll, special_mask, auto_eoi, rotate_on_auto_eoi, special_fully_nested;
};

struct i8259 {
    struct pic_chip chip[2]; /* 0 master, 1 slave */
    struct irq_line intr;    /* INTR output to the CPU: level 1 while an IRQ is deliverable */
    int intr_level;
};

/* intr may be NULL; the CPU can also poll pic_intr_pending(). */
void pic_init(struct i8259 *p, const struct irq_line *intr);
void pic_reset(struct i8259 *p);
/* Registers 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1. Returns 0 or -1. */
int pic_register(struct i8259 *p, struct iobus *bus);
/* Drive ISA input irq (0-15) to level; edge inputs latch on 0->1. */
void pic_set_irq(struct i8259 *p, unsigned irq, int level);
/* Same, with the struct irq_line set() signature (opaque = struct i8259 *). */
void pic_irq_handler(void *opaque, unsigned irq, int level);
bool pic_intr_pending(const struct i8259 *p);
/* INTA cycle: returns the vector and moves the IRQ from IRR to ISR; spurious IRQ7/15 vector
 * when nothing is pending. */
uint8_t pic_ack(struct i8259 *p);

#endif
