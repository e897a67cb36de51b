/* Whole-guest runs of the bundled images: the default guest powers off with its banner, and every
 * guest-side test kernel (roms/tests) reports a clean SUMMARY through the debug-exit port. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define TIMEOUT 120

static void expect_default_guest(const struct run *r, const char *what)
{
    bool ok = r->status == ST_POWEROFF && hv_has_line(r->out, "hvemu default guest") &&
              hv_has_line(r->out, "self-checks: ok") && hv_has_line_prefix(r->out, "cpu vendor: ") &&
              hv_has_line(r->out, "powering off");
    if (!ok)
        hv_run_dump(r, what);
    cr_expect(ok, "%s: status %d", what, r->status);
}

Test(guests, default_elf_powers_off)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), "default.elf");
    struct run r;
    hv_run(&r, TIMEOUT, (const char *const[]){"--kernel", rom, NULL});
    expect_default_guest(&r, "--kernel default.elf");
    hv_run_free(&r);
}

Test(guests, no_arguments_runs_the_embedded_default_guest)
{
    struct run r;
    hv_run(&r, TIMEOUT, (const char *const[]){NULL});
    expect_default_guest(&r, "hvemu with no arguments");
    hv_run_free(&r);
}

Test(guests, default_guest_sees_the_hypervisor)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), "default.elf");
    static const struct { const char *hv, *line; } cases[] = {
        {"on", "hypervisor present: yes"}, {"off", "hypervisor present: no"}};
    for (unsigned i = 0; i < 2; i++) {
        struct run r;
        hv_run(&r, TIMEOUT, (const char *const[]){"--hv", cases[i].hv, "--kernel", rom, NULL});
        bool ok = r.status == ST_POWEROFF && hv_has_line(r.out, cases[i].line);
        if (!ok)
            hv_run_dump(&r, cases[i].hv);
        cr_expect(ok, "--hv %s: want '%s'", cases[i].hv, cases[i].line);
        if (i == 0)
            cr_expect(hv_has_line_prefix(r.out, "hypervisor vendor: Microsoft Hv"),
                      "--hv on: no Microsoft Hv vendor line (TLFS: CPUID 0x40000000)");
        hv_run_free(&r);
    }
}

Test(guests, instruction_limit_stops_with_status_5)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), "default.elf");
    struct run r;
    hv_run(&r, TIMEOUT, (const char *const[]){"--max-insns", "1000", "--kernel", rom, NULL});
    cr_expect_eq(r.status, ST_LIMIT, "status %d", r.status);
    cr_expect(!hv_has_line(r.out, "powering off"));
    hv_run_free(&r);
}

static void run_test_kernel(const char *name)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), name);
    struct run r;
    hv_run(&r, TIMEOUT, (const char *const[]){"--kernel", rom, NULL});
    unsigned passed = 0, failed = 0;
    bool have = hv_summary(r.out, &passed, &failed);
    unsigned pass_lines = hv_count_prefix(r.out, "PASS: "), fail_lines = hv_count_prefix(r.out, "FAIL: ");
    bool ok = r.status == ST_TESTS_PASSED && have && failed == 0 && fail_lines == 0 && passed > 0 &&
              passed == pass_lines;
    if (!ok)
        hv_run_dump(&r, name);
    cr_expect(ok, "%s: status %d, summary %s (%u passed, %u failed), %u PASS lines, %u FAIL lines", name,
              r.status, have ? "present" : "missing", passed, failed, pass_lines, fail_lines);
    hv_run_free(&r);
}

Test(guests, tests_cpu_basic_passes)
{
    run_test_kernel("tests_cpu_basic.elf");
}

Test(guests, every_test_kernel_passes)
{
    /* Every roms/tests/<name>.c becomes <name>.elf; all of them must report a clean summary. */
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/roms/tests", HVEMU_SOURCE_DIR);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s", dir);
    struct dirent *de;
    unsigned n = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 3 || strcmp(de->d_name + len - 2, ".c"))
            continue;
        char elf[300];
        snprintf(elf, sizeof(elf), "%.*s.elf", (int)(len - 2), de->d_name);
        run_test_kernel(elf);
        n++;
    }
    closedir(d);
    cr_expect_geq(n, 1);
}
