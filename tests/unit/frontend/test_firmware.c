/* --bios: firmware sizes accepted and refused, where the image and its low alias appear in the
 * physical map (read-only), and the option's parsing rules. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/cli.h"
#include "frontend/firmware.h"
#include "mmu/physmem.h"

struct size_case {
    uint64_t len;
    bool ok;
};

static const struct size_case sizes[] = {
    {0, false},
    {1, false},
    {1000, false},
    {64 << 10, true},
    {(64 << 10) + 1, false},
    {(64 << 10) + 4096, false},
    {128 << 10, true},
    {192 << 10, true},
    {1 << 20, true},
    {16 << 20, true},
    {(16 << 20) + (64 << 10), false},
    {32ull << 20, false},
    {UINT64_MAX, false},
};

Test(firmware, size_rules)
{
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        char err[256] = "";
        int rc = firmware_check_size("fw.bin", sizes[k].len, err, sizeof(err));
        cr_expect_eq(rc == 0, sizes[k].ok, "len %llu: rc %d (%s)", (unsigned long long)sizes[k].len, rc, err);
        if (!sizes[k].ok)
            cr_expect(strstr(err, "fw.bin") && strstr(err, "64 KiB") && strstr(err, "16 MiB"),
                      "len %llu: message '%s'", (unsigned long long)sizes[k].len, err);
    }
}

/* Each byte holds its offset's block number and low bits, so misplaced mappings show. */
static uint8_t *pattern(uint64_t len)
{
    uint8_t *p = malloc(len);
    cr_assert_not_null(p);
    for (uint64_t i = 0; i < len; i++)
        p[i] = (uint8_t)((i >> 16) * 31 + (i & 0xff));
    return p;
}

static const uint64_t map_lens[] = {64 << 10, 128 << 10, 192 << 10, 1 << 20, 16 << 20};

Test(firmware, mapped_at_top_and_low_alias)
{
    for (size_t k = 0; k < sizeof(map_lens) / sizeof(map_lens[0]); k++) {
        uint64_t len = map_lens[k];
        struct physmem pm;
        cr_assert_eq(physmem_init(&pm, 2 << 20), 0);
        uint8_t *img = pattern(len);
        char err[256];
        cr_assert_eq(firmware_map(&pm, img, len, err, sizeof(err)), 0, "len %llu: %s",
                     (unsigned long long)len, err);
        /* The reset vector is the image's last 16 bytes. */
        cr_expect_eq(physmem_read_u(&pm, 0xFFFFFFF0ull, 8), *(uint64_t *)(img + len - 16));
        cr_expect_eq(physmem_read_u(&pm, 0x100000000ull - len, 4), *(uint32_t *)img);
        uint64_t low = len < (128 << 10) ? len : (128 << 10);
        cr_expect_eq(physmem_read_u(&pm, 0xFFFF0, 8), *(uint64_t *)(img + len - 16), "len %llu",
                     (unsigned long long)len);
        cr_expect_eq(physmem_read_u(&pm, 0x100000 - low, 4), *(uint32_t *)(img + len - low));
        /* Read-only: writes are dropped. */
        physmem_write_u(&pm, 0xFFFFFFF0ull, 0, 8);
        physmem_write_u(&pm, 0xFFFF0, 0, 8);
        cr_expect_eq(physmem_read_u(&pm, 0xFFFFFFF0ull, 8), *(uint64_t *)(img + len - 16));
        cr_expect_eq(physmem_read_u(&pm, 0xFFFF0, 8), *(uint64_t *)(img + len - 16));
        /* Below the low alias is RAM still. */
        physmem_write_u(&pm, 0x100000 - low - 4, 0x12345678, 4);
        cr_expect_eq(physmem_read_u(&pm, 0x100000 - low - 4, 4), 0x12345678);
        free(img);
        physmem_destroy(&pm);
    }
}

Test(firmware, bad_size_not_mapped)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 2 << 20), 0);
    uint8_t img[4096] = {0};
    char err[256];
    cr_expect_eq(firmware_map(&pm, img, sizeof(img), err, sizeof(err)), -1);
    cr_expect_eq(pm.nregions, 0);
    physmem_destroy(&pm);
}

struct cli_case {
    const char *name;
    const char *argv[6];
    bool ok;
    const char *bios;
};

static const struct cli_case cli_cases[] = {
    {"bios", {"hvemu", "--bios", "fw.bin", NULL}, true, "fw.bin"},
    {"bios_eq", {"hvemu", "--bios=fw.bin", NULL}, true, "fw.bin"},
    {"bios_and_kernel", {"hvemu", "--bios", "fw.bin", "--kernel", "k.elf", NULL}, false, NULL},
    {"bios_and_image", {"hvemu", "--bios", "fw.bin", "k.elf", NULL}, false, NULL},
    {"bios_no_arg", {"hvemu", "--bios", NULL}, false, NULL},
    {"bios_append", {"hvemu", "--bios", "fw.bin", "--append", "x", NULL}, false, NULL},
};

Test(firmware, option_parsing)
{
    for (size_t k = 0; k < sizeof(cli_cases) / sizeof(cli_cases[0]); k++) {
        const struct cli_case *c = &cli_cases[k];
        int argc = 0;
        while (c->argv[argc])
            argc++;
        struct cli cl;
        char err[256] = "";
        int rc = cli_parse(&cl, argc, (char **)c->argv, err, sizeof(err));
        cr_expect_eq(rc == 0, c->ok, "%s: rc %d (%s)", c->name, rc, err);
        if (c->ok)
            cr_expect_str_eq(cl.bios, c->bios, "%s", c->name);
        else
            cr_expect(err[0] != '\0', "%s: no message", c->name);
    }
}
