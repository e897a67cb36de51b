/* Overlay pages (hypercall page, reference TSC page, SIM and SIEF pages): the hypervisor's own
 * 4 KiB host pages laid over guest-physical pages through the memory map, as the TLFS's
 * "GPA overlay" model describes (TLFS v6.0b 5.2.1). */
#include "hv/hyperv/internal.h"

#include "mmu/physmem.h"

bool hv_gpa_valid(const struct hv_partition *p, gpa_t gpa)
{
    return p->cfg.phys_bits >= 64 || (gpa >> p->cfg.phys_bits) == 0;
}

void hv_overlay_unmap(struct hv_partition *p, gpa_t *mapped)
{
    if (*mapped != HV_UNMAPPED) {
        physmem_unmap_overlay(p->mem, *mapped);
        *mapped = HV_UNMAPPED;
    }
}

int hv_overlay_update(struct hv_partition *p, gpa_t *mapped, uint8_t *page, uint64_t msr,
                      const char *name, bool readonly)
{
    if (!(msr & HV_PAGE_ENABLE)) {
        hv_overlay_unmap(p, mapped);
        return 0;
    }
    gpa_t gpa = msr & PAGE_MASK;
    if (!hv_gpa_valid(p, gpa))
        return -1;
    if (gpa == *mapped)
        return 0;
    /* Another overlay or a device already owns the page: the map would silently replace the
     * other overlay, so refuse instead (one page per overlay, TLFS "overlay pages must be
     * distinct"). */
    struct phys_lookup l;
    physmem_lookup(p->mem, gpa, &l);
    if (l.kind == PHYS_OVERLAY || l.kind == PHYS_MMIO || l.kind == PHYS_ROM)
        return -1;
    gpa_t old = *mapped;
    hv_overlay_unmap(p, mapped);
    if (physmem_map_overlay(p->mem, gpa, page, name, readonly)) {
        if (old != HV_UNMAPPED && physmem_map_overlay(p->mem, old, page, name, readonly) == 0)
            *mapped = old;
        return -1;
    }
    *mapped = gpa;
    return 0;
}
