/* PC platform device guests (roms/tests/dev_*.c: LAPIC, IPIs, IOAPIC, PIT and RTC, HPET) run
 * whole through hvemu: each must finish with status 1, a SUMMARY with no failures, no FAIL or
 * FATAL line, and at least the number of checks it runs today (so skipped checks are caught). */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define TIMEOUT 120
#define MAX_ARGS 8

struct dev_case {
    const char *rom;
    const char *args[MAX_ARGS]; /* before --kernel; NULL-terminated */
    unsigned min_passed;
    bool skip_line; /* the guest must say it skipped its cross-VP part */
};

static void expect_all_pass(const struct dev_case *c)
{
    hv_expect_guest_passes(c->rom, c->args, c->min_passed,
                           c->skip_line ? HV_SKIP_REQUIRED : HV_SKIP_NONE, TIMEOUT);
}

Test(dev_guests, lapic)
{
    static const struct dev_case c = {"dev_lapic.elf", {NULL}, 80, false};
    expect_all_pass(&c);
}

/* The x2APIC half runs the same way with a second VP present. */
Test(dev_guests, lapic_two_vps)
{
    static const struct dev_case c = {"dev_lapic.elf", {"--smp", "2", NULL}, 80, false};
    expect_all_pass(&c);
}

/* A guest write to IA32_TIME_STAMP_COUNTER (MSR 0x10) moves the TSC against virtual time;
 * the machine forwards that offset to the LAPIC, so TSC deadlines still fire on time. */
Test(dev_guests, lapic_tsc_write)
{
    static const struct dev_case c = {"dev_lapic.elf", {"--append", "tscwrite", NULL}, 81, false};
    expect_all_pass(&c);
}

/* The guest counts the VPs in the MADT. */
Test(dev_guests, ipi_two_vps)
{
    static const struct dev_case c = {"dev_ipi.elf", {"--smp", "2", NULL}, 58, false};
    expect_all_pass(&c);
}

/* Extra VPs stay in wait-for-SIPI: broadcasts must not trip over them. */
Test(dev_guests, ipi_four_vps)
{
    static const struct dev_case c = {"dev_ipi.elf", {"--smp", "4", NULL}, 58, false};
    expect_all_pass(&c);
}

Test(dev_guests, ipi_one_vp)
{
    static const struct dev_case c = {"dev_ipi.elf", {NULL}, 2, true};
    expect_all_pass(&c);
}

Test(dev_guests, ioapic)
{
    static const struct dev_case c = {"dev_ioapic.elf", {NULL}, 35, false};
    expect_all_pass(&c);
}

/* The IOAPIC ID follows the VP count (MADT); the guest compares against the MADT. */
Test(dev_guests, ioapic_three_vps)
{
    static const struct dev_case c = {"dev_ioapic.elf", {"--smp", "3", NULL}, 35, false};
    expect_all_pass(&c);
}

Test(dev_guests, pit_rtc)
{
    static const struct dev_case c = {"dev_pit_rtc.elf", {NULL}, 75, false};
    expect_all_pass(&c);
}

Test(dev_guests, hpet)
{
    static const struct dev_case c = {"dev_hpet.elf", {NULL}, 49, false};
    expect_all_pass(&c);
}
