/* ACPI fixed-hardware PM1a event/control block and PM timer at I/O 0x600, SCI on IRQ 9. */
#ifndef HVEMU_ACPI_PM_H
#define HVEMU_ACPI_PM_H

#include "devices/acpi_layout.h"
#include "devices/iobus.h"
#include "devices/irq.h"
#include "devices/sysctl.h"
#include "devices/vclock.h"

/* Port layout, timer width and the S5 sleep type come from acpi_layout.h, the one place the
 * FADT/DSDT generator also reads them from. */
#define ACPI_PM_LEN         (ACPI_PM_TMR_BLK + ACPI_PM_TMR_LEN - ACPI_PM_BASE)

struct acpi_pm {
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    bool sci_level;
    struct vclock *clock;
    struct irq_line sci;
    struct sys_ctl ctl;
    struct vtimer tmr_timer; /* next toggle of timer bit 23 while TMR_EN is set */
};

void acpi_pm_init(struct acpi_pm *pm, struct vclock *clock, const struct irq_line *sci,
                  const struct sys_ctl *ctl);
void acpi_pm_reset(struct acpi_pm *pm);
int acpi_pm_register(struct acpi_pm *pm, struct iobus *bus);
/* PM timer value now (24 bits). */
uint32_t acpi_pm_timer(const struct acpi_pm *pm);
/* Fixed power button event: PWRBTN_STS, SCI when enabled (a graceful shutdown request). */
void acpi_pm_power_button(struct acpi_pm *pm);

#endif
