/* Guest-physical map: lookup, byte-exact access with MMIO splitting, overlays, A20, code
 * tracking, and the second-level (GPA -> host) stage with its alias-window implementation. */
#include "mmu/physmem.h"
#include "mmu/physmem_priv.h"

#include <stdlib.h>
#include <string.h>

#define A20_BIT (1ull << 20)

int physmem_init_common(struct physmem *pm, uint64_t ram_size)
{
    memset(pm, 0, sizeof(*pm));
    if (ram_size == 0 || (ram_size & (PAGE_SIZE - 1)))
        return -1;
    pm->code_pages = calloc(1, (ram_size >> PAGE_SHIFT) / 8 + 1);
    if (!pm->code_pages)
        return -1;
    pm->ram_size = ram_size;
    pm->low_size = ram_size < PHYS_LOWMEM_END ? ram_size : PHYS_LOWMEM_END;
    pm->a20_mask = ~0ull;
    return 0;
}

int physmem_init(struct physmem *pm, uint64_t ram_size)
{
    if (physmem_init_common(pm, ram_size))
        return -1;
    /* calloc of a large block is served by fresh zero pages the host commits on first touch,
     * so an unused --mem costs nothing. */
    pm->ram = calloc(1, ram_size);
    if (!pm->ram) {
        free(pm->code_pages);
        memset(pm, 0, sizeof(*pm));
        return -1;
    }
    return 0;
}

void physmem_set_stage2(struct physmem *pm, const struct phys_stage2 *stage2)
{
    free(pm->ram);
    pm->ram = NULL;
    physmem_alias_unlink(pm);
    pm->stage2 = *stage2;
    pm->generation++;
}

void physmem_destroy(struct physmem *pm)
{
    physmem_alias_unlink(pm);
    physmem_alias_orphan_children(pm);
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
    if (size == 0)
        return -1;
    uint8_t *copy = malloc(size);
    if (!copy)
        return -1;
    memcpy(copy, data, size);
    if (add_region(pm, (struct phys_region){base, size, PHYS_ROM, copy, NULL, NULL, name, false})) {
        free(copy);
        return -1;
    }
    return 0;
}

int physmem_map_mmio(struct physmem *pm, gpa_t base, uint64_t size, const struct mmio_ops *ops,
                     void *dev, const char *name)
{
    return add_region(pm, (struct phys_region){base, size, PHYS_MMIO, NULL, ops, dev, name, false});
}

int physmem_map_overlay(struct physmem *pm, gpa_t page, uint8_t *host_page, const char *name,
                        bool readonly)
{
    page &= PAGE_MASK;
    physmem_unmap_overlay(pm, page);
    return add_region(pm, (struct phys_region){page, PAGE_SIZE, PHYS_OVERLAY, host_page, NULL, NULL,
                                               name, readonly});
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

static void lookup_masked(const struct physmem *pm, gpa_t gpa, struct phys_lookup *out)
{
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
        out->avail = (gpa < pm->low_size ? pm->low_size : pm->ram_size - pm->low_size + PHYS_HIGHMEM_BASE) - gpa;
        if (pm->stage2.translate) {
            uint64_t avail = 0;
            out->host = pm->stage2.translate(pm->stage2.opaque, off, &avail);
            if (!out->host || avail == 0) {
                out->kind = PHYS_HOLE;
                out->host = NULL;
                out->avail = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
                return;
            }
            if (avail < out->avail)
                out->avail = avail;
        } else {
            out->host = pm->ram + off;
        }
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
    /* A hole ends where the next region begins, even inside a page. */
    for (unsigned i = 0; i < pm->nregions; i++) {
        const struct phys_region *r = &pm->regions[i];
        if (r->base > gpa && r->base - gpa < out->avail)
            out->avail = r->base - gpa;
    }
}

void physmem_lookup(const struct physmem *pm, gpa_t gpa, struct phys_lookup *out)
{
    gpa_t masked = gpa & pm->a20_mask;
    lookup_masked(pm, masked, out);
    /* With A20 closed the mapping changes at every 1 MiB boundary (the wrap at 1 MiB). */
    if (pm->a20_mask != ~0ull) {
        uint64_t to_boundary = A20_BIT - (gpa & (A20_BIT - 1));
        if (out->avail > to_boundary)
            out->avail = to_boundary;
    }
}

uint8_t *physmem_ram_ptr(struct physmem *pm, gpa_t gpa, uint64_t len)
{
    struct phys_lookup l;
    physmem_lookup(pm, gpa, &l);
    if (l.kind != PHYS_RAM || l.avail < len)
        return NULL;
    return l.host;
}

static bool code_bit(const struct physmem *pm, gpa_t gpa)
{
    uint64_t off = physmem_ram_offset(pm, gpa);
    return off != UINT64_MAX && (pm->code_pages[(off >> PAGE_SHIFT) / 8] >> ((off >> PAGE_SHIFT) % 8)) & 1;
}

/* gpa is the address actually written (A20 already applied, or bypassed by the loader). */
void physmem_code_check(struct physmem *pm, gpa_t gpa, uint64_t len)
{
    if (!pm->code_write || len == 0)
        return;
    for (gpa_t p = gpa & PAGE_MASK; p - (gpa & PAGE_MASK) < len + (gpa & ~PAGE_MASK); p += PAGE_SIZE)
        if (code_bit(pm, p))
            pm->code_write(pm->code_write_opaque, p);
}

static void ram_before_write(struct physmem *pm, gpa_t masked, uint64_t len)
{
    physmem_code_check(pm, masked, len);
    physmem_alias_notify_children(pm, masked, len, NULL);
    if (pm->stage2.before_write) {
        uint64_t off = physmem_ram_offset(pm, masked);
        if (off != UINT64_MAX)
            pm->stage2.before_write(pm->stage2.opaque, off, len);
    }
}

/* Largest naturally aligned MMIO piece (8, 4, 2, 1) at off that fits in n bytes. */
static unsigned mmio_piece(gpa_t off, uint64_t n)
{
    unsigned sz = 8;
    while (sz > 1 && ((off & (sz - 1)) || sz > n))
        sz >>= 1;
    return sz;
}

void physmem_read(struct physmem *pm, gpa_t gpa, void *buf, uint64_t len)
{
    uint8_t *dst = buf;
    while (len) {
        struct phys_lookup l;
        physmem_lookup(pm, gpa, &l);
        uint64_t n = len < l.avail ? len : l.avail;
        if (l.kind == PHYS_MMIO) {
            gpa_t off = (gpa & pm->a20_mask) - l.region->base;
            unsigned sz = mmio_piece(off, n);
            uint64_t v = l.region->ops && l.region->ops->read ? l.region->ops->read(l.region->dev, off, sz)
                                                              : ~0ull;
            for (unsigned i = 0; i < sz; i++)
                dst[i] = (uint8_t)(v >> (8 * i));
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
            gpa_t off = (gpa & pm->a20_mask) - l.region->base;
            unsigned sz = mmio_piece(off, n);
            uint64_t v = 0;
            for (unsigned i = 0; i < sz; i++)
                v |= (uint64_t)src[i] << (8 * i);
            if (l.region->ops && l.region->ops->write)
                l.region->ops->write(l.region->dev, off, v, sz);
            n = sz;
        } else if (l.kind == PHYS_RAM) {
            ram_before_write(pm, gpa & pm->a20_mask, n);
            memcpy(l.host, src, n);
        } else if (l.kind == PHYS_OVERLAY && l.host && !l.region->readonly) {
            memcpy(l.host, src, n);
        }
        src += n;
        gpa += n;
        len -= n;
    }
}

uint64_t physmem_read_u(struct physmem *pm, gpa_t gpa, unsigned size)
{
    uint8_t b[8] = {0};
    if (size > 8)
        size = 8;
    struct phys_lookup l;
    physmem_lookup(pm, gpa, &l);
    /* Page-table walks land here: skip the general loop when one mapping holds it all. */
    if (l.host && l.kind != PHYS_MMIO && l.avail >= size)
        memcpy(b, l.host, size);
    else
        physmem_read(pm, gpa, b, size);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

void physmem_write_u(struct physmem *pm, gpa_t gpa, uint64_t value, unsigned size)
{
    uint8_t b[8];
    if (size > 8)
        size = 8;
    for (unsigned i = 0; i < size; i++)
        b[i] = (uint8_t)(value >> (8 * i));
    physmem_write(pm, gpa, b, size);
}

int physmem_load(struct physmem *pm, gpa_t gpa, const void *data, uint64_t len)
{
    const uint8_t *src = data;
    /* Check first so a failed load leaves memory untouched. */
    for (uint64_t done = 0; done < len;) {
        uint64_t off = physmem_ram_offset(pm, gpa + done);
        if (off == UINT64_MAX || gpa + done < gpa)
            return -1;
        uint64_t room = gpa + done < pm->low_size ? pm->low_size - (gpa + done) : pm->ram_size - off;
        done += room < len - done ? room : len - done;
    }
    while (len) {
        uint64_t off = physmem_ram_offset(pm, gpa);
        uint64_t n = len;
        uint8_t *host;
        if (pm->stage2.translate) {
            uint64_t avail = 0;
            host = pm->stage2.translate(pm->stage2.opaque, off, &avail);
            if (!host || avail == 0)
                return -1;
            if (avail < n)
                n = avail;
        } else {
            uint64_t room = gpa < pm->low_size ? pm->low_size - gpa : pm->ram_size - off;
            if (room < n)
                n = room;
            host = pm->ram + off;
        }
        ram_before_write(pm, gpa, n);
        memcpy(host, src, n);
        src += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

void physmem_set_a20(struct physmem *pm, bool enabled)
{
    uint64_t mask = enabled ? ~0ull : ~A20_BIT;
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

/* Code tracking is by the RAM page actually touched, so A20 applies. */
static uint64_t code_page_index(const struct physmem *pm, gpa_t gpa)
{
    uint64_t off = physmem_ram_offset(pm, gpa & pm->a20_mask);
    return off == UINT64_MAX ? UINT64_MAX : off >> PAGE_SHIFT;
}

void physmem_mark_code(struct physmem *pm, gpa_t gpa)
{
    uint64_t i = code_page_index(pm, gpa);
    if (i != UINT64_MAX)
        pm->code_pages[i / 8] |= (uint8_t)(1u << (i % 8));
}

void physmem_clear_code(struct physmem *pm, gpa_t gpa)
{
    uint64_t i = code_page_index(pm, gpa);
    if (i != UINT64_MAX)
        pm->code_pages[i / 8] &= (uint8_t)~(1u << (i % 8));
}

bool physmem_is_code(const struct physmem *pm, gpa_t gpa)
{
    return code_bit(pm, gpa & pm->a20_mask);
}
