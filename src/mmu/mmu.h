/* Paging: the page-table walker for every x86 paging mode, and its fault codes. */
#ifndef HVEMU_MMU_H
#define HVEMU_MMU_H

#include "types.h"
#include "mmu/physmem.h"

/* The control-register state that selects and tunes paging. */
struct paging_state {
    uint64_t cr0, cr3, cr4, efer;
};

/* Control-register and EFER bits the walker reads. */
#define MMU_CR0_WP   (1ull << 16)
#define MMU_CR0_PG   (1ull << 31)
#define MMU_CR4_PSE  (1ull << 4)
#define MMU_CR4_PAE  (1ull << 5)
#define MMU_CR4_PGE  (1ull << 7)
#define MMU_CR4_LA57 (1ull << 12)
#define MMU_CR4_SMEP (1ull << 20)
#define MMU_CR4_SMAP (1ull << 21)
#define MMU_CR4_PKE  (1ull << 22)
#define MMU_EFER_LME (1ull << 8)
#define MMU_EFER_LMA (1ull << 10)
#define MMU_EFER_NXE (1ull << 11)

enum mmu_access { MMU_READ = 0, MMU_WRITE = 1, MMU_EXEC = 2 };

struct walk_req {
    gva_t va;
    enum mmu_access access;
    bool user;       /* a user-mode access (CPL 3 and not an implicit supervisor access) */
    bool implicit;   /* implicit supervisor access (descriptor tables, TSS...): SMAP ignores AC */
    bool ac;         /* RFLAGS.AC, for SMAP */
    uint32_t pkru;   /* for protection keys when CR4.PKE */
    bool set_ad;     /* set accessed/dirty bits (false for debugger peeks) */
};

struct walk_result {
    gpa_t gpa;          /* translated address of va */
    uint64_t page_size; /* 4K, 2M, 4M or 1G */
    bool writable;      /* effective permissions of the whole translation */
    bool user;
    bool nx;
    bool global;
    bool dirty;         /* the leaf's D bit is set (writes need no further A/D update) */
    uint8_t memtype_bits; /* PAT index bits: PAT<<2 | PCD<<1 | PWT */
    uint8_t pkey;       /* the leaf's protection key (0 unless IA-32e paging with CR4.PKE) */
};

/* #PF error-code bits (SDM Vol 3 4.7). */
enum {
    PF_P = 1u << 0, PF_W = 1u << 1, PF_U = 1u << 2, PF_RSVD = 1u << 3,
    PF_I = 1u << 4, PF_PK = 1u << 5, PF_SS = 1u << 6, PF_SGX = 1u << 15,
};

/* Translate req->va under ps. Paging disabled (CR0.PG=0) translates 1:1 (truncated to 32
 * bits outside long mode). Returns 0 and fills *res, or -1 with *pf_error set; the caller
 * raises #PF with CR2 = va. A/D bits are set atomically, as the SDM orders them. */
int mmu_walk(struct physmem *pm, const struct paging_state *ps, const struct walk_req *req,
             struct walk_result *res, uint32_t *pf_error);
/* mmu_walk's return for a non-canonical va under IA-32e paging: #GP(0) or #SS(0), not #PF.
 * The CPU normally checks mmu_canonical first; this keeps a missed check from walking. */
#define MMU_WALK_NONCANONICAL (-2)

/* PAE paging: the SDM loads the four PDPTEs into registers when CR3 is written (or PAE paging is
 * turned on), raising #GP(0) there if a present one has a reserved bit set. hvemu checks them at
 * those points with this function (-1: raise #GP(0), keep the old CR3/CR0/CR4), but the walker
 * reads them from memory on each walk, as QEMU does: it differs from hardware only when a guest
 * edits a live PDPT without reloading CR3, and keeps paging_state four plain registers. A
 * reserved bit found by the walker is reported as #PF with RSVD. */
int mmu_check_pdptes(struct physmem *pm, const struct paging_state *ps);

/* Whether the access of req is allowed by the permissions of a completed walk (res), with the
 * SDM 4.6 rules: U/S, R/W with CR0.WP, NX, SMEP, SMAP with AC and implicit accesses, PKRU.
 * Returns 0 or the #PF error code. mmu_walk applies it; the TLB fill uses it per mmu_idx. */
uint32_t mmu_check_access(const struct paging_state *ps, const struct walk_req *req,
                          const struct walk_result *res);

struct tlb;
/* Install va's translation res (from a walk under ps) into TLB context idx (0 supervisor,
 * 1 supervisor with AC, 2 user), with the tags that context may use without a fault or an A/D
 * update: no write tag unless the leaf is dirty, no write tag on code pages, overlays or ROM, no
 * tag at all on MMIO or holes. pkru is the current PKRU: the CPU must flush the TLB when
 * WRPKRU/XRSTOR changes PKRU with CR4.PKE set, since the tags bake its value in. */
void mmu_tlb_fill(struct tlb *t, unsigned idx, struct physmem *pm, const struct paging_state *ps,
                  gva_t va, const struct walk_result *res, uint32_t pkru);

/* Physical-address width advertised in CPUID 0x80000008 and enforced as reserved bits. */
#define MMU_MAXPHYADDR 40

/* Canonical check for the current linear-address width (48, or 57 with CR4.LA57). */
static inline bool mmu_canonical(const struct paging_state *ps, gva_t va)
{
    unsigned bits = (ps->cr4 & (1u << 12)) ? 57 : 48;
    int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == va;
}

#endif
