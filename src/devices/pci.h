/* PCI host bridge with configuration mechanism #1 (0xCF8 address, 0xCFC-0xCFF data) and bus 0. */
#ifndef HVEMU_PCI_H
#define HVEMU_PCI_H

#include "devices/iobus.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC
#define PCI_CONFIG_SPACE   256
#define PCI_SLOTS          32

/* Register offsets in the standard header (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a
#define PCI_HEADER_TYPE    0x0e
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e

/* One function's configuration space. Bytes read from config; a write changes only the bits
 * set in wmask. A device wanting to react to writes sets write_hook. */
struct pci_function {
    uint8_t config[PCI_CONFIG_SPACE];
    uint8_t wmask[PCI_CONFIG_SPACE];
    void *opaque;
    void (*write_hook)(void *opaque, struct pci_function *fn, unsigned reg, unsigned size);
};

struct pci_host {
    uint32_t config_address;
    struct pci_function *fns[PCI_SLOTS * 8]; /* bus 0, indexed by devfn */
    struct pci_function host_bridge;         /* 00:00.0 */
};

/* Builds an Intel 440FX-like host bridge (8086:1237) at 00:00.0 on an otherwise empty bus. */
void pci_init(struct pci_host *h);
void pci_reset(struct pci_host *h);
/* Registers 0xCF8 (dword address register) and 0xCFC-0xCFF; 0xCF9 stays free for the reset
 * control register. */
int pci_register(struct pci_host *h, struct iobus *bus);
/* Plug a function in at devfn (slot << 3 | function). Returns 0, or -1 if taken/out of range. */
int pci_add_function(struct pci_host *h, unsigned devfn, struct pci_function *fn);
/* Config access as mechanism #1 performs it; a later MMCONFIG window can call these too. */
uint32_t pci_config_read(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg,
                         unsigned size);
void pci_config_write(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg,
                      uint32_t v, unsigned size);
/* Helpers for building a function's header. */
void pci_set_word(uint8_t *config, unsigned reg, uint16_t v);
void pci_set_long(uint8_t *config, unsigned reg, uint32_t v);

#endif
