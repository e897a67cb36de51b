/* Boots the host's Debian kernel (/boot/vmlinuz-*) with the busybox initramfs that
 * scripts/mkinitramfs.sh builds, and checks that /init ran its workload and powered off.
 * Slow (minutes in an interpreter): runs only with HVEMU_TEST_LINUX=1 in the environment. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define BOOT_TIMEOUT 900

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

static const struct {
    const char *smp;
    const char *hv;
    const char *append;
    const char *lines[4]; /* [0]: a kernel log message; [1..3]: whole lines from /init */
} boots[] = {
    {"1", "on", "console=ttyS0", {"Hypervisor detected: Microsoft Hyper-V", "HVEMU-INIT: start", "ok",
                                  "HVEMU-INIT: done status=0"}},
    {"2", "on", "console=ttyS0 -- grep -c processor /proc/cpuinfo",
     {"smp: Brought up 1 node, 2 CPUs", "HVEMU-INIT: start", "2", "HVEMU-INIT: done status=0"}},
    {"1", "off", "console=ttyS0 -- echo hello-from-init",
     {"Linux version", "HVEMU-INIT: start", "hello-from-init", "HVEMU-INIT: done status=0"}},
};

Test(linux, debian_kernel_runs_busybox_init)
{
    if (!getenv("HVEMU_TEST_LINUX"))
        cr_skip_test("set HVEMU_TEST_LINUX=1 to boot the host's Debian kernel (slow)");
    char kernel[512];
    find_kernel(kernel, sizeof(kernel));
    if (!kernel[0])
        cr_skip_test("no /boot/vmlinuz-* (apt-get install linux-image-amd64)");
    char initrd[1024], cmd[2048];
    snprintf(initrd, sizeof(initrd), "%s/test-initramfs.cpio.gz", HVEMU_BUILD_DIR);
    if (access(initrd, R_OK)) {
        snprintf(cmd, sizeof(cmd), "%s/scripts/mkinitramfs.sh '%s'", HVEMU_SOURCE_DIR, initrd);
        cr_assert_eq(system(cmd), 0, "%s failed", cmd);
    }
    for (unsigned i = 0; i < sizeof(boots) / sizeof(boots[0]); i++) {
        struct run r;
        hv_run(&r, BOOT_TIMEOUT,
               (const char *const[]){"--mem", "512M", "--smp", boots[i].smp, "--hv", boots[i].hv,
                                     "--kernel", kernel, "--initrd", initrd, "--append",
                                     boots[i].append, NULL});
        bool ok = r.status == ST_POWEROFF;
        /* lines[0] is a kernel log message (after its timestamp); the rest are whole lines. */
        ok &= r.out && strstr(r.out, boots[i].lines[0]) != NULL;
        for (unsigned j = 1; j < 4; j++)
            ok &= hv_has_line(r.out, boots[i].lines[j]);
        if (!ok)
            hv_run_dump(&r, boots[i].append);
        cr_expect(ok, "--smp %s --hv %s --append '%s': status %d", boots[i].smp, boots[i].hv,
                  boots[i].append, r.status);
        hv_run_free(&r);
    }
}
