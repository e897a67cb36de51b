/* Segment registers: descriptor reads, the protected-mode load checks (SDM Vol 3 5.5-5.8), and
 * the derived addressing state (bases, limit checking). */
#include "cpu/intr.h"
#include "cpu/mem.h"
#include "cpu/seglimit.h"

void seg_commit(struct vcpu *vp, unsigned seg, const struct seg *s)
{
    vp->seg[seg] = *s;
    if (seg == SEG_CS || seg == SEG_SS)
        vcpu_update_mode(vp);
    else
        seg_update_base(vp, seg);
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

/* SDM Vol 3 3.4.5.1: a load sets the descriptor's accessed bit in memory; the write can fault
 * (#PF on a read-only page), which faults the load. Returns 0 or the vector and *err. */
static int set_accessed(struct vcpu *vp, uint16_t sel, uint64_t lo, uint32_t *err)
{
    if (lo & (1ull << 40))
        return 0;
    uint64_t base = (sel & 4) ? vp->seg[SEG_LDTR].base : vp->gdtr.base;
    uint8_t b = (uint8_t)((lo >> 40) | 1);
    return mem_sys_write(vp, base + (sel & 0xfff8u) + 5, &b, 1, err);
}

int seg_load(struct vcpu *vp, unsigned seg, uint16_t sel, uint32_t *err)
{
    if (!(vp->cr0 & CR0_PE) || (vp->rflags & FL_VM)) {
        seg_load_real(vp, seg, sel);
        return 0;
    }
    unsigned cpl = vp->cpl, rpl = sel & 3;
    if ((sel & 0xfffc) == 0) {
        /* SDM MOV/POP: a null SS only in 64-bit mode, at CPL < 3, with RPL = CPL. */
        if (seg == SEG_SS && (vp->mode != MODE_64 || cpl == 3 || rpl != cpl)) {
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
    v = set_accessed(vp, sel, d[0], err);
    if (v)
        return v;
    s.attr |= 1;
    seg_commit(vp, seg, &s);
    return 0;
}

