/* Local APIC timer: one-shot, periodic and TSC-deadline modes on the virtual clock (SDM Vol 3
 * 10.5.4). */
#include "devices/lapic_priv.h"

uint32_t lapic_dcr_divisor(uint32_t dcr)
{
    unsigned v = (dcr & 3) | ((dcr >> 1) & 4);
    return 1u << ((v + 1) & 7);
}


void lapic_timer_cancel(struct lapic *l)
{
    l->timer_running = false;
    if (l->clock)
        vtimer_cancel(l->clock, &l->timer);
}


void lapic_timer_start(struct lapic *l, uint64_t now, uint64_t count)
{
    if (!count || !l->clock) {
        lapic_timer_cancel(l);
        return;
    }
    l->timer_deadline = now + count * l->timer_divisor;
    l->timer_running = true;
    vtimer_arm(l->clock, &l->timer, l->timer_deadline);
}

uint32_t lapic_timer_current(const struct lapic *l)
{
    if (lapic_timer_mode(l) == TIMER_TSC_DEADLINE || !l->timer_running || !l->timer_initial)
        return 0;
    uint64_t now = lapic_now_ns(l), div = l->timer_divisor;
    if (now < l->timer_deadline) {
        uint64_t left = (l->timer_deadline - now + div - 1) / div;
        return left > l->timer_initial ? l->timer_initial : (uint32_t)left;
    }
    if (lapic_timer_mode(l) != TIMER_PERIODIC)
        return 0;
    /* Expired periods whose callback has not run yet: the counter has already reloaded. */
    uint64_t period = (uint64_t)l->timer_initial * div;
    uint64_t left = period - (now - l->timer_deadline) % period;
    return (uint32_t)((left + div - 1) / div);
}

/* Virtual time at which the guest TSC reaches tsc; saturates rather than wrapping, so a
 * deadline far in the future stays there. */
static uint64_t tsc_to_ns(const struct lapic *l, uint64_t tsc)
{
    if (l->tsc_offset >= 0) {
        uint64_t off = (uint64_t)l->tsc_offset;
        return tsc < off ? 0 : tsc - off;
    }
    uint64_t add = (uint64_t)0 - (uint64_t)l->tsc_offset;
    return tsc > UINT64_MAX - add ? UINT64_MAX : tsc + add;
}

void lapic_timer_fire(void *opaque, uint64_t now)
{
    struct lapic *l = opaque;
    if (lapic_timer_mode(l) == TIMER_TSC_DEADLINE) {
        if (!l->tsc_deadline || tsc_to_ns(l, l->tsc_deadline) > now)
            return;
        l->tsc_deadline = 0;
        lapic_lvt_deliver(l, LVT_TIMER);
        return;
    }
    if (!l->timer_running)
        return;
    lapic_lvt_deliver(l, LVT_TIMER);
    if (lapic_timer_mode(l) != TIMER_PERIODIC || !l->timer_initial) {
        l->timer_running = false;
        return;
    }
    uint64_t period = (uint64_t)l->timer_initial * l->timer_divisor;
    l->timer_deadline += period;
    if (l->timer_deadline <= now) /* late: skip whole periods, keeping the phase */
        l->timer_deadline += ((now - l->timer_deadline) / period + 1) * period;
    uint64_t arm = l->timer_deadline;
    if (arm < now + LAPIC_TIMER_MIN_PERIOD_NS)
        arm = now + LAPIC_TIMER_MIN_PERIOD_NS;
    vtimer_arm(l->clock, &l->timer, arm);
}

void lapic_tsc_deadline_write(struct lapic *l, uint64_t value)
{
    /* SDM 10.5.4.1: outside TSC-deadline mode writes are ignored. */
    if (lapic_timer_mode(l) != TIMER_TSC_DEADLINE)
        return;
    l->tsc_deadline = value;
    if (!l->clock)
        return;
    vtimer_cancel(l->clock, &l->timer);
    if (!value)
        return;
    uint64_t when = tsc_to_ns(l, value), now = vclock_now(l->clock);
    if (when <= now)
        lapic_timer_fire(l, now);
    else
        vtimer_arm(l->clock, &l->timer, when);
}

void lapic_set_tsc_offset(struct lapic *l, int64_t offset)
{
    l->tsc_offset = offset;
    if (lapic_timer_mode(l) == TIMER_TSC_DEADLINE && l->tsc_deadline)
        lapic_tsc_deadline_write(l, l->tsc_deadline);
}

/* ---- IPIs and the APIC bus ---- */

