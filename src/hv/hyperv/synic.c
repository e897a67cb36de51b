/* SynIC message and event delivery (TLFS v6.0b chapter 11): per-(VP, SINT) message queues,
 * the SIM slot protocol with MessagePending and redelivery on EOM/EOI, SIEF event flags. */
#include "hv/hyperv/internal.h"

#include <stdlib.h>
#include <string.h>

static uint32_t get32(const uint8_t *b)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

static void put32(uint8_t *b, uint32_t v)
{
    memcpy(b, &v, 4);
}

static void put64(uint8_t *b, uint64_t v)
{
    memcpy(b, &v, 8);
}

bool hv_synic_usable(const struct hv_vp *vp)
{
    return (vp->scontrol & 1) && (vp->simp & HV_PAGE_ENABLE) && vp->simp_gpa != HV_UNMAPPED;
}

/* Edge-triggered interrupt for a SINT; lost if masked (the message stays in its slot). */
static void sint_raise(struct hv_vp *vp, unsigned sint)
{
    struct hv_partition *p = vp->p;
    uint64_t s = vp->sint[sint];
    if (s & HV_SINT_MASKED)
        return;
    HV_TRACE(p, "vp%u sint%u interrupt vector 0x%02x%s", vp->index, sint, HV_SINT_VECTOR(s),
             (s & HV_SINT_AUTO_EOI) ? " auto-eoi" : "");
    if (p->ops.inject)
        p->ops.inject(p->ops.opaque, vp->index, HV_SINT_VECTOR(s), (s & HV_SINT_AUTO_EOI) != 0);
}

/* A timer whose message waits for this SINT (timers 0-3 in order); they go before the queue. */
static struct hv_stimer *next_timer(struct hv_vp *vp, unsigned sint)
{
    for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
        struct hv_stimer *t = &vp->stimer[i];
        if (t->msg_pending && ((t->config >> HV_STIMER_SINT_SHIFT) & 0xF) == sint)
            return t;
    }
    return NULL;
}

static unsigned waiting(struct hv_vp *vp, unsigned sint)
{
    unsigned n = vp->queue[sint] ? vp->queue[sint]->count : 0;
    for (unsigned i = 0; i < HV_STIMER_COUNT; i++) {
        const struct hv_stimer *t = &vp->stimer[i];
        if (t->msg_pending && ((t->config >> HV_STIMER_SINT_SHIFT) & 0xF) == sint)
            n++;
    }
    return n;
}

/* TLFS 11.9.3: a message is copied into slot `sint` only when the slot's MessageType is
 * HvMessageTypeNone; otherwise MessagePending is set in the occupied slot and delivery waits
 * for the guest's EOM (or an EOI of the SINT's vector). */
void hv_synic_scan(struct hv_vp *vp, unsigned sint)
{
    struct hv_partition *p = vp->p;
    if (sint >= HV_SINT_COUNT || !hv_synic_usable(vp))
        return;
    unsigned n = waiting(vp, sint);
    if (n == 0)
        return;
    uint8_t *slot = vp->simp_page + sint * HV_MESSAGE_SIZE;
    if (get32(slot + HV_MSG_OFF_TYPE) != HVMSG_NONE) {
        slot[HV_MSG_OFF_FLAGS] |= HV_MESSAGE_PENDING;
        return;
    }
    struct hv_stimer *t = next_timer(vp, sint);
    if (t) {
        /* HV_TIMER_MESSAGE_PAYLOAD: TimerIndex, reserved, ExpirationTime, DeliveryTime. */
        memset(slot, 0, HV_MSG_OFF_PAYLOAD + 24);
        slot[HV_MSG_OFF_SIZE] = 24;
        put32(slot + HV_MSG_OFF_PAYLOAD, t->index);
        put64(slot + HV_MSG_OFF_PAYLOAD + 8, t->msg_exp);
        put64(slot + HV_MSG_OFF_PAYLOAD + 16, hv_ref_now(p));
        t->msg_pending = false;
        put32(slot + HV_MSG_OFF_TYPE, HVMSG_TIMER_EXPIRED);
    } else {
        struct hv_msg_queue *q = vp->queue[sint];
        const uint8_t *m = q->msg[q->head];
        unsigned size = m[HV_MSG_OFF_SIZE];
        memcpy(slot, m, HV_MSG_OFF_PAYLOAD + size);
        slot[HV_MSG_OFF_FLAGS] = 0;
        q->head = (q->head + 1) % HV_MSG_QUEUE_LEN;
        q->count--;
    }
    if (n > 1)
        slot[HV_MSG_OFF_FLAGS] |= HV_MESSAGE_PENDING;
    HV_TRACE(p, "vp%u sint%u message 0x%08x delivered%s", vp->index, sint,
             get32(slot + HV_MSG_OFF_TYPE), n > 1 ? " (more pending)" : "");
    sint_raise(vp, sint);
}

void hv_synic_scan_all(struct hv_vp *vp)
{
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        hv_synic_scan(vp, s);
}

void hv_apic_eoi_notify(struct hv_partition *p, struct hv_vp *vp, uint8_t vector)
{
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        if (HV_SINT_VECTOR(vp->sint[s]) == vector)
            hv_synic_scan(vp, s);
}

uint16_t hv_synic_queue(struct hv_vp *vp, unsigned sint, const uint8_t msg[HV_MESSAGE_SIZE])
{
    if (sint >= HV_SINT_COUNT)
        return HV_STATUS_INVALID_PARAMETER;
    if (!hv_synic_usable(vp))
        return HV_STATUS_INVALID_SYNIC_STATE;
    struct hv_msg_queue *q = vp->queue[sint];
    if (!q) {
        q = calloc(1, sizeof(*q));
        if (!q)
            return HV_STATUS_INSUFFICIENT_MEMORY;
        vp->queue[sint] = q;
    }
    if (q->count == HV_MSG_QUEUE_LEN)
        return HV_STATUS_INSUFFICIENT_BUFFERS;
    memcpy(q->msg[(q->head + q->count) % HV_MSG_QUEUE_LEN], msg, HV_MESSAGE_SIZE);
    q->count++;
    hv_synic_scan(vp, sint);
    return HV_STATUS_SUCCESS;
}

/* TLFS 11.9.4: flags are set with an atomic OR; only a 0->1 change raises the interrupt. A
 * masked SINT or a disabled SIEF page fails the signal. */
uint16_t hv_synic_set_event(struct hv_vp *vp, unsigned sint, unsigned flag)
{
    if (sint >= HV_SINT_COUNT || flag >= HV_EVENT_FLAGS_PER_SINT)
        return HV_STATUS_INVALID_PARAMETER;
    if (!(vp->scontrol & 1) || !(vp->siefp & HV_PAGE_ENABLE) || vp->siefp_gpa == HV_UNMAPPED ||
        (vp->sint[sint] & HV_SINT_MASKED))
        return HV_STATUS_INVALID_SYNIC_STATE;
    uint8_t *byte = vp->siefp_page + sint * (HV_EVENT_FLAGS_PER_SINT / 8) + flag / 8;
    uint8_t bit = (uint8_t)(1u << (flag % 8));
    HV_TRACE(vp->p, "vp%u sint%u event flag %u%s", vp->index, sint, flag,
             (*byte & bit) ? " (already set)" : "");
    if (*byte & bit)
        return HV_STATUS_SUCCESS;
    *byte |= bit;
    sint_raise(vp, sint);
    return HV_STATUS_SUCCESS;
}

void hv_synic_reset(struct hv_vp *vp)
{
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        if (vp->queue[s])
            vp->queue[s]->count = vp->queue[s]->head = 0;
    for (unsigned i = 0; i < HV_STIMER_COUNT; i++)
        vp->stimer[i].msg_pending = false;
}

void hv_synic_destroy(struct hv_vp *vp)
{
    for (unsigned s = 0; s < HV_SINT_COUNT; s++) {
        free(vp->queue[s]);
        vp->queue[s] = NULL;
    }
}

/* ---- Host side. ---- */

uint16_t hv_post_message_to_guest(struct hv_partition *p, unsigned vp, unsigned sint, uint32_t type,
                                  const void *payload, uint32_t len)
{
    if (!p->cfg.enabled || vp >= p->nr_vps || sint >= HV_SINT_COUNT || type == HVMSG_NONE ||
        len > HV_MESSAGE_PAYLOAD_MAX || (len && !payload))
        return HV_STATUS_INVALID_PARAMETER;
    uint8_t msg[HV_MESSAGE_SIZE];
    memset(msg, 0, sizeof(msg));
    put32(msg + HV_MSG_OFF_TYPE, type);
    msg[HV_MSG_OFF_SIZE] = (uint8_t)len;
    if (len)
        memcpy(msg + HV_MSG_OFF_PAYLOAD, payload, len);
    return hv_synic_queue(&p->vps[vp], sint, msg);
}

uint16_t hv_signal_event_to_guest(struct hv_partition *p, unsigned vp, unsigned sint, uint16_t flag)
{
    if (!p->cfg.enabled || vp >= p->nr_vps)
        return HV_STATUS_INVALID_PARAMETER;
    return hv_synic_set_event(&p->vps[vp], sint, flag);
}
