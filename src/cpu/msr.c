/* RDMSR/WRMSR dispatch over the architectural MSR table (msrs.def): access and reserved-bit
 * checks are made once here from the table; the rules that are more than a mask are hooks. */
#include <stddef.h>

#include "cpu/dcache.h"
#include "cpu/intr.h"
#include "cpu/msr.h"

enum msr_access { RW, RO, WO, FWD };

struct msr_def;
typedef int (*msr_hook)(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write);

struct msr_def {
    uint32_t index, count;
    enum msr_access access;
    size_t off;           /* offsetof(struct vcpu, storage), or NO_STORAGE */
    uint64_t reset, writable;
    msr_hook hook;
    const char *name;
};

#define NO_STORAGE ((size_t)-1)

static int msr_tsc(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_tsc_adjust(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_mc_bank(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_canonical(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_misc_enable(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_mtrr_var(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_mtrr_fixed(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_mtrr_def_type(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_pat(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_efer(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);
static int msr_seg_base(struct vcpu *, const struct msr_def *, unsigned, uint64_t *, bool);

#define S(f) offsetof(struct vcpu, f)
#define NONE NO_STORAGE
static const struct msr_def msr_table[] = {
#define X(name, idx, cnt, acc, st, rst, wr, hk) {idx, cnt, acc, st, rst, wr, hk, #name},
#include "cpu/msrs.def"
#undef X
};
#undef NONE
#undef S

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

const char *msr_name(uint32_t index)
{
    unsigned slot;
    const struct msr_def *d = msr_find(index, &slot);
    return d ? d->name : NULL;
}

static uint64_t *field(struct vcpu *vp, const struct msr_def *d, unsigned slot)
{
    return (uint64_t *)((uint8_t *)vp + d->off) + slot;
}

/* Generic storage step shared by the hooks once their rule has passed. */
static int load_store(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    if (write)
        *field(vp, d, slot) = *v;
    else
        *v = *field(vp, d, slot);
    return MSR_OK;
}

int msr_read(struct vcpu *vp, uint32_t index, uint64_t *value)
{
    unsigned slot;
    const struct msr_def *d = msr_find(index, &slot);
    if (!d || d->access == WO)
        return MSR_GP;
    if (d->access == FWD)
        return MSR_EXIT;
    if (d->hook)
        return d->hook(vp, d, slot, value, false);
    *value = d->off == NO_STORAGE ? d->reset : *field(vp, d, slot);
    return MSR_OK;
}

int msr_write(struct vcpu *vp, uint32_t index, uint64_t value)
{
    unsigned slot;
    const struct msr_def *d = msr_find(index, &slot);
    if (!d || d->access == RO)
        return MSR_GP;
    if (d->access == FWD)
        return MSR_EXIT;
    if (value & ~d->writable)
        return MSR_GP;
    if (d->hook)
        return d->hook(vp, d, slot, &value, true);
    if (d->off != NO_STORAGE)
        *field(vp, d, slot) = value;
    return MSR_OK;
}

/* ---- hooks ---- */

static int msr_tsc(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    (void)d, (void)slot;
    if (write) {
        vp->tsc_adjust += *v - cpu_get_tsc(vp);
        vp->tsc_offset = (int64_t)(*v - vp->icount);
    } else {
        *v = cpu_get_tsc(vp);
    }
    return MSR_OK;
}

static int msr_tsc_adjust(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    if (write)
        vp->tsc_offset += (int64_t)(*v - vp->tsc_adjust);
    return load_store(vp, d, slot, v, write);
}

/* MCi_CTL takes all 0s or all 1s (SDM Vol 3 15.3.2.1, as P6); MCi_STATUS only 0 (15.3.2.2:
 * writing 1s is #GP); ADDR and MISC hold what software writes. */
static int msr_mc_bank(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    if (write && slot % 4 == 0 && *v != 0 && *v != ~0ull)
        return MSR_GP;
    if (write && slot % 4 == 1 && *v != 0)
        return MSR_GP;
    return load_store(vp, d, slot, v, write);
}

static bool canonical(const struct vcpu *vp, uint64_t v)
{
    struct paging_state ps;
    paging_state_of(vp, &ps);
    return mmu_canonical(&ps, v);
}

/* Addresses the CPU will use as linear addresses must be canonical (SDM WRMSR #GP(0)). */
static int msr_canonical(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    if (write && !canonical(vp, *v))
        return MSR_GP;
    return load_store(vp, d, slot, v, write);
}

static int msr_misc_enable(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    (void)d, (void)slot;
    if (!write) {
        *v = (vp->misc_enable & MISC_ENABLE_WRITABLE) | MISC_ENABLE_FIXED;
        return MSR_OK;
    }
    if ((*v & MISC_ENABLE_FIXED) != MISC_ENABLE_FIXED)
        return MSR_GP;
    vp->misc_enable = *v & MISC_ENABLE_WRITABLE;
    return MSR_OK;
}

/* Memory types an MTRR may hold: UC, WC, WT, WP, WB (SDM Vol 3 Table 11-8; 7 = UC- is PAT
 * only). */
static bool mtrr_type_valid(uint64_t t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static int msr_mtrr_var(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    if (write) {
        /* PHYSBASE: type 7:0, 11:8 reserved. PHYSMASK: valid bit 11, 10:0 reserved. */
        if (slot % 2 == 0 ? ((*v & 0xf00) || !mtrr_type_valid(*v & 0xff)) : (*v & 0x7ff))
            return MSR_GP;
    }
    return load_store(vp, d, slot, v, write);
}

static int msr_mtrr_fixed(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    for (unsigned k = 0; write && k < 8; k++)
        if (!mtrr_type_valid((*v >> (8 * k)) & 0xff))
            return MSR_GP;
    return load_store(vp, d, slot, v, write);
}

static int msr_mtrr_def_type(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    if (write && !mtrr_type_valid(*v & 0xff))
        return MSR_GP;
    return load_store(vp, d, slot, v, write);
}

/* PAT entries: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-; 2, 3 and 8-255 are reserved (SDM Vol 3
 * 11.12.2). */
static int msr_pat(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    for (unsigned k = 0; write && k < 8; k++) {
        uint64_t t = (*v >> (8 * k)) & 0xff;
        if (t == 2 || t == 3 || t > 7)
            return MSR_GP;
    }
    return load_store(vp, d, slot, v, write);
}

static int msr_efer(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    if (!write)
        return load_store(vp, d, slot, v, write);
    /* LME may not change while paging is on (SDM Vol 3 10.8.5); LMA is read-only (set by the
     * processor when paging is enabled with LME), so a write leaves it as it is. */
    if ((vp->cr0 & CR0_PG) && ((*v ^ vp->efer) & EFER_LME))
        return MSR_GP;
    uint64_t n = (*v & ~(uint64_t)EFER_LMA) | (vp->efer & EFER_LMA);
    if ((n ^ vp->efer) & EFER_NXE) {
        tlb_flush_all(&vp->tlb);
        dcache_flush_lookup(vp);
    }
    vp->efer = n;
    vcpu_update_mode(vp);
    return MSR_OK;
}

/* FS_BASE and GS_BASE are the segment registers' hidden bases. */
static int msr_seg_base(struct vcpu *vp, const struct msr_def *d, unsigned slot, uint64_t *v, bool write)
{
    (void)slot;
    unsigned sr = d->index == 0xc0000100 ? SEG_FS : SEG_GS;
    if (!write) {
        *v = vp->seg[sr].base;
        return MSR_OK;
    }
    if (!canonical(vp, *v))
        return MSR_GP;
    struct seg s = vp->seg[sr];
    s.base = *v;
    seg_commit(vp, sr, &s);
    return MSR_OK;
}
