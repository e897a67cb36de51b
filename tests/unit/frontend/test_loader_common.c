/* Image detection and the shared pieces: unknown images, tiny RAM, error-buffer handling, and the
 * e820 map for several RAM sizes. */
#include "test_loader_util.h"

Test(loader_common, unknown_and_empty_images_are_refused)
{
    static const struct { const char *name; const char *bytes; size_t len; const char *want; } cases[] = {
        {"empty", "", 0, "empty"},
        {"text", "#!/bin/sh\necho hi\n", 18, "not a Multiboot, ELF or Linux bzImage"},
        {"one byte", "\x7f", 1, "not a Multiboot"},
        {"ELF magic only", "\x7f" "ELF", 4, "corrupt ELF"},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        struct physmem pm;
        struct boot_entry e;
        char err[256] = "";
        cr_expect_eq(try_load(&pm, TEST_RAM, (const uint8_t *)cases[i].bytes, cases[i].len, NULL, &e, err,
                              sizeof(err)), -1, "case '%s'", cases[i].name);
        cr_expect(strstr(err, cases[i].want) != NULL, "case '%s': '%s'", cases[i].name, err);
        physmem_destroy(&pm);
    }
}

Test(loader_common, error_buffer_is_bounded)
{
    struct physmem pm;
    struct boot_entry e;
    char err[8];
    memset(err, 'x', sizeof(err));
    cr_expect_eq(try_load(&pm, TEST_RAM, (const uint8_t *)"junkjunk", 8, NULL, &e, err, 5), -1);
    cr_expect_eq(err[4], '\0');
    cr_expect_eq(err[5], 'x', "no write past errlen");
    cr_expect_eq(load_image(&pm, (const uint8_t *)"junkjunk", 8, NULL, &e, NULL, 0), -1);
    physmem_destroy(&pm);
}

Test(loader_common, e820_maps_for_ram_sizes)
{
    static const struct {
        uint64_t ram;
        struct load_opts o;
        unsigned n;
        struct e820_entry want[6];
    } cases[] = {
        {64ull << 20, {0}, 4, {{0, 0x9FC00, 1}, {0x9FC00, 0x60400, 2}, {0x100000, (64ull << 20) - 0x100000, 1},
                              {0xFFFC0000, 0x40000, 2}}},
        {5ull << 30, {0}, 5, {{0, 0x9FC00, 1}, {0x9FC00, 0x60400, 2}, {0x100000, 0xC0000000 - 0x100000, 1},
                             {0xFFFC0000, 0x40000, 2}, {1ull << 32, 2ull << 30, 1}}},
        {64ull << 20, {.acpi_tables = 0x3000000, .acpi_tables_len = 0x20000}, 6,
         {{0, 0x9FC00, 1}, {0x9FC00, 0x60400, 2}, {0x100000, 0x2F00000, 1}, {0x3000000, 0x20000, 3},
          {0x3020000, (64ull << 20) - 0x3020000, 1}, {0xFFFC0000, 0x40000, 2}}},
        /* ACPI tables in the BIOS area are covered by the reserved entry already */
        {64ull << 20, {.acpi_tables = 0xE0000, .acpi_tables_len = 0x10000}, 4,
         {{0, 0x9FC00, 1}, {0x9FC00, 0x60400, 2}, {0x100000, (64ull << 20) - 0x100000, 1}, {0xFFFC0000, 0x40000, 2}}},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        /* loader_e820 reads only the layout, so no RAM needs allocating. */
        struct physmem pm = {0};
        pm.ram_size = cases[i].ram;
        pm.low_size = cases[i].ram < PHYS_LOWMEM_END ? cases[i].ram : PHYS_LOWMEM_END;
        struct e820_entry map[LOADER_E820_MAX];
        unsigned n = loader_e820(&pm, &cases[i].o, map, LOADER_E820_MAX);
        cr_expect_eq(n, cases[i].n, "case %u", i);
        for (unsigned j = 0; j < n && j < cases[i].n; j++) {
            cr_expect_eq(map[j].addr, cases[i].want[j].addr, "case %u entry %u addr", i, j);
            cr_expect_eq(map[j].size, cases[i].want[j].size, "case %u entry %u size", i, j);
            cr_expect_eq(map[j].type, cases[i].want[j].type, "case %u entry %u type", i, j);
        }
        cr_expect_eq(loader_e820(&pm, &cases[i].o, map, 2), 2, "case %u: max respected", i);
    }
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(loader_common, mutated_images_never_crash)
{
    /* Seeded mutations of a real Multiboot ELF, a plain ELF64 and a bzImage header: every result
     * is either a load or a one-line error, never a crash or a write outside RAM (ASan/UBSan). */
    char path[1024];
    rom_path(path, sizeof(path), "default.elf");
    size_t mb_len;
    uint8_t *mb = read_whole(path, &mb_len);
    uint8_t elf[0x1100];
    static const uint8_t code[16] = {0xF4};
    struct elf_spec es = {true, 62, 2, 0x200000, 0x200000, 0x200000, code, sizeof(code), 0x40, 1};
    size_t elf_len = build_elf(elf, sizeof(elf), &es);
    uint8_t bz[0x1000] = {0};
    bz[0x1F1] = 1;
    put32(bz + 0x1F4, 0x40);
    put16(bz + 0x1FE, 0xAA55);
    bz[0x201] = 0x66;
    memcpy(bz + 0x202, "HdrS", 4);
    put16(bz + 0x206, 0x20F);
    bz[0x211] = 1;
    put32(bz + 0x22C, 0x37FFFFFF);
    put32(bz + 0x238, 255);
    put16(bz + 0x236, 3);
    struct { const uint8_t *img; size_t len, hot; } seeds[] = {{mb, mb_len, 0x200}, {elf, elf_len, 0x80}, {bz, sizeof(bz), 0x270}};

    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 32ull << 20), 0);
    uint8_t *buf = malloc(mb_len > sizeof(bz) ? mb_len : sizeof(bz));
    uint64_t s = 0x9E3779B97F4A7C15ull;
    unsigned loaded = 0, refused = 0;
    static const uint8_t rd[64];
    for (unsigned it = 0; it < 3000; it++) {
        unsigned k = it % ARRAY_SIZE(seeds);
        memcpy(buf, seeds[k].img, seeds[k].len);
        unsigned flips = 1 + (unsigned)(xorshift(&s) % 8);
        for (unsigned f = 0; f < flips; f++) {
            /* Mostly the headers, where the interesting fields are. */
            size_t at = (size_t)(xorshift(&s) % (xorshift(&s) & 1 ? seeds[k].hot : seeds[k].len));
            buf[at] = (uint8_t)xorshift(&s);
        }
        size_t len = seeds[k].len;
        if (xorshift(&s) % 4 == 0)
            len = (size_t)(xorshift(&s) % len);
        struct load_opts o = {.cmdline = "x", .initrd = rd, .initrd_len = it & 1 ? sizeof(rd) : 0};
        struct boot_entry e;
        char err[200];
        if (load_image(&pm, buf, len, &o, &e, err, sizeof(err)) == 0) {
            loaded++;
            cr_expect(e.mode == BOOT_PROT32 || e.mode == BOOT_LONG64, "iteration %u: mode %d", it, e.mode);
        } else {
            refused++;
            cr_expect(err[0] != '\0' && strchr(err, '\n') == NULL, "iteration %u: error '%s'", it, err);
        }
    }
    cr_log_info("%u loaded, %u refused", loaded, refused);
    cr_expect_gt(loaded, 0);
    cr_expect_gt(refused, 0);
    free(buf);
    free(mb);
    physmem_destroy(&pm);
}
