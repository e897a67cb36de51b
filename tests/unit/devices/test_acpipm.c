/* ACPI PM1 block at 0x600: PM timer, status/enable, SCI, and S5 power-off. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/acpi_pm.h"

struct rec { int poweroffs, sci; };
static void req(void *opaque, enum sys_request r, int status)
{
    if (r == SYS_REQ_POWEROFF)
        ((struct rec *)opaque)->poweroffs++;
}
static void sci_set(void *opaque, unsigned irq, int level)
{
    ((struct rec *)opaque)->sci = level;
}

struct fixture { struct vclock clk; struct iobus bus; struct acpi_pm pm; struct rec r; };

static void setup(struct fixture *f)
{
    vclock_init(&f->clk);
    iobus_init(&f->bus);
    f->r = (struct rec){0, 0};
    struct irq_line sci = {sci_set, &f->r, ACPI_SCI_IRQ};
    struct sys_ctl ctl = {&f->r, req, NULL};
    acpi_pm_init(&f->pm, &f->clk, &sci, &ctl);
    cr_assert_eq(acpi_pm_register(&f->pm, &f->bus), 0);
}

static const struct { uint64_t ns; uint32_t tmr; } timer_points[] = {
    {0, 0}, {1000, 3}, {1000000000, 3579545}, {5000000000ull, 17897725 - 0x1000000},
};

Test(acpipm, pm_timer_runs_at_3_58_mhz)
{
    struct fixture f;
    setup(&f);
    for (size_t i = 0; i < ARRAY_SIZE(timer_points); i++) {
        vclock_advance_to(&f.clk, timer_points[i].ns);
        cr_expect_eq(iobus_read(&f.bus, ACPI_PM_TMR_BLK, 4), timer_points[i].tmr, "at %llu ns",
                     (unsigned long long)timer_points[i].ns);
    }
}

/* Writes of PM1a_CNT and whether each powers off. */
static const struct { uint16_t port; uint32_t v; unsigned size; int poweroffs; } cnt_writes[] = {
    {ACPI_PM1A_CNT_BLK, (ACPI_S5_SLP_TYP << 10), 2, 0},            /* SLP_TYP without SLP_EN */
    {ACPI_PM1A_CNT_BLK, (0u << 10) | (1u << 13), 2, 0},            /* S0 sleep type */
    {ACPI_PM1A_CNT_BLK, (1u << 10) | (1u << 13), 2, 0},            /* S1: ignored */
    {ACPI_PM1A_CNT_BLK, (ACPI_S5_SLP_TYP << 10) | (1u << 13) | 1, 2, 1}, /* S5 */
    {ACPI_PM1A_CNT_BLK + 1, ((ACPI_S5_SLP_TYP << 10) | (1u << 13)) >> 8, 1, 1}, /* byte */
};

Test(acpipm, s5_power_off)
{
    for (size_t i = 0; i < ARRAY_SIZE(cnt_writes); i++) {
        struct fixture f;
        setup(&f);
        iobus_write(&f.bus, cnt_writes[i].port, cnt_writes[i].v, cnt_writes[i].size);
        cr_expect_eq(f.r.poweroffs, cnt_writes[i].poweroffs, "write %zu", i);
        cr_expect_eq(iobus_read(&f.bus, ACPI_PM1A_CNT_BLK, 2) & (1u << 13), 0,
                     "SLP_EN reads 0");
    }
}

Test(acpipm, sci_en_set_and_registers_read_back)
{
    struct fixture f;
    setup(&f);
    cr_expect_eq(iobus_read(&f.bus, ACPI_PM1A_CNT_BLK, 2), 1);
    iobus_write(&f.bus, ACPI_PM1A_EVT_BLK + 2, 0xffff, 2);
    cr_expect_eq(iobus_read(&f.bus, ACPI_PM1A_EVT_BLK + 2, 2), 0x0721, "only defined enables");
    cr_expect_eq(iobus_read(&f.bus, ACPI_PM1A_EVT_BLK, 4) & 0xffff, 0);
}

Test(acpipm, power_button_raises_sci_until_cleared)
{
    struct fixture f;
    setup(&f);
    acpi_pm_power_button(&f.pm);
    cr_expect_eq(f.r.sci, 0, "not enabled");
    cr_expect_eq(iobus_read(&f.bus, ACPI_PM1A_EVT_BLK, 2), 0x0100);
    iobus_write(&f.bus, ACPI_PM1A_EVT_BLK + 2, 0x0100, 2);
    cr_expect_eq(f.r.sci, 1);
    iobus_write(&f.bus, ACPI_PM1A_EVT_BLK, 0x0001, 2); /* clearing another bit changes nothing */
    cr_expect_eq(f.r.sci, 1);
    iobus_write(&f.bus, ACPI_PM1A_EVT_BLK, 0x0100, 2);
    cr_expect_eq(f.r.sci, 0);
    cr_expect_eq(iobus_read(&f.bus, ACPI_PM1A_EVT_BLK, 2), 0);
}

Test(acpipm, timer_overflow_status)
{
    struct fixture f;
    setup(&f);
    iobus_write(&f.bus, ACPI_PM1A_EVT_BLK + 2, 0x0001, 2);
    /* Bit 23 toggles every 2^23 ticks = 2.3435 s. */
    vclock_advance_to(&f.clk, 2343000000ull);
    cr_expect_eq(f.r.sci, 0);
    vclock_advance_to(&f.clk, 2344000000ull);
    cr_expect_eq(f.r.sci, 1);
    cr_expect_eq(iobus_read(&f.bus, ACPI_PM1A_EVT_BLK, 2) & 1, 1);
    iobus_write(&f.bus, ACPI_PM1A_EVT_BLK, 0x0001, 2);
    cr_expect_eq(f.r.sci, 0);
    vclock_advance_to(&f.clk, 4688000000ull);
    cr_expect_eq(f.r.sci, 1, "and again at the next toggle");
}



Test(acpipm, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x606, 0x607,
                                     0x608, 0x609, 0x60a, 0x60b};
    struct fixture f;
    setup(&f);
    fuzz_ports(&f.bus, &f.clk, ports, ARRAY_SIZE(ports), 0xacb1, NULL, NULL);
}
