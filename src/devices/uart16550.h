/* 16550A UART (COM1 0x3F8/IRQ4, COM2 0x2F8/IRQ3) with 16-byte FIFOs. */
#ifndef HVEMU_UART16550_H
#define HVEMU_UART16550_H

#include "devices/iobus.h"
#include "devices/irq.h"
#include "devices/vclock.h"

#define UART_COM1_BASE 0x3F8
#define UART_COM1_IRQ  4
#define UART_COM2_BASE 0x2F8
#define UART_COM2_IRQ  3
#define UART_FIFO_SIZE 16

/* Host side of the serial line. Either callback may be NULL (output dropped / no input). */
struct uart_backend {
    void *opaque;
    void (*tx)(void *opaque, uint8_t byte);
    /* Non-blocking: copy up to max available bytes into buf, return how many. */
    size_t (*rx)(void *opaque, uint8_t *buf, size_t max);
};

struct uart16550 {
    uint16_t base;
    uint16_t divisor;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t rx_fifo[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
    bool thr_ipending;     /* THR-empty interrupt latched, cleared by IIR read or THR write */
    bool timeout_ipending; /* FIFO character timeout */
    bool irq_level;
    struct uart_backend backend;
    struct irq_line irq;
    struct vclock *clock;
    struct vtimer timeout_timer;
};

void uart_init(struct uart16550 *u, uint16_t base, struct vclock *clock,
               const struct irq_line *irq, const struct uart_backend *backend);
void uart_reset(struct uart16550 *u);
int uart_register(struct uart16550 *u, struct iobus *bus);
/* Room left in the receive FIFO (1 deep with FIFOs off, 0 in loopback). */
unsigned uart_rx_space(const struct uart16550 *u);
/* Push received bytes; bytes beyond the FIFO are lost with an overrun error, as on the wire.
 * Returns how many were accepted. */
size_t uart_receive(struct uart16550 *u, const uint8_t *buf, size_t n);
/* Pull what fits from backend.rx; the machine calls this from its run loop. */
void uart_poll(struct uart16550 *u);

#endif
