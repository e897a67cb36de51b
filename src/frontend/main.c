/* The hvemu command: parse options, load the image, run the machine, report why it stopped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/cli.h"
#include "frontend/console.h"
#include "frontend/display.h"
#include "frontend/firmware.h"
#include "frontend/hostfile.h"
#include "frontend/loader.h"
#include "hv/machine.h"

extern const unsigned char hvemu_default_guest[];
extern const size_t hvemu_default_guest_len;

static int fail(int status, const char *msg)
{
    fprintf(stderr, "hvemu: %s\n", msg);
    return status;
}

static void print_stats(struct machine *m, double secs)
{
    struct cpu_stats total = {0};
    for (unsigned i = 0; i < m->nvcpus; i++) {
        struct cpu_stats s;
        cpu_get_stats(m->vcpu[i], &s);
        total.decode_hits += s.decode_hits;
        total.decode_misses += s.decode_misses;
        total.blocks_built += s.blocks_built;
        total.tlb_hits += s.tlb_hits;
        total.tlb_misses += s.tlb_misses;
        total.code_invalidations += s.code_invalidations;
    }
    double lookups = (double)(total.decode_hits + total.decode_misses);
    double tlb = (double)(total.tlb_hits + total.tlb_misses);
    fprintf(stderr,
            "hvemu: %llu instructions in %.3f s: %.1f MIPS; virtual time %.6f s; "
            "decode-cache hit rate %.4f%% (%llu blocks built, %llu invalidations); TLB hit rate %.4f%%\n",
            (unsigned long long)m->total_insns, secs, secs > 0 ? (double)m->total_insns / secs / 1e6 : 0.0,
            (double)vclock_now(&m->clock) * 1e-9,
            lookups > 0 ? 100.0 * (double)total.decode_hits / lookups : 0.0,
            (unsigned long long)total.blocks_built, (unsigned long long)total.code_invalidations,
            tlb > 0 ? 100.0 * (double)total.tlb_hits / tlb : 0.0);
}

/* Puts the guest in place: firmware at the reset vector (--bios), or a kernel image loaded
 * and VP 0 set to its entry state. Returns 0, or -1 after printing why. */
static int boot(struct machine *m, const struct cli *cli, const struct host_file *image,
                const struct host_file *initrd)
{
    char err[512];
    if (cli->bios) {
        /* VP 0 is at its power-on state already: the firmware runs from the reset vector. */
        if (firmware_map(&m->mem, image->data, image->len, err, sizeof(err)))
            return fail(-1, err);
        return 0;
    }
    struct load_opts lo = {
        .cmdline = cli->append ? cli->append : "",
        .initrd = initrd->data,
        .initrd_len = initrd->len,
        .ram_size = cli->mc.ram_size,
        .acpi_rsdp = machine_acpi_rsdp(m),
    };
    struct boot_entry entry;
    if (load_image(&m->mem, image->data, image->len, &lo, &entry, err, sizeof(err))) {
        char msg[700];
        snprintf(msg, sizeof(msg), "%s: %s", cli->kernel ? cli->kernel : "default guest", err);
        return fail(-1, msg);
    }
    boot_apply(m->vcpu[0], &entry);
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli;
    char err[512];
    if (cli_parse(&cli, argc, argv, err, sizeof(err)))
        return fail(HVEMU_EXIT_USAGE, err);
    if (cli.help) {
        cli_usage(stdout);
        return 0;
    }
    if (cli.version) {
        printf("hvemu %s\n", HVEMU_VERSION);
        return 0;
    }

    struct host_file image = {0}, initrd = {0};
    /* image is the firmware with --bios, else the kernel; either way ours to free. */
    bool own_image = cli.kernel || cli.bios;
    if (cli.bios) {
        if (firmware_read(cli.bios, &image, err, sizeof(err)))
            return fail(HVEMU_EXIT_USAGE, err);
    } else if (cli.kernel) {
        if (host_file_read(cli.kernel, cli.mc.ram_size, &image, err, sizeof(err)))
            return fail(HVEMU_EXIT_USAGE, err);
    } else {
        image.data = (uint8_t *)hvemu_default_guest;
        image.len = hvemu_default_guest_len;
    }
    if (cli.initrd && host_file_read(cli.initrd, cli.mc.ram_size, &initrd, err, sizeof(err))) {
        host_file_free(&image);
        return fail(HVEMU_EXIT_USAGE, err);
    }

    struct console con;
    if (console_open(&con, &cli.mc, err, sizeof(err))) {
        if (own_image)
            host_file_free(&image);
        host_file_free(&initrd);
        return fail(HVEMU_EXIT_USAGE, err);
    }
    struct display_link screen = {0};
    screen.d = display_open(cli.display, err, sizeof(err));
    if (!screen.d && cli.display != DISPLAY_NONE) {
        console_close(&con);
        if (own_image)
            host_file_free(&image);
        host_file_free(&initrd);
        return fail(HVEMU_EXIT_USAGE, err);
    }
    if (screen.d) {
        cli.mc.frame = display_frame;
        cli.mc.frame_opaque = &screen;
    }
    struct machine *m = calloc(1, sizeof(*m));
    if (!m) {
        display_close(screen.d);
        return fail(HVEMU_EXIT_HOST_ERROR, "out of memory");
    }
    int status;
    if (machine_create(m, &cli.mc, err, sizeof(err))) {
        status = fail(HVEMU_EXIT_HOST_ERROR, err);
        goto out_free;
    }
    screen.m = m;
    screen.vga = machine_vga(m);
    if (boot(m, &cli, &image, &initrd)) {
        status = HVEMU_EXIT_USAGE;
        goto out;
    }
    struct timespec t0, t1;
    timespec_get(&t0, TIME_UTC); /* host time, for --stats only: never guest-visible */
    status = machine_run(m);
    timespec_get(&t1, TIME_UTC);
    if (cli.stats)
        print_stats(m, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    if (m->stop != MSTOP_POWEROFF && m->stop != MSTOP_DEBUG_EXIT)
        fprintf(stderr, "hvemu: guest stopped: %s (exit status %d)\n", machine_stop_name(m->stop), status);
out:
    machine_destroy(m);
out_free:
    free(m);
    display_close(screen.d);
    console_close(&con);
    if (own_image)
        host_file_free(&image);
    host_file_free(&initrd);
    return status;
}
