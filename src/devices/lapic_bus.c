/* The APIC bus: destination matching, IPIs and MSIs between local APICs (SDM Vol 3 10.6). */
#include "devices/lapic_priv.h"

#include <string.h>

static bool lapic_match(const struct lapic *t, uint32_t dest, unsigned dest_mode)
{
    if (dest == APIC_DEST_BROADCAST)
        return true;
    if (lapic_is_x2apic(t)) {
        if (dest_mode == APIC_DEST_PHYSICAL)
            return dest == t->id;
        uint32_t ldr = t->ldr;
        return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xFFFF) != 0;
    }
    if (dest > 0xFF) /* a 32-bit x2APIC destination cannot name an xAPIC */
        return false;
    if (dest == 0xFF)
        return true;
    if (dest_mode == APIC_DEST_PHYSICAL)
        return dest == (t->id & 0xFF);
    uint32_t ldr8 = t->ldr >> 24;
    switch (t->dfr >> 28) {
    case 0xF: /* flat */
        return (dest & ldr8) != 0;
    case 0x0: /* cluster: ID in 7:4, member bits in 3:0 */
        return (dest >> 4) == (ldr8 >> 4) && (dest & ldr8 & 0xF) != 0;
    default:
        return false;
    }
}

static void lapic_receive(struct lapic *t, unsigned dm, uint8_t vector, unsigned trigger)
{
    if (!lapic_hw_enabled(t))
        return;
    switch (dm) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        /* SDM 10.4.7.2: a software-disabled APIC still takes NMI, INIT and SIPI only. */
        if (lapic_sw_enabled(t))
            lapic_accept_fixed(t, vector, trigger == APIC_TRIGGER_LEVEL);
        break;
    case APIC_DM_NMI:
        if (t->cpu.nmi)
            t->cpu.nmi(t->cpu.opaque);
        lapic_kick(t);
        break;
    case APIC_DM_INIT:
        lapic_init_reset(t);
        if (t->cpu.init)
            t->cpu.init(t->cpu.opaque);
        lapic_kick(t);
        break;
    case APIC_DM_STARTUP:
        if (t->cpu.sipi)
            t->cpu.sipi(t->cpu.opaque, vector);
        lapic_kick(t);
        break;
    case APIC_DM_EXTINT:
        t->extint_msg = true;
        lapic_update_intr(t);
        lapic_kick(t);
        break;
    default: /* SMI and the reserved modes are dropped */
        break;
    }
}

/* Route one message. src is the sending LAPIC (NULL for IOAPIC/MSI/hypervisor). */
static unsigned bus_dispatch(struct apic_bus *bus, struct lapic *src, unsigned shorthand,
                             uint32_t dest, unsigned dest_mode, unsigned dm, uint8_t vector,
                             int level, unsigned trigger)
{
    if (!bus)
        return 0;
    /* INIT level de-assert only resynchronises arbitration IDs: nothing to model. */
    if (dm == APIC_DM_INIT && !level && trigger == APIC_TRIGGER_LEVEL)
        return 0;
    struct lapic *targets[APIC_BUS_MAX_CPUS];
    unsigned n = 0;
    for (unsigned i = 0; i < bus->count; i++) {
        struct lapic *t = bus->lapics[i];
        bool hit;
        switch (shorthand) {
        case SH_SELF: hit = t == src; break;
        case SH_ALL_INCL: hit = true; break;
        case SH_ALL_EXCL: hit = t != src; break;
        default: hit = lapic_match(t, dest, dest_mode); break;
        }
        if (hit && lapic_hw_enabled(t))
            targets[n++] = t;
    }
    if (dm == APIC_DM_LOWEST && n > 1) {
        /* Lowest arbitration priority wins; ties go to the lowest bus index (deterministic
         * stand-in for the hardware's rotating arbitration). Software-disabled APICs do not
         * take part. */
        struct lapic *best = NULL;
        uint32_t best_apr = 0;
        for (unsigned i = 0; i < n; i++) {
            if (!lapic_sw_enabled(targets[i]))
                continue;
            uint32_t apr = lapic_get_apr(targets[i]);
            if (!best || apr < best_apr) {
                best = targets[i];
                best_apr = apr;
            }
        }
        if (!best)
            return 0;
        targets[0] = best;
        n = 1;
    }
    for (unsigned i = 0; i < n; i++)
        lapic_receive(targets[i], dm, vector, trigger);
    return n;
}

void apic_bus_init(struct apic_bus *bus) { memset(bus, 0, sizeof(*bus)); }

void apic_bus_set_eoi_broadcast(struct apic_bus *bus, void (*fn)(void *opaque, uint8_t vector),
                                void *opaque)
{
    bus->eoi_broadcast = fn;
    bus->eoi_opaque = opaque;
}

unsigned apic_bus_deliver(struct apic_bus *bus, uint32_t dest, unsigned dest_mode,
                          unsigned delivery_mode, uint8_t vector, int level, unsigned trigger)
{
    return bus_dispatch(bus, NULL, SH_NONE, dest, dest_mode & 1, delivery_mode & 7, vector, level,
                        trigger & 1);
}

unsigned apic_bus_deliver_msi(struct apic_bus *bus, uint64_t address, uint32_t data)
{
    /* SDM 10.11.1: address 0xFEEx_xxxx, destination ID 19:12, DM bit 2; data: vector 7:0,
     * delivery mode 10:8, level 14, trigger 15. */
    if ((address >> 20) != 0xFEE)
        return 0;
    uint32_t dest = (uint32_t)(address >> 12) & 0xFF;
    if (dest == 0xFF)
        dest = APIC_DEST_BROADCAST;
    unsigned dest_mode = (address >> 2) & 1;
    unsigned trigger = (data >> 15) & 1;
    int level = trigger == APIC_TRIGGER_EDGE ? 1 : (int)((data >> 14) & 1);
    return apic_bus_deliver(bus, dest, dest_mode, (data >> 8) & 7, (uint8_t)data, level, trigger);
}

void apic_bus_pic_intr(void *opaque, unsigned irq, int level)
{
    struct apic_bus *bus = opaque;
    (void)irq;
    for (unsigned i = 0; i < bus->count; i++)
        lapic_set_lint(bus->lapics[i], 0, level != 0);
}

struct lapic *apic_bus_find(const struct apic_bus *bus, uint32_t apic_id)
{
    for (unsigned i = 0; i < bus->count; i++)
        if (bus->lapics[i]->id == apic_id)
            return bus->lapics[i];
    return NULL;
}

void lapic_send_ipi(struct lapic *l, uint32_t lo, uint32_t dest)
{
    unsigned dm = (lo >> 8) & 7;
    uint8_t vector = (uint8_t)lo;
    if ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && vector < 16) {
        lapic_error(l, APIC_ESR_SEND_ILLEGAL_VECTOR);
        return;
    }
    bus_dispatch(l->bus, l, ICR_SHORTHAND(lo), dest, (lo & ICR_DEST_LOGICAL) ? 1 : 0, dm, vector,
                 (lo & ICR_LEVEL) ? 1 : 0, (lo & ICR_TRIGGER) ? 1 : 0);
}

/* ---- register file ---- */

