/* Virtual clock and a sorted timer queue. */
#include "devices/vclock.h"

#include <string.h>

void vclock_init(struct vclock *c)
{
    memset(c, 0, sizeof(*c));
}

void vclock_detach(struct vclock *c)
{
    c->base_ns = vclock_now(c);
    c->live_icount = NULL;
}

void vclock_attach(struct vclock *c, uint64_t base_ns, const uint64_t *live_icount)
{
    c->base_ns = base_ns;
    c->live_icount = live_icount;
    c->base_icount = live_icount ? *live_icount : 0;
}

void vtimer_init(struct vtimer *t, vtimer_fn fire, void *opaque)
{
    memset(t, 0, sizeof(*t));
    t->fire = fire;
    t->opaque = opaque;
}

void vtimer_cancel(struct vclock *c, struct vtimer *t)
{
    if (!t->armed)
        return;
    for (struct vtimer **p = &c->head; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = NULL;
    t->armed = false;
}

void vtimer_arm(struct vclock *c, struct vtimer *t, uint64_t deadline_ns)
{
    vtimer_cancel(c, t);
    t->deadline = deadline_ns;
    struct vtimer **p = &c->head;
    /* Equal deadlines fire in arming order, so runs are deterministic. */
    while (*p && (*p)->deadline <= deadline_ns)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->armed = true;
}

uint64_t vclock_next_deadline(const struct vclock *c)
{
    return c->head ? c->head->deadline : UINT64_MAX;
}

unsigned vclock_run_timers(struct vclock *c)
{
    unsigned fired = 0;
    /* A callback may re-arm itself or others; bound the loop so a timer re-armed in the past
     * cannot spin forever. */
    while (c->head && c->head->deadline <= vclock_now(c) && fired < 100000) {
        struct vtimer *t = c->head;
        c->head = t->next;
        t->next = NULL;
        t->armed = false;
        t->fire(t->opaque, vclock_now(c));
        fired++;
    }
    return fired;
}

void vclock_advance_to(struct vclock *c, uint64_t ns)
{
    vclock_detach(c);
    /* Each timer fires with time standing at its own deadline, so periodic timers that re-arm
     * from "now" keep their phase across a jump. */
    unsigned guard = 0;
    while (c->head && c->head->deadline <= ns && guard++ < 100000) {
        if (c->head->deadline > c->base_ns)
            c->base_ns = c->head->deadline;
        vclock_run_timers(c);
    }
    if (ns > c->base_ns)
        c->base_ns = ns;
}
