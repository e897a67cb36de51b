/* Paging: the page-table walker for every x86 paging mode, and its fault codes. */
#ifndef HVEMU_MMU_H
#define HVEMU_MMU_H

#include "types.h"
#include "mmu/physmem.h"

/* The control-register state that selects and tunes paging. */
struct paging_state {
    uint64_t cr0, cr3, cr4, efer;
};

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
