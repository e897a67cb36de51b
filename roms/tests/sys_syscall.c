/* Fast system calls in long mode on an Intel CPU: SYSCALL/SYSRET round trips to 64-bit and to
 * compatibility-mode user code, SYSENTER/SYSEXIT with and without REX.W, and the #UD/#GP rules
 * (SYSCALL only in 64-bit mode with EFER.SCE, SYSRET/SYSEXIT only at CPL 0 to canonical
 * addresses, SYSENTER needs IA32_SYSENTER_CS). */
#include "guest.h"

#define MSR_EFER 0xC0000080
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_SFMASK 0xC0000084
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define EFER_SCE 1u

/* STAR: SYSCALL CS 0x08 / SS 0x10; SYSRET base 0x18: CS32 0x1b, SS 0x23, CS64 0x2b. */
#define STAR_VALUE 0x0018000800000000ull
/* Linux's mask: TF, IF, DF, NT, AC (and IOPL). */
#define SFMASK_VALUE 0x47700ull

#define FL_CF 0x1ull
#define FL_DF 0x400ull
#define FL_IF 0x200ull
#define FL_AC 0x40000ull

/* What the kernel entries and the user code saw (written from assembly). */
volatile uint64_t k_cs, k_ss, k_rcx, k_r11, k_fl, k_rsp;
volatile uint64_t u_cs, u_ss, u_fl, u_rsp, u_expect_rcx, u_ran;
uint8_t sysenter_stack[4096] __attribute__((aligned(16)));
uint8_t user_stack[4096] __attribute__((aligned(16)));

void sc_entry64(void);
void se_entry64(void);
void u_syscall64(void *);
void k_sysret_compat(void *);
void k_sysret_compat_syscall(void *);
void k_sysexit64(void *);
void k_sysexit_compat(void *);
void x_syscall(void *);
void x_sysretq(void *);
void x_sysretq_noncanonical(void *);
void x_sysenter(void *);
void x_sysexit(void *);
void x_sysexitq_noncanonical(void *);

__asm__(
    "   .text\n"
    /* LSTAR: ring 0 on the caller's stack. */
    "   .globl sc_entry64\n"
    "sc_entry64:\n"
    "   movq %rcx, k_rcx(%rip)\n"
    "   movq %r11, k_r11(%rip)\n"
    "   movw %cs, k_cs(%rip)\n"
    "   movw %ss, k_ss(%rip)\n"
    "   movq %rsp, k_rsp(%rip)\n"
    "   pushfq\n"
    "   popq k_fl(%rip)\n"
    "   sysretq\n"
    /* SYSENTER_EIP: ring 0 on SYSENTER_ESP; ends the try_call that started the round trip. */
    "   .globl se_entry64\n"
    "se_entry64:\n"
    "   movw %cs, k_cs(%rip)\n"
    "   movw %ss, k_ss(%rip)\n"
    "   movq %rsp, k_rsp(%rip)\n"
    "   pushfq\n"
    "   popq k_fl(%rip)\n"
    "   movq try_saved_rsp(%rip), %rsp\n"
    "   xorl %eax, %eax\n"
    "   jmp try_resume\n"
    /* Ring 3: set AC, DF, CF; SYSCALL; record what SYSRET restored; clean up. */
    "   .globl u_syscall64\n"
    "u_syscall64:\n"
    "   pushfq\n"
    "   orq $0x40400, (%rsp)\n"
    "   popfq\n"
    "   stc\n"
    "   leaq 1f(%rip), %rax\n"
    "   movq %rax, u_expect_rcx(%rip)\n"
    "   movq %rsp, u_rsp(%rip)\n"
    "   syscall\n"
    "1: pushfq\n"
    "   popq u_fl(%rip)\n"
    "   cld\n"
    "   pushfq\n"
    "   andq $~0x40000, (%rsp)\n"
    "   popfq\n"
    "   movw %cs, u_cs(%rip)\n"
    "   movw %ss, u_ss(%rip)\n"
    "   ret\n"
    /* Ring 0: SYSRET (no REX.W) to compatibility mode; RCX's upper half is dropped. */
    "   .globl k_sysret_compat\n"
    "k_sysret_compat:\n"
    "   leaq c32_sysenter(%rip), %rcx\n"
    "   movabsq $0xdead000000000000, %rax\n"
    "   orq %rax, %rcx\n"
    "   movl $0x803, %r11d\n" /* OF, CF */
    "   .byte 0x0f, 0x07\n"
    "   .globl k_sysret_compat_syscall\n"
    "k_sysret_compat_syscall:\n"
    "   leaq c32_syscall(%rip), %rcx\n"
    "   movl $0x2, %r11d\n"
    "   .byte 0x0f, 0x07\n"
    /* Ring 0: SYSEXIT with REX.W to 64-bit code, without to compatibility mode. */
    "   .globl k_sysexit64\n"
    "k_sysexit64:\n"
    "   leaq u64_sysenter(%rip), %rdx\n"
    "   leaq user_stack+4096(%rip), %rcx\n"
    "   .byte 0x48, 0x0f, 0x35\n"
    "   .globl k_sysexit_compat\n"
    "k_sysexit_compat:\n"
    "   leaq c32_sysenter(%rip), %rdx\n"
    "   leaq user_stack+4096(%rip), %rcx\n"
    "   .byte 0x0f, 0x35\n"
    "u64_sysenter:\n"
    "   movw %cs, u_cs(%rip)\n"
    "   movw %ss, u_ss(%rip)\n"
    "   movq %rsp, u_rsp(%rip)\n"
    "   pushfq\n"
    "   popq u_fl(%rip)\n"
    "   movq $1, u_ran(%rip)\n"
    "   sysenter\n"
    /* Single instructions for the fault checks. */
    "   .globl x_syscall, x_sysretq, x_sysretq_noncanonical, x_sysenter, x_sysexit\n"
    "   .globl x_sysexitq_noncanonical\n"
    "x_syscall:\n"
    "   syscall\n"
    "   ret\n"
    "x_sysretq:\n"
    "   sysretq\n"
    "   ret\n"
    "x_sysretq_noncanonical:\n"
    "   movabsq $0x0000800000000000, %rcx\n"
    "   sysretq\n"
    "   ret\n"
    "x_sysenter:\n"
    "   sysenter\n"
    "   ret\n"
    "x_sysexit:\n"
    "   .byte 0x48, 0x0f, 0x35\n"
    "   ret\n"
    "x_sysexitq_noncanonical:\n"
    "   movabsq $0x0000800000000000, %rdx\n"
    "   leaq user_stack+4096(%rip), %rcx\n"
    "   .byte 0x48, 0x0f, 0x35\n"
    "   ret\n"
    /* Compatibility-mode user code (the image sits below 4 GiB). */
    "   .code32\n"
    "c32_sysenter:\n"
    "   movw %cs, u_cs\n"
    "   movw %ss, u_ss\n"
    "   movl %esp, u_rsp\n"
    "   pushfl\n"
    "   popl u_fl\n"
    "   movl $1, u_ran\n"
    "   sysenter\n"
    "c32_syscall:\n"
    "   movw %cs, u_cs\n"
    "   movl $1, u_ran\n"
    "   syscall\n"
    "   .code64\n");

static volatile uint64_t trap_cs, trap_ss;
static bool record_trap(struct trap_frame *f)
{
    trap_cs = f->cs;
    trap_ss = f->ss;
    return false; /* let try_call recover */
}

static void reset_records(void)
{
    k_cs = k_ss = k_rcx = k_r11 = k_fl = k_rsp = 0;
    u_cs = u_ss = u_fl = u_rsp = u_ran = 0;
    trap_cs = trap_ss = 0;
}

static void check_syscall_64(void)
{
    reset_records();
    long r = try_call_user(u_syscall64, 0);
    CHECK_EQ("syscall64_round_trip", r, 0);
    CHECK_EQ("syscall_cs_from_star", k_cs, 0x08);
    CHECK_EQ("syscall_ss_star_plus_8", k_ss, 0x10);
    CHECK_EQ("syscall_rcx_return_rip", k_rcx, u_expect_rcx);
    CHECK_EQ("syscall_r11_rflags", k_r11 & (FL_AC | FL_DF | FL_CF), FL_AC | FL_DF | FL_CF);
    CHECK_EQ("syscall_sfmask_clears", k_fl & SFMASK_VALUE, 0);
    CHECK_EQ("syscall_keeps_unmasked_flags", k_fl & FL_CF, FL_CF);
    CHECK_EQ("syscall_keeps_rsp", k_rsp, u_rsp);
    CHECK_EQ("sysretq_cs_star_plus_16", u_cs, 0x2b);
    CHECK_EQ("sysretq_ss_star_plus_8", u_ss, 0x23);
    CHECK_EQ("sysretq_rflags_from_r11", u_fl & (FL_AC | FL_DF | FL_CF), FL_AC | FL_DF | FL_CF);
}

static void check_sysret_compat(void)
{
    reset_records();
    long r = try_call(k_sysret_compat, 0);
    CHECK_EQ("sysret_compat_then_sysenter", r, 0);
    CHECK_EQ("sysret_compat_ran", u_ran, 1);
    CHECK_EQ("sysret_compat_cs", u_cs, 0x1b);
    CHECK_EQ("sysret_compat_ss", u_ss, 0x23);
    CHECK_EQ("sysret_compat_rflags", u_fl & 0xfff, 0x803);
    CHECK_EQ("sysenter_from_compat_cs", k_cs, 0x08);
    CHECK_EQ("sysenter_from_compat_ss", k_ss, 0x10);
    CHECK_EQ("sysenter_from_compat_rsp", k_rsp, (uint64_t)(uintptr_t)(sysenter_stack + sizeof(sysenter_stack)));

    reset_records();
    trap_set_handler(6, record_trap);
    r = try_call(k_sysret_compat_syscall, 0);
    trap_set_handler(6, 0);
    CHECK_EQ("syscall_in_compat_mode_ud", r, TRAP_CAUGHT | 6);
    CHECK_EQ("syscall_in_compat_mode_ran", u_ran, 1);
    CHECK_EQ("syscall_in_compat_mode_cs", trap_cs, 0x1b);
}

static void check_sysenter_sysexit(void)
{
    reset_records();
    long r = try_call(k_sysexit64, 0);
    CHECK_EQ("sysexit64_round_trip", r, 0);
    CHECK_EQ("sysexit64_ran", u_ran, 1);
    CHECK_EQ("sysexit64_cs_plus_32", u_cs, 0x2b);
    CHECK_EQ("sysexit64_ss_plus_40", u_ss, 0x33);
    CHECK_EQ("sysexit64_rsp_from_rcx", u_rsp, (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack)));
    CHECK_EQ("sysenter64_cs", k_cs, 0x08);
    CHECK_EQ("sysenter64_ss", k_ss, 0x10);
    CHECK_EQ("sysenter64_rsp", k_rsp, (uint64_t)(uintptr_t)(sysenter_stack + sizeof(sysenter_stack)));
    CHECK_EQ("sysenter64_clears_if", k_fl & FL_IF, 0);

    reset_records();
    r = try_call(k_sysexit_compat, 0);
    CHECK_EQ("sysexit_compat_round_trip", r, 0);
    CHECK_EQ("sysexit_compat_ran", u_ran, 1);
    CHECK_EQ("sysexit_compat_cs_plus_16", u_cs, 0x1b);
    CHECK_EQ("sysexit_compat_ss_plus_24", u_ss, 0x23);
    CHECK_EQ("sysexit_compat_esp_from_ecx", u_rsp, (uint32_t)(uintptr_t)(user_stack + sizeof(user_stack)));
}

static void check_faults(uint64_t efer)
{
    wrmsr(MSR_EFER, efer & ~(uint64_t)EFER_SCE);
    long r = try_call(x_syscall, 0);
    wrmsr(MSR_EFER, efer);
    CHECK_EQ("syscall_sce_clear_ud", r, TRAP_CAUGHT | 6);

    r = try_call_user(x_sysretq, 0);
    CHECK_EQ("sysret_ring3_gp", r, TRAP_CAUGHT | 13);
    CHECK_EQ("sysret_ring3_gp_error", trap_last.error_code, 0);

    trap_set_handler(13, record_trap);
    trap_cs = 0;
    r = try_call(x_sysretq_noncanonical, 0);
    CHECK_EQ("sysret_noncanonical_rcx_gp", r, TRAP_CAUGHT | 13);
    CHECK_EQ("sysret_noncanonical_gp_at_ring0", trap_cs, 0x08);

    trap_cs = 0;
    r = try_call(x_sysexitq_noncanonical, 0);
    CHECK_EQ("sysexit_noncanonical_rdx_gp", r, TRAP_CAUGHT | 13);
    CHECK_EQ("sysexit_noncanonical_gp_at_ring0", trap_cs, 0x08);
    trap_set_handler(13, 0);

    r = try_call_user(x_sysexit, 0);
    CHECK_EQ("sysexit_ring3_gp", r, TRAP_CAUGHT | 13);

    wrmsr(MSR_SYSENTER_CS, 0);
    r = try_call_user(x_sysenter, 0);
    CHECK_EQ("sysenter_cs_zero_gp", r, TRAP_CAUGHT | 13);
    r = try_call(x_sysexit, 0);
    CHECK_EQ("sysexit_cs_zero_gp", r, TRAP_CAUGHT | 13);
    wrmsr(MSR_SYSENTER_CS, 0x08);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    struct cpuid_regs v = cpuid(0, 0);
    CHECK("cpuid_genuine_intel", v.ebx == 0x756e6547 && v.edx == 0x49656e69 && v.ecx == 0x6c65746e);
    CHECK("cpuid_sep", cpuid(1, 0).edx & (1u << 11));
    CHECK("cpuid_syscall_in_64bit_mode", cpuid(0x80000001, 0).edx & (1u << 11));

    uint64_t efer = rdmsr(MSR_EFER) | EFER_SCE;
    wrmsr(MSR_EFER, efer);
    wrmsr(MSR_STAR, STAR_VALUE);
    wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)sc_entry64);
    wrmsr(MSR_SFMASK, SFMASK_VALUE);
    wrmsr(MSR_SYSENTER_CS, 0x08);
    wrmsr(MSR_SYSENTER_ESP, (uint64_t)(uintptr_t)(sysenter_stack + sizeof(sysenter_stack)));
    wrmsr(MSR_SYSENTER_EIP, (uint64_t)(uintptr_t)se_entry64);

    check_syscall_64();
    check_sysret_compat();
    check_sysenter_sysexit();
    check_faults(efer);
    test_finish();
}
