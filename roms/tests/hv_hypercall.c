/* Hyper-V conformance, the hypercall interface (TLFS v6.0b chapter 3, REFERENCE.md 2): guest OS
 * identity, the hypercall page overlay, the 64-bit calling convention, the generic error
 * statuses, #UD rules, rep calls and the TLB-flush and IPI calls that ride on them. */
#include "guest.h"

#define MSR_GUEST_OS_ID 0x40000000
#define MSR_HYPERCALL   0x40000001
#define MSR_EOI         0x40000070
#define GUEST_OS_ID     0x8100000006010000ull /* open source, Linux, 6.1.0 (TLFS 3.13) */

#define HC_FAST             (1ull << 16)
#define HC_VARHEAD(n)       ((uint64_t)(n) << 17)
#define HC_REP(count, start) (((uint64_t)(count) << 32) | ((uint64_t)(start) << 48))
#define HC_STATUS(r)        ((uint16_t)(r))
#define HC_REPS_DONE(r)     ((unsigned)(((r) >> 32) & 0xFFF))

#define HVCALL_FLUSH_SPACE    0x0002
#define HVCALL_FLUSH_LIST     0x0003
#define HVCALL_NOTIFY_SPIN    0x0008
#define HVCALL_SEND_IPI       0x000B
#define HVCALL_FLUSH_SPACE_EX 0x0013
#define HVCALL_FLUSH_LIST_EX  0x0014
#define HVCALL_SEND_IPI_EX    0x0015

#define ST_SUCCESS       0
#define ST_INVALID_CODE  2
#define ST_INVALID_INPUT 3
#define ST_INVALID_ALIGN 4
#define ST_INVALID_PARAM 5

#define TRAP_UD (TRAP_CAUGHT | 6)
#define TRAP_GP (TRAP_CAUGHT | 13)

static uint8_t hc_page[4096] __attribute__((aligned(4096)));
static uint8_t hc_page2[4096] __attribute__((aligned(4096)));
static uint8_t hc_in[2 * 4096] __attribute__((aligned(4096)));
static uint8_t *hc_target = hc_page; /* the page calls go through */

/* The hypercall ABI (TLFS 3.7): RCX control, RDX input GPA (or bytes 0-7), R8 output GPA (or
 * bytes 8-15), a near CALL to the page, result in RAX. RCX, RDX, R8-R11 may be clobbered. */
static uint64_t hypercall(uint64_t control, uint64_t in, uint64_t out)
{
    uint64_t status;
    register uint64_t r8 __asm__("r8") = out;
    __asm__ volatile("call *%[page]"
                     : "=a"(status), "+c"(control), "+d"(in), "+r"(r8)
                     : [page] "r"(hc_target)
                     : "r9", "r10", "r11", "memory", "cc");
    return status;
}

/* XMM fast input (TLFS 3.7.1, 0x40000003.EDX[4]): input bytes 16-31 in XMM0. The guest is built
 * without SSE, so XMM0 is free; SSE instructions need CR4.OSFXSR, set by enable_sse(). */
static uint64_t hypercall_xmm(uint64_t control, uint64_t rdx, uint64_t r8in, const uint64_t xmm0[2])
{
    uint64_t status;
    register uint64_t r8 __asm__("r8") = r8in;
    __asm__ volatile("movdqu (%[x]), %%xmm0\n\tcall *%[page]"
                     : "=a"(status), "+c"(control), "+d"(rdx), "+r"(r8)
                     : [x] "r"(xmm0), [page] "r"(hc_page)
                     : "r9", "r10", "r11", "memory", "cc");
    return status;
}

static void enable_sse(void)
{
    uint64_t cr0 = read_cr0() & ~(1ull << 2), cr4 = read_cr4() | (1ull << 9) | (1ull << 10);
    __asm__ volatile("mov %0, %%cr0; mov %1, %%cr4" ::"r"(cr0), "r"(cr4) : "memory");
}

/* The 32-bit convention (TLFS 3.7: EDX:EAX input value, EBX:ECX input GPA, EDI:ESI output GPA,
 * result in EDX:EAX), used when the caller is not in 64-bit mode: hc32_call drops to the
 * compatibility-mode code segment 0x18 of the guest GDT, calls the page, and comes back. */
uint64_t hc32_call(uint64_t control, uint64_t in, uint64_t out);
uint64_t hc32_args[3], hc32_result, hc32_saved_rsp;
uint32_t hc32_page;
__asm__(".pushsection .text\n"
        ".code64\n"
        ".globl hc32_call\n"
        "hc32_call:\n"
        "  pushq %rbx\n"
        "  pushq %rbp\n"
        "  movq %rdi, hc32_args(%rip)\n"
        "  movq %rsi, hc32_args+8(%rip)\n"
        "  movq %rdx, hc32_args+16(%rip)\n"
        "  movq %rsp, hc32_saved_rsp(%rip)\n"
        "  pushq $0x18\n"
        "  pushq $1f\n"
        "  lretq\n"
        ".code32\n"
        "1:\n"
        "  movl hc32_args, %eax\n"
        "  movl hc32_args+4, %edx\n"
        "  movl hc32_args+8, %ecx\n"
        "  movl hc32_args+12, %ebx\n"
        "  movl hc32_args+16, %esi\n"
        "  movl hc32_args+20, %edi\n"
        "  call *hc32_page\n"
        "  movl %eax, hc32_result\n"
        "  movl %edx, hc32_result+4\n"
        "  ljmp $0x08, $2f\n"
        ".code64\n"
        "2:\n"
        "  movq hc32_saved_rsp(%rip), %rsp\n"
        "  popq %rbp\n"
        "  popq %rbx\n"
        "  movq hc32_result(%rip), %rax\n"
        "  ret\n"
        ".popsection\n");

static void probe_movdqu(void *arg)
{
    static const uint64_t zero[2];
    (void)arg;
    __asm__ volatile("movdqu (%0), %%xmm0" ::"r"(zero) : "memory");
}

static uint64_t gpa(const void *p)
{
    return (uint64_t)(uintptr_t)p; /* the guest library identity-maps the first 4 GiB */
}

/* A raw VMCALL outside the hypercall page (RCX = HvNotifyLongSpinWait, fast). */
static void raw_vmcall(void *arg)
{
    (void)arg;
    uint64_t rax;
    __asm__ volatile("vmcall" : "=a"(rax) : "c"(HVCALL_NOTIFY_SPIN | HC_FAST), "d"(0ull), "a"(0ull)
                     : "r8", "memory");
}

static void user_hypercall(void *arg)
{
    *(volatile uint64_t *)arg = hypercall(HVCALL_NOTIFY_SPIN | HC_FAST, 0, 0);
}

static void write_hypercall_page(void *arg)
{
    (void)arg;
    ((volatile uint8_t *)hc_page)[0x800] = 0x90;
}

/* ---- Local APIC (xAPIC MMIO) for the self-IPI. ---- */
#define LAPIC_BASE 0xFEE00000ull
#define LAPIC_SVR  0xF0
#define LAPIC_EOI  0xB0
static volatile uint32_t *lapic(unsigned reg)
{
    return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

static volatile unsigned ipi_count;
static volatile uint8_t ipi_vector_seen;
static bool on_ipi(struct trap_frame *f)
{
    ipi_count++;
    ipi_vector_seen = (uint8_t)f->vector;
    *lapic(LAPIC_EOI) = 0;
    return true;
}

static void take_interrupts(void)
{
    for (int i = 0; i < 100; i++)
        __asm__ volatile("sti; nop; cli" ::: "memory");
}

/* ---- Flush checks: a 2 MiB mapping changed without INVLPG must be gone after the call. ---- */
#define FLUSH_VA  0x40000000ull /* PD entry 512: unused by the identity map's RAM */
#define PHYS_OLD  0x00800000ull
#define PHYS_NEW  0x00A00000ull
#define MARK_OLD  0x0DD0DD0DD0DD0DD0ull
#define MARK_NEW  0x0EE0EE0EE0EE0EE0ull

static void map_flush_va(uint64_t phys, bool invalidate)
{
    *guest_pde(FLUSH_VA) = phys | 0x87; /* P, RW, U, PS */
    if (invalidate)
        invlpg(FLUSH_VA);
}

static uint64_t read_flush_va(void)
{
    return *(volatile uint64_t *)(uintptr_t)FLUSH_VA;
}

static void flush_setup(void)
{
    *(volatile uint64_t *)(uintptr_t)PHYS_OLD = MARK_OLD;
    *(volatile uint64_t *)(uintptr_t)PHYS_NEW = MARK_NEW;
    map_flush_va(PHYS_OLD, true);
    (void)read_flush_va(); /* fill the TLB with the old translation */
    map_flush_va(PHYS_NEW, false);
}

static void check_flush_calls(bool flush_hint, bool ex_hint)
{
    uint64_t *in = (uint64_t *)hc_in;
    uint64_t r;
    if (!flush_hint) {
        printf("SKIP: flush.* (0x40000004.EAX[2] not set)\n");
        return;
    }
    /* HvFlushVirtualAddressSpace: AddressSpace = CR3, Flags = 0, ProcessorMask = VP 0. */
    flush_setup();
    in[0] = read_cr3();
    in[1] = 0;
    in[2] = 1;
    r = hypercall(HVCALL_FLUSH_SPACE, gpa(in), 0);
    CHECK_EQ("flush.space.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("flush.space.stale_translation_gone", read_flush_va(), MARK_NEW);

    /* HvFlushVirtualAddressList with 5 GVA ranges; reps completed = rep count (TLFS 3.7.5). */
    flush_setup();
    in[0] = read_cr3();
    in[1] = 0;
    in[2] = 1;
    in[3] = 0x7FFF0000ull;
    in[4] = FLUSH_VA; /* one page at FLUSH_VA: the whole 2 MiB page goes (TLFS 10.4.3) */
    in[5] = 0x7FFF2000ull | 3;
    in[6] = 0x12345000ull;
    in[7] = 0xFFFFFFFFFFFFF000ull; /* beyond the GVA space: ignored */
    r = hypercall(HVCALL_FLUSH_LIST | HC_REP(5, 0), gpa(in), 0);
    CHECK_EQ("flush.list.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("flush.list.reps_completed", HC_REPS_DONE(r), 5);
    CHECK_EQ("flush.list.stale_translation_gone", read_flush_va(), MARK_NEW);
    /* Rep start 2: elements 2..4 are processed, reps completed is absolute (5). */
    r = hypercall(HVCALL_FLUSH_LIST | HC_REP(5, 2), gpa(in), 0);
    CHECK_EQ("flush.list.rep_start.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("flush.list.rep_start.reps_completed", HC_REPS_DONE(r), 5);

    /* Reserved flag bits and a CR3 with reserved bits are INVALID_PARAMETER (TLFS 10.4.2/3). */
    in[0] = read_cr3();
    in[1] = 1ull << 5;
    r = hypercall(HVCALL_FLUSH_SPACE, gpa(in), 0);
    CHECK_EQ("flush.space.reserved_flag", HC_STATUS(r), ST_INVALID_PARAM);
    in[1] = 0;
    in[0] = read_cr3() | (1ull << 62);
    r = hypercall(HVCALL_FLUSH_SPACE, gpa(in), 0);
    CHECK_EQ("flush.space.reserved_cr3_bits", HC_STATUS(r), ST_INVALID_PARAM);
    in[0] = read_cr3() | (1ull << 62);
    in[1] = 2; /* ALL_VIRTUAL_ADDRESS_SPACES: AddressSpace ignored */
    r = hypercall(HVCALL_FLUSH_SPACE, gpa(in), 0);
    CHECK_EQ("flush.space.all_spaces_ignores_cr3", HC_STATUS(r), ST_SUCCESS);
    in[0] = read_cr3();
    in[1] = 4; /* NON_GLOBAL_MAPPINGS_ONLY is not a List flag (TLFS 10.4.3) */
    in[3] = FLUSH_VA;
    r = hypercall(HVCALL_FLUSH_LIST | HC_REP(1, 0), gpa(in), 0);
    CHECK_EQ("flush.list.non_global_flag_invalid", HC_STATUS(r), ST_INVALID_PARAM);

    if (!ex_hint) {
        printf("SKIP: flush.ex.* (0x40000004.EAX[11] not set)\n");
        return;
    }
    /* HvFlushVirtualAddressSpaceEx: HV_VP_SET {sparse, banks mask 1, bank 0 = VP 0}; the bank
     * is the one-qword variable header. */
    flush_setup();
    in[0] = read_cr3();
    in[1] = 0;
    in[2] = 0; /* HV_GENERIC_SET_SPARSE_4K */
    in[3] = 1; /* ValidBanksMask */
    in[4] = 1; /* bank 0: VP 0 */
    r = hypercall(HVCALL_FLUSH_SPACE_EX | HC_VARHEAD(1), gpa(in), 0);
    CHECK_EQ("flush.space_ex.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("flush.space_ex.stale_translation_gone", read_flush_va(), MARK_NEW);
    flush_setup();
    in[5] = FLUSH_VA;
    in[6] = 0x1000;
    r = hypercall(HVCALL_FLUSH_LIST_EX | HC_VARHEAD(1) | HC_REP(2, 0), gpa(in), 0);
    CHECK_EQ("flush.list_ex.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("flush.list_ex.reps_completed", HC_REPS_DONE(r), 2);
    CHECK_EQ("flush.list_ex.stale_translation_gone", read_flush_va(), MARK_NEW);
    /* Format 1 (all VPs). */
    flush_setup();
    in[2] = 1;
    in[3] = 0;
    r = hypercall(HVCALL_FLUSH_SPACE_EX, gpa(in), 0);
    CHECK_EQ("flush.space_ex.all_vps.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("flush.space_ex.all_vps.stale_translation_gone", read_flush_va(), MARK_NEW);
    map_flush_va(0, true);
    *guest_pde(FLUSH_VA) = 0;
    invlpg(FLUSH_VA);
}

static void check_32bit_convention(bool flush_hint)
{
    hc32_page = (uint32_t)gpa(hc_page);
    uint64_t r = hc32_call(0xFFFF, 0, 0);
    CHECK_EQ("conv32.invalid_code", HC_STATUS(r), ST_INVALID_CODE);
    if (!flush_hint)
        return;
    uint64_t *in = (uint64_t *)hc_in;
    flush_setup();
    in[0] = read_cr3();
    in[1] = 0;
    in[2] = 1;
    in[3] = FLUSH_VA;
    in[4] = 0x1000;
    in[5] = 0x2000;
    r = hc32_call(HVCALL_FLUSH_LIST | HC_REP(3, 0), gpa(in), 0);
    CHECK_EQ("conv32.flush_list.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("conv32.flush_list.reps_completed_in_edx", HC_REPS_DONE(r), 3);
    CHECK_EQ("conv32.flush_list.stale_translation_gone", read_flush_va(), MARK_NEW);
    r = hc32_call(HVCALL_FLUSH_SPACE, gpa(hc_in + 4), 0);
    CHECK_EQ("conv32.misaligned_input", HC_STATUS(r), ST_INVALID_ALIGN);
    r = hc32_call(HVCALL_FLUSH_SPACE | (1ull << 60), gpa(in), 0);
    CHECK_EQ("conv32.reserved_bit_in_edx", HC_STATUS(r), ST_INVALID_INPUT);
    map_flush_va(0, true);
    *guest_pde(FLUSH_VA) = 0;
    invlpg(FLUSH_VA);
}

static void check_xmm_fast(bool xmm_input, bool flush_hint, bool ipi_ex)
{
    if (!xmm_input || !flush_hint) {
        printf("SKIP: xmm_fast.* (0x40000003.EDX[4] or 0x40000004.EAX[2] not set)\n");
        return;
    }
    enable_sse();
    long probe = try_call(probe_movdqu, NULL);
    if (probe) {
        /* The CPU, not the hypervisor: SSE moves are not executed yet. */
        printf("SKIP: xmm_fast.* (MOVDQU to XMM0 raised vector %ld with CR4.OSFXSR set)\n",
               probe & 0xFF);
        return;
    }
    /* HvFlushVirtualAddressSpace, fast: RDX = AddressSpace, R8 = Flags, XMM0 = ProcessorMask. */
    flush_setup();
    static uint64_t x[2];
    x[0] = 1;
    x[1] = 0;
    uint64_t r = hypercall_xmm(HVCALL_FLUSH_SPACE | HC_FAST, read_cr3(), 0, x);
    CHECK_EQ("xmm_fast.flush_space.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("xmm_fast.flush_space.stale_translation_gone", read_flush_va(), MARK_NEW);
    /* Fast flush list: header in RDX/R8/XMM0 low, the GVA element in XMM0 high. */
    flush_setup();
    x[0] = 1;
    x[1] = FLUSH_VA;
    r = hypercall_xmm(HVCALL_FLUSH_LIST | HC_FAST | HC_REP(1, 0), read_cr3(), 0, x);
    CHECK_EQ("xmm_fast.flush_list.status", HC_STATUS(r), ST_SUCCESS);
    CHECK_EQ("xmm_fast.flush_list.reps_completed", HC_REPS_DONE(r), 1);
    CHECK_EQ("xmm_fast.flush_list.stale_translation_gone", read_flush_va(), MARK_NEW);
    map_flush_va(0, true);
    *guest_pde(FLUSH_VA) = 0;
    invlpg(FLUSH_VA);
    if (!ipi_ex)
        return;
    /* HvCallSendSyntheticClusterIpiEx, fast: RDX = vector, R8 = Format (sparse), XMM0 =
     * {ValidBanksMask, bank 0}; the bank is the one-qword variable header. */
    x[0] = 1;
    x[1] = 1;
    ipi_count = 0;
    r = hypercall_xmm(HVCALL_SEND_IPI_EX | HC_FAST | HC_VARHEAD(1), 0x51, 0, x);
    CHECK_EQ("xmm_fast.ipi_ex.status", HC_STATUS(r), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("xmm_fast.ipi_ex.delivered_once", ipi_count, 1);
}

static void check_generic_errors(void)
{
    uint64_t *in = (uint64_t *)hc_in;
    in[0] = read_cr3();
    in[1] = 0;
    in[2] = 1;
    in[3] = 0x1000;
    uint64_t r;

    /* Unknown and reserved call codes (TLFS 3.8: HV_STATUS_INVALID_HYPERCALL_CODE). */
    static const uint16_t bad_codes[] = {0x0000, 0x7FFF, 0xFFFF};
    for (unsigned i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof(name), "error.invalid_code.0x%04x", bad_codes[i]);
        r = hypercall(bad_codes[i], gpa(in), 0);
        check(name, HC_STATUS(r) == ST_INVALID_CODE, "status 0x%x, want 0x2", HC_STATUS(r));
    }
    /* Rep count rules (TLFS 3.8 common status codes). */
    r = hypercall(HVCALL_FLUSH_SPACE | HC_REP(1, 0), gpa(in), 0);
    CHECK_EQ("error.rep_count_on_simple_call", HC_STATUS(r), ST_INVALID_INPUT);
    r = hypercall(HVCALL_FLUSH_SPACE | HC_REP(0, 1), gpa(in), 0);
    CHECK_EQ("error.rep_start_on_simple_call", HC_STATUS(r), ST_INVALID_INPUT);
    r = hypercall(HVCALL_FLUSH_LIST | HC_REP(0, 0), gpa(in), 0);
    CHECK_EQ("error.zero_rep_count_on_rep_call", HC_STATUS(r), ST_INVALID_INPUT);
    r = hypercall(HVCALL_FLUSH_LIST | HC_REP(1, 1), gpa(in), 0);
    CHECK_EQ("error.rep_start_not_below_count", HC_STATUS(r), ST_INVALID_INPUT);
    r = hypercall(HVCALL_FLUSH_LIST | HC_REP(1, 3), gpa(in), 0);
    CHECK_EQ("error.rep_start_above_count", HC_STATUS(r), ST_INVALID_INPUT);
    /* Reserved bits of the input value: 30:27, 47:44, 63:60 (TLFS 3.7 input value layout). */
    static const unsigned rsvd_bits[] = {27, 30, 44, 47, 60, 63};
    for (unsigned i = 0; i < 6; i++) {
        char name[64];
        snprintf(name, sizeof(name), "error.reserved_input_bit.%u", rsvd_bits[i]);
        r = hypercall(HVCALL_FLUSH_SPACE | (1ull << rsvd_bits[i]), gpa(in), 0);
        check(name, HC_STATUS(r) == ST_INVALID_INPUT, "status 0x%x, want 0x3", HC_STATUS(r));
    }
    /* A variable header on a call that takes none (TLFS 3.4.x). */
    r = hypercall(HVCALL_FLUSH_SPACE | HC_VARHEAD(1), gpa(in), 0);
    CHECK_EQ("error.varhead_on_fixed_header_call", HC_STATUS(r), ST_INVALID_INPUT);

    /* Input GPA not 8-byte aligned; parameter block crossing a page (TLFS 3.5). */
    r = hypercall(HVCALL_FLUSH_SPACE, gpa(hc_in + 4), 0);
    CHECK_EQ("error.misaligned_input_gpa", HC_STATUS(r), ST_INVALID_ALIGN);
    r = hypercall(HVCALL_FLUSH_SPACE, gpa(hc_in + 1), 0);
    CHECK_EQ("error.odd_input_gpa", HC_STATUS(r), ST_INVALID_ALIGN);
    uint64_t *cross = (uint64_t *)(hc_in + 4096 - 16);
    cross[0] = read_cr3();
    cross[1] = 0;
    cross[2] = 1;
    r = hypercall(HVCALL_FLUSH_SPACE, gpa(cross), 0);
    CHECK_EQ("error.input_header_crosses_page", HC_STATUS(r), ST_INVALID_ALIGN);
    /* Header fits, but header + 3 rep elements (48 bytes) crosses. */
    uint64_t *lst = (uint64_t *)(hc_in + 4096 - 40);
    lst[0] = read_cr3();
    lst[1] = 0;
    lst[2] = 1;
    lst[3] = 0x1000;
    lst[4] = 0x2000;
    lst[5] = 0x3000;
    r = hypercall(HVCALL_FLUSH_LIST | HC_REP(3, 0), gpa(lst), 0);
    CHECK_EQ("error.rep_list_crosses_page", HC_STATUS(r), ST_INVALID_ALIGN);
    /* The same list, two elements, ends exactly at the page boundary: fine. */
    r = hypercall(HVCALL_FLUSH_LIST | HC_REP(2, 0), gpa(lst), 0);
    CHECK_EQ("rep_list_ending_at_page_boundary.status", HC_STATUS(r), ST_SUCCESS);
}

static void check_ipi(bool ipi_hint, bool ex_hint)
{
    if (!ipi_hint) {
        printf("SKIP: ipi.* (0x40000004.EAX[10] not set)\n");
        return;
    }
    /* xAPIC on: software-enable through the spurious-interrupt vector register. */
    *lapic(LAPIC_SVR) = 0x1FF;
    trap_set_handler(0x50, on_ipi);
    trap_set_handler(0x51, on_ipi);
    /* Linux's form: fast, RDX = vector (TargetVtl and padding zero), R8 = processor mask. */
    ipi_count = 0;
    uint64_t r = hypercall(HVCALL_SEND_IPI | HC_FAST, 0x50, 1);
    CHECK_EQ("ipi.fast.status", HC_STATUS(r), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("ipi.fast.delivered_once", ipi_count, 1);
    CHECK_EQ("ipi.fast.vector", ipi_vector_seen, 0x50);
    /* Memory-based form. */
    uint64_t *in = (uint64_t *)hc_in;
    in[0] = 0x51;
    in[1] = 1;
    ipi_count = 0;
    r = hypercall(HVCALL_SEND_IPI, gpa(in), 0);
    CHECK_EQ("ipi.memory.status", HC_STATUS(r), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("ipi.memory.delivered_once", ipi_count, 1);
    CHECK_EQ("ipi.memory.vector", ipi_vector_seen, 0x51);
    /* Vectors below 0x10 are invalid (TLFS 10.5.2: "valid values are 0x10 through 0xFF"). */
    ipi_count = 0;
    r = hypercall(HVCALL_SEND_IPI | HC_FAST, 0x0F, 1);
    CHECK_EQ("ipi.vector_below_0x10", HC_STATUS(r), ST_INVALID_PARAM);
    take_interrupts();
    CHECK_EQ("ipi.vector_below_0x10.nothing_delivered", ipi_count, 0);
    if (!ex_hint) {
        printf("SKIP: ipi_ex.* (0x40000004.EAX[11] not set)\n");
        return;
    }
    in[0] = 0x50;
    in[1] = 0; /* sparse */
    in[2] = 1; /* bank 0 present */
    in[3] = 1; /* VP 0 */
    ipi_count = 0;
    r = hypercall(HVCALL_SEND_IPI_EX | HC_VARHEAD(1), gpa(in), 0);
    CHECK_EQ("ipi_ex.sparse.status", HC_STATUS(r), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("ipi_ex.sparse.delivered_once", ipi_count, 1);
    in[3] = 0; /* empty bank: nobody */
    ipi_count = 0;
    r = hypercall(HVCALL_SEND_IPI_EX | HC_VARHEAD(1), gpa(in), 0);
    CHECK_EQ("ipi_ex.empty_bank.status", HC_STATUS(r), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("ipi_ex.empty_bank.nothing_delivered", ipi_count, 0);
    in[1] = 1; /* all VPs */
    in[2] = 0;
    ipi_count = 0;
    r = hypercall(HVCALL_SEND_IPI_EX, gpa(in), 0);
    CHECK_EQ("ipi_ex.all.status", HC_STATUS(r), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("ipi_ex.all.delivered_once", ipi_count, 1);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("hv_hypercall\n");
    struct cpuid_regs f = cpuid(0x40000003, 0), h = cpuid(0x40000004, 0);
    unsigned maxphys = cpuid(0x80000008, 0).eax & 0xFF;

    /* Before the page exists VMCALL is not a hypercall: #UD (TLFS 3.13 / REFERENCE 2.3). */
    CHECK_EQ("ud.vmcall_before_page_enabled", try_call(raw_vmcall, NULL), TRAP_UD);

    uint64_t v = 1;
    CHECK("msr.guest_os_id.reset_zero", rdmsr_safe(MSR_GUEST_OS_ID, &v) && v == 0);
    CHECK("msr.hypercall.reset_zero", rdmsr_safe(MSR_HYPERCALL, &v) && v == 0);
    /* Enabling without a guest OS identity fails silently: Enable stays 0 (TLFS 3.13). */
    CHECK("msr.hypercall.enable_without_guest_os_id_no_gp", wrmsr_safe(MSR_HYPERCALL, gpa(hc_page) | 1));
    CHECK_EQ("msr.hypercall.enable_needs_guest_os_id", rdmsr(MSR_HYPERCALL) & 1, 0);
    CHECK_EQ("ud.vmcall_with_enable_refused", try_call(raw_vmcall, NULL), TRAP_UD);

    wrmsr(MSR_GUEST_OS_ID, GUEST_OS_ID);
    CHECK_EQ("msr.guest_os_id.read_back", rdmsr(MSR_GUEST_OS_ID), GUEST_OS_ID);
    /* A page beyond the GPA space: #GP on the WRMSR (TLFS 3.13). */
    CHECK("msr.hypercall.gpfn_beyond_maxphyaddr_gp",
          maxphys >= 63 || !wrmsr_safe(MSR_HYPERCALL, (1ull << maxphys) | 1));
    wrmsr(MSR_HYPERCALL, gpa(hc_page) | 1);
    CHECK_EQ("msr.hypercall.read_back", rdmsr(MSR_HYPERCALL), gpa(hc_page) | 1);
    printf("hypercall page: %02x %02x %02x %02x\n", hc_page[0], hc_page[1], hc_page[2], hc_page[3]);
    CHECK("page.starts_with_vmcall", hc_page[0] == 0x0F && hc_page[1] == 0x01 && hc_page[2] == 0xC1);
    /* TLFS 3.13: "Attempts to write to the hypercall page will result in a #GP". */
    long wr = try_call(write_hypercall_page, NULL);
    check("page.write_gp", wr == TRAP_GP, "write to the hypercall page: try_call 0x%lx, want 0x%x",
          wr, TRAP_GP);
    CHECK_EQ("page.write_left_contents_unchanged", hc_page[0x800], 0);

    /* Moving the page: the old GPA shows its RAM again, the new one the stub (TLFS 3.13
     * overlay semantics); calls then go through the new page. */
    memset(hc_page2, 0xCC, sizeof(hc_page2));
    wrmsr(MSR_HYPERCALL, gpa(hc_page2) | 1);
    CHECK_EQ("page.move.read_back", rdmsr(MSR_HYPERCALL), gpa(hc_page2) | 1);
    CHECK("page.move.new_has_vmcall", hc_page2[0] == 0x0F && hc_page2[1] == 0x01 && hc_page2[2] == 0xC1);
    hc_target = hc_page2;
    uint64_t moved = hypercall(0xFFFF, 0, 0);
    CHECK_EQ("page.move.call_through_new_page", HC_STATUS(moved), ST_INVALID_CODE);
    check("page.move.old_gpa_is_ram_again", hc_page[0] != 0x0F || hc_page[1] != 0x01,
          "old page still reads %02x %02x %02x", hc_page[0], hc_page[1], hc_page[2]);
    hc_target = hc_page;
    wrmsr(MSR_HYPERCALL, gpa(hc_page) | 1);
    CHECK("page.move_back.has_vmcall", hc_page[0] == 0x0F && hc_page[1] == 0x01 && hc_page[2] == 0xC1);
    CHECK_EQ("page.move_back.old_second_page_is_ram", hc_page2[0], 0xCC);

    /* HvNotifyLongSpinWait: advisory, "only HV_STATUS_SUCCESS will be returned" (TLFS 14.5.1),
     * whatever the recommended retry count in 0x40000004.EBX is. */
    uint64_t r = hypercall(HVCALL_NOTIFY_SPIN | HC_FAST, 100, 0);
    check("call.notify_long_spin_wait.fast_success", HC_STATUS(r) == ST_SUCCESS,
          "status 0x%x (0x40000004.EBX = 0x%x)", HC_STATUS(r), h.ebx);
    CHECK_EQ("call.notify_long_spin_wait.no_reps", HC_REPS_DONE(r), 0);

    check_generic_errors();
    check_flush_calls((h.eax >> 2) & 1, (h.eax >> 11) & 1);
    check_ipi((h.eax >> 10) & 1, (h.eax >> 11) & 1);
    check_32bit_convention((h.eax >> 2) & 1);
    check_xmm_fast((f.edx >> 4) & 1, (h.eax >> 2) & 1, ((h.eax >> 10) & 1) && ((h.eax >> 11) & 1));

    /* Only CPL 0 may call: from ring 3 the call is #UD (TLFS 3.2). */
    volatile uint64_t user_result = 0xAA;
    long u = try_call_user(user_hypercall, (void *)&user_result);
    check("ud.hypercall_from_ring3", u == TRAP_UD, "try_call_user 0x%lx (result 0x%llx), want #UD",
          u, (unsigned long long)user_result);

    /* Clearing the guest OS identity disables the page (TLFS 3.13). */
    wrmsr(MSR_GUEST_OS_ID, 0);
    CHECK_EQ("msr.guest_os_id_zero_disables_page", rdmsr(MSR_HYPERCALL) & 1, 0);
    CHECK_EQ("ud.vmcall_after_page_disabled", try_call(raw_vmcall, NULL), TRAP_UD);
    test_finish();
}
