/* High Precision Event Timer (IA-PC HPET spec 1.0a): a 100 MHz main counter on the virtual
 * clock and three comparators, with legacy replacement routing. */
#ifndef HVEMU_HPET_H
#define HVEMU_HPET_H

#include "devices/acpi_layout.h"
#include "devices/vclock.h"
#include "mmu/physmem.h"

#define HPET_NUM_TIMERS 3u
/* 100 MHz, as QEMU's HPET: one tick every 10 virtual ns (period 10^7 fs). */
#define HPET_FREQ_HZ    100000000ull
#define HPET_NS_PER_TICK 10ull
#define HPET_PERIOD_FS  10000000ull
/* Periodic callbacks come no closer than this (the ACPI table asks the OS for >= 128 ticks);
 * shorter periods coalesce, the comparator still advancing by whole periods. */
#define HPET_MIN_PERIOD_NS 1000ull
#define HPET_VENDOR_ID  0x8086u
#define HPET_REV_ID     1u
/* Outside legacy mode every timer may be routed to IOAPIC pins 20-23 only: those are free of
 * ISA devices and PCI INTx, and sit above the PIC so no line is shared with it. */
#define HPET_ROUTE_CAP  0x00F00000u
/* Legacy replacement destinations (ISA IRQ numbers). */
#define HPET_LEGACY_TIMER0_IRQ 0u
#define HPET_LEGACY_TIMER1_IRQ 8u

/* Register offsets. */
#define HPET_REG_CAP       0x000u
#define HPET_REG_CONFIG    0x010u
#define HPET_REG_ISR       0x020u
#define HPET_REG_COUNTER   0x0F0u
#define HPET_REG_TIMER(n)  (0x100u + 0x20u * (n))
#define HPET_TIMER_CONFIG  0x00u
#define HPET_TIMER_CMP     0x08u
#define HPET_TIMER_FSB     0x10u

/* General configuration and timer configuration bits. */
#define HPET_CFG_ENABLE     (1ull << 0)
#define HPET_CFG_LEGACY     (1ull << 1)
#define HPET_TN_LEVEL       (1ull << 1)
#define HPET_TN_ENABLE      (1ull << 2)
#define HPET_TN_PERIODIC    (1ull << 3)
#define HPET_TN_PERIODIC_CAP (1ull << 4)
#define HPET_TN_SIZE_CAP    (1ull << 5)
#define HPET_TN_SETVAL      (1ull << 6)
#define HPET_TN_32BIT       (1ull << 8)
#define HPET_TN_ROUTE_SHIFT 9
#define HPET_TN_ROUTE_MASK  (0x1Full << HPET_TN_ROUTE_SHIFT)

/* Interrupt outputs: set_irq drives an ISA IRQ / GSI line (irq_router_hpet_set), set_legacy
 * tells the platform to cut the PIT and RTC lines off (irq_router_set_hpet_legacy). */
struct hpet_irq_ops {
    void *opaque;
    void (*set_irq)(void *opaque, unsigned irq, int level);
    void (*set_legacy)(void *opaque, bool on);
};

struct hpet;

struct hpet_timer {
    struct hpet *hpet;
    unsigned index;
    uint64_t config, cmp, period;
    uint64_t target;       /* main-counter value of the next match, when target_valid */
    bool target_valid;
    struct vtimer vt;
};

struct hpet {
    struct vclock *clock;
    struct hpet_irq_ops irq;
    uint64_t config, isr;
    /* The counter reads counter_base + (now - base_ns) / 10 while enabled, counter_base
     * while halted. */
    uint64_t counter_base, base_ns;
    uint32_t lines_high;   /* lines held high by level-mode timers (bit = IRQ/GSI) */
    struct hpet_timer timers[HPET_NUM_TIMERS];
};

void hpet_init(struct hpet *h, struct vclock *clock, const struct hpet_irq_ops *irq);
void hpet_reset(struct hpet *h);
uint64_t hpet_counter(const struct hpet *h);

/* 1, 2, 4 and 8-byte accesses; narrower ones address part of the 64-bit register. */
uint64_t hpet_mmio_read(struct hpet *h, gpa_t offset, unsigned size);
void hpet_mmio_write(struct hpet *h, gpa_t offset, uint64_t value, unsigned size);
extern const struct mmio_ops hpet_mmio_ops; /* dev = struct hpet * */

/* The Event Timer Block ID the ACPI HPET table repeats (low half of the capabilities). */
uint32_t hpet_block_id(void);

#endif
