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

/* Fixed descriptor attributes the fast system calls load (SDM SYSCALL/SYSENTER: base 0, limit
 * 4 GiB, G=1, accessed code type 11 / data type 3): ring 0 and ring 3, 64-bit (L) or 32-bit
 * (D/B). */
enum {
    FAST_CS64_K = 0xa09b, FAST_CS32_K = 0xc09b, FAST_SS_K = 0xc093,
    FAST_CS64_U = 0xa0fb, FAST_CS32_U = 0xc0fb, FAST_SS_U = 0xc0f3,
};

static bool canonical(const struct vcpu *vp, uint64_t a)
{
    struct paging_state ps;
    paging_state_of(vp, &ps);
    return mmu_canonical(&ps, a);
}

/* Switch to the flat CS/SS pair of a fast system call at privilege cpl (seg_commit of CS and
 * SS recomputes the mode, the addressing state and the TLB context from CPL and RFLAGS). */
static void fast_switch(struct vcpu *vp, unsigned cpl, uint16_t cs_sel, uint32_t cs_attr,
                        uint16_t ss_sel, uint32_t ss_attr)
{
    struct seg cs, ss;
    flat_seg(&cs, cs_sel, cs_attr);
    flat_seg(&ss, ss_sel, ss_attr);
    vp->cpl = (uint8_t)cpl;
    seg_commit(vp, SEG_CS, &cs);
    seg_commit(vp, SEG_SS, &ss);
}

/* SYSCALL as Intel implements it: 64-bit mode only (compatibility and legacy modes #UD). */
int op_SYSCALL(struct vcpu *vp, const struct insn *i)
{
    if (vp->mode != MODE_64 || !(vp->efer & EFER_SCE))
        cpu_fault_ud(vp, i);
    uint16_t sel = (uint16_t)(vp->star >> 32);
    /* R11 gets RFLAGS with RF clear; RF is cleared in RFLAGS too. */
    uint64_t fl = flags_get(vp) & ~(uint64_t)FL_RF;
    vp->gpr[REG_RCX] = next_ip(vp, i);
    vp->gpr[REG_R11] = fl;
    vp->rflags = (fl & ~vp->sfmask) | 2;
    /* SDM SYSCALL: CS = STAR[47:32] & ~3, SS = STAR[47:32] + 8 (RPL not forced). */
    fast_switch(vp, 0, sel & 0xfffc, FAST_CS64_K, (uint16_t)(sel + 8), FAST_SS_K);
    return end_at(vp, vp->lstar);
}

int op_SYSRET(struct vcpu *vp, const struct insn *i)
{
    if (vp->mode != MODE_64 || !(vp->efer & EFER_SCE))
        cpu_fault_ud(vp, i);
    if (vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    uint16_t sel = (uint16_t)(vp->star >> 48);
    bool to64 = i->opsz == 8;
    uint64_t rip = to64 ? vp->gpr[REG_RCX] : (uint32_t)vp->gpr[REG_RCX];
    /* Intel raises this #GP at CPL 0, before anything changes. */
    if (to64 && !canonical(vp, rip))
        cpu_fault_gp(vp, i, 0);
    /* SDM SYSRET: RFLAGS = (R11 & 3C7FD7H) | 2 (RF, VM and reserved bits clear). */
    vp->lf_op = LF_NONE;
    vp->rflags = (vp->gpr[REG_R11] & 0x3c7fd7) | 2;
    fast_switch(vp, 3, (uint16_t)((to64 ? sel + 16 : sel) | 3), to64 ? FAST_CS64_U : FAST_CS32_U,
                (uint16_t)((sel + 8) | 3), FAST_SS_U);
    return end_at(vp, rip);
}

int op_SYSENTER(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->cr0 & CR0_PE) || (vp->sysenter_cs & 0xfffc) == 0)
        cpu_fault_gp(vp, i, 0);
    uint16_t sel = (uint16_t)(vp->sysenter_cs & 0xfffc);
    bool lm = vp->efer & EFER_LMA;
    flags_get(vp);
    vp->rflags &= ~(uint64_t)(FL_VM | FL_IF | FL_RF);
    fast_switch(vp, 0, sel, lm ? FAST_CS64_K : FAST_CS32_K, (uint16_t)(sel + 8), FAST_SS_K);
    /* Outside IA-32e mode only the low 32 bits of the MSRs are used. */
    vp->gpr[REG_RSP] = lm ? vp->sysenter_esp : (uint32_t)vp->sysenter_esp;
    return end_at(vp, lm ? vp->sysenter_eip : (uint32_t)vp->sysenter_eip);
}

int op_SYSEXIT(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->cr0 & CR0_PE) || (vp->sysenter_cs & 0xfffc) == 0 || vp->cpl != 0 ||
        (vp->rflags & FL_VM))
        cpu_fault_gp(vp, i, 0);
    /* REX.W returns to 64-bit code (CS = SYSENTER_CS + 32), otherwise to 32-bit protected or
     * compatibility-mode code (CS = SYSENTER_CS + 16); SS = CS + 8, RPL 3. */
    bool w = i->opsz == 8;
    uint64_t rsp = w ? vp->gpr[REG_RCX] : (uint32_t)vp->gpr[REG_RCX];
    uint64_t rip = w ? vp->gpr[REG_RDX] : (uint32_t)vp->gpr[REG_RDX];
    if (w && (!canonical(vp, rsp) || !canonical(vp, rip)))
        cpu_fault_gp(vp, i, 0);
    uint16_t cs = (uint16_t)(((vp->sysenter_cs & 0xffff) + (w ? 32 : 16)) | 3);
    fast_switch(vp, 3, cs, w ? FAST_CS64_U : FAST_CS32_U, (uint16_t)(cs + 8), FAST_SS_U);
    vp->gpr[REG_RSP] = rsp;
    return end_at(vp, rip);
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

/* HLT is privileged: #GP(0) at CPL > 0, which includes virtual-8086 mode (CPL 3). */
int op_HLT(struct vcpu *vp, const struct insn *i)
{
    if (vp->cpl != 0 || (vp->rflags & FL_VM))
        cpu_fault_gp(vp, i, 0);
    struct vmexit ex = {.reason = EXIT_REASON_HLT};
    exit_call(vp, i, &ex);
    vp->halted = true;
    vp->mwait = CPU_MWAIT_NONE;
    return end_at(vp, next_ip(vp, i));
}

/* SDM Vol 3 20.2.5 / CLI, STI: in virtual-8086 mode (no VME) IOPL must be 3; in protected
 * mode CPL <= IOPL (no PVI); always allowed in real mode. */
static bool iopl_ok(const struct vcpu *vp)
{
    unsigned iopl = (unsigned)((vp->rflags & FL_IOPL) >> 12);
    if (vp->rflags & FL_VM)
        return iopl == 3;
    return !(vp->cr0 & CR0_PE) || vp->cpl <= iopl;
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
