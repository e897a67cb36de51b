/* Private to the local APIC's files (lapic.c registers, lapic_timer.c timer, lapic_bus.c the APIC
 * bus and IPIs): register-field bits and the helpers they call in each other. */
#ifndef HVEMU_DEVICES_LAPIC_PRIV_H
#define HVEMU_DEVICES_LAPIC_PRIV_H

#include "devices/lapic.h"

#define LVT_MASKED      (1u << 16)
#define LVT_REMOTE_IRR  (1u << 14)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3u)
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };

#define SVR_ENABLE      (1u << 8)
#define ICR_LEVEL       (1u << 14)
#define ICR_TRIGGER     (1u << 15)
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3u)
enum { SH_NONE, SH_SELF, SH_ALL_INCL, SH_ALL_EXCL };

enum lapic_reg_index {
    REG_ID = 0x02, REG_VERSION = 0x03, REG_TPR = 0x08, REG_APR = 0x09, REG_PPR = 0x0A,
    REG_EOI = 0x0B, REG_LDR = 0x0D, REG_DFR = 0x0E, REG_SVR = 0x0F, REG_ISR = 0x10,
    REG_TMR = 0x18, REG_IRR = 0x20, REG_ESR = 0x28, REG_ICR = 0x30, REG_ICR2 = 0x31,
    REG_LVT = 0x32, REG_TIMER_ICR = 0x38, REG_TIMER_CCR = 0x39, REG_TIMER_DCR = 0x3E,
    REG_SELF_IPI = 0x3F, REG_COUNT = 0x40,
};

static inline bool lapic_hw_enabled(const struct lapic *l) { return (l->apic_base & APIC_BASE_EN) != 0; }
static inline bool lapic_sw_enabled(const struct lapic *l) { return (l->svr & SVR_ENABLE) != 0; }
static inline unsigned lapic_timer_mode(const struct lapic *l) { return LVT_TIMER_MODE(l->lvt[LVT_TIMER]); }
static inline uint64_t lapic_now_ns(const struct lapic *l) { return l->clock ? vclock_now(l->clock) : 0; }

void lapic_update_intr(struct lapic *l);
void lapic_kick(struct lapic *l);
bool lapic_accept_fixed(struct lapic *l, uint8_t vector, bool level_trig);
void lapic_lvt_deliver(struct lapic *l, unsigned idx);
void lapic_error(struct lapic *l, uint32_t bits);
uint32_t lapic_dcr_divisor(uint32_t dcr);
void lapic_timer_cancel(struct lapic *l);
void lapic_timer_start(struct lapic *l, uint64_t now, uint64_t count);
void lapic_timer_fire(void *opaque, uint64_t now);
void lapic_tsc_deadline_write(struct lapic *l, uint64_t value);
void lapic_send_ipi(struct lapic *l, uint32_t lo, uint32_t dest);

#endif
