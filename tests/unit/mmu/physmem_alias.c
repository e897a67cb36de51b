/* Second-level stage: a physmem whose RAM is a window of another's, and custom translators. */
#include "mmu/mmu.h"

#include <criterion/criterion.h>
#include <string.h>

struct hook_count {
    unsigned n;
    gpa_t last;
};

static void count_hook(void *opaque, gpa_t page)
{
    struct hook_count *h = opaque;
    h->n++;
    h->last = page;
}

Test(physmem_alias, window_shares_parent_ram)
{
    struct physmem parent, child;
    cr_assert_eq(physmem_init(&parent, 64 << 20), 0);
    cr_assert_eq(physmem_init_alias(&child, &parent, 16 << 20, 4 << 20), 0);
    cr_assert_null(child.ram, "a window allocates no RAM of its own");
    physmem_write_u(&child, 0x1000, 0x1122334455667788ull, 8);
    cr_assert_eq(physmem_read_u(&parent, (16 << 20) + 0x1000, 8), 0x1122334455667788ull);
    physmem_write_u(&parent, (16 << 20) + 0x3FFFFC, 0xFEEDF00D, 4);
    cr_assert_eq(physmem_read_u(&child, 0x3FFFFC, 4), 0xFEEDF00D);
    /* The child's own layout: RAM ends at 4 MiB; past it is a hole even though parent RAM goes on. */
    cr_assert_eq(physmem_read_u(&child, 0x3FFFFC, 8), 0xFFFFFFFFFEEDF00Dull);
    physmem_write_u(&child, 0x400000, 0x55, 1);
    cr_assert_eq(physmem_read_u(&parent, (20 << 20), 1), 0);
    /* Host pointers handed out for the TLB point into the parent's block. */
    cr_assert_eq(physmem_ram_ptr(&child, 0x2000, 0x1000), parent.ram + (16 << 20) + 0x2000);
    cr_assert_eq(physmem_load(&child, 0x10, "hi", 2), 0);
    cr_assert_eq(parent.ram[(16 << 20) + 0x11], 'i');
    physmem_destroy(&child);
    physmem_destroy(&parent);
}

Test(physmem_alias, writes_fire_both_code_hooks)
{
    struct physmem parent, child;
    cr_assert_eq(physmem_init(&parent, 64 << 20), 0);
    cr_assert_eq(physmem_init_alias(&child, &parent, 8 << 20, 1 << 20), 0);
    struct hook_count hp = {0}, hc = {0};
    physmem_set_code_hook(&parent, count_hook, &hp);
    physmem_set_code_hook(&child, count_hook, &hc);
    physmem_mark_code(&parent, (8 << 20) + 0x5000);
    physmem_write_u(&child, 0x5008, 1, 4);
    cr_assert_eq(hp.n, 1);
    cr_assert_eq(hp.last, (8 << 20) + 0x5000);
    cr_assert_eq(hc.n, 0);
    physmem_mark_code(&child, 0x6000);
    physmem_write_u(&child, 0x6000, 1, 1);
    cr_assert_eq(hc.n, 1);
    cr_assert_eq(hc.last, 0x6000);
    cr_assert_eq(hp.n, 1);
    /* A write made in the parent reaches the window's code tracking too. */
    physmem_write_u(&parent, (8 << 20) + 0x6FFF, 0xFFFF, 2);
    cr_assert_eq(hc.n, 2);
    cr_assert_eq(hc.last, 0x6000);
    cr_assert_eq(hp.n, 1);
    physmem_destroy(&child);
    physmem_destroy(&parent);
}

Test(physmem_alias, child_map_is_its_own)
{
    struct physmem parent, child;
    cr_assert_eq(physmem_init(&parent, 16 << 20), 0);
    cr_assert_eq(physmem_init_alias(&child, &parent, 0, 16 << 20), 0);
    static uint8_t page[4096];
    memset(page, 0x77, sizeof(page));
    /* An overlay in the child hides the shared RAM for the child only... */
    cr_assert_eq(physmem_map_overlay(&child, 0x9000, page, "simp", false), 0);
    physmem_write_u(&parent, 0x9000, 0x11, 1);
    cr_assert_eq(physmem_read_u(&child, 0x9000, 1), 0x77);
    /* ...and one in the parent does not hide memory from the window (it maps RAM, not devices). */
    static uint8_t ppage[4096];
    cr_assert_eq(physmem_map_overlay(&parent, 0xA000, ppage, "parent", false), 0);
    physmem_write_u(&child, 0xA000, 0x42, 1);
    cr_assert_eq(parent.ram[0xA000], 0x42);
    cr_assert_eq(ppage[0], 0);
    physmem_destroy(&child);
    physmem_destroy(&parent);
}

Test(physmem_alias, window_beyond_parent_ram_is_hole)
{
    struct physmem parent, child;
    cr_assert_eq(physmem_init(&parent, 2 << 20), 0);
    cr_assert_eq(physmem_init_alias(&child, &parent, 1 << 20, 2 << 20), 0);
    physmem_write_u(&parent, 0x1FFFFE, 0xABCD, 2);
    cr_assert_eq(physmem_read_u(&child, 0xFFFFE, 4), 0xFFFFABCD);
    physmem_write_u(&child, 0x100000, 0, 4);
    cr_assert_null(physmem_ram_ptr(&child, 0x100000, 1));
    cr_assert_eq(physmem_load(&child, 0xFFFFF, "ab", 2), -1);
    struct physmem bad;
    cr_assert_eq(physmem_init_alias(&bad, &parent, 0x123, 4096), -1);
    cr_assert_eq(physmem_init_alias(&bad, &parent, 0, 0), -1);
    cr_assert_eq(physmem_init_alias(&bad, &parent, 0xFFFFFFFFFFFFF000ull, 0x2000), -1);
    physmem_destroy(&child);
    physmem_destroy(&parent);
}

/* A custom stage: only even pages are backed, each by one static buffer page. */
struct even_stage {
    uint8_t pages[4][4096];
    unsigned writes;
};

static uint8_t *even_translate(void *opaque, uint64_t off, uint64_t *avail)
{
    struct even_stage *s = opaque;
    uint64_t page = off >> PAGE_SHIFT;
    if (page & 1 || page / 2 >= 4)
        return NULL;
    *avail = PAGE_SIZE - (off & (PAGE_SIZE - 1));
    return s->pages[page / 2] + (off & (PAGE_SIZE - 1));
}

static void even_before_write(void *opaque, uint64_t off, uint64_t len)
{
    ((struct even_stage *)opaque)->writes++;
}

Test(physmem_alias, custom_stage2_translator)
{
    static struct even_stage st;
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 1 << 20), 0);
    struct phys_stage2 s2 = {even_translate, even_before_write, &st};
    physmem_set_stage2(&pm, &s2);
    cr_assert_null(pm.ram);
    physmem_write_u(&pm, 0x2FFE, 0x44332211, 4);   /* page 2 backed, page 3 not */
    cr_assert_eq(st.pages[1][0xFFE], 0x11);
    cr_assert_eq(st.pages[1][0xFFF], 0x22);
    cr_assert_eq(physmem_read_u(&pm, 0x2FFE, 4), 0xFFFF2211);
    cr_assert_eq(st.writes, 1);
    cr_assert_eq(physmem_ram_ptr(&pm, 0x4000, 16), st.pages[2]);
    cr_assert_null(physmem_ram_ptr(&pm, 0x1000, 1));
    /* The walker reads page tables through the stage too. */
    struct paging_state ps = {.cr0 = MMU_CR0_PG, .cr3 = 0x0000};
    memset(st.pages[0], 0, 4096);
    uint32_t pde = 0x4000 | 3, pte = 0x6000 | 3;
    memcpy(st.pages[0], &pde, 4);
    memcpy(st.pages[2], &pte, 4);
    struct walk_req req = {.va = 0x123, .set_ad = true};
    struct walk_result res;
    uint32_t err;
    cr_assert_eq(mmu_walk(&pm, &ps, &req, &res, &err), 0);
    cr_assert_eq(res.gpa, 0x6123);
    cr_assert(st.pages[0][0] & 0x20, "A set through the stage");
    physmem_destroy(&pm);
}

Test(physmem_alias, sibling_and_nested_windows_see_writes)
{
    struct physmem parent, a, b, grand;
    cr_assert_eq(physmem_init(&parent, 32 << 20), 0);
    cr_assert_eq(physmem_init_alias(&a, &parent, 4 << 20, 8 << 20), 0);
    cr_assert_eq(physmem_init_alias(&b, &parent, 8 << 20, 8 << 20), 0);
    cr_assert_eq(physmem_init_alias(&grand, &a, 6 << 20, 2 << 20), 0);
    struct hook_count hp = {0}, ha = {0}, hb = {0}, hg = {0};
    physmem_set_code_hook(&parent, count_hook, &hp);
    physmem_set_code_hook(&a, count_hook, &ha);
    physmem_set_code_hook(&b, count_hook, &hb);
    physmem_set_code_hook(&grand, count_hook, &hg);
    /* Parent page 11 MiB is a's 7 MiB, b's 3 MiB and grand's 1 MiB. */
    gpa_t pp = 11 << 20;
    physmem_mark_code(&b, 3 << 20);
    physmem_mark_code(&grand, 1 << 20);
    physmem_mark_code(&parent, pp);
    physmem_write_u(&a, (7 << 20) + 8, 1, 1);
    cr_assert_eq(hb.n, 1);
    cr_assert_eq(hb.last, 3 << 20);
    cr_assert_eq(hg.n, 1);
    cr_assert_eq(hg.last, 1 << 20);
    cr_assert_eq(hp.n, 1);
    cr_assert_eq(hp.last, pp);
    cr_assert_eq(ha.n, 0);
    physmem_write_u(&grand, (1 << 20) + 8, 2, 1);
    cr_assert_eq(hp.n, 2);
    cr_assert_eq(hb.n, 2);
    cr_assert_eq(hg.n, 2);
    cr_assert_eq(physmem_read_u(&b, (3 << 20) + 8, 1), 2);
    /* b's 0x7000 is a's 4 MiB + 0x7000, outside grand's window. */
    physmem_mark_code(&a, (4 << 20) + 0x7000);
    physmem_mark_code(&grand, 0x7000);
    physmem_write_u(&b, 0x7000, 3, 1);
    cr_assert_eq(ha.n, 1);
    cr_assert_eq(ha.last, (4 << 20) + 0x7000);
    cr_assert_eq(hg.n, 2);
    physmem_destroy(&grand);
    physmem_write_u(&a, (7 << 20) + 8, 1, 1);
    cr_assert_eq(hg.n, 2, "a destroyed window is unlinked");
    physmem_destroy(&b);
    physmem_destroy(&a);
    physmem_destroy(&parent);
}

/* The child's RAM above 3 GiB sits at its own 4 GiB: notifications follow its layout. */
Test(physmem_alias, window_with_high_ram)
{
    struct physmem parent, child;
    cr_assert_eq(physmem_init(&parent, 8ull << 30), 0);
    cr_assert_eq(physmem_init_alias(&child, &parent, PHYS_HIGHMEM_BASE, (3ull << 30) + (1 << 20)), 0);
    struct hook_count hc = {0};
    physmem_set_code_hook(&child, count_hook, &hc);
    physmem_mark_code(&child, PHYS_HIGHMEM_BASE + 0x3000);
    gpa_t pgpa = PHYS_HIGHMEM_BASE + (3ull << 30) + 0x3010;
    physmem_write_u(&parent, pgpa, 0xAB, 1);
    cr_assert_eq(hc.n, 1);
    cr_assert_eq(hc.last, PHYS_HIGHMEM_BASE + 0x3000);
    cr_assert_eq(physmem_read_u(&child, PHYS_HIGHMEM_BASE + 0x3010, 1), 0xAB);
    physmem_destroy(&child);
    physmem_destroy(&parent);
}

Test(physmem_alias, parent_destroyed_first_leaves_a_hole)
{
    struct physmem parent, child;
    cr_assert_eq(physmem_init(&parent, 4 << 20), 0);
    cr_assert_eq(physmem_init_alias(&child, &parent, 0, 1 << 20), 0);
    physmem_write_u(&child, 0x10, 5, 1);
    uint64_t gen = child.generation;
    physmem_destroy(&parent);
    cr_assert_gt(child.generation, gen, "TLBs of the child must drop the stale host pointers");
    cr_assert_eq(physmem_read_u(&child, 0x10, 1), 0xFF);
    physmem_write_u(&child, 0x10, 6, 1);
    cr_assert_null(physmem_ram_ptr(&child, 0, 1));
    cr_assert_eq(physmem_init_alias(&child, &child, 0, 4096), -1);
    physmem_destroy(&child);
}
