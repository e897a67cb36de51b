/* Exception delivery in long mode, vector by vector (SDM Vol 3 6.15): each exception's vector,
 * error code and saved RIP (faults: the faulting instruction; traps: the next one), #PF's
 * error-code bits and CR2, #DF from a fault while delivering #GP, #TS from an IST slot beyond
 * the TSS limit, #NP/#SS/#GP with selector error codes, and the IDT gate checks (DPL from
 * ring 3, not present, beyond the limit, bad type) with their IDT and EXT bits. INTO and BOUND
 * run in compatibility mode, where they exist. */
#include "guest.h"

#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR0_AM (1ull << 18)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define MSR_EFER 0xC0000080
#define EFER_NXE (1ull << 11)
#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))

/* Selector error code for IDT vector v (SDM Vol 3 6.13): index, IDT bit, EXT bit. */
#define IDT_ERR(v, ext) (((uint64_t)(v) << 3) | 2 | (ext))

#define SEL_CODE32 0x18 /* guest_gdt: 32-bit code, DPL 0 (borrowed for #NP/#SS below) */
#define SEL_TSS 0x30
#define GDT_TSS 6

extern uint64_t guest_gdt[];

static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }

/* The faulting routines, with labels on the instructions whose address the checks expect. */
void f_de(void *), f_int1(void *), f_int3(void *), f_ud2(void *), f_into64(void *), f_bound64(void *);
void f_nm(void *), f_noncanon_read(void *), f_ss_noncanon(void *), f_load_ds(void *), f_load_ss(void *);
void f_int50(void *), f_int51(void *), f_int52(void *), f_int53(void *), f_int60(void *);
void f_compat_into(void *), f_compat_bound(void *);
void f_read(void *), f_write(void *), f_call(void *);
void f_mf(void *), f_xm(void *), u_ac(void *);
void c_into(void), c_bound(void);
extern char f_de_at[], f_int1_next[], f_int3_next[], f_ud2_at[], f_nm_at[], f_mf_at[], f_xm_at[];
extern char c_into_next[], c_bound_at[], f_ss_noncanon_at[], f_noncanon_read_at[];
extern uint32_t c_bounds[2];

__asm__(
    "   .text\n"
    "   .globl f_de, f_de_at\n"
    "f_de:\n"
    "   xorl %ecx, %ecx\n"
    "   movl $1, %eax\n"
    "   xorl %edx, %edx\n"
    "f_de_at:\n"
    "   divl %ecx\n"
    "   ret\n"
    "   .globl f_int1, f_int1_next\n"
    "f_int1:\n"
    "   .byte 0xf1\n" /* INT1 (ICEBP) */
    "f_int1_next:\n"
    "   ret\n"
    "   .globl f_int3, f_int3_next\n"
    "f_int3:\n"
    "   int3\n"
    "f_int3_next:\n"
    "   ret\n"
    "   .globl f_ud2, f_ud2_at\n"
    "f_ud2:\n"
    "f_ud2_at:\n"
    "   ud2\n"
    "   ret\n"
    "   .globl f_into64\n"
    "f_into64:\n"
    "   .byte 0xce\n" /* INTO: invalid in 64-bit mode */
    "   ret\n"
    "   .globl f_bound64\n"
    "f_bound64:\n"
    "   .byte 0x62, 0x00\n" /* BOUND's opcode: invalid in 64-bit mode */
    "   ret\n"
    "   .globl f_nm, f_nm_at\n"
    "f_nm:\n"
    "f_nm_at:\n"
    "   fnop\n"
    "   ret\n"
    "   .globl f_noncanon_read, f_noncanon_read_at\n"
    "f_noncanon_read:\n"
    "   movabsq $0x8000000000000000, %rax\n"
    "f_noncanon_read_at:\n"
    "   movq (%rax), %rax\n"
    "   ret\n"
    /* A non-canonical address through RBP uses SS: #SS(0), not #GP(0). */
    "   .globl f_ss_noncanon, f_ss_noncanon_at\n"
    "f_ss_noncanon:\n"
    "   pushq %rbp\n"
    "   movabsq $0x8000000000000000, %rbp\n"
    "f_ss_noncanon_at:\n"
    "   movq (%rbp), %rax\n"
    "   popq %rbp\n"
    "   ret\n"
    /* Loads DS / SS with the selector in RDI's low word. */
    "   .globl f_load_ds\n"
    "f_load_ds:\n"
    "   movw %di, %ds\n"
    "   movl $0x10, %eax\n"
    "   movw %ax, %ds\n"
    "   ret\n"
    "   .globl f_load_ss\n"
    "f_load_ss:\n"
    "   movw %di, %ss\n"
    "   movl $0x10, %eax\n"
    "   movw %ax, %ss\n"
    "   ret\n"
    "   .globl f_int50, f_int51, f_int52, f_int53, f_int60\n"
    "f_int50: int $0x50\n ret\n"
    "f_int51: int $0x51\n ret\n"
    "f_int52: int $0x52\n ret\n"
    "f_int53: int $0x53\n ret\n"
    "f_int60: int $0x60\n ret\n"
    /* Far call into 32-bit code (compatibility mode) at the address in RDI. */
    "   .globl f_compat_into, f_compat_bound\n"
    "f_compat_into:\n"
    "   leaq c_into(%rip), %rax\n"
    "   jmp 1f\n"
    "f_compat_bound:\n"
    "   leaq c_bound(%rip), %rax\n"
    "1: pushq %rbx\n"
    "   subq $8, %rsp\n"
    "   movl %eax, (%rsp)\n"
    "   movw $0x18, 4(%rsp)\n"
    "   lcall *(%rsp)\n"
    "   addq $8, %rsp\n"
    "   popq %rbx\n"
    "   ret\n"
    "   .code32\n"
    "   .globl c_into, c_into_next, c_bound, c_bound_at\n"
    "c_into:\n"
    "   movb $0x7f, %al\n"
    "   addb $1, %al\n" /* OF = 1 */
    "   into\n"
    "c_into_next:\n"
    "   lret\n"
    "c_bound:\n"
    "   movl $20, %eax\n"
    "c_bound_at:\n"
    "   boundl %eax, c_bounds\n"
    "   lret\n"
    "   .code64\n"
    /* Accesses at the address in RDI. */
    "   .globl f_read, f_write, f_call\n"
    "f_read:\n"
    "   movq (%rdi), %rax\n"
    "   ret\n"
    "f_write:\n"
    "   movq %rdi, (%rdi)\n"
    "   ret\n"
    "f_call:\n"
    "   call *%rdi\n"
    "   ret\n"
    /* x87: divide by zero with ZE unmasked; FWAIT then reports it (#MF). */
    "   .globl f_mf, f_mf_at\n"
    "f_mf:\n"
    "   fninit\n"
    "   pushq $0x37B\n"
    "   fldcw (%rsp)\n"
    "   addq $8, %rsp\n"
    "   fld1\n"
    "   fldz\n"
    "   fdivrp\n"
    "f_mf_at:\n"
    "   fwait\n"
    "   ret\n"
    /* SSE: divide by zero with ZM unmasked (#XM with CR4.OSXMMEXCPT, else #UD). */
    "   .globl f_xm, f_xm_at\n"
    "f_xm:\n"
    "   pushq $0x1D80\n"
    "   ldmxcsr (%rsp)\n"
    "   addq $8, %rsp\n"
    "   movl $0x3f800000, %eax\n"
    "   movd %eax, %xmm0\n"
    "   xorps %xmm1, %xmm1\n"
    "f_xm_at:\n"
    "   divss %xmm1, %xmm0\n"
    "   ret\n"
    /* Ring 3 with EFLAGS.AC: a misaligned load is #AC(0) when CR0.AM is set. */
    "   .globl u_ac\n"
    "u_ac:\n"
    "   pushfq\n"
    "   orl $0x40000, (%rsp)\n"
    "   popfq\n"
    "   movq %rsp, %rax\n"
    "   movl 1(%rax), %ecx\n"
    "   ret\n"
    "   .data\n"
    "   .globl c_bounds\n"
    "c_bounds: .long 0, 10\n"
    "   .text\n");

/* try_call's result and the trap it caught must be exactly this exception. */
static void expect_trap(const char *name, long r, unsigned vector, uint64_t err, const void *rip)
{
    bool ok = r == (TRAP_CAUGHT | vector) && trap_last.vector == vector && trap_last.error_code == err &&
              (!rip || trap_last.rip == (uint64_t)(uintptr_t)rip);
    check(name, ok, "result 0x%lx vector %llu error 0x%llx rip 0x%llx; want vector %u error 0x%llx rip %p",
          r, (unsigned long long)trap_last.vector, (unsigned long long)trap_last.error_code,
          (unsigned long long)trap_last.rip, vector, (unsigned long long)err, rip);
}

struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint64_t base;
};

static struct dtr get_idtr(void)
{
    struct dtr d;
    __asm__ volatile("sidt %0" : "=m"(d));
    return d;
}

static void set_idtr(struct dtr d) { __asm__ volatile("lidt %0" ::"m"(d) : "memory"); }

static struct idt_gate *gate(unsigned v)
{
    return (struct idt_gate *)(uintptr_t)(get_idtr().base) + v;
}

static void basic_vectors(void)
{
    expect_trap("de_divide_error", try_call(f_de, NULL), 0, 0, f_de_at);
    expect_trap("db_int1_trap", try_call(f_int1, NULL), 1, 0, f_int1_next);
    expect_trap("bp_int3_trap", try_call(f_int3, NULL), 3, 0, f_int3_next);
    expect_trap("of_into_compat_mode", try_call(f_compat_into, NULL), 4, 0, c_into_next);
    expect_trap("of_into_64bit_is_ud", try_call(f_into64, NULL), 6, 0, NULL);
    expect_trap("br_bound_compat_mode", try_call(f_compat_bound, NULL), 5, 0, c_bound_at);
    expect_trap("br_bound_64bit_is_ud", try_call(f_bound64, NULL), 6, 0, NULL);
    expect_trap("ud_ud2", try_call(f_ud2, NULL), 6, 0, f_ud2_at);

    uint64_t cr0 = read_cr0();
    write_cr0(cr0 | CR0_TS | CR0_MP);
    expect_trap("nm_x87_with_ts", try_call(f_nm, NULL), 7, 0, f_nm_at);
    __asm__ volatile("clts");
    CHECK_EQ("nm_clts_clears_ts", read_cr0() & CR0_TS, 0);
    write_cr0(cr0);
}

/* #DF: the #GP gate is not present, so delivering #GP raises #NP, and two contributory
 * exceptions in a row make a double fault with error code 0 (SDM Vol 3 6.15, Table 6-5). */
static void double_fault(void)
{
    struct idt_gate *g = gate(13);
    uint8_t type = g->type;
    g->type = (uint8_t)(type & 0x7F);
    long r = try_call(f_noncanon_read, NULL);
    g->type = type;
    expect_trap("df_gp_while_delivering_gp", r, 8, 0, NULL);
}

/* #TS: an IST slot beyond the TSS limit (SDM Vol 3 6.14.5; INT n pseudo-code). */
static void invalid_tss(void)
{
    uint64_t desc = guest_gdt[GDT_TSS];
    struct idt_gate *g = gate(0x53);
    g->ist = 7; /* RSP from TSS offset 0x54..0x5B */
    guest_gdt[GDT_TSS] = (desc & ~0xFFFFull & ~(2ull << 40)) | 0x50; /* limit 0x50, not busy */
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS) : "memory");
    long r = try_call(f_int53, NULL);
    guest_gdt[GDT_TSS] = desc & ~(2ull << 40);
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS) : "memory");
    g->ist = 0;
    expect_trap("ts_ist_beyond_tss_limit", r, 10, SEL_TSS, NULL);
}

/* Segment loads: not present (#NP / #SS with the selector), beyond the GDT limit and
 * execute-only code into DS (#GP with the selector). */
static void segment_faults(void)
{
    uint64_t saved = guest_gdt[SEL_CODE32 / 8];
    guest_gdt[SEL_CODE32 / 8] = 0x00CF13000000FFFFull; /* data, writable, DPL 0, not present */
    long r = try_call(f_load_ds, (void *)(uintptr_t)SEL_CODE32);
    expect_trap("np_segment_not_present", r, 11, SEL_CODE32, NULL);
    r = try_call(f_load_ss, (void *)(uintptr_t)SEL_CODE32);
    expect_trap("ss_stack_segment_not_present", r, 12, SEL_CODE32, NULL);
    guest_gdt[SEL_CODE32 / 8] = 0x00CF99000000FFFFull; /* code, execute-only */
    r = try_call(f_load_ds, (void *)(uintptr_t)SEL_CODE32);
    expect_trap("gp_selector_execute_only_code_into_ds", r, 13, SEL_CODE32, NULL);
    guest_gdt[SEL_CODE32 / 8] = saved;
    expect_trap("ss_noncanonical_stack_reference", try_call(f_ss_noncanon, NULL), 12, 0,
                f_ss_noncanon_at);
    expect_trap("gp_noncanonical_data_reference", try_call(f_noncanon_read, NULL), 13, 0,
                f_noncanon_read_at);
    expect_trap("gp_selector_beyond_gdt_limit", try_call(f_load_ds, (void *)0x40), 13, 0x40, NULL);
}

static void user_int50(void *arg)
{
    (void)arg;
    __asm__ volatile("int $0x50");
}

static void user_int1_icebp(void *arg)
{
    (void)arg;
    __asm__ volatile(".byte 0xf1");
}

static void user_int_01(void *arg)
{
    (void)arg;
    __asm__ volatile("int $0x01");
}

static void user_int3(void *arg)
{
    (void)arg;
    __asm__ volatile("int3");
}

static void user_ac(void *arg)
{
    u_ac(arg);
}

/* IDT gate checks (SDM Vol 3 6.12.1.1, 6.14.1): the error code names the gate, with IDT = 1
 * and EXT = 1 when the event was not a software interrupt. */
static void gate_checks(void)
{
    long r = try_call_user(user_int50, NULL);
    expect_trap("gp_gate_dpl_from_ring3_idt_bit", r, 13, IDT_ERR(0x50, 0), NULL);
    CHECK_EQ("bp_dpl3_gate_from_ring3", try_call_user(user_int3, NULL), TRAP_CAUGHT | 3);
    /* INT1 (ICEBP) is not INT n: the gate's DPL is not checked; INT 01h (CD 01) is. */
    CHECK_EQ("db_icebp_from_ring3_skips_gate_dpl", try_call_user(user_int1_icebp, NULL),
             TRAP_CAUGHT | 1);
    expect_trap("gp_int_01_from_ring3_checks_dpl", try_call_user(user_int_01, NULL), 13,
                IDT_ERR(1, 0), NULL);

    struct idt_gate *g = gate(0x51);
    g->type &= 0x7F;
    expect_trap("np_gate_not_present", try_call(f_int51, NULL), 11, IDT_ERR(0x51, 0), NULL);
    g->type |= 0x80;

    g = gate(0x52);
    uint8_t type = g->type;
    g->type = (uint8_t)((type & 0xF0) | 0xC); /* a call gate is not allowed in the IDT */
    expect_trap("gp_gate_bad_type", try_call(f_int52, NULL), 13, IDT_ERR(0x52, 0), NULL);
    g->type = type;

    /* An exception whose own gate is not present: #NP with EXT set. */
    g = gate(6);
    g->type &= 0x7F;
    expect_trap("np_exception_gate_ext_bit", try_call(f_ud2, NULL), 11, IDT_ERR(6, 1), NULL);
    g->type |= 0x80;

    struct dtr full = get_idtr(), shortened = full;
    shortened.limit = 0x60 * 16 - 1;
    set_idtr(shortened);
    r = try_call(f_int60, NULL);
    set_idtr(full);
    expect_trap("gp_beyond_idt_limit", r, 13, IDT_ERR(0x60, 0), NULL);
}

static void sti_nop(void *arg)
{
    (void)arg;
    __asm__ volatile("sti; nop; nop; cli" ::: "memory");
}

static void ext_interrupt(void)
{
    struct dtr full = get_idtr(), shortened = full;
    shortened.limit = 0x60 * 16 - 1;
    LAPIC(0xF0) = 0x1FF;
    set_idtr(shortened);
    LAPIC(0x300) = 0x40000 | 0x60;
    long r = try_call(sti_nop, NULL);
    set_idtr(full);
    LAPIC(0xB0) = 0; /* the vector went in service before its delivery failed */
    expect_trap("gp_external_interrupt_ext_bit", r, 13, IDT_ERR(0x60, 1), NULL);
}

/* #PF error codes (SDM Vol 3 4.7) on a 2 MiB page of RAM at 128 MiB. */
#define PF_VA 0x8000000ull
#define PF_P 1u
#define PF_W 2u
#define PF_U 4u
#define PF_RSVD 8u
#define PF_I 16u

struct pf_case {
    const char *name;
    uint64_t pde_clear, pde_set; /* applied to the identity PDE */
    enum { ACC_READ, ACC_WRITE, ACC_FETCH } access;
    bool user;
    uint32_t err;
    bool needs_nx;
};

static const struct pf_case pf_cases[] = {
    {"pf_read_not_present", 1, 0, ACC_READ, false, 0, false},
    {"pf_write_not_present", 1, 0, ACC_WRITE, false, PF_W, false},
    {"pf_write_read_only", 2, 0, ACC_WRITE, false, PF_P | PF_W, false},
    {"pf_reserved_bit", 0, 1ull << 13, ACC_READ, false, PF_P | PF_RSVD, false},
    {"pf_user_read_supervisor", 4, 0, ACC_READ, true, PF_P | PF_U, false},
    {"pf_user_write_read_only", 2, 0, ACC_WRITE, true, PF_P | PF_W | PF_U, false},
    {"pf_user_read_not_present", 1, 0, ACC_READ, true, PF_U, false},
    {"pf_fetch_not_present", 1, 0, ACC_FETCH, false, PF_I, true},
    {"pf_fetch_nx", 0, 1ull << 63, ACC_FETCH, false, PF_P | PF_I, true},
};

static const struct pf_case *pf_current;

static void pf_access(void *arg)
{
    switch (pf_current->access) {
    case ACC_READ: f_read(arg); break;
    case ACC_WRITE: f_write(arg); break;
    case ACC_FETCH: f_call(arg); break;
    }
}

static void page_faults(void)
{
    bool nx = (rdmsr(MSR_EFER) & EFER_NXE) != 0;
    uint64_t *pde = guest_pde(PF_VA);
    uint64_t va = PF_VA + 0x1238;
    *(volatile uint8_t *)(uintptr_t)va = 0xC3; /* ret, for the fetch cases */
    for (unsigned k = 0; k < sizeof(pf_cases) / sizeof(pf_cases[0]); k++) {
        const struct pf_case *c = &pf_cases[k];
        if (c->needs_nx && !nx) {
            printf("SKIP: %s (no NX)\n", c->name);
            continue;
        }
        uint64_t saved = *pde;
        *pde = (saved & ~c->pde_clear) | c->pde_set;
        invlpg(va);
        pf_current = c;
        long r = c->user ? try_call_user(pf_access, (void *)(uintptr_t)va)
                         : try_call(pf_access, (void *)(uintptr_t)va);
        *pde = saved;
        invlpg(va);
        bool ok = r == (TRAP_CAUGHT | 14) && trap_last.error_code == c->err && trap_last.cr2 == va;
        check(c->name, ok, "result 0x%lx error 0x%llx cr2 0x%llx; want error 0x%x cr2 0x%llx", r,
              (unsigned long long)trap_last.error_code, (unsigned long long)trap_last.cr2, c->err,
              (unsigned long long)va);
    }
}

static void fpu_faults(void)
{
    uint64_t cr0 = read_cr0();
    write_cr0((cr0 | CR0_NE | CR0_MP) & ~CR0_TS);
    expect_trap("mf_x87_unmasked_zero_divide", try_call(f_mf, NULL), 16, 0, f_mf_at);
    __asm__ volatile("fninit");

    uint64_t cr4 = read_cr4();
    write_cr4(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
    expect_trap("xm_sse_unmasked_zero_divide", try_call(f_xm, NULL), 19, 0, f_xm_at);
    write_cr4((cr4 | CR4_OSFXSR) & ~CR4_OSXMMEXCPT);
    expect_trap("xm_without_osxmmexcpt_is_ud", try_call(f_xm, NULL), 6, 0, f_xm_at);
    write_cr4(cr4 | CR4_OSFXSR);
    uint32_t mxcsr = 0x1F80;
    __asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
    write_cr4(cr4);

    write_cr0(read_cr0() | CR0_AM);
    expect_trap("ac_misaligned_ring3", try_call_user(user_ac, NULL), 17, 0, NULL);
    write_cr0(read_cr0() & ~CR0_AM);
    CHECK_EQ("ac_needs_cr0_am", try_call_user(user_ac, NULL), 0);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    basic_vectors();
    double_fault();
    invalid_tss();
    segment_faults();
    gate_checks();
    ext_interrupt();
    page_faults();
    fpu_faults();
    test_finish();
}
