/* System control ports: PIT channel 2 gate/speaker and refresh toggle on 0x61, fast A20 and
 * reset on 0x92, POST codes on 0x80, reset control on 0xCF9 (Intel PIIX3 data sheet). */
#include "devices/sysports.h"

#include <string.h>

#define B_GATE2    0x01
#define B_SPKR     0x02
#define B_WRITABLE 0x0f
#define B_REFRESH  0x10
#define B_OUT2     0x20

/* The DRAM refresh request toggles every 15.085 us; BIOS-era delay loops count its edges. */
#define REFRESH_NS 15085u

#define A_RESET 0x01
#define A_A20   0x02

#define RC_SYS_RST 0x02
#define RC_RST_CPU 0x04
#define RC_FULL_RST 0x08

static uint32_t port_b_read(void *dev, uint16_t off, unsigned size)
{
    struct sysports *s = dev;
    uint8_t v = s->port_b & B_WRITABLE;
    if (s->clock && (vclock_now(s->clock) / REFRESH_NS) & 1)
        v |= B_REFRESH;
    if (s->pit && pit_get_out(s->pit, 2))
        v |= B_OUT2;
    return v;
}

static void port_b_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct sysports *s = dev;
    s->port_b = (uint8_t)v & B_WRITABLE;
    if (s->pit)
        pit_set_gate(s->pit, 2, (v & B_GATE2) != 0);
}

static uint32_t port_a_read(void *dev, uint16_t off, unsigned size)
{
    return ((struct sysports *)dev)->port_a;
}

static void port_a_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct sysports *s = dev;
    uint8_t old = s->port_a;
    s->port_a = (uint8_t)v & (A_RESET | A_A20);
    if ((old ^ s->port_a) & A_A20)
        sys_set_a20(&s->ctl, (s->port_a & A_A20) != 0);
    if ((s->port_a & A_RESET) && !(old & A_RESET)) /* a 0->1 edge resets */
        sys_request(&s->ctl, SYS_REQ_RESET, 0);
}

static uint32_t post_read(void *dev, uint16_t off, unsigned size)
{
    return ((struct sysports *)dev)->post;
}

static void post_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    ((struct sysports *)dev)->post = (uint8_t)v;
}

static uint32_t rst_cnt_read(void *dev, uint16_t off, unsigned size)
{
    return ((struct sysports *)dev)->rst_cnt;
}

static void rst_cnt_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct sysports *s = dev;
    s->rst_cnt = (uint8_t)v & (RC_SYS_RST | RC_FULL_RST);
    if (v & RC_RST_CPU)
        sys_request(&s->ctl, SYS_REQ_RESET, 0);
}

static const struct io_ops port_b_ops = {port_b_read, port_b_write};
static const struct io_ops port_a_ops = {port_a_read, port_a_write};
static const struct io_ops post_ops = {post_read, post_write};
static const struct io_ops rst_cnt_ops = {rst_cnt_read, rst_cnt_write};

uint8_t sysports_post_code(const struct sysports *s)
{
    return s->post;
}

bool sysports_speaker_on(const struct sysports *s)
{
    return (s->port_b & (B_GATE2 | B_SPKR)) == (B_GATE2 | B_SPKR);
}

void sysports_reset(struct sysports *s)
{
    s->port_b = 0;
    s->port_a = A_A20; /* matches the i8042 output port: A20 on */
    s->rst_cnt = 0;
    if (s->pit)
        pit_set_gate(s->pit, 2, false);
}

void sysports_init(struct sysports *s, struct i8254 *pit, struct vclock *clock,
                   const struct sys_ctl *ctl)
{
    memset(s, 0, sizeof(*s));
    s->pit = pit;
    s->clock = clock;
    if (ctl)
        s->ctl = *ctl;
    sysports_reset(s);
}

int sysports_register(struct sysports *s, struct iobus *bus)
{
    if (iobus_register(bus, SYSPORT_B, 1, &port_b_ops, s, "port-b") ||
        iobus_register(bus, SYSPORT_A, 1, &port_a_ops, s, "port-a") ||
        iobus_register(bus, SYSPORT_POST, 1, &post_ops, s, "post") ||
        iobus_register(bus, SYSPORT_RST_CNT, 1, &rst_cnt_ops, s, "rst-cnt"))
        return -1;
    return 0;
}
