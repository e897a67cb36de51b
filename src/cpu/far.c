/* Far control transfers (SDM JMP, CALL, RET, IRET pseudo-code) in real, protected, virtual-8086
 * and IA-32e mode: call gates with their stack switch and parameter copy (SDM Vol 3 5.8), task
 * switches through TSS descriptors and task gates (task.c), and every form of IRET. */
#include "cpu/exits.h"
#include "cpu/intr.h"
#include "cpu/ops_inline.h"
#include "cpu/task.h"

#define ATTR_L (1u << 13)
#define ATTR_DB (1u << 14)

static bool pmode(const struct vcpu *vp)
{
    return (vp->cr0 & CR0_PE) && !(vp->rflags & FL_VM);
}

static bool canonical(const struct vcpu *vp, uint64_t a)
{
    struct paging_state ps;
    paging_state_of(vp, &ps);
    return mmu_canonical(&ps, a);
}

static bool is_64bit_code(const struct vcpu *vp, const struct seg *cs)
{
    return (vp->efer & EFER_LMA) && (cs->attr & ATTR_L);
}

static void read_desc(struct vcpu *vp, const struct insn *i, uint16_t sel, uint64_t d[2])
{
    uint32_t err;
    int v = desc_read(vp, sel, d, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
}

/* The new instruction pointer must lie within the code segment, or be canonical for 64-bit
 * code: #GP(0). */
static void check_target_ip(struct vcpu *vp, const struct insn *i, const struct seg *cs, uint64_t ip)
{
    if (is_64bit_code(vp, cs) ? !canonical(vp, ip) : ip > cs->limit)
        cpu_fault_gp(vp, i, 0);
}

/* A code-segment descriptor as the target of a direct far JMP/CALL (same privilege). */
static void code_target(struct vcpu *vp, const struct insn *i, uint16_t sel, const uint64_t d[2],
                        struct seg *cs)
{
    desc_to_seg(d, sel, cs);
    unsigned dpl = (cs->attr >> 5) & 3, rpl = sel & 3;
    if (!(cs->attr & 8))
        cpu_fault_gp(vp, i, sel & 0xfffc); /* data segment */
    if (cs->attr & 4 ? dpl > vp->cpl : (rpl > vp->cpl || dpl != vp->cpl))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    if ((vp->efer & EFER_LMA) && (cs->attr & ATTR_L) && (cs->attr & ATTR_DB))
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

/* Finish a task switch started by an instruction: a fault before the commit point is the
 * instruction's; after it, the new task's (delivered at its first instruction). */
static int task_result(struct vcpu *vp, const struct insn *i, int v, bool committed, uint32_t err)
{
    if (v && !committed)
        cpu_fault(vp, i, (unsigned)v, true, err);
    if (v)
        intr_deliver(vp, (unsigned)v, EVK_EXC, true, err, 0);
    return H_END;
}

/* Far JMP/CALL to a TSS descriptor or through a task gate (SDM JMP/CALL, TASK-GATE and
 * TASK-STATE-SEGMENT). */
static int task_xfer(struct vcpu *vp, const struct insn *i, uint16_t sel, const uint64_t d[2],
                     bool call)
{
    unsigned dpl = (d[0] >> 45) & 3;
    if (dpl < vp->cpl || dpl < (sel & 3u))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    if (!(d[0] & (1ull << 47)))
        cpu_fault(vp, i, EXC_NP, true, sel & 0xfffc);
    uint16_t tsel = sel;
    uint64_t td[2] = {d[0], d[1]};
    if (((d[0] >> 40) & 0xf) == 5) {
        tsel = (uint16_t)(d[0] >> 16);
        if (tsel & 4)
            cpu_fault_gp(vp, i, tsel & 0xfffc);
        read_desc(vp, i, tsel, td);
    }
    struct task_req r = {tsel, call ? TASK_CALL : TASK_JMP, next_ip(vp, i), 0, false, 0};
    bool committed;
    uint32_t err;
    int v = task_switch(vp, &r, td, &committed, &err);
    return task_result(vp, i, v, committed, err);
}

/* CALL through a call gate to a more privileged, non-conforming segment (SDM CALL,
 * MORE-PRIVILEGE): the stack from the TSS, the caller's SS:ESP, the gate's parameters, CS:EIP. */
static int call_gate_inner(struct vcpu *vp, const struct insn *i, struct seg *cs, uint64_t off,
                           unsigned w, unsigned pc)
{
    bool lm = vp->efer & EFER_LMA;
    unsigned ncpl = (cs->attr >> 5) & 3;
    uint64_t nsp;
    uint16_t nssel;
    uint32_t err;
    int v = tss_stack(vp, ncpl, 0, &nsp, &nssel, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    uint64_t osp = vp->gpr[REG_RSP];
    uint64_t words[4 + 31];
    unsigned n = 0;
    words[n++] = vp->seg[SEG_SS].sel;
    words[n++] = w == 2 ? (osp & 0xffff) : w == 4 ? (uint32_t)osp : osp;
    struct seg nss;
    uint32_t sserr = 0;
    if (lm) {
        nss = (struct seg){(uint16_t)ncpl, 0, 0, (1u << 16) | (ncpl << 5)};
        check_target_ip(vp, i, cs, off);
    } else {
        v = new_stack_seg(vp, nssel, ncpl, &nss, &err);
        if (v)
            cpu_fault(vp, i, (unsigned)v, true, err);
        sserr = nssel & 0xfffc;
        if (!stack_room(&nss, nsp, (4 + pc) * w))
            cpu_fault(vp, i, EXC_SS, true, sserr);
        check_target_ip(vp, i, cs, off);
        /* The caller's parameters, highest address first, keep their order on the new stack. */
        uint64_t m = amask_tab[stack_asz(vp)];
        for (unsigned k = pc; k-- > 0;)
            words[n++] = mem_rd(vp, i, lin_seg(vp, SEG_SS, (osp + k * w) & m), w);
    }
    words[n++] = vp->seg[SEG_CS].sel;
    words[n++] = next_ip(vp, i);
    bool ss32 = lm || (nss.attr & ATTR_DB);
    uint64_t sp = nsp;
    for (unsigned k = 0; k < n; k++) {
        sp -= w;
        gva_t a = lm ? sp : (nss.base + (ss32 ? (uint32_t)sp : (sp & 0xffff))) & 0xffffffffull;
        v = stack_write(vp, ncpl, a, words[k], w, &err);
        if (v == EXC_PF)
            cpu_fault(vp, i, EXC_PF, true, err);
        if (v)
            cpu_fault(vp, i, EXC_SS, true, sserr);
    }
    vp->cpl = (uint8_t)ncpl;
    seg_commit(vp, SEG_SS, &nss);
    cs->sel = (uint16_t)((cs->sel & 0xfffc) | ncpl);
    cs->attr |= 1;
    seg_commit(vp, SEG_CS, cs);
    vp->gpr[REG_RSP] = lm ? sp : ss32 ? (uint32_t)sp : ((vp->gpr[REG_RSP] & ~0xffffull) | (sp & 0xffff));
    return end_at(vp, off);
}

/* Far JMP/CALL through a 16-, 32- or (IA-32e) 64-bit call gate (SDM JMP/CALL, CALL-GATE). */
static int call_gate(struct vcpu *vp, const struct insn *i, uint16_t gsel, const uint64_t d[2],
                     bool call)
{
    bool lm = vp->efer & EFER_LMA;
    unsigned gdpl = (d[0] >> 45) & 3, cpl = vp->cpl;
    if (gdpl < cpl || (gsel & 3u) > gdpl)
        cpu_fault_gp(vp, i, gsel & 0xfffc);
    if (!(d[0] & (1ull << 47)))
        cpu_fault(vp, i, EXC_NP, true, gsel & 0xfffc);
    uint16_t csel = (uint16_t)(d[0] >> 16);
    uint64_t off = (d[0] & 0xffff) | ((d[0] >> 32) & 0xffff0000ull);
    unsigned w = 4;
    if (lm) {
        off |= (d[1] & 0xffffffffull) << 32;
        w = 8;
    } else if (((d[0] >> 40) & 0xf) == 4) {
        off &= 0xffff;
        w = 2;
    }
    if ((csel & 0xfffc) == 0)
        cpu_fault_gp(vp, i, 0);
    uint64_t cd[2];
    read_desc(vp, i, csel, cd);
    struct seg cs;
    desc_to_seg(cd, csel, &cs);
    unsigned dpl = (cs.attr >> 5) & 3;
    if (!(cs.attr & 0x10) || !(cs.attr & 8) || dpl > cpl)
        cpu_fault_gp(vp, i, csel & 0xfffc);
    if (lm && (!(cs.attr & ATTR_L) || (cs.attr & ATTR_DB)))
        cpu_fault_gp(vp, i, csel & 0xfffc); /* IA-32e call gates lead to 64-bit code */
    if (!(cs.attr & 0x80))
        cpu_fault(vp, i, EXC_NP, true, csel & 0xfffc);
    bool conforming = cs.attr & 4;
    if (!call) {
        if (!conforming && dpl != cpl)
            cpu_fault_gp(vp, i, csel & 0xfffc); /* JMP never changes privilege */
    } else if (!conforming && dpl < cpl) {
        return call_gate_inner(vp, i, &cs, off, w, lm ? 0 : (unsigned)(d[0] >> 32) & 0x1f);
    }
    check_target_ip(vp, i, &cs, off);
    if (call) {
        uint64_t sp = vp->gpr[REG_RSP], ret = next_ip(vp, i);
        uint16_t ocs = vp->seg[SEG_CS].sel;
        if (lm) {
            /* The pushes are 64-bit mode's, whatever mode the caller ran in. */
            uint32_t err;
            for (unsigned k = 1; k <= 2; k++) {
                int v = stack_write(vp, cpl, sp - 8 * k, k == 1 ? ocs : ret, 8, &err);
                if (v)
                    cpu_fault(vp, i, v == EXC_PF ? EXC_PF : EXC_SS, true, v == EXC_PF ? err : 0);
            }
            vp->gpr[REG_RSP] = sp - 16;
        } else {
            uint64_t m = amask_tab[stack_asz(vp)];
            if (!stack_room(&vp->seg[SEG_SS], sp, 2 * w))
                cpu_fault(vp, i, EXC_SS, true, 0);
            mem_probe_write(vp, i, lin_seg(vp, SEG_SS, (sp - 2 * w) & m), 2 * w);
            mem_wr(vp, i, lin_seg(vp, SEG_SS, (sp - w) & m), w, ocs);
            mem_wr(vp, i, lin_seg(vp, SEG_SS, (sp - 2 * w) & m), w, ret);
            sp_set(vp, sp - 2 * w);
        }
    }
    cs.sel = (uint16_t)((csel & 0xfffc) | cpl);
    cs.attr |= 1;
    seg_commit(vp, SEG_CS, &cs);
    return end_at(vp, off);
}

/* A far JMP/CALL whose selector names a system descriptor. In IA-32e mode only 64-bit call
 * gates are valid (SDM Vol 3 5.8.3.1; task switching is not supported there). */
static int far_system(struct vcpu *vp, const struct insn *i, uint16_t sel, const uint64_t d[2],
                      bool call)
{
    unsigned type = (d[0] >> 40) & 0xf;
    if (vp->efer & EFER_LMA) {
        uint32_t limit = (sel & 4) ? vp->seg[SEG_LDTR].limit : vp->gdtr.limit;
        if (type != 0xc || (sel & 0xfff8u) + 15u > limit || ((d[1] >> 40) & 0x1f))
            cpu_fault_gp(vp, i, sel & 0xfffc);
        return call_gate(vp, i, sel, d, call);
    }
    switch (type) {
    case 0x4:
    case 0xc:
        return call_gate(vp, i, sel, d, call);
    case 0x1:
    case 0x5:
    case 0x9:
        return task_xfer(vp, i, sel, d, call);
    default:
        cpu_fault_gp(vp, i, sel & 0xfffc); /* busy TSS, LDT, interrupt/trap gates */
    }
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
    if ((sel & 0xfffc) == 0)
        cpu_fault_gp(vp, i, 0);
    uint64_t d[2];
    read_desc(vp, i, sel, d);
    if (!(d[0] & (1ull << 44)))
        return far_system(vp, i, sel, d, false);
    struct seg cs;
    code_target(vp, i, sel, d, &cs);
    off = ip_trunc(vp, i->opsz, off);
    check_target_ip(vp, i, &cs, off);
    seg_commit(vp, SEG_CS, &cs);
    return end_at(vp, off);
}

int op_CALL_FAR(struct vcpu *vp, const struct insn *i)
{
    uint16_t sel;
    uint64_t off;
    far_operand(vp, i, &sel, &off);
    unsigned sz = i->opsz;
    off = ip_trunc(vp, sz, off);
    struct seg cs;
    if (pmode(vp)) {
        if ((sel & 0xfffc) == 0)
            cpu_fault_gp(vp, i, 0);
        uint64_t d[2];
        read_desc(vp, i, sel, d);
        if (!(d[0] & (1ull << 44)))
            return far_system(vp, i, sel, d, true);
        code_target(vp, i, sel, d, &cs);
        check_target_ip(vp, i, &cs, off);
    }
    uint64_t sp = vp->gpr[REG_RSP], m = amask_tab[stack_asz(vp)];
    mem_probe_write(vp, i, lin_seg(vp, SEG_SS, (sp - 2 * sz) & m), 2 * sz);
    mem_wr(vp, i, lin_seg(vp, SEG_SS, (sp - sz) & m), sz, vp->seg[SEG_CS].sel);
    mem_wr(vp, i, lin_seg(vp, SEG_SS, (sp - 2 * sz) & m), sz, next_ip(vp, i));
    sp_set(vp, sp - 2 * sz);
    if (!pmode(vp))
        seg_load_real(vp, SEG_CS, sel);
    else
        seg_commit(vp, SEG_CS, &cs);
    return end_at(vp, off);
}

/* Drop data segments the new (outer) privilege level may not use (SDM RET/IRET). */
static void null_outer_segs(struct vcpu *vp)
{
    static const unsigned segs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (unsigned k = 0; k < 4; k++) {
        struct seg *s = &vp->seg[segs[k]];
        unsigned dpl = (s->attr >> 5) & 3;
        bool conf_code = (s->attr & 8) && (s->attr & 4) && (s->attr & 0x10);
        if (!(s->attr & (1u << 16)) && !conf_code && dpl < vp->cpl) {
            struct seg n = {0, 0, 0, 1u << 16};
            seg_commit(vp, segs[k], &n);
        }
    }
}

/* The return code segment of a protected-mode RET/IRET (SDM: #GP(selector) / #NP(selector)). */
static void return_cs(struct vcpu *vp, const struct insn *i, uint16_t sel, struct seg *cs)
{
    unsigned rpl = sel & 3;
    if ((sel & 0xfffc) == 0)
        cpu_fault_gp(vp, i, 0);
    uint64_t d[2];
    read_desc(vp, i, sel, d);
    desc_to_seg(d, sel, cs);
    unsigned dpl = (cs->attr >> 5) & 3;
    if (!(cs->attr & 0x10) || !(cs->attr & 8) || rpl < vp->cpl ||
        (cs->attr & 4 ? dpl > rpl : dpl != rpl))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    if ((vp->efer & EFER_LMA) && (cs->attr & ATTR_L) && (cs->attr & ATTR_DB))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    if (!(cs->attr & 0x80))
        cpu_fault(vp, i, EXC_NP, true, sel & 0xfffc);
    cs->attr |= 1;
}

/* The stack segment popped by a return to an outer privilege (or by IRETQ): #GP(0) for a null
 * selector unless IA-32e mode returns to 64-bit code below CPL 3, #GP(selector), #SS(selector). */
static void return_ss(struct vcpu *vp, const struct insn *i, uint16_t ssel, unsigned rpl,
                      bool to64, struct seg *ss)
{
    if ((ssel & 0xfffc) == 0) {
        if (!to64 || rpl == 3)
            cpu_fault_gp(vp, i, 0);
        *ss = (struct seg){ssel, 0, 0, (1u << 16) | (rpl << 5)};
        return;
    }
    uint64_t d[2];
    read_desc(vp, i, ssel, d);
    desc_to_seg(d, ssel, ss);
    unsigned type = ss->attr & 0xf, dpl = (ss->attr >> 5) & 3;
    if ((ssel & 3u) != rpl || !(ss->attr & 0x10) || (type & 8) || !(type & 2) || dpl != rpl)
        cpu_fault_gp(vp, i, ssel & 0xfffc);
    if (!(ss->attr & 0x80))
        cpu_fault(vp, i, EXC_SS, true, ssel & 0xfffc);
    ss->attr |= 1;
}

/* RSP after a return that loaded SS: the width follows the new stack. */
static void set_new_sp(struct vcpu *vp, bool to64, uint64_t sp)
{
    if (to64)
        vp->gpr[REG_RSP] = sp;
    else if (vp->seg[SEG_SS].attr & ATTR_DB)
        vp->gpr[REG_RSP] = (uint32_t)sp;
    else
        vp->gpr[REG_RSP] = (vp->gpr[REG_RSP] & ~0xffffull) | (sp & 0xffff);
}

int op_RET_FAR(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t imm = i->imm & 0xffff;
    uint64_t sp = vp->gpr[REG_RSP], m = amask_tab[stack_asz(vp)];
    uint64_t off = mem_rd(vp, i, lin_seg(vp, SEG_SS, sp & m), sz);
    uint16_t sel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + sz) & m), 2);
    uint64_t nsp = sp + 2 * sz + imm;
    if (!pmode(vp)) {
        seg_load_real(vp, SEG_CS, sel);
        sp_set(vp, nsp);
        return end_at(vp, ip_trunc(vp, sz, off));
    }
    struct seg cs;
    return_cs(vp, i, sel, &cs);
    unsigned rpl = sel & 3;
    bool to64 = is_64bit_code(vp, &cs);
    check_target_ip(vp, i, &cs, off);
    if (rpl > vp->cpl) {
        /* RETURN-TO-OUTER-PRIVILEGE-LEVEL: SS:ESP above the parameters, then null the data
         * segments the outer level may not hold. */
        uint64_t nrsp = mem_rd(vp, i, lin_seg(vp, SEG_SS, nsp & m), sz);
        uint16_t ssel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (nsp + sz) & m), 2);
        struct seg ss;
        return_ss(vp, i, ssel, rpl, to64, &ss);
        vp->cpl = (uint8_t)rpl;
        seg_commit(vp, SEG_SS, &ss);
        seg_commit(vp, SEG_CS, &cs);
        set_new_sp(vp, to64, nrsp + imm);
        null_outer_segs(vp);
    } else {
        sp_set(vp, nsp); /* with the stack width of the caller's mode */
        seg_commit(vp, SEG_CS, &cs);
    }
    vcpu_update_mmu_idx(vp);
    return end_at(vp, off);
}

/* Flags IRET may change at the privilege it runs at (SDM IRET: CPL <= IOPL for IF, CPL 0 for
 * IOPL, VIF, VIP; operand size 16 keeps the upper half). */
static void iret_flags(struct vcpu *vp, uint64_t nf, unsigned sz, unsigned cpl)
{
    uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
    unsigned iopl = (unsigned)((vp->rflags & FL_IOPL) >> 12);
    if (sz > 2)
        mask |= FL_RF | FL_AC | FL_ID;
    if (cpl <= iopl)
        mask |= FL_IF;
    if (cpl == 0) {
        mask |= FL_IOPL;
        if (sz > 2)
            mask |= FL_VIF | FL_VIP;
    }
    flags_set(vp, nf, mask);
}

/* IRET in real mode, or in virtual-8086 mode with IOPL 3: pops IP, CS, FLAGS (SDM IRET,
 * REAL-ADDRESS-MODE and RETURN-FROM-VIRTUAL-8086-MODE). VM, IOPL (in V86), VIF and VIP stay. */
static int iret_real(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    bool v86 = vp->rflags & FL_VM;
    uint64_t sp = vp->gpr[REG_RSP], m = amask_tab[stack_asz(vp)];
    uint64_t off = mem_rd(vp, i, lin_seg(vp, SEG_SS, sp & m), sz);
    uint16_t sel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + sz) & m), 2);
    uint64_t nf = mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 2 * sz) & m), sz);
    if (off > vp->seg[SEG_CS].limit || off > 0xffff)
        cpu_fault_gp(vp, i, 0);
    uint64_t mask;
    if (sz == 2)
        mask = v86 ? 0xffff & ~(uint64_t)FL_IOPL : 0xffff;
    else
        mask = v86 ? 0xffffffffull & ~(uint64_t)(FL_VM | FL_IOPL | FL_VIF | FL_VIP)
                   : 0x257fd5; /* SDM IRET: real mode keeps VM, VIF, VIP */
    flags_set(vp, nf, mask);
    seg_load_real(vp, SEG_CS, sel);
    sp_set(vp, sp + 3 * sz);
    vp->nmi_blocked = false;
    vcpu_update_mode(vp);
    return end_at(vp, off);
}

/* IRET from protected mode to virtual-8086 mode (EFLAGS.VM popped at CPL 0, 32-bit operand
 * size): pops ESP, SS, ES, DS, FS, GS after EIP, CS, EFLAGS. */
static int iret_to_v86(struct vcpu *vp, const struct insn *i, uint64_t off, uint16_t sel, uint64_t nf)
{
    uint64_t sp = vp->gpr[REG_RSP], m = amask_tab[stack_asz(vp)];
    uint32_t w[6];
    for (unsigned k = 0; k < 6; k++)
        w[k] = (uint32_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 12 + 4 * k) & m), 4);
    if (off > 0xffff)
        cpu_fault_gp(vp, i, 0);
    flags_set(vp, nf, 0xffffffffull);
    vp->cpl = 3;
    static const unsigned order[] = {SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    seg_load_real(vp, SEG_CS, sel);
    for (unsigned k = 0; k < 5; k++)
        seg_load_real(vp, order[k], (uint16_t)w[k + 1]);
    vp->gpr[REG_RSP] = w[0];
    vp->nmi_blocked = false;
    vcpu_update_mode(vp);
    return end_at(vp, off);
}

int op_IRET(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    bool lm = vp->efer & EFER_LMA;
    if (!(vp->cr0 & CR0_PE))
        return iret_real(vp, i);
    if (vp->rflags & FL_VM) {
        /* VME is not offered, so IRET in V86 mode needs IOPL 3. */
        if (((vp->rflags & FL_IOPL) >> 12) < 3)
            cpu_fault_gp(vp, i, 0);
        return iret_real(vp, i);
    }
    if (vp->rflags & FL_NT) {
        if (lm)
            cpu_fault_gp(vp, i, 0); /* no task return in IA-32e mode */
        bool committed;
        uint32_t err;
        int v = task_return(vp, next_ip(vp, i), &committed, &err);
        if (!v || committed)
            vp->nmi_blocked = false;
        return task_result(vp, i, v, committed, err);
    }
    uint64_t sp = vp->gpr[REG_RSP], m = amask_tab[stack_asz(vp)];
    uint64_t off = mem_rd(vp, i, lin_seg(vp, SEG_SS, sp & m), sz);
    uint16_t sel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + sz) & m), 2);
    uint64_t nf = mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 2 * sz) & m), sz);
    unsigned cpl = vp->cpl;
    if (!lm && (nf & FL_VM) && cpl == 0 && sz == 4)
        return iret_to_v86(vp, i, off, sel, nf);
    struct seg cs;
    return_cs(vp, i, sel, &cs);
    unsigned rpl = sel & 3;
    bool to64 = is_64bit_code(vp, &cs);
    if (!to64)
        off = sz == 2 ? (off & 0xffff) : (uint32_t)off;
    /* IRET in 64-bit mode always pops SS:RSP; elsewhere only on a privilege change. */
    bool pop_ss = vp->mode == MODE_64 || rpl > cpl;
    struct seg ss;
    uint64_t nrsp = 0;
    if (pop_ss) {
        nrsp = mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 3 * sz) & m), sz);
        uint16_t ssel = (uint16_t)mem_rd(vp, i, lin_seg(vp, SEG_SS, (sp + 4 * sz) & m), 2);
        return_ss(vp, i, ssel, rpl, to64, &ss);
    }
    check_target_ip(vp, i, &cs, off);
    iret_flags(vp, nf & ~(uint64_t)FL_VM, sz, cpl);
    if (pop_ss) {
        vp->cpl = (uint8_t)rpl;
        seg_commit(vp, SEG_SS, &ss);
        seg_commit(vp, SEG_CS, &cs);
        if (sz == 2)
            vp->gpr[REG_RSP] = (vp->gpr[REG_RSP] & ~0xffffull) | (nrsp & 0xffff);
        else
            set_new_sp(vp, to64 || sz == 8, sz == 4 ? (uint32_t)nrsp : nrsp);
        if (rpl > cpl)
            null_outer_segs(vp);
    } else {
        sp_set(vp, sp + 3 * sz);
        seg_commit(vp, SEG_CS, &cs);
    }
    vp->nmi_blocked = false;
    vcpu_update_mode(vp);
    return end_at(vp, off);
}
