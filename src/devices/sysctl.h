/* Machine-level requests a device can make (power off, reset, debug exit, A20 gate). */
#ifndef HVEMU_SYSCTL_H
#define HVEMU_SYSCTL_H

#include "types.h"

enum sys_request {
    SYS_REQ_POWEROFF,   /* ACPI S5 */
    SYS_REQ_RESET,      /* i8042 pulse, port 0x92 bit 0, 0xCF9 */
    SYS_REQ_DEBUG_EXIT, /* isa-debug-exit: status is the process exit status */
};

/* The machine fills this in; every callback may be NULL (the request is then dropped). A
 * request is a message: the device carries on and the machine acts on it after the exit. */
struct sys_ctl {
    void *opaque;
    void (*request)(void *opaque, enum sys_request req, int status);
    void (*set_a20)(void *opaque, bool on);
};

static inline void sys_request(const struct sys_ctl *c, enum sys_request req, int status)
{
    if (c && c->request)
        c->request(c->opaque, req, status);
}

static inline void sys_set_a20(const struct sys_ctl *c, bool on)
{
    if (c && c->set_a20)
        c->set_a20(c->opaque, on);
}

#endif
