/* ACPI PM1 fixed hardware (ACPI 6.5 section 4.8.3): status/enable/control registers, the
 * 3.579545 MHz PM timer from the virtual clock, and S5 power-off through SLP_EN. */
#include "devices/acpi_pm.h"

#include <string.h>

#define NS_PER_SEC 1000000000ull

#define STS_TMR    0x0001
#define STS_BM     0x0010
#define STS_GBL    0x0020
#define STS_PWRBTN 0x0100
#define STS_SLPBTN 0x0200
#define STS_RTC    0x0400
#define STS_WAK    0x8000
#define STS_MASK   (STS_TMR | STS_BM | STS_GBL | STS_PWRBTN | STS_SLPBTN | STS_RTC | STS_WAK)

#define EN_MASK    (STS_TMR | STS_GBL | STS_PWRBTN | STS_SLPBTN | STS_RTC)

#define CNT_SCI_EN   0x0001
#define CNT_BM_RLD   0x0002
#define CNT_GBL_RLS  0x0004
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_TYP  0x1c00
#define CNT_SLP_EN   0x2000

#define TMR_MASK   ((uint32_t)((1ull << ACPI_PM_TIMER_BITS) - 1))
#define TMR_MSB    (1u << (ACPI_PM_TIMER_BITS - 1))

static uint64_t ns_to_ticks(uint64_t ns)
{
    return (ns / NS_PER_SEC) * ACPI_PM_TIMER_HZ + (ns % NS_PER_SEC) * ACPI_PM_TIMER_HZ / NS_PER_SEC;
}

static uint64_t ticks_to_ns(uint64_t t)
{
    uint64_t ns = (t / ACPI_PM_TIMER_HZ) * NS_PER_SEC +
                  (t % ACPI_PM_TIMER_HZ) * NS_PER_SEC / ACPI_PM_TIMER_HZ;
    while (ns_to_ticks(ns) < t)
        ns++;
    return ns;
}

uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
    return (uint32_t)(ns_to_ticks(vclock_now(pm->clock)) & TMR_MASK);
}

static void update_sci(struct acpi_pm *pm)
{
    bool level = (pm->pm1_sts & pm->pm1_en & EN_MASK) != 0;
    if (level != pm->sci_level) {
        pm->sci_level = level;
        irq_set(&pm->sci, level);
    }
}

/* TMR_STS is set whenever bit 23 of the timer changes; only TMR_EN needs a deadline. */
static void arm_tmr(struct acpi_pm *pm)
{
    if (!(pm->pm1_en & STS_TMR)) {
        vtimer_cancel(pm->clock, &pm->tmr_timer);
        return;
    }
    uint64_t t = ns_to_ticks(vclock_now(pm->clock));
    uint64_t next = (t / TMR_MSB + 1) * TMR_MSB;
    vtimer_arm(pm->clock, &pm->tmr_timer, ticks_to_ns(next));
}

static void tmr_fire(void *opaque, uint64_t now)
{
    struct acpi_pm *pm = opaque;
    pm->pm1_sts |= STS_TMR;
    update_sci(pm);
    arm_tmr(pm);
}

static void cnt_write(struct acpi_pm *pm, uint16_t v)
{
    pm->pm1_cnt = v & (CNT_SCI_EN | CNT_BM_RLD | CNT_SLP_TYP);
    if (v & CNT_GBL_RLS) { /* the OS releases the global lock: firmware would see GBL_STS */
        pm->pm1_sts |= STS_GBL;
        update_sci(pm);
    }
    if ((v & CNT_SLP_EN) && ((v & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT) == ACPI_S5_SLP_TYP)
        sys_request(&pm->ctl, SYS_REQ_POWEROFF, 0);
}

/* Byte view of the block, so 8-, 16- and 32-bit accesses all compose the same way. */
static uint8_t read_byte(struct acpi_pm *pm, unsigned off, uint32_t tmr)
{
    switch (off) {
    case 0: return (uint8_t)pm->pm1_sts;
    case 1: return (uint8_t)(pm->pm1_sts >> 8);
    case 2: return (uint8_t)pm->pm1_en;
    case 3: return (uint8_t)(pm->pm1_en >> 8);
    case 4: return (uint8_t)pm->pm1_cnt; /* SLP_EN always reads 0 */
    case 5: return (uint8_t)(pm->pm1_cnt >> 8);
    case 8: case 9: case 10: case 11:
        return (uint8_t)(tmr >> (8 * (off - 8)));
    default:
        return 0xff;
    }
}

static uint32_t pm_io_read(void *dev, uint16_t off, unsigned size)
{
    struct acpi_pm *pm = dev;
    uint32_t tmr = acpi_pm_timer(pm), v = 0;
    for (unsigned i = 0; i < size && i < 4; i++)
        v |= (uint32_t)read_byte(pm, off + i, tmr) << (8 * i);
    return v;
}

/* Writes are handled per register with the bytes the access covers, so a 16-bit write of
 * PM1_CNT sees SLP_TYP and SLP_EN together. */
static void pm_io_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct acpi_pm *pm = dev;
    for (unsigned i = 0; i < size && i < 4;) {
        unsigned o = off + i;
        unsigned reg = o & ~1u, lane = o & 1;
        uint16_t mask = (uint16_t)(0xffu << (8 * lane));
        uint16_t bytes = (uint16_t)(((v >> (8 * i)) & 0xff) << (8 * lane));
        if (lane == 0 && i + 1 < size) { /* both bytes of the register */
            mask = 0xffff;
            bytes = (uint16_t)(v >> (8 * i));
        }
        switch (reg) {
        case 0: /* PM1_STS: write 1 to clear */
            pm->pm1_sts &= (uint16_t)~(bytes & mask & STS_MASK);
            update_sci(pm);
            break;
        case 2:
            pm->pm1_en = (uint16_t)(((pm->pm1_en & ~mask) | (bytes & mask)) & EN_MASK);
            update_sci(pm);
            arm_tmr(pm);
            break;
        case 4:
            cnt_write(pm, (uint16_t)((pm->pm1_cnt & ~mask) | (bytes & mask)));
            break;
        default: /* the timer is read-only */
            break;
        }
        i += mask == 0xffff ? 2 : 1;
    }
}

static const struct io_ops pm_ops = {pm_io_read, pm_io_write};

void acpi_pm_power_button(struct acpi_pm *pm)
{
    pm->pm1_sts |= STS_PWRBTN;
    update_sci(pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
    pm->pm1_sts = 0;
    pm->pm1_en = 0;
    /* No SMI_CMD in the FADT: the platform is always in ACPI mode, so SCI_EN reads 1. */
    pm->pm1_cnt = CNT_SCI_EN;
    vtimer_cancel(pm->clock, &pm->tmr_timer);
    update_sci(pm);
}

void acpi_pm_init(struct acpi_pm *pm, struct vclock *clock, const struct irq_line *sci,
                  const struct sys_ctl *ctl)
{
    memset(pm, 0, sizeof(*pm));
    pm->clock = clock;
    if (sci)
        pm->sci = *sci;
    if (ctl)
        pm->ctl = *ctl;
    vtimer_init(&pm->tmr_timer, tmr_fire, pm);
    acpi_pm_reset(pm);
}

int acpi_pm_register(struct acpi_pm *pm, struct iobus *bus)
{
    return iobus_register(bus, ACPI_PM_BASE, ACPI_PM_LEN, &pm_ops, pm, "acpi-pm");
}
