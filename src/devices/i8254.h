/* 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz of virtual time. */
#ifndef HVEMU_I8254_H
#define HVEMU_I8254_H

#include "devices/iobus.h"
#include "devices/irq.h"
#include "devices/vclock.h"

#define PIT_BASE   0x40
#define PIT_FREQ_HZ 1193182ull

struct pit_channel {
    uint32_t count;        /* reload value in binary, 1..0x10000 (BCD: 1..10000) */
    uint64_t load_tick;    /* PIT tick at which the current count started */
    uint16_t latched_count;
    uint8_t count_latched; /* access mode of the pending latched count, 0 = none */
    bool status_latched;
    uint8_t status;
    uint8_t read_state, write_state, write_latch;
    uint8_t rw_mode, mode;
    bool bcd;
    bool gate;
    bool loaded;           /* a count was written since the control word */
    bool triggered;        /* modes 1 and 5: a gate rising edge started the count */
    bool frozen;           /* modes 0, 2, 3, 4: gate low holds the count */
    uint64_t frozen_d;     /* ticks elapsed when the gate fell */
};

struct i8254 {
    struct pit_channel ch[3];
    struct vclock *clock;
    struct irq_line irq0;  /* channel 0 OUT; follows the output level */
    bool irq_level;
    struct vtimer timer;   /* next channel 0 output transition */
    uint64_t timer_tick;   /* PIT tick that timer is armed for */
};

void pit_init(struct i8254 *p, struct vclock *clock, const struct irq_line *irq0);
void pit_reset(struct i8254 *p);
int pit_register(struct i8254 *p, struct iobus *bus);
/* Gate input of a channel (channel 2: port 0x61 bit 0; channels 0 and 1 are tied high). */
void pit_set_gate(struct i8254 *p, unsigned channel, bool level);
bool pit_get_gate(const struct i8254 *p, unsigned channel);
/* OUT pin level now (channel 2: port 0x61 bit 5). */
bool pit_get_out(const struct i8254 *p, unsigned channel);

#endif
