/* Physical map: RAM layout, ROM, holes, MMIO splitting, overlays, A20, code tracking, loader. */
#include "mmu/physmem.h"

#include <criterion/criterion.h>
#include <string.h>

/* MMIO device that logs each access and answers byte k of a read at offset o with id ^ (o+k). */
struct mmio_acc {
    gpa_t off;
    unsigned size;
    uint64_t value;
    bool write;
};

struct mmio_log {
    uint8_t id;
    unsigned n;
    struct mmio_acc acc[16];
};

static uint64_t log_read(void *dev, gpa_t off, unsigned size)
{
    struct mmio_log *d = dev;
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= (uint64_t)(uint8_t)(d->id ^ (off + k)) << (8 * k);
    if (d->n < ARRAY_SIZE(d->acc))
        d->acc[d->n++] = (struct mmio_acc){off, size, v, false};
    return v;
}

static void log_write(void *dev, gpa_t off, uint64_t value, unsigned size)
{
    struct mmio_log *d = dev;
    if (d->n < ARRAY_SIZE(d->acc))
        d->acc[d->n++] = (struct mmio_acc){off, size, value, true};
}

static const struct mmio_ops log_ops = {log_read, log_write};

Test(physmem, layout_low_high_and_hole)
{
    struct physmem pm;
    /* 5 GiB: 3 GiB below the PCI hole, 2 GiB from 4 GiB up; calloc leaves it uncommitted. */
    cr_assert_eq(physmem_init(&pm, 5ull << 30), 0);
    cr_assert_eq(pm.low_size, PHYS_LOWMEM_END);
    physmem_write_u(&pm, 0xBFFFFFF8, 0x1122334455667788ull, 8);
    physmem_write_u(&pm, 0x100000000ull, 0xCAFE, 2);
    physmem_write_u(&pm, 0x17FFFFFFCull, 0xDEADBEEF, 4);
    cr_assert_eq(physmem_read_u(&pm, 0xBFFFFFF8, 8), 0x1122334455667788ull);
    cr_assert_eq(physmem_read_u(&pm, 0x100000000ull, 2), 0xCAFE);
    cr_assert_eq(physmem_read_u(&pm, 0x17FFFFFFCull, 4), 0xDEADBEEF);
    cr_assert_eq(pm.ram[(3ull << 30)], 0xFE, "high RAM follows low RAM in the host block");
    /* Read across the end of low RAM into the hole: RAM bytes, then all-ones. */
    cr_assert_eq(physmem_read_u(&pm, 0xBFFFFFFC, 8), 0xFFFFFFFF11223344ull);
    physmem_write_u(&pm, 0xC0000000, 0, 8);
    cr_assert_eq(physmem_read_u(&pm, 0xC0000000, 8), ~0ull, "hole ignores writes");
    cr_assert_eq(physmem_read_u(&pm, 0x180000000ull, 4), 0xFFFFFFFF, "past high RAM");
    cr_assert_eq(physmem_read_u(&pm, 0xFFFFFFFFFFFFFFF0ull, 8), ~0ull);
    cr_assert_null(physmem_ram_ptr(&pm, 0xBFFFFFFC, 8));
    cr_assert_not_null(physmem_ram_ptr(&pm, 0xBFFFFFF8, 8));
    struct phys_lookup l;
    physmem_lookup(&pm, 0xD0000123, &l);
    cr_assert_eq(l.kind, PHYS_HOLE);
    cr_assert_null(l.host);
    physmem_destroy(&pm);
}

Test(physmem, init_rejects_bad_sizes)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 0), -1);
    cr_assert_eq(physmem_init(&pm, 4097), -1);
}

Test(physmem, rom_reads_and_ignores_writes)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
    uint8_t bios[0x1000];
    for (unsigned i = 0; i < sizeof(bios); i++)
        bios[i] = (uint8_t)(i * 7);
    cr_assert_eq(physmem_map_rom(&pm, 0xFFFFF000, bios, sizeof(bios), "bios"), 0);
    /* The ROM copy is private: changing the source later does not change the guest's view. */
    bios[0] = 0x99;
    cr_assert_eq(physmem_read_u(&pm, 0xFFFFF000, 1), 0);
    uint32_t want;
    memcpy(&want, (uint8_t[]){(uint8_t)(0xFF0 * 7), (uint8_t)(0xFF1 * 7), (uint8_t)(0xFF2 * 7), (uint8_t)(0xFF3 * 7)}, 4);
    cr_assert_eq(physmem_read_u(&pm, 0xFFFFFFF0, 4), want);
    physmem_write_u(&pm, 0xFFFFFFF0, 0, 4);
    cr_assert_eq(physmem_read_u(&pm, 0xFFFFFFF0, 4), want);
    cr_assert_null(physmem_ram_ptr(&pm, 0xFFFFF000, 1));
    /* Overlapping or empty regions are refused. */
    cr_assert_eq(physmem_map_rom(&pm, 0xFFFFF800, bios, 0x100, "dup"), -1);
    cr_assert_eq(physmem_map_rom(&pm, 0xE0000, bios, 0, "empty"), -1);
    cr_assert_eq(physmem_map_mmio(&pm, 0xFFFFFFFFFFFFF000ull, 0x2000, &log_ops, NULL, "wrap"), -1);
    physmem_destroy(&pm);
}

struct split_case {
    const char *name;
    gpa_t gpa;
    unsigned len;
    bool write;
    /* expected accesses: region (0 = A at 0x10000000, 1 = B right after A), offset, size */
    unsigned n;
    struct { unsigned dev; gpa_t off; unsigned size; } want[6];
};

static const struct split_case split_cases[] = {
    {"aligned 8", 0x10000008, 8, false, 1, {{0, 8, 8}}},
    {"aligned 4 write", 0x10000004, 4, true, 1, {{0, 4, 4}}},
    {"misaligned 4", 0x10000002, 4, false, 2, {{0, 2, 2}, {0, 4, 2}}},
    {"misaligned 8 at 1", 0x10000001, 8, true, 4, {{0, 1, 1}, {0, 2, 2}, {0, 4, 4}, {0, 8, 1}}},
    {"16 bytes", 0x10000010, 16, false, 2, {{0, 0x10, 8}, {0, 0x18, 8}}},
    {"3 bytes", 0x10000020, 3, false, 2, {{0, 0x20, 2}, {0, 0x22, 1}}},
    {"straddle A to B", 0x100000FE, 4, true, 2, {{0, 0xFE, 2}, {1, 0, 2}}},
    {"straddle A to B 8", 0x100000FC, 8, false, 2, {{0, 0xFC, 4}, {1, 0, 4}}},
    {"straddle B into hole", 0x100001FE, 4, false, 1, {{1, 0xFE, 2}}},
    {"RAM into C", 0x0009FFFC, 8, false, 1, {{2, 0, 4}}},
    {"RAM into C write", 0x0009FFFE, 4, true, 1, {{2, 0, 2}}},
};

Test(physmem, mmio_split_into_aligned_pieces)
{
    for (size_t i = 0; i < ARRAY_SIZE(split_cases); i++) {
        const struct split_case *c = &split_cases[i];
        struct physmem pm;
        cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
        struct mmio_log dev[3] = {{.id = 0x10}, {.id = 0x20}, {.id = 0x30}};
        gpa_t bases[3] = {0x10000000, 0x10000100, 0x000A0000};
        cr_assert_eq(physmem_map_mmio(&pm, bases[0], 0x100, &log_ops, &dev[0], "A"), 0);
        cr_assert_eq(physmem_map_mmio(&pm, bases[1], 0x100, &log_ops, &dev[1], "B"), 0);
        cr_assert_eq(physmem_map_mmio(&pm, bases[2], 0x1000, &log_ops, &dev[2], "C"), 0);
        memset(pm.ram + 0x9F000, 0x5A, 0x1000);
        uint8_t buf[16], src[16];
        for (unsigned k = 0; k < sizeof(src); k++)
            src[k] = (uint8_t)(0xA0 + k);
        if (c->write)
            physmem_write(&pm, c->gpa, src, c->len);
        else
            physmem_read(&pm, c->gpa, buf, c->len);
        unsigned seen[3] = {0};
        unsigned total = dev[0].n + dev[1].n + dev[2].n;
        cr_assert_eq(total, c->n, "%s: %u accesses", c->name, total);
        for (unsigned k = 0; k < c->n; k++) {
            unsigned d = c->want[k].dev;
            cr_assert_lt(seen[d], dev[d].n, "%s: piece %u missing", c->name, k);
            struct mmio_acc *a = &dev[d].acc[seen[d]++];
            cr_assert_eq(a->off, c->want[k].off, "%s: piece %u offset %#llx", c->name, k, (unsigned long long)a->off);
            cr_assert_eq(a->size, c->want[k].size, "%s: piece %u size %u", c->name, k, a->size);
            cr_assert_eq(a->write, c->write, "%s", c->name);
        }
        /* Every byte lands in (or comes from) the right place. */
        for (unsigned k = 0; k < c->len; k++) {
            gpa_t g = c->gpa + k;
            int d = -1;
            for (int r = 0; r < 3; r++)
                if (g >= bases[r] && g < bases[r] + (r == 2 ? 0x1000 : 0x100))
                    d = r;
            if (c->write) {
                if (d >= 0) {
                    bool found = false;
                    for (unsigned m = 0; m < dev[d].n; m++) {
                        struct mmio_acc *a = &dev[d].acc[m];
                        gpa_t o = g - bases[d];
                        if (o >= a->off && o < a->off + a->size) {
                            cr_assert_eq((uint8_t)(a->value >> (8 * (o - a->off))), src[k], "%s: byte %u", c->name, k);
                            found = true;
                        }
                    }
                    cr_assert(found, "%s: byte %u not written", c->name, k);
                } else if (g < (1 << 20)) {
                    cr_assert_eq(pm.ram[g], src[k], "%s: RAM byte %u", c->name, k);
                }
            } else {
                uint8_t want = d >= 0 ? (uint8_t)(dev[d].id ^ (g - bases[d])) : (g < (1 << 20) ? 0x5A : 0xFF);
                cr_assert_eq(buf[k], want, "%s: byte %u = %#x want %#x", c->name, k, buf[k], want);
            }
        }
        physmem_destroy(&pm);
    }
}

Test(physmem, mmio_without_handlers_reads_ones)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
    static const struct mmio_ops none = {NULL, NULL};
    cr_assert_eq(physmem_map_mmio(&pm, 0xFED00000, 0x1000, &none, NULL, "none"), 0);
    physmem_write_u(&pm, 0xFED00000, 1, 4);
    cr_assert_eq(physmem_read_u(&pm, 0xFED00000, 4), 0xFFFFFFFF);
    physmem_destroy(&pm);
}

Test(physmem, overlay_hides_ram_until_unmapped)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
    memset(pm.ram + 0x3000, 0x11, 0x1000);
    static uint8_t page[4096], page2[4096];
    memset(page, 0x22, sizeof(page));
    memset(page2, 0x33, sizeof(page2));
    uint64_t gen = pm.generation;
    cr_assert_eq(physmem_map_overlay(&pm, 0x3456, page, "hypercall", false), 0, "page-aligned down");
    cr_assert_gt(pm.generation, gen);
    cr_assert_eq(physmem_read_u(&pm, 0x3000, 1), 0x22);
    cr_assert_null(physmem_ram_ptr(&pm, 0x3000, 1));
    /* RAM up to the overlay is still one run. */
    cr_assert_not_null(physmem_ram_ptr(&pm, 0x2000, 0x1000));
    cr_assert_null(physmem_ram_ptr(&pm, 0x2000, 0x1001));
    physmem_write_u(&pm, 0x3010, 0x44, 1);
    cr_assert_eq(page[0x10], 0x44);
    cr_assert_eq(pm.ram[0x3010], 0x11);
    /* Remapping the same page replaces the overlay. */
    cr_assert_eq(physmem_map_overlay(&pm, 0x3000, page2, "again", false), 0);
    cr_assert_eq(physmem_read_u(&pm, 0x3010, 1), 0x33);
    gen = pm.generation;
    physmem_unmap_overlay(&pm, 0x3000);
    cr_assert_gt(pm.generation, gen);
    cr_assert_eq(physmem_read_u(&pm, 0x3010, 1), 0x11);
    cr_assert_eq(pm.nregions, 0);
    physmem_unmap_overlay(&pm, 0x3000);
    physmem_destroy(&pm);
}

Test(physmem, region_table_limit)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
    static uint8_t page[4096];
    for (unsigned i = 0; i < PHYS_MAX_REGIONS; i++)
        cr_assert_eq(physmem_map_overlay(&pm, (gpa_t)i << PAGE_SHIFT, page, "ov", false), 0);
    cr_assert_eq(physmem_map_overlay(&pm, (gpa_t)PHYS_MAX_REGIONS << PAGE_SHIFT, page, "one too many", false), -1);
    physmem_destroy(&pm);
}

Test(physmem, a20_wraps_at_one_megabyte)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 4 << 20), 0);
    physmem_write_u(&pm, 0x000000, 0x03020100, 4);
    physmem_write_u(&pm, 0x0FFFFC, 0xFFFEFDFC, 4);
    physmem_write_u(&pm, 0x100000, 0xAAAAAAAA, 4);
    physmem_write_u(&pm, 0x200002, 0xBBCC, 2);
    uint64_t gen = pm.generation;
    physmem_set_a20(&pm, false);
    cr_assert_gt(pm.generation, gen);
    cr_assert_eq(physmem_read_u(&pm, 0x100000, 4), 0x03020100);
    cr_assert_eq(physmem_read_u(&pm, 0x0FFFFE, 4), 0x0100FFFE, "access spanning the wrap");
    cr_assert_eq(physmem_read_u(&pm, 0x300002, 2), 0xBBCC, "bit 20 only");
    physmem_write_u(&pm, 0x10FFEF, 0x77, 1);
    cr_assert_eq(pm.ram[0xFFEF], 0x77);
    cr_assert_eq(pm.ram[0x10FFEF], 0);
    physmem_set_a20(&pm, true);
    cr_assert_eq(physmem_read_u(&pm, 0x100000, 4), 0xAAAAAAAA);
    physmem_destroy(&pm);
}

struct hook_log {
    unsigned n;
    gpa_t pages[8];
    uint8_t seen_first; /* the first byte of the page when the hook ran */
    struct physmem *pm;
};

static void on_code_write(void *opaque, gpa_t page)
{
    struct hook_log *h = opaque;
    if (h->n < ARRAY_SIZE(h->pages))
        h->pages[h->n++] = page;
    h->seen_first = (uint8_t)physmem_read_u(h->pm, page + 0xFFE, 1);
}

Test(physmem, code_write_hook_fires_before_write)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 2 << 20), 0);
    struct hook_log h = {.pm = &pm};
    physmem_set_code_hook(&pm, on_code_write, &h);
    physmem_mark_code(&pm, 0x5123);
    cr_assert(physmem_is_code(&pm, 0x5FFF));
    cr_assert_not(physmem_is_code(&pm, 0x6000));
    pm.ram[0x5FFE] = 0x90;
    physmem_write_u(&pm, 0x5FFE, 0x12345678, 4);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.pages[0], 0x5000);
    cr_assert_eq(h.seen_first, 0x90, "hook runs before the write lands");
    cr_assert_eq(pm.ram[0x5FFE], 0x78);
    physmem_write_u(&pm, 0x4FFF, 0xFFFF, 2);
    cr_assert_eq(h.n, 2);
    physmem_write_u(&pm, 0x7000, 1, 4);
    cr_assert_eq(h.n, 2, "non-code page");
    physmem_load(&pm, 0x5800, "x", 1);
    cr_assert_eq(h.n, 3, "loader writes count too");
    physmem_clear_code(&pm, 0x5000);
    physmem_write_u(&pm, 0x5000, 1, 1);
    cr_assert_eq(h.n, 3);
    /* Outside RAM there is nothing to track. */
    physmem_mark_code(&pm, 0xC0000000);
    cr_assert_not(physmem_is_code(&pm, 0xC0000000));
    /* With A20 closed, code tracking follows the page actually written. */
    physmem_mark_code(&pm, 0x8000);
    physmem_set_a20(&pm, false);
    cr_assert(physmem_is_code(&pm, 0x108000));
    physmem_write_u(&pm, 0x108010, 1, 1);
    cr_assert_eq(h.n, 4);
    cr_assert_eq(h.pages[3], 0x8000);
    /* The loader bypasses A20: it writes 0x108010 itself, which holds no code. */
    cr_assert_eq(physmem_load(&pm, 0x108010, "y", 1), 0);
    cr_assert_eq(h.n, 4);
    cr_assert_eq(pm.ram[0x108010], 'y');
    physmem_destroy(&pm);
}

Test(physmem, load_only_into_ram)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
    uint8_t data[32];
    memset(data, 0xAB, sizeof(data));
    cr_assert_eq(physmem_load(&pm, 0x1000, data, sizeof(data)), 0);
    cr_assert_eq(pm.ram[0x101F], 0xAB);
    cr_assert_eq(physmem_load(&pm, 0xFFFF0, data, sizeof(data)), -1);
    cr_assert_eq(pm.ram[0xFFFF0], 0, "a failed load writes nothing");
    cr_assert_eq(physmem_load(&pm, 0xFFFFFFFFFFFFFFF0ull, data, sizeof(data)), -1);
    physmem_destroy(&pm);
}

Test(physmem, readonly_overlay_ignores_writes)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
    static uint8_t page[4096];
    memset(page, 0xC3, sizeof(page));
    cr_assert_eq(physmem_map_overlay(&pm, 0x5000, page, "hypercall", true), 0);
    physmem_write_u(&pm, 0x5010, 0x90, 1);
    cr_expect_eq(page[0x10], 0xC3, "a read-only overlay must not change");
    cr_expect_eq(physmem_read_u(&pm, 0x5010, 1), 0xC3);
    struct phys_lookup l;
    physmem_lookup(&pm, 0x5010, &l);
    cr_expect(l.kind == PHYS_OVERLAY && l.region->readonly);
    physmem_destroy(&pm);
}
