/* mmu_tlb_fill: which tags each privilege context gets from a walk, per page kind. */
#include "unit/mmu/pt_builder.h"
#include "mmu/tlb.h"

#include <stdlib.h>

enum target { T_RAM, T_CODE, T_ROM, T_OVERLAY, T_MMIO, T_HOLE };

static const gpa_t target_gpa[] = {
    [T_RAM] = 0x00200000, [T_CODE] = 0x00400000, [T_ROM] = 0xFFFF0000,
    [T_OVERLAY] = 0x00300000, [T_MMIO] = 0xFEC00000, [T_HOLE] = 0xD0000000,
};

struct fill_case {
    const char *name;
    uint64_t leaf;          /* leaf flags besides P */
    uint64_t cr0_set, cr4_set;
    enum target target;
    enum mmu_access walk;   /* the access that caused the fill */
    uint32_t pkru;
    const char *tags;       /* "rwx|rwx|rwx" for mmu_idx 0, 1, 2 ('-' = no tag) */
};

static const struct fill_case fill_cases[] = {
    {"user RW dirty", E_RW | E_US, 0, 0, T_RAM, MMU_WRITE, 0, "rwx|rwx|rwx"},
    {"user RW clean", E_RW | E_US, 0, 0, T_RAM, MMU_READ, 0, "r-x|r-x|r-x"},
    {"user RW already dirty", E_RW | E_US | E_D, 0, 0, T_RAM, MMU_READ, 0, "rwx|rwx|rwx"},
    {"sup RW dirty", E_RW, 0, 0, T_RAM, MMU_WRITE, 0, "rwx|rwx|---"},
    {"sup RO WP=0", E_D, 0, 0, T_RAM, MMU_READ, 0, "rwx|rwx|---"},
    {"sup RO WP=1", E_D, MMU_CR0_WP, 0, T_RAM, MMU_READ, 0, "r-x|r-x|---"},
    {"user RO", E_US | E_D, MMU_CR0_WP, 0, T_RAM, MMU_READ, 0, "r-x|r-x|r-x"},
    {"user SMAP SMEP", E_RW | E_US, 0, MMU_CR4_SMAP | MMU_CR4_SMEP, T_RAM, MMU_WRITE, 0, "---|rw-|rwx"},
    {"user NX", E_RW | E_US | E_XD, 0, 0, T_RAM, MMU_WRITE, 0, "rw-|rw-|rw-"},
    {"code page", E_RW | E_US, 0, 0, T_CODE, MMU_WRITE, 0, "r-x|r-x|r-x"},
    {"ROM", E_RW | E_US, 0, 0, T_ROM, MMU_WRITE, 0, "r-x|r-x|r-x"},
    {"overlay", E_RW | E_US, 0, 0, T_OVERLAY, MMU_WRITE, 0, "r-x|r-x|r-x"},
    {"MMIO", E_RW | E_US, 0, 0, T_MMIO, MMU_WRITE, 0, "---|---|---"},
    {"hole", E_RW | E_US, 0, 0, T_HOLE, MMU_WRITE, 0, "---|---|---"},
    {"PK AD", E_RW | E_US | (1ull << 59), 0, MMU_CR4_PKE, T_RAM, MMU_EXEC, 1u << 2, "--x|--x|--x"},
    {"PK WD WP=0", E_RW | E_US | E_D | (1ull << 59), 0, MMU_CR4_PKE, T_RAM, MMU_EXEC, 2u << 2, "rwx|rwx|r-x"},
};

static uint64_t mmio_read(void *dev, gpa_t off, unsigned size) { return 0; }
static void mmio_write(void *dev, gpa_t off, uint64_t v, unsigned size) {}
static const struct mmio_ops mmio = {mmio_read, mmio_write};

Test(tlb_fill_walk, tags_per_context)
{
    static uint8_t rom[0x10000];
    static uint8_t overlay[4096];
    for (size_t i = 0; i < ARRAY_SIZE(fill_cases); i++) {
        const struct fill_case *c = &fill_cases[i];
        struct ptb b;
        ptb_init(&b, PT_L4);
        cr_assert_eq(physmem_map_rom(&b.pm, target_gpa[T_ROM], rom, sizeof(rom), "rom"), 0);
        cr_assert_eq(physmem_map_overlay(&b.pm, target_gpa[T_OVERLAY], overlay, "ov", false), 0);
        cr_assert_eq(physmem_map_mmio(&b.pm, target_gpa[T_MMIO], 0x1000, &mmio, NULL, "mmio"), 0);
        physmem_mark_code(&b.pm, target_gpa[T_CODE]);
        b.ps.cr0 |= c->cr0_set;
        b.ps.cr4 |= c->cr4_set;
        gva_t va = 0x7000000;
        ptb_map(&b, va, target_gpa[c->target], 4096, E_P | c->leaf);
        struct walk_req req = {.va = va, .access = c->walk, .user = (c->leaf & E_US) != 0, .pkru = 0, .set_ad = true};
        struct walk_result res;
        uint32_t err;
        cr_assert_eq(mmu_walk(&b.pm, &b.ps, &req, &res, &err), 0, "%s: err %#x", c->name, err);
        struct tlb *t = malloc(sizeof(*t));
        tlb_init(t);
        char got[12] = "---|---|---";
        /* The three privilege contexts (TLB_BYPASS is never filled). */
        for (unsigned idx = 0; idx < TLB_BYPASS; idx++) {
            mmu_tlb_fill(t, idx, &b.pm, &b.ps, va, &res, c->pkru);
            uint8_t *r = tlb_lookup_r(t, idx, va + 5), *w = tlb_lookup_w(t, idx, va + 5),
                    *x = tlb_lookup_x(t, idx, va + 5);
            if (r)
                got[idx * 4] = 'r';
            if (w)
                got[idx * 4 + 1] = 'w';
            if (x)
                got[idx * 4 + 2] = 'x';
            uint8_t *p = r ? r : (w ? w : x);
            if (p) {
                struct phys_lookup l;
                physmem_lookup(&b.pm, target_gpa[c->target] + 5, &l);
                cr_assert_eq(p, l.host, "%s: host pointer", c->name);
            }
        }
        cr_assert_str_eq(got, c->tags, "%s", c->name);
        free(t);
        ptb_destroy(&b);
    }
}
