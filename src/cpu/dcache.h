/* The decoded-block cache: blocks of decoded instructions keyed by (guest-physical address,
 * decode mode), a direct-mapped lookup on linear RIP, and invalidation on writes to code pages. */
#ifndef HVEMU_CPU_DCACHE_H
#define HVEMU_CPU_DCACHE_H

#include "cpu/vcpu.h"

#define BLOCK_MAX_INSNS 64

struct block {
    gpa_t gpa;              /* guest-physical address of the first byte */
    uint8_t mode;
    bool dead;
    uint16_t n;             /* instructions, not counting the terminator */
    struct block *hnext;    /* hash chain */
    struct block *pnext;    /* chain of blocks decoded from the same page */
    struct insn insns[];    /* n + 1: the last is a terminator (OP_END) */
};

#define DC_HASH 4096
#define DC_PAGES 4096
#define DC_LOOKUP 1024
#define DC_ARENA (8u << 20)

struct dc_lookup {
    uint64_t rip;
    uint32_t ctx;           /* 0 = empty; else 0x100 | mode | mmu_idx << 2 */
    struct block *b;
};

struct dcache {
    struct dc_lookup lk[DC_LOOKUP];
    struct block *hash[DC_HASH];
    struct block *pages[DC_PAGES];
    uint64_t pmask[DC_PAGES]; /* 64-byte chunks holding decoded code, per page slot (a superset) */
    uint8_t *arena;
    size_t used;
    uint64_t generation;    /* physmem generation the cache was built under */
    struct block *scratch;  /* an uncached one-instruction block (page-crossing instruction) */
};

/* Shared by all VPs of one physmem: the code-write hook reaches every VP's cache through it. */
struct code_hub {
    struct vcpu *first;
};

int dcache_attach(struct vcpu *vp);
void dcache_detach(struct vcpu *vp);
void dcache_flush_lookup(struct vcpu *vp);
/* A store of len bytes at gpa (one page, which holds decoded code) by this VP: drop, on every
 * VP, only the blocks decoded from the bytes it overwrites, so data sharing a page with code
 * does not cost the whole page's blocks. */
void dcache_code_store(struct vcpu *vp, gpa_t gpa, unsigned len);
void dcache_flush_all(struct vcpu *vp);
/* The block to run at vp->rip (decoding it if needed); raises a fault through cpu_fault on a
 * fetch fault. dcache_lookup is the inline hit path. */
struct block *dcache_get(struct vcpu *vp);

static inline uint32_t dc_ctx(const struct vcpu *vp)
{
    return 0x100u | vp->mode | (uint32_t)vp->mmu_idx << 2;
}


/* The cached block at vp->rip, or NULL when the direct-mapped lookup misses. */
static inline struct block *dcache_peek(struct vcpu *vp)
{
    struct dcache *dc = vp->dc;
    uint64_t rip = vp->rip;
    if (vp->mode != MODE_64)
        rip = (rip + vp->sbase[SEG_CS]) & 0xffffffffull;
    struct dc_lookup *le = &dc->lk[(rip ^ (rip >> 10)) & (DC_LOOKUP - 1)];
    if (likely(le->ctx == dc_ctx(vp) && le->rip == rip)) {
        vp->stats.decode_hits += le->b->n;
        return le->b;
    }
    return NULL;
}

static inline struct block *dcache_lookup(struct vcpu *vp)
{
    struct dcache *dc = vp->dc;
    uint64_t rip = vp->rip;
    if (vp->mode != MODE_64)
        rip = (rip + vp->sbase[SEG_CS]) & 0xffffffffull;
    struct dc_lookup *le = &dc->lk[(rip ^ (rip >> 10)) & (DC_LOOKUP - 1)];
    if (likely(le->ctx == dc_ctx(vp) && le->rip == rip)) {
        vp->stats.decode_hits += le->b->n;
        return le->b;
    }
    return dcache_get(vp);
}

#endif
