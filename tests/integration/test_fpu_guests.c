/* FPU/SIMD guests (roms/tests/fpu_*.c) run whole through hvemu: each must finish with status 1,
 * a SUMMARY with no failures, no FAIL or FATAL line, and at least the number of checks it runs
 * today (so checks silently skipped are caught). */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define TIMEOUT 120

struct fpu_case {
    const char *rom;
    unsigned min_passed;
};

static void expect_all_pass(const struct fpu_case *c)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), c->rom);
    const char *argv[] = {"--kernel", rom, NULL};
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

/* #NM, #UD, #MF, #XM delivery; masked defaults; DAZ/FTZ. */
Test(fpu_guests, exceptions)
{
    static const struct fpu_case c = {"fpu_exceptions.elf", 74};
    expect_all_pass(&c);
}

/* FXSAVE, FSAVE/FNSTENV, XSAVE/XSAVEC/XRSTOR and (when advertised) XSAVES/XRSTORS layouts. */
Test(fpu_guests, state)
{
    static const struct fpu_case c = {"fpu_state.elf", 150};
    expect_all_pass(&c);
}
