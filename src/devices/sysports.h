/* Motherboard glue ports: 0x61 (system control port B), 0x92 (fast A20/reset), 0x80 (POST
 * code) and 0xCF9 (PIIX reset control). */
#ifndef HVEMU_SYSPORTS_H
#define HVEMU_SYSPORTS_H

#include "devices/i8254.h"
#include "devices/iobus.h"
#include "devices/sysctl.h"
#include "devices/vclock.h"

#define SYSPORT_B       0x61
#define SYSPORT_A       0x92
#define SYSPORT_POST    0x80
#define SYSPORT_RST_CNT 0xCF9

struct sysports {
    uint8_t port_b;   /* bits 0-3 as written */
    uint8_t port_a;   /* bit 1 A20, bit 0 reset */
    uint8_t post;     /* last POST code written to 0x80 */
    uint8_t rst_cnt;  /* 0xCF9 bits 1 and 3 */
    struct i8254 *pit;
    struct vclock *clock;
    struct sys_ctl ctl;
};

void sysports_init(struct sysports *s, struct i8254 *pit, struct vclock *clock,
                   const struct sys_ctl *ctl);
void sysports_reset(struct sysports *s);
int sysports_register(struct sysports *s, struct iobus *bus);
uint8_t sysports_post_code(const struct sysports *s);
bool sysports_speaker_on(const struct sysports *s);

#endif
