/* SYSENTER/SYSEXIT in 32-bit protected mode: a round trip from ring 3 (the flat selectors
 * derived from IA32_SYSENTER_CS, ESP/EIP from the MSRs, IF cleared), SYSENTER out of
 * virtual-8086 mode, and the faults: #GP(0) with IA32_SYSENTER_CS[15:2] = 0 or SYSEXIT above
 * CPL 0; SYSCALL/SYSRET are #UD outside 64-bit mode on Intel. */
#include "guest.h"

#define MSR_EFER 0xC0000080
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define FL_IF 0x200u
#define FL_VM 0x20000u

/* What the kernel entry and the user code saw (written from assembly). */
volatile uint32_t k_cs, k_ss, k_esp, k_fl, k_ds;
volatile uint32_t u_cs, u_ss, u_esp_before, u_esp_after, u_ret;
uint8_t sysenter_stack[4096] __attribute__((aligned(16)));

void se_entry(void);
void se_entry_v86(void);
void u_round_trip(void *);
void x_sysenter(void *);
void x_sysexit(void *);
void x_syscall(void *);
void x_sysret(void *);
extern const char s_v86_sysenter[], s_v86_sysenter_end[];

__asm__(
    "   .text\n"
    /* SYSENTER_EIP for the ring-3 round trip: record, then SYSEXIT to EDX with ESP = ECX. */
    "   .globl se_entry\n"
    "se_entry:\n"
    "   movw %cs, k_cs\n"
    "   movw %ss, k_ss\n"
    "   movw %ds, k_ds\n"
    "   movl %esp, k_esp\n"
    "   pushfl\n"
    "   popl k_fl\n"
    "   sysexit\n"
    /* SYSENTER_EIP for the V86 case: DS still holds the V86 segment, so reload it first;
     * then leave the try_call_v86 with 0. */
    "   .globl se_entry_v86\n"
    "se_entry_v86:\n"
    "   movw %ds, %ax\n"
    "   movl $0x10, %ecx\n"
    "   movl %ecx, %ds\n"
    "   movw %ax, k_ds\n"
    "   movw %cs, k_cs\n"
    "   movw %ss, k_ss\n"
    "   movl %esp, k_esp\n"
    "   pushfl\n"
    "   popl k_fl\n"
    "   pushl $0\n"
    "   call try_longjmp\n"
    /* Ring 3: SYSENTER with the return point in EDX and the stack in ECX. */
    "   .globl u_round_trip\n"
    "u_round_trip:\n"
    "   pushl %ebx\n"
    "   movl %esp, %ecx\n"
    "   movl %esp, u_esp_before\n"
    "   movl $1f, %edx\n"
    "   movl %edx, u_ret\n"
    "   sysenter\n"
    "1: movw %cs, u_cs\n"
    "   movw %ss, u_ss\n"
    "   movl %esp, u_esp_after\n"
    "   popl %ebx\n"
    "   ret\n"
    "   .globl x_sysenter, x_sysexit, x_syscall, x_sysret\n"
    "x_sysenter:\n"
    "   sysenter\n"
    "   ret\n"
    "x_sysexit:\n"
    "   sysexit\n"
    "   ret\n"
    "x_syscall:\n"
    "   syscall\n"
    "   ret\n"
    "x_sysret:\n"
    "   sysret\n"
    "   ret\n"
    "   .pushsection .rodata\n"
    "   .code16\n"
    "s_v86_sysenter:\n"
    "   sysenter\n"
    "s_v86_sysenter_end:\n"
    "   .code32\n"
    "   .popsection\n");

static void set_msrs(uint32_t eip)
{
    wrmsr(MSR_SYSENTER_CS, 0x08);
    wrmsr(MSR_SYSENTER_ESP, (uint32_t)(uintptr_t)(sysenter_stack + sizeof(sysenter_stack)));
    wrmsr(MSR_SYSENTER_EIP, eip);
}

static void check_round_trip(void)
{
    set_msrs((uint32_t)(uintptr_t)se_entry);
    long r = try_call_user(u_round_trip, 0);
    CHECK_EQ("sysenter_round_trip", r, 0);
    CHECK_EQ("sysenter_cs_from_msr", k_cs, 0x08);
    CHECK_EQ("sysenter_ss_cs_plus_8", k_ss, 0x10);
    CHECK_EQ("sysenter_esp_from_msr", k_esp, (uint32_t)(uintptr_t)(sysenter_stack + sizeof(sysenter_stack)));
    CHECK_EQ("sysenter_clears_if_vm", k_fl & (FL_IF | FL_VM), 0);
    CHECK_EQ("sysenter_keeps_ds", k_ds, SEL_UDATA32);
    CHECK_EQ("sysexit_cs_plus_16_rpl3", u_cs, 0x1b);
    CHECK_EQ("sysexit_ss_plus_24_rpl3", u_ss, 0x23);
    CHECK_EQ("sysexit_esp_from_ecx", u_esp_after, u_esp_before);
}

static uint8_t *volatile v86_code = (uint8_t *)0x8000;

static void check_from_v86(void)
{
    set_msrs((uint32_t)(uintptr_t)se_entry_v86);
    memcpy(v86_code, s_v86_sysenter, (size_t)(s_v86_sysenter_end - s_v86_sysenter));
    struct v86_regs in = {0};
    in.cs = 0x0800;
    in.ss = 0x7000;
    in.sp = 0xfffe;
    in.ds = in.es = 0x0600;
    in.eflags = 2 | FL_IF; /* IOPL 0: SYSENTER is not IOPL-sensitive */
    k_cs = k_ss = k_esp = k_fl = k_ds = 0;
    long r = try_call_v86(&in, 0);
    CHECK_EQ("sysenter_from_v86", r, 0);
    CHECK_EQ("sysenter_from_v86_cs", k_cs, 0x08);
    CHECK_EQ("sysenter_from_v86_ss", k_ss, 0x10);
    CHECK_EQ("sysenter_from_v86_clears_vm_if", k_fl & (FL_IF | FL_VM), 0);
    CHECK_EQ("sysenter_from_v86_leaves_ds", k_ds, 0x0600);
}

static void check_faults(void)
{
    set_msrs((uint32_t)(uintptr_t)se_entry);
    CHECK_EQ("sysexit_ring3_gp", try_call_user(x_sysexit, 0), TRAP_CAUGHT | 13);
    CHECK_EQ("sysexit_ring3_gp_error", trap_last.error_code, 0);

    wrmsr(MSR_SYSENTER_CS, 3); /* bits 15:2 zero */
    CHECK_EQ("sysenter_cs_zero_gp", try_call_user(x_sysenter, 0), TRAP_CAUGHT | 13);
    CHECK_EQ("sysenter_cs_zero_gp_error", trap_last.error_code, 0);
    CHECK_EQ("sysexit_cs_zero_gp", try_call(x_sysexit, 0), TRAP_CAUGHT | 13);
    wrmsr(MSR_SYSENTER_CS, 0x08);

    CHECK_EQ("syscall_legacy_mode_ud", try_call(x_syscall, 0), TRAP_CAUGHT | 6);
    CHECK_EQ("sysret_legacy_mode_ud", try_call(x_sysret, 0), TRAP_CAUGHT | 6);
    uint64_t efer;
    if (rdmsr_safe(MSR_EFER, &efer) && wrmsr_safe(MSR_EFER, efer | 1)) {
        CHECK_EQ("syscall_legacy_mode_sce_ud", try_call(x_syscall, 0), TRAP_CAUGHT | 6);
        CHECK_EQ("sysret_legacy_mode_sce_ud", try_call(x_sysret, 0), TRAP_CAUGHT | 6);
        wrmsr(MSR_EFER, efer);
    }
}

int main(uint32_t mb)
{
    (void)mb;
    CHECK("cpuid_sep", cpuid(1, 0).edx & (1u << 11));
    check_round_trip();
    check_from_v86();
    check_faults();
    test_finish();
}
