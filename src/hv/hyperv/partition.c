/* Partition and VP lifetime, the feature words derived from struct hv_config, reference time
 * and tracing. */
#include "hv/hyperv/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/physmem.h"

static uint64_t bit64(unsigned n)
{
    return 1ull << n;
}

/* The privilege mask, misc features and hints follow the config flags one to one, so the
 * CPUID answer always matches what the MSR and hypercall tables allow. */
static void derive_features(struct hv_partition *p)
{
    const struct hv_config *c = &p->cfg;
    uint64_t priv = bit64(HV_PRIV_HYPERCALL) | bit64(HV_PRIV_VP_INDEX);
    uint32_t misc = 0, hints = 0;
    if (c->runtime)
        priv |= bit64(HV_PRIV_VP_RUNTIME);
    if (c->time)
        priv |= bit64(HV_PRIV_TIME_REF_COUNT) | bit64(HV_PRIV_REF_TSC);
    if (c->synic)
        priv |= bit64(HV_PRIV_SYNIC) | bit64(HV_PRIV_POST_MESSAGES) | bit64(HV_PRIV_SIGNAL_EVENTS);
    if (c->stimer)
        priv |= bit64(HV_PRIV_STIMER);
    if (c->vapic) {
        priv |= bit64(HV_PRIV_APIC);
        hints |= 1u << HV_HINT_APIC_MSRS;
    }
    if (c->reset)
        priv |= bit64(HV_PRIV_RESET);
    if (c->idle)
        priv |= bit64(HV_PRIV_GUEST_IDLE);
    if (c->frequencies) {
        priv |= bit64(HV_PRIV_FREQUENCY);
        misc |= 1u << HV_MISC_FREQUENCY;
    }
    if (c->tsc_invariant)
        priv |= bit64(HV_PRIV_TSC_INVARIANT);
    if (c->ext_calls)
        priv |= bit64(HV_PRIV_EXT_HYPERCALLS);
    if (c->xmm_input)
        misc |= 1u << HV_MISC_XMM_INPUT;
    if (c->crash)
        misc |= 1u << HV_MISC_CRASH;
    if (c->stimer && c->stimer_direct)
        misc |= 1u << HV_MISC_STIMER_DIRECT;
    if (c->tlbflush)
        hints |= 1u << HV_HINT_REMOTE_TLB_FLUSH;
    if (c->relaxed)
        hints |= 1u << HV_HINT_RELAXED;
    if (c->deprecate_autoeoi)
        hints |= 1u << HV_HINT_DEPRECATE_AUTOEOI;
    if (c->ipi)
        hints |= 1u << HV_HINT_CLUSTER_IPI;
    /* Sparse VP sets only mean something for the calls that take them. */
    if (c->ex_masks && (c->tlbflush || c->ipi))
        hints |= 1u << HV_HINT_EX_MASKS;
    p->priv = priv;
    p->misc = misc;
    p->hints = hints;
}

bool hv_has(const struct hv_partition *p, unsigned feature)
{
    if (feature == HVF_NONE)
        return true;
    if (feature == HVF_SPIN)
        return p->cfg.spin_retries != 0xFFFFFFFFu && p->cfg.spin_retries != 0;
    if (feature < 64)
        return (p->priv >> feature) & 1;
    if (feature < 96)
        return (p->misc >> (feature - 64)) & 1;
    if (feature < 128)
        return (p->hints >> (feature - 96)) & 1;
    return false;
}

uint64_t hv_ref_now(const struct hv_partition *p)
{
    return vclock_now(p->clock) / HV_NS_PER_REF_TICK;
}

void hv_tracef(struct hv_partition *p, const char *fmt, ...)
{
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    p->trace.fn(p->trace.opaque, line);
}

static void vp_free(struct hv_vp *vp)
{
    hv_synic_destroy(vp);
    free(vp->simp_page);
    free(vp->siefp_page);
}

struct hv_partition *hv_partition_create(const struct hv_config *cfg, const struct hv_host_ops *ops,
                                         struct physmem *mem, struct vclock *clock, unsigned nr_vps)
{
    if (nr_vps == 0 || nr_vps > HV_MAX_VPS || !cfg || !ops || !mem || !clock)
        return NULL;
    struct hv_partition *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->cfg = *cfg;
    p->ops = *ops;
    p->mem = mem;
    p->clock = clock;
    p->nr_vps = nr_vps;
    p->hypercall_gpa = p->tsc_gpa = HV_UNMAPPED;
    derive_features(p);
    p->vps = calloc(nr_vps, sizeof(*p->vps));
    p->hypercall_page = calloc(1, PAGE_SIZE);
    p->tsc_page = calloc(1, PAGE_SIZE);
    if (!p->vps || !p->hypercall_page || !p->tsc_page)
        goto fail;
    for (unsigned i = 0; i < nr_vps; i++) {
        struct hv_vp *vp = &p->vps[i];
        vp->p = p;
        vp->index = i;
        vp->simp_gpa = vp->siefp_gpa = HV_UNMAPPED;
        vp->simp_page = calloc(1, PAGE_SIZE);
        vp->siefp_page = calloc(1, PAGE_SIZE);
        if (!vp->simp_page || !vp->siefp_page)
            goto fail;
        hv_stimer_init(vp);
    }
    hv_msrs_reset(p);
    return p;
fail:
    hv_partition_destroy(p);
    return NULL;
}

void hv_partition_destroy(struct hv_partition *p)
{
    if (!p)
        return;
    if (p->vps) {
        for (unsigned i = 0; i < p->nr_vps; i++) {
            struct hv_vp *vp = &p->vps[i];
            if (vp->p) {
                hv_stimer_stop(vp);
                hv_overlay_unmap(p, &vp->simp_gpa);
                hv_overlay_unmap(p, &vp->siefp_gpa);
            }
            vp_free(vp);
        }
    }
    hv_overlay_unmap(p, &p->hypercall_gpa);
    hv_overlay_unmap(p, &p->tsc_gpa);
    free(p->vps);
    free(p->hypercall_page);
    free(p->tsc_page);
    free(p);
}

void hv_partition_reset(struct hv_partition *p)
{
    hv_msrs_reset(p);
    p->crash_ctl = 0;
    memset(p->crash_p, 0, sizeof(p->crash_p));
    p->last_ref = 0;
    for (unsigned i = 0; i < p->nr_vps; i++) {
        struct hv_vp *vp = &p->vps[i];
        hv_synic_reset(vp);
        /* TLFS: SIM and SIEF pages are cleared at VP reset. */
        memset(vp->simp_page, 0, PAGE_SIZE);
        memset(vp->siefp_page, 0, PAGE_SIZE);
        vp->assist_armed = false;
    }
}

struct hv_vp *hv_partition_vp(struct hv_partition *p, unsigned vp_index)
{
    return vp_index < p->nr_vps ? &p->vps[vp_index] : NULL;
}

unsigned hv_partition_nr_vps(const struct hv_partition *p)
{
    return p->nr_vps;
}

const struct hv_config *hv_partition_config(const struct hv_partition *p)
{
    return &p->cfg;
}

void hv_set_trace(struct hv_partition *p, const struct hv_trace *t)
{
    if (t)
        p->trace = *t;
    else
        memset(&p->trace, 0, sizeof(p->trace));
}

unsigned hv_vp_index(const struct hv_vp *vp)
{
    return vp->index;
}
