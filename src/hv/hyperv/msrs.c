/* Synthetic MSRs: the table generated from msrs.def, the access rules applied once in
 * hv_msr_read/hv_msr_write, and the handlers of the MSRs that are not SynIC or timers. */
#include "hv/hyperv/internal.h"

#include <string.h>

#include "mmu/physmem.h"

typedef int (*msr_read_fn)(struct hv_partition *p, struct hv_vp *vp, uint32_t index, uint64_t *v);
typedef int (*msr_write_fn)(struct hv_partition *p, struct hv_vp *vp, uint32_t index, uint64_t v);

#define NORESET UINT64_MAX
#define HV_MSR_FIRST 0x40000000u
#define HV_MSR_LAST  0x400001FFu /* TLFS2 11.10: the whole range is the hypervisor's */

enum msr_scope { P, V };

struct msr_def {
    uint32_t index;
    const char *name;
    enum msr_scope scope;
    uint8_t feature;
    msr_read_fn read;
    msr_write_fn write;
    uint64_t reset;
};

/* ---- Hypercall interface. ---- */

/* VMCALL; RET. hvemu's CPU exits on VMCALL; the stub is entered with a near CALL and needs
 * only a valid stack (TLFS 3.13). */
static const uint8_t hypercall_stub[] = {0x0F, 0x01, 0xC1, 0xC3};

static int msr_guest_os_id_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->guest_os_id;
    return 0;
}

static int msr_guest_os_id_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    p->guest_os_id = v;
    /* TLFS 3.13: clearing the guest OS ID disables the hypercall page. */
    if (v == 0) {
        p->hypercall &= ~HV_PAGE_ENABLE;
        hv_overlay_unmap(p, &p->hypercall_gpa);
    }
    return 0;
}

static int msr_hypercall_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->hypercall;
    return 0;
}

static int msr_hypercall_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    /* The page cannot be enabled before the guest identifies itself: Enable reads back 0. */
    if (p->guest_os_id == 0)
        v &= ~HV_PAGE_ENABLE;
    if (v & HV_PAGE_ENABLE) {
        memset(p->hypercall_page, 0, PAGE_SIZE);
        memcpy(p->hypercall_page, hypercall_stub, sizeof(hypercall_stub));
    }
    if (hv_overlay_update(p, &p->hypercall_gpa, p->hypercall_page, v, "hv-hypercall", true))
        return -1;
    p->hypercall = v;
    return 0;
}

static int msr_vp_index_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = vp->index;
    return 0;
}

static int msr_reset_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = 0;
    return 0;
}

static int msr_reset_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    if ((v & 1) && p->ops.request_stop)
        p->ops.request_stop(p->ops.opaque, HV_STOP_RESET, NULL);
    return 0;
}

/* ---- Time. ---- */

static int msr_vp_runtime_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->ops.vp_runtime_ns ? p->ops.vp_runtime_ns(p->ops.opaque, vp->index) / HV_NS_PER_REF_TICK
                              : hv_ref_now(p);
    return 0;
}

static int msr_time_ref_count_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    /* VPs run their slices one after another from the same start time, so a later VP can be
     * behind an earlier one; the counter must still never go backwards (TLFS 12.4). */
    uint64_t now = hv_ref_now(p);
    if (now < p->last_ref)
        now = p->last_ref;
    p->last_ref = now;
    *v = now;
    return 0;
}

static int msr_reference_tsc_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->reference_tsc;
    return 0;
}

static int msr_reference_tsc_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    /* Linux reads the page right after the WRMSR (sched_clock): fill before mapping. */
    if (v & HV_PAGE_ENABLE)
        hv_tsc_page_fill(p);
    if (hv_overlay_update(p, &p->tsc_gpa, p->tsc_page, v, "hv-reference-tsc", true))
        return -1;
    p->reference_tsc = v;
    return 0;
}

static int msr_tsc_frequency_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = VCLOCK_TSC_HZ;
    return 0;
}

static int msr_apic_frequency_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->cfg.apic_hz;
    return 0;
}

static int msr_tsc_invariant_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->tsc_invariant;
    return 0;
}

static int msr_tsc_invariant_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    if (v & ~1ull)
        return -1;
    p->tsc_invariant = v;
    return 0;
}

/* ---- APIC access (TLFS 10.5.2: aliases of the local APIC registers). ---- */

static int msr_eoi_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    if (p->ops.apic_eoi)
        p->ops.apic_eoi(p->ops.opaque, vp->index);
    return 0;
}

static int msr_icr_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->ops.apic_icr_read ? p->ops.apic_icr_read(p->ops.opaque, vp->index) : 0;
    return 0;
}

static int msr_icr_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    return p->ops.apic_icr_write ? p->ops.apic_icr_write(p->ops.opaque, vp->index, v) : 0;
}

static int msr_tpr_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->ops.apic_tpr_read ? p->ops.apic_tpr_read(p->ops.opaque, vp->index) : 0;
    return 0;
}

static int msr_tpr_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    if (v & ~0xFFull) /* 63:8 RsvdZ */
        return -1;
    if (p->ops.apic_tpr_write)
        p->ops.apic_tpr_write(p->ops.opaque, vp->index, (uint8_t)v);
    return 0;
}

/* The VP assist page lives in guest RAM (Linux hands over a page of its own), like KVM's: it
 * is read and written through the memory map instead of being overlaid. */
static int msr_vp_assist_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = vp->vp_assist;
    return 0;
}

static int msr_vp_assist_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    if (v & HV_PAGE_ENABLE) {
        gpa_t gpa = v & PAGE_MASK;
        uint8_t *host = hv_gpa_valid(p, gpa) ? physmem_ram_ptr(p->mem, gpa, PAGE_SIZE) : NULL;
        if (!host)
            return -1;
        memset(host, 0, 4); /* apic_assist starts clear */
    }
    vp->vp_assist = v;
    vp->assist_armed = false;
    return 0;
}

static uint8_t *assist_word(struct hv_partition *p, struct hv_vp *vp)
{
    if (!(vp->vp_assist & HV_PAGE_ENABLE))
        return NULL;
    return physmem_ram_ptr(p->mem, vp->vp_assist & PAGE_MASK, 4);
}

bool hv_apic_assist_offer(struct hv_partition *p, struct hv_vp *vp)
{
    uint8_t *w = assist_word(p, vp);
    if (!w)
        return false;
    uint32_t a;
    memcpy(&a, w, 4);
    a |= 1; /* NoEoiRequired */
    memcpy(w, &a, 4);
    vp->assist_armed = true;
    return true;
}

bool hv_apic_assist_collect(struct hv_partition *p, struct hv_vp *vp)
{
    if (!vp->assist_armed)
        return false;
    vp->assist_armed = false;
    uint8_t *w = assist_word(p, vp);
    if (!w)
        return false;
    uint32_t a;
    memcpy(&a, w, 4);
    if (a & 1) {
        /* Not consumed: take the offer back, so the guest EOIs through the APIC. */
        a &= ~1u;
        memcpy(w, &a, 4);
        return false;
    }
    return true; /* the guest cleared it instead of writing EOI */
}

/* ---- SynIC (state and delivery in synic.c). ---- */

static int msr_scontrol_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = vp->scontrol;
    return 0;
}

static int msr_scontrol_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    vp->scontrol = v;
    hv_synic_scan_all(vp);
    return 0;
}

static int msr_sversion_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = HV_SYNIC_VERSION;
    return 0;
}

static int msr_siefp_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = vp->siefp;
    return 0;
}

static int msr_siefp_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    if (hv_overlay_update(p, &vp->siefp_gpa, vp->siefp_page, v, "hv-sief", false))
        return -1;
    vp->siefp = v;
    return 0;
}

static int msr_simp_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = vp->simp;
    return 0;
}

static int msr_simp_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    if (hv_overlay_update(p, &vp->simp_gpa, vp->simp_page, v, "hv-sim", false))
        return -1;
    vp->simp = v;
    hv_synic_scan_all(vp);
    return 0;
}

static int msr_eom_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = 0;
    return 0;
}

static int msr_eom_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    hv_synic_scan_all(vp);
    return 0;
}

static int msr_sint_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = vp->sint[i - 0x40000090u];
    return 0;
}

static int msr_sint_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    /* Vectors 0-15 are invalid for an unmasked SINT (TLFS 11.8.3); a masked SINT may hold any. */
    if (!(v & HV_SINT_MASKED) && HV_SINT_VECTOR(v) < 16)
        return -1;
    unsigned n = i - 0x40000090u;
    vp->sint[n] = v;
    hv_synic_scan(vp, n);
    return 0;
}

/* ---- Synthetic timers (stimer.c). ---- */

static int msr_stimer_config_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = vp->stimer[(i - 0x400000B0u) / 2].config;
    return 0;
}

static int msr_stimer_config_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    return hv_stimer_config_write(vp, (i - 0x400000B0u) / 2, v);
}

static int msr_stimer_count_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = vp->stimer[(i - 0x400000B1u) / 2].count;
    return 0;
}

static int msr_stimer_count_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    hv_stimer_count_write(vp, (i - 0x400000B1u) / 2, v);
    return 0;
}

/* ---- Idle and crash. ---- */

static int msr_guest_idle_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = 0;
    if (p->ops.idle)
        p->ops.idle(p->ops.opaque, vp->index);
    return 0;
}

static int msr_crash_p_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = p->crash_p[i - 0x40000100u];
    return 0;
}

static int msr_crash_p_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    p->crash_p[i - 0x40000100u] = v;
    return 0;
}

/* Reading CRASH_CTL returns the actions the hypervisor supports. */
static int msr_crash_ctl_read(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t *v)
{
    *v = HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE;
    return 0;
}

static int msr_crash_ctl_write(struct hv_partition *p, struct hv_vp *vp, uint32_t i, uint64_t v)
{
    if (!(v & HV_CRASH_CTL_NOTIFY))
        return 0;
    struct hv_crash_report r;
    memset(&r, 0, sizeof(r));
    memcpy(r.p, p->crash_p, sizeof(r.p));
    r.ctl = v;
    p->crash_ctl = v;
    if (v & HV_CRASH_CTL_MESSAGE) {
        /* P3 = GPA of the message, P4 = its length (at most one page). */
        uint64_t len = p->crash_p[4] < 4096 ? p->crash_p[4] : 4096;
        const uint8_t *src = len ? physmem_ram_ptr(p->mem, p->crash_p[3], len) : NULL;
        if (src) {
            memcpy(r.msg, src, len);
            r.msg_len = (uint32_t)len;
        }
    }
    HV_TRACE(p, "vp%u crash P0-P4 %llx %llx %llx %llx %llx ctl %llx", vp->index,
             (unsigned long long)r.p[0], (unsigned long long)r.p[1], (unsigned long long)r.p[2],
             (unsigned long long)r.p[3], (unsigned long long)r.p[4], (unsigned long long)v);
    if (p->ops.request_stop)
        p->ops.request_stop(p->ops.opaque, HV_STOP_CRASH, &r);
    return 0;
}

/* ---- The table and the access rules. ---- */

#define none NULL
static const struct msr_def msr_table[] = {
#define X(idx, nm, scope, feat, rd, wr, rst) {idx, "HV_X64_MSR_" #nm, scope, feat, rd, wr, rst},
#include "hv/hyperv/msrs.def"
#undef X
};
#undef none

static const struct msr_def *msr_find(uint32_t index)
{
    size_t lo = 0, hi = ARRAY_SIZE(msr_table);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (msr_table[mid].index == index)
            return &msr_table[mid];
        if (msr_table[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *hv_msr_name(uint32_t index)
{
    const struct msr_def *d = msr_find(index);
    return d ? d->name : NULL;
}

static const char *trace_name(uint32_t index)
{
    const char *n = hv_msr_name(index);
    return n ? n : "unknown";
}

int hv_msr_read(struct hv_partition *p, struct hv_vp *vp, uint32_t index, uint64_t *value)
{
    if (!p->cfg.enabled || index < HV_MSR_FIRST || index > HV_MSR_LAST)
        return 1;
    const struct msr_def *d = msr_find(index);
    int rc = -1;
    if (d && d->read && hv_has(p, d->feature))
        rc = d->read(p, vp, index, value);
    if (rc)
        HV_TRACE(p, "vp%u rdmsr %s (0x%08x) -> #GP", vp->index, trace_name(index), index);
    else
        HV_TRACE(p, "vp%u rdmsr %s (0x%08x) -> 0x%llx", vp->index, trace_name(index), index,
                 (unsigned long long)*value);
    return rc;
}

int hv_msr_write(struct hv_partition *p, struct hv_vp *vp, uint32_t index, uint64_t value)
{
    if (!p->cfg.enabled || index < HV_MSR_FIRST || index > HV_MSR_LAST)
        return 1;
    const struct msr_def *d = msr_find(index);
    int rc = -1;
    if (d && d->write && hv_has(p, d->feature))
        rc = d->write(p, vp, index, value);
    HV_TRACE(p, "vp%u wrmsr %s (0x%08x) <- 0x%llx%s", vp->index, trace_name(index), index,
             (unsigned long long)value, rc ? " -> #GP" : "");
    return rc;
}

/* Every MSR with a reset value goes back to it through its own write handler, so reset and
 * a guest write can never disagree about side effects (unmapping overlays, stopping timers). */
void hv_msrs_reset(struct hv_partition *p)
{
    for (size_t i = 0; i < ARRAY_SIZE(msr_table); i++) {
        const struct msr_def *d = &msr_table[i];
        if (d->reset == NORESET || !d->write)
            continue;
        unsigned n = d->scope == P ? 1 : p->nr_vps;
        for (unsigned v = 0; v < n; v++)
            d->write(p, &p->vps[v], d->index, d->reset);
    }
}

uint64_t hv_msr_reset_value(uint32_t index)
{
    const struct msr_def *d = msr_find(index);
    return d ? d->reset : NORESET;
}
