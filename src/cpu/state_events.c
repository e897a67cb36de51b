/* Query of a VP's pending asynchronous events, for the machine's wake-up decisions. */
#include "cpu/vcpu.h"

uint32_t cpu_pending_events(const struct vcpu *vp)
{
    return vp->events;
}
