/* Linux bzImage loading on a synthetic image: entry state for the 64-bit and 32-bit boot
 * protocols, the zero page (setup header, loader fields, command line, initrd, e820, RSDP),
 * and every refused header. */
#include "test_loader_util.h"

#include <dirent.h>

#define KLEN 0x3000u

struct bz {
    uint16_t version;
    uint8_t setup_sects, loadflags;
    uint16_t xloadflags, boot_flag;
    uint32_t syssize_extra; /* added to the honest syssize */
    uint32_t cmdline_size, init_size, initrd_addr_max;
    bool no_hdrs;
};

static const struct bz good = {0x20F, 4, 0x01, 0x3, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, false};

static uint8_t *build_bz(const struct bz *b, size_t *len)
{
    size_t setup = (size_t)((b->setup_sects ? b->setup_sects : 4) + 1) * 512;
    *len = setup + KLEN;
    uint8_t *img = calloc(1, *len);
    img[0x1F1] = b->setup_sects;
    put32(img + 0x1F4, KLEN / 16 + b->syssize_extra);
    put16(img + 0x1FE, b->boot_flag);
    img[0x200] = 0xEB;
    img[0x201] = 0x66; /* setup header ends at 0x268 */
    if (!b->no_hdrs)
        memcpy(img + 0x202, "HdrS", 4);
    put16(img + 0x206, b->version);
    img[0x211] = b->loadflags;
    put32(img + 0x214, 0x100000);
    put32(img + 0x22C, b->initrd_addr_max);
    put32(img + 0x230, 0x200000);
    img[0x234] = 1;
    put16(img + 0x236, b->xloadflags);
    put32(img + 0x238, b->cmdline_size);
    put64(img + 0x258, 0x1000000);
    put32(img + 0x260, b->init_size);
    put32(img + 0x264, 0x5A5A5A5A); /* handover_offset: must be carried into the zero page */
    for (size_t i = 0; i < KLEN; i++)
        img[setup + i] = (uint8_t)(i * 7 + 3);
    return img;
}

Test(loader_linux, bzimage_64bit_entry_and_zero_page)
{
    size_t len;
    uint8_t *img = build_bz(&good, &len);
    uint8_t rd[3000];
    for (unsigned i = 0; i < sizeof(rd); i++)
        rd[i] = (uint8_t)(i ^ 0x5C);
    struct load_opts o = {.cmdline = "console=ttyS0 root=/dev/ram0", .initrd = rd,
                          .initrd_len = sizeof(rd), .acpi_rsdp = 0xF5A10};
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(try_load(&pm, TEST_RAM, img, len, &o, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.kind, IMAGE_LINUX);
    cr_expect_eq(e.mode, BOOT_LONG64);
    cr_expect_eq(e.rip, 0x100200, "startup_64 = load address + 0x200");
    cr_expect_eq(e.rsi, LOADER_ZERO_PAGE);
    cr_expect_eq(e.cr3, LOADER_PML4);
    cr_expect_eq(get64(gp(&pm, LOADER_GDT + 16, 8)), 0x00AF9B000000FFFFull, "__BOOT_CS is 64-bit");
    cr_expect_eq(get64(gp(&pm, LOADER_GDT + 24, 8)), 0x00CF93000000FFFFull, "__BOOT_DS flat");
    cr_expect_eq(memcmp(gp(&pm, 0x100000, KLEN), img + 5 * 512, KLEN), 0, "protected-mode kernel at 1 MiB");

    const uint8_t *bp = gp(&pm, LOADER_ZERO_PAGE, 4096);
    cr_expect_eq(memcmp(bp + 0x202, "HdrS", 4), 0);
    cr_expect_eq(get32(bp + 0x264), 0x5A5A5A5A, "setup header copied");
    cr_expect_eq(get16(bp + 0x206), 0x20F);
    cr_expect_eq(bp[0x210], 0xFF, "type_of_loader");
    cr_expect_eq(bp[0x211], 0x81, "loadflags LOADED_HIGH | CAN_USE_HEAP");
    cr_expect_eq(get16(bp + 0x224), 0xFE00 - 0x200, "heap_end_ptr");
    cr_expect_eq(get32(bp + 0x228), LOADER_CMDLINE);
    cr_expect_str_eq((const char *)gp(&pm, LOADER_CMDLINE, 64), "console=ttyS0 root=/dev/ram0");
    cr_expect_eq(get64(bp + 0x70), 0xF5A10, "acpi_rsdp_addr");

    uint32_t ri = get32(bp + 0x218), rs = get32(bp + 0x21C);
    cr_expect_eq(rs, sizeof(rd));
    cr_expect_eq(ri & 0xFFF, 0);
    cr_expect_geq(ri, 0x1000000 + 0x800000, "initrd above pref_address + init_size");
    cr_expect_leq(ri + rs, TEST_RAM);
    cr_expect_eq(memcmp(gp(&pm, ri, rs), rd, rs), 0);
    cr_expect_eq(e.initrd_start, ri);

    static const struct { uint64_t addr, size; uint32_t type; } want[] = {
        {0, 0x9FC00, 1}, {0x9FC00, 0x60400, 2}, {0x100000, TEST_RAM - 0x100000, 1}, {0xFFFC0000, 0x40000, 2}};
    cr_expect_eq(bp[0x1E8], ARRAY_SIZE(want), "e820_entries");
    for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
        const uint8_t *en = bp + 0x2D0 + 20 * i;
        cr_expect_eq(get64(en), want[i].addr, "e820 %u addr", i);
        cr_expect_eq(get64(en + 8), want[i].size, "e820 %u size", i);
        cr_expect_eq(get32(en + 16), want[i].type, "e820 %u type", i);
    }
    physmem_destroy(&pm);
    free(img);
}

Test(loader_linux, protocol_variants)
{
    static const struct {
        uint16_t version, xlf;
        enum boot_mode mode;
        uint64_t rip;
        bool rsdp_written;
    } cases[] = {
        {0x206, 0x0, BOOT_PROT32, 0x100000, false}, /* no xloadflags yet: 32-bit entry */
        {0x20C, 0x0, BOOT_PROT32, 0x100000, false}, /* 32-bit-only kernel */
        {0x20C, 0x1, BOOT_LONG64, 0x100200, false},
        {0x20D, 0x3, BOOT_LONG64, 0x100200, false}, /* acpi_rsdp_addr is 2.14+ */
        {0x20E, 0x3, BOOT_LONG64, 0x100200, true},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        struct bz b = good;
        b.version = cases[i].version;
        b.xloadflags = cases[i].xlf;
        size_t len;
        uint8_t *img = build_bz(&b, &len);
        struct load_opts o = {.acpi_rsdp = 0xE1230};
        struct physmem pm;
        struct boot_entry e;
        char err[256];
        cr_assert_eq(try_load(&pm, TEST_RAM, img, len, &o, &e, err, sizeof(err)), 0, "case %u: %s", i, err);
        cr_expect_eq(e.mode, cases[i].mode, "case %u", i);
        cr_expect_eq(e.rip, cases[i].rip, "case %u", i);
        cr_expect_eq(e.rsi, LOADER_ZERO_PAGE, "case %u", i);
        cr_expect_eq(get64(gp(&pm, LOADER_GDT + 16, 8)),
                     cases[i].mode == BOOT_LONG64 ? 0x00AF9B000000FFFFull : 0x00CF9B000000FFFFull, "case %u", i);
        cr_expect_eq(get64(gp(&pm, LOADER_ZERO_PAGE + 0x70, 8)), cases[i].rsdp_written ? 0xE1230 : 0,
                     "case %u", i);
        physmem_destroy(&pm);
        free(img);
    }
}

Test(loader_linux, initrd_stays_below_initrd_addr_max_and_acpi_tables)
{
    struct bz b = good;
    b.initrd_addr_max = 0x2FFFFFF; /* last byte at 48 MiB - 1 */
    size_t len;
    uint8_t *img = build_bz(&b, &len);
    uint8_t rd[0x1800] = {7};
    struct load_opts o = {.initrd = rd, .initrd_len = sizeof(rd)};
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(try_load(&pm, TEST_RAM, img, len, &o, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.initrd_start, 0x3000000 - 0x2000);
    physmem_destroy(&pm);

    struct load_opts o2 = {.initrd = rd, .initrd_len = sizeof(rd), .acpi_tables = 0x2800000, .acpi_tables_len = 0x10000};
    cr_assert_eq(try_load(&pm, TEST_RAM, img, len, &o2, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.initrd_start, 0x2800000 - 0x2000, "initrd below the ACPI tables");
    const uint8_t *bp = gp(&pm, LOADER_ZERO_PAGE, 4096);
    cr_expect_eq(bp[0x1E8], 6);
    const uint8_t *acpi = bp + 0x2D0 + 20 * 3;
    cr_expect_eq(get64(acpi), 0x2800000);
    cr_expect_eq(get64(acpi + 8), 0x10000);
    cr_expect_eq(get32(acpi + 16), 3, "ACPI reclaimable");
    physmem_destroy(&pm);
    free(img);
}

static const struct bad_bz {
    const char *name;
    struct bz b;
    size_t cut; /* 0 = whole image */
    const char *cmdline;
    size_t initrd_len;
    uint64_t ram;
    const char *want;
} bad_bzs[] = {
    {"protocol 2.05", {0x205, 4, 1, 0, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, false}, 0, NULL, 0, 0, "2.05 is too old"},
    {"zImage", {0x20F, 4, 0, 3, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, false}, 0, NULL, 0, 0, "zImage"},
    {"bad boot flag", {0x20F, 4, 1, 3, 0x1234, 0, 2047, 0x800000, 0x37FFFFFF, false}, 0, NULL, 0, 0, "boot flag"},
    {"no HdrS", {0x20F, 4, 1, 3, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, true}, 0, NULL, 0, 0, "HdrS"},
    {"syssize past end", {0x20F, 4, 1, 3, 0xAA55, 1, 2047, 0x800000, 0x37FFFFFF, false}, 0, NULL, 0, 0, "truncated bzImage"},
    {"cut in the kernel", {0x20F, 4, 1, 3, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, false}, 0x1000, NULL, 0, 0, "truncated bzImage"},
    {"cut in the setup", {0x20F, 4, 1, 3, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, false}, 0x210, NULL, 0, 0, "truncated bzImage"},
    {"setup_sects past end", {0x20F, 255, 1, 3, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, false}, 0x4000, NULL, 0, 0, "truncated bzImage"},
    {"command line too long", {0x20F, 4, 1, 3, 0xAA55, 0, 8, 0x800000, 0x37FFFFFF, false}, 0, "123456789", 0, 0, "at most 8"},
    {"kernel needs more RAM", {0x20F, 4, 1, 3, 0xAA55, 0, 2047, 0x8000000, 0x37FFFFFF, false}, 0, NULL, 0, 0, "needs 144 MiB"},
    {"initrd too big", {0x20F, 4, 1, 3, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, false}, 0, NULL, 48u << 20, 0, "initrd"},
    {"initrd_addr_max too low", {0x20F, 4, 1, 3, 0xAA55, 0, 2047, 0x800000, 0xFFFFFF, false}, 0, NULL, 4096, 0, "initrd"},
    {"RAM below 2 MiB", {0x20F, 4, 1, 3, 0xAA55, 0, 2047, 0x800000, 0x37FFFFFF, false}, 0, NULL, 0, 1u << 20, "too small"},
};

Test(loader_linux, bad_bzimages_are_refused)
{
    for (unsigned i = 0; i < ARRAY_SIZE(bad_bzs); i++) {
        const struct bad_bz *t = &bad_bzs[i];
        size_t len;
        uint8_t *img = build_bz(&t->b, &len);
        if (t->cut)
            len = t->cut;
        uint8_t *rd = t->initrd_len ? calloc(1, t->initrd_len) : NULL;
        struct load_opts o = {.cmdline = t->cmdline, .initrd = rd, .initrd_len = t->initrd_len};
        struct physmem pm;
        struct boot_entry e;
        char err[256] = "";
        cr_expect_eq(try_load(&pm, t->ram ? t->ram : TEST_RAM, img, len, &o, &e, err, sizeof(err)), -1,
                     "case '%s': accepted", t->name);
        cr_expect(strstr(err, t->want) != NULL, "case '%s': error '%s' lacks '%s'", t->name, err, t->want);
        cr_log_info("case '%s': %s", t->name, err);
        physmem_destroy(&pm);
        free(rd);
        free(img);
    }
}

Test(loader_linux, short_efi_stub_is_a_truncated_bzimage)
{
    uint8_t img[100] = {'M', 'Z'};
    struct physmem pm;
    struct boot_entry e;
    char err[256] = "";
    cr_expect_eq(try_load(&pm, TEST_RAM, img, sizeof(img), NULL, &e, err, sizeof(err)), -1);
    cr_expect(strstr(err, "truncated bzImage") != NULL, "%s", err);
    physmem_destroy(&pm);
}

Test(loader_linux, host_debian_kernel_if_present)
{
    /* The real thing when the host has one (Debian's linux-image-amd64): 64-bit entry, and the
     * zero page carries its own setup header. */
    char path[512] = "";
    DIR *d = opendir("/boot");
    for (struct dirent *de; d && (de = readdir(d));)
        if (!strncmp(de->d_name, "vmlinuz-", 8))
            snprintf(path, sizeof(path), "/boot/%s", de->d_name);
    if (d)
        closedir(d);
    if (!path[0])
        cr_skip_test("no host kernel image in /boot");
    size_t len;
    uint8_t *img = read_whole(path, &len);
    struct load_opts o = {.cmdline = "console=ttyS0", .initrd = img, .initrd_len = 4096};
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(try_load(&pm, 256ull << 20, img, len, &o, &e, err, sizeof(err)), 0, "%s: %s", path, err);
    cr_expect_eq(e.mode, BOOT_LONG64);
    cr_expect_eq(e.rip, 0x100200);
    const uint8_t *bp = gp(&pm, LOADER_ZERO_PAGE, 4096);
    cr_expect_geq(get16(bp + 0x206), 0x20F);
    cr_expect_eq(memcmp(bp + 0x1F1, img + 0x1F1, 0x210 - 0x1F1), 0);
    size_t setup = (size_t)((img[0x1F1] ? img[0x1F1] : 4) + 1) * 512;
    cr_expect_eq(memcmp(gp(&pm, 0x100000, len - setup), img + setup, len - setup), 0);
    physmem_destroy(&pm);
    free(img);
}

Test(loader_linux, setup_header_wins_over_a_multiboot_header)
{
    size_t len;
    uint8_t *img = build_bz(&good, &len);
    uint8_t *mb = img + 5 * 512 + 0x100; /* in the kernel part, well inside the first 8 KiB */
    put32(mb, 0x1BADB002);
    put32(mb + 4, 3);
    put32(mb + 8, (uint32_t)(0u - 0x1BADB002u - 3u));
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(try_load(&pm, TEST_RAM, img, len, NULL, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.kind, IMAGE_LINUX);
    cr_expect_eq(e.mode, BOOT_LONG64);
    physmem_destroy(&pm);
    free(img);
}
