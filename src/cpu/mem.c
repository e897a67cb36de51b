/* Memory slow path: page walks, TLB refill, MMIO and code-page writes, page-crossing accesses,
 * instruction fetch, implicit system accesses, and the public virtual-access helpers. */
#include "cpu/mem.h"

#include "cpu/dcache.h"
#include "cpu/debug.h"
#include "cpu/seglimit.h"

NORETURN void cpu_fault(struct vcpu *vp, const struct insn *i, unsigned vec, bool has_err,
                        uint32_t err)
{
    vp->cur = i;
    vp->fault_vec = (uint8_t)vec;
    vp->fault_has_err = has_err;
    vp->fault_err = err;
    longjmp(*vp->jb, 1);
}

NORETURN void cpu_fault_ud(struct vcpu *vp, const struct insn *i)
{
    cpu_fault(vp, i, EXC_UD, false, 0);
}

NORETURN void cpu_fault_gp(struct vcpu *vp, const struct insn *i, uint32_t err)
{
    cpu_fault(vp, i, EXC_GP, true, err);
}

static void check_generation(struct vcpu *vp)
{
    if (vp->tlb_generation != vp->pm->generation) {
        tlb_flush_all(&vp->tlb);
        vp->tlb_generation = vp->pm->generation;
    }
}

/* Translate la for access; on failure return the vector (and *err); cr2 is set for #PF. */
static int translate(struct vcpu *vp, gva_t la, enum mmu_access acc, bool implicit, bool fill,
                     gpa_t *gpa, uint32_t *err)
{
    struct paging_state ps;
    paging_state_of(vp, &ps);
    if (vp->efer & EFER_LMA) {
        if (!mmu_canonical(&ps, la)) {
            *err = 0;
            return EXC_GP;
        }
    } else {
        la &= 0xffffffffull;
    }
    struct walk_req req = {
        .va = la,
        .access = acc,
        .user = !implicit && vp->cpl == 3,
        .implicit = implicit,
        .ac = (vp->rflags & FL_AC) != 0,
        .pkru = 0,
        .set_ad = true,
    };
    struct walk_result res;
    uint32_t pf = 0;
    vp->tlb.misses++;
    if (mmu_walk(vp->pm, &ps, &req, &res, &pf)) {
        vp->cr2 = la;
        *err = pf;
        return EXC_PF;
    }
    *gpa = res.gpa;
    if (fill && !implicit && vp->mmu_idx != TLB_BYPASS) {
        check_generation(vp);
        gpa_t page = res.gpa & PAGE_MASK;
        struct phys_lookup l;
        physmem_lookup(vp->pm, page, &l);
        if (l.host && l.avail >= PAGE_SIZE) {
            bool w = acc == MMU_WRITE && l.kind == PHYS_RAM && res.writable && res.dirty &&
                     !physmem_is_code(vp->pm, page);
            bool x = acc == MMU_EXEC, r = acc != MMU_EXEC;
            /* Keep the other tags of an entry that already maps this page the same way, so
             * code and data on one page do not evict each other. */
            const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
            if (e->gpa_page == page && e->addend == (uintptr_t)l.host - (uintptr_t)(la & PAGE_MASK)) {
                r |= e->tag_r == (la & PAGE_MASK);
                w |= e->tag_w == (la & PAGE_MASK);
                x |= e->tag_x == (la & PAGE_MASK);
            }
            tlb_fill_sized(&vp->tlb, vp->mmu_idx, la, page, l.host, r, w, x, res.global,
                           res.page_size);
        }
    }
    return 0;
}

static gpa_t xlate_or_fault(struct vcpu *vp, const struct insn *i, gva_t la, enum mmu_access acc)
{
    gpa_t gpa = 0;
    uint32_t err = 0;
    int v = translate(vp, la, acc, false, true, &gpa, &err);
    if (v == EXC_GP && i && i->seg == SEG_SS)
        v = EXC_SS; /* SDM Vol 3 6.15: non-canonical stack references raise #SS(0) */
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    return gpa;
}

/* Set icount/RIP exact for a device callout in the middle of a block. */
static void callout_begin(struct vcpu *vp, const struct insn *i, uint64_t *saved_rip)
{
    *saved_rip = vp->rip;
    if (i) {
        vp->icount = vp->ic0 + i->idx;
        vp->rip = vp->rip + i->nxt - i->len;
    }
}

static void phys_read(struct vcpu *vp, const struct insn *i, gpa_t gpa, void *buf, unsigned len)
{
    struct phys_lookup l;
    physmem_lookup(vp->pm, gpa, &l);
    if (l.host && l.avail >= len) {
        memcpy(buf, l.host, len);
        return;
    }
    uint64_t rip;
    callout_begin(vp, i, &rip);
    physmem_read(vp->pm, gpa, buf, len);
    vp->rip = rip;
}

static void phys_write(struct vcpu *vp, const struct insn *i, gpa_t gpa, const void *buf,
                       unsigned len)
{
    struct phys_lookup l;
    physmem_lookup(vp->pm, gpa, &l);
    if (l.kind == PHYS_RAM && l.host && l.avail >= len) {
        gpa_t g = gpa & vp->pm->a20_mask;
        if (physmem_is_code(vp->pm, g))
            dcache_code_store(vp, g, len);
        memcpy(l.host, buf, len);
        return;
    }
    uint64_t rip;
    callout_begin(vp, i, &rip);
    physmem_write(vp->pm, gpa, buf, len);
    vp->rip = rip;
}

gva_t mem_careful(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write)
{
    if (vp->careful & CAREFUL_SEG)
        la = seg_check_access(vp, i, la, len, write);
    if (vp->careful & (CAREFUL_DBG | CAREFUL_AC))
        la = dbg_check_access(vp, i, la, len, write);
    return la;
}

/* After the careful checks passed, an access within one page the TLB already maps is done
 * as the fast path would have done it: segmented code (real mode, non-flat segments) only
 * pays for the segment check, not for a page walk on every access. */
static const struct tlb_entry *tlb_hit(struct vcpu *vp, gva_t la, unsigned len, bool write)
{
    const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
    uint64_t tag = write ? e->tag_w : e->tag_r;
    if (tag == (la & PAGE_MASK) && (la & (PAGE_SIZE - 1)) + len <= PAGE_SIZE) {
        vp->tlb.hits++;
        return e;
    }
    return NULL;
}

void mem_read_buf(struct vcpu *vp, const struct insn *i, gva_t la, void *buf, unsigned len)
{
    if (unlikely(vp->careful)) {
        la = mem_careful(vp, i, la, len, false);
        const struct tlb_entry *e = tlb_hit(vp, la, len, false);
        if (e) {
            memcpy(buf, (const void *)(uintptr_t)(la + e->addend), len);
            return;
        }
    }
    uint8_t *dst = buf;
    while (len) {
        unsigned n = (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
        if (n > len)
            n = len;
        gpa_t gpa = xlate_or_fault(vp, i, la, MMU_READ);
        phys_read(vp, i, gpa, dst, n);
        dst += n;
        la = (la + n) & vp->lin_mask;
        len -= n;
    }
}

uint64_t mem_read_slow(struct vcpu *vp, const struct insn *i, gva_t la, unsigned sz)
{
    uint64_t v = 0;
    mem_read_buf(vp, i, la, &v, sz);
    return v;
}

/* TLFS 3.13: writes to a read-only overlay (the hypercall page) raise #GP(0). */
static void check_writable(struct vcpu *vp, const struct insn *i, gpa_t gpa)
{
    struct phys_lookup l;
    physmem_lookup(vp->pm, gpa, &l);
    if (l.kind == PHYS_OVERLAY && l.region && l.region->readonly)
        cpu_fault_gp(vp, i, 0);
}

void mem_write_buf(struct vcpu *vp, const struct insn *i, gva_t la, const void *buf, unsigned len)
{
    if (unlikely(vp->careful)) {
        la = mem_careful(vp, i, la, len, true);
        const struct tlb_entry *e = tlb_hit(vp, la, len, true);
        if (e) {
            memcpy((void *)(uintptr_t)(la + e->addend), buf, len);
            return;
        }
    }
    /* Translate every page first: a fault on the second page must leave memory untouched. */
    gpa_t gpas[2];
    unsigned lens[2], np = 0;
    gva_t a = la;
    unsigned rem = len;
    while (rem && np < 2) {
        unsigned n = (unsigned)(PAGE_SIZE - (a & (PAGE_SIZE - 1)));
        if (n > rem)
            n = rem;
        gpas[np] = xlate_or_fault(vp, i, a, MMU_WRITE);
        lens[np++] = n;
        a = (a + n) & vp->lin_mask;
        rem -= n;
    }
    for (unsigned k = 0; k < np; k++)
        check_writable(vp, i, gpas[k]);
    const uint8_t *src = buf;
    for (unsigned k = 0; k < np; k++) {
        phys_write(vp, i, gpas[k], src, lens[k]);
        src += lens[k];
    }
    if (rem)
        mem_write_buf(vp, i, a, src, rem);
}

void mem_write_slow(struct vcpu *vp, const struct insn *i, gva_t la, unsigned sz, uint64_t v)
{
    mem_write_buf(vp, i, la, &v, sz);
}

void mem_probe_write(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len)
{
    if (unlikely(vp->careful))
        la = mem_careful(vp, i, la, len, true);
    const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
    if (e->tag_w == (la & PAGE_MASK) && (la & (PAGE_SIZE - 1)) <= PAGE_SIZE - len)
        return;
    check_writable(vp, i, xlate_or_fault(vp, i, la, MMU_WRITE));
    if (((la & (PAGE_SIZE - 1)) + len) > PAGE_SIZE)
        check_writable(vp, i, xlate_or_fault(vp, i, ((la | (PAGE_SIZE - 1)) + 1) & vp->lin_mask,
                                             MMU_WRITE));
}

void mem_probe_read(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len)
{
    if (unlikely(vp->careful))
        la = mem_careful(vp, i, la, len, false);
    const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
    if (e->tag_r == (la & PAGE_MASK) && (la & (PAGE_SIZE - 1)) <= PAGE_SIZE - len)
        return;
    xlate_or_fault(vp, i, la, MMU_READ);
    if (((la & (PAGE_SIZE - 1)) + len) > PAGE_SIZE)
        xlate_or_fault(vp, i, ((la | (PAGE_SIZE - 1)) + 1) & vp->lin_mask, MMU_READ);
}

gpa_t mem_fetch_gpa(struct vcpu *vp, gva_t la)
{
    check_generation(vp);
    const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
    if (e->tag_x == (la & PAGE_MASK))
        return e->gpa_page | (la & (PAGE_SIZE - 1));
    return xlate_or_fault(vp, NULL, la, MMU_EXEC);
}

void mem_code_read(struct vcpu *vp, gpa_t gpa, uint8_t *buf, unsigned len)
{
    while (len) {
        struct phys_lookup l;
        physmem_lookup(vp->pm, gpa, &l);
        unsigned n = l.avail < len ? (unsigned)l.avail : len;
        if (n == 0)
            n = len;
        if (l.host && l.kind != PHYS_MMIO)
            memcpy(buf, l.host, n);
        else
            memset(buf, 0xff, n);
        buf += n;
        gpa += n;
        len -= n;
    }
}

unsigned mem_fetch_bytes(struct vcpu *vp, gva_t la, uint8_t *buf, unsigned len)
{
    unsigned got = 0;
    while (got < len) {
        unsigned n = (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
        if (n > len - got)
            n = len - got;
        gpa_t gpa = 0;
        uint32_t err;
        if (translate(vp, la, MMU_EXEC, false, true, &gpa, &err))
            return got;
        mem_code_read(vp, gpa, buf + got, n);
        got += n;
        la = (la + n) & vp->lin_mask;
    }
    return got;
}

static int sys_access(struct vcpu *vp, gva_t la, void *buf, unsigned len, uint32_t *err, bool wr,
                      bool implicit)
{
    uint8_t *p = buf;
    while (len) {
        unsigned n = (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
        if (n > len)
            n = len;
        gpa_t gpa = 0;
        int v = translate(vp, la, wr ? MMU_WRITE : MMU_READ, implicit, false, &gpa, err);
        if (v)
            return v;
        if (wr)
            physmem_write(vp->pm, gpa, p, n);
        else
            physmem_read(vp->pm, gpa, p, n);
        p += n;
        la = (la + n) & vp->lin_mask;
        len -= n;
    }
    return 0;
}

int mem_sys_read(struct vcpu *vp, gva_t la, void *buf, unsigned len, uint32_t *err)
{
    return sys_access(vp, la, buf, len, err, false, true);
}

int mem_sys_write(struct vcpu *vp, gva_t la, const void *buf, unsigned len, uint32_t *err)
{
    return sys_access(vp, la, (void *)buf, len, err, true, true);
}

int cpu_read_virt(struct vcpu *vp, gva_t va, void *buf, size_t len, uint32_t *error)
{
    uint32_t e = 0;
    int v = len > UINT32_MAX ? EXC_GP : sys_access(vp, va, buf, (unsigned)len, &e, false, false);
    if (error)
        *error = e;
    return v;
}

int cpu_write_virt(struct vcpu *vp, gva_t va, const void *buf, size_t len, uint32_t *error)
{
    uint32_t e = 0;
    int v = len > UINT32_MAX ? EXC_GP
                             : sys_access(vp, va, (void *)buf, (unsigned)len, &e, true, false);
    if (error)
        *error = e;
    return v;
}
