/* The virtual clock: guest-visible time derived from executed guest instructions, plus the
 * timer queue every device and the hypervisor's synthetic timers use. */
#ifndef HVEMU_VCLOCK_H
#define HVEMU_VCLOCK_H

#include "types.h"

/* One executed guest instruction is one nanosecond of virtual time: a virtual 1 GHz CPU.
 * The TSC runs at VCLOCK_TSC_HZ, so TSC ticks == virtual nanoseconds. */
#define VCLOCK_NS_PER_INSN 1ull
#define VCLOCK_TSC_HZ 1000000000ull

struct vclock;
typedef void (*vtimer_fn)(void *opaque, uint64_t now_ns);

struct vtimer {
    uint64_t deadline;       /* virtual ns */
    vtimer_fn fire;
    void *opaque;
    struct vtimer *next;
    bool armed;
};

struct vclock {
    /* now = base_ns + (*live_icount - base_icount) * VCLOCK_NS_PER_INSN. The machine points
     * live_icount at the running VP's retired-instruction counter for each slice, so a device
     * read in the middle of a slice sees exact time. */
    uint64_t base_ns;
    uint64_t base_icount;
    const uint64_t *live_icount;
    struct vtimer *head;     /* armed timers, soonest first */
};

void vclock_init(struct vclock *c);
static inline uint64_t vclock_now(const struct vclock *c)
{
    if (!c->live_icount)
        return c->base_ns;
    return c->base_ns + (*c->live_icount - c->base_icount) * VCLOCK_NS_PER_INSN;
}
/* Freeze time at its current value and stop following any VP. */
void vclock_detach(struct vclock *c);
/* Follow a VP's counter from now on, starting at time base_ns. */
void vclock_attach(struct vclock *c, uint64_t base_ns, const uint64_t *live_icount);
/* Jump time forward (never backward) with no VP attached, firing every timer due by then. */
void vclock_advance_to(struct vclock *c, uint64_t ns);
/* Fire every armed timer whose deadline is <= now. Returns how many fired. */
unsigned vclock_run_timers(struct vclock *c);
uint64_t vclock_next_deadline(const struct vclock *c); /* UINT64_MAX when none */

void vtimer_init(struct vtimer *t, vtimer_fn fire, void *opaque);
void vtimer_arm(struct vclock *c, struct vtimer *t, uint64_t deadline_ns);
void vtimer_cancel(struct vclock *c, struct vtimer *t);

#endif
