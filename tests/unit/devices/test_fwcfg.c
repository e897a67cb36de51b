/* fw_cfg: selector at 0x510, byte-wide data at 0x511, as SeaBIOS and Linux read it. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"
#include <string.h>

#include "devices/fwcfg.h"
#include "devices/vclock.h"

static void select_key(struct iobus *bus, uint16_t key)
{
    iobus_write(bus, 0x510, key, 2);
}

static void read_bytes(struct iobus *bus, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)iobus_read(bus, 0x511, 1);
}

struct fw_fixture { struct iobus bus; struct fwcfg fw; };

static void setup(struct fw_fixture *f)
{
    iobus_init(&f->bus);
    fwcfg_init(&f->fw, 0x40000000ull, 4);
    cr_assert_eq(fwcfg_register(&f->fw, &f->bus), 0);
}

static const struct { uint16_t key; unsigned len; uint8_t bytes[8]; } keys[] = {
    {FW_CFG_SIGNATURE, 4, {'Q', 'E', 'M', 'U'}},
    {FW_CFG_ID, 4, {1, 0, 0, 0}},
    {FW_CFG_RAM_SIZE, 8, {0, 0, 0, 0x40, 0, 0, 0, 0}},
    {FW_CFG_NB_CPUS, 2, {4, 0}},
    {FW_CFG_MAX_CPUS, 2, {4, 0}},
    {FW_CFG_FILE_DIR, 4, {0, 0, 0, 0}},
    {0x1234, 4, {0, 0, 0, 0}}, /* no such key: zeros */
};

Test(fwcfg, fixed_keys)
{
    struct fw_fixture f;
    setup(&f);
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        uint8_t got[8];
        select_key(&f.bus, keys[i].key);
        read_bytes(&f.bus, got, keys[i].len);
        cr_expect_arr_eq(got, keys[i].bytes, keys[i].len, "key %#x", keys[i].key);
    }
}

Test(fwcfg, reselect_rewinds_and_reads_past_end_are_zero)
{
    struct fw_fixture f;
    setup(&f);
    select_key(&f.bus, FW_CFG_SIGNATURE);
    cr_expect_eq(iobus_read(&f.bus, 0x511, 1), 'Q');
    select_key(&f.bus, FW_CFG_SIGNATURE);
    cr_expect_eq(iobus_read(&f.bus, 0x511, 2), 'Q' | ('E' << 8), "word read: two bytes");
    cr_expect_eq(iobus_read(&f.bus, 0x511, 2), 'M' | ('U' << 8));
    cr_expect_eq(iobus_read(&f.bus, 0x511, 1), 0);
    iobus_write(&f.bus, 0x511, 0xaa, 1); /* data writes are ignored */
    select_key(&f.bus, FW_CFG_SIGNATURE);
    cr_expect_eq(iobus_read(&f.bus, 0x511, 1), 'Q');
}

Test(fwcfg, file_directory)
{
    struct fw_fixture f;
    static const uint8_t table[] = {1, 2, 3, 4, 5};
    static const uint8_t other[] = {9};
    setup(&f);
    cr_expect_eq(fwcfg_add_file(&f.fw, "etc/acpi/tables", table, sizeof(table)), 0x20);
    cr_expect_eq(fwcfg_add_file(&f.fw, "etc/other", other, sizeof(other)), 0x21);
    uint8_t dir[4 + 2 * 64];
    select_key(&f.bus, FW_CFG_FILE_DIR);
    read_bytes(&f.bus, dir, sizeof(dir));
    static const uint8_t head[] = {0, 0, 0, 2, 0, 0, 0, 5, 0x00, 0x20, 0, 0};
    cr_expect_arr_eq(dir, head, sizeof(head));
    cr_expect_str_eq((const char *)&dir[12], "etc/acpi/tables");
    cr_expect_eq(dir[4 + 64 + 5], 0x21);
    cr_expect_str_eq((const char *)&dir[4 + 64 + 8], "etc/other");
    uint8_t got[6];
    select_key(&f.bus, 0x20);
    read_bytes(&f.bus, got, 6);
    static const uint8_t want[] = {1, 2, 3, 4, 5, 0};
    cr_expect_arr_eq(got, want, 6);
}

Test(fwcfg, limits)
{
    struct fw_fixture f;
    char name[80];
    setup(&f);
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    cr_expect_eq(fwcfg_add_file(&f.fw, name, NULL, 0), -1, "name longer than 55 bytes");
    for (unsigned i = 0; i < FWCFG_MAX_FILES; i++)
        cr_expect_gt(fwcfg_add_file(&f.fw, "etc/x", NULL, 0), 0);
    cr_expect_eq(fwcfg_add_file(&f.fw, "etc/y", NULL, 0), -1, "directory full");
    cr_expect_eq(fwcfg_add_bytes(&f.fw, FW_CFG_FILE_DIR, name, 4), -1);
    cr_expect_eq(fwcfg_add_u64(&f.fw, FW_CFG_RAM_SIZE, 0x80000000ull), 0, "replace a key");
    uint8_t got[8];
    select_key(&f.bus, FW_CFG_RAM_SIZE);
    read_bytes(&f.bus, got, 8);
    static const uint8_t want[] = {0, 0, 0, 0x80, 0, 0, 0, 0};
    cr_expect_arr_eq(got, want, 8);
}



Test(fwcfg, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0x510, 0x511, 0x511, 0x511};
    struct fw_fixture f;
    static const uint8_t blob[3] = {1, 2, 3};
    setup(&f);
    fwcfg_add_file(&f.fw, "etc/blob", blob, sizeof(blob));
    fuzz_ports(&f.bus, NULL, ports, ARRAY_SIZE(ports), 0xf3cf, NULL, NULL);
}
