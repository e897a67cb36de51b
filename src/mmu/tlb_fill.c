/* Filling the software TLB from a completed walk: which tags each privilege context may use. */
#include "mmu/mmu.h"
#include "mmu/tlb.h"

void mmu_tlb_fill(struct tlb *t, unsigned idx, struct physmem *pm, const struct paging_state *ps,
                  gva_t va, const struct walk_result *res, uint32_t pkru)
{
    if (idx >= TLB_NIDX)
        return;
    gpa_t gpa_page = res->gpa & PAGE_MASK;
    struct phys_lookup l;
    physmem_lookup(pm, gpa_page, &l);
    bool direct = l.host && l.avail >= PAGE_SIZE &&
                  (l.kind == PHYS_RAM || l.kind == PHYS_ROM || l.kind == PHYS_OVERLAY);
    if (!direct) {
        /* MMIO and holes always take the slow path. */
        tlb_fill_sized(t, idx, va, gpa_page, NULL, false, false, false, false, res->page_size);
        return;
    }
    struct walk_req req = {.va = va, .user = idx == 2, .ac = idx == 1, .pkru = pkru};
    req.access = MMU_READ;
    bool r = mmu_check_access(ps, &req, res) == 0;
    req.access = MMU_EXEC;
    bool x = mmu_check_access(ps, &req, res) == 0;
    req.access = MMU_WRITE;
    /* A write through a clean leaf must walk to set D; ROM and overlays never take direct
     * writes, and code pages must trap so their decoded blocks are dropped. */
    bool w = res->dirty && l.kind == PHYS_RAM && !physmem_is_code(pm, gpa_page) &&
             mmu_check_access(ps, &req, res) == 0;
    tlb_fill_sized(t, idx, va, gpa_page, l.host, r, w, x, res->global, res->page_size);
}
