/* PCI configuration mechanism #1 and the 440FX-like host bridge. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/pci.h"
#include "devices/vclock.h"

struct fixture { struct iobus bus; struct pci_host h; };

static void setup(struct fixture *f)
{
    iobus_init(&f->bus);
    pci_init(&f->h);
    cr_assert_eq(pci_register(&f->h, &f->bus), 0);
}

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc);
}

static const struct { uint32_t addr; uint16_t port; unsigned size; uint32_t want; } reads[] = {
    {0x80000000u, 0xcfc, 4, 0x12378086},          /* vendor/device */
    {0x80000000u, 0xcfc, 2, 0x8086},
    {0x80000000u, 0xcfe, 2, 0x1237},
    {0x80000000u, 0xcfd, 1, 0x80},
    {0x80000008u, 0xcfc, 4, 0x06000002},          /* class host bridge, revision 2 */
    {0x8000000cu, 0xcfe, 1, 0x00},                /* header type 0 */
    {0x80000004u, 0xcfc, 2, 0x0006},
    {0x80000800u, 0xcfc, 4, 0xffffffff},          /* 00:01.0: nothing */
    {0x80000100u, 0xcfc, 2, 0xffff},              /* 00:00.1: nothing */
    {0x80010000u, 0xcfc, 4, 0xffffffff},          /* bus 1: nothing */
    {0x00000000u, 0xcfc, 4, 0xffffffff},          /* enable bit clear */
    {0x800000fcu, 0xcff, 4, 0xffffff00},          /* past the end of config space */
};

Test(pci, host_bridge_reads)
{
    struct fixture f;
    setup(&f);
    for (size_t i = 0; i < ARRAY_SIZE(reads); i++) {
        iobus_write(&f.bus, 0xcf8, reads[i].addr, 4);
        uint32_t v = iobus_read(&f.bus, reads[i].port, reads[i].size);
        cr_expect_eq(v, reads[i].want, "case %zu: %#x", i, v);
    }
}

/* Linux's pci_check_type1(). */
Test(pci, type1_detection)
{
    struct fixture f;
    setup(&f);
    iobus_write(&f.bus, 0xcfb, 0x01, 1);
    uint32_t saved = iobus_read(&f.bus, 0xcf8, 4);
    iobus_write(&f.bus, 0xcf8, 0x80000000u, 4);
    cr_expect_eq(iobus_read(&f.bus, 0xcf8, 4), 0x80000000u);
    iobus_write(&f.bus, 0xcf8, saved, 4);
    iobus_write(&f.bus, 0xcf8, 0xffffffffu, 4);
    cr_expect_eq(iobus_read(&f.bus, 0xcf8, 4), 0x80fffffcu, "reserved bits read 0");
    cr_expect_eq(iobus_read(&f.bus, 0xcf8, 1), 0xff, "byte access is not CONFIG_ADDRESS");
}

static const struct { unsigned reg, size; uint32_t v, want; } writes[] = {
    {0x00, 4, 0xffffffff, 0x12378086}, /* IDs are read-only */
    {0x04, 2, 0xffff, 0x0146},         /* command: implemented bits only */
    {0x0d, 1, 0xff, 0xf8},             /* latency timer */
    {0x59, 1, 0x30, 0x30},             /* PAM0 */
    {0x72, 1, 0x0a, 0x0a},             /* SMRAM */
};

Test(pci, host_bridge_writes)
{
    struct fixture f;
    setup(&f);
    for (size_t i = 0; i < ARRAY_SIZE(writes); i++) {
        unsigned reg = writes[i].reg;
        iobus_write(&f.bus, 0xcf8, cfg_addr(0, 0, 0, reg), 4);
        iobus_write(&f.bus, (uint16_t)(0xcfc + (reg & 3)), writes[i].v, writes[i].size);
        uint32_t v = iobus_read(&f.bus, (uint16_t)(0xcfc + (reg & 3)), writes[i].size);
        cr_expect_eq(v, writes[i].want, "reg %#x: %#x", reg, v);
    }
}

Test(pci, added_function_is_visible)
{
    struct fixture f;
    static struct pci_function fn;
    setup(&f);
    pci_set_word(fn.config, PCI_VENDOR_ID, 0x1af4);
    pci_set_word(fn.config, PCI_DEVICE_ID, 0x1000);
    cr_expect_eq(pci_add_function(&f.h, 3 << 3, &fn), 0);
    cr_expect_eq(pci_add_function(&f.h, 3 << 3, &fn), -1, "slot taken");
    cr_expect_eq(pci_add_function(&f.h, 256, &fn), -1, "devfn out of range");
    iobus_write(&f.bus, 0xcf8, cfg_addr(0, 3, 0, 0), 4);
    cr_expect_eq(iobus_read(&f.bus, 0xcfc, 4), 0x10001af4);
    cr_expect_eq(pci_config_read(&f.h, 0, 3 << 3, 0, 2), 0x1af4);
}



Test(pci, random_guest_io_is_harmless)
{
    static const uint16_t ports[] = {0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff};
    struct fixture f;
    setup(&f);
    fuzz_ports(&f.bus, NULL, ports, ARRAY_SIZE(ports), 0x9c1, NULL, NULL);
    iobus_write(&f.bus, 0xcf8, 0x80000000u, 4);
    cr_expect_eq(iobus_read(&f.bus, 0xcfc, 4), 0x12378086, "IDs survive");
}
