/* A small long-mode kernel running ring-3 code: SYSCALL services (write a line, read a counter,
 * read the timer tick count, exit back to the kernel), demand paging (the kernel maps a page
 * when user code touches it and the faulting instruction is restarted), LAPIC timer interrupts
 * taken in ring 3 (counted, with the user computation unharmed), and a privileged instruction
 * in ring 3 (#GP ends the user program, the kernel goes on). */
#include "guest.h"

#define MSR_EFER 0xC0000080
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_SFMASK 0xC0000084
#define EFER_SCE 1u
/* SYSCALL: CS 0x08, SS 0x10; SYSRET (64-bit): CS 0x2B, SS 0x23 (guest_gdt). */
#define STAR_VALUE 0x0018000800000000ull
#define SFMASK_VALUE 0x47700ull /* TF, IF, DF, NT, AC, IOPL */

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define VEC_TIMER 0x40

enum { SYS_WRITE = 1, SYS_COUNTER = 2, SYS_TICKS = 3, SYS_EXIT = 60 };

/* Demand-paged user region: 4 GiB up, beyond the boot identity map (PDPT[4] empty). */
#define DEMAND_BASE 0x100000000ull
#define DEMAND_PAGES 8

/* Set by the assembly entry points and the C handlers. */
volatile uint64_t kernel_saved_rsp, sc_user_rsp, sc_rcx, sc_r11;
volatile uint64_t counter, ticks, ticks_in_ring3, timer_bad_frames;
volatile uint64_t pf_count, pf_last_err, pf_last_cr2, gp_from_user, gp_err;
uint8_t syscall_stack[8192] __attribute__((aligned(16)));
uint8_t user_stack3[16384] __attribute__((aligned(16)));
static uint64_t demand_pd[512] __attribute__((aligned(4096)));
static uint64_t demand_pt[512] __attribute__((aligned(4096)));
static uint8_t demand_frames[DEMAND_PAGES][4096] __attribute__((aligned(4096)));
static unsigned demand_used;

/* What the user programs saw (user memory: the identity map is user-accessible). */
volatile uint64_t u_cs, u_counter[3], u_sum, u_expect_sum, u_regs_ok, u_ticks_seen, u_rip_ok;

long enter_user(void (*fn)(void), void *stack_top);
void syscall_entry(void);
void user_abort(void);
extern char u_syscall_ret[];
long user_syscall(long nr, long a0, long a1);

__asm__(
    "   .text\n"
    /* long enter_user(fn, stack_top): runs fn at CPL 3 with IF=1; returns the SYS_EXIT code. */
    "   .globl enter_user\n"
    "enter_user:\n"
    "   pushq %rbx\n"
    "   pushq %rbp\n"
    "   pushq %r12\n"
    "   pushq %r13\n"
    "   pushq %r14\n"
    "   pushq %r15\n"
    "   movq %rsp, kernel_saved_rsp(%rip)\n"
    "   pushq $0x23\n"
    "   pushq %rsi\n"
    "   pushq $0x202\n"
    "   pushq $0x2B\n"
    "   pushq %rdi\n"
    "   iretq\n"
    /* Back in the kernel (IF=0): the exit code in RAX. */
    "   .globl user_abort\n"
    "user_abort:\n"
    "   movq kernel_saved_rsp(%rip), %rsp\n"
    "   popq %r15\n"
    "   popq %r14\n"
    "   popq %r13\n"
    "   popq %r12\n"
    "   popq %rbp\n"
    "   popq %rbx\n"
    "   ret\n"
    /* LSTAR. RAX = number, RDI/RSI = arguments; RCX, R11 and RAX are clobbered, the rest kept. */
    "   .globl syscall_entry\n"
    "syscall_entry:\n"
    "   movq %rsp, sc_user_rsp(%rip)\n"
    "   leaq syscall_stack+8192(%rip), %rsp\n"
    "   movq %rcx, sc_rcx(%rip)\n"
    "   movq %r11, sc_r11(%rip)\n"
    "   cmpq $60, %rax\n"
    "   jne 1f\n"
    "   movq %rdi, %rax\n"
    "   jmp user_abort\n"
    "1: pushq sc_user_rsp(%rip)\n"
    "   pushq %rcx\n"
    "   pushq %r11\n"
    "   pushq %rdi\n"
    "   pushq %rsi\n"
    "   pushq %rdx\n"
    "   pushq %r8\n"
    "   pushq %r9\n"
    "   pushq %r10\n"
    "   subq $8, %rsp\n"
    "   movq %rsi, %rdx\n"
    "   movq %rdi, %rsi\n"
    "   movq %rax, %rdi\n"
    "   call syscall_dispatch\n"
    "   addq $8, %rsp\n"
    "   popq %r10\n"
    "   popq %r9\n"
    "   popq %r8\n"
    "   popq %rdx\n"
    "   popq %rsi\n"
    "   popq %rdi\n"
    "   popq %r11\n"
    "   popq %rcx\n"
    "   popq %rsp\n"
    "   sysretq\n"
    /* User side: long user_syscall(nr, a0, a1). */
    "   .globl user_syscall, u_syscall_ret\n"
    "user_syscall:\n"
    "   movq %rdi, %rax\n"
    "   movq %rsi, %rdi\n"
    "   movq %rdx, %rsi\n"
    "   syscall\n"
    "u_syscall_ret:\n"
    "   ret\n");

long syscall_dispatch(long nr, long a0, long a1);

/* Kernel services. User pointers are checked against the user-visible range before use. */
long syscall_dispatch(long nr, long a0, long a1)
{
    switch (nr) {
    case SYS_WRITE: {
        const char *s = (const char *)(uintptr_t)a0;
        if (a1 < 0 || a1 > 200 || (uint64_t)a0 >= (4ull << 30))
            return -1;
        for (long k = 0; k < a1; k++)
            serial_putc(s[k]);
        return a1;
    }
    case SYS_COUNTER: return (long)++counter;
    case SYS_TICKS: return (long)ticks;
    }
    return -1;
}

static __attribute__((noreturn)) void user_exit(long code)
{
    user_syscall(SYS_EXIT, code, 0);
    __builtin_unreachable();
}

static long user_write(const char *s)
{
    long n = 0;
    while (s[n])
        n++;
    return user_syscall(SYS_WRITE, (long)(uintptr_t)s, n);
}

/* ---- user programs (CPL 3) ---- */

static void user_services(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    u_cs = cs;
    user_write("USER: hello from ring 3\n");
    for (unsigned k = 0; k < 3; k++)
        u_counter[k] = (uint64_t)user_syscall(SYS_COUNTER, 0, 0);
    /* Registers the syscall ABI keeps must come back unchanged. */
    uint64_t rdi = 0x1111, rsi = 0x2222, rdx = 0x3333, r8v = 0x4444, r12v = 0x5555;
    register uint64_t r8 __asm__("r8") = r8v;
    register uint64_t r12 __asm__("r12") = r12v;
    uint64_t rax = SYS_COUNTER;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8), "+r"(r12)
                     :
                     : "rcx", "r11", "memory");
    u_regs_ok = rdi == 0x1111 && rsi == 0x2222 && rdx == 0x3333 && r8 == r8v && r12 == r12v;
    user_exit(42);
}

static void user_demand(void)
{
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)DEMAND_BASE;
    uint64_t sum = 0, expect = 0;
    for (unsigned pg = 0; pg < 3; pg++)
        for (unsigned k = 0; k < 512; k += 64) {
            uint64_t v = (uint64_t)pg * 1000003u + k;
            p[pg * 512 + k] = v;
            expect += v;
        }
    for (unsigned pg = 0; pg < 3; pg++)
        for (unsigned k = 0; k < 512; k += 64)
            sum += p[pg * 512 + k];
    u_sum = sum;
    u_expect_sum = expect;
    user_exit(7);
}

/* A register-heavy loop that runs while timer interrupts arrive: any register the interrupt
 * path failed to restore shows in the result. */
static void user_timer(void)
{
    uint64_t a = 1, b = 2, c = 3, d = 5, n = 0;
    uint64_t t0 = (uint64_t)user_syscall(SYS_TICKS, 0, 0);
    while ((uint64_t)user_syscall(SYS_TICKS, 0, 0) < t0 + 5 && n < 2000000) {
        for (unsigned k = 0; k < 1000; k++) {
            a += b ^ k;
            b = (b << 1 | b >> 63) + c;
            c ^= a + d;
            d = d * 3 + 1;
        }
        n++;
    }
    u_ticks_seen = (uint64_t)user_syscall(SYS_TICKS, 0, 0) - t0;
    /* Recompute without interruptions being possible to tell apart: same arithmetic. */
    uint64_t a2 = 1, b2 = 2, c2 = 3, d2 = 5;
    for (uint64_t m = 0; m < n; m++)
        for (unsigned k = 0; k < 1000; k++) {
            a2 += b2 ^ k;
            b2 = (b2 << 1 | b2 >> 63) + c2;
            c2 ^= a2 + d2;
            d2 = d2 * 3 + 1;
        }
    u_sum = a ^ b ^ c ^ d;
    u_expect_sum = a2 ^ b2 ^ c2 ^ d2;
    user_exit(9);
}

static void user_hlt(void)
{
    __asm__ volatile("hlt");
    user_exit(1);
}

/* ---- kernel handlers ---- */

static bool on_timer(struct trap_frame *f)
{
    ticks++;
    if ((f->cs & 3) == 3) {
        ticks_in_ring3++;
        if (f->ss != 0x23 || f->rsp < (uint64_t)(uintptr_t)user_stack3 ||
            f->rsp > (uint64_t)(uintptr_t)(user_stack3 + sizeof(user_stack3)))
            timer_bad_frames++;
    }
    LAPIC(0xB0) = 0;
    return true;
}

/* Demand paging: a user fault in the demand region gets a fresh zeroed frame, and the
 * faulting instruction runs again. */
static bool on_page_fault(struct trap_frame *f)
{
    uint64_t cr2 = read_cr2();
    if ((f->cs & 3) != 3 || cr2 < DEMAND_BASE || cr2 >= DEMAND_BASE + DEMAND_PAGES * 4096ull ||
        demand_used == DEMAND_PAGES)
        return false;
    pf_count++;
    pf_last_err = f->error_code;
    pf_last_cr2 = cr2;
    if (!guest_pdpt[4]) {
        guest_pdpt[4] = (uint64_t)(uintptr_t)demand_pd | 7;
        demand_pd[0] = (uint64_t)(uintptr_t)demand_pt | 7;
    }
    uint8_t *frame = demand_frames[demand_used++];
    memset(frame, 0, 4096);
    demand_pt[(cr2 - DEMAND_BASE) >> 12] = (uint64_t)(uintptr_t)frame | 7;
    invlpg(cr2);
    return true;
}

static bool on_gp(struct trap_frame *f)
{
    if ((f->cs & 3) != 3)
        return false;
    gp_from_user++;
    gp_err = f->error_code;
    f->rax = (uint64_t)-13;
    f->rip = (uint64_t)(uintptr_t)user_abort;
    f->cs = 0x08;
    f->ss = 0x10;
    f->rflags = 2;
    f->rsp = kernel_saved_rsp;
    return true;
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, STAR_VALUE);
    wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
    wrmsr(MSR_SFMASK, SFMASK_VALUE);
    trap_set_handler(VEC_TIMER, on_timer);
    trap_set_handler(14, on_page_fault);
    trap_set_handler(13, on_gp);
    void *ustack = user_stack3 + sizeof(user_stack3);

    /* SYSCALL services. */
    long r = enter_user(user_services, ustack);
    CHECK_EQ("ring3_exit_code", r, 42);
    CHECK_EQ("ring3_cs_rpl3", u_cs, 0x2B);
    CHECK("syscall_counter_values", u_counter[0] == 1 && u_counter[1] == 2 && u_counter[2] == 3);
    CHECK_EQ("syscall_rcx_is_user_return_rip", sc_rcx, (uint64_t)(uintptr_t)u_syscall_ret);
    CHECK("syscall_r11_is_user_rflags", (sc_r11 & 0x200) && (sc_r11 & 2));
    CHECK_EQ("syscall_preserves_abi_registers", u_regs_ok, 1);
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    CHECK_EQ("kernel_back_at_cpl0", cs, 0x08);

    /* Demand paging from ring 3. */
    u_sum = 0;
    u_expect_sum = 1;
    r = enter_user(user_demand, ustack);
    CHECK_EQ("demand_exit_code", r, 7);
    CHECK_EQ("demand_one_fault_per_page", pf_count, 3);
    CHECK_EQ("demand_fault_error_user_write", pf_last_err, 6); /* U|W, not present */
    CHECK_EQ("demand_fault_cr2", pf_last_cr2 & ~0xFFFull, DEMAND_BASE + 2 * 4096);
    CHECK_EQ("demand_data_after_restart", u_sum, u_expect_sum);
    CHECK_EQ("demand_kernel_sees_user_data",
             *(volatile uint64_t *)(uintptr_t)(DEMAND_BASE + 4096 + 64 * 8), 1000003u + 64);

    /* LAPIC timer interrupts while in ring 3. */
    LAPIC(0xF0) = 0x1FF;
    LAPIC(0x3E0) = 0xB;                      /* divide by 1 */
    LAPIC(0x320) = VEC_TIMER | (1u << 17);   /* periodic */
    LAPIC(0x380) = 200000;                   /* 200 us */
    u_sum = 0;
    u_expect_sum = 1;
    r = enter_user(user_timer, ustack);
    LAPIC(0x320) = 1u << 16; /* masked */
    LAPIC(0x380) = 0;
    CHECK_EQ("timer_exit_code", r, 9);
    CHECK("timer_ticks_in_ring3", ticks_in_ring3 >= 5);
    CHECK("timer_ticks_seen_by_user", u_ticks_seen >= 5);
    CHECK_EQ("timer_frames_from_user_stack", timer_bad_frames, 0);
    CHECK_EQ("timer_user_computation_intact", u_sum, u_expect_sum);

    /* A privileged instruction ends the user program; the kernel carries on. */
    r = enter_user(user_hlt, ustack);
    CHECK_EQ("ring3_hlt_gp_returns_to_kernel", r, -13);
    CHECK_EQ("ring3_hlt_gp_error_code", gp_err, 0);
    CHECK_EQ("ring3_gp_counted", gp_from_user, 1);
    test_finish();
}
