/* PCI configuration mechanism #1 and the host bridge (Intel 82441FX data sheet IDs). */
#include "devices/pci.h"

#include <string.h>

#define CFG_ENABLE 0x80000000u
/* Bits 30-24 and 1-0 of CONFIG_ADDRESS are reserved and read as zero. */
#define CFG_ADDR_MASK 0x80fffffcu

void pci_set_word(uint8_t *config, unsigned reg, uint16_t v)
{
    config[reg] = (uint8_t)v;
    config[reg + 1] = (uint8_t)(v >> 8);
}

void pci_set_long(uint8_t *config, unsigned reg, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        config[reg + i] = (uint8_t)(v >> (8 * i));
}

uint32_t pci_config_read(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg,
                         unsigned size)
{
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (bus != 0 || devfn >= PCI_SLOTS * 8 || !h->fns[devfn])
        return ones; /* master abort: no device answers */
    const struct pci_function *fn = h->fns[devfn];
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; i++) {
        unsigned r = reg + i;
        v |= (uint32_t)(r < PCI_CONFIG_SPACE ? fn->config[r] : 0xff) << (8 * i);
    }
    return v;
}

void pci_config_write(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg,
                      uint32_t v, unsigned size)
{
    if (bus != 0 || devfn >= PCI_SLOTS * 8 || !h->fns[devfn])
        return;
    struct pci_function *fn = h->fns[devfn];
    for (unsigned i = 0; i < size && i < 4; i++) {
        unsigned r = reg + i;
        if (r >= PCI_CONFIG_SPACE)
            break;
        uint8_t m = fn->wmask[r], b = (uint8_t)(v >> (8 * i));
        fn->config[r] = (uint8_t)((fn->config[r] & ~m) | (b & m));
    }
    if (fn->write_hook)
        fn->write_hook(fn->opaque, fn, reg, size);
}

static uint32_t addr_read(void *dev, uint16_t off, unsigned size)
{
    struct pci_host *h = dev;
    /* Only a dword access reaches CONFIG_ADDRESS; byte accesses go to other ISA registers. */
    return size == 4 ? h->config_address : 0xffffffffu;
}

static void addr_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct pci_host *h = dev;
    if (size == 4)
        h->config_address = v & CFG_ADDR_MASK;
}

static uint32_t data_read(void *dev, uint16_t off, unsigned size)
{
    struct pci_host *h = dev;
    uint32_t a = h->config_address;
    if (!(a & CFG_ENABLE))
        return 0xffffffffu;
    return pci_config_read(h, (a >> 16) & 0xff, (a >> 8) & 0xff, (a & 0xfc) + off, size);
}

static void data_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct pci_host *h = dev;
    uint32_t a = h->config_address;
    if (a & CFG_ENABLE)
        pci_config_write(h, (a >> 16) & 0xff, (a >> 8) & 0xff, (a & 0xfc) + off, v, size);
}

static const struct io_ops addr_ops = {addr_read, addr_write};
static const struct io_ops data_ops = {data_read, data_write};

int pci_add_function(struct pci_host *h, unsigned devfn, struct pci_function *fn)
{
    if (devfn >= PCI_SLOTS * 8 || h->fns[devfn] || !fn)
        return -1;
    h->fns[devfn] = fn;
    return 0;
}

static void host_bridge_build(struct pci_function *fn)
{
    memset(fn, 0, sizeof(*fn));
    uint8_t *c = fn->config;
    pci_set_word(c, PCI_VENDOR_ID, 0x8086);
    pci_set_word(c, PCI_DEVICE_ID, 0x1237);
    pci_set_word(c, PCI_COMMAND, 0x0006);  /* memory space, bus master */
    pci_set_word(c, PCI_STATUS, 0x0280);   /* fast back-to-back, medium DEVSEL */
    c[PCI_REVISION_ID] = 0x02;
    c[PCI_CLASS_PROG] = 0x00;
    pci_set_word(c, PCI_CLASS_DEVICE, 0x0600); /* bridge: host */
    c[PCI_HEADER_TYPE] = 0x00;
    pci_set_word(c, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_set_word(c, PCI_SUBSYSTEM_ID, 0x1100);
    /* Writable: command bits the 82441FX implements, latency timer, and the chipset registers
     * (PAM, SMRAM, DRAM rows) kept as plain storage. */
    pci_set_word(fn->wmask, PCI_COMMAND, 0x0146);
    fn->wmask[0x0d] = 0xf8;
    memset(&fn->wmask[0x40], 0xff, PCI_CONFIG_SPACE - 0x40);
}

void pci_reset(struct pci_host *h)
{
    h->config_address = 0;
    host_bridge_build(&h->host_bridge);
}

void pci_init(struct pci_host *h)
{
    memset(h, 0, sizeof(*h));
    pci_reset(h);
    h->fns[0] = &h->host_bridge;
}

int pci_register(struct pci_host *h, struct iobus *bus)
{
    if (iobus_register(bus, PCI_CONFIG_ADDRESS, 1, &addr_ops, h, "pci-addr") ||
        iobus_register(bus, PCI_CONFIG_DATA, 4, &data_ops, h, "pci-data"))
        return -1;
    return 0;
}
