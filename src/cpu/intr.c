/* Event delivery through the IVT/IDT (SDM Vol 3 6.12, 6.14), the double-fault rules (Table 6-5),
 * and descriptor loads with the basic protected-mode checks (SDM Vol 3 5.5-5.8). */
#include "cpu/intr.h"

#include "cpu/flags.h"
#include "cpu/mem.h"

void seg_commit(struct vcpu *vp, unsigned seg, const struct seg *s)
{
    vp->seg[seg] = *s;
    if (seg == SEG_CS || seg == SEG_SS)
        vcpu_update_mode(vp);
    else
        vp->sbase[seg] = (vp->mode == MODE_64 && seg != SEG_FS && seg != SEG_GS) ? 0
                         : vp->mode == MODE_64 ? s->base : (uint32_t)s->base;
}

static void set_cpl(struct vcpu *vp, unsigned cpl)
{
    vp->cpl = (uint8_t)cpl;
    vcpu_update_mmu_idx(vp);
}

void seg_load_real(struct vcpu *vp, unsigned seg, uint16_t sel)
{
    struct seg s = vp->seg[seg];
    s.sel = sel;
    s.base = (uint64_t)sel << 4;
    if (vp->rflags & FL_VM) {
        s.limit = 0xffff;
        s.attr = seg == SEG_CS ? 0xfb : 0xf3;
    }
    /* Real mode keeps the cached limit and attributes ("unreal mode"); make the segment
     * usable and present. */
    s.attr = (s.attr & ~(1u << 16)) | 0x80;
    seg_commit(vp, seg, &s);
}

int desc_read(struct vcpu *vp, uint16_t sel, uint64_t d[2], uint32_t *err)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        if (vp->seg[SEG_LDTR].attr & (1u << 16) || !(vp->seg[SEG_LDTR].attr & 0x80)) {
            *err = sel & 0xfffc;
            return EXC_GP;
        }
        base = vp->seg[SEG_LDTR].base;
        limit = vp->seg[SEG_LDTR].limit;
    } else {
        base = vp->gdtr.base;
        limit = vp->gdtr.limit;
    }
    unsigned idx = sel & 0xfff8u;
    if (idx + 7u > limit) {
        *err = sel & 0xfffc;
        return EXC_GP;
    }
    d[1] = 0;
    int v = mem_sys_read(vp, base + idx, &d[0], 8, err);
    if (v)
        return v;
    /* System descriptors are 16 bytes in long mode. */
    if ((vp->efer & EFER_LMA) && !(d[0] & (1ull << 44)) && idx + 15u <= limit)
        v = mem_sys_read(vp, base + idx + 8, &d[1], 8, err);
    return v;
}

void desc_to_seg(const uint64_t d[2], uint16_t sel, struct seg *s)
{
    uint64_t lo = d[0];
    s->sel = sel;
    s->base = ((lo >> 16) & 0xffffff) | ((lo >> 32) & 0xff000000ull);
    if (!(lo & (1ull << 44)))
        s->base |= d[1] << 32;
    uint32_t limit = (uint32_t)((lo & 0xffff) | ((lo >> 32) & 0xf0000));
    if (lo & (1ull << 55))
        limit = (limit << 12) | 0xfff;
    s->limit = limit;
    s->attr = (uint32_t)(((lo >> 40) & 0xff) | (((lo >> 52) & 0xf) << 12));
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

int seg_load(struct vcpu *vp, unsigned seg, uint16_t sel, uint32_t *err)
{
    if (!(vp->cr0 & CR0_PE) || (vp->rflags & FL_VM)) {
        seg_load_real(vp, seg, sel);
        return 0;
    }
    unsigned cpl = vp->cpl, rpl = sel & 3;
    if ((sel & 0xfffc) == 0) {
        if (seg == SEG_SS && (vp->mode != MODE_64 || rpl != cpl)) {
            *err = 0;
            return EXC_GP;
        }
        struct seg s = {sel, 0, 0, 1u << 16};
        if (seg == SEG_SS)
            s.attr |= (uint32_t)cpl << 5;
        seg_commit(vp, seg, &s);
        return 0;
    }
    uint64_t d[2];
    int v = desc_read(vp, sel, d, err);
    if (v)
        return v;
    struct seg s;
    desc_to_seg(d, sel, &s);
    unsigned type = s.attr & 0xf, dpl = (s.attr >> 5) & 3;
    bool code = type & 8;
    *err = sel & 0xfffc;
    if (!(s.attr & 0x10))
        return EXC_GP;
    if (seg == SEG_SS) {
        if (code || !(type & 2) || rpl != cpl || dpl != cpl)
            return EXC_GP;
        if (!(s.attr & 0x80))
            return EXC_SS;
    } else {
        if (code && !(type & 2))
            return EXC_GP; /* execute-only code */
        bool conforming = code && (type & 4);
        if (!conforming && (dpl < cpl || dpl < rpl))
            return EXC_GP;
        if (!(s.attr & 0x80))
            return EXC_NP;
    }
    set_accessed(vp, sel, d[0]);
    s.attr |= 1;
    seg_commit(vp, seg, &s);
    return 0;
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
