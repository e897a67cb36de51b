/* Seeded generator and random-port-I/O loop shared by the device tests. */
#include "dev_fuzz.h"

uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

void fuzz_ports(struct iobus *bus, struct vclock *clk, const uint16_t *ports, size_t n,
                uint64_t seed, void (*extra)(void *, uint64_t), void *ctx)
{
    uint64_t s = seed, t = clk ? vclock_now(clk) : 0;
    for (unsigned i = 0; i < 200000; i++) {
        uint64_t r = xorshift(&s);
        uint16_t port = ports[r % n];
        unsigned size = 1u << ((r >> 8) % 3);
        if ((r >> 12) & 1)
            iobus_write(bus, port, (uint32_t)(r >> 32), size);
        else
            iobus_read(bus, port, size);
        if (clk && ((r >> 16) & 7) == 0) {
            t += (r >> 20) % 200000;
            vclock_advance_to(clk, t);
        }
        if (extra)
            extra(ctx, r);
    }
}
