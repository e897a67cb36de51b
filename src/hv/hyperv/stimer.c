/* Synthetic timers (TLFS v6.0b 12.5-12.6): four per VP, one-shot or periodic, delivering a
 * HVMSG_TIMER_EXPIRED message to a SINT or, in direct mode, a vector to the local APIC. They
 * run on the virtual clock (vclock.h): a deadline in reference time T fires at T * 100 ns. */
#include "hv/hyperv/internal.h"

static void stimer_fire(void *opaque, uint64_t now_ns);

void hv_stimer_init(struct hv_vp *vp)
{
    for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
        struct hv_stimer *t = &vp->stimer[i];
        t->vp = vp;
        t->index = i;
        vtimer_init(&t->timer, stimer_fire, t);
    }
}

static bool is_direct(const struct hv_stimer *t)
{
    return (t->config & HV_STIMER_DIRECT) != 0;
}

static unsigned stimer_sint(const struct hv_stimer *t)
{
    return (unsigned)(t->config >> HV_STIMER_SINT_SHIFT) & 0xF;
}

static void expire(struct hv_stimer *t, uint64_t now_ref)
{
    struct hv_vp *vp = t->vp;
    struct hv_partition *p = vp->p;
    HV_TRACE(p, "vp%u stimer%u expired at %llu (due %llu)%s", vp->index, t->index,
             (unsigned long long)now_ref, (unsigned long long)t->exp_ref,
             is_direct(t) ? " direct" : "");
    if (is_direct(t)) {
        if (p->ops.inject)
            p->ops.inject(p->ops.opaque, vp->index,
                          (uint8_t)(t->config >> HV_STIMER_VECTOR_SHIFT), false);
    } else if (!t->msg_pending) {
        /* One message buffer per timer: while it waits for a free slot, further expirations
         * are folded into it (TLFS: "no backlog builds up"). */
        t->msg_pending = true;
        t->msg_exp = t->exp_ref;
        hv_synic_scan(vp, stimer_sint(t));
    }
    if (!(t->config & HV_STIMER_PERIODIC)) {
        t->config &= ~HV_STIMER_ENABLE;
        return;
    }
    /* Next period boundary after now; missed ticks are skipped, which is what lazy timers ask
     * for and what non-lazy ones may get (TLFS "compressed"). */
    uint64_t next = t->exp_ref + t->count;
    if (next <= now_ref)
        next = now_ref + t->count - (now_ref - t->exp_ref) % t->count;
    t->exp_ref = next;
    vtimer_arm(p->clock, &t->timer, next * HV_NS_PER_REF_TICK);
}

static void stimer_fire(void *opaque, uint64_t now_ns)
{
    struct hv_stimer *t = opaque;
    expire(t, now_ns / HV_NS_PER_REF_TICK);
}

/* (Re)start from the current config and count. A periodic timer's first period starts now; a
 * one-shot's count is an absolute reference time, and one already past fires at once. */
static void stimer_start(struct hv_stimer *t)
{
    struct hv_partition *p = t->vp->p;
    vtimer_cancel(p->clock, &t->timer);
    if (!(t->config & HV_STIMER_ENABLE) || t->count == 0)
        return;
    uint64_t now = hv_ref_now(p);
    if (t->config & HV_STIMER_PERIODIC) {
        t->exp_ref = now + t->count;
    } else {
        t->exp_ref = t->count;
        if (t->exp_ref <= now) {
            expire(t, now);
            return;
        }
    }
    vtimer_arm(p->clock, &t->timer, t->exp_ref * HV_NS_PER_REF_TICK);
}

int hv_stimer_config_write(struct hv_vp *vp, unsigned n, uint64_t v)
{
    struct hv_partition *p = vp->p;
    uint64_t rsvd = HV_STIMER_RSVD_MASK;
    /* Direct mode and its vector exist only when advertised (EDX[19]). */
    if (!hv_has(p, HVF_MISC(HV_MISC_STIMER_DIRECT)))
        rsvd |= HV_STIMER_DIRECT | (0xFFull << HV_STIMER_VECTOR_SHIFT);
    if (n >= HV_STIMER_COUNT || (v & rsvd))
        return -1;
    struct hv_stimer *t = &vp->stimer[n];
    /* A message-mode timer aimed at SINT0 cannot be enabled (KVM and Hyper-V clear Enable). */
    if ((v & HV_STIMER_ENABLE) && !(v & HV_STIMER_DIRECT) &&
        ((v >> HV_STIMER_SINT_SHIFT) & 0xF) == 0)
        v &= ~HV_STIMER_ENABLE;
    t->config = v;
    if (!(v & HV_STIMER_ENABLE))
        t->msg_pending = false;
    stimer_start(t);
    return 0;
}

void hv_stimer_count_write(struct hv_vp *vp, unsigned n, uint64_t v)
{
    struct hv_stimer *t = &vp->stimer[n];
    t->count = v;
    if (v == 0)
        t->config &= ~HV_STIMER_ENABLE; /* COUNT = 0 stops the timer whatever AutoEnable says */
    else if ((t->config & HV_STIMER_AUTOENABLE) && (is_direct(t) || stimer_sint(t) != 0))
        t->config |= HV_STIMER_ENABLE;
    stimer_start(t);
}

void hv_stimer_stop(struct hv_vp *vp)
{
    for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
        vtimer_cancel(vp->p->clock, &vp->stimer[i].timer);
        vp->stimer[i].msg_pending = false;
    }
}
