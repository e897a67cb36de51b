/* Plain ELF loading: ELF64 enters in 64-bit mode with the loader's identity map, ELF32 in flat
 * protected mode; every malformed or misplaced image is refused with a precise message. */
#include "test_loader_util.h"

static const uint8_t payload[] = {0xF4, 0xEB, 0xFD, 0x90, 0x11, 0x22, 0x33, 0x44};

Test(loader_elf, elf64_enters_long_mode_with_identity_map)
{
    uint8_t img[0x2000];
    struct elf_spec s = {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, sizeof(payload), 0x100, 1};
    size_t len = build_elf(img, sizeof(img), &s);
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(physmem_init(&pm, TEST_RAM), 0);
    memset(pm.ram + 0x200000, 0xAA, 0x1000);
    cr_assert_eq(load_image(&pm, img, len, NULL, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.mode, BOOT_LONG64);
    cr_expect_eq(e.kind, IMAGE_ELF64);
    cr_expect_eq(e.rip, 0x200000);
    cr_expect_eq(e.cr3, LOADER_PML4);
    cr_expect_eq(e.rsp, LOADER_STACK_TOP);
    cr_expect_eq(e.image_start, 0x200000);
    cr_expect_eq(e.image_end, 0x200000 + sizeof(payload) + 0x100);
    cr_expect_eq(memcmp(gp(&pm, 0x200000, sizeof(payload)), payload, sizeof(payload)), 0);
    /* bss zeroed even over non-zero RAM, and not one byte further */
    const uint8_t *bss = gp(&pm, 0x200000 + sizeof(payload), 0x101);
    for (unsigned i = 0; i < 0x100; i++)
        cr_assert_eq(bss[i], 0, "bss byte %u", i);
    cr_expect_eq(bss[0x100], 0xAA);
    /* GDT: entry 2 is a 64-bit code segment (L=1), entry 3 flat data */
    cr_expect_eq(e.gdt_base, LOADER_GDT);
    cr_expect_eq(e.gdt_limit, 31);
    cr_expect_eq(get64(gp(&pm, LOADER_GDT + 16, 8)), 0x00AF9B000000FFFFull);
    cr_expect_eq(get64(gp(&pm, LOADER_GDT + 24, 8)), 0x00CF93000000FFFFull);
    /* Page tables: PML4[0] -> PDPT, PDPT[0..3] -> PDs, PD maps 2 MiB pages identically */
    cr_expect_eq(get64(gp(&pm, LOADER_PML4, 8)), LOADER_PDPT | 3);
    cr_expect_eq(get64(gp(&pm, LOADER_PML4 + 8, 8)), 0);
    for (unsigned i = 0; i < 4; i++)
        cr_expect_eq(get64(gp(&pm, LOADER_PDPT + 8 * i, 8)), (LOADER_PD + 0x1000 * i) | 3);
    cr_expect_eq(get64(gp(&pm, LOADER_PDPT + 32, 8)), 0);
    static const unsigned pdes[] = {0, 1, 511, 512, 1000, 2047};
    for (unsigned i = 0; i < ARRAY_SIZE(pdes); i++)
        cr_expect_eq(get64(gp(&pm, LOADER_PD + 8 * pdes[i], 8)), ((uint64_t)pdes[i] << 21) | 0x83,
                     "PDE %u", pdes[i]);
    physmem_destroy(&pm);
}

Test(loader_elf, elf32_enters_protected_mode)
{
    uint8_t img[0x2000];
    struct elf_spec s = {false, 3, 2, 0x300004, 0x300000, 0x300000, payload, sizeof(payload), 0, 1};
    size_t len = build_elf(img, sizeof(img), &s);
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(try_load(&pm, TEST_RAM, img, len, NULL, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.mode, BOOT_PROT32);
    cr_expect_eq(e.kind, IMAGE_ELF32);
    cr_expect_eq(e.rip, 0x300004);
    cr_expect_eq(e.cr3, 0);
    cr_expect_eq(get64(gp(&pm, LOADER_GDT + 16, 8)), 0x00CF9B000000FFFFull);
    cr_expect_eq(memcmp(gp(&pm, 0x300000, sizeof(payload)), payload, sizeof(payload)), 0);
    physmem_destroy(&pm);
}

Test(loader_elf, virtual_entry_is_translated_to_physical)
{
    /* vmlinux-style: linked high, loaded at its physical address */
    uint8_t img[0x2000];
    struct elf_spec s = {true, 62, 2, 0xFFFFFFFF81000004ull, 0xFFFFFFFF81000000ull, 0x1000000,
                         payload, sizeof(payload), 0, 1};
    size_t len = build_elf(img, sizeof(img), &s);
    struct physmem pm;
    struct boot_entry e;
    char err[256];
    cr_assert_eq(try_load(&pm, TEST_RAM, img, len, NULL, &e, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(e.rip, 0x1000004);
    physmem_destroy(&pm);
}

struct bad_elf {
    const char *name;
    struct elf_spec spec;
    size_t cut;     /* truncate the file to this many bytes (0 = keep) */
    int patch_off;  /* patch one byte (-1 = none) */
    uint8_t patch_val;
    const char *want; /* substring of the error */
    bool with_initrd;
};

static const struct bad_elf bad_elves[] = {
    {"wrong machine", {true, 3, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 0, -1, 0, "another machine", false},
    {"shared object", {true, 62, 3, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 0, -1, 0, "not an executable", false},
    {"no loadable segment", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 0}, 0, -1, 0, "no loadable segments", false},
    {"entry outside", {true, 62, 2, 0x900000, 0x200000, 0x200000, payload, 8, 0, 1}, 0, -1, 0, "entry point 0x900000 is outside", false},
    {"segment outside RAM", {true, 62, 2, 0x8000000, 0x8000000, 0x8000000, payload, 8, 0, 1}, 0, -1, 0, "outside guest RAM", false},
    {"segment into PCI hole", {true, 62, 2, 0xF0000000, 0xF0000000, 0xF0000000, payload, 8, 0, 1}, 0, -1, 0, "outside guest RAM", false},
    {"bss past RAM end", {true, 62, 2, 0x3FFF000, 0x3FFF000, 0x3FFF000, payload, 8, 0x10000, 1}, 0, -1, 0, "outside guest RAM", false},
    {"segment over boot area", {true, 62, 2, 0x8000, 0x8000, 0x8000, payload, 8, 0, 1}, 0, -1, 0, "overlaps hvemu's boot area 0x1000-0x30000", false},
    {"address wraps", {true, 62, 2, 0xFFFFFFFFFFFFFFF8ull, 0xFFFFFFFFFFFFFFF8ull, 0xFFFFFFFFFFFFFFF8ull, payload, 8, 0x100, 1}, 0, -1, 0, "outside guest RAM", false},
    {"truncated segment", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 0x1004, -1, 0, "truncated ELF", false},
    {"truncated header", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 30, -1, 0, "corrupt ELF", false},
    {"identification only", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 8, -1, 0, "corrupt ELF", false},
    {"bad class", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 0, 4, 9, "corrupt ELF", false},
    {"big endian", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 0, 5, 2, "little-endian", false},
    {"phdr table past end", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 0, 33, 0x70, "corrupt ELF", false},
    {"filesz above memsz", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 0, 64 + 40, 4, "above memory size", false},
    {"initrd with plain ELF", {true, 62, 2, 0x200000, 0x200000, 0x200000, payload, 8, 0, 1}, 0, -1, 0, "initrd needs", true},
    {"elf32 entry outside", {false, 3, 2, 0x100, 0x300000, 0x300000, payload, 8, 0, 1}, 0, -1, 0, "outside its loaded", false},
};

Test(loader_elf, malformed_images_are_refused)
{
    for (unsigned i = 0; i < ARRAY_SIZE(bad_elves); i++) {
        const struct bad_elf *b = &bad_elves[i];
        uint8_t img[0x2000];
        size_t len = build_elf(img, sizeof(img), &b->spec);
        if (b->patch_off >= 0)
            img[b->patch_off] = b->patch_val;
        if (b->cut)
            len = b->cut;
        static const uint8_t rd[16] = {1};
        struct load_opts o = {.initrd = rd, .initrd_len = b->with_initrd ? sizeof(rd) : 0};
        struct physmem pm;
        struct boot_entry e;
        char err[256] = "";
        int rc = try_load(&pm, TEST_RAM, img, len, &o, &e, err, sizeof(err));
        cr_expect_eq(rc, -1, "case '%s': accepted", b->name);
        cr_expect(strstr(err, b->want) != NULL, "case '%s': error '%s' lacks '%s'", b->name, err, b->want);
        cr_log_info("case '%s': %s", b->name, err);
        cr_expect(strchr(err, '\n') == NULL, "case '%s': error has a newline", b->name);
        physmem_destroy(&pm);
    }
}
