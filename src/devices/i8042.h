/* i8042 keyboard controller at 0x60/0x64: command byte, self-tests, output port (A20, reset)
 * and a minimal always-present keyboard that answers the probe commands; no mouse. */
#ifndef HVEMU_I8042_H
#define HVEMU_I8042_H

#include "devices/iobus.h"
#include "devices/irq.h"
#include "devices/sysctl.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64
#define I8042_KBD_IRQ   1
#define I8042_AUX_IRQ   12
#define I8042_QUEUE_SIZE 16

struct i8042 {
    uint8_t status;
    uint8_t ram[32];        /* ram[0] is the controller command byte */
    uint8_t outport;
    uint8_t pending_cmd;    /* controller command awaiting its data byte, 0 = none */
    uint8_t kbd_pending;    /* keyboard command awaiting its parameter, 0 = none */
    uint8_t obuf;           /* output buffer byte while status OBF */
    bool obuf_aux;
    bool kbd_scanning;
    /* Bytes waiting behind the output buffer; bit 8 marks AUX data. */
    uint16_t queue[I8042_QUEUE_SIZE];
    unsigned q_head, q_count;
    bool kbd_level, aux_level;
    struct irq_line kbd_irq, aux_irq;
    struct sys_ctl ctl;
};

void i8042_init(struct i8042 *k, const struct irq_line *kbd_irq, const struct irq_line *aux_irq,
                const struct sys_ctl *ctl);
void i8042_reset(struct i8042 *k);
int i8042_register(struct i8042 *k, struct iobus *bus);
/* Queue a scancode byte as if typed on the keyboard (dropped when the queue is full or the
 * keyboard is not scanning). */
void i8042_kbd_push(struct i8042 *k, uint8_t byte);
bool i8042_a20(const struct i8042 *k);

#endif
