/* The I/O APIC (82093AA-style, version 0x20): 24 redirection entries turning GSI levels into
 * APIC bus messages. */
#ifndef HVEMU_IOAPIC_H
#define HVEMU_IOAPIC_H

#include "devices/lapic.h"

#define IOAPIC_PINS    24u
#define IOAPIC_VERSION 0x20u

/* MMIO layout (offsets from the base). */
#define IOAPIC_REGSEL  0x00u
#define IOAPIC_IOWIN   0x10u
#define IOAPIC_EOI     0x40u /* version 0x20: write a vector to clear its remote IRR */

/* Indirect registers. */
#define IOAPIC_REG_ID      0x00u
#define IOAPIC_REG_VERSION 0x01u
#define IOAPIC_REG_ARB     0x02u
#define IOAPIC_REG_REDTBL  0x10u /* entry n: low dword 0x10 + 2n, high dword 0x11 + 2n */

/* Redirection entry bits. */
#define IOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define IOAPIC_RTE_DELIV_STATUS (1ull << 12)
#define IOAPIC_RTE_ACTIVE_LOW   (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR   (1ull << 14)
#define IOAPIC_RTE_LEVEL        (1ull << 15)
#define IOAPIC_RTE_MASKED       (1ull << 16)

struct ioapic {
    struct apic_bus *bus;
    uint32_t id;              /* bits 27:24 of the ID register */
    uint32_t regsel;
    uint64_t redir[IOAPIC_PINS];
    uint32_t pin_level;       /* raw input levels, one bit per pin (before polarity) */
};

void ioapic_init(struct ioapic *io, struct apic_bus *bus, uint8_t id);
void ioapic_reset(struct ioapic *io);
/* Drive input pin gsi (0-23) to level (1 = electrically high). Edge entries deliver on the
 * asserting transition; level entries deliver while asserted and remote IRR is clear. Edges
 * that arrive while the entry is masked are lost, as on the 82093AA. */
void ioapic_set_irq(struct ioapic *io, unsigned gsi, int level);
/* EOI broadcast from a LAPIC (apic_bus_set_eoi_broadcast(bus, ioapic_eoi_broadcast, io)). */
void ioapic_eoi(struct ioapic *io, uint8_t vector);
void ioapic_eoi_broadcast(void *opaque, uint8_t vector);

uint64_t ioapic_mmio_read(struct ioapic *io, gpa_t offset, unsigned size);
void ioapic_mmio_write(struct ioapic *io, gpa_t offset, uint64_t value, unsigned size);
extern const struct mmio_ops ioapic_mmio_ops; /* dev = struct ioapic * */

#endif
