/* Hyper-V conformance, guest crash reporting (REFERENCE.md 11, TLFS v6.0b crash MSRs): CRASH_P0-P4
 * and CRASH_CTL. Without a command line it only checks the MSRs and passes, so that a plain run
 * of every test kernel stays clean. "--append crash" writes CTL = CrashNotify with Linux's
 * hyperv_report_panic values; "--append crash=msg" adds CrashMessage with a text at P3/P4. Either
 * must end the run with hvemu status 6 and the report on stderr; returning is a failure. */
#include "guest.h"

#define MSR_GUEST_OS_ID 0x40000000
#define MSR_CRASH_P0    0x40000100
#define MSR_CRASH_CTL   0x40000105
#define CRASH_NOTIFY    (1ull << 63)
#define CRASH_MESSAGE   (1ull << 62)

/* Values the integration test looks for in the report. */
#define P0_ERROR  0x00000000DEAD0001ull
#define P1_OSID   0x8100000006010000ull
#define P2_RIP    0xFFFFFFFF81234567ull
#define P3_RAX    0x0000000012345678ull
#define P4_RSP    0xFFFFC90000ABCDEFull
#define CRASH_TEXT "hv_crash: Kernel panic - not syncing: conformance test"

static char crash_msg[4096] __attribute__((aligned(4096))) = CRASH_TEXT;

int main(uint32_t mb_info)
{
    printf("hv_crash\n");
    const char *cl = guest_cmdline(mb_info);
    printf("command line '%s'\n", cl);
    struct cpuid_regs f = cpuid(0x40000003, 0);
    if (!((f.edx >> 10) & 1)) {
        uint64_t v;
        CHECK("crash.unadvertised_ctl_gp", !rdmsr_safe(MSR_CRASH_CTL, &v));
        test_finish();
    }
    uint64_t caps = rdmsr(MSR_CRASH_CTL);
    CHECK("crash.ctl_offers_notify", caps & CRASH_NOTIFY);
    bool with_msg = cmdline_has_word(cl, "crash=msg");
    if (with_msg)
        CHECK("crash.ctl_offers_message", caps & CRASH_MESSAGE);
    if (!cmdline_has_word(cl, "crash") && !with_msg) {
        printf("SKIP: crash.notify (run with --append crash or crash=msg)\n");
        test_finish();
    }

    wrmsr(MSR_GUEST_OS_ID, P1_OSID);
    if (with_msg) {
        /* Linux's hv_kmsg_dump: P0-P2 = 0, P3 = GPA of the text, P4 = its length. */
        wrmsr(MSR_CRASH_P0 + 0, 0);
        wrmsr(MSR_CRASH_P0 + 1, 0);
        wrmsr(MSR_CRASH_P0 + 2, 0);
        wrmsr(MSR_CRASH_P0 + 3, (uint64_t)(uintptr_t)crash_msg);
        wrmsr(MSR_CRASH_P0 + 4, strlen(crash_msg));
        printf("crashing with a message now\n");
        wrmsr(MSR_CRASH_CTL, CRASH_NOTIFY | CRASH_MESSAGE);
    } else {
        /* Linux's hyperv_report_panic: error code, guest OS id, RIP, RAX, RSP. */
        static const uint64_t p[5] = {P0_ERROR, P1_OSID, P2_RIP, P3_RAX, P4_RSP};
        for (unsigned i = 0; i < 5; i++)
            wrmsr(MSR_CRASH_P0 + i, p[i]);
        printf("crashing now\n");
        wrmsr(MSR_CRASH_CTL, CRASH_NOTIFY);
    }
    /* Still here: the hypervisor did not stop the partition. */
    check("crash.notify_stops_the_guest", false, "WRMSR CRASH_CTL returned to the guest");
    test_finish();
}
