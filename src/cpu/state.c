/* VP construction, reset (SDM Vol 3 10.1.1 power-up state) and the register accessors of cpu.h. */
#include <stdlib.h>
#include <string.h>

#include "cpu/dcache.h"
#include "cpu/flags.h"
#include "cpu/seglimit.h"
#include "cpu/vcpu.h"

const char *exit_reason_name(uint32_t reason)
{
    switch (reason) {
#define X(name, num) case num: return #name;
#include "cpu/exit_reasons.def"
#undef X
    default: return "UNKNOWN";
    }
}

uint64_t flags_get(struct vcpu *vp)
{
    if (vp->lf_op != LF_NONE) {
        vp->rflags = (vp->rflags & ~(uint64_t)FL_ARITH) | flags_arith(vp);
        vp->lf_op = LF_NONE;
    }
    return vp->rflags;
}

void flags_set(struct vcpu *vp, uint64_t fl, uint64_t mask)
{
    flags_get(vp);
    vp->rflags = (vp->rflags & ~mask) | (fl & mask);
    vp->rflags = (vp->rflags | 2) & ~(uint64_t)0xffc08028; /* bit 1 set, reserved bits clear */
}

void paging_state_of(const struct vcpu *vp, struct paging_state *ps)
{
    ps->cr0 = vp->cr0;
    ps->cr3 = vp->cr3;
    ps->cr4 = vp->cr4;
    ps->efer = vp->efer;
}

/* Also keeps CAREFUL_AC current: every change of CPL, RFLAGS.AC or CR0 ends here. Alignment
 * checks apply at CPL 3 with CR0.AM and RFLAGS.AC set (SDM Vol 3 6.15, interrupt 17). */
void vcpu_update_mmu_idx(struct vcpu *vp)
{
    if ((vp->cr0 & CR0_AM) && (vp->rflags & FL_AC) && vp->cpl == 3)
        vp->careful |= CAREFUL_AC;
    else
        vp->careful &= (uint8_t)~CAREFUL_AC;
    if (vp->careful & (CAREFUL_DBG | CAREFUL_AC))
        vp->mmu_idx = TLB_BYPASS;
    else
        vp->mmu_idx = vp->cpl == 3 ? 2 : (vp->rflags & FL_AC) ? 1 : 0;
}

void vcpu_update_mode(struct vcpu *vp)
{
    bool lma = vp->efer & EFER_LMA;
    uint32_t csattr = vp->seg[SEG_CS].attr;
    if (lma && (csattr & (1u << 13)))
        vp->mode = MODE_64;
    else if ((vp->cr0 & CR0_PE) && !(vp->rflags & FL_VM) && (csattr & (1u << 14)))
        vp->mode = MODE_32;
    else
        vp->mode = MODE_16;
    /* Outside 64-bit mode linear addresses are 32 bits; the mask keeps the segment tags of
     * seglimit.h so that accesses through non-flat segments reach seg_check_access. */
    vp->lin_mask = vp->mode == MODE_64 ? ~0ull : SEG_LIN_MASK32;
    seg_update_all(vp);
    vcpu_update_mmu_idx(vp);
}

/* EDX at reset holds the processor signature, the same value as CPUID.1:EAX (cpuid.c). */
#define CPU_RESET_SIGNATURE 0x000806c1u

static void seg_set_real(struct seg *s, uint16_t sel, uint32_t attr)
{
    s->sel = sel;
    s->base = (uint64_t)sel << 4;
    s->limit = 0xffff;
    s->attr = attr;
}

/* The state power-on and INIT share (SDM Vol 3 Table 10-1, both columns): real mode at
 * F000:FFF0 with CS.base FFFF0000h, EDX = the CPUID.1 signature, EFLAGS 2, CR2-CR4 and CR8 0,
 * GDTR/IDTR base 0 limit FFFFh, data segments present R/W accessed, EFER 0. */
static void reset_core(struct vcpu *vp)
{
    memset(vp->gpr, 0, sizeof(vp->gpr));
    vp->gpr[REG_RDX] = CPU_RESET_SIGNATURE;
    vp->rip = 0xfff0;
    vp->rflags = 2;
    vp->lf_op = LF_NONE;
    for (unsigned s = 0; s < SEG_COUNT; s++)
        seg_set_real(&vp->seg[s], 0, 0x93);
    vp->seg[SEG_CS].sel = 0xf000;
    vp->seg[SEG_CS].base = 0xffff0000;
    vp->seg[SEG_CS].attr = 0x9b;
    vp->seg[SEG_LDTR].attr = 0x82;
    vp->seg[SEG_TR].attr = 0x8b;
    vp->gdtr = (struct dtr){0, 0xffff};
    vp->idtr = (struct dtr){0, 0xffff};
    vp->cr2 = vp->cr3 = vp->cr4 = vp->cr8 = 0;
    memset(vp->dr, 0, sizeof(vp->dr));
    vp->dr[6] = 0xffff0ff0;
    vp->dr[7] = 0x400;
    vp->careful &= (uint8_t)~CAREFUL_DBG; /* no breakpoint enabled */
    vp->efer = 0;
    vp->cpl = 0;
    vp->halted = false;
    /* Application processors come out of reset waiting for a Startup IPI (SDM Vol 3 9.4.1);
     * cpu_run reports CPU_STOP_WAIT_SIPI until one arrives. */
    vp->wait_sipi = vp->apic_id != 0;
    vp->int_shadow = false;
    vp->nmi_blocked = false;
    vp->stop_exit = false;
    vp->shutdown = vp->shutdown_reported = false;
    vp->pending_exc = 0xff;
    vcpu_update_mode(vp);
    tlb_flush_all(&vp->tlb);
    dcache_flush_lookup(vp);
}

void cpu_reset(struct vcpu *vp)
{
    /* SDM Vol 3 Table 10-1, power-up/RESET column. */
    vp->cr0 = 0x60000010;
    vp->xcr0 = 1;
    vp->star = vp->lstar = vp->cstar = vp->sfmask = vp->kernel_gs_base = vp->tsc_aux = 0;
    vp->pat = 0x0007040600070406ull;
    vp->sysenter_cs = vp->sysenter_esp = vp->sysenter_eip = 0;
    vp->misc_enable = 1; /* fast strings */
    vp->mtrr_def_type = 0;
    memset(vp->mtrr_fixed, 0, sizeof(vp->mtrr_fixed));
    memset(vp->mtrr_var, 0, sizeof(vp->mtrr_var));
    /* IA32_TSC_ADJUST keeps its value across INIT (it is 0 from cpu_create). */
    vp->spec_ctrl = vp->mcg_status = 0;
    memset(vp->mc_bank, 0, sizeof(vp->mc_bank));
    vp->apic_base = 0xfee00000ull | (1u << 11) | (vp->apic_id == 0 ? 1u << 8 : 0);
    /* x87 after power-up: FCW 0040h, FSW 0, FTW 5555h (every register tagged zero, i.e. all
     * eight in use: the abridged FXSAVE tag byte is FFh) holding +0.0; MXCSR 1F80h; XMM 0. */
    memset(vp->fxsave, 0, sizeof(vp->fxsave));
    memset(vp->ymmh, 0, sizeof(vp->ymmh));
    vp->fxsave[0] = 0x40;
    vp->fxsave[4] = 0xff;
    vp->fxsave[24] = 0x80;
    vp->fxsave[25] = 0x1f;
    reset_core(vp);
}

void cpu_reset_init(struct vcpu *vp)
{
    /* SDM Vol 3 Table 10-1, INIT column, and 10.1.1: CR0.CD/NW kept, ET set, the rest cleared;
     * x87, MXCSR, XMM/YMM, MTRRs, PAT, the APIC base, XCR0, the SYSCALL/SYSENTER MSRs and the
     * TSC are left as they were (KVM keeps the same set on INIT). */
    vp->cr0 = (vp->cr0 & (CR0_CD | CR0_NW)) | CR0_ET;
    reset_core(vp);
}

struct vcpu *cpu_create(struct physmem *pm, const struct cpu_env *env, unsigned apic_id)
{
    struct vcpu *vp = calloc(1, sizeof(*vp));
    if (!vp)
        return NULL;
    vp->pm = pm;
    if (env)
        vp->env = *env;
    vp->apic_id = apic_id;
    vp->rng[0] = 0x9e3779b97f4a7c15ull ^ apic_id;
    vp->rng[1] = 0xd1b54a32d192ed03ull + apic_id;
    tlb_init(&vp->tlb);
    if (dcache_attach(vp)) {
        free(vp);
        return NULL;
    }
    cpu_reset(vp);
    return vp;
}

void cpu_destroy(struct vcpu *vp)
{
    if (!vp)
        return;
    dcache_detach(vp);
    free(vp);
}

void cpu_raise_event(struct vcpu *vp, uint32_t ev)
{
    vp->events |= ev;
}

void cpu_lower_event(struct vcpu *vp, uint32_t ev)
{
    vp->events &= ~ev;
}

void cpu_raise_sipi(struct vcpu *vp, uint8_t vector)
{
    vp->sipi_vector = vector;
    vp->events |= CPU_EV_SIPI;
}

const uint64_t *cpu_icount_ptr(const struct vcpu *vp) { return &vp->icount; }
uint64_t cpu_icount(const struct vcpu *vp) { return vp->icount; }

uint64_t cpu_get_gpr(const struct vcpu *vp, unsigned reg) { return reg < 16 ? vp->gpr[reg] : 0; }
void cpu_set_gpr(struct vcpu *vp, unsigned reg, uint64_t v)
{
    if (reg < 16)
        vp->gpr[reg] = v;
}
uint64_t cpu_get_rip(const struct vcpu *vp) { return vp->rip; }
void cpu_set_rip(struct vcpu *vp, uint64_t rip) { vp->rip = rip; }

uint64_t cpu_get_rflags(const struct vcpu *vp)
{
    return (vp->rflags & ~(uint64_t)FL_ARITH) | flags_arith(vp);
}

void cpu_set_rflags(struct vcpu *vp, uint64_t rflags)
{
    vp->lf_op = LF_NONE;
    vp->rflags = (rflags | 2) & ~(uint64_t)0xffc08028;
    vcpu_update_mode(vp);
}

void cpu_get_seg(const struct vcpu *vp, unsigned seg, struct seg *out)
{
    if (seg < SEG_COUNT)
        *out = vp->seg[seg];
    else
        memset(out, 0, sizeof(*out));
}

void cpu_set_seg(struct vcpu *vp, unsigned seg, const struct seg *s)
{
    if (seg >= SEG_COUNT)
        return;
    vp->seg[seg] = *s;
    if (seg == SEG_CS)
        vp->cpl = (uint8_t)((vp->cr0 & CR0_PE) ? (s->sel & 3) : 0);
    if (seg == SEG_SS && (vp->cr0 & CR0_PE))
        vp->cpl = (uint8_t)((s->attr >> 5) & 3);
    vcpu_update_mode(vp);
}

void cpu_get_dtr(const struct vcpu *vp, bool idt, struct dtr *out) { *out = idt ? vp->idtr : vp->gdtr; }
void cpu_set_dtr(struct vcpu *vp, bool idt, const struct dtr *d)
{
    if (idt)
        vp->idtr = *d;
    else
        vp->gdtr = *d;
}

uint64_t cpu_get_cr(const struct vcpu *vp, unsigned cr)
{
    switch (cr) {
    case 0: return vp->cr0;
    case 2: return vp->cr2;
    case 3: return vp->cr3;
    case 4: return vp->cr4;
    case 8: return vp->cr8;
    default: return 0;
    }
}

void cpu_set_cr(struct vcpu *vp, unsigned cr, uint64_t v)
{
    switch (cr) {
    case 0: vp->cr0 = v; break;
    case 2: vp->cr2 = v; break;
    case 3: vp->cr3 = v; break;
    case 4: vp->cr4 = v; break;
    case 8: vp->cr8 = v & 15; break;
    default: return;
    }
    if (cr != 2 && cr != 8) {
        tlb_flush_all(&vp->tlb);
        dcache_flush_lookup(vp);
    }
    vcpu_update_mode(vp);
}

uint64_t cpu_get_efer(const struct vcpu *vp) { return vp->efer; }
void cpu_set_efer(struct vcpu *vp, uint64_t efer)
{
    vp->efer = efer;
    tlb_flush_all(&vp->tlb);
    dcache_flush_lookup(vp);
    vcpu_update_mode(vp);
}

void cpu_get_xmm(const struct vcpu *vp, unsigned reg, uint64_t out[2])
{
    if (reg >= 16) {
        out[0] = out[1] = 0;
        return;
    }
    memcpy(out, vp->fxsave + 160 + 16 * reg, 16);
}

void cpu_set_xmm(struct vcpu *vp, unsigned reg, const uint64_t in[2])
{
    if (reg < 16)
        memcpy(vp->fxsave + 160 + 16 * reg, in, 16);
}

unsigned cpu_get_cpl(const struct vcpu *vp) { return vp->cpl; }
bool cpu_in_long_mode(const struct vcpu *vp) { return vp->efer & EFER_LMA; }
bool cpu_in_64bit_mode(const struct vcpu *vp) { return vp->mode == MODE_64; }
bool cpu_is_halted(const struct vcpu *vp) { return vp->halted; }
void cpu_set_halted(struct vcpu *vp, bool halted)
{
    vp->halted = halted;
    vp->mwait = CPU_MWAIT_NONE;
}

unsigned cpu_mwait_state(const struct vcpu *vp) { return vp->halted ? vp->mwait : CPU_MWAIT_NONE; }
unsigned cpu_apic_id(const struct vcpu *vp) { return vp->apic_id; }

void cpu_inject_exception(struct vcpu *vp, uint8_t vector, bool has_error, uint32_t error)
{
    vp->pending_exc = vector;
    vp->pending_has_err = has_error;
    vp->pending_err = error;
}

void cpu_tlb_flush_all(struct vcpu *vp, bool include_global)
{
    if (include_global)
        tlb_flush_all(&vp->tlb);
    else
        tlb_flush_nonglobal(&vp->tlb);
    dcache_flush_lookup(vp);
}

void cpu_tlb_flush_va(struct vcpu *vp, gva_t va)
{
    tlb_flush_va(&vp->tlb, va);
    dcache_flush_lookup(vp);
}

void cpu_get_stats(const struct vcpu *vp, struct cpu_stats *out)
{
    *out = vp->stats;
    out->tlb_hits = vp->tlb.hits;
    out->tlb_misses = vp->tlb.misses;
}

uint64_t cpu_get_tsc(const struct vcpu *vp)
{
    return vp->icount + (uint64_t)vp->tsc_offset;
}

void cpu_set_tsc_offset(struct vcpu *vp, int64_t offset)
{
    vp->tsc_offset = offset;
}
