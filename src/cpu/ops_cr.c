/* Control-register moves (MOV CR0/2/3/4/8, LMSW, CLTS) and the mode transitions they make:
 * the reserved-bit and illegal-combination #GP checks of SDM Vol 3 2.5 and 9.8. */
#include "cpu/dcache.h"
#include "cpu/exits.h"
#include "cpu/ops_inline.h"

static void need_cpl0(struct vcpu *vp, const struct insn *i)
{
    if ((vp->cr0 & CR0_PE) && vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    if (vp->rflags & FL_VM)
        cpu_fault_gp(vp, i, 0);
}

static int next(struct vcpu *vp, const struct insn *i)
{
    return end_at(vp, next_ip(vp, i));
}

/* ---- control registers ---- */
static void cr_changed(struct vcpu *vp)
{
    tlb_flush_all(&vp->tlb);
    dcache_flush_lookup(vp);
    vcpu_update_mode(vp);
}

/* SDM Vol 3 4.4.1: with PAE paging (not IA-32e), loading CR3 or turning paging/PAE on loads
 * the four PDPTEs, and a present one with a reserved bit set is #GP(0), the register keeping
 * its old value. */
static void check_pdptes(struct vcpu *vp, const struct insn *i, uint64_t cr0, uint64_t cr3,
                         uint64_t cr4, uint64_t efer)
{
    if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (efer & EFER_LMA))
        return;
    struct paging_state ps = {cr0, cr3, cr4, efer};
    if (mmu_check_pdptes(vp->pm, &ps))
        cpu_fault_gp(vp, i, 0);
}

static void write_cr0(struct vcpu *vp, const struct insn *i, uint64_t v)
{
    if (v >> 32)
        cpu_fault_gp(vp, i, 0);
    v |= CR0_ET;
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_fault_gp(vp, i, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_fault_gp(vp, i, 0);
    bool pg_on = (v & CR0_PG) && !(vp->cr0 & CR0_PG);
    bool pg_off = !(v & CR0_PG) && (vp->cr0 & CR0_PG);
    if (pg_on && (vp->efer & EFER_LME)) {
        if (!(vp->cr4 & CR4_PAE))
            cpu_fault_gp(vp, i, 0);
        vp->efer |= EFER_LMA;
    }
    if (pg_off && (vp->efer & EFER_LMA)) {
        if (vp->mode == MODE_64)
            cpu_fault_gp(vp, i, 0);
        vp->efer &= ~(uint64_t)EFER_LMA;
    }
    if (pg_on)
        check_pdptes(vp, i, v, vp->cr3, vp->cr4, vp->efer);
    uint64_t old = vp->cr0;
    vp->cr0 = v;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
        cr_changed(vp);
    else
        vcpu_update_mode(vp);
}

static void write_cr4(struct vcpu *vp, const struct insn *i, uint64_t v)
{
    uint64_t known = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE |
                     CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_FSGSBASE |
                     CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | CR4_LA57;
    if (v & ~(known | CR4_PCIDE))
        cpu_fault_gp(vp, i, 0);
    if ((vp->efer & EFER_LMA) && !(v & CR4_PAE))
        cpu_fault_gp(vp, i, 0);
    /* SDM Vol 3 2.5: LA57 can change only outside IA-32e mode (paging depth is fixed there). */
    if ((vp->efer & EFER_LMA) && ((vp->cr4 ^ v) & CR4_LA57))
        cpu_fault_gp(vp, i, 0);
    /* SDM 4.10.1: PCIDE may be set only in IA-32e mode and with CR3[11:0] = 0. */
    if ((v & CR4_PCIDE) && !(vp->cr4 & CR4_PCIDE) &&
        (!(vp->efer & EFER_LMA) || (vp->cr3 & 0xFFF)))
        cpu_fault_gp(vp, i, 0);
    if ((vp->cr4 ^ v) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP | CR4_SMAP))
        check_pdptes(vp, i, vp->cr0, vp->cr3, v, vp->efer);
    uint64_t old = vp->cr4;
    vp->cr4 = v;
    if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP | CR4_SMAP | CR4_PCIDE | CR4_LA57))
        cr_changed(vp);
}

static enum exit_action cr8_exit(struct vcpu *vp, const struct insn *i, bool write, uint64_t *v)
{
    struct vmexit ex = {.reason = EXIT_REASON_CR_ACCESS};
    /* Exit qualification (SDM Table 28-3): CR number, access type, GPR. */
    ex.qualification = 8u | (write ? 0u : 1u << 4) | (uint64_t)(i->r1 >> 3) << 8;
    ex.u.cr.cr = 8;
    ex.u.cr.write = write;
    ex.u.cr.value = write ? *v : vp->cr8;
    enum exit_action a = exit_call(vp, i, &ex);
    if (!vp->env.exit) {
        if (write)
            vp->cr8 = *v & 15;
        else
            *v = vp->cr8;
    } else if (!write) {
        *v = ex.u.cr.value;
    }
    return a;
}

int op_MOV_CR_W(struct vcpu *vp, const struct insn *i)
{
    need_cpl0(vp, i);
    uint64_t v = vp->gpr[i->r1 >> 3];
    if (vp->mode != MODE_64)
        v = (uint32_t)v;
    switch (i->cc) {
    case 0: write_cr0(vp, i, v); break;
    case 2: vp->cr2 = v; break;
    case 3:
        /* Bits above MAXPHYADDR are reserved in IA-32e mode; bit 63 is PCID's "keep this
         * PCID's translations" hint, reserved without CR4.PCIDE. The TLB is not tagged by
         * PCID, so every CR3 write drops the non-global entries: invalidating more than
         * asked is always allowed (SDM 4.10.4), and it keeps one PCID from seeing another's
         * translations. */
        if ((vp->efer & EFER_LMA) &&
            (((v & ~(1ull << 63)) >> MMU_MAXPHYADDR) || ((v >> 63) && !(vp->cr4 & CR4_PCIDE))))
            cpu_fault_gp(vp, i, 0);
        check_pdptes(vp, i, vp->cr0, v, vp->cr4, vp->efer);
        vp->cr3 = v & ~(1ull << 63);
        if (vp->cr4 & CR4_PGE)
            tlb_flush_nonglobal(&vp->tlb);
        else
            tlb_flush_all(&vp->tlb);
        dcache_flush_lookup(vp);
        break;
    case 4: write_cr4(vp, i, v); break;
    case 8:
        if (v >> 4)
            cpu_fault_gp(vp, i, 0);
        cr8_exit(vp, i, true, &v);
        break;
    default: cpu_fault_ud(vp, i);
    }
    return next(vp, i);
}

int op_MOV_CR_R(struct vcpu *vp, const struct insn *i)
{
    need_cpl0(vp, i);
    uint64_t v;
    switch (i->cc) {
    case 0: v = vp->cr0; break;
    case 2: v = vp->cr2; break;
    case 3: v = vp->cr3; break;
    case 4: v = vp->cr4; break;
    case 8: cr8_exit(vp, i, false, &v); break;
    default: cpu_fault_ud(vp, i);
    }
    wreg(vp, i->r1, vp->mode == MODE_64 ? 8 : 4, v);
    return next(vp, i);
}

int op_LMSW(struct vcpu *vp, const struct insn *i)
{
    need_cpl0(vp, i);
    uint64_t v = rm_rd(vp, i, i->r1, 2) & 0xf;
    /* LMSW can set PE but never clear it. */
    v |= vp->cr0 & CR0_PE;
    write_cr0(vp, i, (vp->cr0 & ~0xfull) | v);
    return next(vp, i);
}

int op_CLTS(struct vcpu *vp, const struct insn *i)
{
    need_cpl0(vp, i);
    vp->cr0 &= ~(uint64_t)CR0_TS;
    return next(vp, i);
}

