/* 5-level paging (CR4.LA57) seen from the guest: checks CPUID, leaves long mode to set CR4.LA57
 * with 5-level tables (PML5[0] keeps the boot identity map), and checks accesses, faults and
 * canonical rules at addresses that need 57 bits; then returns to 4-level paging. */
#include "guest.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define CR4_LA57 (1ull << 12)
#define EFER_NXE (1ull << 11)
#define MSR_EFER 0xC0000080u

/* Test regions: canonical only with 57 bits (bits 63:48 are not copies of bit 47). */
#define VA_LOW57 0x0080000000000000ull  /* PML5[128] */
#define VA_HIGH57 0xFF00000000000000ull /* PML5[256]: negative */
#define VA_MID 0x0000800000000000ull    /* PML5[0], PML4[256]: non-canonical under 48 bits */
#define VA_BAD1 0x0100000000000000ull   /* bit 56 set, bits 63:57 clear: non-canonical */
#define VA_BAD2 0xFE00000000000000ull   /* bit 56 clear, bits 63:57 set: non-canonical */

/* Page-table pages and data pages; the image is identity-mapped, so virtual == physical. */
static uint64_t pml5[512] __attribute__((aligned(4096)));
static uint64_t pml4_low[512] __attribute__((aligned(4096)));
static uint64_t pml4_a[512] __attribute__((aligned(4096)));
static uint64_t pml4_b[512] __attribute__((aligned(4096)));
static uint64_t pdpt[3][512] __attribute__((aligned(4096)));
static uint64_t pd[3][512] __attribute__((aligned(4096)));
static uint64_t pt[3][512] __attribute__((aligned(4096)));
static uint64_t data[4][512] __attribute__((aligned(4096)));
static uint8_t code_page[4096] __attribute__((aligned(4096)));

static uint64_t pa(const void *p) { return (uint64_t)(uintptr_t)p; }
/* Alias reads go through volatile: the compiler cannot see that a 57-bit address maps data[]. */
static uint64_t vrd(const uint64_t *p) { return *(const volatile uint64_t *)p; }
static unsigned idx(uint64_t va, unsigned level) { return (unsigned)(va >> (12 + 9 * (level - 1))) & 511; }

/* Switches paging depth: through compatibility mode, paging and LME off, CR4 and CR3 loaded with
 * paging off (the only time LA57 may change), then LME and paging on again. */
void la57_switch(uint64_t cr3, uint64_t cr4);
__asm__(".text\n"
        ".code64\n"
        ".globl la57_switch\n"
        "la57_switch:\n"
        "  pushfq\n"
        "  cli\n"
        "  pushq $0x18\n"
        "  leaq 1f(%rip), %rax\n"
        "  pushq %rax\n"
        "  lretq\n"
        ".code32\n"
        "1:\n"
        "  movl %cr0, %eax\n"
        "  andl $0x7FFFFFFF, %eax\n"
        "  movl %eax, %cr0\n"
        "  movl $0xC0000080, %ecx\n"
        "  rdmsr\n"
        "  andl $~0x100, %eax\n"
        "  wrmsr\n"
        "  movl %esi, %cr4\n"
        "  movl %edi, %cr3\n"
        "  rdmsr\n"
        "  orl $0x100, %eax\n"
        "  wrmsr\n"
        "  movl %cr0, %eax\n"
        "  orl $0x80000000, %eax\n"
        "  movl %eax, %cr0\n"
        "  ljmp $0x08, $2f\n"
        ".code64\n"
        "2:\n"
        "  popfq\n"
        "  ret\n");

static volatile uint64_t probe_val;
static void probe_rd64(void *p) { probe_val = *(volatile uint64_t *)p; }
static void probe_wr64(void *p) { *(volatile uint64_t *)p = 0x5757575757575757ull; }
static void probe_call(void *p) { probe_val = ((uint64_t(*)(void))p)(); }
static void probe_set_cr4(void *p)
{
    uint64_t v = *(uint64_t *)p;
    __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

static bool expect_fault(const char *name, long r, unsigned vec, uint64_t err, bool cr2_check, uint64_t cr2)
{
    bool ok = r == (long)(TRAP_CAUGHT | vec) && trap_last.error_code == err && (!cr2_check || trap_last.cr2 == cr2);
    return check(name, ok, "try_call %#lx, vector %llu err %#llx cr2 %#llx; want vector %u err %#llx cr2 %#llx", r,
                 (unsigned long long)trap_last.vector, (unsigned long long)trap_last.error_code,
                 (unsigned long long)trap_last.cr2, vec, (unsigned long long)err, (unsigned long long)cr2);
}

/* Map va (4 KiB) through the given PML4/PDPT/PD/PT chain (one chain per region). */
static void map_chain(uint64_t *l4, uint64_t *l3, uint64_t *l2, uint64_t *l1, uint64_t va, uint64_t phys,
                      uint64_t flags)
{
    l4[idx(va, 4)] = pa(l3) | PTE_P | PTE_RW;
    l3[idx(va, 3)] = pa(l2) | PTE_P | PTE_RW;
    l2[idx(va, 2)] = pa(l1) | PTE_P | PTE_RW;
    l1[idx(va, 1)] = phys | flags;
}

static void build_tables(void)
{
    for (unsigned k = 0; k < 512; k++)
        pml4_low[k] = guest_pml4[k];
    pml5[0] = pa(pml4_low) | PTE_P | PTE_RW;
    pml5[idx(VA_LOW57, 5)] = pa(pml4_a) | PTE_P | PTE_RW;
    pml5[idx(VA_HIGH57, 5)] = pa(pml4_b) | PTE_P | PTE_RW;
    uint64_t nx = (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;
    map_chain(pml4_a, pdpt[0], pd[0], pt[0], VA_LOW57, pa(data[0]), PTE_P | PTE_RW | nx);
    map_chain(pml4_a, pdpt[0], pd[0], pt[0], VA_LOW57 + 0x1000, pa(code_page), PTE_P);
    map_chain(pml4_b, pdpt[1], pd[1], pt[1], VA_HIGH57 + 0x3000, pa(data[1]), PTE_P | PTE_RW | nx);
    map_chain(pml4_low, pdpt[2], pd[2], pt[2], VA_MID, pa(data[2]), PTE_P | PTE_RW | nx);
    /* "mov eax, 0x57; ret" */
    static const uint8_t fn[] = {0xb8, 0x57, 0, 0, 0, 0xc3};
    memcpy(code_page, fn, sizeof(fn));
}

static void test_cpuid(void)
{
    struct cpuid_regs c7 = cpuid(7, 0);
    CHECK("la57.cpuid7_ecx_la57", (c7.ecx >> 16) & 1);
    struct cpuid_regs c8 = cpuid(0x80000008, 0);
    CHECK_EQ("la57.cpuid_linear_bits_57", (c8.eax >> 8) & 0xff, 57);
}

static void test_before(void)
{
    /* Under 4-level paging the 57-bit region is non-canonical. */
    expect_fault("la57.off_low57_gp", try_call(probe_rd64, (void *)VA_LOW57), 13, 0, false, 0);
    expect_fault("la57.off_mid_gp", try_call(probe_rd64, (void *)VA_MID), 13, 0, false, 0);
    uint64_t v = read_cr4() | CR4_LA57;
    expect_fault("la57.off_set_in_long_mode_gp", try_call(probe_set_cr4, &v), 13, 0, false, 0);
    CHECK("la57.off_cr4_unchanged", !(read_cr4() & CR4_LA57));
}

static void test_in_la57(void)
{
    CHECK("la57.cr4_la57_set", read_cr4() & CR4_LA57);
    CHECK_EQ("la57.cr3_is_pml5", read_cr3() & ~0xfffull, pa(pml5));
    /* The identity map still works through PML5[0] (we are running on it). */
    CHECK_EQ("la57.identity_read", *(volatile uint64_t *)pa(&data[3][5]), 0x33);

    /* Reads and writes at the low 57-bit region, seen through the identity alias. */
    volatile uint64_t *lo = (volatile uint64_t *)(VA_LOW57 + 0x80);
    CHECK_EQ("la57.low57_read", *lo, 0x1111);
    *lo = 0xabcdef01ull;
    CHECK_EQ("la57.low57_write_alias", vrd(&data[0][0x10]), 0xabcdef01ull);
    CHECK("la57.low57_try_write", try_call(probe_wr64, (void *)(VA_LOW57 + 0x88)) == 0 &&
                                      vrd(&data[0][0x11]) == 0x5757575757575757ull);

    /* The walk set the accessed bit in the PML5 entry and dirty in the PTE (SDM 4.8). */
    CHECK("la57.pml5e_accessed", vrd(&pml5[idx(VA_LOW57, 5)]) & 0x20);
    CHECK("la57.pte_dirty", vrd(&pt[0][idx(VA_LOW57, 1)]) & 0x40);

    /* The negative 57-bit region. */
    volatile uint64_t *hi = (volatile uint64_t *)(VA_HIGH57 + 0x3000 + 0x18);
    CHECK_EQ("la57.high57_read", *hi, 0x2222);
    *hi = 0x7777;
    CHECK_EQ("la57.high57_write_alias", vrd(&data[1][3]), 0x7777);

    /* Non-canonical under 48 bits, canonical under 57: mapped through PML4[256] of PML5[0]. */
    volatile uint64_t *mid = (volatile uint64_t *)(VA_MID + 0x40);
    CHECK_EQ("la57.mid_read", *mid, 0x4444);
    *mid = 0x4545;
    CHECK_EQ("la57.mid_write_alias", vrd(&data[2][8]), 0x4545);

    /* Instruction fetch at a 57-bit address. */
    probe_val = 0;
    CHECK("la57.exec_low57", try_call(probe_call, (void *)(VA_LOW57 + 0x1000)) == 0 && probe_val == 0x57);

    /* Not-present faults at 57-bit addresses report the full address in CR2. */
    expect_fault("la57.pf_read_not_present", try_call(probe_rd64, (void *)(VA_LOW57 + 0x5008)), 14, 0, true,
                 VA_LOW57 + 0x5008);
    expect_fault("la57.pf_write_not_present", try_call(probe_wr64, (void *)(VA_HIGH57 + 0x200010)), 14, 2,
                 true, VA_HIGH57 + 0x200010);
    expect_fault("la57.pf_unmapped_pml5", try_call(probe_rd64, (void *)0x00F0000000000000ull), 14, 0, true,
                 0x00F0000000000000ull);
    /* Writing the read-only code page: present + write. */
    expect_fault("la57.pf_write_readonly", try_call(probe_wr64, (void *)(VA_LOW57 + 0x1800)), 14, 3, true,
                 VA_LOW57 + 0x1800);
    CHECK_EQ("la57.read_cr2", read_cr2(), VA_LOW57 + 0x1800);

    /* Non-canonical in 57 bits: #GP(0). */
    expect_fault("la57.noncanonical_bit56_gp", try_call(probe_rd64, (void *)VA_BAD1), 13, 0, false, 0);
    expect_fault("la57.noncanonical_neg_gp", try_call(probe_wr64, (void *)VA_BAD2), 13, 0, false, 0);
    expect_fault("la57.noncanonical_top_gp", try_call(probe_rd64, (void *)0x8000000000000000ull), 13, 0, false, 0);

    /* INVLPG at a 57-bit address drops the old translation. */
    (void)*lo;
    pt[0][idx(VA_LOW57, 1)] = pa(data[3]) | PTE_P | PTE_RW;
    invlpg(VA_LOW57);
    CHECK_EQ("la57.invlpg_remap", *(volatile uint64_t *)(VA_LOW57 + 0x28), 0x33);
    pt[0][idx(VA_LOW57, 1)] = pa(data[0]) | PTE_P | PTE_RW;
    invlpg(VA_LOW57);
    CHECK_EQ("la57.invlpg_back", *lo, 0xabcdef01ull);

    /* LA57 cannot change in IA-32e mode: clearing it faults and leaves CR4 alone. */
    uint64_t v = read_cr4() & ~CR4_LA57;
    expect_fault("la57.clear_in_long_mode_gp", try_call(probe_set_cr4, &v), 13, 0, false, 0);
    CHECK("la57.still_set", read_cr4() & CR4_LA57);
    /* Rewriting CR4 with LA57 unchanged is fine. */
    v = read_cr4();
    CHECK("la57.same_value_ok", try_call(probe_set_cr4, &v) == 0 && (read_cr4() & CR4_LA57));
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("mmu_la57: 5-level paging\n");
    test_cpuid();
    struct cpuid_regs c7 = cpuid(7, 0);
    if (!((c7.ecx >> 16) & 1)) {
        test_finish();
    }
    for (unsigned k = 0; k < 512; k++)
        data[3][k] = 0x33;
    data[0][0x10] = 0x1111;
    data[1][3] = 0x2222;
    data[2][8] = 0x4444;
    test_before();
    build_tables();
    uint64_t cr3 = read_cr3(), cr4 = read_cr4();
    la57_switch(pa(pml5), cr4 | CR4_LA57);
    test_in_la57();
    la57_switch(cr3, cr4);
    CHECK_EQ("la57.back_cr4", read_cr4(), cr4);
    CHECK_EQ("la57.back_cr3", read_cr3(), cr3);
    expect_fault("la57.back_low57_gp", try_call(probe_rd64, (void *)VA_LOW57), 13, 0, false, 0);
    CHECK_EQ("la57.back_identity", vrd(&data[0][0x10]), 0xabcdef01ull);
    test_finish();
}
