/* HPET: main counter derived from the virtual clock, comparators as absolute match targets on
 * that counter, edge/level interrupts and legacy replacement (IA-PC HPET spec 1.0a, 2.3). */
#include "devices/hpet.h"

#include <string.h>

/* Tn_CONF bits software may change; the rest are capabilities or reserved. */
#define TN_WRITABLE (HPET_TN_LEVEL | HPET_TN_ENABLE | HPET_TN_PERIODIC | HPET_TN_SETVAL | \
                     HPET_TN_32BIT | HPET_TN_ROUTE_MASK)
#define TN_CAPS (HPET_TN_PERIODIC_CAP | HPET_TN_SIZE_CAP | ((uint64_t)HPET_ROUTE_CAP << 32))
#define WRAP32 (1ull << 32)

uint32_t hpet_block_id(void)
{
    return HPET_REV_ID | ((HPET_NUM_TIMERS - 1) << 8) | (1u << 13) /* 64-bit counter */ |
           (1u << 15) /* legacy replacement capable */ | (HPET_VENDOR_ID << 16);
}

static bool enabled(const struct hpet *h) { return (h->config & HPET_CFG_ENABLE) != 0; }

static uint64_t counter_at(const struct hpet *h, uint64_t now)
{
    if (!enabled(h) || now < h->base_ns)
        return h->counter_base;
    return h->counter_base + (now - h->base_ns) / HPET_NS_PER_TICK;
}

uint64_t hpet_counter(const struct hpet *h) { return counter_at(h, vclock_now(h->clock)); }

/* The line a timer drives, or -1 when its route is not allowed. */
static int timer_irq(const struct hpet_timer *t)
{
    const struct hpet *h = t->hpet;
    if (h->config & HPET_CFG_LEGACY) {
        if (t->index == 0)
            return HPET_LEGACY_TIMER0_IRQ;
        if (t->index == 1)
            return HPET_LEGACY_TIMER1_IRQ;
    }
    unsigned route = (unsigned)((t->config & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
    return (HPET_ROUTE_CAP >> route) & 1 ? (int)route : -1;
}

static void set_irq(struct hpet *h, int irq, int level)
{
    if (irq >= 0 && h->irq.set_irq)
        h->irq.set_irq(h->irq.opaque, (unsigned)irq, level);
}

/* Level mode: a line is high while any timer routed to it has its status bit set, its
 * interrupt enabled and the HPET running (timers may share a line). */
static void sync_lines(struct hpet *h)
{
    uint32_t want = 0;
    if (enabled(h)) {
        for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
            const struct hpet_timer *t = &h->timers[i];
            int irq = timer_irq(t);
            if ((t->config & HPET_TN_LEVEL) && (t->config & HPET_TN_ENABLE) &&
                ((h->isr >> i) & 1) && irq >= 0)
                want |= 1u << irq;
        }
    }
    uint32_t diff = want ^ h->lines_high;
    h->lines_high = want;
    for (int irq = 0; irq < 32; irq++)
        if ((diff >> irq) & 1)
            set_irq(h, irq, (int)((want >> irq) & 1));
}

static void timer_interrupt(struct hpet_timer *t)
{
    struct hpet *h = t->hpet;
    if (t->config & HPET_TN_LEVEL) {
        /* Spec 2.3.7: status is set even when the timer's interrupt is disabled. */
        h->isr |= 1ull << t->index;
        sync_lines(h);
        return;
    }
    if (!(t->config & HPET_TN_ENABLE))
        return;
    int irq = timer_irq(t);
    /* An edge on a line another timer holds high is absorbed, as on a wired-OR line. */
    if (irq < 0 || ((h->lines_high >> irq) & 1))
        return;
    set_irq(h, irq, 1);
    set_irq(h, irq, 0);
}

/* Arm the callback for the next match, but not before not_before (virtual ns). */
static void timer_arm(struct hpet_timer *t, uint64_t not_before)
{
    struct hpet *h = t->hpet;
    vtimer_cancel(h->clock, &t->vt);
    if (!enabled(h) || !t->target_valid || t->target < h->counter_base)
        return;
    uint64_t ticks = t->target - h->counter_base;
    if (ticks > (UINT64_MAX - h->base_ns) / HPET_NS_PER_TICK)
        return; /* beyond the end of virtual time */
    uint64_t when = h->base_ns + ticks * HPET_NS_PER_TICK;
    vtimer_arm(h->clock, &t->vt, when < not_before ? not_before : when);
}

/* First counter value >= cnt at which the comparator matches. A 64-bit comparator already
 * passed never matches (the counter would have to wrap 2^64). */
static void timer_retarget(struct hpet_timer *t)
{
    struct hpet *h = t->hpet;
    uint64_t cnt = hpet_counter(h);
    if (t->config & HPET_TN_32BIT) {
        t->target = cnt + (uint32_t)((uint32_t)t->cmp - (uint32_t)cnt);
        t->target_valid = true;
    } else {
        t->target = t->cmp;
        t->target_valid = t->cmp >= cnt;
    }
    timer_arm(t, 0);
}

static void timer_fire(void *opaque, uint64_t now)
{
    struct hpet_timer *t = opaque;
    struct hpet *h = t->hpet;
    if (!enabled(h) || !t->target_valid)
        return;
    uint64_t cnt = counter_at(h, now);
    timer_interrupt(t);
    bool is32 = (t->config & HPET_TN_32BIT) != 0;
    if ((t->config & HPET_TN_PERIODIC) && t->period) {
        /* Spec 2.3.9.2.2: the comparator advances by the last written period; periods missed
         * while the callback was late are skipped, not replayed. */
        uint64_t k = 1;
        if (t->target + t->period <= cnt)
            k = (cnt - t->target) / t->period + 1;
        t->target += k * t->period;
        t->cmp += k * t->period;
        if (is32)
            t->cmp &= 0xFFFFFFFFull;
    } else if (is32) {
        t->target += WRAP32; /* the low 32 bits match again after the counter wraps them */
    } else {
        t->target_valid = false;
    }
    /* A tiny period coalesces instead of flooding the timer queue; the next callback catches
     * the comparator up by whole periods. */
    timer_arm(t, now + HPET_MIN_PERIOD_NS);
}

/* Fire any timer whose deadline has passed but whose callback has not run, so that register
 * accesses see exact state in the middle of a slice. */
static void catch_up(struct hpet *h)
{
    uint64_t now = vclock_now(h->clock);
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        struct hpet_timer *t = &h->timers[i];
        if (t->vt.armed && t->vt.deadline <= now) {
            vtimer_cancel(h->clock, &t->vt);
            timer_fire(t, now);
        }
    }
}

static uint64_t timer_read(const struct hpet_timer *t, unsigned reg)
{
    switch (reg) {
    case HPET_TIMER_CONFIG: return t->config;
    case HPET_TIMER_CMP: return (t->config & HPET_TN_32BIT) ? (uint32_t)t->cmp : t->cmp;
    default: return 0; /* no FSB delivery */
    }
}

static uint64_t reg_read(struct hpet *h, unsigned reg)
{
    switch (reg) {
    case HPET_REG_CAP: return hpet_block_id() | (HPET_PERIOD_FS << 32);
    case HPET_REG_CONFIG: return h->config;
    case HPET_REG_ISR: return h->isr;
    case HPET_REG_COUNTER: return hpet_counter(h);
    default: break;
    }
    if (reg >= HPET_REG_TIMER(0) && reg < HPET_REG_TIMER(HPET_NUM_TIMERS))
        return timer_read(&h->timers[(reg - HPET_REG_TIMER(0)) / 0x20], (reg - 0x100) & 0x1F);
    return 0;
}

static void config_write(struct hpet *h, uint64_t v)
{
    uint64_t old = h->config, now = vclock_now(h->clock);
    v &= HPET_CFG_ENABLE | HPET_CFG_LEGACY;
    if ((old & HPET_CFG_ENABLE) && !(v & HPET_CFG_ENABLE))
        h->counter_base = counter_at(h, now);
    h->config = v;
    if (!(old & HPET_CFG_ENABLE) && (v & HPET_CFG_ENABLE))
        h->base_ns = now;
    if ((old ^ v) & HPET_CFG_LEGACY && h->irq.set_legacy)
        h->irq.set_legacy(h->irq.opaque, (v & HPET_CFG_LEGACY) != 0);
    for (unsigned i = 0; i < HPET_NUM_TIMERS && ((old ^ v) & HPET_CFG_ENABLE); i++) {
        if (v & HPET_CFG_ENABLE)
            timer_retarget(&h->timers[i]);
        else
            vtimer_cancel(h->clock, &h->timers[i].vt);
    }
    sync_lines(h);
}

static void timer_config_write(struct hpet_timer *t, uint64_t v)
{
    uint64_t old = t->config;
    t->config = (v & TN_WRITABLE) | TN_CAPS;
    if (!(t->config & HPET_TN_LEVEL))
        t->hpet->isr &= ~(1ull << t->index);
    if ((old ^ t->config) & HPET_TN_32BIT) {
        if (t->config & HPET_TN_32BIT) {
            t->cmp &= 0xFFFFFFFFull;
            t->period &= 0xFFFFFFFFull;
        }
        timer_retarget(t);
    }
    sync_lines(t->hpet);
}

static void timer_cmp_write(struct hpet_timer *t, uint64_t mask, uint64_t val)
{
    /* Spec 2.3.9.2.2 and Linux's hpet_set_periodic: in periodic mode a write without
     * Tn_VAL_SET sets only the period; Tn_VAL_SET lets one write set the comparator too and
     * clears itself. */
    if (!(t->config & HPET_TN_PERIODIC) || (t->config & HPET_TN_SETVAL))
        t->cmp = (t->cmp & ~mask) | (val & mask);
    t->period = (t->period & ~mask) | (val & mask);
    t->config &= ~HPET_TN_SETVAL;
    if (t->config & HPET_TN_32BIT) {
        t->cmp &= 0xFFFFFFFFull;
        t->period &= 0xFFFFFFFFull;
    }
    timer_retarget(t);
}

uint64_t hpet_mmio_read(struct hpet *h, gpa_t offset, unsigned size)
{
    if (offset >= HPET_MMIO_SIZE || !size || size > 8)
        return 0;
    catch_up(h);
    uint64_t v = reg_read(h, (unsigned)offset & ~7u) >> ((offset & 7) * 8);
    return size == 8 ? v : v & ((1ull << (size * 8)) - 1);
}

void hpet_mmio_write(struct hpet *h, gpa_t offset, uint64_t value, unsigned size)
{
    if (offset >= HPET_MMIO_SIZE || !size || size > 8)
        return;
    catch_up(h);
    unsigned reg = (unsigned)offset & ~7u, shift = ((unsigned)offset & 7) * 8;
    uint64_t mask = (size == 8 ? ~0ull : (1ull << (size * 8)) - 1) << shift;
    uint64_t val = value << shift;
    uint64_t merged = (reg_read(h, reg) & ~mask) | (val & mask);
    switch (reg) {
    case HPET_REG_CONFIG:
        config_write(h, merged);
        return;
    case HPET_REG_ISR:
        /* Write 1 to clear a level-triggered timer's status. */
        h->isr &= ~(val & mask);
        sync_lines(h);
        return;
    case HPET_REG_COUNTER:
        /* Spec 2.3.5: software writes the counter only while it is halted. */
        if (!enabled(h))
            h->counter_base = merged;
        return;
    default:
        break;
    }
    if (reg < HPET_REG_TIMER(0) || reg >= HPET_REG_TIMER(HPET_NUM_TIMERS))
        return;
    struct hpet_timer *t = &h->timers[(reg - HPET_REG_TIMER(0)) / 0x20];
    switch ((reg - 0x100) & 0x1F) {
    case HPET_TIMER_CONFIG: timer_config_write(t, merged); break;
    case HPET_TIMER_CMP: timer_cmp_write(t, mask, val); break;
    default: break;
    }
}

static uint64_t mmio_read_op(void *dev, gpa_t offset, unsigned size)
{
    return hpet_mmio_read(dev, offset, size);
}

static void mmio_write_op(void *dev, gpa_t offset, uint64_t value, unsigned size)
{
    hpet_mmio_write(dev, offset, value, size);
}

const struct mmio_ops hpet_mmio_ops = { mmio_read_op, mmio_write_op };

void hpet_reset(struct hpet *h)
{
    bool was_legacy = (h->config & HPET_CFG_LEGACY) != 0;
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        struct hpet_timer *t = &h->timers[i];
        vtimer_cancel(h->clock, &t->vt);
        t->config = TN_CAPS;
        t->cmp = ~0ull; /* spec 2.3.8: comparators reset to all ones */
        t->period = 0;
        t->target_valid = false;
    }
    h->config = 0;
    h->isr = 0;
    sync_lines(h);
    h->counter_base = 0;
    h->base_ns = vclock_now(h->clock);
    if (was_legacy && h->irq.set_legacy)
        h->irq.set_legacy(h->irq.opaque, false);
}

void hpet_init(struct hpet *h, struct vclock *clock, const struct hpet_irq_ops *irq)
{
    memset(h, 0, sizeof(*h));
    h->clock = clock;
    if (irq)
        h->irq = *irq;
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        h->timers[i].hpet = h;
        h->timers[i].index = i;
        vtimer_init(&h->timers[i].vt, timer_fire, &h->timers[i]);
    }
    hpet_reset(h);
}
