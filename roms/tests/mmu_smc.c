/* Self-modifying code: stores into code that was already decoded must take effect on the next
 * execution (SDM Vol 3 11.6), whether the store is in the same block as the patched instruction,
 * on the page before it, through another virtual alias, by a string instruction or by a store
 * that straddles two code pages. */
#include "guest.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PG 4096ull

/* Alias region: PML4 slot 1 (VA 512 GiB), 4 KiB pages. */
#define TB 0x8000000000ull
#define VA(i) (TB + (uint64_t)(i) * PG)

static uint64_t pdpt_a[512] __attribute__((aligned(4096)));
static uint64_t pd_a[512] __attribute__((aligned(4096)));
static uint64_t pt_a[512] __attribute__((aligned(4096)));
/* Code buffers: the identity map is writable and executable everywhere. */
static uint8_t buf[4][4096] __attribute__((aligned(4096)));

typedef uint32_t (*fn_u32)(void);
typedef uint32_t (*fn_u32_arg)(uint32_t);

/* Hand-placed code (in .data: its pages hold nothing the compiler emits). */
uint32_t smc_target(void);      /* mov eax, imm32; ret: first bytes of a page */
uint32_t smc_writer(uint32_t);  /* last bytes of the page before: patches smc_target's imm */
uint32_t smc_fallthru(uint32_t); /* patches the instruction right after it, across the page end */
uint32_t smc_next(uint32_t);    /* patches the next instruction in the same block */
uint32_t smc_next_op(void);     /* turns the next instruction from a 2-byte jmp into inc eax */
uint32_t smc_loop(uint32_t);    /* loop whose body is patched by itself on iteration 3 */
uint32_t smc_straddle(void);    /* mov eax, imm32 straddling a page boundary */
__asm__(".section .data.smc, \"awx\"\n"
        ".balign 4096\n"
        "smc_page0:\n"
        ".skip 4096 - 64\n"
        /* smc_writer: store the new imm into smc_target on the next page. */
        ".globl smc_writer\n"
        "smc_writer:\n"
        "  movl %edi, smc_target+1(%rip)\n"
        "  movl $1, %eax\n"
        "  ret\n"
        /* smc_fallthru: the store ends the page; the instruction it patches starts the next one. */
        ".skip 4096 - 6 - (. - smc_page0), 0x90\n"
        ".globl smc_fallthru\n"
        "smc_fallthru:\n"
        "  movl %edi, smc_fallthru_insn+1(%rip)\n"
        "smc_fallthru_insn:\n"
        "  movl $0, %eax\n"
        "  ret\n"
        ".balign 64\n"
        ".globl smc_target\n"
        "smc_target:\n"
        "  movl $7, %eax\n"
        "  ret\n"
        ".balign 64\n"
        ".globl smc_next\n"
        "smc_next:\n"
        "  movl %edi, 1f+1(%rip)\n"
        "1:  movl $0, %eax\n"
        "  ret\n"
        ".balign 64\n"
        ".globl smc_next_op\n"
        "smc_next_op:\n"
        "  xorl %eax, %eax\n"
        "  movw $0xC0FF, 1f(%rip)\n" /* FF C0 = inc eax */
        "1:  jmp 2f\n"                /* EB 00 */
        "2:  ret\n"
        ".balign 64\n"
        ".globl smc_next_op_reset\n"
        "smc_next_op_reset:\n"
        "  movw $0x00EB, 1b(%rip)\n"
        "  ret\n"
        ".balign 64\n"
        /* smc_loop(n): eax counts iterations; on the third it rewrites the add's imm8 from 1 to 100. */
        ".globl smc_loop\n"
        "smc_loop:\n"
        "  xorl %eax, %eax\n"
        "  movl %edi, %ecx\n"
        "3:  cmpl $3, %ecx\n"
        "  jne 4f\n"
        "  movb $100, 5f+2(%rip)\n"
        "4:\n"
        "5:  addl $1, %eax\n" /* 83 C0 01 */
        "  decl %ecx\n"
        "  jnz 3b\n"
        "  movb $1, 5b+2(%rip)\n"
        "  ret\n"
        ".balign 64\n"
        /* smc_count_loop(n): increments a counter on its own code page n times. */
        ".globl smc_count_loop\n"
        "smc_count_loop:\n"
        "  movl $0, smc_counter(%rip)\n"
        "6:  incl smc_counter(%rip)\n"
        "  addl $2, smc_counter2(%rip)\n"
        "  decl %edi\n"
        "  jnz 6b\n"
        "  movl smc_counter(%rip), %eax\n"
        "  addl smc_counter2(%rip), %eax\n"
        "  ret\n"
        ".balign 64\n"
        "smc_counter:\n"
        "  .long 0\n"
        "smc_counter2:\n"
        "  .long 0\n"
        ".balign 4096\n"
        "smc_page2:\n"
        ".skip 4096 - 2\n"
        ".globl smc_straddle\n"
        "smc_straddle:\n"
        "  movl $0x11223344, %eax\n"
        "  ret\n"
        ".balign 4096\n"
        ".text\n");
void smc_next_op_reset(void);
uint32_t smc_count_loop(uint32_t n);
extern uint8_t smc_target_bytes[] __asm__("smc_target");
extern uint8_t smc_straddle_bytes[] __asm__("smc_straddle");

static void put_mov_ret(volatile uint8_t *p, uint32_t imm)
{
    p[0] = 0xB8;
    p[1] = (uint8_t)imm;
    p[2] = (uint8_t)(imm >> 8);
    p[3] = (uint8_t)(imm >> 16);
    p[4] = (uint8_t)(imm >> 24);
    p[5] = 0xC3;
}

static void test_patch_imm(void)
{
    volatile uint8_t *code = buf[0] + 0x100;
    fn_u32 f = (fn_u32)(uintptr_t)code;
    put_mov_ret(code, 0x1111);
    CHECK_EQ("smc.first_run", f(), 0x1111);
    CHECK_EQ("smc.second_run_cached", f(), 0x1111);
    *(volatile uint32_t *)(code + 1) = 0x2222;
    CHECK_EQ("smc.patched_imm", f(), 0x2222);
    /* A byte store to one byte of the immediate. */
    code[2] = 0x33;
    CHECK_EQ("smc.patched_one_byte", f(), 0x3322);
    /* Many runs, then a patch: a hot block is invalidated as well. */
    uint32_t sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += f();
    *(volatile uint32_t *)(code + 1) = 5;
    CHECK("smc.patched_after_hot_loop", sum == 1000u * 0x3322 && f() == 5);
    /* Replace the whole instruction by a different one: xor eax,eax; inc eax; ret. */
    code[0] = 0x31;
    code[1] = 0xC0;
    code[2] = 0xFF;
    code[3] = 0xC0;
    code[4] = 0xC3;
    CHECK_EQ("smc.replaced_instruction", f(), 1);
    /* A store elsewhere on the same page must not break the cached code. */
    buf[0][0x800] = 0x5A;
    CHECK_EQ("smc.store_same_page_other_bytes", f(), 1);
}

static void test_cross_page_writer(void)
{
    CHECK_EQ("smc.next_page_target_before", smc_target(), 7);
    smc_writer(0xABC);
    CHECK_EQ("smc.next_page_target_patched", smc_target(), 0xABC);
    smc_writer(0xDEF);
    CHECK_EQ("smc.next_page_target_repatched", smc_target(), 0xDEF);
    CHECK_EQ("smc.fallthru_across_page_first", smc_fallthru(41), 41);
    CHECK_EQ("smc.fallthru_across_page_second", smc_fallthru(42), 42);
}

static void test_next_insn(void)
{
    CHECK_EQ("smc.next_insn_imm_1", smc_next(0x1234), 0x1234);
    CHECK_EQ("smc.next_insn_imm_2", smc_next(0x5678), 0x5678);
    smc_next_op_reset();
    CHECK_EQ("smc.next_insn_opcode", smc_next_op(), 1);
    smc_next_op_reset();
    CHECK_EQ("smc.next_insn_opcode_again", smc_next_op(), 1);
    /* 5 iterations: 1 + 1 (counts 5, 4) then 100 x 3 (counts 3, 2, 1). */
    CHECK_EQ("smc.loop_patches_own_body", smc_loop(5), 302);
    CHECK_EQ("smc.loop_restored", smc_loop(2), 2);
    /* Data stores to the page of the running loop (not to its bytes) must not disturb it. */
    CHECK_EQ("smc.loop_writes_own_page_data", smc_count_loop(1000), 3000);
    CHECK_EQ("smc.loop_writes_own_page_data_again", smc_count_loop(7), 7 + 2000 + 14);
}

static void map_alias(unsigned i, uint64_t pa, uint64_t flags)
{
    pt_a[i] = pa | flags;
    invlpg(VA(i));
}

static void test_alias(void)
{
    guest_pml4[1] = (uint64_t)(uintptr_t)pdpt_a | PTE_P | PTE_RW;
    pdpt_a[0] = (uint64_t)(uintptr_t)pd_a | PTE_P | PTE_RW;
    pd_a[0] = (uint64_t)(uintptr_t)pt_a | PTE_P | PTE_RW;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    map_alias(0, (uint64_t)(uintptr_t)buf[1], PTE_P | PTE_RW);
    map_alias(1, (uint64_t)(uintptr_t)buf[1], PTE_P | PTE_RW);

    volatile uint8_t *wa = (volatile uint8_t *)(uintptr_t)(VA(0) + 0x40);
    fn_u32 fb = (fn_u32)(uintptr_t)(VA(1) + 0x40);
    fn_u32 fid = (fn_u32)(uintptr_t)(buf[1] + 0x40);
    put_mov_ret(wa, 0x100);
    CHECK_EQ("smc.alias_exec_b", fb(), 0x100);
    CHECK_EQ("smc.alias_exec_identity", fid(), 0x100);
    *(volatile uint32_t *)(wa + 1) = 0x200;
    CHECK_EQ("smc.alias_write_a_exec_b", fb(), 0x200);
    CHECK_EQ("smc.alias_write_a_exec_identity", fid(), 0x200);
    *(volatile uint32_t *)(buf[1] + 0x41) = 0x300;
    CHECK_EQ("smc.identity_write_exec_b", fb(), 0x300);
    /* Executing through B, then writing through B itself. */
    *(volatile uint32_t *)(VA(1) + 0x41) = 0x400;
    CHECK_EQ("smc.alias_write_b_exec_b", fb(), 0x400);
    CHECK_EQ("smc.alias_write_b_exec_a", ((fn_u32)(uintptr_t)(VA(0) + 0x40))(), 0x400);
    /* Remap B to a page with different code: the decoded code follows the physical page. */
    put_mov_ret(buf[2] + 0x40, 0x500);
    map_alias(1, (uint64_t)(uintptr_t)buf[2], PTE_P | PTE_RW);
    CHECK_EQ("smc.alias_remapped_runs_new_page", fb(), 0x500);
    map_alias(1, (uint64_t)(uintptr_t)buf[1], PTE_P | PTE_RW);
    CHECK_EQ("smc.alias_mapped_back", fb(), 0x400);
    /* A read-only alias for execution, written through the writable one. */
    map_alias(2, (uint64_t)(uintptr_t)buf[1], PTE_P);
    fn_u32 fro = (fn_u32)(uintptr_t)(VA(2) + 0x40);
    CHECK_EQ("smc.ro_alias_exec", fro(), 0x400);
    *(volatile uint32_t *)(wa + 1) = 0x600;
    CHECK_EQ("smc.ro_alias_sees_write", fro(), 0x600);
    guest_pml4[1] = 0;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

static void test_string_copy(void)
{
    volatile uint8_t *code = buf[3] + 0x200;
    fn_u32 f = (fn_u32)(uintptr_t)code;
    put_mov_ret(code, 0xAAA);
    CHECK_EQ("smc.movsb_before", f(), 0xAAA);
    static uint8_t newcode[6];
    put_mov_ret(newcode, 0xBBB);
    void *d = (void *)code;
    const void *s = newcode;
    size_t n = sizeof(newcode);
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    CHECK_EQ("smc.rep_movsb_new_code", f(), 0xBBB);
    /* rep stosb over the code: a run of 'inc eax' (FF C0 pairs are two bytes; use 0x90 nops). */
    code[0] = 0x31; /* xor eax, eax */
    code[1] = 0xC0;
    code[2] = 0xC3;
    CHECK_EQ("smc.stos_before", f(), 0);
    d = (void *)code;
    n = 2;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(0x90) : "memory"); /* nop nop; ret */
    uint32_t r;
    __asm__ volatile("movl $0x77, %%eax; call *%1" : "=&a"(r) : "r"(f) : "memory", "rcx", "rdx", "rsi", "rdi",
                     "r8", "r9", "r10", "r11");
    CHECK_EQ("smc.rep_stosb_new_code", r, 0x77);
    /* rep movsq over a larger block of code, with the copy crossing a page boundary. */
    volatile uint8_t *big = buf[2] + PG - 8;
    fn_u32 fb = (fn_u32)(uintptr_t)big;
    for (int i = 0; i < 16; i++)
        big[i] = 0x90;
    put_mov_ret(big + 16, 0xC0DE);
    CHECK_EQ("smc.movsq_cross_before", fb(), 0xC0DE);
    static uint64_t blk[3];
    uint8_t *bb = (uint8_t *)blk;
    for (int i = 0; i < 24; i++)
        bb[i] = 0x90;
    put_mov_ret(bb + 10, 0xF00D);
    d = (void *)big;
    s = blk;
    n = 3;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    CHECK_EQ("smc.rep_movsq_cross_page", fb(), 0xF00D);
}

static void test_straddle(void)
{
    CHECK_EQ("smc.straddle_insn_before", smc_straddle(), 0x11223344);
    /* One 4-byte store covering bytes on both pages of the instruction. */
    *(volatile uint32_t *)(smc_straddle_bytes + 1) = 0x55667788;
    CHECK_EQ("smc.straddle_store_both_pages", smc_straddle(), 0x55667788);
    /* A store to the second page only. */
    smc_straddle_bytes[4] = 0x99;
    CHECK_EQ("smc.straddle_store_second_page", smc_straddle(), 0x99667788);
    /* A store to the first page only. */
    smc_straddle_bytes[1] = 0x00;
    CHECK_EQ("smc.straddle_store_first_page", smc_straddle(), 0x99667700);
}

/* Every kind of store must invalidate decoded code: read-modify-write, atomics, bit ops, MOVNTI,
 * pushes and CALL's return-address store. */
static void test_write_kinds(void)
{
    volatile uint8_t *code = buf[0] + 0x300;
    volatile uint32_t *imm = (volatile uint32_t *)(code + 1);
    fn_u32 f = (fn_u32)(uintptr_t)code;
    put_mov_ret(code, 10);
    CHECK_EQ("smc.kinds_before", f(), 10);
    __asm__ volatile("addl $5, %0" : "+m"(*imm));
    CHECK_EQ("smc.add_mem_imm", f(), 15);
    __asm__ volatile("lock addl $5, %0" : "+m"(*imm));
    CHECK_EQ("smc.lock_add", f(), 20);
    uint32_t x = 30;
    __asm__ volatile("xchgl %0, %1" : "+r"(x), "+m"(*imm));
    CHECK("smc.xchg", x == 20 && f() == 30);
    uint32_t expect = 30, newv = 40;
    __asm__ volatile("lock cmpxchgl %2, %1" : "+a"(expect), "+m"(*imm) : "r"(newv) : "cc");
    CHECK_EQ("smc.lock_cmpxchg", f(), 40);
    uint32_t add = 2;
    __asm__ volatile("lock xaddl %0, %1" : "+r"(add), "+m"(*imm) : : "cc");
    CHECK_EQ("smc.lock_xadd", f(), 42);
    __asm__ volatile("btsl $8, %0" : "+m"(*imm) : : "cc");
    CHECK_EQ("smc.bts_mem", f(), 0x12A);
    __asm__ volatile("incb %0" : "+m"(*(volatile uint8_t *)(code + 1)) : : "cc");
    CHECK_EQ("smc.inc_byte", f(), 0x12B);
    __asm__ volatile("notl %0" : "+m"(*imm));
    CHECK_EQ("smc.not_mem", f(), ~0x12Bu);
    __asm__ volatile("movnti %1, %0" : "=m"(*imm) : "r"(0x777u));
    CHECK_EQ("smc.movnti", f(), 0x777);
    uint64_t q = 0xC300000888B8ull; /* mov eax, 0x888; ret as one qword */
    __asm__ volatile("movq %1, %0" : "=m"(*(volatile uint64_t *)code) : "r"(q));
    CHECK_EQ("smc.qword_store", f(), 0x888);
    /* A PUSH whose stack is the code: point RSP just past the code and push a new mov/ret. */
    uint32_t r;
    __asm__ volatile("movq %%rsp, %%r11\n\t"
                     "leaq 8(%1), %%rsp\n\t"
                     "pushq %2\n\t"
                     "movq %%r11, %%rsp\n\t"
                     "call *%1"
                     : "=a"(r)
                     : "r"(code), "r"(0x0000C300009999B8ull)
                     : "memory", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
    CHECK_EQ("smc.push_onto_code", r, 0x9999);
}

/* The Hyper-V hypercall page is an overlay the hypervisor maps over a guest page (TLFS 3.13):
 * code already decoded from the RAM under it must not run once the overlay is there, and the
 * RAM's code must run again once it is gone. */
#define MSR_GUEST_OS_ID 0x40000000u
#define MSR_HYPERCALL 0x40000001u
static uint8_t hc_page[4096] __attribute__((aligned(4096)));

static uint64_t call_with_rcx(void *fn, uint64_t rcx)
{
    uint64_t rax, rdx = 0;
    __asm__ volatile("call *%3"
                     : "=a"(rax), "+c"(rcx), "+d"(rdx)
                     : "r"(fn)
                     : "memory", "rsi", "rdi", "r8", "r9", "r10", "r11");
    return rax;
}

static void test_overlay(void)
{
    struct cpuid_regs h = cpuid(0x40000000, 0);
    if (h.ebx != 0x7263694D || h.eax < 0x40000001) { /* "Micr" */
        printf("INFO: no Hyper-V interface: overlay checks not run\n");
        return;
    }
    put_mov_ret(hc_page, 0x1234);
    CHECK_EQ("smc.overlay_ram_code_before", call_with_rcx(hc_page, 0xFFFF), 0x1234);
    CHECK_EQ("smc.overlay_ram_code_hot", call_with_rcx(hc_page, 0xFFFF), 0x1234);
    wrmsr(MSR_GUEST_OS_ID, 0x8100000006010000ull);
    wrmsr(MSR_HYPERCALL, (uint64_t)(uintptr_t)hc_page | 1);
    CHECK("smc.overlay_bytes_visible", memcmp(hc_page, "\x0f\x01\xc1\xc3", 4) == 0);
    /* An unknown call code through the page's VMCALL: HV_STATUS_INVALID_HYPERCALL_CODE (2). */
    CHECK_EQ("smc.overlay_replaces_decoded_code", call_with_rcx(hc_page, 0xFFFF), 2);
    wrmsr(MSR_HYPERCALL, 0);
    CHECK_EQ("smc.overlay_removed_ram_code_back", call_with_rcx(hc_page, 0xFFFF), 0x1234);
    wrmsr(MSR_GUEST_OS_ID, 0);
}

/* The same bytes decode differently in 64-bit and compatibility mode (0x40 is REX or INC EAX):
 * decoded code must be kept per mode. compat_call(f) far-calls a 32-bit trampoline that calls f. */
uint32_t compat_call(uint32_t f);
__asm__(".text\n"
        ".code64\n"
        "compat_call:\n"
        "  pushq %rbx\n"
        "  movl %edi, %esi\n"
        "  leaq compat_ptr(%rip), %rax\n"
        "  lcall *(%rax)\n"
        "  popq %rbx\n"
        "  ret\n"
        ".code32\n"
        "compat_tramp:\n"
        "  call *%esi\n"
        "  lret\n"
        ".code64\n"
        ".data\n"
        ".balign 8\n"
        "compat_ptr:\n"
        "  .long compat_tramp\n"
        "  .word 0x18\n"
        ".text\n");

static void test_modes(void)
{
    volatile uint8_t *c = buf[3] + 0x600;
    uint32_t f = (uint32_t)(uintptr_t)c;
    c[0] = 0x31; /* xor eax, eax */
    c[1] = 0xC0;
    c[2] = 0x40; /* 64-bit: REX prefix of the RET; 32-bit: inc eax */
    c[3] = 0xC3;
    CHECK_EQ("smc.mode_64bit_decode", ((uint32_t (*)(void))(uintptr_t)f)(), 0);
    CHECK_EQ("smc.mode_compat_decode_same_bytes", compat_call(f), 1);
    CHECK_EQ("smc.mode_64bit_again", ((uint32_t (*)(void))(uintptr_t)f)(), 0);
    CHECK_EQ("smc.mode_compat_again", compat_call(f), 1);
    c[2] = 0x90; /* nop in both */
    CHECK_EQ("smc.mode_compat_after_patch", compat_call(f), 0);
    c[2] = 0x40;
    CHECK_EQ("smc.mode_compat_after_patch_back", compat_call(f), 1);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    test_patch_imm();
    test_cross_page_writer();
    test_next_insn();
    test_alias();
    test_string_copy();
    test_straddle();
    test_write_kinds();
    test_overlay();
    test_modes();
    test_finish();
}
