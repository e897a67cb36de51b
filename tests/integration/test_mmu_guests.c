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
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), c->rom);
    const char *argv[MAX_ARGS + 3];
    unsigned n = 0;
    for (; n < MAX_ARGS && c->args[n]; n++)
        argv[n] = c->args[n];
    argv[n++] = "--kernel";
    argv[n++] = rom;
    argv[n] = NULL;
    struct run r;
    hv_run(&r, TIMEOUT, argv);
    unsigned passed = 0, failed = 0;
    bool have = hv_summary(r.out, &passed, &failed);
    unsigned pass_lines = hv_count_prefix(r.out, "PASS: "), fail_lines = hv_count_prefix(r.out, "FAIL: ");
    bool fatal = hv_has_line_prefix(r.out, "FATAL: ");
    bool ok = !r.timed_out && r.status == ST_TESTS_PASSED && have && failed == 0 && fail_lines == 0 &&
              !fatal && passed == pass_lines && passed >= c->min_passed;
    if (!ok)
        hv_run_dump(&r, c->rom);
    cr_expect(ok,
              "%s: status %d%s, summary %s (%u passed, %u failed), %u PASS lines, %u FAIL lines%s, "
              "want status %d and at least %u passed",
              c->rom, r.status, r.timed_out ? " (timed out)" : "", have ? "present" : "missing", passed, failed,
              pass_lines, fail_lines, fatal ? ", FATAL" : "", ST_TESTS_PASSED, c->min_passed);
    hv_run_free(&r);
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
