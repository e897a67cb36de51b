/* Shared fixture of the 64-bit paging test kernels (mmu_paging64.c, mmu_tlb.c): PTE and #PF
 * error-code bits, a test region of own page tables in PML4 slot 1, probes for try_call, and
 * expect_fault/expect_pf checks. Static on purpose: each kernel gets its own tables. */
#ifndef HVEMU_ROMS_MMU_FIXTURE_H
#define HVEMU_ROMS_MMU_FIXTURE_H

#include "guest.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PF_P 0x1u
#define PF_W 0x2u
#define PF_U 0x4u
#define PF_RSVD 0x8u
#define PF_I 0x10u
#define PG 4096ull

#define CR0_WP (1ull << 16)
#define CR4_PGE (1ull << 7)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define MSR_EFER 0xC0000080u
#define EFER_NXE (1ull << 11)

/* The test region: PML4 slot 1 (VA 512 GiB); its first 2 MiB are 4 KiB pages in pt_t. */
#define TB 0x8000000000ull
#define VA(i) (TB + (uint64_t)(i) * PG)
#define VA_2M (TB + (2ull << 20))       /* pd_t[1]: a 2 MiB page */
#define VA_2M_RSVD (TB + (4ull << 20))  /* pd_t[2]: 2 MiB page with a reserved bit */
#define VA_RO_PD (TB + (6ull << 20))    /* pd_t[3]: read-only PDE over a writable PTE */
#define VA_S_PD (TB + (8ull << 20))     /* pd_t[4]: supervisor PDE over a user PTE */
#define VA_1G (TB + (1ull << 30))       /* pdpt_t[1]: a 1 GiB page mapping PA 0 */
#define VA_1G_RSVD (TB + (2ull << 30))  /* pdpt_t[2]: 1 GiB page with a reserved bit */
#define VA_PML4_RSVD 0x10000000000ull   /* PML4 slot 2 with PS set (reserved) */
#define PA_2M 0x08000000ull             /* 128 MiB: RAM the image does not use */

static volatile uint64_t pml4_u[512] __attribute__((aligned(4096))); /* identity map user-accessible */
static volatile uint64_t pml4_k[512] __attribute__((aligned(4096))); /* identity map supervisor-only */
static volatile uint64_t pdpt_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pd_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_ro[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_s[512] __attribute__((aligned(4096)));
static volatile uint8_t pages[16][4096] __attribute__((aligned(4096)));

#define PA(p) ((uint64_t)(uintptr_t)(p))

static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }
static inline void stac(void) { __asm__ volatile("stac" ::: "memory", "cc"); }
static inline void clac(void) { __asm__ volatile("clac" ::: "memory", "cc"); }

static void map(unsigned i, uint64_t pa, uint64_t flags)
{
    pt_t[i] = pa | flags;
    invlpg(VA(i));
}

static inline uint64_t rd(uint64_t va) { return *(volatile uint64_t *)(uintptr_t)va; }
static inline void wr(uint64_t va, uint64_t v) { *(volatile uint64_t *)(uintptr_t)va = v; }
static inline uint64_t pg64(unsigned p, unsigned off) { return *(volatile uint64_t *)&pages[p][off]; }

/* Probes for try_call / try_call_user: the argument is the virtual address. */
static volatile uint64_t probe_val;
static void probe_rd64(void *p) { probe_val = *(volatile uint64_t *)p; }
static void probe_wr64(void *p) { *(volatile uint64_t *)p = 0x1122334455667788ull; }
static void probe_exec(void *p) { ((void (*)(void))p)(); }

static bool expect_fault(const char *name, long r, unsigned vec, uint32_t err, bool cr2_check, uint64_t cr2)
{
    bool ok = r == (long)(TRAP_CAUGHT | vec) && trap_last.error_code == err &&
              (!cr2_check || trap_last.cr2 == cr2);
    if (r == 0)
        return check(name, false, "no exception; want vec %u err 0x%x cr2 0x%llx", vec, err, (unsigned long long)cr2);
    return check(name, ok, "got vec %llu err 0x%llx cr2 0x%llx rip 0x%llx; want vec %u err 0x%x cr2 0x%llx",
                 (unsigned long long)trap_last.vector, (unsigned long long)trap_last.error_code,
                 (unsigned long long)trap_last.cr2, (unsigned long long)trap_last.rip, vec, err,
                 (unsigned long long)cr2);
}

static bool expect_pf(const char *name, void (*fn)(void *), uint64_t va, uint32_t err, uint64_t cr2)
{
    return expect_fault(name, try_call(fn, (void *)(uintptr_t)va), 14, err, true, cr2);
}

static bool expect_pf_user(const char *name, void (*fn)(void *), uint64_t va, uint32_t err, uint64_t cr2)
{
    return expect_fault(name, try_call_user(fn, (void *)(uintptr_t)va), 14, err, true, cr2);
}

static void setup_tables(void)
{
    for (unsigned i = 0; i < 512; i++) {
        pml4_u[i] = pml4_k[i] = pdpt_t[i] = pd_t[i] = pt_t[i] = pt_ro[i] = pt_s[i] = 0;
    }
    pml4_u[0] = PA(guest_pdpt) | PTE_P | PTE_RW | PTE_US;
    pml4_k[0] = PA(guest_pdpt) | PTE_P | PTE_RW; /* U=0 here makes all of 0-4 GiB supervisor */
    pml4_u[1] = pml4_k[1] = PA(pdpt_t) | PTE_P | PTE_RW | PTE_US;
    pml4_u[2] = pml4_k[2] = PA(pdpt_t) | PTE_P | PTE_RW | PTE_US | PTE_PS; /* PS is reserved in a PML4E */
    pdpt_t[0] = PA(pd_t) | PTE_P | PTE_RW | PTE_US;
    pd_t[0] = PA(pt_t) | PTE_P | PTE_RW | PTE_US;
    pd_t[3] = PA(pt_ro) | PTE_P | PTE_US;          /* read-only at the PD level */
    pd_t[4] = PA(pt_s) | PTE_P | PTE_RW;           /* supervisor at the PD level */
    pt_ro[0] = PA(pages[5]) | PTE_P | PTE_RW | PTE_US;
    pt_s[0] = PA(pages[5]) | PTE_P | PTE_RW | PTE_US;
    for (unsigned p = 0; p < 16; p++)
        for (unsigned k = 0; k < 4096; k += 8)
            *(volatile uint64_t *)&pages[p][k] = 0x0101010101010101ull * (p + 0x10) + k;
}

#endif
