/* Software interrupts, fast system calls (SYSCALL/SYSRET, SYSENTER/SYSEXIT), SWAPGS, HLT,
 * CLI/STI, PAUSE. */
#include "cpu/exits.h"
#include "cpu/intr.h"
#include "cpu/ops_inline.h"

static uint64_t insn_rip(const struct vcpu *vp, const struct insn *i)
{
    uint64_t r = vp->gpr[GPR_BRIP] + i->nxt - i->len;
    return vp->mode == MODE_64 ? r : (uint32_t)r;
}

int op_INT(struct vcpu *vp, const struct insn *i)
{
    unsigned vec;
    enum ev_kind kind;
    if (i->cc == 1) {
        vec = EXC_BP;
        kind = EVK_SOFTEXC;
    } else if (i->cc == 2) {
        vec = EXC_DB;
        kind = EVK_ICEBP;
    } else {
        vec = (unsigned)(i->imm & 0xff);
        kind = EVK_SOFT;
        if ((vp->rflags & FL_VM) && ((vp->rflags & FL_IOPL) >> 12) < 3)
            cpu_fault_gp(vp, i, 0);
    }
    vp->rip = insn_rip(vp, i);
    intr_deliver(vp, vec, kind, false, 0, i->len);
    return H_END;
}

int op_INTO(struct vcpu *vp, const struct insn *i)
{
    if (!cc_eval(vp, CC_O))
        return end_at(vp, next_ip(vp, i));
    vp->rip = insn_rip(vp, i);
    intr_deliver(vp, EXC_OF, EVK_SOFTEXC, false, 0, i->len);
    return H_END;
}

static void flat_seg(struct seg *s, uint16_t sel, uint32_t attr)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = attr;
}

int op_SYSCALL(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->efer & EFER_SCE) || !(vp->cr0 & CR0_PE))
        cpu_fault_ud(vp, i);
    uint16_t base = (uint16_t)(vp->star >> 32);
    uint64_t ret = next_ip(vp, i);
    uint64_t fl = flags_get(vp);
    uint64_t target = vp->mode == MODE_64 ? vp->lstar : vp->cstar;
    struct seg cs, ss;
    flat_seg(&ss, (uint16_t)((base + 8) & 0xfffc), 0xc093);
    vp->cpl = 0;
    if (vp->efer & EFER_LMA) {
        vp->gpr[REG_RCX] = ret;
        vp->gpr[REG_R11] = fl & ~(uint64_t)FL_RF;
        flat_seg(&cs, base & 0xfffc, 0xa09b);
        seg_commit(vp, SEG_CS, &cs);
        seg_commit(vp, SEG_SS, &ss);
        vp->rflags = (fl & ~vp->sfmask & ~(uint64_t)FL_RF) | 2;
        vcpu_update_mode(vp);
        return end_at(vp, target);
    }
    vp->gpr[REG_RCX] = (uint32_t)ret;
    flat_seg(&cs, base & 0xfffc, 0xc09b);
    seg_commit(vp, SEG_CS, &cs);
    seg_commit(vp, SEG_SS, &ss);
    vp->rflags = (fl & ~(uint64_t)(FL_VM | FL_IF | FL_RF)) | 2;
    vcpu_update_mode(vp);
    return end_at(vp, (uint32_t)vp->star);
}

int op_SYSRET(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->efer & EFER_SCE) || !(vp->cr0 & CR0_PE))
        cpu_fault_ud(vp, i);
    if (vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    uint16_t base = (uint16_t)(vp->star >> 48);
    struct seg cs, ss;
    uint64_t rip;
    if (i->opsz == 8) {
        rip = vp->gpr[REG_RCX];
        struct paging_state ps;
        paging_state_of(vp, &ps);
        if (!mmu_canonical(&ps, rip))
            cpu_fault_gp(vp, i, 0);
        flat_seg(&cs, (uint16_t)((base + 16) | 3), 0xa0fb);
    } else {
        rip = (uint32_t)vp->gpr[REG_RCX];
        flat_seg(&cs, (uint16_t)(base | 3), 0xc0fb);
    }
    flat_seg(&ss, (uint16_t)((base + 8) | 3), 0xc0f3);
    if (vp->efer & EFER_LMA) {
        vp->lf_op = LF_NONE;
        vp->rflags = (vp->gpr[REG_R11] & 0x3c7fd7) | 2;
    } else {
        flags_get(vp);
        vp->rflags |= FL_IF;
    }
    vp->cpl = 3;
    seg_commit(vp, SEG_CS, &cs);
    seg_commit(vp, SEG_SS, &ss);
    vcpu_update_mode(vp);
    return end_at(vp, rip);
}

int op_SYSENTER(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->cr0 & CR0_PE) || (vp->sysenter_cs & 0xfffc) == 0)
        cpu_fault_gp(vp, i, 0);
    uint16_t base = (uint16_t)(vp->sysenter_cs & 0xfffc);
    bool lm = vp->efer & EFER_LMA;
    struct seg cs, ss;
    flat_seg(&cs, base, lm ? 0xa09b : 0xc09b);
    flat_seg(&ss, (uint16_t)(base + 8), 0xc093);
    flags_get(vp);
    vp->rflags &= ~(uint64_t)(FL_VM | FL_IF | FL_RF);
    vp->cpl = 0;
    seg_commit(vp, SEG_CS, &cs);
    seg_commit(vp, SEG_SS, &ss);
    vp->gpr[REG_RSP] = lm ? vp->sysenter_esp : (uint32_t)vp->sysenter_esp;
    vcpu_update_mode(vp);
    return end_at(vp, lm ? vp->sysenter_eip : (uint32_t)vp->sysenter_eip);
}

int op_SYSEXIT(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->cr0 & CR0_PE) || (vp->sysenter_cs & 0xfffc) == 0 || vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    uint16_t base = (uint16_t)(vp->sysenter_cs & 0xfffc);
    bool w = i->opsz == 8;
    struct seg cs, ss;
    flat_seg(&cs, (uint16_t)((base + (w ? 32 : 16)) | 3), w ? 0xa0fb : 0xc0fb);
    flat_seg(&ss, (uint16_t)((base + (w ? 40 : 24)) | 3), 0xc0f3);
    vp->cpl = 3;
    seg_commit(vp, SEG_CS, &cs);
    seg_commit(vp, SEG_SS, &ss);
    vp->gpr[REG_RSP] = w ? vp->gpr[REG_RCX] : (uint32_t)vp->gpr[REG_RCX];
    vcpu_update_mode(vp);
    return end_at(vp, w ? vp->gpr[REG_RDX] : (uint32_t)vp->gpr[REG_RDX]);
}

int op_SWAPGS(struct vcpu *vp, const struct insn *i)
{
    if (vp->mode != MODE_64)
        cpu_fault_ud(vp, i);
    if (vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    uint64_t t = vp->seg[SEG_GS].base;
    vp->seg[SEG_GS].base = vp->kernel_gs_base;
    vp->kernel_gs_base = t;
    vp->sbase[SEG_GS] = vp->seg[SEG_GS].base;
    return end_at(vp, next_ip(vp, i));
}

int op_HLT(struct vcpu *vp, const struct insn *i)
{
    if (vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    struct vmexit ex = {.reason = EXIT_REASON_HLT};
    exit_call(vp, i, &ex);
    vp->halted = true;
    return end_at(vp, next_ip(vp, i));
}

static bool iopl_ok(const struct vcpu *vp)
{
    if (!(vp->cr0 & CR0_PE))
        return true;
    return vp->cpl <= ((vp->rflags & FL_IOPL) >> 12);
}

int op_CLI(struct vcpu *vp, const struct insn *i)
{
    if (!iopl_ok(vp))
        cpu_fault_gp(vp, i, 0);
    vp->rflags &= ~(uint64_t)FL_IF;
    return end_at(vp, next_ip(vp, i));
}

int op_STI(struct vcpu *vp, const struct insn *i)
{
    if (!iopl_ok(vp))
        cpu_fault_gp(vp, i, 0);
    if (!(vp->rflags & FL_IF))
        vp->int_shadow = true; /* SDM STI: interrupts stay blocked for one more instruction */
    vp->rflags |= FL_IF;
    return end_at(vp, next_ip(vp, i));
}

int op_PAUSE(struct vcpu *vp, const struct insn *i)
{
    /* Ends the block so a spin-wait loop reaches the event checks promptly. */
    return end_at(vp, next_ip(vp, i));
}
