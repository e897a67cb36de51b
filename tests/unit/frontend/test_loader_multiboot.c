/* Multiboot v1 loading: the bundled ELF32 guests, a.out-kludge images, the information structure
 * (memory sizes, memory map, command line, module, loader name) and refused headers. */
#include "test_loader_util.h"

#include "frontend/loader_priv.h"

static const struct mb_expect {
    const char *rom;
} roms[] = {{"default.elf"}, {"tests_cpu_basic.elf"}};

Test(loader_multiboot, bundled_roms_load_at_their_elf_addresses)
{
    for (unsigned r = 0; r < ARRAY_SIZE(roms); r++) {
        char path[1024];
        rom_path(path, sizeof(path), roms[r].rom);
        size_t len;
        uint8_t *img = read_whole(path, &len);
        cr_assert(len > 0x1000 && get32(img + 16) == 0x00030002, "%s is not an ELF32 executable", path);
        uint32_t entry = get32(img + 24), phoff = get32(img + 28);
        struct physmem pm;
        struct boot_entry e;
        char err[256];
        struct load_opts o = {.cmdline = "console=ttyS0 quiet"};
        cr_assert_eq(try_load(&pm, TEST_RAM, img, len, &o, &e, err, sizeof(err)), 0, "%s: %s", path, err);
        cr_expect_eq(e.kind, IMAGE_MULTIBOOT);
        cr_expect_eq(e.mode, BOOT_PROT32);
        cr_expect_eq(e.rip, entry);
        cr_expect_eq(e.rax, 0x2BADB002);
        cr_expect_eq(e.rbx, LOADER_MBI);
        cr_expect_eq(e.image_start, 0x100000);
        /* the first PT_LOAD's file bytes are in RAM at its paddr */
        const uint8_t *ph = img + phoff;
        uint32_t off = get32(ph + 4), pa = get32(ph + 12), fsz = get32(ph + 16);
        cr_expect_eq(memcmp(gp(&pm, pa, fsz), img + off, fsz), 0, "%s: segment 0 differs", path);
        /* flat 32-bit code at 0x10 for Multiboot */
        cr_expect_eq(get64(gp(&pm, LOADER_GDT + 16, 8)), 0x00CF9B000000FFFFull);

        const uint8_t *mbi = gp(&pm, LOADER_MBI, 0x400);
        cr_expect_eq(get32(mbi), 0x245, "flags: mem, cmdline, mmap, loader name");
        cr_expect_eq(get32(mbi + 4), 639);
        cr_expect_eq(get32(mbi + 8), (TEST_RAM - 0x100000) / 1024);
        cr_expect_str_eq((const char *)gp(&pm, get32(mbi + 16), 20), "console=ttyS0 quiet");
        cr_expect_str_eq((const char *)gp(&pm, get32(mbi + 64), 6), "hvemu");
        cr_expect_eq(get32(mbi + 20), 0, "no modules");
        /* memory map: RAM to the EBDA, reserved to 1 MiB, RAM to the end, reserved BIOS flash */
        static const struct { uint64_t addr, len; uint32_t type; } want[] = {
            {0, 0x9FC00, 1}, {0x9FC00, 0x60400, 2}, {0x100000, TEST_RAM - 0x100000, 1},
            {0xFFFC0000, 0x40000, 2}};
        cr_expect_eq(get32(mbi + 44), 24 * ARRAY_SIZE(want));
        const uint8_t *mm = gp(&pm, get32(mbi + 48), 24 * ARRAY_SIZE(want));
        for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
            cr_expect_eq(get32(mm + 24 * i), 20);
            cr_expect_eq(get64(mm + 24 * i + 4), want[i].addr, "mmap %u addr", i);
            cr_expect_eq(get64(mm + 24 * i + 12), want[i].len, "mmap %u len", i);
            cr_expect_eq(get32(mm + 24 * i + 20), want[i].type, "mmap %u type", i);
        }
        physmem_destroy(&pm);
        free(img);
    }
}

Test(loader_multiboot, initrd_becomes_page_aligned_module_0)
{
    char path[1024];
    rom_path(path, sizeof(path), "default.elf");
    size_t len;
    uint8_t *img = read_whole(path, &len);
    uint8_t rd[5000];
    for (unsigned i = 0; i < sizeof(rd); i++)
        rd[i] = (uint8_t)(i * 13);
    struct load_opts o = {.initrd = rd, .initrd_len = sizeof(rd)};
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(try_load(&pm, TEST_RAM, img, len, &o, &e, err, sizeof(err)), 0, "%s", err);
    const uint8_t *mbi = gp(&pm, LOADER_MBI, 0x400);
    cr_expect_eq(get32(mbi) & 0x8, 0x8, "MODS flag");
    cr_expect_eq(get32(mbi + 20), 1);
    const uint8_t *mod = gp(&pm, get32(mbi + 24), 16);
    uint32_t start = get32(mod), end = get32(mod + 4);
    cr_expect_eq(start & 0xFFF, 0, "module page-aligned");
    cr_expect_eq(end - start, sizeof(rd));
    cr_expect_geq(start, e.image_end);
    cr_expect_leq(end, TEST_RAM);
    cr_expect_eq(memcmp(gp(&pm, start, sizeof(rd)), rd, sizeof(rd)), 0);
    cr_expect_str_eq((const char *)gp(&pm, get32(mod + 8), 7), "initrd");
    cr_expect_eq(e.initrd_start, start);
    cr_expect_eq(e.initrd_size, sizeof(rd));
    physmem_destroy(&pm);
    free(img);
}

/* An a.out-kludge image: header at file offset 0x40, loaded from file offset 0 at load_addr. */
struct aout {
    uint32_t flags, header_addr, load_addr, load_end, bss_end, entry;
};

static size_t build_aout(uint8_t *buf, size_t n, const struct aout *a)
{
    memset(buf, 0, n);
    for (size_t i = 0x60; i < n; i++)
        buf[i] = (uint8_t)i;
    uint8_t *h = buf + 0x40;
    put32(h, 0x1BADB002);
    put32(h + 4, a->flags);
    put32(h + 8, (uint32_t)(0u - 0x1BADB002u - a->flags));
    put32(h + 12, a->header_addr);
    put32(h + 16, a->load_addr);
    put32(h + 20, a->load_end);
    put32(h + 24, a->bss_end);
    put32(h + 28, a->entry);
    return n;
}

Test(loader_multiboot, aout_kludge_loads_and_zeroes_bss)
{
    uint8_t img[0x800];
    struct aout a = {0x10003, 0x400040, 0x400000, 0x400600, 0x401000, 0x400060};
    size_t len = build_aout(img, sizeof(img), &a);
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(physmem_init(&pm, TEST_RAM), 0);
    memset(pm.ram + 0x400000, 0xAA, 0x2000);
    cr_assert_eq(load_image(&pm, img, len, NULL, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.rip, 0x400060);
    cr_expect_eq(e.mode, BOOT_PROT32);
    cr_expect_eq(e.image_start, 0x400000);
    cr_expect_eq(e.image_end, 0x401000);
    cr_expect_eq(memcmp(gp(&pm, 0x400000, 0x600), img, 0x600), 0, "load_end limits the copy");
    const uint8_t *bss = gp(&pm, 0x400600, 0xA01);
    for (unsigned i = 0; i < 0xA00; i++)
        cr_assert_eq(bss[i], 0, "bss byte %u", i);
    cr_expect_eq(bss[0xA00], 0xAA);
    physmem_destroy(&pm);
}

static const struct bad_aout {
    const char *name;
    struct aout a;
    size_t len;
    const char *want;
} bad_aouts[] = {
    {"unsupported required flag", {0x10008, 0x400040, 0x400000, 0, 0, 0x400060}, 0x800, "requires features"},
    {"header before load", {0x10000, 0x3FFFF0, 0x400000, 0, 0, 0x400060}, 0x800, "header_addr"},
    {"header_addr too far", {0x10000, 0x400100, 0x400000, 0, 0, 0x400060}, 0x800, "header_addr"},
    {"load_end below load", {0x10000, 0x400040, 0x400000, 0x300000, 0, 0x400060}, 0x800, "load_end_addr"},
    {"load past file end", {0x10000, 0x400040, 0x400000, 0x401000, 0, 0x400060}, 0x800, "truncated Multiboot"},
    {"bss below load end", {0x10000, 0x400040, 0x400000, 0x400600, 0x400100, 0x400060}, 0x800, "bss_end_addr"},
    {"entry outside", {0x10000, 0x400040, 0x400000, 0, 0, 0x500000}, 0x800, "entry point"},
    {"outside RAM", {0x10000, 0x8000040, 0x8000000, 0, 0, 0x8000060}, 0x800, "outside guest RAM"},
    {"huge bss", {0x10000, 0x400040, 0x400000, 0, 0xFFFFF000, 0x400060}, 0x800, "outside guest RAM"},
    {"over boot area", {0x10000, 0x8040, 0x8000, 0, 0, 0x8060}, 0x800, "overlaps hvemu's boot area"},
    {"address fields cut off", {0x10000, 0x400040, 0x400000, 0, 0, 0x400060}, 0x50, "address fields missing"},
    {"not ELF, no address fields", {0x00003, 0, 0, 0, 0, 0}, 0x800, "neither ELF"},
};

Test(loader_multiboot, bad_headers_are_refused)
{
    for (unsigned i = 0; i < ARRAY_SIZE(bad_aouts); i++) {
        const struct bad_aout *b = &bad_aouts[i];
        uint8_t img[0x800];
        build_aout(img, sizeof(img), &b->a);
        struct physmem pm;
        struct boot_entry e;
        char err[256] = "";
        cr_expect_eq(try_load(&pm, TEST_RAM, img, b->len, NULL, &e, err, sizeof(err)), -1,
                     "case '%s': accepted", b->name);
        cr_expect(strstr(err, b->want) != NULL, "case '%s': error '%s' lacks '%s'", b->name, err, b->want);
        cr_log_info("case '%s': %s", b->name, err);
        physmem_destroy(&pm);
    }
}

Test(loader_multiboot, header_search_rules)
{
    /* Found only 4-byte aligned, within 8 KiB, and with a matching checksum. */
    static const struct { size_t at; bool bad_sum; long want; } cases[] = {
        {0, false, 0}, {0x1FF4, false, 0x1FF4}, {0x2000, false, -1}, {0x42, false, -1}, {0x40, true, -1}};
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t img[0x3000] = {0};
        put32(img + cases[i].at, 0x1BADB002);
        put32(img + cases[i].at + 4, 3);
        put32(img + cases[i].at + 8, (uint32_t)(0u - 0x1BADB002u - 3u + (cases[i].bad_sum ? 1 : 0)));
        cr_expect_eq(loader_find_multiboot(img, sizeof(img)), cases[i].want, "case %u", i);
    }
}

Test(loader_multiboot, module_too_big_is_refused)
{
    char path[1024];
    rom_path(path, sizeof(path), "default.elf");
    size_t len;
    uint8_t *img = read_whole(path, &len);
    size_t big = TEST_RAM - 0x100000;
    uint8_t *rd = calloc(1, big);
    struct load_opts o = {.initrd = rd, .initrd_len = big};
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_expect_eq(try_load(&pm, TEST_RAM, img, len, &o, &e, err, sizeof(err)), -1);
    cr_expect(strstr(err, "does not fit") != NULL, "%s", err);
    physmem_destroy(&pm);
    free(rd);
    free(img);
}

Test(loader_multiboot, elf64_with_header_uses_program_headers_and_32bit_entry)
{
    /* GRUB-style: a Multiboot header inside an ELF64 still enters in 32-bit protected mode. */
    uint8_t code[32] = {0};
    put32(code, 0x1BADB002);
    put32(code + 4, 3);
    put32(code + 8, (uint32_t)(0u - 0x1BADB002u - 3u));
    code[12] = 0xF4;
    uint8_t img[0x1100];
    struct elf_spec s = {true, 62, 2, 0x20000C, 0x200000, 0x200000, code, sizeof(code), 0x10, 1};
    size_t len = build_elf(img, sizeof(img), &s);
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(try_load(&pm, TEST_RAM, img, len, NULL, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.kind, IMAGE_MULTIBOOT);
    cr_expect_eq(e.mode, BOOT_PROT32);
    cr_expect_eq(e.rip, 0x20000C);
    cr_expect_eq(e.rax, 0x2BADB002);
    cr_expect_eq(e.cr3, 0);
    cr_expect_eq(memcmp(gp(&pm, 0x200000, sizeof(code)), code, sizeof(code)), 0);
    physmem_destroy(&pm);
}
