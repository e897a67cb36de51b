/* Far control transfers: far JMP/CALL/RET and IRET in real, protected, V86 and long mode. */
#include "cpu/exits.h"
#include "cpu/intr.h"
#include "cpu/ops_inline.h"

static bool pmode(const struct vcpu *vp)
{
    return (vp->cr0 & CR0_PE) && !(vp->rflags & FL_VM);
}

/* Check a far-transfer code-segment target (same privilege); fills *cs. */
static void check_code_target(struct vcpu *vp, const struct insn *i, uint16_t sel, struct seg *cs)
{
    if ((sel & 0xfffc) == 0)
        cpu_fault_gp(vp, i, 0);
    uint64_t d[2];
    uint32_t err;
    int v = desc_read(vp, sel, d, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    desc_to_seg(d, sel, cs);
    unsigned dpl = (cs->attr >> 5) & 3, rpl = sel & 3;
    if (!(cs->attr & 0x10) || !(cs->attr & 8))
        cpu_fault_gp(vp, i, sel & 0xfffc); /* system descriptor (gate/TSS) or data */
    if (cs->attr & 4 ? dpl > vp->cpl : (rpl > vp->cpl || dpl != vp->cpl))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    if (!(cs->attr & 0x80))
        cpu_fault(vp, i, EXC_NP, true, sel & 0xfffc);
    cs->sel = (uint16_t)((sel & 0xfffc) | vp->cpl);
    cs->attr |= 1;
}

static void far_operand(struct vcpu *vp, const struct insn *i, uint16_t *sel, uint64_t *off)
{
    if (i->cc) {
        *off = i->imm;
        *sel = (uint16_t)i->imm2;
        return;
    }
    gva_t la = lin_of(vp, i);
    *off = mem_rd(vp, i, la, i->opsz);
    *sel = (uint16_t)mem_rd(vp, i, lin_seg(vp, i->seg, (ea_of(vp, i) + i->opsz) & amask_tab[i->asz]), 2);
}

int op_JMP_FAR(struct vcpu *vp, const struct insn *i)
{
    uint16_t sel;
    uint64_t off;
    far_operand(vp, i, &sel, &off);
    if (!pmode(vp)) {
        seg_load_real(vp, SEG_CS, sel);
        return end_at(vp, ip_trunc(vp, i->opsz, off));
    }
    struct seg cs;
    check_code_target(vp, i, sel, &cs);
    seg_commit(vp, SEG_CS, &cs);
    return end_at(vp, vp->mode == MODE_64 ? off : ip_trunc(vp, i->opsz, off));
}

int op_CALL_FAR(struct vcpu *vp, const struct insn *i)
{
    uint16_t sel;
    uint64_t off;
    far_operand(vp, i, &sel, &off);
    unsigned sz = i->opsz;
    uint64_t sp = vp->gpr[REG_RSP], m = amask_tab[stack_asz(vp)];
    uint64_t ret = next_ip(vp, i);
    struct seg cs;
    if (pmode(vp))
        check_code_target(vp, i, sel, &cs);
    mem_probe_write(vp, i, lin_seg(vp, SEG_SS, (sp - 2 * sz) & m), 2 * sz);
    mem_wr(vp, i, lin_seg(vp, SEG_SS, (sp - sz) & m), sz, vp->seg[SEG_CS].sel);
    mem_wr(vp, i, lin_seg(vp, SEG_SS, (sp - 2 * sz) & m), sz, ret);
    sp_set(vp, sp - 2 * sz);
    if (!pmode(vp)) {
        seg_load_real(vp, SEG_CS, sel);
        return end_at(vp, ip_trunc(vp, sz, off));
    }
    seg_commit(vp, SEG_CS, &cs);
    return end_at(vp, vp->mode == MODE_64 ? off : ip_trunc(vp, sz, off));
}

/* Drop data segments the new (outer) privilege level may not use (SDM RET/IRET). */
static void null_outer_segs(struct vcpu *vp)
{
    static const unsigned segs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (unsigned k = 0; k < 4; k++) {
        struct seg *s = &vp->seg[segs[k]];
        unsigned dpl = (s->attr >> 5) & 3;
        bool conf_code = (s->attr & 8) && (s->attr & 4);
        if (!(s->attr & (1u << 16)) && !conf_code && dpl < vp->cpl) {
            struct seg n = {0, 0, 0, 1u << 16};
            seg_commit(vp, segs[k], &n);
        }
    }
}

int op_RET_FAR(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t sp = vp->gpr[REG_RSP], m = amask_tab[stack_asz(vp)];
    uint64_t off = mem_rd(vp, i, lin_seg(vp, SEG_SS, sp & m), sz);
    uint16_t sel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + sz) & m), 2);
    uint64_t nsp = sp + 2 * sz + (i->imm & 0xffff);
    if (!pmode(vp)) {
        seg_load_real(vp, SEG_CS, sel);
        sp_set(vp, nsp);
        return end_at(vp, ip_trunc(vp, sz, off));
    }
    unsigned rpl = sel & 3;
    if (rpl < vp->cpl || (sel & 0xfffc) == 0)
        cpu_fault_gp(vp, i, sel & 0xfffc);
    uint64_t d[2];
    uint32_t err;
    int v = desc_read(vp, sel, d, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    struct seg cs;
    desc_to_seg(d, sel, &cs);
    unsigned dpl = (cs.attr >> 5) & 3;
    if (!(cs.attr & 0x10) || !(cs.attr & 8) || (cs.attr & 4 ? dpl > rpl : dpl != rpl))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    if (!(cs.attr & 0x80))
        cpu_fault(vp, i, EXC_NP, true, sel & 0xfffc);
    cs.attr |= 1;
    if (rpl > vp->cpl) {
        uint64_t nrsp = mem_rd(vp, i, lin_seg(vp, SEG_SS, nsp & m), sz);
        uint16_t ssel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (nsp + sz) & m), 2);
        vp->cpl = (uint8_t)rpl;
        seg_commit(vp, SEG_CS, &cs);
        v = seg_load(vp, SEG_SS, ssel, &err);
        if (v)
            cpu_fault(vp, i, (unsigned)v, true, err);
        vp->gpr[REG_RSP] = nrsp;
        sp_set(vp, nrsp + (i->imm & 0xffff));
        null_outer_segs(vp);
    } else {
        seg_commit(vp, SEG_CS, &cs);
        sp_set(vp, nsp);
    }
    vcpu_update_mmu_idx(vp);
    return end_at(vp, vp->mode == MODE_64 ? off : ip_trunc(vp, sz, off));
}

static void iret_flags(struct vcpu *vp, uint64_t nf, unsigned sz, unsigned old_cpl)
{
    uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID;
    unsigned iopl = (unsigned)((vp->rflags & FL_IOPL) >> 12);
    if (!(vp->cr0 & CR0_PE) || old_cpl <= iopl)
        mask |= FL_IF;
    if (!(vp->cr0 & CR0_PE) || old_cpl == 0)
        mask |= FL_IOPL | FL_VIF | FL_VIP;
    if (sz == 2)
        mask &= 0xffff;
    flags_set(vp, nf, mask);
}

int op_IRET(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t sp = vp->gpr[REG_RSP], m = amask_tab[stack_asz(vp)];
    uint64_t off = mem_rd(vp, i, lin_seg(vp, SEG_SS, sp & m), sz);
    uint16_t sel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + sz) & m), 2);
    uint64_t nf = mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 2 * sz) & m), sz);
    unsigned old_cpl = vp->cpl;
    if (!pmode(vp)) {
        if ((vp->rflags & FL_VM) && ((vp->rflags & FL_IOPL) >> 12) < 3)
            cpu_fault_gp(vp, i, 0);
        seg_load_real(vp, SEG_CS, sel);
        sp_set(vp, sp + 3 * sz);
        if (vp->rflags & FL_VM) {
            uint64_t mask = FL_ARITH | FL_TF | FL_IF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID;
            flags_set(vp, nf, sz == 2 ? mask & 0xffff : mask);
        } else {
            iret_flags(vp, nf, sz, 0);
        }
        vp->nmi_blocked = false;
        vcpu_update_mode(vp);
        return end_at(vp, ip_trunc(vp, sz, off));
    }
    if (vp->mode != MODE_64 && (nf & FL_VM) && old_cpl == 0 && sz == 4) {
        /* Return to virtual-8086 mode (SDM IRET): pop ESP, SS, ES, DS, FS, GS. */
        uint32_t w[6];
        for (unsigned k = 0; k < 6; k++)
            w[k] = (uint32_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 12 + 4 * k) & m), 4);
        flags_set(vp, nf, FL_ARITH | FL_TF | FL_IF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID |
                              FL_IOPL | FL_VM | FL_VIF | FL_VIP);
        vp->cpl = 3;
        static const unsigned order[] = {SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS};
        seg_load_real(vp, SEG_CS, sel);
        for (unsigned k = 0; k < 5; k++)
            seg_load_real(vp, order[k], (uint16_t)w[k + 1]);
        vp->gpr[REG_RSP] = w[0];
        vp->nmi_blocked = false;
        vcpu_update_mode(vp);
        return end_at(vp, off & 0xffff);
    }
    unsigned rpl = sel & 3;
    if ((sel & 0xfffc) == 0 || rpl < old_cpl)
        cpu_fault_gp(vp, i, sel & 0xfffc);
    uint64_t d[2];
    uint32_t err;
    int v = desc_read(vp, sel, d, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    struct seg cs;
    desc_to_seg(d, sel, &cs);
    unsigned dpl = (cs.attr >> 5) & 3;
    if (!(cs.attr & 0x10) || !(cs.attr & 8) || (cs.attr & 4 ? dpl > rpl : dpl != rpl))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    if (!(cs.attr & 0x80))
        cpu_fault(vp, i, EXC_NP, true, sel & 0xfffc);
    cs.attr |= 1;
    bool pop_ss = vp->mode == MODE_64 || rpl > old_cpl;
    uint64_t nrsp = 0;
    uint16_t ssel = 0;
    if (pop_ss) {
        nrsp = mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 3 * sz) & m), sz);
        ssel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 4 * sz) & m), 2);
    }
    iret_flags(vp, nf, sz, old_cpl);
    vp->cpl = (uint8_t)rpl;
    seg_commit(vp, SEG_CS, &cs);
    if (pop_ss) {
        if ((ssel & 0xfffc) == 0 && (vp->efer & EFER_LMA) && !(vp->mode != MODE_64 && rpl == 3)) {
            struct seg ns = {ssel, 0, 0, (1u << 16) | (rpl << 5)};
            seg_commit(vp, SEG_SS, &ns);
        } else {
            v = seg_load(vp, SEG_SS, ssel, &err);
            if (v)
                cpu_fault(vp, i, (unsigned)v, true, err);
        }
        vp->gpr[REG_RSP] = sz == 2 ? (vp->gpr[REG_RSP] & ~0xffffull) | (nrsp & 0xffff)
                                   : sz == 4 ? (uint32_t)nrsp : nrsp;
        if (rpl > old_cpl)
            null_outer_segs(vp);
    } else {
        sp_set(vp, sp + 3 * sz);
    }
    vp->nmi_blocked = false;
    vcpu_update_mode(vp);
    return end_at(vp, vp->mode == MODE_64 ? off : ip_trunc(vp, sz, off));
}

