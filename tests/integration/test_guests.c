/* Whole-guest runs of the bundled images: the default guest powers off with its banner, and every
 * guest-side test kernel (roms/tests) reports a clean SUMMARY through the debug-exit port. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>
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
    hv_expect_guest_passes(name, NULL, 1, HV_SKIP_ANY, TIMEOUT);
}

Test(guests, tests_cpu_basic_passes)
{
    run_test_kernel("tests_cpu_basic.elf");
}

/* One test per roms/tests/<name>.c and roms/tests32/<name>.c (built as <name>.elf): each must
 * report a clean summary. */
struct kernel_param {
    char name[128];
};

static void free_kernel_params(struct criterion_test_params *crp)
{
    cr_free(crp->params);
}

ParameterizedTestParameters(guests, test_kernel)
{
    /* 64-bit kernels (roms/tests, roms/lib) and 32-bit ones (roms/tests32, roms/lib32). */
    static const char *const dirs[] = {"roms/tests", "roms/tests32"};
    size_t n = 0, cap = 128;
    struct kernel_param *p = cr_malloc(cap * sizeof(*p));
    for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/%s", HVEMU_SOURCE_DIR, dirs[k]);
        DIR *d = opendir(dir);
        for (struct dirent *de; d && p && (de = readdir(d)) && n < cap;) {
            size_t len = strlen(de->d_name);
            if (len < 3 || len - 2 + 5 > sizeof(p[n].name) || strcmp(de->d_name + len - 2, ".c"))
                continue;
            snprintf(p[n].name, sizeof(p[n].name), "%.*s.elf", (int)(len - 2), de->d_name);
            n++;
        }
        if (d)
            closedir(d);
    }
    return cr_make_param_array(struct kernel_param, p, n, free_kernel_params);
}

ParameterizedTest(struct kernel_param *k, guests, test_kernel)
{
    run_test_kernel(k->name);
}

Test(guests, multiboot_guest_gets_cmdline_and_module)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), "tests_boot.elf");
    char *rd = hv_temp_file("MODULE-0 contents", 17);
    struct run r;
    hv_run(&r, TIMEOUT, (const char *const[]){"--kernel", rom, "--initrd", rd, "--append", "mb test", NULL});
    unsigned passed = 0, failed = 0;
    bool ok = r.status == ST_TESTS_PASSED && hv_summary(r.out, &passed, &failed) && failed == 0 &&
              hv_has_line(r.out, "cmdline: 'mb test'") && hv_has_line(r.out, "PASS: boot.loader_name_hvemu") &&
              hv_has_line(r.out, "PASS: boot.modules_page_aligned_after_image") &&
              hv_has_line(r.out, "modules: 1") && hv_has_line(r.out, "module 0: 17 bytes 'MODU' 'initrd'");
    if (!ok)
        hv_run_dump(&r, "tests_boot.elf with a module");
    cr_expect(ok, "status %d, %u passed, %u failed", r.status, passed, failed);
    hv_run_free(&r);
    unlink(rd);
    free(rd);
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, v); wr16(p + 2, v >> 16); }

/* Packs a bundled guest (ELF32, linked at 1 MiB, 64-bit entry 0x200 into the image) as a bzImage:
 * one setup sector with the setup header, then the flat protected-mode image. */
static char *pack_bzimage(const char *elf_path)
{
    FILE *f = fopen(elf_path, "rb");
    cr_assert_not_null(f, "cannot open %s", elf_path);
    static uint8_t elf[1 << 20];
    size_t n = fread(elf, 1, sizeof(elf), f);
    fclose(f);
    cr_assert(n > 52 && !memcmp(elf, "\x7f" "ELF\x01", 5), "%s is not ELF32", elf_path);
    uint32_t phoff = rd32(elf + 28), phnum = elf[44] | elf[45] << 8, end = 0x100000, mem_end = 0x100000;
    static uint8_t img[1 << 20];
    const size_t setup = 2 * 512;
    memset(img, 0, sizeof(img));
    for (uint32_t i = 0; i < phnum; i++) {
        const uint8_t *ph = elf + phoff + 32 * i;
        uint32_t off = rd32(ph + 4), pa = rd32(ph + 12), fsz = rd32(ph + 16), msz = rd32(ph + 20);
        if (rd32(ph) != 1 || !msz)
            continue;
        cr_assert(pa >= 0x100000 && pa + fsz - 0x100000 + setup <= sizeof(img) && off + fsz <= n);
        memcpy(img + setup + (pa - 0x100000), elf + off, fsz);
        if (pa + fsz > end)
            end = pa + fsz;
        if (pa + msz > mem_end)
            mem_end = pa + msz;
    }
    uint32_t kernel = (end - 0x100000 + 15) & ~15u;
    img[0x1F1] = 1; /* setup_sects */
    wr32(img + 0x1F4, kernel / 16);
    wr16(img + 0x1FE, 0xAA55);
    img[0x200] = 0xEB;
    img[0x201] = 0x66;
    memcpy(img + 0x202, "HdrS", 4);
    wr16(img + 0x206, 0x20F);
    img[0x211] = 0x01;                  /* LOADED_HIGH */
    wr32(img + 0x214, 0x100000);        /* code32_start */
    wr32(img + 0x22C, 0x7FFFFFFF);      /* initrd_addr_max */
    wr32(img + 0x230, 0x200000);        /* kernel_alignment */
    wr16(img + 0x236, 0x1);             /* XLF_KERNEL_64 */
    wr32(img + 0x238, 2047);            /* cmdline_size */
    wr32(img + 0x258, 0x100000);        /* pref_address (low half) */
    wr32(img + 0x260, (mem_end - 0x100000 + 0xFFF) & ~0xFFFu); /* init_size */
    return hv_temp_file(img, setup + kernel);
}

Test(guests, bzimage_packed_guest_sees_the_linux_boot_protocol)
{
    char rom[1024];
    hv_rom_path(rom, sizeof(rom), "tests_boot.elf");
    char *bz = pack_bzimage(rom);
    char rd_data[5000];
    memset(rd_data, 'x', sizeof(rd_data));
    memcpy(rd_data, "INITRD", 6);
    char *rd = hv_temp_file(rd_data, sizeof(rd_data));
    struct run r;
    hv_run(&r, TIMEOUT, (const char *const[]){"--kernel", bz, "--initrd", rd, "--append", "linux boot test", NULL});
    unsigned passed = 0, failed = 0;
    bool ok = r.status == ST_TESTS_PASSED && hv_summary(r.out, &passed, &failed) && failed == 0 &&
              hv_has_line_prefix(r.out, "booted by: Linux boot protocol") &&
              hv_has_line(r.out, "cmdline: 'linux boot test'") &&
              hv_has_line_prefix(r.out, "initrd: 5000 bytes at ") && hv_count_prefix(r.out, "PASS: boot.linux.") >= 10;
    if (!ok)
        hv_run_dump(&r, "tests_boot.elf as a bzImage");
    cr_expect(ok, "status %d, %u passed, %u failed", r.status, passed, failed);
    hv_run_free(&r);
    unlink(bz);
    unlink(rd);
    free(bz);
    free(rd);
}

/* MWAIT woken by another VP's store to the monitored line (no interrupt, IF=0): with two VPs
 * the SMP half of sys_mwait runs, and must not be skipped. */
Test(guests, sys_mwait_two_vps)
{
    hv_expect_guest_passes("sys_mwait.elf", (const char *const[]){"--smp", "2", "--append", "vps=2", NULL},
                           12, HV_SKIP_NONE, TIMEOUT);
}
