/* Hyper-V conformance guests (roms/tests/hv_*.c) run whole through hvemu: each must finish with a
 * clean SUMMARY and no FAIL line, having run at least its expected number of checks (so a guest
 * that silently SKIPs under the default configuration is caught); hv_crash must stop the run
 * with status 6 and the crash report the TLFS crash MSRs describe. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define TIMEOUT 120
#define MAX_ARGS HV_GUEST_MAX_ARGS

struct guest_case {
    const char *rom;
    const char *args[MAX_ARGS]; /* before --kernel; NULL-terminated */
    unsigned min_passed;
};

/* Runs one guest and checks the summary; returns the run for more checks (caller frees). */
static void run_guest(const struct guest_case *c, struct run *r)
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
    hv_run(r, TIMEOUT, argv);
}

/* The shared "guest passes whole" check of the harness (FATAL and SKIP lines included). */
static void expect_clean_summary(const struct guest_case *c)
{
    hv_expect_guest_passes(c->rom, c->args, c->min_passed, HV_SKIP_ANY, TIMEOUT);
}

Test(hv_guests, discovery)
{
    static const struct guest_case c = {"hv_discovery.elf", {NULL}, 80};
    expect_clean_summary(&c);
}

/* With enlightenments switched off, the MSRs behind them must #GP: the same guest checks the
 * other half of "exactly the advertised MSRs exist". */
Test(hv_guests, discovery_with_reduced_features)
{
    static const struct guest_case c = {
        "hv_discovery.elf",
        {"--hv", "no-crash,no-idle,no-frequencies,no-runtime,no-reset,no-synic,no-stimer,no-vapic,+tsc-invariant",
         NULL},
        100};
    expect_clean_summary(&c);
}

Test(hv_guests, hypercall)
{
    static const struct guest_case c = {"hv_hypercall.elf", {NULL}, 75};
    expect_clean_summary(&c);
}

Test(hv_guests, time)
{
    static const struct guest_case c = {"hv_time.elf", {NULL}, 28};
    expect_clean_summary(&c);
}

Test(hv_guests, synic)
{
    static const struct guest_case c = {"hv_synic.elf", {NULL}, 110};
    expect_clean_summary(&c);
}

Test(hv_guests, msrs)
{
    static const struct guest_case c = {"hv_msrs.elf", {NULL}, 88};
    expect_clean_summary(&c);
}

Test(hv_guests, smp_two_vps)
{
    static const struct guest_case c = {"hv_smp.elf", {"--smp", "2", "--append", "vps=2", NULL}, 44};
    expect_clean_summary(&c);
}

Test(hv_guests, smp_one_vp_skips_cleanly)
{
    static const struct guest_case c = {"hv_smp.elf", {NULL}, 1};
    expect_clean_summary(&c);
}

Test(hv_guests, crash_without_request_passes)
{
    static const struct guest_case c = {"hv_crash.elf", {NULL}, 1};
    expect_clean_summary(&c);
}

/* CRASH_CTL with CrashNotify: hvemu stops with status 6 and prints P0-P4 (and, with
 * CrashMessage, the text at GPA P3 of length P4); the guest never gets control back. */
static void expect_crash(const char *append, const char *const want_err[], unsigned n_want)
{
    struct guest_case c = {"hv_crash.elf", {"--append", append, NULL}, 0};
    struct run r;
    run_guest(&c, &r);
    bool lines = true;
    for (unsigned i = 0; i < n_want; i++)
        if (!hv_has_line(r.err, want_err[i])) {
            lines = false;
            cr_expect(false, "--append %s: stderr lacks '%s'", append, want_err[i]);
        }
    bool ok = !r.timed_out && r.status == ST_CRASH && lines && hv_count_prefix(r.out, "FAIL: ") == 0 &&
              !hv_has_line_prefix(r.out, "SUMMARY: ");
    if (!ok)
        hv_run_dump(&r, append);
    cr_expect(ok, "--append %s: status %d (want %d), FAIL lines %u, summary %s", append, r.status,
              ST_CRASH, hv_count_prefix(r.out, "FAIL: "),
              hv_has_line_prefix(r.out, "SUMMARY: ") ? "printed (the guest got control back)" : "absent");
    hv_run_free(&r);
}

Test(hv_guests, crash_notify_stops_with_status_6)
{
    static const char *const want[] = {
        "hvemu: guest crash report: P0 0xdead0001 P1 0x8100000006010000 P2 0xffffffff81234567 "
        "P3 0x12345678 P4 0xffffc90000abcdef",
    };
    expect_crash("crash", want, 1);
}

Test(hv_guests, crash_message_is_reported)
{
    static const char *const want[] = {
        "hvemu: guest crash message: hv_crash: Kernel panic - not syncing: conformance test",
    };
    expect_crash("crash=msg", want, 1);
}
