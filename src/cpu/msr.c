/* Architectural MSRs kept in struct vcpu, from one table: index, name, storage, access kind.
 * Anything not listed (IA32_APIC_BASE, x2APIC 0x800-0x8FF, TSC_DEADLINE, 0x40000000+...) leaves
 * the CPU as EXIT_REASON_MSR_READ/WRITE. */
#include <stddef.h>

#include "cpu/dcache.h"
#include "cpu/intr.h"
#include "cpu/msr.h"

enum msr_kind { MK_FIELD, MK_RO_ZERO, MK_IGNORE, MK_TSC, MK_EFER, MK_FSBASE, MK_GSBASE,
                MK_MTRRCAP, MK_FEATCTL, MK_CANON, MK_TSCAUX, MK_PAT, MK_ZERO_ONLY };

struct msr_def {
    uint32_t index;
    uint32_t count;   /* consecutive MSRs mapped onto an array field */
    enum msr_kind kind;
    size_t off;       /* offsetof(struct vcpu, field) for MK_FIELD/MK_CANON/MK_TSCAUX/MK_PAT */
    const char *name;
};

#define F(f) offsetof(struct vcpu, f)
/* X(name, index, count, kind, field offset) */
#define MSR_LIST(X)                                                                             \
    X(IA32_PLATFORM_ID, 0x17, 1, MK_RO_ZERO, 0)                                                 \
    X(IA32_FEATURE_CONTROL, 0x3a, 1, MK_FEATCTL, 0)                                             \
    X(IA32_TIME_STAMP_COUNTER, 0x10, 1, MK_TSC, 0)                                              \
    X(IA32_BIOS_UPDT_TRIG, 0x79, 1, MK_IGNORE, 0)                                               \
    X(IA32_BIOS_SIGN_ID, 0x8b, 1, MK_IGNORE, 0)                                                 \
    X(IA32_MTRRCAP, 0xfe, 1, MK_MTRRCAP, 0)                                                     \
    X(IA32_SYSENTER_CS, 0x174, 1, MK_FIELD, F(sysenter_cs))                                     \
    X(IA32_SYSENTER_ESP, 0x175, 1, MK_CANON, F(sysenter_esp))                                   \
    X(IA32_SYSENTER_EIP, 0x176, 1, MK_CANON, F(sysenter_eip))                                   \
    X(IA32_MCG_CAP, 0x179, 1, MK_RO_ZERO, 0)                                                    \
    X(IA32_MCG_STATUS, 0x17a, 1, MK_IGNORE, 0)                                                  \
    X(IA32_MISC_ENABLE, 0x1a0, 1, MK_FIELD, F(misc_enable))                                     \
    X(IA32_DEBUGCTL, 0x1d9, 1, MK_IGNORE, 0)                                                    \
    X(IA32_MTRR_PHYSBASE0, 0x200, 16, MK_FIELD, F(mtrr_var))                                    \
    X(IA32_MTRR_FIX64K_00000, 0x250, 1, MK_FIELD, F(mtrr_fixed[0]))                             \
    X(IA32_MTRR_FIX16K_80000, 0x258, 2, MK_FIELD, F(mtrr_fixed[1]))                             \
    X(IA32_MTRR_FIX4K_C0000, 0x268, 8, MK_FIELD, F(mtrr_fixed[3]))                              \
    X(IA32_PAT, 0x277, 1, MK_PAT, F(pat))                                                       \
    X(IA32_MTRR_DEF_TYPE, 0x2ff, 1, MK_FIELD, F(mtrr_def_type))                                 \
    /* No supervisor XSAVE component exists (CPUID.(0DH,1):ECX/EDX = 0): only 0 is valid. */    \
    X(IA32_XSS, 0xda0, 1, MK_ZERO_ONLY, 0)                                                      \
    X(IA32_EFER, 0xc0000080, 1, MK_EFER, 0)                                                     \
    X(IA32_STAR, 0xc0000081, 1, MK_FIELD, F(star))                                              \
    X(IA32_LSTAR, 0xc0000082, 1, MK_CANON, F(lstar))                                            \
    X(IA32_CSTAR, 0xc0000083, 1, MK_CANON, F(cstar))                                            \
    X(IA32_FMASK, 0xc0000084, 1, MK_FIELD, F(sfmask))                                           \
    X(IA32_FS_BASE, 0xc0000100, 1, MK_FSBASE, 0)                                                \
    X(IA32_GS_BASE, 0xc0000101, 1, MK_GSBASE, 0)                                                \
    X(IA32_KERNEL_GS_BASE, 0xc0000102, 1, MK_CANON, F(kernel_gs_base))                          \
    X(IA32_TSC_AUX, 0xc0000103, 1, MK_TSCAUX, F(tsc_aux))

static const struct msr_def msr_table[] = {
#define X(name, idx, cnt, kind, off) {idx, cnt, kind, off, #name},
    MSR_LIST(X)
#undef X
};

static const struct msr_def *msr_find(uint32_t index, unsigned *slot)
{
    for (size_t k = 0; k < ARRAY_SIZE(msr_table); k++) {
        const struct msr_def *d = &msr_table[k];
        if (index >= d->index && index - d->index < d->count) {
            *slot = index - d->index;
            return d;
        }
    }
    return NULL;
}

static uint64_t *field(struct vcpu *vp, const struct msr_def *d, unsigned slot)
{
    return (uint64_t *)((uint8_t *)vp + d->off) + slot;
}

static bool canonical(const struct vcpu *vp, uint64_t v)
{
    struct paging_state ps;
    paging_state_of(vp, &ps);
    return mmu_canonical(&ps, v);
}

int msr_read(struct vcpu *vp, uint32_t index, uint64_t *value)
{
    unsigned slot;
    const struct msr_def *d = msr_find(index, &slot);
    if (!d)
        return MSR_EXIT;
    switch (d->kind) {
    case MK_FIELD: case MK_CANON: case MK_TSCAUX: case MK_PAT:
        *value = *field(vp, d, slot);
        break;
    case MK_RO_ZERO: case MK_IGNORE: case MK_ZERO_ONLY: *value = 0; break;
    case MK_FEATCTL: *value = 1; break; /* locked, VMX off */
    case MK_TSC: *value = cpu_get_tsc(vp); break;
    case MK_MTRRCAP: *value = 0x508; break; /* 8 variable ranges, fixed ranges, WC */
    case MK_EFER: *value = vp->efer; break;
    case MK_FSBASE: *value = vp->seg[SEG_FS].base; break;
    case MK_GSBASE: *value = vp->seg[SEG_GS].base; break;
    }
    return MSR_OK;
}

static bool pat_valid(uint64_t v)
{
    for (unsigned k = 0; k < 8; k++) {
        unsigned t = (v >> (8 * k)) & 0xff;
        if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
            return false;
    }
    return true;
}

static int efer_write(struct vcpu *vp, uint64_t v)
{
    uint64_t allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    if (v & ~allowed)
        return MSR_GP;
    /* LME may not change while paging is on (SDM Vol 3 10.8.5); LMA is read-only. */
    if ((vp->cr0 & CR0_PG) && ((v ^ vp->efer) & EFER_LME))
        return MSR_GP;
    v = (v & ~(uint64_t)EFER_LMA) | (vp->efer & EFER_LMA);
    if ((v ^ vp->efer) & EFER_NXE) {
        tlb_flush_all(&vp->tlb);
        dcache_flush_lookup(vp);
    }
    vp->efer = v;
    vcpu_update_mode(vp);
    return MSR_OK;
}

int msr_write(struct vcpu *vp, uint32_t index, uint64_t value)
{
    unsigned slot;
    const struct msr_def *d = msr_find(index, &slot);
    if (!d)
        return MSR_EXIT;
    switch (d->kind) {
    case MK_FIELD: *field(vp, d, slot) = value; break;
    case MK_CANON:
        if (!canonical(vp, value))
            return MSR_GP;
        *field(vp, d, slot) = value;
        break;
    case MK_TSCAUX:
        if (value >> 32)
            return MSR_GP;
        *field(vp, d, slot) = value;
        break;
    case MK_PAT:
        if (!pat_valid(value))
            return MSR_GP;
        *field(vp, d, slot) = value;
        break;
    case MK_RO_ZERO: case MK_MTRRCAP: case MK_FEATCTL: return MSR_GP;
    case MK_IGNORE: break;
    case MK_ZERO_ONLY:
        if (value)
            return MSR_GP;
        break;
    case MK_TSC: vp->tsc_offset = (int64_t)(value - vp->icount); break;
    case MK_EFER: return efer_write(vp, value);
    case MK_FSBASE:
    case MK_GSBASE: {
        if (!canonical(vp, value))
            return MSR_GP;
        struct seg s = vp->seg[d->kind == MK_FSBASE ? SEG_FS : SEG_GS];
        s.base = value;
        seg_commit(vp, d->kind == MK_FSBASE ? SEG_FS : SEG_GS, &s);
        break;
    }
    }
    return MSR_OK;
}
