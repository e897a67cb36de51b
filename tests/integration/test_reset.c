/* Firmware at the reset vector (--bios): the reset_test image (roms/firmware/reset_test.S) runs
 * whole and passes every check, and bad firmware files are refused with status 2 and one line. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define TIMEOUT 60
/* The checks reset_test makes today: fewer PASS lines means some were silently skipped. */
#define RESET_MIN_PASSED 49

Test(reset_firmware, all_checks_pass)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), "reset_test.bin");
    const char *argv[] = {"--bios", rom, NULL};
    struct run r;
    hv_run(&r, TIMEOUT, argv);
    unsigned passed = 0, failed = 0;
    bool have = hv_summary(r.out, &passed, &failed);
    unsigned pass_lines = hv_count_prefix(r.out, "PASS: "), fail_lines = hv_count_prefix(r.out, "FAIL: ");
    bool ok = !r.timed_out && r.status == ST_TESTS_PASSED && have && failed == 0 && fail_lines == 0 &&
              passed == pass_lines && passed >= RESET_MIN_PASSED;
    if (!ok)
        hv_run_dump(&r, "reset_test.bin");
    cr_expect(ok,
              "reset_test: status %d%s, summary %s (%u passed, %u failed), %u PASS lines, %u FAIL lines; "
              "want status %d and at least %u passed",
              r.status, r.timed_out ? " (timed out)" : "", have ? "present" : "missing", passed, failed,
              pass_lines, fail_lines, ST_TESTS_PASSED, RESET_MIN_PASSED);
    hv_run_free(&r);
}

/* The first check names the reset state: a run that never reached the reset vector (or ran a
 * kernel instead) would not print it first. */
Test(reset_firmware, starts_at_reset_vector)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), "reset_test.bin");
    const char *argv[] = {"--bios", rom, NULL};
    struct run r;
    hv_run(&r, TIMEOUT, argv);
    cr_expect(!strncmp(r.out, "PASS: reset_eax_zero\n", 21), "first line: %.40s", r.out);
    hv_run_free(&r);
}

struct bad_bios {
    const char *name;
    size_t size;      /* bytes of the file; 0 with missing = no file */
    bool missing;
    const char *want; /* in the error line */
};

static const struct bad_bios bad[] = {
    {"empty", 0, false, "is 0 bytes"},
    {"not_64k_multiple", 65536 + 512, false, "multiple of 64 KiB"},
    {"odd_size", 1000, false, "multiple of 64 KiB"},
    {"over_16m", (16u << 20) + 65536, false, "at most 16 MiB"},
    {"missing", 0, true, "cannot open"},
};

Test(reset_firmware, bad_files_exit_2)
{
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        const struct bad_bios *c = &bad[k];
        char *data = calloc(1, c->size + 1);
        cr_assert_not_null(data);
        char *path = hv_temp_file(data, c->size);
        free(data);
        if (c->missing)
            unlink(path);
        const char *argv[] = {"--bios", path, NULL};
        struct run r;
        hv_run(&r, TIMEOUT, argv);
        bool ok = r.status == ST_USAGE && hv_count_lines(r.err) == 1 && strstr(r.err, c->want) &&
                  r.out_len == 0;
        if (!ok)
            hv_run_dump(&r, c->name);
        cr_expect(ok, "%s: status %d, stderr '%s', want status 2 and one line with '%s'", c->name,
                  r.status, r.err, c->want);
        hv_run_free(&r);
        unlink(path);
        free(path);
    }
}

Test(reset_firmware, bios_with_kernel_is_refused)
{
    char rom[1024], kernel[1024];
    hv_rom_path(rom, sizeof(rom), "reset_test.bin");
    hv_rom_path(kernel, sizeof(kernel), "default.elf");
    const char *argv[] = {"--bios", rom, "--kernel", kernel, NULL};
    struct run r;
    hv_run(&r, TIMEOUT, argv);
    cr_expect_eq(r.status, ST_USAGE, "status %d", r.status);
    cr_expect(strstr(r.err, "--bios") != NULL, "stderr: %s", r.err);
    hv_run_free(&r);
}
