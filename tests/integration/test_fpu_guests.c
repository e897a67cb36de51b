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
    hv_expect_guest_passes(c->rom, NULL, c->min_passed, HV_SKIP_ANY, TIMEOUT);
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
