/* Shared by the device tests: a seeded generator and the random-port-I/O robustness loop. */
#ifndef HVEMU_TEST_DEV_FUZZ_H
#define HVEMU_TEST_DEV_FUZZ_H

#include "devices/iobus.h"
#include "devices/vclock.h"

uint64_t xorshift(uint64_t *s);

/* Random guest I/O (any port of the device, any size, random time steps): nothing may crash,
 * hang or trip the sanitizers. extra (may be NULL) runs after each step with the step's
 * random word. */
void fuzz_ports(struct iobus *bus, struct vclock *clk, const uint16_t *ports, size_t n,
                uint64_t seed, void (*extra)(void *, uint64_t), void *ctx);

#endif
