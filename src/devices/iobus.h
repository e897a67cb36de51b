/* The port-I/O bus: devices register port ranges with an ops table; the CPU's I/O exits land here. */
#ifndef HVEMU_IOBUS_H
#define HVEMU_IOBUS_H

#include "types.h"

/* Offsets are relative to the registered base port; size is 1, 2 or 4. */
struct io_ops {
    uint32_t (*read)(void *dev, uint16_t offset, unsigned size);
    void (*write)(void *dev, uint16_t offset, uint32_t value, unsigned size);
};

struct io_range {
    uint16_t base;
    uint16_t len;
    const struct io_ops *ops;
    void *dev;
    const char *name;
};

#define IOBUS_MAX_RANGES 64

struct iobus {
    struct io_range ranges[IOBUS_MAX_RANGES];
    unsigned count;
};

void iobus_init(struct iobus *bus);
/* Returns 0, or -1 when the range overlaps another or the table is full. */
int iobus_register(struct iobus *bus, uint16_t base, uint16_t len, const struct io_ops *ops,
                   void *dev, const char *name);
/* Unclaimed ports read all-ones and ignore writes, as on a PC. */
uint32_t iobus_read(struct iobus *bus, uint16_t port, unsigned size);
void iobus_write(struct iobus *bus, uint16_t port, uint32_t value, unsigned size);
const struct io_range *iobus_find(const struct iobus *bus, uint16_t port);

#endif
