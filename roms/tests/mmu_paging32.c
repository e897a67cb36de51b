/* Legacy paging modes seen from the guest: the kernel drops from long mode to 32-bit protected
 * mode (compatibility code segment, CR0.PG=0, EFER.LME=0), enables 32-bit paging with 4 MiB PSE
 * pages, then PAE paging, and runs a script of memory operations there, each recording the
 * exception it raised (vector, error code, CR2) or the value it read; back in long mode the
 * results are checked. */
#include "guest.h"

#define PTE_P 0x1u
#define PTE_RW 0x2u
#define PTE_A 0x20u
#define PTE_D 0x40u
#define PTE_PS 0x80u
#define PTE_NX (1ull << 63)
#define PF_P 0x1u
#define PF_W 0x2u
#define PF_RSVD 0x8u
#define PF_I 0x10u
#define PG 4096u
#define CR0_WP (1u << 16)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define EFER_NXE (1u << 11)
#define NO_FAULT 0xFFu
#define PA_BIG 0x08000000u /* 128 MiB: RAM the image does not use */

/* Script operations, run by the 32-bit interpreter below. */
enum { OP_END, OP_RD32, OP_WR32, OP_WR16, OP_INVLPG, OP_CR3, OP_EXEC, OP_CR0_AND, OP_CR0_OR, OP_FIXUP,
       OP_EFER_AND, OP_EFER_OR, OP_RD_CR3, OP_CR4 };
struct op32 { uint32_t op, addr, val, pad; };
struct res32 { uint32_t vec, err, cr2, val; };

#define MAX_OPS 96
static struct op32 ops[MAX_OPS];
static struct res32 res[MAX_OPS];
static unsigned nops;

/* The interpreter's state, shared with the 32-bit code (absolute addresses below 4 GiB). */
uint32_t p32_vec, p32_err, p32_cr2, p32_recover, p32_fixup_pte, p32_fixups, p32_esp;
uint32_t p32_cr3, p32_cr4, p32_ops, p32_res;
uint64_t p32_saved_rsp, p32_saved_cr3, p32_saved_cr4;
uint8_t p32_saved_idt[10];
struct idt32_gate { uint16_t off0, sel; uint8_t zero, type; uint16_t off1; };
struct idt32_gate p32_idt[32] __attribute__((aligned(8)));
extern const char p32_stubs[];

/* run32(): into 32-bit protected mode with CR3/CR4 from p32_cr3/p32_cr4, run the script, come back. */
void run32(void);
__asm__(".text\n"
        ".code64\n"
        ".globl run32\n"
        "run32:\n"
        "  pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
        "  movq %rsp, p32_saved_rsp(%rip)\n"
        "  sidt p32_saved_idt(%rip)\n"
        "  movq %cr3, %rax; movq %rax, p32_saved_cr3(%rip)\n"
        "  movq %cr4, %rax; movq %rax, p32_saved_cr4(%rip)\n"
        "  pushq $0x18\n"
        "  leaq p32_compat(%rip), %rax\n"
        "  pushq %rax\n"
        "  lretq\n"
        ".code32\n"
        "p32_compat:\n"
        "  movl %cr0, %eax\n"
        "  andl $0x7FFFFFFF, %eax\n"
        "  movl %eax, %cr0\n" /* leaves IA-32e mode: LMA=0 */
        "  movl $0xC0000080, %ecx\n"
        "  rdmsr\n"
        "  andl $~0x100, %eax\n"
        "  wrmsr\n"
        "  lidt p32_idt_ptr\n"
        "  movl p32_cr4, %eax\n"
        "  movl %eax, %cr4\n"
        "  movl p32_cr3, %eax\n"
        "  movl %eax, %cr3\n"
        "  movl %cr0, %eax\n"
        "  orl $0x80000000, %eax\n"
        "  movl %eax, %cr0\n"
        "  movl p32_ops, %esi\n"
        "  movl p32_res, %edi\n"
        "p32_loop:\n"
        "  movl (%esi), %eax\n"
        "  testl %eax, %eax\n"
        "  jz p32_done\n"
        "  movl $0xFF, p32_vec\n"
        "  movl $0, p32_err\n"
        "  movl $0, p32_cr2\n"
        "  movl $p32_after, p32_recover\n"
        "  movl %esp, p32_esp\n"
        "  movl 4(%esi), %ebx\n"
        "  movl 8(%esi), %ecx\n"
        "  xorl %edx, %edx\n"
        "  cmpl $1, %eax; je 1f\n"
        "  cmpl $2, %eax; je 2f\n"
        "  cmpl $3, %eax; je 3f\n"
        "  cmpl $4, %eax; je 4f\n"
        "  cmpl $5, %eax; je 5f\n"
        "  cmpl $6, %eax; je 6f\n"
        "  cmpl $7, %eax; je 7f\n"
        "  cmpl $8, %eax; je 8f\n"
        "  cmpl $9, %eax; je 9f\n"
        "  cmpl $10, %eax; je 10f\n"
        "  cmpl $11, %eax; je 11f\n"
        "  cmpl $12, %eax; je 12f\n"
        "  cmpl $13, %eax; je 13f\n"
        "  jmp p32_after\n"
        "1: movl (%ebx), %edx; jmp p32_after\n"
        "2: movl %ecx, (%ebx); jmp p32_after\n"
        "3: movw %cx, (%ebx); jmp p32_after\n"
        "4: invlpg (%ebx); jmp p32_after\n"
        "5: movl %ebx, %cr3; jmp p32_after\n"
        "6: call *%ebx; movl %eax, %edx; jmp p32_after\n"
        "7: movl %cr0, %eax; andl %ecx, %eax; movl %eax, %cr0; jmp p32_after\n"
        "8: movl %cr0, %eax; orl %ecx, %eax; movl %eax, %cr0; jmp p32_after\n"
        "9: movl %ebx, p32_fixup_pte; jmp p32_after\n"
        "10: pushl %ecx; movl $0xC0000080, %ecx; rdmsr; andl (%esp), %eax; wrmsr; popl %ecx; jmp p32_after\n"
        "11: pushl %ecx; movl $0xC0000080, %ecx; rdmsr; orl (%esp), %eax; wrmsr; popl %ecx; jmp p32_after\n"
        "12: movl %cr3, %edx; jmp p32_after\n"
        "13: movl %ecx, %cr4; jmp p32_after\n"
        "p32_after:\n"
        "  movl p32_esp, %esp\n"
        "  movl p32_vec, %eax; movl %eax, 0(%edi)\n"
        "  movl p32_err, %eax; movl %eax, 4(%edi)\n"
        "  movl p32_cr2, %eax; movl %eax, 8(%edi)\n"
        "  movl %edx, 12(%edi)\n"
        "  addl $16, %esi\n"
        "  addl $16, %edi\n"
        "  jmp p32_loop\n"
        "p32_done:\n"
        "  movl %cr0, %eax\n"
        "  andl $0x7FFFFFFF, %eax\n"
        "  movl %eax, %cr0\n"
        "  movl p32_saved_cr4, %eax\n"
        "  movl %eax, %cr4\n"
        "  movl p32_saved_cr3, %eax\n"
        "  movl %eax, %cr3\n"
        "  movl $0xC0000080, %ecx\n"
        "  rdmsr\n"
        "  orl $0x100, %eax\n"
        "  wrmsr\n"
        "  movl %cr0, %eax\n"
        "  orl $0x80000000, %eax\n"
        "  movl %eax, %cr0\n" /* IA-32e mode again, still in the compatibility segment */
        "  ljmp $0x08, $p32_back64\n"
        /* Exception stubs: push a zero error code where the CPU pushes none, then the vector. */
        ".balign 16\n"
        ".globl p32_stubs\n"
        "p32_stubs:\n"
        ".set vec, 0\n"
        ".rept 32\n"
        ".balign 16\n"
        ".if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17)\n"
        "  pushl $0\n"
        ".endif\n"
        "  pushl $vec\n"
        "  jmp p32_trap\n"
        ".set vec, vec + 1\n"
        ".endr\n"
        /* Frame: vector, error, EIP, CS, EFLAGS. A #PF with a fixup armed sets P in that PTE and
         * resumes the faulting instruction; anything else is recorded and resumes at p32_recover. */
        "p32_trap:\n"
        "  pushl %eax\n"
        "  cmpl $14, 4(%esp)\n"
        "  jne 1f\n"
        "  movl p32_fixup_pte, %eax\n"
        "  testl %eax, %eax\n"
        "  jz 1f\n"
        "  orl $1, (%eax)\n"
        "  movl $0, p32_fixup_pte\n"
        "  incl p32_fixups\n"
        "  popl %eax\n"
        "  addl $8, %esp\n"
        "  iret\n"
        "1:\n"
        "  movl 4(%esp), %eax; movl %eax, p32_vec\n"
        "  movl 8(%esp), %eax; movl %eax, p32_err\n"
        "  movl %cr2, %eax; movl %eax, p32_cr2\n"
        "  movl p32_recover, %eax; movl %eax, 12(%esp)\n"
        "  popl %eax\n"
        "  addl $8, %esp\n"
        "  iret\n"
        ".code64\n"
        "p32_back64:\n"
        "  movl $0x10, %eax\n"
        "  movl %eax, %ds; movl %eax, %es; movl %eax, %ss\n"
        "  movq p32_saved_rsp(%rip), %rsp\n"
        "  lidt p32_saved_idt(%rip)\n"
        "  popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
        "  ret\n"
        ".data\n"
        ".balign 8\n"
        "  .word 0\n"
        "p32_idt_ptr:\n"
        "  .word 32 * 8 - 1\n"
        "  .long p32_idt\n"
        ".text\n");

static unsigned op(uint32_t o, uint64_t addr, uint32_t val)
{
    if (nops >= MAX_OPS - 1)
        return MAX_OPS - 1; /* the END slot: its checks fail loudly */
    ops[nops] = (struct op32){o, (uint32_t)addr, val, 0};
    return nops++;
}

static void run_script(uint32_t cr3, uint32_t cr4)
{
    ops[nops].op = OP_END;
    for (unsigned i = 0; i < MAX_OPS; i++)
        res[i] = (struct res32){0xEEEEEEEE, 0, 0, 0};
    p32_cr3 = cr3;
    p32_cr4 = cr4;
    p32_ops = (uint32_t)(uintptr_t)ops;
    p32_res = (uint32_t)(uintptr_t)res;
    run32();
}

static void expect_val(const char *name, unsigned i, uint32_t want)
{
    check(name, res[i].vec == NO_FAULT && res[i].val == want,
          "op %u: vec 0x%x err 0x%x cr2 0x%x val 0x%x; want no fault, val 0x%x", i, res[i].vec, res[i].err,
          res[i].cr2, res[i].val, want);
}

static void expect_ok(const char *name, unsigned i)
{
    check(name, res[i].vec == NO_FAULT, "op %u: vec 0x%x err 0x%x cr2 0x%x; want no fault", i, res[i].vec,
          res[i].err, res[i].cr2);
}

static void expect_pf(const char *name, unsigned i, uint32_t err, uint32_t cr2)
{
    check(name, res[i].vec == 14 && res[i].err == err && res[i].cr2 == cr2,
          "op %u: vec 0x%x err 0x%x cr2 0x%x; want #PF err 0x%x cr2 0x%x", i, res[i].vec, res[i].err, res[i].cr2,
          err, cr2);
}

static uint8_t pages[12][4096] __attribute__((aligned(4096)));
#define PA(p) ((uint32_t)(uintptr_t)(p))
static inline uint32_t pg32(unsigned p, unsigned off) { return *(volatile uint32_t *)&pages[p][off]; }

static void fill_pages(void)
{
    for (unsigned p = 0; p < 12; p++)
        for (unsigned k = 0; k < 4096; k += 4)
            *(uint32_t *)&pages[p][k] = 0x01010101u * (p + 0x20) + k;
}

static void put_mov_ret(uint8_t *p, uint32_t imm)
{
    p[0] = 0xB8;
    memcpy(p + 1, &imm, 4);
    p[5] = 0xC3;
}

static void idt32_init(void)
{
    for (unsigned v = 0; v < 32; v++) {
        uint32_t a = (uint32_t)(uintptr_t)(p32_stubs + 16 * v);
        p32_idt[v] = (struct idt32_gate){(uint16_t)a, 0x18, 0, 0x8E, (uint16_t)(a >> 16)};
    }
}

/* ---- 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE ---- */
static uint32_t pd32[1024] __attribute__((aligned(4096)));
static uint32_t pt32[1024] __attribute__((aligned(4096)));
static uint32_t pt32_ro[1024] __attribute__((aligned(4096)));
static uint32_t pt32_id[1024] __attribute__((aligned(4096))); /* 0-4 MiB by 4 KiB pages */
static uint32_t pt32_ps[1024] __attribute__((aligned(4096)));
#define T32 0x40000000u /* pd32[0x100] -> pt32 */
#define V32(i) (T32 + (uint32_t)(i) * PG)

static void test_paging32(void)
{
    for (unsigned i = 0; i < 1024; i++) {
        pd32[i] = (i << 22) | PTE_P | PTE_RW | PTE_PS;
        pt32[i] = pt32_ro[i] = 0;
    }
    /* The image's own 4 MiB by 4 KiB pages, so that it keeps running with CR4.PSE=0. */
    for (unsigned i = 0; i < 1024; i++) {
        pt32_id[i] = (i << 12) | PTE_P | PTE_RW;
        pt32_ps[i] = 0;
    }
    CHECK("p32.image_below_4m", (uintptr_t)__image_end < (4u << 20));
    pd32[0] = PA(pt32_id) | PTE_P | PTE_RW;
    /* A PDE with PS over a real page table: a 4 MiB page with PSE, a page table without. */
    pd32[0x106] = PA(pt32_ps) | PTE_P | PTE_RW | PTE_PS;
    pt32_ps[0] = PA(pages[9]) | PTE_P | PTE_RW;
    pd32[0x100] = PA(pt32) | PTE_P | PTE_RW;
    pd32[0x101] = PA_BIG | PTE_P | PTE_RW | PTE_PS;
    pd32[0x102] = PA_BIG | (1u << 21) | PTE_P | PTE_RW | PTE_PS; /* bit 21 is reserved (Table 4-4) */
    pd32[0x103] = 0;
    pd32[0x104] = PA(pt32_ro) | PTE_P; /* read-only PDE */
    pd32[0x105] = PA_BIG | (1u << 13) | PTE_P | PTE_RW | PTE_PS; /* PSE-36: PA 0x1_0800_0000 */
    pt32_ro[0] = PA(pages[1]) | PTE_P | PTE_RW;
    pt32[0] = PA(pages[0]) | PTE_P | PTE_RW;
    pt32[1] = PA(pages[0]) | PTE_P | PTE_RW;
    pt32[2] = PA(pages[1]);
    pt32[3] = PA(pages[1]) | PTE_P;
    pt32[4] = PA(pages[2]) | PTE_P | PTE_RW;
    pt32[5] = PA(pages[3]) | PTE_P | PTE_RW;
    pt32[6] = PA(pages[5]) | PTE_RW;
    pt32[7] = PA(pages[6]) | PTE_P | PTE_RW;
    pt32[8] = PA(pages[7]) | PTE_RW;
    pt32[9] = PA(pages[3]) | PTE_P | PTE_RW;
    pt32[10] = PA(pages[8]) | PTE_P;
    fill_pages();
    put_mov_ret(pages[8] + 0x10, 0x32323232);
    nops = 0;

    unsigned o_wr = op(OP_WR32, V32(0) + 0x10, 0xAABBCCDD);
    unsigned o_alias = op(OP_RD32, V32(1) + 0x10, 0);
    unsigned o_np_rd = op(OP_RD32, V32(2) + 0x123, 0);
    unsigned o_np_wr = op(OP_WR32, V32(2) + 0x456, 1);
    unsigned o_ro_wr = op(OP_WR32, V32(3) + 0x20, 0x12345678);
    op(OP_CR0_AND, 0, ~CR0_WP);
    unsigned o_ro_wp0 = op(OP_WR32, V32(3) + 0x24, 0x87654321);
    op(OP_CR0_OR, 0, CR0_WP);
    unsigned o_big_wr = op(OP_WR32, T32 + (1u << 22) + 0x1234, 0x4D4D4D4D);
    unsigned o_big_rd = op(OP_RD32, PA_BIG + 0x1234, 0);
    unsigned o_big_rsvd = op(OP_RD32, T32 + (2u << 22) + 0x10, 0);
    unsigned o_pse36 = op(OP_RD32, T32 + (5u << 22) + 0x1234, 0);
    unsigned o_ad_rd = op(OP_RD32, V32(4) + 8, 0);
    unsigned o_ad_pte1 = op(OP_RD32, PA(&pt32[4]), 0);
    unsigned o_ad_wr = op(OP_WR32, V32(4) + 8, 5);
    unsigned o_ad_pte2 = op(OP_RD32, PA(&pt32[4]), 0);
    unsigned o_ad_pde = op(OP_RD32, PA(&pd32[0x100]), 0);
    unsigned o_inv1 = op(OP_RD32, V32(5) + 0x30, 0);
    op(OP_WR32, PA(&pt32[5]), PA(pages[4]) | PTE_P | PTE_RW);
    op(OP_INVLPG, V32(5), 0);
    unsigned o_inv2 = op(OP_RD32, V32(5) + 0x30, 0);
    op(OP_FIXUP, PA(&pt32[6]), 0);
    unsigned o_fix = op(OP_RD32, V32(6) + 0x40, 0);
    unsigned o_fixn = op(OP_RD32, PA(&p32_fixups), 0);
    unsigned o_cross = op(OP_WR32, V32(8) - 2, 0x99999999);
    unsigned o_cross_chk = op(OP_RD32, V32(8) - 4, 0);
    unsigned o_np_pde = op(OP_RD32, T32 + (3u << 22) + 0x44, 0);
    unsigned o_ro_pde = op(OP_WR32, T32 + (4u << 22) + 0x48, 7);
    unsigned o_ro_pde_rd = op(OP_RD32, T32 + (4u << 22) + 0x48, 0);
    unsigned o_cr3a = op(OP_RD32, V32(9) + 0x50, 0);
    op(OP_WR32, PA(&pt32[9]), PA(pages[4]) | PTE_P | PTE_RW);
    op(OP_CR3, PA(pd32), 0);
    unsigned o_cr3b = op(OP_RD32, V32(9) + 0x50, 0);
    unsigned o_exec = op(OP_EXEC, V32(10) + 0x10, 0);
    unsigned o_exec_np = op(OP_EXEC, V32(2) + 0x10, 0);
    unsigned o_lapic = op(OP_RD32, 0xFEE00030u, 0);
    op(OP_WR32, PA(&pt32[11]), PA(pages[9]) | PTE_P | PTE_RW | 0x80u | 0xE00u);
    unsigned o_pat4k = op(OP_RD32, V32(11) + 0x14, 0);
    op(OP_WR32, PA(&pd32[0x107]), PA_BIG | PTE_P | PTE_RW | PTE_PS | (1u << 12));
    unsigned o_pat4m = op(OP_RD32, T32 + (7u << 22) + 0x1234, 0);
    unsigned o_ps_pse1 = op(OP_RD32, T32 + (6u << 22) + 0x70, 0);
    op(OP_CR4, 0, 0);
    unsigned o_ps_pse0 = op(OP_RD32, T32 + (6u << 22) + 0x70, 0);
    unsigned o_4m_pse0 = op(OP_RD32, T32 + (1u << 22) + 0x1234, 0);
    op(OP_CR4, 0, CR4_PSE);
    unsigned o_ps_back = op(OP_RD32, T32 + (6u << 22) + 0x70, 0);
    p32_fixups = 0;
    run_script(PA(pd32), CR4_PSE);

    CHECK("p32.back_in_long_mode", rdmsr(0xC0000080) & (1u << 10));
    expect_ok("p32.write_4k", o_wr);
    expect_val("p32.alias_read", o_alias, 0xAABBCCDD);
    expect_pf("p32.np_read_err0_cr2", o_np_rd, 0, V32(2) + 0x123);
    expect_pf("p32.np_write_errW_cr2", o_np_wr, PF_W, V32(2) + 0x456);
    expect_pf("p32.ro_write_wp1_errWP", o_ro_wr, PF_W | PF_P, V32(3) + 0x20);
    CHECK_EQ("p32.ro_write_wp1_nothing_written", pg32(1, 0x20), 0x21212121u + 0x20);
    expect_ok("p32.ro_write_wp0_allowed", o_ro_wp0);
    CHECK_EQ("p32.ro_write_wp0_landed", pg32(1, 0x24), 0x87654321u);
    expect_ok("p32.page_4m_write", o_big_wr);
    expect_val("p32.page_4m_lands", o_big_rd, 0x4D4D4D4D);
    expect_pf("p32.page_4m_bit21_rsvd", o_big_rsvd, PF_RSVD | PF_P, T32 + (2u << 22) + 0x10);
    /* PSE-36 (MAXPHYADDR 40): PDE bits 20:13 are PA bits 39:32; 0x1_0800_0000 is no RAM here. */
    expect_val("p32.page_4m_pse36_high_pa", o_pse36, 0xFFFFFFFFu);
    expect_val("p32.ad_read", o_ad_rd, 0x22222222u + 8);
    check("p32.read_sets_A_not_D", res[o_ad_pte1].vec == NO_FAULT && (res[o_ad_pte1].val & (PTE_A | PTE_D)) == PTE_A,
          "pte 0x%x", res[o_ad_pte1].val);
    expect_ok("p32.ad_write", o_ad_wr);
    check("p32.write_sets_D", (res[o_ad_pte2].val & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "pte 0x%x",
          res[o_ad_pte2].val);
    check("p32.pde_A_set", res[o_ad_pde].val & PTE_A, "pde 0x%x", res[o_ad_pde].val);
    expect_val("p32.invlpg_before", o_inv1, pg32(3, 0x30));
    expect_val("p32.invlpg_new_translation", o_inv2, pg32(4, 0x30));
    expect_val("p32.fixup_resume_read", o_fix, pg32(5, 0x40));
    expect_val("p32.fixup_handler_ran_once", o_fixn, 1);
    expect_pf("p32.cross_store_np_second_errW_cr2", o_cross, PF_W, V32(8));
    expect_val("p32.cross_store_first_untouched", o_cross_chk, 0x26262626u + PG - 4);
    expect_pf("p32.np_pde_read", o_np_pde, 0, T32 + (3u << 22) + 0x44);
    expect_pf("p32.ro_pde_write_errWP", o_ro_pde, PF_W | PF_P, T32 + (4u << 22) + 0x48);
    expect_val("p32.ro_pde_read_ok", o_ro_pde_rd, pg32(1, 0x48));
    expect_val("p32.cr3_before_reload", o_cr3a, pg32(3, 0x50));
    expect_val("p32.cr3_reload_new_translation", o_cr3b, pg32(4, 0x50));
    expect_val("p32.exec_4k", o_exec, 0x32323232);
    /* No NX in 32-bit paging: I is never set (SDM 4.7). */
    expect_pf("p32.np_fetch_no_I", o_exec_np, 0, V32(2) + 0x10);
    expect_val("p32.lapic_version_identity_4m", o_lapic, *(volatile uint32_t *)0xFEE00030ull);
    expect_val("p32.pte_pat_and_ignored_bits_ok", o_pat4k, pg32(9, 0x14));
    expect_val("p32.pde_4m_pat_bit12_ok", o_pat4m, 0x4D4D4D4D);
    /* With PSE the frame is PA(pt32_ps) with bits 20:13 as PA[39:32] (PSE-36); compare with
     * the PSE=0 result only: CR4.PSE changes must flush the TLB (SDM Vol 3 4.10.4.1). */
    check("p32.pse1_ps_is_large_page", res[o_ps_pse1].vec == NO_FAULT && res[o_ps_pse1].val != pg32(9, 0x70),
          "vec 0x%x val 0x%x", res[o_ps_pse1].vec, res[o_ps_pse1].val);
    expect_val("p32.pse0_ps_bit_ignored", o_ps_pse0, pg32(9, 0x70));
    /* PA_BIG as a page table: its entry 1 was never written (RAM reads zero): not present. */
    expect_pf("p32.pse0_4m_pde_walks_as_table", o_4m_pse0, 0, T32 + (1u << 22) + 0x1234);
    check("p32.pse_back_large_page_again", res[o_ps_back].val == res[o_ps_pse1].val, "val 0x%x want 0x%x",
          res[o_ps_back].val, res[o_ps_pse1].val);
}

/* ---- PAE paging: 8-byte entries, four PDPTEs, 2 MiB pages, NX ---- */
static uint64_t pdpt_pae[4] __attribute__((aligned(32)));
static uint64_t pdpt_bad[4] __attribute__((aligned(32)));
static uint64_t pdpt_np[4] __attribute__((aligned(32)));
static uint64_t pd3[512] __attribute__((aligned(4096)));
static uint64_t pt_pae[512] __attribute__((aligned(4096)));
#define TP 0xC0000000u /* pd3[0] -> pt_pae */
#define VP(i) (TP + (uint32_t)(i) * PG)

static void test_pae(void)
{
    for (unsigned i = 0; i < 3; i++)
        pdpt_pae[i] = (uint64_t)(uintptr_t)&guest_pd[512 * i] | PTE_P;
    pdpt_pae[3] = (uint64_t)(uintptr_t)pd3 | PTE_P;
    for (unsigned i = 0; i < 4; i++) {
        pdpt_bad[i] = pdpt_pae[i];
        pdpt_np[i] = pdpt_pae[i];
    }
    pdpt_bad[1] |= PTE_RW; /* R/W is reserved in a PAE PDPTE */
    pdpt_np[2] = 0;
    for (unsigned i = 0; i < 512; i++) {
        pd3[i] = guest_pd[1536 + i];
        pt_pae[i] = 0;
    }
    pd3[0] = (uint64_t)(uintptr_t)pt_pae | PTE_P | PTE_RW;
    pd3[1] = PA_BIG | PTE_P | PTE_RW | PTE_PS;
    pd3[2] = PA_BIG | (1u << 13) | PTE_P | PTE_RW | PTE_PS;
    pt_pae[0] = PA(pages[0]) | PTE_P | PTE_RW;
    pt_pae[1] = PA(pages[0]) | PTE_P | PTE_RW;
    pt_pae[2] = PA(pages[1]);
    pt_pae[3] = PA(pages[1]) | PTE_P;
    pt_pae[4] = PA(pages[8]) | PTE_P | PTE_NX;
    pt_pae[5] = PA(pages[8]) | PTE_P;
    pt_pae[6] = PA(pages[2]) | (1ull << 40) | PTE_P | PTE_RW; /* above MAXPHYADDR 40 */
    pt_pae[7] = PA(pages[6]) | PTE_P | PTE_RW;
    pt_pae[8] = PA(pages[7]) | PTE_RW;
    pt_pae[9] = PA(pages[3]) | PTE_P | PTE_RW;
    pt_pae[10] = PA(pages[9]) | PTE_P | PTE_RW;
    pt_pae[11] = PA(pages[5]) | PTE_RW;
    fill_pages();
    put_mov_ret(pages[8] + 0x20, 0xAEAEAEAE);
    nops = 0;

    unsigned o_wr = op(OP_WR32, VP(0) + 0x10, 0x5E5E5E5E);
    unsigned o_alias = op(OP_RD32, VP(1) + 0x10, 0);
    unsigned o_np_rd = op(OP_RD32, VP(2) + 0x123, 0);
    unsigned o_np_wr = op(OP_WR32, VP(2) + 0x456, 1);
    unsigned o_ro_wr = op(OP_WR32, VP(3) + 0x20, 1);
    unsigned o_nx = op(OP_EXEC, VP(4) + 0x20, 0);
    unsigned o_x = op(OP_EXEC, VP(5) + 0x20, 0);
    op(OP_EFER_AND, 0, ~EFER_NXE);
    op(OP_INVLPG, VP(4), 0);
    unsigned o_nxe0 = op(OP_RD32, VP(4) + 0x20, 0);
    unsigned o_nxe0_fetch = op(OP_EXEC, VP(2), 0);
    op(OP_EFER_OR, 0, EFER_NXE);
    op(OP_INVLPG, VP(4), 0);
    unsigned o_rsvd_rd = op(OP_RD32, VP(6) + 8, 0);
    /* Bit 52 is ignored in IA-32e entries but reserved in PAE ones (Table 4-11). */
    op(OP_WR32, PA(&pt_pae[6]) + 4, 1u << 20);
    op(OP_WR32, PA(&pt_pae[6]), PA(pages[2]) | PTE_P | PTE_RW);
    op(OP_INVLPG, VP(6), 0);
    unsigned o_rsvd52 = op(OP_RD32, VP(6) + 8, 0);
    op(OP_WR32, PA(&pt_pae[6]) + 4, 1u << 8);
    unsigned o_rsvd_wr = op(OP_WR32, VP(6) + 8, 0);
    unsigned o_big_wr = op(OP_WR32, TP + (1u << 21) + 0x1238, 0x2B2B2B2B);
    unsigned o_big_rd = op(OP_RD32, PA_BIG + 0x1238, 0);
    unsigned o_big_rsvd = op(OP_RD32, TP + (2u << 21) + 0x10, 0);
    unsigned o_ad_rd = op(OP_RD32, VP(7) + 8, 0);
    unsigned o_ad_pte1 = op(OP_RD32, PA(&pt_pae[7]), 0);
    unsigned o_ad_wr = op(OP_WR32, VP(7) + 8, 5);
    unsigned o_ad_pte2 = op(OP_RD32, PA(&pt_pae[7]), 0);
    unsigned o_cross = op(OP_WR16, VP(8) - 1, 0x9999);
    unsigned o_cross_chk = op(OP_RD32, VP(8) - 4, 0);
    unsigned o_inv1 = op(OP_RD32, VP(9) + 0x30, 0);
    op(OP_WR32, PA(&pt_pae[9]), PA(pages[4]) | PTE_P | PTE_RW);
    op(OP_INVLPG, VP(9), 0);
    unsigned o_inv2 = op(OP_RD32, VP(9) + 0x30, 0);
    op(OP_FIXUP, PA(&pt_pae[11]), 0);
    unsigned o_fix = op(OP_WR32, VP(11) + 0x44, 0xF1F1F1F1);
    unsigned o_fixn = op(OP_RD32, PA(&p32_fixups), 0);
    unsigned o_bad_cr3 = op(OP_CR3, PA(pdpt_bad), 0);
    unsigned o_cr3_kept = op(OP_RD_CR3, 0, 0);
    unsigned o_after_bad = op(OP_RD32, VP(10) + 0x60, 0);
    unsigned o_np_cr3 = op(OP_CR3, PA(pdpt_np), 0);
    unsigned o_np_pdpte = op(OP_RD32, 0x80000010u, 0);
    op(OP_CR3, PA(pdpt_pae), 0);
    unsigned o_np_back = op(OP_RD32, 0x80000010u, 0);
    unsigned o_hpet = op(OP_RD32, 0xFED00004u, 0);
    p32_fixups = 0;
    run_script(PA(pdpt_pae), CR4_PAE);

    CHECK("pae.back_in_long_mode", rdmsr(0xC0000080) & (1u << 10));
    expect_ok("pae.write_4k", o_wr);
    expect_val("pae.alias_read", o_alias, 0x5E5E5E5E);
    expect_pf("pae.np_read_err0_cr2", o_np_rd, 0, VP(2) + 0x123);
    expect_pf("pae.np_write_errW_cr2", o_np_wr, PF_W, VP(2) + 0x456);
    expect_pf("pae.ro_write_errWP", o_ro_wr, PF_W | PF_P, VP(3) + 0x20);
    expect_pf("pae.nx_fetch_errIP", o_nx, PF_I | PF_P, VP(4) + 0x20);
    expect_val("pae.exec_4k", o_x, 0xAEAEAEAE);
    expect_pf("pae.nxe0_xd_is_rsvd", o_nxe0, PF_RSVD | PF_P, VP(4) + 0x20);
    expect_pf("pae.nxe0_np_fetch_no_I", o_nxe0_fetch, 0, VP(2));
    expect_pf("pae.rsvd_above_maxphyaddr_read", o_rsvd_rd, PF_RSVD | PF_P, VP(6) + 8);
    expect_pf("pae.bit52_reserved", o_rsvd52, PF_RSVD | PF_P, VP(6) + 8);
    expect_pf("pae.rsvd_above_maxphyaddr_write", o_rsvd_wr, PF_RSVD | PF_W | PF_P, VP(6) + 8);
    expect_ok("pae.page_2m_write", o_big_wr);
    expect_val("pae.page_2m_lands", o_big_rd, 0x2B2B2B2B);
    expect_pf("pae.page_2m_bit13_rsvd", o_big_rsvd, PF_RSVD | PF_P, TP + (2u << 21) + 0x10);
    expect_val("pae.ad_read", o_ad_rd, 0x26262626u + 8);
    check("pae.read_sets_A_not_D", (res[o_ad_pte1].val & (PTE_A | PTE_D)) == PTE_A, "pte 0x%x",
          res[o_ad_pte1].val);
    expect_ok("pae.ad_write", o_ad_wr);
    check("pae.write_sets_D", (res[o_ad_pte2].val & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "pte 0x%x",
          res[o_ad_pte2].val);
    expect_pf("pae.cross_store16_np_second", o_cross, PF_W, VP(8));
    expect_val("pae.cross_store16_first_untouched", o_cross_chk, 0x26262626u + PG - 4);
    expect_val("pae.invlpg_before", o_inv1, pg32(3, 0x30));
    expect_val("pae.invlpg_new_translation", o_inv2, pg32(4, 0x30));
    expect_ok("pae.fixup_resume_write", o_fix);
    CHECK_EQ("pae.fixup_write_landed", pg32(5, 0x44), 0xF1F1F1F1u);
    expect_val("pae.fixup_handler_ran_once", o_fixn, 1);
    check("pae.pdpte_rsvd_mov_cr3_gp0", res[o_bad_cr3].vec == 13 && res[o_bad_cr3].err == 0,
          "vec 0x%x err 0x%x", res[o_bad_cr3].vec, res[o_bad_cr3].err);
    expect_val("pae.pdpte_rsvd_cr3_unchanged", o_cr3_kept, PA(pdpt_pae));
    expect_val("pae.pdpte_rsvd_paging_still_works", o_after_bad, pg32(9, 0x60));
    expect_ok("pae.pdpte_not_present_cr3_ok", o_np_cr3);
    expect_pf("pae.pdpte_not_present_pf", o_np_pdpte, 0, 0x80000010u);
    expect_val("pae.pdpte_restored", o_np_back, *(volatile uint32_t *)0x80000010ull);
    expect_val("pae.hpet_period_identity_2m", o_hpet, *(volatile uint32_t *)0xFED00004ull);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    idt32_init();
    test_paging32();
    test_pae();
    test_finish();
}
