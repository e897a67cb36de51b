/* The default guest's Hyper-V tour (roms/guests/default.c), run as `hvemu` with no image: with
 * 1 VP, 2 VPs, --hv off and reduced enlightenments it must power off (status 0) and print the
 * key observation of every step, skip the steps the configuration rules out, and be repeatable. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define TIMEOUT 60
#define MAX_ARGS 6
#define MAX_LINES 32

/* Patterns are whole lines; '*' stands for any run of characters ("a*" is a prefix). */
struct tour_case {
    const char *what;
    const char *args[MAX_ARGS];      /* NULL-terminated */
    const char *want[MAX_LINES];     /* each must match some line */
    const char *absent[MAX_LINES];   /* none may match any line */
};

/* Lines every run with the hypervisor on prints, whatever the VP count. */
#define TOUR_COMMON                                                                          \
    "hvemu default guest", "hypervisor present: yes", "hypervisor vendor: Microsoft Hv (*",  \
        "hypervisor interface: Hv#1, privileges *",                                          \
        "hypercall: guest OS ID 0x8100000006010000 (open source, Linux 6.1.0)",              \
        "hypercall: hypervisor version (leaf 0x40000002) appeared: build *",                 \
        "hypercall: page at 0x* enabled, it begins *", "self-checks: ok",                    \
        "tour: every step as expected", "powering off"

#define TOUR_SYNIC_AND_TIME                                                                  \
    "time: reference counter *, 50 us later * ticks of 100 ns)",                             \
        "time: TSC page at 0x*: sequence *, scale 0x028f5c28f5c28f5d, offset 0",             \
        "synic: HvPostMessage to connection 1, type 0x2a, 20 bytes: HV_STATUS_SUCCESS",      \
        "synic: message received on SINT 2 (interrupt): type 0x2a, 20 bytes, \"hello from the tour\"", \
        "synic: HvSignalEvent to connection 2, flag 3: HV_STATUS_SUCCESS",                   \
        "synic: event flag 3 set in SINT 2's event flags (interrupt)",                       \
        "stimer: message on SINT 5: type 0x80000010 (HVMSG_TIMER_EXPIRED), timer 0, *",      \
        "stimer: woke from HLT at reference time *, not early"

static const struct tour_case cases[] = {
    {"one VP (defaults)",
     {NULL},
     {TOUR_COMMON, TOUR_SYNIC_AND_TIME, "smp: 1 VP (fw_cfg NB_CPUS)",
      "smp: TLB-flush and IPI hypercalls skipped with 1 VP (try --smp 2)"},
     {"smp: VP 1 *", "smp: Hv*"}},
    {"two VPs",
     {"--smp", "2", NULL},
     {TOUR_COMMON, TOUR_SYNIC_AND_TIME, "smp: 2 VPs (fw_cfg NB_CPUS)",
      "smp: VP 1 started by INIT-SIPI-SIPI, its VP_INDEX reads 1",
      "smp: VP 1 reads 0x0dd0dd0dd0dd0dd0 at 0x40000000 (old page, now cached in its TLB)",
      "smp: HvFlushVirtualAddressSpace, CR3 0x*, VPs 0-1: HV_STATUS_SUCCESS",
      "smp: VP 1 now reads 0x0ee0ee0ee0ee0ee0 (new page)",
      "smp: HvCallSendSyntheticClusterIpi, vector 0x58 to VP 1: HV_STATUS_SUCCESS",
      "smp: VP 1 took vector 0x58 1 time(s), VP 0 0 time(s)"},
     {"smp: * skipped*"}},
    {"no hypervisor",
     {"--hv", "off", NULL},
     {"hvemu default guest", "hypervisor present: no",
      "no hypervisor present (CPUID.1:ECX[31] clear): nothing to tour", "self-checks: ok",
      "powering off"},
     {"hypervisor vendor: *", "discovery: *", "hypercall: *", "time: *", "synic: *", "stimer: *",
      "smp: *", "tour: *"}},
    {"no SynIC",
     {"--hv", "no-synic", NULL},
     {TOUR_COMMON, "synic: SynIC, PostMessages or SignalEvents not offered: skipped",
      "stimer: synthetic timers (with SynIC and the reference counter) not offered: skipped"},
     {"synic: Hv*", "stimer: message *"}},
    {"two VPs without the flush and IPI recommendations",
     {"--smp", "2", "--hv", "no-tlbflush,no-ipi", NULL},
     {TOUR_COMMON, "smp: VP 1 started by INIT-SIPI-SIPI, its VP_INDEX reads 1",
      "smp: remote TLB flush not recommended (0x40000004.EAX[2]): skipped",
      "smp: synthetic cluster IPI not recommended (0x40000004.EAX[10]): skipped"},
     {"smp: Hv*"}},
};

static bool match(const char *line, size_t len, const char *pat)
{
    for (; *pat && *pat != '*'; pat++, line++, len--)
        if (len == 0 || *line != *pat)
            return false;
    if (*pat == '\0')
        return len == 0;
    for (size_t skip = 0; skip <= len; skip++)
        if (match(line + skip, len - skip, pat + 1))
            return true;
    return false;
}

static bool any_line(const char *text, const char *pat)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (match(p, len, pat))
            return true;
        if (!nl)
            break;
        p = nl + 1;
    }
    return false;
}

static void run_case(const struct tour_case *c, struct run *r)
{
    const char *argv[MAX_ARGS + 1];
    unsigned n = 0;
    for (; n < MAX_ARGS && c->args[n]; n++)
        argv[n] = c->args[n];
    argv[n] = NULL;
    hv_run(r, TIMEOUT, argv);
}

Test(default_guest, tour_prints_every_step)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tour_case *c = &cases[i];
        struct run r;
        run_case(c, &r);
        bool ok = !r.timed_out && r.status == ST_POWEROFF;
        cr_expect(ok, "%s: status %d%s, want 0 (powered off)", c->what, r.status,
                  r.timed_out ? " (timed out)" : "");
        for (unsigned k = 0; k < MAX_LINES && c->want[k]; k++) {
            bool has = any_line(r.out, c->want[k]);
            cr_expect(has, "%s: no line matching '%s'", c->what, c->want[k]);
            ok &= has;
        }
        for (unsigned k = 0; k < MAX_LINES && c->absent[k]; k++) {
            bool has = any_line(r.out, c->absent[k]);
            cr_expect(!has, "%s: unexpected line matching '%s'", c->what, c->absent[k]);
            ok &= !has;
        }
        unsigned surprises = hv_count_prefix(r.out, "  unexpected: ");
        cr_expect_eq(surprises, 0, "%s: %u step(s) reported unexpected results", c->what, surprises);
        if (!ok || surprises)
            hv_run_dump(&r, c->what);
        hv_run_free(&r);
    }
}

/* Guest time comes from the virtual clock only: the same run prints the same bytes. */
Test(default_guest, output_is_deterministic)
{
    for (size_t i = 0; i < 2; i++) {
        struct run a, b;
        run_case(&cases[i], &a);
        run_case(&cases[i], &b);
        cr_expect(a.status == ST_POWEROFF && b.status == ST_POWEROFF, "%s: status %d, %d",
                  cases[i].what, a.status, b.status);
        cr_expect(a.out_len == b.out_len && memcmp(a.out, b.out, a.out_len) == 0,
                  "%s: two runs printed different output", cases[i].what);
        hv_run_free(&a);
        hv_run_free(&b);
    }
}

/* The steps come in the tour's order: discovery, identity and hypercall page, time, SynIC,
 * timer, the two-VP calls, then power-off. */
Test(default_guest, steps_in_order)
{
    struct run r;
    run_case(&cases[1], &r);
    static const char *const order[] = {"\nhypervisor vendor:", "\ndiscovery:", "\nhypercall:",
                                        "\ntime:", "\nsynic:", "\nstimer:", "\nsmp:",
                                        "\nself-checks:", "\npowering off"};
    const char *at = r.out;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *p = strstr(at, order[i]);
        cr_expect(p != NULL, "'%s' missing or out of order", order[i]);
        if (p)
            at = p;
    }
    hv_run_free(&r);
}
