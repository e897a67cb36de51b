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
    const char *append;
    const char *lines[3];
} boots[] = {
    {"console=ttyS0 quiet", {"HVEMU-INIT: start", "ok", "HVEMU-INIT: done status=0"}},
    {"console=ttyS0 quiet -- echo hello-from-init", {"HVEMU-INIT: start", "hello-from-init", "HVEMU-INIT: done status=0"}},
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
               (const char *const[]){"--mem", "512M", "--kernel", kernel, "--initrd", initrd, "--append",
                                     boots[i].append, NULL});
        bool ok = r.status == ST_POWEROFF;
        for (unsigned j = 0; j < 3; j++)
            ok &= hv_has_line(r.out, boots[i].lines[j]);
        if (!ok)
            hv_run_dump(&r, boots[i].append);
        cr_expect(ok, "--append '%s': status %d", boots[i].append, r.status);
        hv_run_free(&r);
    }
}
