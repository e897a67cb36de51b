/* HvPostMessage and HvSignalEvent (TLFS v6.0b 11.10.x) through the connection table of
 * ports.c, and the extended-capabilities query. */
#include "hv/hyperv/internal.h"

#include <string.h>

static uint32_t get32(const uint8_t *b)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

/* Input: +0 ConnectionId, +4 reserved, +8 MessageType, +12 PayloadSize, +16 payload. */
uint16_t hc_post_message(struct hv_call *c)
{
    struct hv_partition *p = c->p;
    uint32_t conn = get32(c->in), type = get32(c->in + 8), size = get32(c->in + 12);
    struct hv_port *port = hv_port_find(p, conn);
    if (!port)
        return HV_STATUS_INVALID_CONNECTION_ID;
    if (port->d.type != HV_PORT_MESSAGE)
        return HV_STATUS_INVALID_PORT_ID;
    /* Guests may not forge hypervisor messages (bit 31) or send the empty type. */
    if (type == HVMSG_NONE || (type & 0x80000000u) || size > HV_MESSAGE_PAYLOAD_MAX)
        return HV_STATUS_INVALID_PARAMETER;
    const uint8_t *payload = c->in + 16;
    if (port->d.host_message)
        return port->d.host_message(port->d.host_opaque, conn, c->vp->index, type, payload, size);
    uint8_t msg[HV_MESSAGE_SIZE];
    memset(msg, 0, sizeof(msg));
    memcpy(msg + HV_MSG_OFF_TYPE, &type, 4);
    msg[HV_MSG_OFF_SIZE] = (uint8_t)size;
    uint64_t origin = conn; /* the port id: hvemu's ports and connections share ids */
    memcpy(msg + HV_MSG_OFF_ORIGIN, &origin, 8);
    memcpy(msg + HV_MSG_OFF_PAYLOAD, payload, size);
    struct hv_vp *target = &p->vps[port->d.target_vp];
    if (!hv_synic_usable(target))
        return HV_STATUS_INVALID_SYNIC_STATE;
    return hv_synic_queue(target, port->d.sint, msg);
}

/* Input u64: ConnectionId 31:0, FlagNumber 47:32 (relative to the port's base), 63:48 RsvdZ. */
uint16_t hc_signal_event(struct hv_call *c)
{
    struct hv_partition *p = c->p;
    uint32_t conn = get32(c->in);
    uint32_t hi = get32(c->in + 4);
    if (hi >> 16)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    uint16_t flag = (uint16_t)hi;
    struct hv_port *port = hv_port_find(p, conn);
    if (!port)
        return HV_STATUS_INVALID_CONNECTION_ID;
    if (port->d.type != HV_PORT_EVENT)
        return HV_STATUS_INVALID_PORT_ID;
    if (flag >= port->d.flag_count)
        return HV_STATUS_INVALID_PARAMETER;
    if (port->d.host_event)
        return port->d.host_event(port->d.host_opaque, conn, c->vp->index, flag);
    return hv_synic_set_event(&p->vps[port->d.target_vp], port->d.sint,
                              (unsigned)port->d.base_flag + flag);
}

/* Output u64: the extended capabilities; hvemu implements none of the extended calls. */
uint16_t hc_ext_query_capabilities(struct hv_call *c)
{
    memset(c->out, 0, 8);
    return HV_STATUS_SUCCESS;
}
