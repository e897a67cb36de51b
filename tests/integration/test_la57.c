/* The 5-level paging guest (roms/tests/mmu_la57.c) run whole through hvemu: it must finish with
 * status 1, a SUMMARY with no failures, no FAIL or FATAL line, and at least the checks it runs
 * today (so checks silently skipped are caught). */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>

#include "harness.h"

#define TIMEOUT 120
#define LA57_MIN_PASSED 36

Test(la57_guest, all_checks_pass)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), "mmu_la57.elf");
    const char *argv[] = {"--kernel", rom, NULL};
    struct run r;
    hv_run(&r, TIMEOUT, argv);
    unsigned passed = 0, failed = 0;
    bool have = hv_summary(r.out, &passed, &failed);
    unsigned pass_lines = hv_count_prefix(r.out, "PASS: "), fail_lines = hv_count_prefix(r.out, "FAIL: ");
    bool fatal = hv_has_line_prefix(r.out, "FATAL: ");
    bool ok = !r.timed_out && r.status == ST_TESTS_PASSED && have && failed == 0 && fail_lines == 0 &&
              !fatal && passed == pass_lines && passed >= LA57_MIN_PASSED;
    if (!ok)
        hv_run_dump(&r, "mmu_la57.elf");
    cr_expect(ok,
              "mmu_la57: status %d%s, summary %s (%u passed, %u failed), %u PASS lines, %u FAIL lines%s, "
              "want status %d and at least %u passed",
              r.status, r.timed_out ? " (timed out)" : "", have ? "present" : "missing", passed, failed,
              pass_lines, fail_lines, fatal ? ", FATAL" : "", ST_TESTS_PASSED, LA57_MIN_PASSED);
    hv_run_free(&r);
}
