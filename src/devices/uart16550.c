/* 16550A UART: registers, FIFOs, interrupt identification priorities and loopback, after the
 * National Semiconductor PC16550D data sheet. Transmission is instantaneous. */
#include "devices/uart16550.h"

#include <string.h>

enum {
    REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
    REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_RDI  0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI  0x08

#define IIR_NO_INT  0x01
#define IIR_MSI     0x00
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_PE   0x04
#define LSR_FE   0x08
#define LSR_BI   0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERR  (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80
#define MSR_DELTA 0x0f

/* The 1.8432 MHz crystal divided by 16 gives the baud clock. */
#define UART_CLOCK_HZ 1843200ull

static const uint8_t rx_trigger_levels[4] = {1, 4, 8, 14};

static bool fifo_on(const struct uart16550 *u)
{
    return u->fcr & FCR_ENABLE;
}

static uint8_t current_iir(const struct uart16550 *u)
{
    uint8_t id = IIR_NO_INT;
    unsigned trig = fifo_on(u) ? rx_trigger_levels[u->fcr >> 6] : 1;
    if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERR))
        id = IIR_RLSI;
    else if ((u->ier & IER_RDI) && u->timeout_ipending)
        id = IIR_TIMEOUT;
    else if ((u->ier & IER_RDI) && u->rx_count >= trig)
        id = IIR_RDI;
    else if ((u->ier & IER_THRI) && u->thr_ipending)
        id = IIR_THRI;
    else if ((u->ier & IER_MSI) && (u->msr & MSR_DELTA))
        id = IIR_MSI;
    return (uint8_t)(id | (fifo_on(u) ? IIR_FIFO_ON : 0));
}

/* The IRQ pin follows "an interrupt is pending", as QEMU's model does; OUT2 does not gate it,
 * so guests that never set OUT2 still get interrupts. */
static void update_irq(struct uart16550 *u)
{
    bool level = !(current_iir(u) & IIR_NO_INT);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

/* Four character times at the programmed rate and frame size. */
static uint64_t char_timeout_ns(const struct uart16550 *u)
{
    uint64_t div = u->divisor ? u->divisor : 0x10000;
    /* start + data + parity + stop bits */
    unsigned bits = 1u + 5u + (u->lcr & 3u) + ((u->lcr & 0x08) ? 1u : 0u) +
                    ((u->lcr & 0x04) ? 2u : 1u);
    return 4 * div * 16 * bits * 1000000000ull / UART_CLOCK_HZ;
}

static void rearm_timeout(struct uart16550 *u)
{
    u->timeout_ipending = false;
    if (u->clock && fifo_on(u) && u->rx_count)
        vtimer_arm(u->clock, &u->timeout_timer, vclock_now(u->clock) + char_timeout_ns(u));
    else if (u->clock)
        vtimer_cancel(u->clock, &u->timeout_timer);
}

static void timeout_fire(void *opaque, uint64_t now_ns)
{
    struct uart16550 *u = opaque;
    if (fifo_on(u) && u->rx_count) {
        u->timeout_ipending = true;
        update_irq(u);
    }
}

static void rx_clear(struct uart16550 *u)
{
    u->rx_head = u->rx_count = 0;
    u->lsr &= (uint8_t)~LSR_DR;
    rearm_timeout(u);
}

static unsigned rx_capacity(const struct uart16550 *u)
{
    return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static void rx_push(struct uart16550 *u, uint8_t b)
{
    if (u->rx_count >= rx_capacity(u)) {
        u->lsr |= LSR_OE;
        return;
    }
    u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
    u->rx_count++;
    u->lsr |= LSR_DR;
}

static uint8_t rx_pop(struct uart16550 *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t b = u->rx_fifo[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
    if (--u->rx_count == 0)
        u->lsr &= (uint8_t)~LSR_DR;
    return b;
}

unsigned uart_rx_space(const struct uart16550 *u)
{
    if (u->mcr & MCR_LOOP)
        return 0;
    return rx_capacity(u) - u->rx_count;
}

size_t uart_receive(struct uart16550 *u, const uint8_t *buf, size_t n)
{
    size_t accepted = 0;
    if (u->mcr & MCR_LOOP) /* the receiver hears only the transmitter */
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (u->rx_count < rx_capacity(u))
            accepted++;
        rx_push(u, buf[i]);
    }
    if (n) {
        rearm_timeout(u);
        update_irq(u);
    }
    return accepted;
}

void uart_poll(struct uart16550 *u)
{
    uint8_t buf[UART_FIFO_SIZE];
    unsigned space = uart_rx_space(u);
    if (!space || !u->backend.rx)
        return;
    size_t n = u->backend.rx(u->backend.opaque, buf, space);
    if (n > space)
        n = space;
    uart_receive(u, buf, n);
}

/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD; otherwise the far end holds CTS,
 * DSR and DCD up (a terminal is always attached). */
static void update_msr(struct uart16550 *u)
{
    uint8_t lines;
    if (u->mcr & MCR_LOOP)
        lines = (uint8_t)(((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
                          ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
    else
        lines = MSR_CTS | MSR_DSR | MSR_DCD;
    uint8_t old = u->msr, delta = 0;
    if ((old ^ lines) & MSR_CTS)
        delta |= MSR_DCTS;
    if ((old ^ lines) & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old & MSR_RI) && !(lines & MSR_RI))
        delta |= MSR_TERI; /* trailing edge only */
    if ((old ^ lines) & MSR_DCD)
        delta |= MSR_DDCD;
    u->msr = (uint8_t)(lines | (old & MSR_DELTA) | delta);
}

static void transmit(struct uart16550 *u, uint8_t b)
{
    if (u->mcr & MCR_LOOP) {
        rx_push(u, b);
        rearm_timeout(u);
    } else if (u->backend.tx) {
        u->backend.tx(u->backend.opaque, b);
    }
    /* The byte left at once: THR and shifter are empty again. */
    u->lsr |= LSR_THRE | LSR_TEMT;
    u->thr_ipending = true;
}

static uint8_t uart_read_reg(struct uart16550 *u, unsigned reg)
{
    uint8_t v;
    switch (reg) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB)
            return (uint8_t)u->divisor;
        v = rx_pop(u);
        rearm_timeout(u);
        update_irq(u);
        return v;
    case REG_IER:
        if (u->lcr & LCR_DLAB)
            return (uint8_t)(u->divisor >> 8);
        return u->ier;
    case REG_IIR_FCR:
        v = current_iir(u);
        /* Reading IIR while THRE is the reported source clears it. */
        if ((v & 0x0f) == IIR_THRI) {
            u->thr_ipending = false;
            update_irq(u);
        }
        return v;
    case REG_LCR:
        return u->lcr;
    case REG_MCR:
        return u->mcr;
    case REG_LSR:
        v = u->lsr;
        if (fifo_on(u) && (v & LSR_ERR))
            v |= 0x80; /* error in RCVR FIFO */
        u->lsr &= (uint8_t)~LSR_ERR;
        update_irq(u);
        return v;
    case REG_MSR:
        v = u->msr;
        u->msr &= (uint8_t)~MSR_DELTA;
        update_irq(u);
        return v;
    default:
        return u->scr;
    }
}

static void uart_write_reg(struct uart16550 *u, unsigned reg, uint8_t v)
{
    uint8_t old;
    switch (reg) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
            return;
        }
        u->thr_ipending = false;
        transmit(u, v);
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB) {
            u->divisor = (uint16_t)((u->divisor & 0x00ff) | (v << 8));
            return;
        }
        old = u->ier;
        u->ier = v & 0x0f;
        /* Enabling THRE interrupts with THR empty raises one at once (Linux's UART_BUG_THRE
         * probe and its start_tx rely on it). */
        if ((u->ier & IER_THRI) && !(old & IER_THRI) && (u->lsr & LSR_THRE))
            u->thr_ipending = true;
        break;
    case REG_IIR_FCR:
        if ((v ^ u->fcr) & FCR_ENABLE) {
            u->fcr = v & FCR_ENABLE; /* toggling FIFO mode clears both FIFOs */
            rx_clear(u);
        }
        if (v & FCR_CLEAR_RX)
            rx_clear(u);
        if (v & FCR_CLEAR_TX) {
            u->lsr |= LSR_THRE | LSR_TEMT;
            u->thr_ipending = true;
        }
        u->fcr = (v & FCR_ENABLE) ? (uint8_t)(v & 0xc9) : 0;
        break;
    case REG_LCR:
        u->lcr = v;
        break;
    case REG_MCR:
        u->mcr = v & 0x1f;
        update_msr(u);
        break;
    case REG_LSR: /* read-only (factory test register on some parts) */
    case REG_MSR:
        break;
    default:
        u->scr = v;
        break;
    }
    update_irq(u);
}

static uint32_t uart_io_read(void *dev, uint16_t off, unsigned size)
{
    return uart_read_reg(dev, off & 7);
}

static void uart_io_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    uart_write_reg(dev, off & 7, (uint8_t)v);
}

static const struct io_ops uart_ops = {uart_io_read, uart_io_write};

void uart_reset(struct uart16550 *u)
{
    if (u->clock)
        vtimer_cancel(u->clock, &u->timeout_timer);
    u->divisor = 12; /* 9600 baud */
    u->ier = 0;
    u->lcr = 0x03;   /* 8N1 */
    u->mcr = 0;
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = MSR_CTS | MSR_DSR | MSR_DCD;
    u->scr = 0;
    u->fcr = 0;
    u->rx_head = u->rx_count = 0;
    u->thr_ipending = false;
    u->timeout_ipending = false;
    u->irq_level = false;
    irq_set(&u->irq, 0);
}

void uart_init(struct uart16550 *u, uint16_t base, struct vclock *clock,
               const struct irq_line *irq, const struct uart_backend *backend)
{
    memset(u, 0, sizeof(*u));
    u->base = base;
    u->clock = clock;
    if (irq)
        u->irq = *irq;
    if (backend)
        u->backend = *backend;
    vtimer_init(&u->timeout_timer, timeout_fire, u);
    uart_reset(u);
}

int uart_register(struct uart16550 *u, struct iobus *bus)
{
    return iobus_register(bus, u->base, 8, &uart_ops, u, "uart16550");
}
