/* isa-debug-exit: the test-harness exit port, status encoding as in QEMU's hw/misc/debugexit. */
#include "devices/debugexit.h"

#include <string.h>

int debugexit_status(uint32_t v)
{
    /* The status is an int exit code; the shift keeps the bit pattern of (v << 1) | 1. */
    return (int)(((v << 1) | 1u) & 0x7fffffffu);
}

static uint32_t debugexit_read(void *dev, uint16_t off, unsigned size)
{
    return 0;
}

static void debugexit_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct debugexit *d = dev;
    if (size < 4)
        v &= (1u << (8 * size)) - 1;
    sys_request(&d->ctl, SYS_REQ_DEBUG_EXIT, debugexit_status(v));
}

static const struct io_ops debugexit_ops = {debugexit_read, debugexit_write};

void debugexit_reset(struct debugexit *d)
{
}

void debugexit_init(struct debugexit *d, uint16_t port, const struct sys_ctl *ctl)
{
    memset(d, 0, sizeof(*d));
    d->port = port;
    if (ctl)
        d->ctl = *ctl;
}

int debugexit_register(struct debugexit *d, struct iobus *bus)
{
    /* One port: the bus hands a word or dword OUT at the base to it whole. */
    return iobus_register(bus, d->port, 1, &debugexit_ops, d, "debug-exit");
}
