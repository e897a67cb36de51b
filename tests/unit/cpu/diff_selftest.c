/* Harness self-test: hvemu is handed a different opcode than the host runs, and the harness
 * must report the difference in registers, flags and memory. Guards against a comparison
 * that silently accepts everything. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff_harness.h"

/* Each differs from what the host runs in nearly every case: ADD vs SUB (registers and
 * flags), CLC vs STC (CF only), MOV m8 vs MOV m (memory only), PXOR vs PADDB (XMM only). */
static const struct diff_form selftest_forms[] = {
    {.name = "selftest add->sub", .sizes = S32 | S64, .op = 0x01, .enc = E_RM_R, .mem = M_REG,
     .emu_xor = 0x01 ^ 0x29},
    {.name = "selftest clc->stc", .sizes = S32, .op = 0xF8, .enc = E_NONE, .emu_xor = 0x01},
    {.name = "selftest mov8->mov", .sizes = S8, .op8 = 0x88, .enc = E_RM_R, .mem = M_MEM,
     .emu_xor = 0x01},
    {.name = "selftest pxor->paddb", .sizes = S32, .prefix = 0x66, .map = 1, .op = 0xEF,
     .enc = E_R_RM, .xmm = XR | XM, .lanes = L_INT, .emu_xor = 0xEF ^ 0xFC},
};
/* Minimum detected share, in percent: ADD and SUB agree when the source is 0; a byte store
 * agrees with a wider one when the extra bytes happen to match (edge values are often 0);
 * PXOR and PADDB agree when a source is 0. */
static const unsigned selftest_min_pct[ARRAY_SIZE(selftest_forms)] = {90, 100, 60, 75};

Test(cpu_diff, harness_selftest, .timeout = 120)
{
    if (!native_exec_supported()) {
        printf("[diff] harness_selftest skipped: the host is not x86-64 Linux\n");
        cr_skip_test("differential tests need an x86-64 Linux host");
    }
    /* Honour the rerun knobs: a single case, or forms filtered by name. */
    const char *one = getenv("HVEMU_DIFF_CASE"), *only = getenv("HVEMU_DIFF_FORM");
    unsigned cases = one && *one ? 1 : diff_cases();
    for (unsigned k = 0; k < ARRAY_SIZE(selftest_forms); k++) {
        const struct diff_form *f = &selftest_forms[k];
        if (only && *only && !strstr(f->name, only))
            continue;
        unsigned nsizes = (unsigned)__builtin_popcount(f->sizes);
        unsigned fails = diff_run_family("selftest", f, 1);
        cr_expect_geq(fails * 100, cases * nsizes * selftest_min_pct[k],
                      "%s: only %u of %u cases detected", f->name, fails, cases * nsizes);
    }
}
