/* QEMU's isa-debug-exit at port 0xF4: writing v ends the run with exit status (v << 1) | 1. */
#ifndef HVEMU_DEBUGEXIT_H
#define HVEMU_DEBUGEXIT_H

#include "devices/iobus.h"
#include "devices/sysctl.h"

#define DEBUGEXIT_PORT 0xF4

struct debugexit {
    uint16_t port;
    struct sys_ctl ctl;
};

void debugexit_init(struct debugexit *d, uint16_t port, const struct sys_ctl *ctl);
void debugexit_reset(struct debugexit *d);
int debugexit_register(struct debugexit *d, struct iobus *bus);
/* The exit status a write of v requests. */
int debugexit_status(uint32_t v);

#endif
