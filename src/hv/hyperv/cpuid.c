/* CPUID leaves 0x40000000-0x40000006 (TLFS "Feature and interface discovery") and the
 * hypervisor-present bit of leaf 1. */
#include "hv/hyperv/internal.h"

#include <string.h>

static uint32_t le32(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 | (uint32_t)(uint8_t)s[2] << 16 |
           (uint32_t)(uint8_t)s[3] << 24;
}

bool hv_cpuid(struct hv_partition *p, struct hv_vp *vp, uint32_t leaf, uint32_t subleaf,
              uint32_t out[4])
{
    if (!p->cfg.enabled || leaf < HV_CPUID_VENDOR || leaf > 0x4000FFFFu)
        return false;
    memset(out, 0, 4 * sizeof(uint32_t));
    switch (leaf) {
    case HV_CPUID_VENDOR: {
        char v[12];
        memset(v, 0, sizeof(v));
        for (size_t i = 0; i < sizeof(v) && p->cfg.vendor[i]; i++)
            v[i] = p->cfg.vendor[i];
        out[0] = HV_CPUID_MAX_LEAF;
        out[1] = le32(v);
        out[2] = le32(v + 4);
        out[3] = le32(v + 8);
        break;
    }
    case HV_CPUID_INTERFACE:
        out[0] = HV_SIGNATURE_HV1;
        break;
    case HV_CPUID_VERSION:
        /* TLFS 2.4.3: reads as zero until the guest has identified itself. */
        if (!p->guest_os_id)
            break;
        out[0] = p->cfg.build;
        out[1] = p->cfg.version;
        out[2] = p->cfg.service_pack;
        out[3] = p->cfg.branch;
        break;
    case HV_CPUID_FEATURES:
        out[0] = (uint32_t)p->priv;
        out[1] = (uint32_t)(p->priv >> 32);
        out[3] = p->misc;
        break;
    case HV_CPUID_HINTS:
        out[0] = p->hints;
        out[1] = p->cfg.spin_retries;
        break;
    case HV_CPUID_LIMITS:
        /* Max VPs this hypervisor supports per partition, and the LPs behind them. */
        out[0] = HV_MAX_VPS;
        out[1] = p->nr_vps;
        break;
    default:
        /* 0x40000006 (hardware features in use) and every leaf above the maximum read as 0,
         * so no second hypervisor signature (e.g. KVM's at 0x40000100) is ever seen. */
        break;
    }
    HV_TRACE(p, "vp%u cpuid 0x%08x -> %08x %08x %08x %08x", vp ? vp->index : 0, leaf, out[0],
             out[1], out[2], out[3]);
    (void)subleaf;
    return true;
}

void hv_cpuid_adjust_base(struct hv_partition *p, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    (void)subleaf;
    if (leaf == 1) {
        if (p->cfg.enabled)
            out[2] |= 1u << 31;
        else
            out[2] &= ~(1u << 31);
    } else if (leaf == 0x80000007u && p->cfg.enabled && hv_has(p, HVF_PRIV(HV_PRIV_TSC_INVARIANT))) {
        /* With TSC invariant control advertised, the invariant-TSC bit shows only once the
         * guest opts in through MSR 0x40000118 bit 0. */
        if (p->tsc_invariant & 1)
            out[3] |= 1u << 8;
        else
            out[3] &= ~(1u << 8);
    }
}
