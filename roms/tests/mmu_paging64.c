/* 4-level paging seen from the guest: own page tables with 4 KiB, 2 MiB and 1 GiB pages, #PF error
 * codes and CR2 for each protection rule (P, R/W with CR0.WP, U/S, NX, RSVD, SMEP, SMAP), large
 * pages, page-crossing accesses and fetches, canonical checks, and the CR3/CR4 paging bits.
 * The TLB side (A/D, INVLPG, global pages, INVPCID, fault-fixup-resume) is mmu_tlb.c. */
#include "guest.h"

#include "mmu_fixture.h"
static void probe_rd64_ac(void *p)
{
    stac();
    probe_val = *(volatile uint64_t *)p;
    clac();
}
static void probe_wr64_ac(void *p)
{
    stac();
    *(volatile uint64_t *)p = 0x5A5A5A5A5A5A5A5Aull;
    clac();
}

/* A load through RBP: the stack segment, so a non-canonical address is #SS, not #GP. */
void ss_probe(void *p);
__asm__(".text\n"
        ".globl ss_probe\n"
        "ss_probe:\n"
        "  pushq %rbp\n"
        "  movq %rdi, %rbp\n"
        "  movq 0(%rbp), %rax\n"
        "  popq %rbp\n"
        "  ret\n");

static void test_basic_and_alias(void)
{
    map(0, PA(pages[0]), PTE_P | PTE_RW);
    map(1, PA(pages[0]), PTE_P | PTE_RW);
    CHECK_EQ("pg64.read_4k", rd(VA(0) + 0x40), pg64(0, 0x40));
    wr(VA(0) + 0x80, 0xDEADBEEFCAFEF00Dull);
    CHECK_EQ("pg64.write_4k_lands_in_phys", pg64(0, 0x80), 0xDEADBEEFCAFEF00Dull);
    CHECK_EQ("pg64.alias_read_sees_write", rd(VA(1) + 0x80), 0xDEADBEEFCAFEF00Dull);
    wr(VA(1) + 0x88, 0x0123456789ABCDEFull);
    CHECK_EQ("pg64.alias_write_seen_by_other_va", rd(VA(0) + 0x88), 0x0123456789ABCDEFull);
    /* Unaligned access inside a page through the alias. */
    wr(VA(1) + 0x103, 0xA1A2A3A4A5A6A7A8ull);
    CHECK_EQ("pg64.alias_unaligned", rd(VA(0) + 0x103), 0xA1A2A3A4A5A6A7A8ull);
}

static void test_not_present(void)
{
    map(2, PA(pages[1]), 0);
    expect_pf("pg64.np_read_err0_cr2", probe_rd64, VA(2) + 0x345, 0, VA(2) + 0x345);
    expect_pf("pg64.np_write_errW", probe_wr64, VA(2) + 0x678, PF_W, VA(2) + 0x678);
    expect_pf("pg64.np_fetch_errI", probe_exec, VA(2) + 0x10, PF_I, VA(2) + 0x10);
    /* Not present at the PD level: a hole in pd_t. */
    expect_pf("pg64.np_pde_read", probe_rd64, TB + (20ull << 21) + 8, 0, TB + (20ull << 21) + 8);
    /* Not present at the PML4 level. */
    expect_pf("pg64.np_pml4e_write", probe_wr64, 0x30000000000ull, PF_W, 0x30000000000ull);
    CHECK_EQ("pg64.np_page_untouched", pg64(1, 0x678), 0x0101010101010101ull * 0x11 + 0x678);
}

static void test_write_protect(void)
{
    map(3, PA(pages[1]), PTE_P);
    CHECK_EQ("pg64.ro_read_ok", rd(VA(3) + 0x10), pg64(1, 0x10));
    expect_pf("pg64.ro_write_wp1_errWP", probe_wr64, VA(3) + 0x20, PF_W | PF_P, VA(3) + 0x20);
    CHECK_EQ("pg64.ro_write_wp1_nothing_written", pg64(1, 0x20), 0x0101010101010101ull * 0x11 + 0x20);
    uint64_t cr0 = read_cr0();
    write_cr0(cr0 & ~CR0_WP);
    long r = try_call(probe_wr64, (void *)(uintptr_t)(VA(3) + 0x20));
    write_cr0(cr0);
    CHECK("pg64.ro_write_wp0_allowed", r == 0 && pg64(1, 0x20) == 0x1122334455667788ull);
    /* Setting WP again must not leave the WP=0 write permission cached. */
    expect_pf("pg64.ro_write_wp_reenabled_faults", probe_wr64, VA(3) + 0x28, PF_W | PF_P, VA(3) + 0x28);
    /* R/W=0 at the PD level over R/W=1 in the PTE still protects. */
    expect_pf("pg64.ro_pde_write_errWP", probe_wr64, VA_RO_PD + 0x30, PF_W | PF_P, VA_RO_PD + 0x30);
    CHECK_EQ("pg64.ro_pde_read_ok", rd(VA_RO_PD + 0x30), pg64(5, 0x30));
}

static void test_nx(void)
{
    uint64_t efer = rdmsr(MSR_EFER);
    CHECK("pg64.efer_nxe_set", efer & EFER_NXE);
    pages[2][0] = 0xC3; /* ret */
    pages[2][1] = 0xC3;
    map(4, PA(pages[2]), PTE_P | PTE_RW | PTE_NX);
    map(5, PA(pages[2]), PTE_P | PTE_RW);
    CHECK("pg64.exec_4k_ok", try_call(probe_exec, (void *)(uintptr_t)VA(5)) == 0);
    expect_pf("pg64.nx_fetch_errIP", probe_exec, VA(4) + 1, PF_I | PF_P, VA(4) + 1);
    CHECK_EQ("pg64.nx_read_ok", rd(VA(4)) & 0xFFFF, 0xC3C3);
    /* NX in an upper level applies to the whole range below it. */
    pd_t[5] = PA(pt_s) | PTE_P | PTE_RW | PTE_NX;
    pt_s[1] = PA(pages[2]) | PTE_P | PTE_RW;
    invlpg(TB + (5ull << 21) + PG);
    expect_pf("pg64.nx_pde_fetch_errIP", probe_exec, TB + (5ull << 21) + PG, PF_I | PF_P, TB + (5ull << 21) + PG);

    /* With EFER.NXE=0 bit 63 is reserved, and fetch faults do not report I (no SMEP either). */
    wrmsr(MSR_EFER, efer & ~EFER_NXE);
    invlpg(VA(4));
    expect_pf("pg64.nxe0_xd_bit_is_rsvd", probe_rd64, VA(4), PF_RSVD | PF_P, VA(4));
    expect_pf("pg64.nxe0_np_fetch_no_I", probe_exec, VA(2), 0, VA(2));
    wrmsr(MSR_EFER, efer);
    invlpg(VA(4));
}

static void test_user(void)
{
    map(16, PA(pages[10]), PTE_P | PTE_RW | PTE_US);
    map(17, PA(pages[10]), PTE_P | PTE_US);
    map(18, PA(pages[10]), PTE_P | PTE_RW);
    map(19, PA(pages[2]), PTE_P | PTE_US);
    map(20, PA(pages[10]), PTE_US);
    probe_val = 0;
    CHECK("pg64.user_read_user_page", try_call_user(probe_rd64, (void *)(uintptr_t)(VA(16) + 8)) == 0 &&
                                          probe_val == pg64(10, 8));
    CHECK("pg64.user_write_user_page", try_call_user(probe_wr64, (void *)(uintptr_t)(VA(16) + 0x10)) == 0 &&
                                           pg64(10, 0x10) == 0x1122334455667788ull);
    CHECK("pg64.user_exec_user_page", try_call_user(probe_exec, (void *)(uintptr_t)VA(19)) == 0);
    expect_pf_user("pg64.user_read_sup_page_errUP", probe_rd64, VA(18) + 0x18, PF_U | PF_P, VA(18) + 0x18);
    expect_pf_user("pg64.user_write_sup_page_errUWP", probe_wr64, VA(18) + 0x18, PF_U | PF_W | PF_P,
                   VA(18) + 0x18);
    expect_pf_user("pg64.user_write_ro_page_errUWP", probe_wr64, VA(17) + 0x20, PF_U | PF_W | PF_P,
                   VA(17) + 0x20);
    /* CR0.WP=0 only relaxes supervisor writes. */
    uint64_t cr0 = read_cr0();
    write_cr0(cr0 & ~CR0_WP);
    long r = try_call_user(probe_wr64, (void *)(uintptr_t)(VA(17) + 0x28));
    write_cr0(cr0);
    expect_fault("pg64.user_write_ro_wp0_still_faults", r, 14, PF_U | PF_W | PF_P, true, VA(17) + 0x28);
    expect_pf_user("pg64.user_read_np_errU", probe_rd64, VA(20) + 0x30, PF_U, VA(20) + 0x30);
    expect_pf_user("pg64.user_exec_sup_page_errUIP", probe_exec, VA(5), PF_U | PF_I | PF_P, VA(5));
    expect_pf_user("pg64.user_read_sup_pde_errUP", probe_rd64, VA_S_PD + 0x40, PF_U | PF_P, VA_S_PD + 0x40);
    CHECK_EQ("pg64.sup_read_sup_pde_ok", rd(VA_S_PD + 0x40), pg64(5, 0x40));
    /* Supervisor translations cached just now must not serve ring 3. */
    CHECK_EQ("pg64.sup_read_sup_page_ok", rd(VA(18) + 0x18), pg64(10, 0x18));
    wr(VA(18) + 0x20, 0x4242);
    expect_pf_user("pg64.user_after_sup_cached_read_faults", probe_rd64, VA(18) + 0x18, PF_U | PF_P, VA(18) + 0x18);
    expect_pf_user("pg64.user_after_sup_cached_write_faults", probe_wr64, VA(18) + 0x20, PF_U | PF_W | PF_P,
                   VA(18) + 0x20);
    expect_pf_user("pg64.user_after_sup_cached_pde_faults", probe_rd64, VA_S_PD + 0x40, PF_U | PF_P, VA_S_PD + 0x40);
}

static void test_smep_smap(void)
{
    struct cpuid_regs c7 = cpuid(7, 0);
    uint64_t cr3 = read_cr3(), cr4 = read_cr4();
    write_cr3(PA(pml4_k));
    CHECK("pg64.supervisor_identity_cr3_runs", read_cr3() == PA(pml4_k));
    if (c7.ebx & (1u << 7)) {
        write_cr4(cr4 | CR4_SMEP);
        CHECK("pg64.smep_exec_sup_page_ok", try_call(probe_exec, (void *)(uintptr_t)VA(5)) == 0);
        expect_pf("pg64.smep_exec_user_page_errIP", probe_exec, VA(19), PF_I | PF_P, VA(19));
        CHECK_EQ("pg64.smep_read_user_page_ok", rd(VA(19)) & 0xFF, 0xC3);
        write_cr4(cr4);
        CHECK("pg64.smep_off_exec_user_page_ok", try_call(probe_exec, (void *)(uintptr_t)VA(19)) == 0);
        write_cr4(cr4 | CR4_SMEP);
        expect_pf("pg64.smep_reenabled_faults_again", probe_exec, VA(19), PF_I | PF_P, VA(19));
        write_cr4(cr4);
    } else {
        CHECK("pg64.smep_advertised", false);
    }
    if (c7.ebx & (1u << 20)) {
        write_cr4(cr4 | CR4_SMAP);
        expect_pf("pg64.smap_read_user_page_errP", probe_rd64, VA(16) + 0x48, PF_P, VA(16) + 0x48);
        expect_pf("pg64.smap_write_user_page_errWP", probe_wr64, VA(16) + 0x50, PF_W | PF_P, VA(16) + 0x50);
        probe_val = 0;
        CHECK("pg64.smap_read_with_ac_ok",
              try_call(probe_rd64_ac, (void *)(uintptr_t)(VA(16) + 0x48)) == 0 && probe_val == pg64(10, 0x48));
        CHECK("pg64.smap_write_with_ac_ok", try_call(probe_wr64_ac, (void *)(uintptr_t)(VA(16) + 0x50)) == 0 &&
                                                pg64(10, 0x50) == 0x5A5A5A5A5A5A5A5Aull);
        CHECK_EQ("pg64.smap_sup_page_read_ok", rd(VA(18) + 0x48), pg64(10, 0x48));
        /* The AC=1 translation must not serve an AC=0 access. */
        expect_pf("pg64.smap_ac_cleared_faults_again", probe_rd64, VA(16) + 0x48, PF_P, VA(16) + 0x48);
        /* SMAP respects R/W: AC does not make a read-only user page writable with WP=1. */
        long r = try_call(probe_wr64_ac, (void *)(uintptr_t)(VA(17) + 0x58));
        expect_fault("pg64.smap_ac_ro_user_write_errWP", r, 14, PF_W | PF_P, true, VA(17) + 0x58);
        clac();
        write_cr4(cr4);
    } else {
        CHECK("pg64.smap_advertised", false);
    }
    write_cr3(cr3);
}

static void test_reserved(void)
{
    unsigned maxphy = cpuid(0x80000008, 0).eax & 0xFF;
    CHECK("pg64.maxphyaddr_sane", maxphy >= 36 && maxphy <= 52);
    if (maxphy < 52) {
        map(6, PA(pages[1]) | (1ull << maxphy), PTE_P | PTE_RW);
        expect_pf("pg64.rsvd_pte_read_errRP", probe_rd64, VA(6) + 8, PF_RSVD | PF_P, VA(6) + 8);
        expect_pf("pg64.rsvd_pte_write_errRWP", probe_wr64, VA(6) + 8, PF_RSVD | PF_W | PF_P, VA(6) + 8);
        map(6, PA(pages[1]), PTE_P | PTE_RW | PTE_US);
        long r = try_call_user(probe_rd64, (void *)(uintptr_t)(VA(6) + 8));
        CHECK("pg64.rsvd_cleared_ok", r == 0 && probe_val == pg64(1, 8));
        map(6, PA(pages[1]) | (1ull << 51), PTE_P | PTE_RW | PTE_US);
        expect_pf_user("pg64.rsvd_bit51_user_errURP", probe_rd64, VA(6), PF_U | PF_RSVD | PF_P, VA(6));
    }
    pd_t[2] = PA_2M | (1ull << 13) | PTE_P | PTE_RW | PTE_PS;
    invlpg(VA_2M_RSVD);
    expect_pf("pg64.rsvd_2m_pde_bit13", probe_rd64, VA_2M_RSVD + 0x100, PF_RSVD | PF_P, VA_2M_RSVD + 0x100);
    pdpt_t[2] = (1ull << 13) | PTE_P | PTE_RW | PTE_PS;
    expect_pf("pg64.rsvd_1g_pdpte_bit13", probe_rd64, VA_1G_RSVD + 0x100, PF_RSVD | PF_P, VA_1G_RSVD + 0x100);
    expect_pf("pg64.rsvd_pml4e_ps", probe_rd64, VA_PML4_RSVD + 0x10, PF_RSVD | PF_P, VA_PML4_RSVD + 0x10);
    /* Bits that look alike but are not reserved: PAT (bit 7) in a 4 KiB PTE is not PS, PAT
     * (bit 12) in a 2 MiB or 1 GiB leaf, the ignored bits 11:9 and 62:52 (no PKE) in a leaf,
     * and D, G and the ignored bits in non-leaf entries. */
    map(6, PA(pages[1]), PTE_P | PTE_RW | (1ull << 7) | (7ull << 9) | (0x7FFull << 52));
    CHECK_EQ("pg64.pte_pat_and_ignored_bits_ok", rd(VA(6) + 0x18), pg64(1, 0x18));
    pd_t[7] = PA_2M | PTE_P | PTE_RW | PTE_PS | (1ull << 12) | (7ull << 9) | (0x7FFull << 52);
    invlpg(TB + (7ull << 21));
    CHECK_EQ("pg64.pde_2m_pat_and_ignored_bits_ok", rd(TB + (7ull << 21) + 0x18), rd(PA_2M + 0x18));
    pd_t[7] = PA(pt_s) | PTE_P | PTE_RW | PTE_D | PTE_G | (7ull << 9) | (0x7FFull << 52);
    pt_s[3] = PA(pages[1]) | PTE_P | PTE_RW;
    invlpg(TB + (7ull << 21) + 3 * PG);
    CHECK_EQ("pg64.nonleaf_pde_ignored_bits_ok", rd(TB + (7ull << 21) + 3 * PG + 0x20), pg64(1, 0x20));
    if (cpuid(0x80000001, 0).edx & (1u << 26)) {
        pdpt_t[3] = 0 | PTE_P | PTE_RW | PTE_PS | (1ull << 12) | (7ull << 9);
        CHECK_EQ("pg64.pdpte_1g_pat_bit_ok", rd(TB + (3ull << 30) + PA(pages[1]) + 0x28), pg64(1, 0x28));
    }
    pml4_u[3] = PA(pdpt_t) | PTE_P | PTE_RW | PTE_US | PTE_D | PTE_G | (7ull << 9) | (0x7FFull << 52);
    pml4_k[3] = pml4_u[3];
    CHECK_EQ("pg64.pml4e_ignored_bits_ok", rd(0x18000000000ull + 6 * PG + 0x30), pg64(1, 0x30));
    /* A non-present entry's other bits are ignored: no RSVD even with junk in them. */
    map(6, 0x7FFFFFFFFFFFF000ull, 0xFFEull);
    expect_pf("pg64.np_ignores_rsvd_bits", probe_rd64, VA(6), 0, VA(6));
}

static void test_large_pages(void)
{
    pd_t[1] = PA_2M | PTE_P | PTE_RW | PTE_PS;
    invlpg(VA_2M);
    wr(VA_2M + 0x12345, 0x2222333344445555ull);
    CHECK_EQ("pg64.page_2m_write_lands", rd(PA_2M + 0x12345), 0x2222333344445555ull);
    wr(PA_2M + 0x1FFFF8, 0x7777);
    CHECK_EQ("pg64.page_2m_last_qword", rd(VA_2M + 0x1FFFF8), 0x7777);
    CHECK("pg64.page_2m_sets_A_D", (pd_t[1] & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
    pd_t[1] = PA_2M | PTE_P | PTE_PS;
    invlpg(VA_2M + 0x100000);
    expect_pf("pg64.page_2m_ro_one_invlpg_covers_all", probe_wr64, VA_2M + 0x10, PF_W | PF_P, VA_2M + 0x10);

    if (cpuid(0x80000001, 0).edx & (1u << 26)) {
        pdpt_t[1] = 0 | PTE_P | PTE_RW | PTE_PS;
        invlpg(VA_1G);
        CHECK_EQ("pg64.page_1g_read_image", rd(VA_1G + PA(__image_start)), rd(PA(__image_start)));
        wr(VA_1G + PA(pages[4]) + 0x18, 0x1616161616161616ull);
        CHECK_EQ("pg64.page_1g_write_lands", pg64(4, 0x18), 0x1616161616161616ull);
        CHECK("pg64.page_1g_sets_A_D", (pdpt_t[1] & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
    } else {
        CHECK("pg64.page_1g_advertised", false);
    }
}

static void do_invlpg_noncanonical(void *p) { invlpg((uint64_t)(uintptr_t)p); }

static void probe_cross_wr(void *p) { *(volatile uint64_t *)p = 0x8877665544332211ull; }
static void probe_cross_wr16(void *p) { *(volatile uint16_t *)p = 0xBBAA; }

static void test_page_crossing(void)
{
    uint64_t at = VA(14) + PG - 4;
    map(14, PA(pages[8]), PTE_P | PTE_RW);
    map(15, PA(pages[9]), PTE_RW);
    *(volatile uint64_t *)&pages[8][PG - 8] = 0xAAAAAAAAAAAAAAAAull;
    expect_pf("pg64.cross_store_np_second_errW_cr2", probe_cross_wr, at, PF_W, VA(15));
    CHECK_EQ("pg64.cross_store_np_first_untouched", pg64(8, PG - 8), 0xAAAAAAAAAAAAAAAAull);
    expect_pf("pg64.cross_store16_np_second", probe_cross_wr16, VA(15) - 1, PF_W, VA(15));
    CHECK_EQ("pg64.cross_store16_first_untouched", pages[8][PG - 1], 0xAA);
    expect_pf("pg64.cross_load_np_second_err0_cr2", probe_rd64, at, 0, VA(15));
    map(15, PA(pages[9]), PTE_P);
    expect_pf("pg64.cross_store_ro_second_errWP", probe_cross_wr, at, PF_W | PF_P, VA(15));
    CHECK_EQ("pg64.cross_store_ro_first_untouched", pg64(8, PG - 8), 0xAAAAAAAAAAAAAAAAull);
    /* The first page faulting is reported at the access address. */
    map(14, PA(pages[8]), PTE_P);
    map(15, PA(pages[9]), PTE_P | PTE_RW);
    expect_pf("pg64.cross_store_ro_first_cr2", probe_cross_wr, at, PF_W | PF_P, at);
    CHECK_EQ("pg64.cross_store_ro_first_second_untouched", pg64(9, 0), 0x0101010101010101ull * 0x19);
    /* Both present: the halves land in two unrelated physical pages. */
    map(14, PA(pages[8]), PTE_P | PTE_RW);
    map(15, PA(pages[11]), PTE_P | PTE_RW);
    wr(at, 0x8877665544332211ull);
    CHECK("pg64.cross_store_split_phys", *(volatile uint32_t *)&pages[8][PG - 4] == 0x44332211u &&
                                             *(volatile uint32_t *)&pages[11][0] == 0x88776655u);
    CHECK_EQ("pg64.cross_load_split_phys", rd(at), 0x8877665544332211ull);
}

static uint64_t call_u32(uint64_t va) { return ((uint32_t (*)(void))(uintptr_t)va)(); }

/* Instruction fetch through remapped and page-crossing translations. */
static void test_exec_paths(void)
{
    /* mov eax, imm32; ret in two pages: remapping the VA must run the other page's code. */
    static const uint8_t code_a[] = {0xB8, 0x11, 0x00, 0x00, 0x00, 0xC3};
    static const uint8_t code_b[] = {0xB8, 0x22, 0x00, 0x00, 0x00, 0xC3};
    memcpy((void *)pages[12], code_a, sizeof(code_a));
    memcpy((void *)pages[13], code_b, sizeof(code_b));
    map(21, PA(pages[12]), PTE_P);
    CHECK_EQ("pg64.exec_before_remap", call_u32(VA(21)), 0x11);
    map(21, PA(pages[13]), PTE_P);
    CHECK_EQ("pg64.exec_after_remap_invlpg", call_u32(VA(21)), 0x22);

    /* An instruction straddling into a not-present page: #PF with I, CR2 at the second page. */
    pages[14][PG - 3] = 0xB8; /* mov eax, 0x44332211 split 3 + 3 bytes */
    pages[14][PG - 2] = 0x11;
    pages[14][PG - 1] = 0x22;
    pages[15][0] = 0x33;
    pages[15][1] = 0x44;
    pages[15][2] = 0xC3;
    map(22, PA(pages[14]), PTE_P);
    map(23, PA(pages[15]), 0);
    expect_pf("pg64.fetch_cross_np_second_errI_cr2", probe_exec, VA(22) + PG - 3, PF_I, VA(23));
    map(23, PA(pages[15]), PTE_P | PTE_NX);
    expect_pf("pg64.fetch_cross_nx_second_errIP_cr2", probe_exec, VA(22) + PG - 3, PF_I | PF_P, VA(23));
    map(23, PA(pages[15]), PTE_P);
    CHECK_EQ("pg64.fetch_cross_ok", call_u32(VA(22) + PG - 3), 0x44332211);
    /* Remapping only the second page changes the straddling instruction. */
    memcpy((void *)pages[13], (const void *)pages[15], 3);
    pages[13][0] = 0x55;
    map(23, PA(pages[13]), PTE_P);
    CHECK_EQ("pg64.fetch_cross_second_remapped", call_u32(VA(22) + PG - 3), 0x44552211);
}

static void do_write_cr3(void *p) { write_cr3((uint64_t)(uintptr_t)p); }

/* CR4 bits for paging features exist exactly when CPUID advertises them (SDM Vol 3 2.5: setting
 * a bit for an unsupported feature is #GP(0)). Each is set and cleared back in one go. */
void cr4_set_restore(uint64_t *vals);
__asm__(".text\n"
        "cr4_set_restore:\n"
        "  movq 0(%rdi), %rax\n"
        "  movq 8(%rdi), %rcx\n"
        "  movq %rax, %cr4\n"
        "  movq %rcx, %cr4\n"
        "  ret\n");
static void do_cr4_set_restore(void *p) { cr4_set_restore(p); }

static void test_cr4_features(void)
{
    static const struct {
        const char *name;
        unsigned bit;
        uint32_t leaf;
        unsigned reg; /* 1 EBX, 2 ECX, 3 EDX */
        unsigned cpuid_bit;
    } feats[] = {
        {"pg64.cr4_pcide_iff_cpuid_pcid", 17, 1, 2, 17},
        {"pg64.cr4_pke_iff_cpuid_pku", 22, 7, 2, 3},
        {"pg64.cr4_pge_iff_cpuid_pge", 7, 1, 3, 13},
        {"pg64.cr4_pse_iff_cpuid_pse", 4, 1, 3, 3},
    };
    uint64_t cr4 = read_cr4();
    for (unsigned k = 0; k < sizeof(feats) / sizeof(feats[0]); k++) {
        struct cpuid_regs c = cpuid(feats[k].leaf, 0);
        uint32_t r = feats[k].reg == 1 ? c.ebx : feats[k].reg == 2 ? c.ecx : c.edx;
        bool has = (r >> feats[k].cpuid_bit) & 1;
        uint64_t vals[2] = {cr4 | (1ull << feats[k].bit), cr4};
        long res = try_call(do_cr4_set_restore, vals);
        check(feats[k].name, has ? res == 0 : res == (TRAP_CAUGHT | 13),
              "CPUID says %s, MOV to CR4 with bit %u %s", has ? "supported" : "unsupported", feats[k].bit,
              res == 0 ? "succeeded" : "faulted");
    }
    CHECK_EQ("pg64.cr4_restored", read_cr4(), cr4);
    /* LA57 cannot change in IA-32e mode (SDM Vol 3 2.5). */
    uint64_t v57[2] = {cr4 | (1ull << 12), cr4};
    CHECK("pg64.cr4_la57_in_long_mode_gp", try_call(do_cr4_set_restore, v57) == (TRAP_CAUGHT | 13));
}

static void test_canonical(void)
{
    /* CR3 bits 62:MAXPHYADDR are reserved: MOV to CR3 faults and keeps the old value. */
    unsigned maxphy = cpuid(0x80000008, 0).eax & 0xFF;
    uint64_t cr3 = read_cr3();
    if (maxphy < 52)
        expect_fault("pg64.mov_cr3_rsvd_bit_gp0", try_call(do_write_cr3, (void *)(uintptr_t)(cr3 | (1ull << maxphy))),
                     13, 0, false, 0);
    CHECK_EQ("pg64.mov_cr3_rsvd_keeps_cr3", read_cr3(), cr3);
    write_cr3(cr3);

    expect_fault("pg64.noncanonical_read_gp0", try_call(probe_rd64, (void *)0x0000800000000000ull), 13, 0,
                 false, 0);
    expect_fault("pg64.noncanonical_high_write_gp0",
                 try_call(probe_wr64, (void *)0xFFFF7FFFFFFFF000ull), 13, 0, false, 0);
    expect_fault("pg64.noncanonical_fetch_gp0", try_call(probe_exec, (void *)0x0000800000000000ull), 13, 0,
                 false, 0);
    expect_fault("pg64.noncanonical_stack_ss0", try_call(ss_probe, (void *)0x0000900000000000ull), 12, 0,
                 false, 0);
    CHECK("pg64.canonical_high_half_is_pf",
          try_call(probe_rd64, (void *)0xFFFF800000000000ull) == (TRAP_CAUGHT | 14));
    CHECK("pg64.invlpg_noncanonical_is_nop",
          try_call(do_invlpg_noncanonical, (void *)0x0000800000000000ull) == 0);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    uint64_t cr3 = read_cr3();
    setup_tables();
    write_cr3(PA(pml4_u));
    CHECK("pg64.own_cr3_loaded", read_cr3() == PA(pml4_u));
    test_basic_and_alias();
    test_not_present();
    test_write_protect();
    test_nx();
    test_user();
    test_smep_smap();
    test_reserved();
    test_large_pages();
    test_page_crossing();
    test_exec_paths();
    test_cr4_features();
    test_canonical();
    write_cr3(cr3);
    test_finish();
}
