/* QEMU fw_cfg, traditional I/O interface: selector 0x510 (16-bit write), data 0x511 (byte
 * reads). Firmware and loaders read the signature, CPU count, RAM size and named files. */
#ifndef HVEMU_FWCFG_H
#define HVEMU_FWCFG_H

#include "devices/iobus.h"

#define FWCFG_PORT_BASE 0x510

/* Keys from QEMU's docs/specs/fw_cfg.rst. */
#define FW_CFG_SIGNATURE  0x0000
#define FW_CFG_ID         0x0001
#define FW_CFG_UUID       0x0002
#define FW_CFG_RAM_SIZE   0x0003
#define FW_CFG_NOGRAPHIC  0x0004
#define FW_CFG_NB_CPUS    0x0005
#define FW_CFG_MAX_CPUS   0x000f
#define FW_CFG_FILE_DIR   0x0019
#define FW_CFG_FILE_FIRST 0x0020

#define FWCFG_MAX_ENTRIES 48
#define FWCFG_MAX_FILES   24
#define FWCFG_NAME_LEN    56

struct fwcfg_entry {
    uint16_t key;
    bool inline_data;   /* bytes live in buf (numbers), else in caller-owned data */
    uint32_t len;
    const uint8_t *data;
    uint8_t buf[16];
};

struct fwcfg {
    struct fwcfg_entry entries[FWCFG_MAX_ENTRIES];
    unsigned count;
    unsigned nfiles;
    /* FW_CFG_FILE_DIR contents: be32 count, then per file be32 size, be16 select, be16 0,
     * char name[56]. */
    uint8_t dir[4 + FWCFG_MAX_FILES * 64];
    uint16_t selector;
    uint32_t offset;
};

/* Fills the signature, ID (traditional interface only), an all-zero UUID, RAM size (bytes)
 * and the CPU count, plus an empty file directory. */
void fwcfg_init(struct fwcfg *f, uint64_t ram_size, unsigned ncpus);
void fwcfg_reset(struct fwcfg *f);
int fwcfg_register(struct fwcfg *f, struct iobus *bus);
/* Add or replace a key whose bytes the caller keeps alive. Returns 0, or -1 when the table is
 * full or the key is FW_CFG_FILE_DIR (generated from the files). */
int fwcfg_add_bytes(struct fwcfg *f, uint16_t key, const void *data, uint32_t len);
/* Little-endian numbers stored in the device. */
int fwcfg_add_u16(struct fwcfg *f, uint16_t key, uint16_t v);
int fwcfg_add_u32(struct fwcfg *f, uint16_t key, uint32_t v);
int fwcfg_add_u64(struct fwcfg *f, uint16_t key, uint64_t v);
/* A named file ("etc/..."); the caller keeps data alive. Returns its key or -1. */
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint32_t len);

#endif
