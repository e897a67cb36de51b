/* Event delivery through the IVT/IDT (SDM Vol 3 6.12, 6.14), the double-fault rules (Table 6-5),
 * and descriptor loads with the basic protected-mode checks (SDM Vol 3 5.5-5.8). */
#include "cpu/intr.h"

#include "cpu/flags.h"
#include "cpu/mem.h"

static void set_cpl(struct vcpu *vp, unsigned cpl)
{
    vp->cpl = (uint8_t)cpl;
    vcpu_update_mmu_idx(vp);
}

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
    bool ext; /* EXT bit of error codes caused by this delivery */
};

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
        if (v)
            return EXC_SS;
    }
    vp->gpr[REG_RSP] = (vp->gpr[REG_RSP] & ~0xffffull) | sp;
    vp->rflags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
    seg_load_real(vp, SEG_CS, (uint16_t)(ent >> 16));
    vp->rip = ent & 0xffff;
    return 0;
}

static int read_tss_stack(struct vcpu *vp, unsigned dpl, unsigned ist, uint64_t *rsp, uint16_t *ss,
                          uint32_t *err)
{
    const struct seg *tr = &vp->seg[SEG_TR];
    if (vp->efer & EFER_LMA) {
        uint32_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * dpl;
        if (off + 7 > tr->limit) {
            *err = tr->sel & 0xfffc;
            return EXC_TS;
        }
        return mem_sys_read(vp, tr->base + off, rsp, 8, err);
    }
    bool tss32 = (tr->attr & 0xf) == 0x9 || (tr->attr & 0xf) == 0xb;
    uint32_t off = tss32 ? 4 + 8 * dpl : 2 + 4 * dpl;
    unsigned w = tss32 ? 4 : 2;
    if (off + 2 * w - 1 > tr->limit) {
        *err = tr->sel & 0xfffc;
        return EXC_TS;
    }
    uint32_t sp32 = 0;
    int v = mem_sys_read(vp, tr->base + off, &sp32, w, err);
    if (!v)
        v = mem_sys_read(vp, tr->base + off + w, ss, 2, err);
    *rsp = sp32;
    return v;
}

static int pm_deliver(struct vcpu *vp, const struct frame *f, uint32_t *err)
{
    bool lm = vp->efer & EFER_LMA;
    unsigned esz = lm ? 16 : 8;
    uint32_t gerr = f->vec * 8u + 2 + (f->ext ? 1 : 0);
    if (f->vec * esz + esz - 1 > vp->idtr.limit) {
        *err = gerr;
        return EXC_GP;
    }
    uint64_t g[2] = {0, 0};
    int v = mem_sys_read(vp, vp->idtr.base + f->vec * esz, g, esz, err);
    if (v)
        return v;
    unsigned type = (g[0] >> 40) & 0xf, gdpl = (g[0] >> 45) & 3;
    bool trap = type == 0xf || type == 0x7;
    bool gate32 = type == 0xe || type == 0xf;
    if (lm ? (type != 0xe && type != 0xf) : (type != 0xe && type != 0xf && type != 6 && type != 7)) {
        *err = gerr;
        return EXC_GP; /* task gates are not supported */
    }
    if ((f->kind == EVK_SOFT || f->kind == EVK_SOFTEXC) && gdpl < vp->cpl) {
        *err = gerr;
        return EXC_GP;
    }
    if (!(g[0] & (1ull << 47))) {
        *err = gerr;
        return EXC_NP;
    }
    uint16_t csel = (uint16_t)(g[0] >> 16);
    uint64_t off = (g[0] & 0xffff) | ((g[0] >> 32) & 0xffff0000ull);
    if (lm)
        off |= g[1] << 32;
    unsigned ist = lm ? (g[0] >> 32) & 7 : 0;
    if ((csel & 0xfffc) == 0) {
        *err = f->ext;
        return EXC_GP;
    }
    uint64_t d[2];
    v = desc_read(vp, csel, d, err);
    if (v)
        return v;
    struct seg cs;
    desc_to_seg(d, csel, &cs);
    unsigned dpl = (cs.attr >> 5) & 3;
    if (!(cs.attr & 0x10) || !(cs.attr & 8) || dpl > vp->cpl || (lm && !(cs.attr & (1u << 13)))) {
        *err = (csel & 0xfffc) | f->ext;
        return EXC_GP;
    }
    if (!(cs.attr & 0x80)) {
        *err = (csel & 0xfffc) | f->ext;
        return EXC_NP;
    }
    bool conforming = cs.attr & 4;
    unsigned ncpl = conforming ? vp->cpl : dpl;
    uint64_t rflags = flags_get(vp);
    uint64_t old_rsp = vp->gpr[REG_RSP];
    struct seg old_ss = vp->seg[SEG_SS], old_cs = vp->seg[SEG_CS];
    uint64_t rsp = old_rsp;
    struct seg nss = old_ss;
    bool sw = ncpl < vp->cpl || ist;
    if (sw) {
        uint16_t ssel = 0;
        v = read_tss_stack(vp, ncpl, ist, &rsp, &ssel, err);
        if (v)
            return v;
        if (lm) {
            nss = (struct seg){(uint16_t)ncpl, 0, 0, (1u << 16) | (ncpl << 5)};
        } else {
            uint64_t sd[2];
            v = desc_read(vp, ssel, sd, err);
            if (v)
                return EXC_TS;
            desc_to_seg(sd, ssel, &nss);
        }
    }
    unsigned w = lm ? 8 : gate32 ? 4 : 2;
    if (lm)
        rsp &= ~15ull;
    uint64_t words[6];
    unsigned n = 0;
    if (lm || sw) {
        words[n++] = old_ss.sel;
        words[n++] = old_rsp;
    }
    words[n++] = rflags;
    words[n++] = old_cs.sel;
    words[n++] = f->ret_rip;
    if (f->has_err)
        words[n++] = f->err;
    uint64_t ssbase = lm ? 0 : nss.base;
    bool ss32 = lm || (nss.attr & (1u << 14));
    for (unsigned k = 0; k < n; k++) {
        rsp -= w;
        uint64_t a = ss32 ? rsp : (rsp & 0xffff);
        if (!lm)
            a = (ssbase + (uint32_t)a) & 0xffffffffull;
        v = mem_sys_write(vp, a, &words[k], w, err);
        if (v) {
            if (v == EXC_PF)
                return v;
            *err = sw ? (nss.sel & 0xfffc) : 0;
            return EXC_SS;
        }
    }
    /* Commit. */
    set_cpl(vp, ncpl);
    cs.sel = (uint16_t)((csel & 0xfffc) | ncpl);
    cs.attr |= 1;
    if (sw)
        seg_commit(vp, SEG_SS, &nss);
    seg_commit(vp, SEG_CS, &cs);
    if (lm || ss32)
        vp->gpr[REG_RSP] = lm ? rsp : (uint32_t)rsp;
    else
        vp->gpr[REG_RSP] = (vp->gpr[REG_RSP] & ~0xffffull) | (rsp & 0xffff);
    vp->rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_VM | FL_RF);
    if (!trap)
        vp->rflags &= ~(uint64_t)FL_IF;
    vp->rip = lm ? off : gate32 ? (uint32_t)off : (off & 0xffff);
    vcpu_update_mode(vp);
    return 0;
}

void intr_deliver(struct vcpu *vp, unsigned vec, enum ev_kind kind, bool has_err, uint32_t err,
                  unsigned ilen)
{
    struct frame f = {vec, kind, has_err, err, vp->rip + ilen, kind == EVK_EXT || kind == EVK_NMI};
    if (vp->mode != MODE_64)
        f.ret_rip = (uint32_t)f.ret_rip;
    unsigned prev = 0xff; /* exception whose delivery is under way */
    for (int depth = 0; depth < 4; depth++) {
        uint32_t nerr = 0;
        int nv = (vp->cr0 & CR0_PE) ? pm_deliver(vp, &f, &nerr) : real_mode_deliver(vp, &f, &nerr);
        if (!nv)
            return;
        unsigned cur = f.vec;
        if (kind != EVK_EXC && kind != EVK_SOFTEXC)
            cur = 0x100; /* benign */
        if (cur == EXC_DF) {
            vp->shutdown = true; /* triple fault (SDM Vol 3 6.15, interrupt 8) */
            return;
        }
        bool df = (contributory(cur) && contributory((unsigned)nv)) ||
                  (cur == EXC_PF && (contributory((unsigned)nv) || nv == EXC_PF));
        (void)prev;
        prev = cur;
        kind = EVK_EXC;
        f.kind = EVK_EXC;
        f.ext = true;
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
