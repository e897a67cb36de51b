/* Test helper: builds page tables of any paging mode inside a physmem, and the matching
 * control-register state. */
#ifndef HVEMU_TEST_PT_BUILDER_H
#define HVEMU_TEST_PT_BUILDER_H

#include "mmu/mmu.h"

#include <criterion/criterion.h>

enum pt_mode { PT_32, PT_PAE, PT_L4, PT_L5 };

#define PTB_RAM   (64ull << 20)
#define PTB_FIRST 0x100000ull

#define E_P   (1ull << 0)
#define E_RW  (1ull << 1)
#define E_US  (1ull << 2)
#define E_PWT (1ull << 3)
#define E_PCD (1ull << 4)
#define E_A   (1ull << 5)
#define E_D   (1ull << 6)
#define E_PS  (1ull << 7)
#define E_G   (1ull << 8)
#define E_XD  (1ull << 63)

struct ptb {
    struct physmem pm;
    struct paging_state ps;
    enum pt_mode mode;
    gpa_t next;
};

static inline unsigned ptb_entry_bytes(const struct ptb *b) { return b->mode == PT_32 ? 4 : 8; }

static inline unsigned ptb_top_level(const struct ptb *b)
{
    switch (b->mode) {
    case PT_32: return 2;
    case PT_PAE: return 3;
    case PT_L4: return 4;
    default: return 5;
    }
}

/* Linear-address bit where the index of a level's table starts. */
static inline unsigned ptb_shift(const struct ptb *b, unsigned level)
{
    if (b->mode == PT_32)
        return level == 2 ? 22 : 12;
    return 12 + 9 * (level - 1);
}

static inline unsigned ptb_index(const struct ptb *b, gva_t va, unsigned level)
{
    unsigned bits = b->mode == PT_32 ? 10 : (b->mode == PT_PAE && level == 3 ? 2 : 9);
    return (unsigned)(va >> ptb_shift(b, level)) & ((1u << bits) - 1);
}

static inline gpa_t ptb_alloc(struct ptb *b)
{
    gpa_t p = b->next;
    b->next += PAGE_SIZE;
    cr_assert(b->next <= PTB_RAM);
    return p;
}

static inline void ptb_init(struct ptb *b, enum pt_mode mode)
{
    memset(b, 0, sizeof(*b));
    cr_assert_eq(physmem_init(&b->pm, PTB_RAM), 0);
    b->mode = mode;
    b->next = PTB_FIRST;
    b->ps.cr0 = MMU_CR0_PG | 1;
    b->ps.cr3 = ptb_alloc(b);
    switch (mode) {
    case PT_32: b->ps.cr4 = MMU_CR4_PSE; break;
    case PT_PAE: b->ps.cr4 = MMU_CR4_PAE; b->ps.efer = MMU_EFER_NXE; break;
    case PT_L4:
        b->ps.cr4 = MMU_CR4_PAE;
        b->ps.efer = MMU_EFER_LME | MMU_EFER_LMA | MMU_EFER_NXE;
        break;
    case PT_L5:
        b->ps.cr4 = MMU_CR4_PAE | MMU_CR4_LA57;
        b->ps.efer = MMU_EFER_LME | MMU_EFER_LMA | MMU_EFER_NXE;
        break;
    }
}

static inline void ptb_destroy(struct ptb *b) { physmem_destroy(&b->pm); }

static inline uint64_t ptb_get(struct ptb *b, gpa_t a)
{
    return physmem_read_u(&b->pm, a, ptb_entry_bytes(b));
}
static inline void ptb_put(struct ptb *b, gpa_t a, uint64_t v)
{
    physmem_write_u(&b->pm, a, v, ptb_entry_bytes(b));
}

static inline gpa_t ptb_table_of(const struct ptb *b, uint64_t e)
{
    return b->mode == PT_32 ? (e & 0xFFFFF000u) : (e & 0x000FFFFFFFFFF000ull);
}

/* Map va -> pa with a page of size bytes; tables get P|RW|US (P alone for PAE PDPTEs); the leaf
 * gets leaf_flags (PS added for large pages). Returns the leaf entry's address. */
static inline gpa_t ptb_map(struct ptb *b, gva_t va, gpa_t pa, uint64_t size, uint64_t leaf_flags)
{
    unsigned leaf_level = size == PAGE_SIZE ? 1 : (size == (1ull << 30) ? 3 : 2);
    gpa_t table = b->mode == PT_PAE ? (b->ps.cr3 & 0xFFFFFFE0u) : (b->ps.cr3 & ~0xFFFull);
    for (unsigned level = ptb_top_level(b);; level--) {
        gpa_t ea = table + ptb_index(b, va, level) * ptb_entry_bytes(b);
        if (level == leaf_level) {
            uint64_t e = pa | leaf_flags | (level > 1 ? E_PS : 0);
            if (b->mode == PT_32 && level == 2)
                e = (pa & 0xFFC00000u) | (((pa >> 32) & 0xFF) << 13) | leaf_flags | E_PS;
            ptb_put(b, ea, e);
            return ea;
        }
        uint64_t e = ptb_get(b, ea);
        if (!(e & E_P)) {
            e = ptb_alloc(b) | E_P;
            if (!(b->mode == PT_PAE && level == 3))
                e |= E_RW | E_US;
            ptb_put(b, ea, e);
        }
        table = ptb_table_of(b, e);
    }
}

/* Address of the entry at level (1 = PT ... 5 = PML5) used to translate va (tables must exist). */
static inline gpa_t ptb_entry(struct ptb *b, gva_t va, unsigned level)
{
    gpa_t table = b->mode == PT_PAE ? (b->ps.cr3 & 0xFFFFFFE0u) : (b->ps.cr3 & ~0xFFFull);
    for (unsigned l = ptb_top_level(b);; l--) {
        gpa_t ea = table + ptb_index(b, va, l) * ptb_entry_bytes(b);
        if (l == level)
            return ea;
        table = ptb_table_of(b, ptb_get(b, ea));
    }
}

static inline void ptb_modify(struct ptb *b, gva_t va, unsigned level, uint64_t set, uint64_t clear)
{
    gpa_t ea = ptb_entry(b, va, level);
    ptb_put(b, ea, (ptb_get(b, ea) | set) & ~clear);
}

#endif
