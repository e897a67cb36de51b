/* System instructions: descriptor tables, SMSW, segment loads, MSRs, CPUID, TSC, RDRAND/RDSEED,
 * FS/GS base, TLB control, VMCALL, MONITOR/MWAIT, LAR/LSL/VERR/VERW. (Control registers:
 * ops_cr.c; debug registers: debug.c; XGETBV/XSETBV: xsave.c.) */
#include "cpu/dcache.h"
#include "cpu/exits.h"
#include "cpu/intr.h"
#include "cpu/msr.h"
#include "cpu/ops_inline.h"
#include "cpu/seglimit.h"

static void sync_icount(struct vcpu *vp, const struct insn *i)
{
    vp->icount = vp->ic0 + i->idx;
}

/* ---- descriptor tables ---- */
static int load_dtr(struct vcpu *vp, const struct insn *i, struct dtr *d)
{
    sys_need_cpl0(vp, i);
    gva_t la = lin_of(vp, i);
    uint16_t limit = (uint16_t)mem_rd(vp, i, la, 2);
    uint64_t base = mem_rd(vp, i, lin_seg(vp, i->seg, (ea_of(vp, i) + 2) & amask_tab[i->asz]),
                           vp->mode == MODE_64 ? 8 : 4);
    if (vp->mode == MODE_64) {
        struct paging_state ps;
        paging_state_of(vp, &ps);
        if (!mmu_canonical(&ps, base))
            cpu_fault_gp(vp, i, 0);
    } else if (i->opsz == 2) {
        base &= 0xffffff;
    }
    d->base = base;
    d->limit = limit;
    return sys_next(vp, i);
}

int op_LGDT(struct vcpu *vp, const struct insn *i) { return load_dtr(vp, i, &vp->gdtr); }
int op_LIDT(struct vcpu *vp, const struct insn *i) { return load_dtr(vp, i, &vp->idtr); }

static int store_dtr(struct vcpu *vp, const struct insn *i, const struct dtr *d)
{
    if ((vp->cr4 & CR4_UMIP) && vp->cpl > 0)
        cpu_fault_gp(vp, i, 0);
    unsigned bsz = vp->mode == MODE_64 ? 8 : 4;
    gva_t la = lin_of(vp, i);
    mem_probe_write(vp, i, la, 2 + bsz);
    mem_wr(vp, i, la, 2, d->limit);
    mem_wr(vp, i, lin_seg(vp, i->seg, (ea_of(vp, i) + 2) & amask_tab[i->asz]), bsz, d->base);
    return H_NEXT;
}

int op_SGDT(struct vcpu *vp, const struct insn *i) { return store_dtr(vp, i, &vp->gdtr); }
int op_SIDT(struct vcpu *vp, const struct insn *i) { return store_dtr(vp, i, &vp->idtr); }

static uint16_t sel_operand(struct vcpu *vp, const struct insn *i)
{
    return (uint16_t)rm_rd(vp, i, i->r1, 2);
}

static void store_sel(struct vcpu *vp, const struct insn *i, uint16_t sel)
{
    if ((vp->cr4 & CR4_UMIP) && vp->cpl > 0)
        cpu_fault_gp(vp, i, 0);
    if (i->flags & IF_MEM)
        mem_wr(vp, i, lin_of(vp, i), 2, sel);
    else
        wreg(vp, i->r1, i->opsz, sel);
}

/* In IA-32e mode LDT and TSS descriptors are 16 bytes: the whole descriptor must lie within
 * the GDT, the upper half's type field must be 0 and the base canonical (SDM LLDT, LTR:
 * #GP(selector)). */
static void check_long_sys_desc(struct vcpu *vp, const struct insn *i, uint16_t sel,
                                const uint64_t d[2], const struct seg *s)
{
    if (!(vp->efer & EFER_LMA))
        return;
    struct paging_state ps;
    paging_state_of(vp, &ps);
    if ((sel & 0xfff8u) + 15u > vp->gdtr.limit || ((d[1] >> 40) & 0x1f) ||
        !mmu_canonical(&ps, s->base))
        cpu_fault_gp(vp, i, sel & 0xfffc);
}

/* LLDT, SLDT, LTR, STR, LAR, LSL, VERR, VERW, ARPL: #UD, "not recognized", in real and V86 mode. */
static void need_pmode(struct vcpu *vp, const struct insn *i)
{
    if (!(vp->cr0 & CR0_PE) || (vp->rflags & FL_VM))
        cpu_fault_ud(vp, i);
}

int op_LLDT(struct vcpu *vp, const struct insn *i)
{
    need_pmode(vp, i);
    sys_need_cpl0(vp, i);
    uint16_t sel = sel_operand(vp, i);
    if ((sel & 0xfffc) == 0) {
        struct seg s = {sel, 0, 0, 1u << 16};
        vp->seg[SEG_LDTR] = s;
        return sys_next(vp, i);
    }
    if (sel & 4)
        cpu_fault_gp(vp, i, sel & 0xfffc);
    uint64_t d[2];
    uint32_t err;
    int v = desc_read(vp, sel, d, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    struct seg s;
    desc_to_seg(d, sel, &s);
    if ((s.attr & 0x1f) != 2)
        cpu_fault_gp(vp, i, sel & 0xfffc);
    check_long_sys_desc(vp, i, sel, d, &s);
    if (!(s.attr & 0x80))
        cpu_fault(vp, i, EXC_NP, true, sel & 0xfffc);
    vp->seg[SEG_LDTR] = s;
    return sys_next(vp, i);
}

int op_SLDT(struct vcpu *vp, const struct insn *i)
{
    need_pmode(vp, i);
    store_sel(vp, i, vp->seg[SEG_LDTR].sel);
    return H_NEXT;
}

int op_LTR(struct vcpu *vp, const struct insn *i)
{
    need_pmode(vp, i);
    sys_need_cpl0(vp, i);
    uint16_t sel = sel_operand(vp, i);
    if ((sel & 0xfffc) == 0 || (sel & 4))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    uint64_t d[2];
    uint32_t err;
    int v = desc_read(vp, sel, d, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    struct seg s;
    desc_to_seg(d, sel, &s);
    /* An available TSS: 32/64-bit (9), or 16-bit (1) outside IA-32e mode; a busy one is #GP. */
    unsigned type = s.attr & 0x1f;
    if (type != 9 && (type != 1 || (vp->efer & EFER_LMA)))
        cpu_fault_gp(vp, i, sel & 0xfffc);
    check_long_sys_desc(vp, i, sel, d, &s);
    if (!(s.attr & 0x80))
        cpu_fault(vp, i, EXC_NP, true, sel & 0xfffc);
    /* Mark the TSS busy in the GDT. */
    uint8_t b = (uint8_t)((d[0] >> 40) | 2);
    mem_sys_write(vp, vp->gdtr.base + (sel & 0xfff8u) + 5, &b, 1, &err);
    s.attr |= 2;
    vp->seg[SEG_TR] = s;
    return sys_next(vp, i);
}

int op_STR(struct vcpu *vp, const struct insn *i)
{
    need_pmode(vp, i);
    store_sel(vp, i, vp->seg[SEG_TR].sel);
    return H_NEXT;
}

int op_SMSW(struct vcpu *vp, const struct insn *i)
{
    if ((vp->cr4 & CR4_UMIP) && vp->cpl > 0)
        cpu_fault_gp(vp, i, 0);
    if (i->flags & IF_MEM)
        mem_wr(vp, i, lin_of(vp, i), 2, vp->cr0 & 0xffff);
    else
        wreg(vp, i->r1, i->opsz, vp->cr0);
    return H_NEXT;
}

/* ---- segment registers ---- */
int op_MOV_SEG_W(struct vcpu *vp, const struct insn *i)
{
    if (i->cc == SEG_CS || i->cc >= SEG_LDTR)
        cpu_fault_ud(vp, i);
    uint16_t sel = (i->flags & IF_MEM) ? (uint16_t)mem_rd(vp, i, lin_of(vp, i), 2)
                                       : (uint16_t)vp->gpr[i->r1 >> 3];
    uint32_t err;
    int v = seg_load(vp, i->cc, sel, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    if (i->cc == SEG_SS)
        vp->int_shadow = true; /* SDM MOV: loading SS blocks interrupts for one instruction */
    return sys_next(vp, i);
}

int op_MOV_SEG_R(struct vcpu *vp, const struct insn *i)
{
    uint16_t sel = vp->seg[i->cc].sel;
    if (i->flags & IF_MEM)
        mem_wr(vp, i, lin_of(vp, i), 2, sel);
    else
        wreg(vp, i->r1, i->opsz, sel);
    return H_NEXT;
}

int op_LSEG(struct vcpu *vp, const struct insn *i)
{
    unsigned sz = i->opsz;
    uint64_t off = mem_rd(vp, i, lin_of(vp, i), sz);
    uint16_t sel = (uint16_t)mem_rd(vp, i, lin_seg(vp, i->seg, (ea_of(vp, i) + sz) & amask_tab[i->asz]), 2);
    uint32_t err;
    int v = seg_load(vp, i->cc, sel, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    wreg(vp, i->r1, sz, off);
    if (i->cc == SEG_SS)
        vp->int_shadow = true;
    return sys_next(vp, i);
}

int op_RDFSGS(struct vcpu *vp, const struct insn *i)
{
    if (vp->mode != MODE_64 || !(vp->cr4 & CR4_FSGSBASE))
        cpu_fault_ud(vp, i);
    wreg(vp, i->r1, i->opsz, vp->seg[i->cc ? SEG_GS : SEG_FS].base);
    return H_NEXT;
}

int op_WRFSGS(struct vcpu *vp, const struct insn *i)
{
    if (vp->mode != MODE_64 || !(vp->cr4 & CR4_FSGSBASE))
        cpu_fault_ud(vp, i);
    uint64_t v = rreg(vp, i->r1, i->opsz);
    struct paging_state ps;
    paging_state_of(vp, &ps);
    if (!mmu_canonical(&ps, v))
        cpu_fault_gp(vp, i, 0);
    unsigned s = i->cc ? SEG_GS : SEG_FS;
    struct seg n = vp->seg[s];
    n.base = v;
    seg_commit(vp, s, &n);
    return sys_next(vp, i);
}

/* ---- MSRs, CPUID, time, randomness ---- */
int op_RDMSR(struct vcpu *vp, const struct insn *i)
{
    sys_need_cpl0(vp, i);
    sync_icount(vp, i);
    uint32_t idx = (uint32_t)vp->gpr[REG_RCX];
    uint64_t v = 0;
    int r = msr_read(vp, idx, &v);
    if (r == MSR_EXIT) {
        if (!vp->env.exit)
            cpu_fault_gp(vp, i, 0);
        struct vmexit ex = {.reason = EXIT_REASON_MSR_READ};
        ex.u.msr.index = idx;
        exit_call(vp, i, &ex);
        v = ex.u.msr.value;
    } else if (r == MSR_GP) {
        cpu_fault_gp(vp, i, 0);
    }
    vp->gpr[REG_RAX] = (uint32_t)v;
    vp->gpr[REG_RDX] = v >> 32;
    return sys_next(vp, i);
}

int op_WRMSR(struct vcpu *vp, const struct insn *i)
{
    sys_need_cpl0(vp, i);
    sync_icount(vp, i);
    uint32_t idx = (uint32_t)vp->gpr[REG_RCX];
    uint64_t v = (vp->gpr[REG_RDX] << 32) | (uint32_t)vp->gpr[REG_RAX];
    int r = msr_write(vp, idx, v);
    if (r == MSR_EXIT) {
        if (!vp->env.exit)
            cpu_fault_gp(vp, i, 0);
        struct vmexit ex = {.reason = EXIT_REASON_MSR_WRITE};
        ex.u.msr.index = idx;
        ex.u.msr.value = v;
        exit_call(vp, i, &ex);
    } else if (r == MSR_GP) {
        cpu_fault_gp(vp, i, 0);
    }
    return sys_next(vp, i);
}

int op_CPUID(struct vcpu *vp, const struct insn *i)
{
    if (vp->env.exit) {
        struct vmexit ex = {.reason = EXIT_REASON_CPUID};
        exit_call(vp, i, &ex);
    } else {
        uint32_t out[4];
        cpu_cpuid_default(vp, (uint32_t)vp->gpr[REG_RAX], (uint32_t)vp->gpr[REG_RCX], out);
        vp->gpr[REG_RAX] = out[0];
        vp->gpr[REG_RBX] = out[1];
        vp->gpr[REG_RCX] = out[2];
        vp->gpr[REG_RDX] = out[3];
    }
    return sys_next(vp, i);
}

int op_RDTSC(struct vcpu *vp, const struct insn *i)
{
    if ((vp->cr4 & CR4_TSD) && vp->cpl > 0 && (vp->cr0 & CR0_PE))
        cpu_fault_gp(vp, i, 0);
    sync_icount(vp, i);
    uint64_t t = cpu_get_tsc(vp);
    vp->gpr[REG_RAX] = (uint32_t)t;
    vp->gpr[REG_RDX] = t >> 32;
    return H_NEXT;
}

int op_RDTSCP(struct vcpu *vp, const struct insn *i)
{
    op_RDTSC(vp, i);
    vp->gpr[REG_RCX] = (uint32_t)vp->tsc_aux;
    return H_NEXT;
}

int op_RDPID(struct vcpu *vp, const struct insn *i)
{
    wreg(vp, i->r1, vp->mode == MODE_64 ? 8 : 4, (uint32_t)vp->tsc_aux);
    return H_NEXT;
}

/* xorshift128+, seeded per VP at creation: deterministic across runs. */
int op_RDRAND(struct vcpu *vp, const struct insn *i)
{
    uint64_t s1 = vp->rng[0];
    const uint64_t s0 = vp->rng[1];
    vp->rng[0] = s0;
    s1 ^= s1 << 23;
    vp->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    wreg(vp, i->r1, i->opsz, vp->rng[1] + s0);
    flags_put_arith(vp, FL_CF);
    return H_NEXT;
}

/* ---- TLB, caches, misc ---- */
int op_INVLPG(struct vcpu *vp, const struct insn *i)
{
    sys_need_cpl0(vp, i);
    cpu_tlb_flush_va(vp, seg_untag(vp, lin_of(vp, i))); /* the linear address, no tag */
    return sys_next(vp, i);
}

int op_INVPCID(struct vcpu *vp, const struct insn *i)
{
    if (vp->rflags & FL_VM)
        cpu_fault_ud(vp, i); /* not recognized in virtual-8086 mode */
    sys_need_cpl0(vp, i);
    /* The type register is 64-bit in 64-bit mode, 32-bit elsewhere. */
    uint64_t type = vp->gpr[i->r1 >> 3];
    if (vp->mode != MODE_64)
        type = (uint32_t)type;
    if (type > 3)
        cpu_fault_gp(vp, i, 0);
    /* SDM INVPCID: the descriptor's bits 63:12 are reserved; PCIDs other than 0 need
     * CR4.PCIDE for types 0 and 1; type 0 needs a canonical address. */
    uint64_t desc = mem_rd(vp, i, lin_seg(vp, i->seg, ea_of(vp, i) & amask_tab[i->asz]), 8);
    uint64_t va = mem_rd(vp, i, lin_seg(vp, i->seg, (ea_of(vp, i) + 8) & amask_tab[i->asz]), 8);
    if (desc >> 12)
        cpu_fault_gp(vp, i, 0);
    if (type <= 1 && (desc & 0xFFF) && !(vp->cr4 & CR4_PCIDE))
        cpu_fault_gp(vp, i, 0);
    if (type == 0) {
        struct paging_state ps;
        paging_state_of(vp, &ps);
        if (!mmu_canonical(&ps, va))
            cpu_fault_gp(vp, i, 0);
        cpu_tlb_flush_va(vp, va);
    } else {
        cpu_tlb_flush_all(vp, type == 2);
    }
    return sys_next(vp, i);
}

int op_WBINVD(struct vcpu *vp, const struct insn *i)
{
    sys_need_cpl0(vp, i);
    return sys_next(vp, i);
}

int op_VMCALL(struct vcpu *vp, const struct insn *i)
{
    if (!vp->env.exit)
        cpu_fault_ud(vp, i);
    struct vmexit ex = {.reason = EXIT_REASON_VMCALL};
    if (exit_call(vp, i, &ex) == EXIT_RETRY) {
        /* A rep hypercall made partial progress: VMCALL runs again, not retired, after any
         * pending interrupt (TLFS "hypercall continuation"). */
        vp->rip = next_ip(vp, i) - i->len;
        if (vp->mode != MODE_64)
            vp->rip = (uint32_t)vp->rip;
        return H_NORETIRE;
    }
    return sys_next(vp, i);
}

/* No performance-monitoring counters exist (CPUID leaf 0AH is all zero), so every ECX names
 * an invalid counter: #GP(0) at any CPL, the same fault the CR4.PCE check raises (SDM RDPMC). */
int op_RDPMC(struct vcpu *vp, const struct insn *i)
{
    cpu_fault_gp(vp, i, 0);
}

/* MONITOR/MWAIT are not advertised (CPUID.1:ECX[3] clear, IA32_MISC_ENABLE[18] reserved):
 * an MWAIT that halts would also have to wake when another VP writes the monitored line,
 * which Linux relies on (it skips the wake-up IPI to a CPU idling in MWAIT). */
/* MONITOR/MWAIT (SDM Vol 2; CPUID.1:ECX.MONITOR and leaf 5): CPL 0 only (#UD otherwise), no
 * MONITOR extensions (ECX must be 0), MWAIT extension "interrupt as break event" (ECX bit 0).
 * MWAIT is a hinted HLT that needs an armed monitor; the machine wakes it on an interrupt and
 * whenever another VP ran (cpu.h). The hints in EAX/EDX are ignored. */
int op_MONITOR(struct vcpu *vp, const struct insn *i)
{
    if ((vp->cr0 & CR0_PE) && (vp->cpl != 0 || (vp->rflags & FL_VM)))
        cpu_fault_ud(vp, i);
    if ((uint32_t)vp->gpr[REG_RCX] != 0)
        cpu_fault_gp(vp, i, 0);
    gva_t la = lin_seg(vp, i->seg, vp->gpr[REG_RAX] & amask_tab[i->asz]);
    mem_probe_read(vp, i, la, 1); /* the checks and #PF of a one-byte load, but no read */
    struct vmexit ex = {.reason = EXIT_REASON_MONITOR};
    exit_call(vp, i, &ex);
    vp->monitor_la = seg_untag(vp, la);
    vp->monitor_armed = true;
    return sys_next(vp, i);
}

int op_MWAIT(struct vcpu *vp, const struct insn *i)
{
    if ((vp->cr0 & CR0_PE) && (vp->cpl != 0 || (vp->rflags & FL_VM)))
        cpu_fault_ud(vp, i);
    uint32_t ecx = (uint32_t)vp->gpr[REG_RCX];
    if (ecx & ~1u)
        cpu_fault_gp(vp, i, 0);
    struct vmexit ex = {.reason = EXIT_REASON_MWAIT};
    exit_call(vp, i, &ex);
    /* Without an armed monitor MWAIT does not wait (SDM MWAIT: "no optimized state"). */
    if (vp->monitor_armed) {
        vp->monitor_armed = false;
        vp->halted = true;
        vp->mwait = (ecx & 1) ? CPU_MWAIT_BREAK : CPU_MWAIT_WAIT;
    }
    return sys_next(vp, i);
}

/* SMAP's AC toggles: CPL 0 only (SDM CLAC/STAC). */
static int set_ac(struct vcpu *vp, const struct insn *i, bool on)
{
    if (vp->cpl != 0 || !(vp->cr0 & CR0_PE) || (vp->rflags & FL_VM))
        cpu_fault_ud(vp, i);
    if (on)
        vp->rflags |= FL_AC;
    else
        vp->rflags &= ~(uint64_t)FL_AC;
    vcpu_update_mmu_idx(vp);
    return sys_next(vp, i);
}

int op_CLAC(struct vcpu *vp, const struct insn *i) { return set_ac(vp, i, false); }
int op_STAC(struct vcpu *vp, const struct insn *i) { return set_ac(vp, i, true); }

/* ---- LAR / LSL / VERR / VERW: ZF reports whether the selector passes ---- */
static bool sel_visible(struct vcpu *vp, uint16_t sel, struct seg *s)
{
    if ((sel & 0xfffc) == 0)
        return false;
    uint64_t d[2];
    uint32_t err;
    if (desc_read(vp, sel, d, &err))
        return false;
    desc_to_seg(d, sel, s);
    unsigned dpl = (s->attr >> 5) & 3;
    bool conforming_code = (s->attr & 0x18) == 0x18 && (s->attr & 4);
    return conforming_code || (dpl >= vp->cpl && dpl >= (sel & 3u));
}

/* System-descriptor types LAR and LSL accept (SDM LAR, LSL: "valid" types). Legacy mode:
 * 16-bit TSS (1, 3), LDT (2), 32-bit TSS (9, B), and for LAR the call gates (4, C) and task
 * gate (5). IA-32e mode: LDT, 64-bit TSS, and for LAR the 64-bit call gate; the 16-byte
 * descriptor's upper type field must be 0. */
static bool sys_type_ok(struct vcpu *vp, uint16_t sel, const struct seg *s, bool lar)
{
    unsigned t = s->attr & 0xf;
    if (!(vp->efer & EFER_LMA))
        return t == 1 || t == 2 || t == 3 || t == 9 || t == 0xb || (lar && (t == 4 || t == 5 || t == 0xc));
    if (!(t == 2 || t == 9 || t == 0xb || (lar && t == 0xc)))
        return false;
    uint64_t d[2];
    uint32_t err;
    uint32_t limit = (sel & 4) ? vp->seg[SEG_LDTR].limit : vp->gdtr.limit;
    return (sel & 0xfff8u) + 15u <= limit && !desc_read(vp, sel, d, &err) && !((d[1] >> 40) & 0x1f);
}

static void set_zf(struct vcpu *vp, bool z)
{
    flags_set(vp, z ? FL_ZF : 0, FL_ZF);
}

/* ARPL r/m16, r16 (protected mode; opcode 63 is MOVSXD in 64-bit mode): raise the
 * destination selector's RPL to the source's, ZF telling whether it changed. */
int op_ARPL(struct vcpu *vp, const struct insn *i)
{
    need_pmode(vp, i);
    gva_t la = (i->flags & IF_MEM) ? lin_of(vp, i) : 0;
    uint16_t dst = (uint16_t)((i->flags & IF_MEM) ? mem_rd(vp, i, la, 2) : rreg(vp, i->r1, 2));
    uint16_t src = (uint16_t)rreg(vp, i->r2, 2);
    bool raise = (dst & 3) < (src & 3);
    if (raise) {
        dst = (uint16_t)((dst & ~3u) | (src & 3u));
        if (i->flags & IF_MEM)
            mem_wr(vp, i, la, 2, dst);
        else
            wreg(vp, i->r1, 2, dst);
    }
    set_zf(vp, raise);
    return H_NEXT;
}

int op_LAR(struct vcpu *vp, const struct insn *i)
{
    need_pmode(vp, i);
    struct seg s;
    uint16_t sel = (uint16_t)rm_rd(vp, i, i->r2, 2);
    bool ok = sel_visible(vp, sel, &s);
    if (ok && !(s.attr & 0x10))
        ok = sys_type_ok(vp, sel, &s, true);
    if (ok)
        wreg(vp, i->r1, i->opsz, (uint64_t)(s.attr & 0xf0ff) << 8);
    set_zf(vp, ok);
    return H_NEXT;
}

int op_LSL(struct vcpu *vp, const struct insn *i)
{
    need_pmode(vp, i);
    struct seg s;
    uint16_t sel = (uint16_t)rm_rd(vp, i, i->r2, 2);
    bool ok = sel_visible(vp, sel, &s);
    if (ok && !(s.attr & 0x10))
        ok = sys_type_ok(vp, sel, &s, false);
    if (ok)
        wreg(vp, i->r1, i->opsz, s.limit);
    set_zf(vp, ok);
    return H_NEXT;
}

static int verx(struct vcpu *vp, const struct insn *i, bool write)
{
    need_pmode(vp, i);
    struct seg s;
    uint16_t sel = (uint16_t)rm_rd(vp, i, i->r1, 2);
    bool ok = sel_visible(vp, sel, &s) && (s.attr & 0x10);
    if (ok) {
        bool code = s.attr & 8;
        ok = write ? (!code && (s.attr & 2)) : (!code || (s.attr & 2));
    }
    set_zf(vp, ok);
    return H_NEXT;
}

int op_VERR(struct vcpu *vp, const struct insn *i) { return verx(vp, i, false); }
int op_VERW(struct vcpu *vp, const struct insn *i) { return verx(vp, i, true); }
