/* i8042 controller: command set as IBM's PS/2 technical reference and Linux's i8042 driver use
 * it; the attached keyboard is just enough to ACK and identify itself. */
#include "devices/i8042.h"

#include <string.h>

#define STAT_OBF     0x01
#define STAT_SYS     0x04
#define STAT_CMD     0x08 /* last write went to 0x64 */
#define STAT_UNLOCK  0x10
#define STAT_AUX_OBF 0x20

#define CTR_KBD_INT  0x01
#define CTR_AUX_INT  0x02
#define CTR_SYS      0x04
#define CTR_KBD_DIS  0x10
#define CTR_AUX_DIS  0x20
#define CTR_XLATE    0x40

#define OUT_RESET 0x01 /* active low: 0 holds the CPU in reset */
#define OUT_A20   0x02
#define OUT_OBF   0x10
#define OUT_AUX_OBF 0x20

#define AUX_BIT 0x100

static void update_irqs(struct i8042 *k)
{
    bool obf = k->status & STAT_OBF;
    bool kbd = obf && !k->obuf_aux && (k->ram[0] & CTR_KBD_INT);
    bool aux = obf && k->obuf_aux && (k->ram[0] & CTR_AUX_INT);
    k->outport = (uint8_t)((k->outport & ~(OUT_OBF | OUT_AUX_OBF)) | (kbd ? OUT_OBF : 0) |
                           (aux ? OUT_AUX_OBF : 0));
    if (kbd != k->kbd_level) {
        k->kbd_level = kbd;
        irq_set(&k->kbd_irq, kbd);
    }
    if (aux != k->aux_level) {
        k->aux_level = aux;
        irq_set(&k->aux_irq, aux);
    }
}

/* Move the next queued byte into the empty output buffer. */
static void refill(struct i8042 *k)
{
    if ((k->status & STAT_OBF) || !k->q_count)
        return;
    uint16_t b = k->queue[k->q_head];
    k->q_head = (k->q_head + 1) % I8042_QUEUE_SIZE;
    k->q_count--;
    k->obuf = (uint8_t)b;
    k->obuf_aux = (b & AUX_BIT) != 0;
    k->status |= STAT_OBF;
    if (k->obuf_aux)
        k->status |= STAT_AUX_OBF;
    else
        k->status &= (uint8_t)~STAT_AUX_OBF;
}

static void enqueue(struct i8042 *k, uint16_t b)
{
    if (k->q_count < I8042_QUEUE_SIZE) {
        k->queue[(k->q_head + k->q_count) % I8042_QUEUE_SIZE] = b;
        k->q_count++;
    }
    refill(k);
    update_irqs(k);
}

/* A controller reply replaces whatever is in the output buffer, as the real part does. */
static void reply(struct i8042 *k, uint8_t v)
{
    k->obuf = v;
    k->obuf_aux = false;
    k->status = (uint8_t)((k->status | STAT_OBF) & ~STAT_AUX_OBF);
    update_irqs(k);
}

static void set_outport(struct i8042 *k, uint8_t v)
{
    uint8_t old = k->outport;
    k->outport = v;
    if ((old ^ v) & OUT_A20)
        sys_set_a20(&k->ctl, (v & OUT_A20) != 0);
    if (!(v & OUT_RESET))
        sys_request(&k->ctl, SYS_REQ_RESET, 0);
}

static void set_ctr(struct i8042 *k, uint8_t v)
{
    k->ram[0] = v;
    k->status = (uint8_t)((k->status & ~STAT_SYS) | ((v & CTR_SYS) ? STAT_SYS : 0));
    update_irqs(k);
}

static void kbd_write(struct i8042 *k, uint8_t v)
{
    if (k->kbd_pending) {
        /* Parameter of 0xED (LEDs), 0xF3 (typematic) or 0xF0 (scancode set). */
        uint8_t cmd = k->kbd_pending;
        k->kbd_pending = 0;
        enqueue(k, 0xfa);
        if (cmd == 0xf0 && v == 0)
            enqueue(k, (k->ram[0] & CTR_XLATE) ? 0x41 : 0x02);
        return;
    }
    switch (v) {
    case 0xed:
    case 0xf0:
    case 0xf3:
        k->kbd_pending = v;
        enqueue(k, 0xfa);
        break;
    case 0xee: /* echo */
        enqueue(k, 0xee);
        break;
    case 0xf2: /* identify: MF2 keyboard, 0x83 translated to 0x41 */
        enqueue(k, 0xfa);
        enqueue(k, 0xab);
        enqueue(k, (k->ram[0] & CTR_XLATE) ? 0x41 : 0x83);
        break;
    case 0xf4:
        k->kbd_scanning = true;
        enqueue(k, 0xfa);
        break;
    case 0xf5:
        k->kbd_scanning = false;
        enqueue(k, 0xfa);
        break;
    case 0xff: /* reset: ACK, then basic assurance test passed */
        k->kbd_scanning = true;
        enqueue(k, 0xfa);
        enqueue(k, 0xaa);
        break;
    default:
        if (v >= 0xe0)
            enqueue(k, 0xfa);
        else
            enqueue(k, 0xfe); /* resend: not a command */
        break;
    }
}

static void data_write(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending_cmd;
    k->pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        if (cmd == 0x60)
            set_ctr(k, v);
        else
            k->ram[cmd & 0x1f] = v;
        return;
    }
    switch (cmd) {
    case 0xd1: /* write output port */
        set_outport(k, v);
        break;
    case 0xd2: /* write keyboard output buffer */
        enqueue(k, v);
        break;
    case 0xd3: /* write aux output buffer (Linux's AUX loopback probe) */
        enqueue(k, (uint16_t)(v | AUX_BIT));
        break;
    case 0xd4: /* to the aux device: there is none */
        enqueue(k, 0xfe | AUX_BIT);
        break;
    default:
        /* Writing to the keyboard enables its interface. */
        set_ctr(k, (uint8_t)(k->ram[0] & ~CTR_KBD_DIS));
        kbd_write(k, v);
        break;
    }
}

static void command_write(struct i8042 *k, uint8_t v)
{
    k->pending_cmd = 0;
    if (v >= 0x20 && v <= 0x3f) { /* read controller RAM; 0x20 is the command byte */
        reply(k, k->ram[v & 0x1f]);
        return;
    }
    if ((v >= 0x60 && v <= 0x7f) || (v >= 0xd1 && v <= 0xd4)) {
        k->pending_cmd = v;
        return;
    }
    if (v >= 0xf0) { /* pulse output port bits whose mask bit is 0; bit 0 is reset */
        if (!(v & 1))
            sys_request(&k->ctl, SYS_REQ_RESET, 0);
        return;
    }
    switch (v) {
    case 0xa7:
        set_ctr(k, k->ram[0] | CTR_AUX_DIS);
        break;
    case 0xa8:
        set_ctr(k, (uint8_t)(k->ram[0] & ~CTR_AUX_DIS));
        break;
    case 0xa9: /* aux interface test: no error */
    case 0xab: /* keyboard interface test: no error */
        reply(k, 0x00);
        break;
    case 0xaa: /* self-test */
        k->status |= STAT_SYS;
        reply(k, 0x55);
        break;
    case 0xad:
        set_ctr(k, k->ram[0] | CTR_KBD_DIS);
        break;
    case 0xae:
        set_ctr(k, (uint8_t)(k->ram[0] & ~CTR_KBD_DIS));
        break;
    case 0xc0: /* input port: keyboard not inhibited */
        reply(k, 0x80);
        break;
    case 0xd0:
        reply(k, k->outport);
        break;
    case 0xdd:
        set_outport(k, (uint8_t)(k->outport & ~OUT_A20));
        break;
    case 0xdf:
        set_outport(k, k->outport | OUT_A20);
        break;
    case 0xe0: /* test inputs */
        reply(k, 0x00);
        break;
    default:
        break;
    }
}

static uint32_t i8042_data_read(void *dev, uint16_t off, unsigned size)
{
    struct i8042 *k = dev;
    uint8_t v = k->obuf;
    k->status &= (uint8_t)~(STAT_OBF | STAT_AUX_OBF);
    /* Reading drops IRQ1/IRQ12 before the next queued byte raises them again: the IOAPIC
     * pins are edge-triggered, and a line that stayed high would lose every byte after the
     * first (an atkbd probe then times out, and the late bytes make serio rescan forever). */
    update_irqs(k);
    refill(k);
    update_irqs(k);
    return v;
}

static void i8042_data_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct i8042 *k = dev;
    k->status &= (uint8_t)~STAT_CMD;
    data_write(k, (uint8_t)v);
}

static uint32_t i8042_status_read(void *dev, uint16_t off, unsigned size)
{
    return ((struct i8042 *)dev)->status;
}

static void i8042_cmd_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct i8042 *k = dev;
    k->status |= STAT_CMD;
    command_write(k, (uint8_t)v);
}

static const struct io_ops data_ops = {i8042_data_read, i8042_data_write};
static const struct io_ops cmd_ops = {i8042_status_read, i8042_cmd_write};

void i8042_kbd_push(struct i8042 *k, uint8_t byte)
{
    if (k->kbd_scanning)
        enqueue(k, byte);
}

bool i8042_a20(const struct i8042 *k)
{
    return (k->outport & OUT_A20) != 0;
}

void i8042_reset(struct i8042 *k)
{
    memset(k->ram, 0, sizeof(k->ram));
    /* What PC firmware leaves: keyboard IRQ on, translation on, system flag set, aux off. */
    k->ram[0] = CTR_KBD_INT | CTR_SYS | CTR_AUX_DIS | CTR_XLATE;
    k->status = STAT_SYS | STAT_UNLOCK;
    k->outport = OUT_RESET | OUT_A20; /* A20 enabled; the machine's own reset state agrees */
    k->pending_cmd = k->kbd_pending = 0;
    k->obuf = 0;
    k->obuf_aux = false;
    k->kbd_scanning = true;
    k->q_head = k->q_count = 0;
    update_irqs(k);
}

void i8042_init(struct i8042 *k, const struct irq_line *kbd_irq, const struct irq_line *aux_irq,
                const struct sys_ctl *ctl)
{
    memset(k, 0, sizeof(*k));
    if (kbd_irq)
        k->kbd_irq = *kbd_irq;
    if (aux_irq)
        k->aux_irq = *aux_irq;
    if (ctl)
        k->ctl = *ctl;
    i8042_reset(k);
}

int i8042_register(struct i8042 *k, struct iobus *bus)
{
    if (iobus_register(bus, I8042_DATA_PORT, 1, &data_ops, k, "i8042-data") ||
        iobus_register(bus, I8042_CMD_PORT, 1, &cmd_ops, k, "i8042-cmd"))
        return -1;
    return 0;
}
