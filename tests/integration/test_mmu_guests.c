/* Paging, TLB, self-modifying-code and MMIO guests (roms/tests/mmu_*.c) run whole through hvemu:
 * each must finish with status 1, a SUMMARY with no failures, no FAIL line, and at least the
 * number of checks it runs today (so checks silently skipped are caught). */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define TIMEOUT 120
#define MAX_ARGS 8

struct mmu_case {
    const char *rom;
    const char *args[MAX_ARGS]; /* before --kernel; NULL-terminated */
    unsigned min_passed;
};

static void expect_all_pass(const struct mmu_case *c)
{
    hv_expect_guest_passes(c->rom, c->args, c->min_passed, HV_SKIP_ANY, TIMEOUT);
}

Test(mmu_guests, paging64)
{
    static const struct mmu_case c = {"mmu_paging64.elf", {NULL}, 106};
    expect_all_pass(&c);
}

Test(mmu_guests, tlb)
{
    static const struct mmu_case c = {"mmu_tlb.elf", {NULL}, 53};
    expect_all_pass(&c);
}

Test(mmu_guests, paging32)
{
    static const struct mmu_case c = {"mmu_paging32.elf", {NULL}, 73};
    expect_all_pass(&c);
}

Test(mmu_guests, smc)
{
    static const struct mmu_case c = {"mmu_smc.elf", {NULL}, 64};
    expect_all_pass(&c);
}

/* Without the Hyper-V interface the hypercall-overlay checks are left out; the rest still run. */
Test(mmu_guests, smc_without_hv)
{
    static const struct mmu_case c = {"mmu_smc.elf", {"--hv", "off", NULL}, 59};
    expect_all_pass(&c);
}

Test(mmu_guests, mmio)
{
    static const struct mmu_case c = {"mmu_mmio.elf", {NULL}, 60};
    expect_all_pass(&c);
}

/* Cross-VP code patching and a TLB shootdown need the second VP; alone it passes its one check. */
Test(mmu_guests, smp_two_vps)
{
    static const struct mmu_case c = {"mmu_smp.elf", {"--smp", "2", "--append", "vps=2", NULL}, 19};
    expect_all_pass(&c);
}

Test(mmu_guests, smp_one_vp)
{
    static const struct mmu_case c = {"mmu_smp.elf", {NULL}, 1};
    expect_all_pass(&c);
}

/* The end of RAM moves with --mem: the straddle and hole checks follow the Multiboot map. */
Test(mmu_guests, mmio_small_ram)
{
    static const struct mmu_case c = {"mmu_mmio.elf", {"--mem", "64M", NULL}, 60};
    expect_all_pass(&c);
}

Test(mmu_guests, mmio_large_ram)
{
    static const struct mmu_case c = {"mmu_mmio.elf", {"--mem", "1G", NULL}, 60};
    expect_all_pass(&c);
}
