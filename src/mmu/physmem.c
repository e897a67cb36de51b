/* Guest-physical map: lookup, byte-exact access with MMIO splitting, overlays, code tracking. */
#include "mmu/physmem.h"

#include <stdlib.h>
#include <string.h>

int physmem_init(struct physmem *pm, uint64_t ram_size)
{
    memset(pm, 0, sizeof(*pm));
    if (ram_size == 0 || (ram_size & (PAGE_SIZE - 1)))
        return -1;
    /* calloc of a large block is served by fresh zero pages the host commits on first touch,
     * so an unused --mem costs nothing. */
    pm->ram = calloc(1, ram_size);
    if (!pm->ram)
        return -1;
    pm->code_pages = calloc(1, (ram_size >> PAGE_SHIFT) / 8 + 1);
    if (!pm->code_pages) {
        free(pm->ram);
        pm->ram = NULL;
        return -1;
    }
    pm->ram_size = ram_size;
    pm->low_size = ram_size < PHYS_LOWMEM_END ? ram_size : PHYS_LOWMEM_END;
    pm->a20_mask = ~0ull;
    return 0;
}

void physmem_destroy(struct physmem *pm)
{
    for (unsigned i = 0; i < pm->nregions; i++)
        if (pm->regions[i].kind == PHYS_ROM)
            free(pm->regions[i].host);
    free(pm->ram);
    free(pm->code_pages);
    memset(pm, 0, sizeof(*pm));
}

static int add_region(struct physmem *pm, struct phys_region r)
{
    if (pm->nregions == PHYS_MAX_REGIONS || r.size == 0 || r.base + r.size < r.base)
        return -1;
    for (unsigned i = 0; i < pm->nregions; i++) {
        const struct phys_region *o = &pm->regions[i];
        if (r.base < o->base + o->size && o->base < r.base + r.size)
            return -1;
    }
    pm->regions[pm->nregions++] = r;
    pm->generation++;
    return 0;
}

int physmem_map_rom(struct physmem *pm, gpa_t base, const void *data, uint64_t size, const char *name)
{
    uint8_t *copy = malloc(size);
    if (!copy)
        return -1;
    memcpy(copy, data, size);
    if (add_region(pm, (struct phys_region){base, size, PHYS_ROM, copy, NULL, NULL, name})) {
        free(copy);
        return -1;
    }
    return 0;
}

int physmem_map_mmio(struct physmem *pm, gpa_t base, uint64_t size, const struct mmio_ops *ops,
                     void *dev, const char *name)
{
    return add_region(pm, (struct phys_region){base, size, PHYS_MMIO, NULL, ops, dev, name});
}

int physmem_map_overlay(struct physmem *pm, gpa_t page, uint8_t *host_page, const char *name)
{
    page &= PAGE_MASK;
    physmem_unmap_overlay(pm, page);
    return add_region(pm, (struct phys_region){page, PAGE_SIZE, PHYS_OVERLAY, host_page, NULL, NULL, name});
}

void physmem_unmap_overlay(struct physmem *pm, gpa_t page)
{
    page &= PAGE_MASK;
    for (unsigned i = 0; i < pm->nregions; i++) {
        if (pm->regions[i].kind == PHYS_OVERLAY && pm->regions[i].base == page) {
            pm->regions[i] = pm->regions[--pm->nregions];
            pm->generation++;
            return;
        }
    }
}

void physmem_lookup(const struct physmem *pm, gpa_t gpa, struct phys_lookup *out)
{
    gpa &= pm->a20_mask;
    for (unsigned i = 0; i < pm->nregions; i++) {
        const struct phys_region *r = &pm->regions[i];
        if (gpa >= r->base && gpa - r->base < r->size) {
            out->kind = r->kind;
            out->host = r->host ? r->host + (gpa - r->base) : NULL;
            out->avail = r->size - (gpa - r->base);
            out->region = r;
            return;
        }
    }
    out->region = NULL;
    uint64_t off = physmem_ram_offset(pm, gpa);
    if (off != UINT64_MAX) {
        out->kind = PHYS_RAM;
        out->host = pm->ram + off;
        out->avail = (gpa < pm->low_size ? pm->low_size : pm->ram_size - pm->low_size + PHYS_HIGHMEM_BASE) - gpa;
        /* Stop at the next region that may overlay RAM. */
        for (unsigned i = 0; i < pm->nregions; i++) {
            const struct phys_region *r = &pm->regions[i];
            if (r->base > gpa && r->base - gpa < out->avail)
                out->avail = r->base - gpa;
        }
        return;
    }
    out->kind = PHYS_HOLE;
    out->host = NULL;
    out->avail = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
}

uint8_t *physmem_ram_ptr(struct physmem *pm, gpa_t gpa, uint64_t len)
{
    struct phys_lookup l;
    physmem_lookup(pm, gpa, &l);
    if (l.kind != PHYS_RAM || l.avail < len)
        return NULL;
    return l.host;
}

static void code_check(struct physmem *pm, gpa_t gpa, uint64_t len)
{
    if (!pm->code_write || len == 0)
        return;
    for (gpa_t p = gpa & PAGE_MASK; p < gpa + len; p += PAGE_SIZE)
        if (physmem_is_code(pm, p))
            pm->code_write(pm->code_write_opaque, p);
}

static uint64_t mmio_read(const struct phys_region *r, gpa_t off, unsigned size)
{
    return r->ops && r->ops->read ? r->ops->read(r->dev, off, size) : ~0ull;
}

void physmem_read(struct physmem *pm, gpa_t gpa, void *buf, uint64_t len)
{
    uint8_t *dst = buf;
    while (len) {
        struct phys_lookup l;
        physmem_lookup(pm, gpa, &l);
        uint64_t n = len < l.avail ? len : l.avail;
        if (l.kind == PHYS_MMIO) {
            gpa_t off = gpa - l.region->base;
            /* Largest naturally aligned piece that fits. */
            unsigned sz = 8;
            while (sz > 1 && ((off & (sz - 1)) || sz > n))
                sz >>= 1;
            uint64_t v = mmio_read(l.region, off, sz);
            memcpy(dst, &v, sz);
            n = sz;
        } else if (l.host) {
            memcpy(dst, l.host, n);
        } else {
            memset(dst, 0xff, n);
        }
        dst += n;
        gpa += n;
        len -= n;
    }
}

void physmem_write(struct physmem *pm, gpa_t gpa, const void *buf, uint64_t len)
{
    const uint8_t *src = buf;
    while (len) {
        struct phys_lookup l;
        physmem_lookup(pm, gpa, &l);
        uint64_t n = len < l.avail ? len : l.avail;
        if (l.kind == PHYS_MMIO) {
            gpa_t off = gpa - l.region->base;
            unsigned sz = 8;
            while (sz > 1 && ((off & (sz - 1)) || sz > n))
                sz >>= 1;
            uint64_t v = 0;
            memcpy(&v, src, sz);
            if (l.region->ops && l.region->ops->write)
                l.region->ops->write(l.region->dev, off, v, sz);
            n = sz;
        } else if (l.kind == PHYS_RAM || l.kind == PHYS_OVERLAY) {
            if (l.kind == PHYS_RAM)
                code_check(pm, gpa & pm->a20_mask, n);
            memcpy(l.host, src, n);
        }
        src += n;
        gpa += n;
        len -= n;
    }
}

uint64_t physmem_read_u(struct physmem *pm, gpa_t gpa, unsigned size)
{
    uint64_t v = 0;
    physmem_read(pm, gpa, &v, size);
    return v;
}

void physmem_write_u(struct physmem *pm, gpa_t gpa, uint64_t value, unsigned size)
{
    physmem_write(pm, gpa, &value, size);
}

int physmem_load(struct physmem *pm, gpa_t gpa, const void *data, uint64_t len)
{
    const uint8_t *src = data;
    while (len) {
        uint64_t off = physmem_ram_offset(pm, gpa);
        if (off == UINT64_MAX)
            return -1;
        uint64_t room = gpa < pm->low_size ? pm->low_size - gpa : pm->ram_size - off;
        uint64_t n = len < room ? len : room;
        code_check(pm, gpa, n);
        memcpy(pm->ram + off, src, n);
        src += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

void physmem_set_a20(struct physmem *pm, bool enabled)
{
    uint64_t mask = enabled ? ~0ull : ~(1ull << 20);
    if (mask != pm->a20_mask) {
        pm->a20_mask = mask;
        pm->generation++;
    }
}

void physmem_set_code_hook(struct physmem *pm, code_write_fn fn, void *opaque)
{
    pm->code_write = fn;
    pm->code_write_opaque = opaque;
}

void physmem_mark_code(struct physmem *pm, gpa_t gpa)
{
    uint64_t off = physmem_ram_offset(pm, gpa);
    if (off != UINT64_MAX)
        pm->code_pages[(off >> PAGE_SHIFT) / 8] |= (uint8_t)(1u << ((off >> PAGE_SHIFT) % 8));
}

void physmem_clear_code(struct physmem *pm, gpa_t gpa)
{
    uint64_t off = physmem_ram_offset(pm, gpa);
    if (off != UINT64_MAX)
        pm->code_pages[(off >> PAGE_SHIFT) / 8] &= (uint8_t)~(1u << ((off >> PAGE_SHIFT) % 8));
}

bool physmem_is_code(const struct physmem *pm, gpa_t gpa)
{
    uint64_t off = physmem_ram_offset(pm, gpa);
    return off != UINT64_MAX && (pm->code_pages[(off >> PAGE_SHIFT) / 8] >> ((off >> PAGE_SHIFT) % 8)) & 1;
}
