/* 8254 PIT: counts are computed from the virtual clock on demand; channel 0 output edges are
 * vtimer deadlines, never per-instruction ticks. Modes and access rules: Intel 8254 data sheet. */
#include "devices/i8254.h"

#include <string.h>

#define NS_PER_SEC 1000000000ull

enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD0 = 3, RW_WORD1 = 4 };

/* a * b / c without overflow for b, c < 2^32 and a < 2^64 / b. */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
    return (a / c) * b + (a % c) * b / c;
}

static uint64_t ns_to_tick(uint64_t ns)
{
    return muldiv(ns, PIT_FREQ_HZ, NS_PER_SEC);
}

/* The first nanosecond at which ns_to_tick() reaches tick. */
static uint64_t tick_to_ns(uint64_t tick)
{
    uint64_t ns = muldiv(tick, NS_PER_SEC, PIT_FREQ_HZ);
    while (ns_to_tick(ns) < tick)
        ns++;
    return ns;
}

static uint64_t now_tick(const struct i8254 *p)
{
    return ns_to_tick(vclock_now(p->clock));
}

static bool counting_stopped(const struct pit_channel *c)
{
    return !c->loaded || ((c->mode == 1 || c->mode == 5) && !c->triggered);
}

/* Ticks counted since the count was loaded (or the gate triggered). */
static uint64_t elapsed(const struct i8254 *p, const struct pit_channel *c)
{
    if (c->frozen)
        return c->frozen_d;
    uint64_t t = now_tick(p);
    return t > c->load_tick ? t - c->load_tick : 0;
}

static bool out_at(const struct pit_channel *c, uint64_t d)
{
    uint64_t n = c->count;
    if (counting_stopped(c))
        return c->mode != 0;
    switch (c->mode) {
    case 0:
    case 1: /* low while counting, high at terminal count */
        return d >= n;
    case 2: /* low for the one clock when the count reaches 1 */
        return n < 2 || d % n != n - 1;
    case 3: /* high for the first (n+1)/2 clocks of each period */
        return d % n < (n + 1) / 2;
    default: /* 4, 5: one low clock at terminal count */
        return d != n;
    }
}

/* Ticks since load at which OUT next changes after d, or 0 when it never does. */
static uint64_t next_transition(const struct pit_channel *c, uint64_t d)
{
    uint64_t n = c->count, base = d - d % n;
    if (counting_stopped(c))
        return 0;
    switch (c->mode) {
    case 0:
    case 1:
        return d < n ? n : 0;
    case 2:
        if (n < 2)
            return 0;
        return d % n < n - 1 ? base + n - 1 : base + n;
    case 3:
        if (n < 2) /* count 1 is illegal; OUT stays high rather than waking every clock */
            return 0;
        return d % n < (n + 1) / 2 ? base + (n + 1) / 2 : base + n;
    default:
        return d < n ? n : d == n ? n + 1 : 0;
    }
}

static bool out_now(const struct i8254 *p, const struct pit_channel *c)
{
    /* Modes 2 and 3 hold OUT high while the gate is low. */
    if (c->frozen && (c->mode == 2 || c->mode == 3))
        return true;
    return out_at(c, elapsed(p, c));
}

static void set_irq0(struct i8254 *p, bool level)
{
    if (level != p->irq_level) {
        p->irq_level = level;
        irq_set(&p->irq0, level);
    }
}

static void pit_irq_update(struct i8254 *p)
{
    struct pit_channel *c = &p->ch[0];
    uint64_t d = elapsed(p, c);
    set_irq0(p, out_now(p, c));
    uint64_t next = c->frozen ? 0 : next_transition(c, d);
    if (next) {
        p->timer_tick = c->load_tick + next;
        vtimer_arm(p->clock, &p->timer, tick_to_ns(p->timer_tick));
    } else {
        vtimer_cancel(p->clock, &p->timer);
    }
}

/* The run loop may call this after the deadline (timers run between slices). Apply the
 * transition that was due first, so the one-clock low pulse of modes 2 and 4 still makes an
 * edge, then catch up with the present; transitions missed beyond that merge, as lost ticks. */
static void pit_timer_fire(void *opaque, uint64_t now_ns)
{
    struct i8254 *p = opaque;
    struct pit_channel *c = &p->ch[0];
    if (!c->frozen && !counting_stopped(c) && p->timer_tick >= c->load_tick)
        set_irq0(p, out_at(c, p->timer_tick - c->load_tick));
    pit_irq_update(p);
}

static void channel_changed(struct i8254 *p, unsigned idx)
{
    if (idx == 0)
        pit_irq_update(p);
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v % 10) | ((v / 10 % 10) << 4) | ((v / 100 % 10) << 8) |
                      ((v / 1000 % 10) << 12));
}

static uint32_t from_bcd(uint16_t v)
{
    return (v & 0xf) + ((v >> 4) & 0xf) * 10u + ((v >> 8) & 0xf) * 100u + ((v >> 12) & 0xf) * 1000u;
}

/* Current counting element, as the guest reads it (BCD when the channel counts in BCD). */
static uint16_t get_count(const struct i8254 *p, const struct pit_channel *c)
{
    uint64_t n = c->count, d = elapsed(p, c), v;
    if (counting_stopped(c))
        v = n;
    else if (c->mode == 2)
        v = n - d % n;
    else if (c->mode == 3)
        v = n - (2 * d) % n; /* mode 3 decrements by two */
    else /* 0, 1, 4, 5 wrap after terminal count */
        v = (n - d) & (c->bcd ? 0xffffffffull : 0xffffull);
    if (c->bcd)
        return to_bcd((uint32_t)(v % 10000));
    return (uint16_t)v;
}

static void load_count(struct i8254 *p, unsigned idx, uint32_t raw)
{
    struct pit_channel *c = &p->ch[idx];
    uint32_t n = c->bcd ? from_bcd((uint16_t)raw) : raw;
    if (n == 0)
        n = c->bcd ? 10000 : 0x10000;
    uint64_t now = now_tick(p);
    if (c->mode == 2 && c->loaded && !c->frozen) {
        /* Data sheet, mode 2: a count written while counting does not disturb the present
         * period; it is loaded at the next reload. Place the new count's cycle so that its
         * first reload (and the low pulse before it) falls where the old one's would. A
         * count already waiting (load_tick ahead) is replaced, its reload point kept. */
        uint64_t d = now >= c->load_tick ? now - c->load_tick : 0;
        uint64_t reload = c->load_tick + (d - d % c->count) + c->count;
        if (reload >= n) {
            c->count = n;
            c->load_tick = reload - n; /* may lie ahead: elapsed() then reads 0 until it */
            channel_changed(p, idx);
            return;
        }
    }
    c->count = n;
    c->loaded = true;
    c->frozen = false;
    c->load_tick = now;
    /* Modes 0, 2, 3, 4 count only while the gate is high. */
    if (!c->gate && c->mode != 1 && c->mode != 5) {
        c->frozen = true;
        c->frozen_d = 0;
    }
    channel_changed(p, idx);
}

static void latch_count(struct i8254 *p, struct pit_channel *c)
{
    if (c->count_latched)
        return;
    c->latched_count = get_count(p, c);
    c->count_latched = c->rw_mode;
}

static void latch_status(struct i8254 *p, struct pit_channel *c)
{
    if (c->status_latched)
        return;
    /* Bit 7 OUT, bit 6 null count, 5-4 access, 3-1 mode, 0 BCD. */
    c->status = (uint8_t)((out_now(p, c) ? 0x80 : 0) | (c->loaded ? 0 : 0x40) |
                          (c->rw_mode << 4) | (c->mode << 1) | (c->bcd ? 1 : 0));
    c->status_latched = true;
}

static void write_control(struct i8254 *p, uint8_t v)
{
    unsigned sel = v >> 6;
    /* Read-back: bits 3-1 select channels; bit 5 = 0 latches the count, bit 4 = 0 the status. */
    if (sel == 3) {
        for (unsigned i = 0; i < 3; i++) {
            if (!(v & (2u << i)))
                continue;
            if (!(v & 0x20))
                latch_count(p, &p->ch[i]);
            if (!(v & 0x10))
                latch_status(p, &p->ch[i]);
        }
        return;
    }
    struct pit_channel *c = &p->ch[sel];
    unsigned access = (v >> 4) & 3;
    if (access == RW_LATCH) {
        latch_count(p, c);
        return;
    }
    c->rw_mode = (uint8_t)access;
    c->read_state = c->write_state = (uint8_t)access;
    c->mode = (v >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4; /* 6 and 7 are aliases of 2 and 3 */
    c->bcd = v & 1;
    c->loaded = false;
    c->triggered = false;
    c->frozen = false;
    c->count_latched = 0;
    channel_changed(p, sel);
}

static void write_counter(struct i8254 *p, unsigned idx, uint8_t v)
{
    struct pit_channel *c = &p->ch[idx];
    switch (c->write_state) {
    case RW_LSB:
        load_count(p, idx, v);
        break;
    case RW_MSB:
        load_count(p, idx, (uint32_t)v << 8);
        break;
    case RW_WORD0:
        c->write_latch = v;
        c->write_state = RW_WORD1;
        break;
    case RW_WORD1:
        c->write_state = RW_WORD0;
        load_count(p, idx, c->write_latch | ((uint32_t)v << 8));
        break;
    default: /* no control word yet */
        break;
    }
}

static uint8_t read_counter(struct i8254 *p, unsigned idx)
{
    struct pit_channel *c = &p->ch[idx];
    uint16_t v;
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->count_latched) {
        v = c->latched_count;
        switch (c->count_latched) {
        case RW_MSB:
            c->count_latched = 0;
            return (uint8_t)(v >> 8);
        case RW_WORD0:
            c->count_latched = RW_WORD1;
            return (uint8_t)v;
        case RW_WORD1:
            c->count_latched = 0;
            return (uint8_t)(v >> 8);
        default:
            c->count_latched = 0;
            return (uint8_t)v;
        }
    }
    v = get_count(p, c);
    switch (c->read_state) {
    case RW_MSB:
        return (uint8_t)(v >> 8);
    case RW_WORD0:
        c->read_state = RW_WORD1;
        return (uint8_t)v;
    case RW_WORD1:
        c->read_state = RW_WORD0;
        return (uint8_t)(v >> 8);
    default:
        return (uint8_t)v;
    }
}

static uint32_t pit_read(void *dev, uint16_t off, unsigned size)
{
    if (off >= 3)
        return 0xff; /* the control word register is write-only */
    return read_counter(dev, off);
}

static void pit_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    if (off == 3)
        write_control(dev, (uint8_t)v);
    else if (off < 3)
        write_counter(dev, off, (uint8_t)v);
}

static const struct io_ops pit_ops = {pit_read, pit_write};

void pit_set_gate(struct i8254 *p, unsigned channel, bool level)
{
    if (channel >= 3)
        return;
    struct pit_channel *c = &p->ch[channel];
    bool rising = level && !c->gate;
    if (level == c->gate)
        return;
    if (c->loaded) {
        switch (c->mode) {
        case 1:
        case 5: /* rising edge (re)starts the count */
            if (rising) {
                c->triggered = true;
                c->load_tick = now_tick(p);
            }
            break;
        case 2:
        case 3: /* low stops and forces OUT high; rising edge reloads */
        case 0:
        case 4: /* low suspends counting; high resumes where it stood */
            if (!level) {
                c->frozen_d = elapsed(p, c);
                c->frozen = true;
            } else {
                uint64_t d = (c->mode == 2 || c->mode == 3) ? 0 : c->frozen_d;
                c->frozen = false;
                c->load_tick = now_tick(p) - d;
            }
            break;
        default:
            break;
        }
    }
    c->gate = level;
    channel_changed(p, channel);
}

bool pit_get_gate(const struct i8254 *p, unsigned channel)
{
    return channel < 3 && p->ch[channel].gate;
}

bool pit_get_out(const struct i8254 *p, unsigned channel)
{
    if (channel >= 3)
        return false;
    return out_now(p, &p->ch[channel]);
}

void pit_reset(struct i8254 *p)
{
    p->irq_level = false;
    p->timer_tick = 0;
    irq_set(&p->irq0, 0);
    for (unsigned i = 0; i < 3; i++) {
        struct pit_channel *c = &p->ch[i];
        memset(c, 0, sizeof(*c));
        c->gate = i != 2; /* channel 2's gate comes from port 0x61, low at reset */
        c->count = 0x10000;
    }
    pit_irq_update(p);
}

void pit_init(struct i8254 *p, struct vclock *clock, const struct irq_line *irq0)
{
    memset(p, 0, sizeof(*p));
    p->clock = clock;
    if (irq0)
        p->irq0 = *irq0;
    vtimer_init(&p->timer, pit_timer_fire, p);
    pit_reset(p);
}

int pit_register(struct i8254 *p, struct iobus *bus)
{
    return iobus_register(bus, PIT_BASE, 4, &pit_ops, p, "pit");
}
