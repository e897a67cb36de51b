/* Port-I/O bus dispatch. */
#include "devices/iobus.h"

#include <string.h>

void iobus_init(struct iobus *bus)
{
    memset(bus, 0, sizeof(*bus));
}

int iobus_register(struct iobus *bus, uint16_t base, uint16_t len, const struct io_ops *ops,
                   void *dev, const char *name)
{
    if (len == 0 || (uint32_t)base + len > 0x10000u || bus->count == IOBUS_MAX_RANGES)
        return -1;
    for (unsigned i = 0; i < bus->count; i++) {
        const struct io_range *r = &bus->ranges[i];
        if (base < r->base + r->len && r->base < base + len)
            return -1;
    }
    bus->ranges[bus->count++] = (struct io_range){base, len, ops, dev, name};
    return 0;
}

const struct io_range *iobus_find(const struct iobus *bus, uint16_t port)
{
    for (unsigned i = 0; i < bus->count; i++) {
        const struct io_range *r = &bus->ranges[i];
        if (port >= r->base && port - r->base < r->len)
            return r;
    }
    return NULL;
}

uint32_t iobus_read(struct iobus *bus, uint16_t port, unsigned size)
{
    const struct io_range *r = iobus_find(bus, port);
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
    if (!r || !r->ops->read)
        return ones;
    return r->ops->read(r->dev, (uint16_t)(port - r->base), size) & ones;
}

void iobus_write(struct iobus *bus, uint16_t port, uint32_t value, unsigned size)
{
    const struct io_range *r = iobus_find(bus, port);
    if (r && r->ops->write)
        r->ops->write(r->dev, (uint16_t)(port - r->base), value, size);
}
