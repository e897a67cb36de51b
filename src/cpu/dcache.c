/* Block cache: hash by (GPA, mode), direct-mapped lookup by RIP, page chains for invalidation.
 * Blocks live in a per-VP arena that is reset as a whole when it fills up (at a block boundary,
 * so no running block is ever freed). Invalidation only marks blocks dead and turns every record
 * into OP_STALE, so a block that rewrites itself leaves after the writing instruction. */
#include <stdlib.h>
#include <string.h>

#include "cpu/dcache.h"
#include "cpu/decode.h"
#include "cpu/mem.h"
#include "cpu/ops.h"
#include "cpu/seglimit.h"

static void hub_code_write(void *opaque, gpa_t page);

static unsigned hash_of(gpa_t gpa, unsigned mode)
{
    uint64_t h = (gpa ^ (gpa >> 12) ^ ((uint64_t)mode << 3)) * 0x9e3779b97f4a7c15ull;
    return (unsigned)(h >> 52) & (DC_HASH - 1);
}

static unsigned page_slot(gpa_t gpa)
{
    return (unsigned)(gpa >> PAGE_SHIFT) & (DC_PAGES - 1);
}

int dcache_attach(struct vcpu *vp)
{
    struct dcache *dc = calloc(1, sizeof(*dc));
    if (!dc)
        return -1;
    dc->arena = malloc(DC_ARENA);
    dc->scratch = malloc(sizeof(struct block) + 2 * sizeof(struct insn));
    if (!dc->arena || !dc->scratch) {
        free(dc->arena);
        free(dc->scratch);
        free(dc);
        return -1;
    }
    vp->dc = dc;
    struct physmem *pm = vp->pm;
    struct code_hub *hub;
    if (pm->code_write == hub_code_write) {
        hub = pm->code_write_opaque;
    } else {
        hub = calloc(1, sizeof(*hub));
        if (!hub) {
            free(dc->arena);
            free(dc->scratch);
            free(dc);
            return -1;
        }
        physmem_set_code_hook(pm, hub_code_write, hub);
    }
    vp->hub = hub;
    vp->hub_next = hub->first;
    hub->first = vp;
    dc->generation = pm->generation;
    return 0;
}

void dcache_detach(struct vcpu *vp)
{
    struct code_hub *hub = vp->hub;
    for (struct vcpu **pp = &hub->first; *pp; pp = &(*pp)->hub_next) {
        if (*pp == vp) {
            *pp = vp->hub_next;
            break;
        }
    }
    if (!hub->first) {
        physmem_set_code_hook(vp->pm, NULL, NULL);
        free(hub);
    }
    free(vp->dc->arena);
    free(vp->dc->scratch);
    free(vp->dc);
    vp->dc = NULL;
}

void dcache_flush_lookup(struct vcpu *vp)
{
    if (vp->dc)
        memset(vp->dc->lk, 0, sizeof(vp->dc->lk));
}

void dcache_flush_all(struct vcpu *vp)
{
    struct dcache *dc = vp->dc;
    memset(dc->lk, 0, sizeof(dc->lk));
    memset(dc->hash, 0, sizeof(dc->hash));
    memset(dc->pages, 0, sizeof(dc->pages));
    memset(dc->pmask, 0, sizeof(dc->pmask));
    dc->used = 0;
    dc->generation = vp->pm->generation;
}

/* The 64-byte chunks of its page that bytes [off, off + len) touch. */
static uint64_t chunk_mask(unsigned off, unsigned len)
{
    unsigned first = off >> 6, last = (off + len - 1) >> 6;
    if (len == 0)
        return 0;
    if (last > 63)
        last = 63;
    uint64_t hi = last == 63 ? ~0ull : (1ull << (last + 1)) - 1;
    return hi & ~((1ull << first) - 1);
}

static uint64_t block_mask(const struct block *b)
{
    return chunk_mask((unsigned)(b->gpa & (PAGE_SIZE - 1)), b->insns[b->n].nxt);
}

/* Recompute a slot's chunk mask from the blocks still chained there. */
static void slot_remask(struct dcache *dc, unsigned slot)
{
    uint64_t m = 0;
    for (struct block *b = dc->pages[slot]; b; b = b->pnext)
        m |= block_mask(b);
    dc->pmask[slot] = m;
}

static void kill_block(struct block *b)
{
    b->dead = true;
    for (unsigned k = 0; k <= b->n; k++)
        b->insns[k].op = OP_STALE;
}

static void drop_dead_lookups(struct dcache *dc)
{
    for (unsigned k = 0; k < DC_LOOKUP; k++)
        if (dc->lk[k].b && dc->lk[k].b->dead)
            dc->lk[k].ctx = 0;
}

static void invalidate_page(struct vcpu *vp, gpa_t page)
{
    struct dcache *dc = vp->dc;
    struct block **pp = &dc->pages[page_slot(page)];
    bool any = false;
    while (*pp) {
        struct block *b = *pp;
        if ((b->gpa & PAGE_MASK) == page) {
            *pp = b->pnext;
            kill_block(b);
            any = true;
        } else {
            pp = &b->pnext;
        }
    }
    if (any) {
        vp->stats.code_invalidations++;
        drop_dead_lookups(dc);
        slot_remask(dc, page_slot(page));
    }
}

void dcache_code_store(struct vcpu *vp, gpa_t gpa, unsigned len)
{
    gpa_t page = gpa & PAGE_MASK;
    bool left = false;
    unsigned slot = page_slot(page);
    uint64_t wmask = chunk_mask((unsigned)(gpa & (PAGE_SIZE - 1)), len);
    for (struct vcpu *o = vp->hub->first; o; o = o->hub_next) {
        struct dcache *dc = o->dc;
        bool killed = false;
        if (!(dc->pmask[slot] & wmask)) {
            /* No decoded byte near the store: the page keeps its code. */
            left = left || dc->pmask[slot];
            continue;
        }
        struct block **pp = &dc->pages[slot];
        while (*pp) {
            struct block *b = *pp;
            if ((b->gpa & PAGE_MASK) != page) {
                pp = &b->pnext;
                continue;
            }
            gpa_t end = b->gpa + b->insns[b->n].nxt;
            if (gpa < end && b->gpa < gpa + len) {
                *pp = b->pnext;
                kill_block(b);
                killed = true;
            } else {
                left = true;
                pp = &b->pnext;
            }
        }
        if (killed) {
            o->stats.code_invalidations++;
            drop_dead_lookups(dc);
            slot_remask(dc, slot);
        }
    }
    if (!left)
        physmem_clear_code(vp->pm, page);
}

static void hub_code_write(void *opaque, gpa_t page)
{
    struct code_hub *hub = opaque;
    struct physmem *pm = hub->first ? hub->first->pm : NULL;
    for (struct vcpu *vp = hub->first; vp; vp = vp->hub_next)
        invalidate_page(vp, page);
    if (pm)
        physmem_clear_code(pm, page);
}

static void mark_code(struct vcpu *vp, gpa_t page)
{
    if (physmem_is_code(vp->pm, page))
        return;
    physmem_mark_code(vp->pm, page);
    for (struct vcpu *o = vp->hub->first; o; o = o->hub_next)
        tlb_drop_write_gpa(&o->tlb, page);
}

static struct block *find(struct dcache *dc, gpa_t gpa, unsigned mode)
{
    for (struct block *b = dc->hash[hash_of(gpa, mode)]; b; b = b->hnext)
        if (b->gpa == gpa && b->mode == mode && !b->dead)
            return b;
    return NULL;
}

/* Build the block that starts at linear rip / physical gpa. */
static struct block *build(struct vcpu *vp, gva_t rip, gpa_t gpa)
{
    struct dcache *dc = vp->dc;
    size_t need = sizeof(struct block) + (BLOCK_MAX_INSNS + 1) * sizeof(struct insn);
    if (dc->used + need > DC_ARENA)
        dcache_flush_all(vp);
    struct block *b = (struct block *)(dc->arena + dc->used);
    b->gpa = gpa;
    b->mode = vp->mode;
    b->dead = false;
    unsigned n = decode_block(vp, rip, gpa, b->insns, BLOCK_MAX_INSNS);
    b->n = (uint16_t)n;
    vp->stats.blocks_built++;
    vp->stats.decode_misses += n;
    if (n == 0 || decode_crossed(b->insns, n, rip)) {
        /* The last instruction crosses into another page: keep the block only if that
         * instruction is not its only one; otherwise run it uncached. */
        if (n <= 1) {
            struct block *s = dc->scratch;
            s->gpa = gpa;
            s->mode = vp->mode;
            s->dead = true;
            s->n = (uint16_t)n;
            memcpy(s->insns, b->insns, (n + 1) * sizeof(struct insn));
            return s;
        }
        n--;
        b->n = (uint16_t)n;
        decode_terminate(b->insns, n);
    }
    dc->used += sizeof(struct block) + (n + 1) * sizeof(struct insn);
    dc->used = (dc->used + 63) & ~(size_t)63;
    unsigned h = hash_of(gpa, vp->mode);
    b->hnext = dc->hash[h];
    dc->hash[h] = b;
    unsigned ps = page_slot(gpa);
    b->pnext = dc->pages[ps];
    dc->pages[ps] = b;
    dc->pmask[ps] |= block_mask(b);
    mark_code(vp, gpa & PAGE_MASK);
    return b;
}

/* SDM Vol 3 5.3: every byte of an instruction must lie within the CS limit. b holds the block
 * at offset vp->rip; return it if it lies wholly within limit, else raise #GP(0) when its first
 * instruction does not, else an uncached copy of the instructions that do, so the next block
 * starts at the first one that does not and faults there. The copy is chained on its page, so
 * a store into its code kills it as it kills b. */
static struct block *fit_cs_limit(struct vcpu *vp, struct block *b, uint64_t limit)
{
    unsigned k = 0;
    while (k < b->n && vp->rip + b->insns[k].nxt - 1 <= limit)
        k++;
    if (k == b->n)
        return b;
    if (k == 0)
        cpu_fault(vp, NULL, EXC_GP, true, 0);
    /* A loop that runs up to the limit finds its copy at the head of the page chain: the only
     * live block there with this address and mode that is shorter than b (b is the one that
     * find() returns). */
    struct dcache *dc = vp->dc;
    unsigned ps = page_slot(b->gpa);
    struct block *h = dc->pages[ps];
    if (h && h != b && h->gpa == b->gpa && h->mode == b->mode && !h->dead && h->n == k)
        return h;
    struct insn head[BLOCK_MAX_INSNS + 1];
    memcpy(head, b->insns, k * sizeof(struct insn));
    gpa_t gpa = b->gpa;
    size_t need = sizeof(struct block) + (k + 1) * sizeof(struct insn);
    if (dc->used + need > DC_ARENA)
        dcache_flush_all(vp);
    struct block *c = (struct block *)(dc->arena + dc->used);
    dc->used = (dc->used + need + 63) & ~(size_t)63;
    c->gpa = gpa;
    c->mode = vp->mode;
    c->dead = false;
    c->n = (uint16_t)k;
    c->hnext = NULL;
    memcpy(c->insns, head, k * sizeof(struct insn));
    decode_terminate(c->insns, k);
    c->pnext = dc->pages[ps];
    dc->pages[ps] = c;
    dc->pmask[ps] |= block_mask(c);
    mark_code(vp, gpa & PAGE_MASK);
    return c;
}

struct block *dcache_get(struct vcpu *vp)
{
    struct dcache *dc = vp->dc;
    uint64_t rip = vp->rip;
    uint64_t limit = seg_fetch_limit(vp);
    if (rip > limit)
        cpu_fault(vp, NULL, EXC_GP, true, 0);
    if (vp->mode != MODE_64)
        rip = (rip + vp->sbase[SEG_CS]) & 0xffffffffull;
    uint32_t ctx = dc_ctx(vp);
    struct dc_lookup *le = &dc->lk[(rip ^ (rip >> 10)) & (DC_LOOKUP - 1)];
    if (likely(le->ctx == ctx && le->rip == rip)) {
        vp->stats.decode_hits += le->b->n;
        return le->b;
    }
    gpa_t gpa = mem_fetch_gpa(vp, rip);
    struct block *b = find(dc, gpa, vp->mode);
    if (b) {
        vp->stats.decode_hits += b->n;
    } else {
        b = build(vp, rip, gpa);
    }
    if (limit != UINT64_MAX) {
        struct block *f = fit_cs_limit(vp, b, limit);
        if (f != b)
            return f;
    }
    if (b->dead)
        return b;
    le->rip = rip;
    le->ctx = ctx;
    le->b = b;
    return b;
}
