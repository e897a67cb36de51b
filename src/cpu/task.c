/* Hardware task switching (SDM Vol 3 7.3 and Table 7-1; the TSS formats of 7.2.1 and 7.6): the
 * checks before the commit point, the saving of the old task, and the loads of the new task's
 * state whose faults belong to the new task. */
#include "cpu/task.h"
#include "cpu/debug.h"

#include "cpu/dcache.h"
#include "cpu/intr.h"
#include "cpu/mem.h"

/* Where a TSS keeps the dynamic task state. Register and selector slots are w bytes apart. */
struct tss_layout {
    uint8_t w;
    uint8_t ip, flags, gpr, seg, ldt;
    uint8_t nseg;     /* ES, CS, SS, DS, then FS, GS in a 32-bit TSS */
    uint8_t limit;    /* smallest valid TSS limit (SDM Table 7-1) */
    uint8_t save_end; /* end of the area a switch saves the old task into */
};
static const struct tss_layout tss32 = {4, 0x20, 0x24, 0x28, 0x48, 0x60, 6, 0x67, 0x60};
static const struct tss_layout tss16 = {2, 0x0e, 0x10, 0x12, 0x22, 0x2a, 4, 0x2b, 0x2a};
#define TSS32_CR3 0x1c
#define TSS32_TRAP 0x64

static uint32_t get(const uint8_t *p, unsigned w)
{
    return w == 4 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                  : (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static void put(uint8_t *p, unsigned w, uint64_t v)
{
    for (unsigned k = 0; k < w; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

/* Set or clear the busy bit (type bit 1) of the TSS descriptor sel in the GDT. */
static int set_busy(struct vcpu *vp, uint16_t sel, bool busy, uint32_t *err)
{
    uint8_t b;
    gva_t a = vp->gdtr.base + (sel & 0xfff8u) + 5;
    int v = mem_sys_read(vp, a, &b, 1, err);
    if (v)
        return v;
    b = busy ? (uint8_t)(b | 2) : (uint8_t)(b & ~2);
    return mem_sys_write(vp, a, &b, 1, err);
}

static void set_accessed(struct vcpu *vp, uint16_t sel, uint64_t lo)
{
    if (lo & (1ull << 40))
        return;
    uint64_t base = (sel & 4) ? vp->seg[SEG_LDTR].base : vp->gdtr.base;
    uint8_t b = (uint8_t)((lo >> 40) | 1);
    uint32_t err;
    mem_sys_write(vp, base + (sel & 0xfff8u) + 5, &b, 1, &err);
}

static int or_ext(int v, uint32_t *err, uint32_t ext)
{
    if (v != EXC_PF)
        *err |= ext;
    return v;
}

static int load_ldt(struct vcpu *vp, uint16_t sel, uint32_t *err)
{
    if ((sel & 0xfffc) == 0)
        return 0;
    *err = sel & 0xfffc;
    if (sel & 4)
        return EXC_TS;
    uint64_t d[2];
    uint32_t e;
    int v = desc_read(vp, sel, d, &e);
    if (v == EXC_PF)
        *err = e;
    if (v)
        return v == EXC_PF ? v : EXC_TS;
    struct seg s;
    desc_to_seg(d, sel, &s);
    if ((s.attr & 0x1f) != 2 || !(s.attr & 0x80))
        return EXC_TS; /* Table 7-1: a not-present LDT is #TS too */
    vp->seg[SEG_LDTR] = s;
    return 0;
}

/* One segment register of the new task (SDM Table 7-1), at the new CPL. */
static int load_seg(struct vcpu *vp, unsigned seg, uint16_t sel, unsigned cpl, uint32_t *err)
{
    unsigned rpl = sel & 3;
    *err = sel & 0xfffc;
    if ((sel & 0xfffc) == 0) {
        if (seg == SEG_CS || seg == SEG_SS)
            return EXC_TS;
        struct seg z = {sel, 0, 0, 1u << 16};
        seg_commit(vp, seg, &z);
        return 0;
    }
    uint64_t d[2];
    uint32_t e;
    int v = desc_read(vp, sel, d, &e);
    if (v == EXC_PF)
        *err = e;
    if (v)
        return v == EXC_PF ? v : EXC_TS;
    struct seg s;
    desc_to_seg(d, sel, &s);
    unsigned type = s.attr & 0xf, dpl = (s.attr >> 5) & 3;
    bool code = type & 8, conforming = code && (type & 4);
    if (!(s.attr & 0x10))
        return EXC_TS;
    int np = EXC_NP;
    if (seg == SEG_CS) {
        if (!code || (conforming ? dpl > rpl : dpl != rpl))
            return EXC_TS;
    } else if (seg == SEG_SS) {
        if (code || !(type & 2) || dpl != cpl || rpl != cpl)
            return EXC_TS;
        np = EXC_SS;
    } else {
        if (code && !(type & 2))
            return EXC_TS;
        if (!conforming && (dpl < cpl || dpl < rpl))
            return EXC_TS;
    }
    if (!(s.attr & 0x80))
        return np;
    set_accessed(vp, sel, d[0]);
    s.attr |= 1;
    seg_commit(vp, seg, &s);
    return 0;
}

/* Step 13 of SDM 7.3: LDTR, CR3, and the segment registers of the new task. */
static int load_new_state(struct vcpu *vp, const uint8_t *img, const struct tss_layout *l,
                          uint32_t *err)
{
    uint16_t sel[SEG_COUNT] = {0};
    for (unsigned s = 0; s < l->nseg; s++)
        sel[s] = (uint16_t)get(img + l->seg + s * l->w, 2);
    /* Until validated, the registers hold the new selectors over their old descriptor
     * caches (SDM 7.3: a handler of a fault raised here cannot rely on them), and the LDT is
     * unusable, so no selector resolves through the old one. */
    for (unsigned s = 0; s < SEG_LDTR; s++)
        vp->seg[s].sel = sel[s];
    uint16_t ldt = (uint16_t)get(img + l->ldt, 2);
    vp->seg[SEG_LDTR] = (struct seg){ldt, 0, 0, 1u << 16};
    if (l == &tss32 && (vp->cr0 & CR0_PG)) {
        uint64_t cr3 = get(img + TSS32_CR3, 4);
        struct paging_state ps = {vp->cr0, cr3, vp->cr4, vp->efer};
        if ((vp->cr4 & CR4_PAE) && mmu_check_pdptes(vp->pm, &ps)) {
            *err = 0;
            return EXC_GP;
        }
        vp->cr3 = cr3;
        if (vp->cr4 & CR4_PGE)
            tlb_flush_nonglobal(&vp->tlb);
        else
            tlb_flush_all(&vp->tlb);
        dcache_flush_lookup(vp);
    }
    int v = load_ldt(vp, ldt, err);
    if (v)
        return v;
    if (vp->rflags & FL_VM) {
        vp->cpl = 3;
        for (unsigned s = 0; s < SEG_LDTR; s++)
            seg_load_real(vp, s, sel[s]);
        return 0;
    }
    unsigned cpl = sel[SEG_CS] & 3;
    vp->cpl = (uint8_t)cpl;
    static const unsigned order[] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
    for (unsigned k = 0; k < 6; k++) {
        v = load_seg(vp, order[k], sel[order[k]], cpl, err);
        if (v)
            return v;
    }
    return 0;
}

/* The error code of an exception delivered through a task gate goes on the new task's stack. */
static int push_error_code(struct vcpu *vp, unsigned w, uint32_t code, uint32_t ext, uint32_t *err)
{
    const struct seg *ss = &vp->seg[SEG_SS];
    bool big = ss->attr & (1u << 14);
    uint64_t sp = vp->gpr[REG_RSP];
    *err = ext;
    if (!stack_room(ss, sp, w))
        return EXC_SS;
    sp -= w;
    uint64_t off = big ? (uint32_t)sp : (sp & 0xffff);
    int v = stack_write(vp, vp->cpl, (ss->base + off) & 0xffffffffull, code, w, err);
    if (v)
        return v == EXC_PF ? v : (*err = ext, EXC_SS);
    vp->gpr[REG_RSP] = big ? (uint32_t)sp : ((vp->gpr[REG_RSP] & ~0xffffull) | (sp & 0xffff));
    return 0;
}

int task_switch(struct vcpu *vp, const struct task_req *r, const uint64_t d[2], bool *committed,
                uint32_t *err)
{
    *committed = false;
    const uint32_t ext = r->ext;
    struct seg nt;
    desc_to_seg(d, r->sel, &nt);
    unsigned type = nt.attr & 0x1f;
    bool busy = type == 3 || type == 0xb, avail = type == 1 || type == 9;
    *err = (r->sel & 0xfffc) | ext;
    if (r->src == TASK_IRET ? !busy : !avail)
        return r->src == TASK_IRET ? EXC_TS : EXC_GP;
    if (!(nt.attr & 0x80))
        return EXC_NP;
    const struct tss_layout *nl = (type & 8) ? &tss32 : &tss16;
    if (nt.limit < nl->limit)
        return EXC_TS;
    struct seg otr = vp->seg[SEG_TR];
    const struct tss_layout *ol = (otr.attr & 8) ? &tss32 : &tss16;
    if (otr.limit < ol->save_end - 1u) {
        *err = (otr.sel & 0xfffc) | ext;
        return EXC_TS;
    }
    /* Both TSSs are read first, so that a #PF on either comes before anything changes. */
    uint8_t img[0x68], old[0x60];
    int v = mem_sys_read(vp, nt.base, img, nl->limit + 1u, err);
    if (!v)
        v = mem_sys_read(vp, otr.base, old, ol->save_end, err);
    if (v)
        return v;
    uint64_t fl = flags_get(vp);
    if (r->src == TASK_IRET)
        fl &= ~(uint64_t)FL_NT; /* step 6: the old task is left with NT clear */
    put(old + ol->ip, ol->w, r->ret_eip);
    put(old + ol->flags, ol->w, fl);
    for (unsigned k = 0; k < 8; k++)
        put(old + ol->gpr + k * ol->w, ol->w, vp->gpr[k]);
    for (unsigned s = 0; s < ol->nseg; s++)
        put(old + ol->seg + s * ol->w, 2, vp->seg[s].sel);
    v = mem_sys_write(vp, otr.base + ol->ip, old + ol->ip, ol->save_end - ol->ip, err);
    if (v)
        return v;
    bool nest = r->src == TASK_CALL || r->src == TASK_INT;
    if ((r->src == TASK_JMP || r->src == TASK_IRET) && (otr.sel & 0xfffc)) {
        v = set_busy(vp, otr.sel, false, err);
        if (v)
            return v;
    }
    if (r->src != TASK_IRET) {
        v = set_busy(vp, r->sel, true, err);
        if (v)
            return v;
    }
    if (nest) {
        v = mem_sys_write(vp, nt.base, &otr.sel, 2, err);
        if (v)
            return v;
    }

    /* Commit point: from here on faults are taken in the new task. */
    *committed = true;
    uint64_t nfl = get(img + nl->flags, nl->w);
    if (nest)
        nfl |= FL_NT;
    vp->dr[7] &= ~0x155ull; /* the local breakpoint enables belong to the old task */
    dbg_update(vp);
    nt.attr |= 2;
    vp->seg[SEG_TR] = nt;
    vp->cr0 |= CR0_TS;
    vp->rip = get(img + nl->ip, nl->w);
    flags_set(vp, nfl, 0xffffffffull);
    for (unsigned k = 0; k < 8; k++) {
        uint64_t x = get(img + nl->gpr + k * nl->w, nl->w);
        vp->gpr[k] = nl->w == 4 ? x : (vp->gpr[k] & ~0xffffull) | x;
    }
    v = load_new_state(vp, img, nl, err);
    vcpu_update_mode(vp);
    if (v)
        return or_ext(v, err, ext);
    if (nl == &tss32 && (img[TSS32_TRAP] & 1)) {
        vp->dr[6] |= 1u << 15; /* DR6.BT: the debug trap of the new TSS (SDM 7.2.1) */
        if (vp->pending_exc == 0xff) {
            vp->pending_exc = EXC_DB;
            vp->pending_has_err = false;
        }
    }
    if (r->has_err) {
        v = push_error_code(vp, nl->w, r->err_code, ext, err);
        if (v)
            return v;
    }
    if (vp->rip > vp->seg[SEG_CS].limit) {
        *err = ext;
        return EXC_GP;
    }
    return 0;
}

int task_return(struct vcpu *vp, uint64_t ret_eip, bool *committed, uint32_t *err)
{
    *committed = false;
    uint16_t link = 0;
    int v = mem_sys_read(vp, vp->seg[SEG_TR].base, &link, 2, err);
    if (v)
        return v;
    *err = link & 0xfffc;
    if (link & 4)
        return EXC_TS;
    uint64_t d[2];
    uint32_t e;
    v = desc_read(vp, link, d, &e);
    if (v == EXC_PF)
        *err = e;
    if (v)
        return v == EXC_PF ? v : EXC_TS;
    struct task_req r = {link, TASK_IRET, ret_eip, 0, false, 0};
    return task_switch(vp, &r, d, committed, err);
}
