/* Second-level stage implemented as an alias window: one physmem's RAM is a range of another's,
 * with code-write notification across every space that sees the same bytes. */
#include "mmu/physmem.h"
#include "mmu/physmem_priv.h"

static uint8_t *alias_translate(void *opaque, uint64_t off, uint64_t *avail)
{
    struct physmem *pm = opaque;
    struct physmem *parent = pm->alias_parent;
    if (!parent || off >= pm->ram_size)
        return NULL;
    /* Straight to the parent's RAM, past its regions and A20: the window maps memory (as EPT
     * would), not the parent's devices, and so never goes stale when the parent's map changes. */
    gpa_t pgpa = pm->alias_base + off;
    uint64_t poff = physmem_ram_offset(parent, pgpa);
    uint64_t room;
    uint8_t *host;
    if (poff == UINT64_MAX)
        return NULL;
    if (parent->stage2.translate) {
        /* A window of a window: the parent resolves its own RAM. */
        host = parent->stage2.translate(parent->stage2.opaque, poff, &room);
    } else {
        host = parent->ram ? parent->ram + poff : NULL;
        room = pgpa < parent->low_size ? parent->low_size - pgpa : parent->ram_size - poff;
    }
    if (!host)
        return NULL;
    uint64_t left = pm->ram_size - off;
    *avail = room < left ? room : left;
    return host;
}

/* A write through the window: the parent and the parent's other windows see it too. */
static void alias_before_write(void *opaque, uint64_t off, uint64_t len)
{
    struct physmem *pm = opaque;
    struct physmem *parent = pm->alias_parent;
    if (!parent)
        return;
    gpa_t pgpa = pm->alias_base + off;
    physmem_code_check(parent, pgpa, len);
    physmem_alias_notify_children(parent, pgpa, len, pm);
    uint64_t poff = physmem_ram_offset(parent, pgpa);
    if (parent->stage2.before_write && poff != UINT64_MAX)
        parent->stage2.before_write(parent->stage2.opaque, poff, len);
}

void physmem_alias_notify_children(struct physmem *pm, gpa_t gpa, uint64_t len,
                                   const struct physmem *exclude)
{
    for (struct physmem *c = pm->alias_children; c; c = c->alias_next) {
        if (c == exclude)
            continue;
        gpa_t lo = gpa > c->alias_base ? gpa : c->alias_base;
        gpa_t end = gpa + len, cend = c->alias_base + c->ram_size;
        gpa_t hi = end < cend ? end : cend;
        /* The child's RAM offsets map to its own gpa layout, split at its low-RAM end. */
        for (uint64_t off = lo - c->alias_base; lo < hi;) {
            bool low = off < c->low_size;
            gpa_t cgpa = low ? off : off - c->low_size + PHYS_HIGHMEM_BASE;
            uint64_t n = hi - lo;
            if (low && c->low_size - off < n)
                n = c->low_size - off;
            physmem_code_check(c, cgpa, n);
            physmem_alias_notify_children(c, cgpa, n, NULL);
            off += n;
            lo += n;
        }
    }
}

int physmem_init_alias(struct physmem *pm, struct physmem *parent, gpa_t parent_base,
                       uint64_t ram_size)
{
    if (pm == parent || (parent_base & (PAGE_SIZE - 1)) || parent_base + ram_size < parent_base) {
        if (pm != parent)
            *pm = (struct physmem){0};
        return -1;
    }
    if (physmem_init_common(pm, ram_size))
        return -1;
    pm->alias_parent = parent;
    pm->alias_base = parent_base;
    pm->stage2 = (struct phys_stage2){alias_translate, alias_before_write, pm};
    pm->alias_next = parent->alias_children;
    parent->alias_children = pm;
    return 0;
}

void physmem_alias_unlink(struct physmem *pm)
{
    struct physmem *parent = pm->alias_parent;
    if (!parent)
        return;
    for (struct physmem **p = &parent->alias_children; *p; p = &(*p)->alias_next) {
        if (*p == pm) {
            *p = pm->alias_next;
            break;
        }
    }
    pm->alias_parent = NULL;
    pm->alias_next = NULL;
    pm->generation++;
}

void physmem_alias_orphan_children(struct physmem *pm)
{
    for (struct physmem *c = pm->alias_children, *next; c; c = next) {
        next = c->alias_next;
        c->alias_parent = NULL;
        c->alias_next = NULL;
        c->generation++;
    }
    pm->alias_children = NULL;
}
