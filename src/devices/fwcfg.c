/* fw_cfg device: a table of keyed byte strings read one byte at a time through 0x511. */
#include "devices/fwcfg.h"

#include <string.h>

static struct fwcfg_entry *find(struct fwcfg *f, uint16_t key)
{
    for (unsigned i = 0; i < f->count; i++)
        if (f->entries[i].key == key)
            return &f->entries[i];
    return NULL;
}

static struct fwcfg_entry *slot(struct fwcfg *f, uint16_t key)
{
    struct fwcfg_entry *e = find(f, key);
    if (e)
        return e;
    if (f->count == FWCFG_MAX_ENTRIES)
        return NULL;
    e = &f->entries[f->count++];
    memset(e, 0, sizeof(*e));
    e->key = key;
    return e;
}

static int add_inline(struct fwcfg *f, uint16_t key, const void *data, uint32_t len)
{
    if (len > sizeof(f->entries[0].buf))
        return -1;
    struct fwcfg_entry *e = key == FW_CFG_FILE_DIR ? NULL : slot(f, key);
    if (!e)
        return -1;
    e->inline_data = true;
    e->len = len;
    e->data = NULL;
    memcpy(e->buf, data, len);
    return 0;
}

int fwcfg_add_bytes(struct fwcfg *f, uint16_t key, const void *data, uint32_t len)
{
    struct fwcfg_entry *e = key == FW_CFG_FILE_DIR ? NULL : slot(f, key);
    if (!e)
        return -1;
    e->inline_data = false;
    e->data = data;
    e->len = data ? len : 0;
    return 0;
}

static int add_le(struct fwcfg *f, uint16_t key, uint64_t v, unsigned n)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return add_inline(f, key, b, n);
}

int fwcfg_add_u16(struct fwcfg *f, uint16_t key, uint16_t v)
{
    return add_le(f, key, v, 2);
}

int fwcfg_add_u32(struct fwcfg *f, uint16_t key, uint32_t v)
{
    return add_le(f, key, v, 4);
}

int fwcfg_add_u64(struct fwcfg *f, uint16_t key, uint64_t v)
{
    return add_le(f, key, v, 8);
}

static void put_be(uint8_t *p, uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint32_t len)
{
    size_t nlen = strlen(name);
    if (nlen >= FWCFG_NAME_LEN || f->nfiles == FWCFG_MAX_FILES)
        return -1;
    uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + f->nfiles);
    if (fwcfg_add_bytes(f, key, data, len))
        return -1;
    uint8_t *rec = &f->dir[4 + f->nfiles * 64];
    memset(rec, 0, 64);
    put_be(rec, len, 4);
    put_be(rec + 4, key, 2);
    memcpy(rec + 8, name, nlen);
    f->nfiles++;
    put_be(f->dir, f->nfiles, 4);
    return key;
}

static uint8_t data_byte(struct fwcfg *f)
{
    /* The directory is generated, not a table entry, so it always matches the files. */
    if (f->selector == FW_CFG_FILE_DIR)
        return f->offset < 4 + f->nfiles * 64u ? f->dir[f->offset++] : 0;
    struct fwcfg_entry *e = find(f, f->selector);
    if (!e || f->offset >= e->len)
        return 0;
    const uint8_t *p = e->inline_data ? e->buf : e->data;
    return p[f->offset++];
}

static uint32_t fwcfg_io_read(void *dev, uint16_t off, unsigned size)
{
    struct fwcfg *f = dev;
    if (off != 1)
        return 0;
    /* Wider reads of the data port return successive bytes, little-endian. */
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; i++)
        v |= (uint32_t)data_byte(f) << (8 * i);
    return v;
}

static void fwcfg_io_write(void *dev, uint16_t off, uint32_t v, unsigned size)
{
    struct fwcfg *f = dev;
    if (off != 0)
        return; /* data writes are ignored since QEMU 2.4 */
    f->selector = (uint16_t)v;
    f->offset = 0;
}

static const struct io_ops fwcfg_ops = {fwcfg_io_read, fwcfg_io_write};

void fwcfg_reset(struct fwcfg *f)
{
    f->selector = 0;
    f->offset = 0;
}

void fwcfg_init(struct fwcfg *f, uint64_t ram_size, unsigned ncpus)
{
    static const uint8_t zero_uuid[16];
    memset(f, 0, sizeof(*f));
    add_inline(f, FW_CFG_SIGNATURE, "QEMU", 4);
    fwcfg_add_u32(f, FW_CFG_ID, 1); /* bit 0: traditional interface; no DMA */
    add_inline(f, FW_CFG_UUID, zero_uuid, 16);
    fwcfg_add_u64(f, FW_CFG_RAM_SIZE, ram_size);
    fwcfg_add_u16(f, FW_CFG_NOGRAPHIC, 0);
    fwcfg_add_u16(f, FW_CFG_NB_CPUS, (uint16_t)ncpus);
    fwcfg_add_u16(f, FW_CFG_MAX_CPUS, (uint16_t)ncpus);
    fwcfg_reset(f);
}

int fwcfg_register(struct fwcfg *f, struct iobus *bus)
{
    return iobus_register(bus, FWCFG_PORT_BASE, 2, &fwcfg_ops, f, "fw_cfg");
}
