/* Control-register moves (MOV CR0/2/3/4/8, LMSW, CLTS) and the mode transitions they make:
 * the reserved-bit and illegal-combination #GP checks of SDM Vol 3 2.5 and 9.8. */
#include "cpu/dcache.h"
#include "cpu/exits.h"
#include "cpu/ops_inline.h"

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

/* CR0 bits the processor implements. Writes to the reserved bits of CR0[31:0] are dropped (they
 * read as 0, as on hardware and in KVM); CR0[63:32] must be zero, else #GP(0) (SDM Vol 3 2.5,
 * MOV CR). ET is hardwired to 1 since the P6. */
#define CR0_IMPLEMENTED                                                                           \
    (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG)
#define CS_L (1u << 13)

static void write_cr0(struct vcpu *vp, const struct insn *i, uint64_t v)
{
    if (v >> 32)
        cpu_fault_gp(vp, i, 0);
    v = (v & CR0_IMPLEMENTED) | CR0_ET;
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_fault_gp(vp, i, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_fault_gp(vp, i, 0);
    bool pg_on = (v & CR0_PG) && !(vp->cr0 & CR0_PG);
    bool pg_off = !(v & CR0_PG) && (vp->cr0 & CR0_PG);
    /* SDM Vol 3 10.8.5: activating IA-32e mode needs CR4.PAE, and CS.L clear (the code doing
     * it runs in legacy mode, so a set L bit would have no meaning yet). */
    bool enter_lm = pg_on && (vp->efer & EFER_LME);
    if (enter_lm && (!(vp->cr4 & CR4_PAE) || (vp->seg[SEG_CS].attr & CS_L)))
        cpu_fault_gp(vp, i, 0);
    /* Paging cannot be turned off in 64-bit mode (only from compatibility mode), nor while
     * CR4.PCIDE is set (SDM MOV CR: #GP(0)). */
    if (pg_off && (vp->mode == MODE_64 || (vp->cr4 & CR4_PCIDE)))
        cpu_fault_gp(vp, i, 0);
    uint64_t efer = vp->efer;
    if (enter_lm)
        efer |= EFER_LMA;
    if (pg_off)
        efer &= ~(uint64_t)EFER_LMA;
    if (pg_on)
        check_pdptes(vp, i, v, vp->cr3, vp->cr4, efer);
    uint64_t old = vp->cr0;
    vp->efer = efer;
    vp->cr0 = v;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
        cr_changed(vp);
    else
        vcpu_update_mode(vp);
}

/* CR4 bit -> the CPUID feature flag that makes it writable (SDM Vol 3 2.5 names each bit's
 * feature; leaf 0 = architectural, always there). A bit whose feature CPUID does not advertise
 * is reserved: setting it is #GP(0). */
enum { CPUID_EBX = 1, CPUID_ECX = 2, CPUID_EDX = 3 };
static const struct {
    uint32_t cr4_bit;
    uint32_t leaf;
    uint8_t reg, bit;
} cr4_features[] = {
    {CR4_VME, 1, CPUID_EDX, 1},         {CR4_PVI, 1, CPUID_EDX, 1},
    {CR4_TSD, 1, CPUID_EDX, 4},         {CR4_DE, 1, CPUID_EDX, 2},
    {CR4_PSE, 1, CPUID_EDX, 3},         {CR4_PAE, 1, CPUID_EDX, 6},
    {CR4_MCE, 1, CPUID_EDX, 7},         {CR4_PGE, 1, CPUID_EDX, 13},
    {CR4_PCE, 0, 0, 0},                 {CR4_OSFXSR, 1, CPUID_EDX, 24},
    {CR4_OSXMMEXCPT, 1, CPUID_EDX, 25}, {CR4_UMIP, 7, CPUID_ECX, 2},
    {CR4_LA57, 7, CPUID_ECX, 16},       {CR4_FSGSBASE, 7, CPUID_EBX, 0},
    {CR4_PCIDE, 1, CPUID_ECX, 17},      {CR4_OSXSAVE, 1, CPUID_ECX, 26},
    {CR4_SMEP, 7, CPUID_EBX, 7},        {CR4_SMAP, 7, CPUID_EBX, 20},
};

/* The CR4 bits this VP may set: those implemented here whose feature CPUID advertises. */
static uint64_t cr4_writable(const struct vcpu *vp)
{
    uint64_t ok = 0;
    for (size_t k = 0; k < ARRAY_SIZE(cr4_features); k++) {
        uint32_t r[4] = {0};
        if (cr4_features[k].leaf)
            cpu_cpuid_default(vp, cr4_features[k].leaf, 0, r);
        if (!cr4_features[k].leaf || ((r[cr4_features[k].reg] >> cr4_features[k].bit) & 1))
            ok |= cr4_features[k].cr4_bit;
    }
    return ok;
}

static void write_cr4(struct vcpu *vp, const struct insn *i, uint64_t v)
{
    if (v & ~cr4_writable(vp))
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

/* CR1, CR5-CR7 and CR9-CR15 do not exist: #UD, which an invalid opcode raises before any
 * privilege check (SDM MOV CR: #UD, then #GP(0) for CPL > 0). */
static void need_valid_cr(struct vcpu *vp, const struct insn *i)
{
    if (i->cc != 0 && i->cc != 2 && i->cc != 3 && i->cc != 4 && i->cc != 8)
        cpu_fault_ud(vp, i);
}

int op_MOV_CR_W(struct vcpu *vp, const struct insn *i)
{
    need_valid_cr(vp, i);
    sys_need_cpl0(vp, i);
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
    return sys_next(vp, i);
}

int op_MOV_CR_R(struct vcpu *vp, const struct insn *i)
{
    need_valid_cr(vp, i);
    sys_need_cpl0(vp, i);
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
    return sys_next(vp, i);
}

int op_LMSW(struct vcpu *vp, const struct insn *i)
{
    sys_need_cpl0(vp, i);
    uint64_t v = rm_rd(vp, i, i->r1, 2) & 0xf;
    /* LMSW can set PE but never clear it. */
    v |= vp->cr0 & CR0_PE;
    write_cr0(vp, i, (vp->cr0 & ~0xfull) | v);
    return sys_next(vp, i);
}

int op_CLTS(struct vcpu *vp, const struct insn *i)
{
    sys_need_cpl0(vp, i);
    vp->cr0 &= ~(uint64_t)CR0_TS;
    return sys_next(vp, i);
}

