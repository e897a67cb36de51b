/* The x86 page-table walker: paging off, 32-bit (PSE, PSE-36), PAE, 4-level and 5-level paging,
 * with the SDM Vol 3 chapter 4 reserved-bit, permission, A/D and #PF error-code rules. */
#include "mmu/mmu.h"

#include <string.h>

#define PTE_P     (1ull << 0)
#define PTE_RW    (1ull << 1)
#define PTE_US    (1ull << 2)
#define PTE_PWT   (1ull << 3)
#define PTE_PCD   (1ull << 4)
#define PTE_A     (1ull << 5)
#define PTE_D     (1ull << 6)
#define PTE_PS    (1ull << 7)
#define PTE_PAT4K (1ull << 7)
#define PTE_G     (1ull << 8)
#define PTE_PATL  (1ull << 12)
#define PTE_XD    (1ull << 63)

#define PHYS_BITS_MASK ((1ull << MMU_MAXPHYADDR) - 1)
#define ADDR_MASK      (PHYS_BITS_MASK & PAGE_MASK)
/* SDM Vol 3 4.5 tables: bits 51:MAXPHYADDR are reserved in every IA-32e paging entry; PAE
 * paging reserves 62:MAXPHYADDR; a PAE PDPTE also reserves 2:1, 8:5 and 63 (Table 4-8). */
#define RSVD_LONG_HI   (((1ull << 52) - 1) & ~PHYS_BITS_MASK)
#define RSVD_PAE_HI    (((1ull << 63) - 1) & ~PHYS_BITS_MASK)
#define RSVD_PAE_PDPTE (RSVD_PAE_HI | PTE_XD | 0x1E6ull)
#define RSVD_1G        (((1ull << 30) - 1) & ~((1ull << 13) - 1))
#define RSVD_2M        (((1ull << 21) - 1) & ~((1ull << 13) - 1))
/* 32-bit paging 4 MiB page (PSE-36): bits 20:13 hold address bits 39:32, those above
 * MAXPHYADDR and bit 21 are reserved (Table 4-4). */
#define RSVD_4M ((1ull << 21) | (((1ull << 21) - 1) & ~((1ull << (13 + MMU_MAXPHYADDR - 32)) - 1)))

/* The paging-structure entries a walk used, for the A/D update once it succeeds. */
struct walk_path {
    gpa_t addr[5];
    uint64_t val[5];
    unsigned n;
    unsigned entry_bytes;
};

static bool long_mode(const struct paging_state *ps)
{
    return (ps->efer & MMU_EFER_LMA) ||
           ((ps->efer & MMU_EFER_LME) && (ps->cr4 & MMU_CR4_PAE) && (ps->cr0 & MMU_CR0_PG));
}

/* SDM Vol 3 4.7: I/D is reported only when SMEP or PAE-with-NXE makes fetches distinguishable. */
static uint32_t fault_base(const struct paging_state *ps, const struct walk_req *req)
{
    uint32_t e = 0;
    if (req->access == MMU_WRITE)
        e |= PF_W;
    if (req->user)
        e |= PF_U;
    if (req->access == MMU_EXEC &&
        ((ps->cr4 & MMU_CR4_SMEP) || ((ps->cr4 & MMU_CR4_PAE) && (ps->efer & MMU_EFER_NXE))))
        e |= PF_I;
    return e;
}

uint32_t mmu_check_access(const struct paging_state *ps, const struct walk_req *req,
                          const struct walk_result *res)
{
    bool wp = ps->cr0 & MMU_CR0_WP;
    bool smap_blocks = res->user && !req->user && (ps->cr4 & MMU_CR4_SMAP) &&
                       (req->implicit || !req->ac);
    bool fault = false;

    /* SDM Vol 3 4.6.1: U/S and R/W combine across all levels (res already holds the AND). */
    switch (req->access) {
    case MMU_EXEC:
        if (res->nx)
            fault = true;
        else if (req->user)
            fault = !res->user;
        else
            fault = res->user && (ps->cr4 & MMU_CR4_SMEP);
        break;
    case MMU_READ:
        fault = req->user ? !res->user : smap_blocks;
        break;
    case MMU_WRITE:
        if (req->user)
            fault = !res->user || !res->writable;
        else
            fault = smap_blocks || (wp && !res->writable);
        break;
    }

    /* SDM Vol 3 4.6.2: PKRU governs data accesses to user-mode addresses, supervisor accesses
     * included; WD binds supervisor writes only with CR0.WP. PK is reported whenever PKRU
     * forbids the access, alongside any other cause (SDM 4.7 lists no exclusion). */
    bool pk = false;
    if ((ps->cr4 & MMU_CR4_PKE) && long_mode(ps) && req->access != MMU_EXEC && res->user) {
        unsigned ad = (req->pkru >> (2 * res->pkey)) & 1;
        unsigned wd = (req->pkru >> (2 * res->pkey + 1)) & 1;
        pk = ad || (req->access == MMU_WRITE && wd && (req->user || wp));
    }
    if (!fault && !pk)
        return 0;
    return fault_base(ps, req) | PF_P | (pk ? PF_PK : 0);
}

static uint64_t read_entry(struct physmem *pm, gpa_t addr, unsigned bytes, struct walk_path *path)
{
    uint64_t e = physmem_read_u(pm, addr, bytes);
    if (path->n < ARRAY_SIZE(path->addr)) {
        path->addr[path->n] = addr;
        path->val[path->n++] = e;
    }
    path->entry_bytes = bytes;
    return e;
}

/* SDM Vol 3 4.8: A on every entry used, D on the leaf for a write. Each entry is re-read before
 * its update so a table that maps itself (recursive mapping) keeps every bit set. */
static void set_accessed_dirty(struct physmem *pm, const struct walk_path *path, bool write)
{
    bool clean = true;
    for (unsigned i = 0; i < path->n; i++)
        clean = clean && (path->val[i] & PTE_A) && (!write || i + 1 < path->n || (path->val[i] & PTE_D));
    if (clean)
        return;
    for (unsigned i = 0; i < path->n; i++) {
        uint64_t e = physmem_read_u(pm, path->addr[i], path->entry_bytes);
        uint64_t set = PTE_A | (write && i + 1 == path->n ? PTE_D : 0);
        if ((e & set) != set)
            physmem_write_u(pm, path->addr[i], e | set, path->entry_bytes);
    }
}

static int fail(uint32_t *pf_error, uint32_t code)
{
    *pf_error = code;
    return -1;
}

static void fill_leaf(struct walk_result *res, uint64_t e, gva_t va, unsigned shift,
                      const struct paging_state *ps)
{
    uint64_t size = 1ull << shift;
    uint64_t frame = shift == PAGE_SHIFT ? (e & ADDR_MASK) : (e & ADDR_MASK & ~(size - 1));
    res->gpa = frame | (va & (size - 1));
    res->page_size = size;
    res->global = (e & PTE_G) && (ps->cr4 & MMU_CR4_PGE);
    res->dirty = e & PTE_D;
    bool pat = shift == PAGE_SHIFT ? (e & PTE_PAT4K) : (e & PTE_PATL);
    res->memtype_bits = (uint8_t)((pat ? 4 : 0) | ((e >> 3) & 3));
}

/* 32-bit paging: two levels of 4-byte entries, 4 MiB pages with CR4.PSE (PSE-36 high bits). */
static int walk_32(struct physmem *pm, const struct paging_state *ps, const struct walk_req *req,
                   struct walk_result *res, uint32_t *pf_error, struct walk_path *path)
{
    uint32_t va = (uint32_t)req->va;
    uint32_t base = fault_base(ps, req);
    uint64_t pde = read_entry(pm, (ps->cr3 & 0xFFFFF000u) + (va >> 22) * 4, 4, path);
    if (!(pde & PTE_P))
        return fail(pf_error, base);
    res->writable = pde & PTE_RW;
    res->user = pde & PTE_US;
    if ((pde & PTE_PS) && (ps->cr4 & MMU_CR4_PSE)) {
        if (pde & RSVD_4M)
            return fail(pf_error, base | PF_P | PF_RSVD);
        uint64_t frame = (pde & 0xFFC00000u) | (((pde >> 13) & 0xFF) << 32);
        fill_leaf(res, frame | (pde & 0x1FFF), va, 22, ps);
        return 0;
    }
    uint64_t pte = read_entry(pm, (pde & 0xFFFFF000u) + ((va >> 12) & 0x3FF) * 4, 4, path);
    if (!(pte & PTE_P))
        return fail(pf_error, base);
    res->writable = res->writable && (pte & PTE_RW);
    res->user = res->user && (pte & PTE_US);
    fill_leaf(res, pte, va, PAGE_SHIFT, ps);
    return 0;
}

static uint64_t pae_pdpte(struct physmem *pm, const struct paging_state *ps, unsigned i)
{
    return physmem_read_u(pm, (ps->cr3 & 0xFFFFFFE0u) + i * 8, 8);
}

int mmu_check_pdptes(struct physmem *pm, const struct paging_state *ps)
{
    for (unsigned i = 0; i < 4; i++) {
        uint64_t p = pae_pdpte(pm, ps, i);
        if ((p & PTE_P) && (p & RSVD_PAE_PDPTE))
            return -1;
    }
    return 0;
}

/* PAE and IA-32e paging: 8-byte entries, 9 index bits per level. */
static int walk_64(struct physmem *pm, const struct paging_state *ps, const struct walk_req *req,
                   struct walk_result *res, uint32_t *pf_error, struct walk_path *path)
{
    bool lma = long_mode(ps);
    bool nxe = ps->efer & MMU_EFER_NXE;
    uint32_t base = fault_base(ps, req);
    gva_t va = lma ? req->va : (uint32_t)req->va;
    uint64_t hi_rsvd = (lma ? RSVD_LONG_HI : RSVD_PAE_HI) | (nxe ? 0 : PTE_XD);
    unsigned level;
    gpa_t table;

    res->writable = res->user = true;
    res->nx = false;
    if (lma) {
        if (!mmu_canonical(ps, va))
            return MMU_WALK_NONCANONICAL;
        level = (ps->cr4 & MMU_CR4_LA57) ? 5 : 4;
        table = ps->cr3 & ADDR_MASK;
    } else {
        /* The PDPTE has no A, R/W or U/S bits: it is a register, not a walked entry. */
        uint64_t pdpte = pae_pdpte(pm, ps, (unsigned)(va >> 30) & 3);
        if (!(pdpte & PTE_P))
            return fail(pf_error, base);
        if (pdpte & RSVD_PAE_PDPTE)
            return fail(pf_error, base | PF_P | PF_RSVD);
        level = 2;
        table = pdpte & ADDR_MASK;
    }

    for (;; level--) {
        unsigned shift = PAGE_SHIFT + 9 * (level - 1);
        uint64_t e = read_entry(pm, table + ((va >> shift) & 511) * 8, 8, path);
        if (!(e & PTE_P))
            return fail(pf_error, base);
        uint64_t rsvd = hi_rsvd;
        bool leaf = level == 1;
        if (level > 1 && (e & PTE_PS)) {
            /* PS is reserved in PML4Es and PML5Es; it maps 1 GiB at PDPTE, 2 MiB at PDE. */
            if (level >= 4)
                return fail(pf_error, base | PF_P | PF_RSVD);
            rsvd |= level == 3 ? RSVD_1G : RSVD_2M;
            leaf = true;
        }
        if (e & rsvd)
            return fail(pf_error, base | PF_P | PF_RSVD);
        res->writable = res->writable && (e & PTE_RW);
        res->user = res->user && (e & PTE_US);
        res->nx = res->nx || (nxe && (e & PTE_XD));
        if (leaf) {
            fill_leaf(res, e, va, shift, ps);
            if (lma && (ps->cr4 & MMU_CR4_PKE))
                res->pkey = (uint8_t)((e >> 59) & 15);
            return 0;
        }
        table = e & ADDR_MASK;
    }
}

int mmu_walk(struct physmem *pm, const struct paging_state *ps, const struct walk_req *req,
             struct walk_result *res, uint32_t *pf_error)
{
    memset(res, 0, sizeof(*res));
    *pf_error = 0;
    if (!(ps->cr0 & MMU_CR0_PG)) {
        /* IA-32e mode needs paging, so without it the linear address is 32 bits. */
        res->gpa = (uint32_t)req->va;
        res->page_size = PAGE_SIZE;
        res->writable = res->user = res->dirty = true;
        return 0;
    }

    struct walk_path path = {.n = 0};
    int r = (ps->cr4 & MMU_CR4_PAE) ? walk_64(pm, ps, req, res, pf_error, &path)
                                    : walk_32(pm, ps, req, res, pf_error, &path);
    if (r)
        return r;
    uint32_t err = mmu_check_access(ps, req, res);
    if (err)
        return fail(pf_error, err);
    if (req->set_ad) {
        set_accessed_dirty(pm, &path, req->access == MMU_WRITE);
        if (req->access == MMU_WRITE)
            res->dirty = true;
    }
    return 0;
}
