/* Connection ids the guest posts messages to and signals events on (TLFS v6.0b 11.5-11.6),
 * each ending either in this partition (loopback to a VP's SINT) or in hvemu itself. */
#include "hv/hyperv/internal.h"

#include <string.h>

struct hv_port *hv_port_find(struct hv_partition *p, uint32_t id)
{
    for (unsigned i = 0; i < HV_MAX_PORTS; i++)
        if (p->ports[i].used && p->ports[i].id == id)
            return &p->ports[i];
    return NULL;
}

int hv_port_create(struct hv_partition *p, uint32_t connection_id, const struct hv_port_desc *d)
{
    /* Port and connection ids are 24 bits (TLFS HV_CONNECTION_ID). */
    if (!d || connection_id > 0xFFFFFFu || hv_port_find(p, connection_id))
        return -1;
    if (d->type != HV_PORT_MESSAGE && d->type != HV_PORT_EVENT)
        return -1;
    bool host = d->type == HV_PORT_MESSAGE ? d->host_message != NULL : d->host_event != NULL;
    if (!host && (d->target_vp >= p->nr_vps || d->sint >= HV_SINT_COUNT))
        return -1;
    if (d->type == HV_PORT_EVENT &&
        (d->flag_count == 0 || (unsigned)d->base_flag + d->flag_count > HV_EVENT_FLAGS_PER_SINT))
        return -1;
    for (unsigned i = 0; i < HV_MAX_PORTS; i++) {
        if (!p->ports[i].used) {
            p->ports[i].used = true;
            p->ports[i].id = connection_id;
            p->ports[i].d = *d;
            return 0;
        }
    }
    return -1;
}

void hv_port_destroy(struct hv_partition *p, uint32_t connection_id)
{
    struct hv_port *port = hv_port_find(p, connection_id);
    if (port)
        memset(port, 0, sizeof(*port));
}
