/* Event delivery through the IVT/IDT (SDM Vol 3 6.12, 6.14, INT n pseudo-code): interrupt and
 * trap gates with their privilege and stack checks, virtual-8086 mode, IDT task gates (task.c),
 * the error codes with EXT/IDT bits (6.13) and the double-fault rules (Table 6-5). */
#include "cpu/intr.h"

#include "cpu/flags.h"
#include "cpu/mem.h"
#include "cpu/task.h"

/* Contributory exceptions (SDM Vol 3 Table 6-4). */
static bool contributory(unsigned v)
{
    return v == EXC_DE || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP;
}

static bool vec_has_err(unsigned v)
{
    return v == EXC_DF || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP ||
           v == EXC_PF || v == EXC_AC;
}

struct frame {
    unsigned vec;
    enum ev_kind kind;
    bool has_err;
    uint32_t err;
    uint64_t ret_rip;
    uint32_t ext; /* EXT bit of error codes caused by this delivery */
};

/* Error codes that name a selector or IDT entry carry EXT; a #PF's does not. */
static int with_ext(int v, uint32_t *err, uint32_t ext)
{
    if (v && v != EXC_PF)
        *err |= ext;
    return v;
}

bool stack_room(const struct seg *ss, uint64_t sp, unsigned n)
{
    uint64_t top = (ss->attr & (1u << 14)) ? 0xffffffffull : 0xffff;
    uint64_t lo = (sp - n) & top, hi = (sp - 1) & top;
    if (n == 0)
        return true;
    if (lo > hi)
        return false; /* the pushes would wrap around the stack's address space */
    if (ss->attr & 4) /* expand-down data: valid offsets are limit+1 .. top */
        return lo > ss->limit;
    return hi <= ss->limit;
}

int stack_write(struct vcpu *vp, unsigned ncpl, gva_t la, uint64_t v, unsigned w, uint32_t *err)
{
    if (ncpl < 3)
        return mem_sys_write(vp, la, &v, w, err);
    /* Only a CPL 3 -> CPL 3 transfer pushes at CPL 3: vp->cpl is still 3 here. */
    return cpu_write_virt(vp, la, &v, w, err);
}

int tss_stack(struct vcpu *vp, unsigned dpl, unsigned ist, uint64_t *sp, uint16_t *ss, uint32_t *err)
{
    const struct seg *tr = &vp->seg[SEG_TR];
    if (vp->efer & EFER_LMA) {
        uint32_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * dpl;
        *ss = (uint16_t)dpl; /* IA-32e: a null SS with RPL = new CPL */
        if (off + 7 > tr->limit) {
            *err = tr->sel & 0xfffc;
            return EXC_TS;
        }
        return mem_sys_read(vp, tr->base + off, sp, 8, err);
    }
    unsigned t = tr->attr & 0xf;
    bool tss32 = t == 0x9 || t == 0xb;
    uint32_t off = tss32 ? 4 + 8 * dpl : 2 + 4 * dpl;
    unsigned w = tss32 ? 4 : 2;
    if (off + 2 * w - 1 > tr->limit) {
        *err = tr->sel & 0xfffc;
        return EXC_TS;
    }
    uint32_t sp32 = 0;
    *ss = 0;
    int v = mem_sys_read(vp, tr->base + off, &sp32, w, err);
    if (!v)
        v = mem_sys_read(vp, tr->base + off + w, ss, 2, err);
    *sp = sp32;
    return v;
}

int new_stack_seg(struct vcpu *vp, uint16_t ssel, unsigned ncpl, struct seg *ss, uint32_t *err)
{
    *err = ssel & 0xfffc;
    if ((ssel & 0xfffc) == 0)
        return EXC_TS;
    uint64_t d[2];
    uint32_t e;
    int v = desc_read(vp, ssel, d, &e);
    if (v == EXC_PF) {
        *err = e;
        return v;
    }
    if (v)
        return EXC_TS;
    desc_to_seg(d, ssel, ss);
    unsigned type = ss->attr & 0xf, dpl = (ss->attr >> 5) & 3;
    if ((ssel & 3) != ncpl || dpl != ncpl || !(ss->attr & 0x10) || (type & 8) || !(type & 2))
        return EXC_TS;
    if (!(ss->attr & 0x80))
        return EXC_SS;
    ss->attr |= 1;
    return 0;
}

static int real_mode_deliver(struct vcpu *vp, const struct frame *f, uint32_t *err)
{
    uint32_t ent;
    if (f->vec * 4u + 3 > vp->idtr.limit) {
        *err = 0;
        return EXC_GP;
    }
    int v = mem_sys_read(vp, vp->idtr.base + f->vec * 4u, &ent, 4, err);
    if (v)
        return v;
    /* Pushed in order: FLAGS, CS, IP. */
    uint64_t sp = vp->gpr[REG_RSP];
    uint16_t order[3] = {(uint16_t)flags_get(vp), vp->seg[SEG_CS].sel, (uint16_t)f->ret_rip};
    for (int k = 0; k < 3; k++) {
        sp = (sp - 2) & 0xffff;
        v = mem_sys_write(vp, (vp->seg[SEG_SS].base + sp) & 0xffffffffull, &order[k], 2, err);
        if (v) {
            *err = 0;
            return EXC_SS;
        }
    }
    vp->gpr[REG_RSP] = (vp->gpr[REG_RSP] & ~0xffffull) | sp;
    vp->rflags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
    seg_load_real(vp, SEG_CS, (uint16_t)(ent >> 16));
    vp->rip = ent & 0xffff;
    return 0;
}

/* An IDT task gate (legacy protected mode only): SDM INT n, TASK-GATE. */
static int task_gate_deliver(struct vcpu *vp, const struct frame *f, const uint64_t g[2],
                             uint32_t *err)
{
    uint16_t tsel = (uint16_t)(g[0] >> 16);
    *err = (tsel & 0xfffc) | f->ext;
    if (tsel & 4)
        return EXC_GP;
    uint64_t d[2];
    int v = desc_read(vp, tsel, d, err);
    if (v)
        return with_ext(v, err, f->ext);
    struct task_req r = {tsel, TASK_INT, f->ret_rip, f->ext, f->has_err, f->err};
    bool committed;
    return task_switch(vp, &r, d, &committed, err);
}

static int pm_deliver(struct vcpu *vp, const struct frame *f, uint32_t *err)
{
    bool lm = vp->efer & EFER_LMA;
    bool v86 = vp->rflags & FL_VM;
    const uint32_t ext = f->ext;
    unsigned esz = lm ? 16 : 8;
    uint32_t gerr = f->vec * 8u + 2 + ext; /* IDT bit set: the error names the gate */
    *err = gerr;
    if (f->vec * esz + esz - 1 > vp->idtr.limit)
        return EXC_GP;
    uint64_t g[2] = {0, 0};
    int v = mem_sys_read(vp, vp->idtr.base + f->vec * esz, g, esz, err);
    if (v)
        return v;
    *err = gerr;
    unsigned type = (g[0] >> 40) & 0x1f, gdpl = (g[0] >> 45) & 3;
    /* SDM Vol 3 6.11, 6.14.1: IA-32e IDTs hold only 64-bit interrupt and trap gates. */
    bool valid = lm ? (type == 0xe || type == 0xf)
                    : (type == 5 || type == 6 || type == 7 || type == 0xe || type == 0xf);
    if (!valid)
        return EXC_GP;
    if ((f->kind == EVK_SOFT || f->kind == EVK_SOFTEXC) && gdpl < vp->cpl)
        return EXC_GP;
    if (!(g[0] & (1ull << 47)))
        return EXC_NP;
    if (type == 5)
        return task_gate_deliver(vp, f, g, err);
    bool trap = type & 1;
    bool gate32 = type & 8;
    uint16_t csel = (uint16_t)(g[0] >> 16);
    uint64_t off = (g[0] & 0xffff) | ((g[0] >> 32) & 0xffff0000ull);
    if (lm)
        off |= g[1] << 32;
    else if (!gate32)
        off &= 0xffff;
    unsigned ist = lm ? (g[0] >> 32) & 7 : 0;
    if ((csel & 0xfffc) == 0) {
        *err = ext;
        return EXC_GP;
    }
    uint64_t d[2];
    v = desc_read(vp, csel, d, err);
    if (v)
        return with_ext(v, err, ext);
    struct seg cs;
    desc_to_seg(d, csel, &cs);
    unsigned dpl = (cs.attr >> 5) & 3;
    *err = (csel & 0xfffc) | ext;
    if (!(cs.attr & 0x10) || !(cs.attr & 8) || dpl > vp->cpl)
        return EXC_GP;
    if (lm && (!(cs.attr & (1u << 13)) || (cs.attr & (1u << 14))))
        return EXC_GP; /* IA-32e handlers run in 64-bit mode */
    if (!(cs.attr & 0x80))
        return EXC_NP;
    bool conforming = cs.attr & 4;
    unsigned ncpl;
    if (!conforming && dpl < vp->cpl) {
        if (v86 && dpl != 0)
            return EXC_GP; /* SDM INT n: from V86 mode only to CPL 0 */
        ncpl = dpl;
    } else {
        if (v86)
            return EXC_GP;
        ncpl = vp->cpl;
    }
    bool sw = ncpl < vp->cpl || ist;
    uint64_t rflags = flags_get(vp);
    uint64_t old_rsp = vp->gpr[REG_RSP];
    struct seg old_ss = vp->seg[SEG_SS];
    uint64_t rsp = old_rsp;
    struct seg nss = old_ss;
    unsigned w = lm ? 8 : gate32 ? 4 : 2;
    uint64_t words[10];
    unsigned n = 0;
    if (v86) {
        words[n++] = vp->seg[SEG_GS].sel;
        words[n++] = vp->seg[SEG_FS].sel;
        words[n++] = vp->seg[SEG_DS].sel;
        words[n++] = vp->seg[SEG_ES].sel;
    }
    if (lm || sw) {
        words[n++] = old_ss.sel;
        words[n++] = old_rsp;
    }
    words[n++] = rflags;
    words[n++] = vp->seg[SEG_CS].sel;
    words[n++] = f->ret_rip;
    if (f->has_err)
        words[n++] = f->err;
    uint32_t sserr = ext; /* #SS error code: the new SS selector when the stack changes */
    if (sw) {
        uint16_t ssel = 0;
        v = tss_stack(vp, ncpl, ist, &rsp, &ssel, err);
        if (v)
            return with_ext(v, err, ext);
        if (lm) {
            /* SDM INT n: a privilege change loads a null SS with RPL = new CPL; an IST switch at
             * the same CPL changes only RSP. */
            if (ncpl < vp->cpl)
                nss = (struct seg){ssel, 0, 0, (1u << 16) | (ncpl << 5)};
        } else {
            v = new_stack_seg(vp, ssel, ncpl, &nss, err);
            if (v)
                return with_ext(v, err, ext);
            sserr = (ssel & 0xfffc) | ext;
        }
    }
    if (lm) {
        rsp &= ~15ull;
        struct paging_state ps;
        paging_state_of(vp, &ps);
        if (!mmu_canonical(&ps, off)) {
            *err = ext;
            return EXC_GP;
        }
    } else {
        if (!stack_room(&nss, rsp, n * w)) {
            *err = sserr;
            return EXC_SS;
        }
        if (off > cs.limit) {
            *err = ext;
            return EXC_GP;
        }
    }
    bool ss32 = lm || (nss.attr & (1u << 14));
    for (unsigned k = 0; k < n; k++) {
        rsp -= w;
        uint64_t a = lm ? rsp : ss32 ? (uint32_t)rsp : (rsp & 0xffff);
        if (!lm)
            a = (nss.base + a) & 0xffffffffull;
        v = stack_write(vp, ncpl, a, words[k], w, err);
        if (v == EXC_PF)
            return v;
        if (v) {
            *err = sserr;
            return EXC_SS;
        }
    }
    /* Commit: flags first, so that the segment loads below see protected mode without VM. */
    vp->rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_VM | FL_RF);
    if (!trap)
        vp->rflags &= ~(uint64_t)FL_IF;
    vp->cpl = (uint8_t)ncpl;
    cs.sel = (uint16_t)((csel & 0xfffc) | ncpl);
    cs.attr |= 1;
    if (sw)
        seg_commit(vp, SEG_SS, &nss);
    seg_commit(vp, SEG_CS, &cs);
    if (v86) {
        /* SDM INT n, INTERRUPT-FROM-VIRTUAL-8086-MODE: the data segments become null. */
        static const unsigned data[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
        for (unsigned k = 0; k < 4; k++) {
            struct seg z = {0, 0, 0, 1u << 16};
            seg_commit(vp, data[k], &z);
        }
    }
    if (lm)
        vp->gpr[REG_RSP] = rsp;
    else if (ss32)
        vp->gpr[REG_RSP] = (uint32_t)rsp;
    else
        vp->gpr[REG_RSP] = (vp->gpr[REG_RSP] & ~0xffffull) | (rsp & 0xffff);
    vp->rip = off;
    vcpu_update_mode(vp);
    return 0;
}

void intr_deliver(struct vcpu *vp, unsigned vec, enum ev_kind kind, bool has_err, uint32_t err,
                  unsigned ilen)
{
    /* SDM Vol 3 6.13: EXT is clear only for faults met while delivering INT n, INT3 or INTO. */
    uint32_t ext = (kind == EVK_SOFT || kind == EVK_SOFTEXC) ? 0 : 1;
    struct frame f = {vec, kind, has_err, err, vp->rip + ilen, ext};
    if (vp->mode != MODE_64)
        f.ret_rip = (uint32_t)f.ret_rip;
    for (int depth = 0; depth < 4; depth++) {
        uint32_t nerr = 0;
        int nv = (vp->cr0 & CR0_PE) ? pm_deliver(vp, &f, &nerr) : real_mode_deliver(vp, &f, &nerr);
        if (!nv)
            return;
        unsigned cur = f.kind == EVK_EXC ? f.vec : 0x100; /* others count as benign */
        if (cur == EXC_DF) {
            vp->shutdown = true; /* triple fault (SDM Vol 3 6.15, interrupt 8) */
            return;
        }
        bool df = (contributory(cur) && contributory((unsigned)nv)) ||
                  (cur == EXC_PF && (contributory((unsigned)nv) || nv == EXC_PF));
        f.kind = EVK_EXC;
        f.ext = 1;
        /* A task switch that committed leaves vp->rip at the new task's first instruction. */
        f.ret_rip = vp->mode == MODE_64 ? vp->rip : (uint32_t)vp->rip;
        if (df) {
            f.vec = EXC_DF;
            f.has_err = true;
            f.err = 0;
        } else {
            f.vec = (unsigned)nv;
            f.has_err = vec_has_err((unsigned)nv);
            f.err = nerr;
        }
    }
    vp->shutdown = true;
}
