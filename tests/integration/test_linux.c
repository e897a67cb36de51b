/* Boots the host's Debian kernel (/boot/vmlinuz-*) with the busybox initramfs that
 * scripts/mkinitramfs.sh builds, checks that /init ran its workload and powered off, and that
 * with the hypervisor on Linux uses every enlightenment (and really makes the hypercalls).
 * Slow (about half a minute per boot): runs only with HVEMU_TEST_LINUX=1 in the environment. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define BOOT_TIMEOUT 900

/* /init runs the words after "--" with sh -c. Kernel parameters the kernel does not know would
 * reach init as leading words: "true;" ends any such command before the real one. */
#define CLOCKSOURCE "/sys/devices/system/clocksource/clocksource0/current_clocksource"
#define CLOCKEVENT "/sys/devices/system/clockevents/clockevent0/current_device"
#define SHOW_CLOCKS "echo CS=$(cat " CLOCKSOURCE "); echo CE=$(cat " CLOCKEVENT "); "
#define SHOW_UPTIME "echo UP=$(cat /proc/uptime); sleep 1; echo UP=$(cat /proc/uptime); "

static void find_kernel(char *out, size_t n)
{
    out[0] = '\0';
    DIR *d = opendir("/boot");
    for (struct dirent *de; d && (de = readdir(d));)
        if (!strncmp(de->d_name, "vmlinuz-", 8))
            snprintf(out, n, "/boot/%s", de->d_name);
    if (d)
        closedir(d);
}

/* Runs a shell command that writes `path` through a temporary name, so tests running in
 * parallel never see a half-written file. */
static bool build_file(const char *path, const char *fmt_cmd)
{
    if (!access(path, R_OK))
        return true;
    char tmp[1100], cmd[4096];
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    snprintf(cmd, sizeof(cmd), fmt_cmd, tmp);
    bool ok = system(cmd) == 0 && rename(tmp, path) == 0;
    if (!ok) {
        fprintf(stderr, "test_linux: failed: %s\n", cmd);
        unlink(tmp);
    }
    return ok;
}

/* The busybox initramfs. */
static void base_initrd(char *out, size_t n)
{
    snprintf(out, n, "%s/test-initramfs.cpio.gz", HVEMU_BUILD_DIR);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s/scripts/mkinitramfs.sh '%%s' 2>/dev/null", HVEMU_SOURCE_DIR);
    cr_assert(build_file(out, cmd), "scripts/mkinitramfs.sh failed");
}

/* The busybox initramfs plus /bin/hvemu-threads (tests/integration/linux/threads.c, static):
 * Linux unpacks concatenated cpio archives in order. */
static void threads_initrd(char *out, size_t n)
{
    char base[1024], cmd[4096];
    base_initrd(base, sizeof(base));
    snprintf(out, n, "%s/test-initramfs-threads.cpio.gz", HVEMU_BUILD_DIR);
    snprintf(cmd, sizeof(cmd),
             "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; mkdir -p \"$d/bin\"; "
             "cc -O2 -static -pthread -o \"$d/bin/hvemu-threads\" '%s/tests/integration/linux/threads.c'; "
             "(cd \"$d\" && echo bin/hvemu-threads | cpio -o -H newc --quiet -R 0:0 | gzip -9) > \"$d/x.gz\"; "
             "cat '%s' \"$d/x.gz\" > '%%s'",
             HVEMU_SOURCE_DIR, base);
    cr_assert(build_file(out, cmd), "cannot build the threaded helper (needs cc with a static libc)");
}

static struct run boot(const char *smp, const char *hv, const char *trace, const char *initrd,
                       const char *cmd)
{
    char kernel[512], append[2048];
    find_kernel(kernel, sizeof(kernel));
    if (!kernel[0])
        cr_skip_test("no /boot/vmlinuz-* (apt-get install linux-image-amd64)");
    snprintf(append, sizeof(append), "console=ttyS0 -- true; %s", cmd);
    const char *args[20] = {"--mem", "512M", "--smp", smp, "--hv", hv, "--kernel", kernel,
                            "--initrd", initrd, "--append", append};
    if (trace) {
        args[12] = "--trace";
        args[13] = trace;
    }
    struct run r;
    hv_run(&r, BOOT_TIMEOUT, args);
    bool ok = r.status == ST_POWEROFF && hv_has_line(r.out, "HVEMU-INIT: start") &&
              hv_has_line(r.out, "HVEMU-INIT: done status=0");
    if (!ok)
        hv_run_dump(&r, append);
    cr_assert(ok, "--smp %s --hv %s: status %d, /init did not finish", smp, hv, r.status);
    return r;
}

/* cr_expect that also records the failure in the test's local `bad`, to dump the run once. */
#define EXPECT(cond, ...)                \
    do {                                 \
        bool c_ = (cond);                \
        bad |= !c_;                      \
        cr_expect(c_, __VA_ARGS__);      \
    } while (0)

static void skip_unless_enabled(void)
{
    if (!getenv("HVEMU_TEST_LINUX"))
        cr_skip_test("set HVEMU_TEST_LINUX=1 to boot the host's Debian kernel (slow)");
}

/* A kernel log message (after its timestamp) appears somewhere in the console output. */
static bool expect_log(const struct run *r, const char *msg)
{
    bool ok = strstr(r->out, msg) != NULL;
    cr_expect(ok, "kernel log lacks \"%s\"", msg);
    return !ok;
}

/* "UP=<seconds> <idle>" twice, a `sleep 1` apart: the uptime (the TSC-page clocksource) must
 * advance by 1.0 +- 0.1 s of guest time. */
static bool expect_uptime_step(const struct run *r)
{
    double up[2];
    unsigned n = 0;
    for (const char *s = r->out; n < 2 && (s = strstr(s, "\nUP=")); s++)
        if (sscanf(s + 4, "%lf", &up[n]) == 1)
            n++;
    cr_expect_eq(n, 2, "two /proc/uptime readings expected");
    bool ok = n == 2 && up[1] - up[0] >= 0.9 && up[1] - up[0] <= 1.1;
    cr_expect(ok, "uptime advanced %.2f s over sleep 1", n == 2 ? up[1] - up[0] : 0.0);
    return !ok;
}

/* Lines of the hv trace for hypercall `name` (exactly: "...Space" does not match "...SpaceEx"). */
static void count_calls(const char *err, const char *name, unsigned *ok, unsigned *failed)
{
    char key[96];
    snprintf(key, sizeof(key), " hypercall %s (", name);
    for (const char *s = err; (s = strstr(s, key)); s++) {
        const char *eol = strchr(s, '\n');
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        const char *st = strstr(s, "-> HV_STATUS_SUCCESS ");
        if (st && st < s + len)
            (*ok)++;
        else
            (*failed)++;
    }
}

static unsigned count_substr(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *s = text; (s = strstr(s, needle)); s += strlen(needle))
        n++;
    return n;
}

Test(linux, hv_on_one_vp_uses_enlightenments)
{
    skip_unless_enabled();
    bool bad = false;
    char initrd[1024];
    base_initrd(initrd, sizeof(initrd));
    struct run r = boot("1", "on", "hv,int", initrd, SHOW_CLOCKS SHOW_UPTIME "echo ok");
    bad |= expect_log(&r, "Hypervisor detected: Microsoft Hyper-V");
    bad |= expect_log(&r, "Hyper-V: Using enlightened APIC");
    bad |= expect_log(&r, "Hyper-V: Using hypercall for remote TLB flush");
    bad |= expect_log(&r, "clocksource: Switched to clocksource hyperv_clocksource_tsc_page");
    EXPECT(hv_has_line(r.out, "CS=hyperv_clocksource_tsc_page"), "no line %s", "CS=hyperv_clocksource_tsc_page");
    EXPECT(hv_has_line(r.out, "CE=Hyper-V clockevent"), "no line %s", "CE=Hyper-V clockevent");
    EXPECT(hv_has_line(r.out, "ok"), "no line %s", "ok");
    bad |= expect_uptime_step(&r);
    /* The hypercall page: the guest enabled it (bit 0 of the value written). */
    const char *hc = strstr(r.err, "wrmsr HV_X64_MSR_HYPERCALL (0x40000001) <- ");
    unsigned long long v = 0;
    EXPECT(hc && sscanf(hc + strlen("wrmsr HV_X64_MSR_HYPERCALL (0x40000001) <- "), "%llx", &v) == 1 &&
                  (v & 1), "the guest never enabled the hypercall page");
    /* EOI assist: offers were made and consumed, i.e. fewer EOI MSR writes than offers. */
    unsigned offered = count_substr(r.err, "(EOI assist offered)");
    unsigned eois = count_substr(r.err, "wrmsr HV_X64_MSR_EOI ");
    EXPECT(offered > 10, "EOI assist offered %u times", offered);
    EXPECT(eois < offered / 2, "%u EOI MSR writes for %u EOI-assist offers", eois, offered);
    if (bad)
        hv_run_dump(&r, "--smp 1 --hv on");
    hv_run_free(&r);
}

Test(linux, hv_on_two_vps_makes_flush_and_ipi_hypercalls)
{
    skip_unless_enabled();
    bool bad = false;
    char initrd[1024];
    threads_initrd(initrd, sizeof(initrd));
    struct run r = boot("2", "on", "hv", initrd,
                        SHOW_CLOCKS "grep -c processor /proc/cpuinfo; hvemu-threads");
    bad |= expect_log(&r, "Hypervisor detected: Microsoft Hyper-V");
    bad |= expect_log(&r, "smp: Brought up 1 node, 2 CPUs");
    bad |= expect_log(&r, "Hyper-V: Using enlightened APIC");
    bad |= expect_log(&r, "Hyper-V: Using hypercall for remote TLB flush");
    bad |= expect_log(&r, "Hyper-V: Using IPI hypercalls");
    EXPECT(hv_has_line(r.out, "CS=hyperv_clocksource_tsc_page"), "no line %s", "CS=hyperv_clocksource_tsc_page");
    EXPECT(hv_has_line(r.out, "CE=Hyper-V clockevent"), "no line %s", "CE=Hyper-V clockevent");
    EXPECT(hv_has_line(r.out, "2"), "no line %s", "2");
    EXPECT(hv_has_line(r.out, "threads-done"), "no line %s", "threads-done");
    static const char *const flush[] = {"HvFlushVirtualAddressSpace", "HvFlushVirtualAddressList",
                                        "HvFlushVirtualAddressSpaceEx", "HvFlushVirtualAddressListEx"};
    static const char *const ipi[] = {"HvCallSendSyntheticClusterIpi", "HvCallSendSyntheticClusterIpiEx"};
    unsigned flush_ok = 0, ipi_ok = 0, failed = 0;
    for (size_t i = 0; i < sizeof(flush) / sizeof(flush[0]); i++)
        count_calls(r.err, flush[i], &flush_ok, &failed);
    for (size_t i = 0; i < sizeof(ipi) / sizeof(ipi[0]); i++)
        count_calls(r.err, ipi[i], &ipi_ok, &failed);
    EXPECT(flush_ok > 0, "no successful flush hypercall in the hv trace");
    EXPECT(ipi_ok > 0, "no successful IPI hypercall in the hv trace");
    EXPECT(failed == 0, "%u flush/IPI hypercalls did not succeed", failed);
    if (bad)
        hv_run_dump(&r, "--smp 2 --hv on");
    hv_run_free(&r);
}

Test(linux, hv_off_uses_no_enlightenment)
{
    skip_unless_enabled();
    bool bad = false;
    char initrd[1024];
    base_initrd(initrd, sizeof(initrd));
    struct run r = boot("1", "off", NULL, initrd, SHOW_CLOCKS "echo hello-from-init");
    bad |= expect_log(&r, "Linux version");
    EXPECT(strstr(r.out, "Hypervisor detected") == NULL, "a hypervisor was detected with --hv off");
    EXPECT(hv_has_line(r.out, "CS=tsc") || hv_has_line(r.out, "CS=hpet"),
              "clocksource is neither tsc nor hpet");
    EXPECT(hv_has_line(r.out, "hello-from-init"), "no line %s", "hello-from-init");
    if (bad)
        hv_run_dump(&r, "--smp 1 --hv off");
    hv_run_free(&r);
}
