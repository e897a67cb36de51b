/* The TLB and page-table maintenance seen from the guest, on its own 4-level tables: accessed
 * and dirty bits, INVLPG, global pages and CR4.PGE, INVPCID, fault-fixup-resume (loads, stores,
 * string instructions, stack pushes on an IST), serializing remaps of the running code page,
 * recursive and odd page tables, TLB tag conflicts, and implicit supervisor accesses from ring 3. */
#include "guest.h"

#include "mmu_fixture.h"

static void test_accessed_dirty(void)
{
    map(7, PA(pages[3]), PTE_P | PTE_RW);
    pd_t[0] &= ~PTE_A;
    pdpt_t[0] &= ~PTE_A;
    pml4_u[1] &= ~PTE_A;
    write_cr3(read_cr3()); /* drop cached upper levels too */
    CHECK("tlb.ad_clear_before", !(pt_t[7] & (PTE_A | PTE_D)));
    (void)rd(VA(7) + 8);
    CHECK("tlb.read_sets_A", pt_t[7] & PTE_A);
    CHECK("tlb.read_leaves_D_clear", !(pt_t[7] & PTE_D));
    CHECK("tlb.read_sets_A_pde", pd_t[0] & PTE_A);
    CHECK("tlb.read_sets_A_pdpte", pdpt_t[0] & PTE_A);
    CHECK("tlb.read_sets_A_pml4e", pml4_u[1] & PTE_A);
    CHECK("tlb.upper_levels_no_D", !(pd_t[0] & PTE_D) && !(pdpt_t[0] & PTE_D));
    /* The read left a TLB entry without D: the write must still set D in memory. */
    wr(VA(7) + 8, 42);
    CHECK("tlb.write_sets_D", pt_t[7] & PTE_D);
    /* Clear D again after INVLPG: the next write sets it again. */
    pt_t[7] &= ~PTE_D;
    invlpg(VA(7));
    wr(VA(7) + 16, 43);
    CHECK("tlb.write_after_invlpg_sets_D", (pt_t[7] & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
    /* A write as the first access sets both. */
    map(7, PA(pages[3]), PTE_P | PTE_RW);
    wr(VA(7) + 24, 44);
    CHECK("tlb.first_write_sets_A_and_D", (pt_t[7] & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
    /* A faulting write must not set D. */
    map(7, PA(pages[3]), PTE_P);
    (void)try_call(probe_wr64, (void *)(uintptr_t)VA(7));
    CHECK("tlb.faulting_write_no_D", !(pt_t[7] & PTE_D));
}

static void test_invlpg_and_global(void)
{
    map(8, PA(pages[4]), PTE_P | PTE_RW);
    CHECK_EQ("tlb.invlpg_before", rd(VA(8) + 0x100), pg64(4, 0x100));
    pt_t[8] = PA(pages[5]) | PTE_P | PTE_RW;
    uint64_t stale = rd(VA(8) + 0x100);
    printf("INFO: without INVLPG the old translation was %s\n",
           stale == pg64(4, 0x100) ? "still used (cached)" : "not used");
    invlpg(VA(8));
    CHECK_EQ("tlb.invlpg_new_translation", rd(VA(8) + 0x100), pg64(5, 0x100));

    uint64_t cr4 = read_cr4();
    CHECK("tlb.pge_advertised", cpuid(1, 0).edx & (1u << 13));
    write_cr4(cr4 | CR4_PGE);
    map(9, PA(pages[4]), PTE_P | PTE_RW | PTE_G);
    map(10, PA(pages[4]), PTE_P | PTE_RW);
    CHECK_EQ("tlb.global_read", rd(VA(9) + 0x200), pg64(4, 0x200));
    CHECK_EQ("tlb.nonglobal_read", rd(VA(10) + 0x200), pg64(4, 0x200));
    pt_t[9] = PA(pages[5]) | PTE_P | PTE_RW | PTE_G;
    pt_t[10] = PA(pages[5]) | PTE_P | PTE_RW;
    write_cr3(read_cr3());
    CHECK_EQ("tlb.cr3_reload_flushes_nonglobal", rd(VA(10) + 0x200), pg64(5, 0x200));
    uint64_t g = rd(VA(9) + 0x200);
    printf("INFO: global page after a CR3 reload: %s\n",
           g == pg64(4, 0x200) ? "old translation kept (global)" : "re-walked");
    write_cr4(cr4 & ~CR4_PGE);
    write_cr4(cr4 | CR4_PGE);
    CHECK_EQ("tlb.pge_toggle_flushes_global", rd(VA(9) + 0x200), pg64(5, 0x200));
    pt_t[9] = PA(pages[6]) | PTE_P | PTE_RW | PTE_G;
    invlpg(VA(9));
    CHECK_EQ("tlb.invlpg_flushes_global", rd(VA(9) + 0x200), pg64(6, 0x200));
    write_cr4(cr4);
}

static unsigned fixups;
static bool pf_fixup(struct trap_frame *f)
{
    (void)f;
    uint64_t cr2 = read_cr2();
    for (unsigned i = 11; i <= 13; i++) {
        if (cr2 >> 12 != VA(i) >> 12)
            continue;
        if (!(pt_t[i] & PTE_P))
            pt_t[i] |= PTE_P; /* demand paging: make it present */
        else
            pt_t[i] |= PTE_RW; /* copy-on-write style: make it writable */
        fixups++;
        return true; /* resume at the faulting instruction */
    }
    return false;
}

static void test_fixup_resume(void)
{
    map(11, PA(pages[6]), PTE_RW);
    map(12, PA(pages[7]), PTE_RW);
    map(13, PA(pages[7]), PTE_P);
    fixups = 0;
    trap_set_handler(14, pf_fixup);
    uint64_t v = rd(VA(11) + 0x300);
    CHECK("tlb.fixup_np_read_resumes", v == pg64(6, 0x300) && fixups == 1);
    wr(VA(12) + 0x308, 0xF1F2F3F4F5F6F7F8ull);
    CHECK("tlb.fixup_np_write_resumes", pg64(7, 0x308) == 0xF1F2F3F4F5F6F7F8ull && fixups == 2);
    (void)rd(VA(13) + 0x310); /* a read-only TLB entry that the fault must drop */
    wr(VA(13) + 0x310, 0xABCDABCDABCDABCDull);
    CHECK("tlb.fixup_ro_write_resumes", pg64(7, 0x310) == 0xABCDABCDABCDABCDull && fixups == 3);
    /* A string store into a not-present page: the handler fixes it and REP resumes. */
    map(11, PA(pages[6]), PTE_RW);
    uint64_t dst = VA(11) + 0x400;
    uint64_t cnt = 64;
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(cnt) : "a"(0x77) : "memory");
    CHECK("tlb.fixup_rep_stos_resumes", fixups == 4 && cnt == 0 && pages[6][0x400] == 0x77 &&
                                             pages[6][0x43F] == 0x77 && pages[6][0x440] != 0x77);
    trap_set_handler(14, NULL);
}

/* Page tables in odd places, TLB tag conflicts, and string faults. */
static uint64_t rep_fault_rdi, rep_fault_rcx;
static bool pf_rep_fixup(struct trap_frame *f)
{
    if (read_cr2() >> 12 != VA(25) >> 12 || (pt_t[25] & PTE_P))
        return false;
    rep_fault_rdi = f->rdi;
    rep_fault_rcx = f->rcx;
    pt_t[25] |= PTE_P;
    return true;
}

static void test_odd_tables(void)
{
    /* A page table in the RAM hole reads all-ones: present with reserved bits set, #PF RSVD. */
    uint64_t hole = 0xD0000000ull; /* inside the PCI hole below 4 GiB, whatever the RAM size */
    pd_t[6] = hole | PTE_P | PTE_RW;
    expect_pf("tlb.page_table_in_hole_rsvd", probe_rd64, TB + (6ull << 21) + 0x18, PF_RSVD | PF_P,
              TB + (6ull << 21) + 0x18);
    pd_t[6] = 0;

    /* A recursive PML4 slot (510): the region's page table appears at a fixed VA. */
    pml4_u[510] = PA(pml4_u) | PTE_P | PTE_RW;
    uint64_t rec = 0xFFFF000000000000ull | (510ull << 39) | (1ull << 30); /* -> pdpt_t[0] -> pd_t[0] -> pt_t */
    map(24, PA(pages[12]), PTE_P | PTE_RW);
    CHECK_EQ("tlb.recursive_map_reads_pte", rd(rec + 24 * 8) & ~(PTE_A | PTE_D), PA(pages[12]) | PTE_P | PTE_RW);
    wr(rec + 24 * 8, PA(pages[13]) | PTE_P | PTE_RW);
    invlpg(VA(24));
    CHECK_EQ("tlb.recursive_map_writes_pte", rd(VA(24) + 0x68), pg64(13, 0x68));
    pml4_u[510] = 0;
    write_cr3(read_cr3());

    /* Three VAs with the same low 39 bits (identity, slot 1, slot 511) and three different pages. */
    uint64_t lowva = PA(pages[15]);
    CHECK("tlb.image_below_2m", lowva < (2ull << 20));
    lowva &= (2ull << 20) - 1;
    pt_t[lowva >> 12] = PA(pages[14]) | PTE_P | PTE_RW;
    invlpg(TB + lowva);
    pml4_u[511] = PA(pdpt_t) | PTE_P | PTE_RW;
    uint64_t hi = 0xFFFFFF8000000000ull + lowva;
    write_cr3(read_cr3());
    bool ok = true;
    for (int k = 0; k < 64; k++) {
        ok &= rd(lowva + 8 * (k & 7)) == pg64(15, 8 * (k & 7));
        ok &= rd(TB + lowva + 8 * (k & 7)) == pg64(14, 8 * (k & 7));
        ok &= rd(hi + 8 * (k & 7)) == pg64(14, 8 * (k & 7));
    }
    CHECK("tlb.tlb_same_low_bits_different_pages", ok);
    wr(hi + 0x100, 0x3131313131313131ull);
    CHECK("tlb.tlb_same_low_bits_write_right_page",
          pg64(14, 0x100) == 0x3131313131313131ull && pg64(15, 0x100) != 0x3131313131313131ull);
    pml4_u[511] = 0;
    pt_t[lowva >> 12] = 0;
    write_cr3(read_cr3());

    /* A read-cached translation of an NX page still refuses execution. */
    pages[2][0] = 0xC3;
    map(4, PA(pages[2]), PTE_P | PTE_RW | PTE_NX);
    (void)rd(VA(4));
    expect_pf("tlb.nx_after_read_still_faults", probe_exec, VA(4), PF_I | PF_P, VA(4));

    /* rep movsb faulting on the second page: registers point at the faulting byte. */
    map(24, PA(pages[12]), PTE_P | PTE_RW);
    map(25, PA(pages[13]), PTE_RW);
    trap_set_handler(14, pf_rep_fixup);
    static const char src[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
    uint64_t d = VA(25) - 24, s = PA(src), n = 40;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    trap_set_handler(14, NULL);
    CHECK("tlb.rep_movsb_fault_regs_at_faulting_byte", rep_fault_rdi == VA(25) && rep_fault_rcx == 16);
    CHECK("tlb.rep_movsb_resumed_complete",
          n == 0 && d == VA(25) + 16 && !memcmp((const void *)&pages[12][PG - 24], src, 24) &&
              !memcmp((const void *)&pages[13][0], src + 24, 16));
}

/* INVPCID (advertised in CPUID.7:EBX[10]) with CR4.PCIDE=0: only PCID 0 exists. */
struct invpcid_desc { uint64_t pcid, addr; };
struct invpcid_req { uint64_t type; struct invpcid_desc d; };
static void do_invpcid(void *p)
{
    struct invpcid_req *r = p;
    __asm__ volatile("invpcid %0, %1" ::"m"(r->d), "r"(r->type) : "memory");
}

static void test_invpcid(void)
{
    if (!(cpuid(7, 0).ebx & (1u << 10))) {
        printf("INFO: INVPCID not advertised\n");
        return;
    }
    uint64_t cr4 = read_cr4();
    write_cr4(cr4 | CR4_PGE);
    map(26, PA(pages[4]), PTE_P | PTE_RW);
    map(27, PA(pages[4]), PTE_P | PTE_RW | PTE_G);
    map(28, PA(pages[4]), PTE_P | PTE_RW);
    (void)rd(VA(26));
    (void)rd(VA(27));
    (void)rd(VA(28));
    pt_t[26] = PA(pages[5]) | PTE_P | PTE_RW;
    pt_t[27] = PA(pages[5]) | PTE_P | PTE_RW | PTE_G;
    pt_t[28] = PA(pages[5]) | PTE_P | PTE_RW;
    struct invpcid_req r = {0, {0, VA(26)}};
    CHECK("tlb.invpcid_type0_ok", try_call(do_invpcid, &r) == 0);
    CHECK_EQ("tlb.invpcid_type0_new_translation", rd(VA(26) + 0x10), pg64(5, 0x10));
    r = (struct invpcid_req){3, {0, 0}};
    CHECK("tlb.invpcid_type3_ok", try_call(do_invpcid, &r) == 0);
    CHECK_EQ("tlb.invpcid_type3_flushes_nonglobal", rd(VA(28) + 0x10), pg64(5, 0x10));
    printf("INFO: global page after INVPCID type 3: %s\n",
           rd(VA(27) + 0x10) == pg64(4, 0x10) ? "old translation kept" : "re-walked");
    r = (struct invpcid_req){2, {0, 0}};
    CHECK("tlb.invpcid_type2_ok", try_call(do_invpcid, &r) == 0);
    CHECK_EQ("tlb.invpcid_type2_flushes_global", rd(VA(27) + 0x10), pg64(5, 0x10));
    r = (struct invpcid_req){4, {0, 0}};
    expect_fault("tlb.invpcid_type4_gp0", try_call(do_invpcid, &r), 13, 0, false, 0);
    r = (struct invpcid_req){0, {0, 0x0000800000000000ull}};
    expect_fault("tlb.invpcid_noncanonical_gp0", try_call(do_invpcid, &r), 13, 0, false, 0);
    r = (struct invpcid_req){0, {1, VA(26)}};
    expect_fault("tlb.invpcid_pcid1_without_pcide_gp0", try_call(do_invpcid, &r), 13, 0, false, 0);
    r = (struct invpcid_req){2, {1ull << 12, 0}};
    expect_fault("tlb.invpcid_desc_rsvd_gp0", try_call(do_invpcid, &r), 13, 0, false, 0);
    write_cr4(cr4);
}

/* Stack writes into a not-present page: the handler (on an IST stack) maps it and the PUSH or
 * CALL re-executes with RSP as it was before the fault. */
uint64_t stack_push_probe(uint64_t rsp);
uint64_t stack_call_probe(uint64_t rsp);
__asm__(".text\n"
        "stack_push_probe:\n"
        "  movq %rsp, %r11\n"
        "  movq %rdi, %rsp\n"
        "  pushq $0x5678\n"
        "  popq %rax\n"
        "  movq %r11, %rsp\n"
        "  ret\n"
        "stack_call_probe:\n"
        "  movq %rsp, %r11\n"
        "  movq %rdi, %rsp\n"
        "  call 1f\n"
        "1: popq %rax\n"
        "  leaq 1b(%rip), %rcx\n"
        "  subq %rcx, %rax\n"
        "  movq %r11, %rsp\n"
        "  ret\n");

static uint64_t stack_fault_rsp;
static unsigned stack_fixups;
static bool pf_stack_fixup(struct trap_frame *f)
{
    uint64_t cr2 = read_cr2();
    for (unsigned i = 29; i <= 31; i++)
        if (cr2 >> 12 == VA(i) >> 12 && !(pt_t[i] & PTE_P)) {
            pt_t[i] |= PTE_P;
            stack_fault_rsp = f->rsp;
            stack_fixups++;
            return true;
        }
    return false;
}

static uint8_t ist_stack[8192] __attribute__((aligned(16)));

static void test_stack_fixup(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    volatile uint8_t *gate14 = (volatile uint8_t *)(uintptr_t)(idtr.base + 14 * 16);
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
    uint16_t tr;
    __asm__ volatile("sgdt %0; str %1" : "=m"(gdtr), "=r"(tr));
    const volatile uint64_t *td = (const volatile uint64_t *)(uintptr_t)(gdtr.base + (tr & ~7u));
    uint64_t tss = (td[0] >> 16 & 0xFFFFFF) | (td[0] >> 56 & 0xFF) << 24 | td[1] << 32;
    volatile uint64_t *ist1 = (volatile uint64_t *)(uintptr_t)(tss + 0x24);
    uint64_t old_ist1 = *ist1;
    *ist1 = PA(ist_stack + sizeof(ist_stack));
    gate14[4] = 1;
    map(29, PA(pages[12]), PTE_RW);
    map(30, PA(pages[13]), PTE_RW);
    map(31, PA(pages[14]), PTE_RW);
    stack_fixups = 0;
    trap_set_handler(14, pf_stack_fixup);
    uint64_t v = stack_push_probe(VA(30));
    CHECK("tlb.fixup_push_np_stack_resumes", v == 0x5678 && stack_fixups == 1);
    CHECK_EQ("tlb.fixup_push_rsp_unchanged_at_fault", stack_fault_rsp, VA(30));
    CHECK_EQ("tlb.fixup_push_landed", pg64(12, PG - 8), 0x5678);
    v = stack_call_probe(VA(32));
    CHECK("tlb.fixup_call_np_stack_resumes", v == 0 && stack_fixups == 2);
    CHECK_EQ("tlb.fixup_call_rsp_unchanged_at_fault", stack_fault_rsp, VA(32));
    /* A push straddling two not-present pages: two faults, one per page, then success. */
    map(29, PA(pages[12]), PTE_RW);
    map(30, PA(pages[13]), PTE_RW);
    v = stack_push_probe(VA(30) + 4);
    CHECK("tlb.fixup_push_straddle_two_faults", v == 0x5678 && stack_fixups == 4);
    trap_set_handler(14, NULL);
    gate14[4] = 0;
    *ist1 = old_ist1;
}

/* INVLPG and MOV to CR3 are serializing (SDM Vol 3 10.3): the instruction after one that
 * remaps the code page it sits on is fetched through the new translation. */
static void test_remap_own_code(void)
{
    /* mov %rsi,(%rdx); invlpg (%rdi); mov $imm,%eax; ret */
    static const uint8_t inv[] = {0x48, 0x89, 0x32, 0x0F, 0x01, 0x3F, 0xB8, 1, 0, 0, 0, 0xC3};
    /* mov %rsi,(%rdx); mov %rdi,%cr3; mov $imm,%eax; ret */
    static const uint8_t cr3[] = {0x48, 0x89, 0x32, 0x0F, 0x22, 0xDF, 0xB8, 1, 0, 0, 0, 0xC3};
    uint64_t r;
    memcpy((void *)&pages[12][0x100], inv, sizeof(inv));
    memcpy((void *)&pages[13][0x100], inv, sizeof(inv));
    pages[13][0x107] = 2;
    map(40, PA(pages[12]), PTE_P);
    __asm__ volatile("call *%1"
                     : "=a"(r)
                     : "r"(VA(40) + 0x100), "D"(VA(40)), "S"(PA(pages[13]) | PTE_P), "d"(&pt_t[40])
                     : "memory", "rcx", "r8", "r9", "r10", "r11");
    CHECK_EQ("tlb.invlpg_own_code_page_refetches", r, 2);
    memcpy((void *)&pages[12][0x200], cr3, sizeof(cr3));
    memcpy((void *)&pages[13][0x200], cr3, sizeof(cr3));
    pages[12][0x207] = 3;
    map(40, PA(pages[13]), PTE_P);
    __asm__ volatile("call *%1"
                     : "=a"(r)
                     : "r"(VA(40) + 0x200), "D"(read_cr3()), "S"(PA(pages[12]) | PTE_P), "d"(&pt_t[40])
                     : "memory", "rcx", "r8", "r9", "r10", "r11");
    CHECK_EQ("tlb.mov_cr3_own_code_page_refetches", r, 3);
}

/* Descriptor-table and TSS reads made on behalf of CPL-3 code are supervisor accesses (SDM Vol 3
 * 4.6): with the GDT, IDT and TSS on supervisor pages, ring 3 still loads segments, and takes
 * an interrupt back to ring 0. */
static volatile uint64_t pd_low[512] __attribute__((aligned(4096)));
static volatile uint64_t pdpt_low[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_low[512] __attribute__((aligned(4096)));
static volatile uint64_t pml4_x[512] __attribute__((aligned(4096)));

static void user_load_ds(void *p)
{
    (void)p;
    __asm__ volatile("movl $0x23, %%eax; movl %%eax, %%ds; movl %%eax, %%es" ::: "rax", "memory");
}

static void supervise_range(uint64_t base, uint64_t len)
{
    for (uint64_t a = base & ~(PG - 1); a < base + len; a += PG)
        if (a < (2ull << 20))
            pt_low[a >> 12] &= ~PTE_US;
}

static void test_user_implicit(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr, idtr;
    uint16_t tr;
    __asm__ volatile("sgdt %0; sidt %1; str %2" : "=m"(gdtr), "=m"(idtr), "=r"(tr));
    const volatile uint64_t *td = (const volatile uint64_t *)(uintptr_t)(gdtr.base + (tr & ~7u));
    uint64_t tss = (td[0] >> 16 & 0xFFFFFF) | (td[0] >> 56 & 0xFF) << 24 | td[1] << 32;
    for (unsigned i = 0; i < 512; i++) {
        pt_low[i] = ((uint64_t)i << 12) | PTE_P | PTE_RW | PTE_US;
        pd_low[i] = guest_pd[i];
        pdpt_low[i] = i < 4 ? guest_pdpt[i] : 0;
        pml4_x[i] = pml4_u[i];
    }
    supervise_range(gdtr.base, gdtr.limit + 1u);
    supervise_range(idtr.base, idtr.limit + 1u);
    supervise_range(tss, 0x68);
    pd_low[0] = PA(pt_low) | PTE_P | PTE_RW | PTE_US;
    pdpt_low[0] = PA(pd_low) | PTE_P | PTE_RW | PTE_US;
    pml4_x[0] = PA(pdpt_low) | PTE_P | PTE_RW | PTE_US;
    uint64_t cr3 = read_cr3();
    write_cr3(PA(pml4_x));
    CHECK("tlb.user_implicit_sup_gdt_idt_tss_ok", try_call_user(user_load_ds, NULL) == 0);
    expect_pf_user("tlb.user_explicit_read_sup_gdt_faults", probe_rd64, gdtr.base, PF_U | PF_P, gdtr.base);
    write_cr3(cr3);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    uint64_t cr3 = read_cr3();
    setup_tables();
    write_cr3(PA(pml4_u));
    CHECK("tlb.own_cr3_loaded", read_cr3() == PA(pml4_u));
    test_accessed_dirty();
    test_invlpg_and_global();
    test_fixup_resume();
    test_odd_tables();
    test_invpcid();
    test_stack_fixup();
    test_remap_own_code();
    test_user_implicit();
    write_cr3(cr3);
    test_finish();
}
