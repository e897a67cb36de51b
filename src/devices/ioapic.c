/* I/O APIC: indirect register window, redirection table, edge/level delivery with remote IRR
 * (82093AA datasheet; version 0x20 adds the directed EOI register, as QEMU's and KVM's). */
#include "devices/ioapic.h"

#include <string.h>

/* Writable bits of a redirection entry: vector, delivery mode, destination mode, polarity,
 * trigger, mask and the whole high dword (destination 63:56; 55:32 kept for the OS). */
#define RTE_WRITABLE 0xFFFFFFFF0001AFFFull

static bool pin_asserted(const struct ioapic *io, unsigned pin)
{
    /* Devices drive logical assertion levels (irq.h); polarity describes the wire, which the
     * emulation does not model, so it is stored but not applied (as QEMU and KVM do). */
    return (io->pin_level >> pin) & 1;
}

static void deliver(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    uint32_t dest = (uint32_t)(e >> 56);
    unsigned trigger = (e & IOAPIC_RTE_LEVEL) ? APIC_TRIGGER_LEVEL : APIC_TRIGGER_EDGE;
    if (dest == 0xFF)
        dest = APIC_DEST_BROADCAST;
    apic_bus_deliver(io->bus, dest, (e & IOAPIC_RTE_DEST_LOGICAL) ? APIC_DEST_LOGICAL
                                                                   : APIC_DEST_PHYSICAL,
                     (unsigned)(e >> 8) & 7, (uint8_t)e, 1, trigger);
}

/* A level entry delivers while its pin is asserted and no earlier delivery awaits EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    if (!(e & IOAPIC_RTE_LEVEL) || (e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) ||
        !pin_asserted(io, pin))
        return;
    io->redir[pin] |= IOAPIC_RTE_REMOTE_IRR;
    deliver(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned gsi, int level)
{
    if (gsi >= IOAPIC_PINS)
        return;
    bool was = pin_asserted(io, gsi);
    if (level)
        io->pin_level |= 1u << gsi;
    else
        io->pin_level &= ~(1u << gsi);
    uint64_t e = io->redir[gsi];
    if (e & IOAPIC_RTE_LEVEL)
        service_level(io, gsi);
    else if (level && !was && !(e & IOAPIC_RTE_MASKED))
        deliver(io, gsi);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if ((uint8_t)e != vector || !(e & IOAPIC_RTE_LEVEL) || !(e & IOAPIC_RTE_REMOTE_IRR))
            continue;
        io->redir[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
        service_level(io, pin); /* still asserted: the next interrupt follows at once */
    }
}

void ioapic_eoi_broadcast(void *opaque, uint8_t vector) { ioapic_eoi(opaque, vector); }

static uint32_t window_read(const struct ioapic *io)
{
    uint32_t r = io->regsel;
    switch (r) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return io->id << 24;
    case IOAPIC_REG_VERSION:
        return IOAPIC_VERSION | ((IOAPIC_PINS - 1) << 16);
    default:
        break;
    }
    if (r >= IOAPIC_REG_REDTBL && r < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
        uint64_t e = io->redir[(r - IOAPIC_REG_REDTBL) / 2];
        return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

static void window_write(struct ioapic *io, uint32_t v)
{
    uint32_t r = io->regsel;
    if (r == IOAPIC_REG_ID) {
        io->id = (v >> 24) & 0xF;
        return;
    }
    if (r < IOAPIC_REG_REDTBL || r >= IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS)
        return; /* version, arbitration and unimplemented registers are read-only */
    unsigned pin = (r - IOAPIC_REG_REDTBL) / 2;
    uint64_t old = io->redir[pin], e;
    if (r & 1)
        e = (old & 0xFFFFFFFFull) | ((uint64_t)v << 32);
    else
        e = (old & ~0xFFFFFFFFull) | v;
    e = (e & RTE_WRITABLE) | (old & IOAPIC_RTE_REMOTE_IRR);
    /* Linux relies on remote IRR reading 0 once an entry is switched to edge. */
    if (!(e & IOAPIC_RTE_LEVEL))
        e &= ~IOAPIC_RTE_REMOTE_IRR;
    io->redir[pin] = e;
    /* Unmasking a level entry whose line is asserted delivers it now. */
    service_level(io, pin);
}

uint64_t ioapic_mmio_read(struct ioapic *io, gpa_t offset, unsigned size)
{
    uint64_t v;
    switch (offset & ~3ull) {
    case IOAPIC_REGSEL: v = io->regsel; break;
    case IOAPIC_IOWIN: v = window_read(io); break;
    default: return 0;
    }
    v >>= (offset & 3) * 8;
    return size >= 4 ? (uint32_t)v : v & ((1ull << (size * 8)) - 1);
}

void ioapic_mmio_write(struct ioapic *io, gpa_t offset, uint64_t value, unsigned size)
{
    switch (offset) {
    case IOAPIC_REGSEL:
        io->regsel = (uint32_t)value & 0xFF;
        break;
    case IOAPIC_IOWIN:
        if (size >= 4)
            window_write(io, (uint32_t)value);
        break;
    case IOAPIC_EOI:
        ioapic_eoi(io, (uint8_t)value);
        break;
    default:
        break;
    }
}

static uint64_t mmio_read_op(void *dev, gpa_t offset, unsigned size)
{
    return ioapic_mmio_read(dev, offset, size);
}

static void mmio_write_op(void *dev, gpa_t offset, uint64_t value, unsigned size)
{
    ioapic_mmio_write(dev, offset, value, size);
}

const struct mmio_ops ioapic_mmio_ops = { mmio_read_op, mmio_write_op };

void ioapic_reset(struct ioapic *io)
{
    io->regsel = 0;
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->redir[i] = IOAPIC_RTE_MASKED;
}

void ioapic_init(struct ioapic *io, struct apic_bus *bus, uint8_t id)
{
    memset(io, 0, sizeof(*io));
    io->bus = bus;
    io->id = id & 0xF;
    ioapic_reset(io);
}
