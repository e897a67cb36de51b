/* Hardware task switching with 32-bit TSSs (SDM Vol 3 7.3): far JMP to a TSS and back, far CALL
 * with the back link and NT and IRET's return through it, a task gate called from ring 3, a
 * double fault handled on its own task through an IDT task gate, and the checks that make a
 * switch fault in the old task. */
#include "guest.h"

#define IDX_TSS_B 6   /* 0x30 */
#define IDX_TSS_C 7   /* 0x38 */
#define IDX_GATE_B 8  /* 0x43: task gate to B, DPL 3 */
#define IDX_TSS_DF 9  /* 0x48 */
#define IDX_BAD 10    /* 0x50 */
#define SEL_TSS_B 0x30
#define SEL_TSS_C 0x38
#define SEL_GATE_B 0x43
#define SEL_TSS_DF 0x48
#define SEL_BAD 0x50
#define FL_NT 0x4000u

static struct tss32 tss_b, tss_c, tss_df;
static uint8_t stack_b[2048], stack_c[2048], stack_df[2048];

/* Task bodies. Each ends its turn with IRET (nested tasks) or a JMP back to the library's task,
 * and starts over when entered again. */
uint32_t b_runs, b_eflags, c_runs, df_runs, df_error, df_eflags, df_old_eip;
void task_b_entry(void);
void task_c_entry(void);
void df_task_entry(void);
void df_fault(void);
void df_resume(void);
void jmp_return(void);
__asm__(".text\n"
        "task_b_entry:\n"
        "  pushfl\n  popl b_eflags\n  incl b_runs\n  iret\n  jmp task_b_entry\n"
        "task_c_entry:\n"
        "  incl c_runs\n  ljmp $0x28, $0\n  jmp task_c_entry\n"
        "df_task_entry:\n"
        "  popl df_error\n"
        "  pushfl\n  popl df_eflags\n"
        "  movl guest_tss+0x20, %eax\n  movl %eax, df_old_eip\n"
        "  movl $df_resume, guest_tss+0x20\n" /* resume the faulting task past the fault */
        "  incl df_runs\n  iret\n  jmp df_task_entry\n");

static void init_tss(struct tss32 *t, void (*entry)(void), uint8_t *stack, size_t size)
{
    memset(t, 0, sizeof(*t));
    t->eip = (uint32_t)(uintptr_t)entry;
    t->eflags = 2;
    t->esp = (uint32_t)(uintptr_t)(stack + size);
    t->cs = SEL_CODE32;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA32;
    t->iomap_base = sizeof(*t);
}

static uint64_t tss_desc(struct tss32 *t, uint32_t limit, uint8_t access)
{
    return gdt_desc((uint32_t)(uintptr_t)t, limit, access, 0);
}

static unsigned gdt_type(unsigned idx)
{
    return (unsigned)(guest_gdt[idx] >> 40) & 0xF;
}

static uint16_t str(void)
{
    uint16_t s;
    __asm__ volatile("str %0" : "=r"(s));
    return s;
}

static uint32_t eflags(void)
{
    uint32_t f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    return f;
}

static void test_jmp(void)
{
    init_tss(&tss_c, task_c_entry, stack_c, sizeof(stack_c));
    gdt_set(IDX_TSS_C, tss_desc(&tss_c, 0x67, 0x89));
    __asm__ volatile("ljmp $0x38, $0\n.globl jmp_return\njmp_return:" ::: "memory");
    CHECK_EQ("jmp tss: the task ran", c_runs, 1);
    CHECK_EQ("jmp tss: back on the first task", str(), SEL_TSS);
    CHECK_EQ("jmp tss: EIP saved in the old TSS", guest_tss.tss.eip, (uint32_t)(uintptr_t)jmp_return);
    CHECK_EQ("jmp tss: no back link", tss_c.link, 0);
    CHECK_EQ("jmp tss: left task not busy", gdt_type(IDX_TSS_C), 9);
    CHECK_EQ("jmp tss: current task busy", gdt_type(SEL_TSS / 8), 0xB);
    CHECK("jmp tss: CR0.TS set", read_cr0() & 8);
    __asm__ volatile("clts");
}

static void test_call_iret(void)
{
    init_tss(&tss_b, task_b_entry, stack_b, sizeof(stack_b));
    gdt_set(IDX_TSS_B, tss_desc(&tss_b, 0x67, 0x89));
    __asm__ volatile("lcall $0x30, $0" ::: "memory");
    CHECK_EQ("call tss: the task ran", b_runs, 1);
    CHECK("call tss: NT set in the called task", b_eflags & FL_NT);
    CHECK_EQ("call tss: back link", tss_b.link, SEL_TSS);
    CHECK_EQ("iret: back on the caller", str(), SEL_TSS);
    CHECK_EQ("iret: caller's NT clear", eflags() & FL_NT, 0);
    CHECK_EQ("iret: returned task saved with NT clear", tss_b.eflags & FL_NT, 0);
    CHECK_EQ("iret: returned task not busy", gdt_type(IDX_TSS_B), 9);
    CHECK_EQ("iret: caller still busy", gdt_type(SEL_TSS / 8), 0xB);
}

static void user_task_gate(void *arg)
{
    (void)arg;
    __asm__ volatile("lcall $0x43, $0" ::: "memory");
}

static void test_task_gate(void)
{
    gdt_set(IDX_GATE_B, gate_desc(SEL_TSS_B, 0, 5, 3, 0));
    long r = try_call_user(user_task_gate, NULL);
    CHECK_EQ("task gate: ring 3 call and return", r, 0);
    CHECK_EQ("task gate: the task ran", b_runs, 2);
    CHECK_EQ("task gate: caller saved at ring 3", guest_tss.tss.cs, SEL_UCODE32);
    __asm__ volatile("clts");
}

static void test_double_fault_task(void)
{
    init_tss(&tss_df, df_task_entry, stack_df, sizeof(stack_df));
    gdt_set(IDX_TSS_DF, tss_desc(&tss_df, 0x67, 0x89));
    guest_idt[8] = gate_desc(SEL_TSS_DF, 0, 5, 0, 0);
    uint64_t gp = guest_idt[13];
    guest_idt[13] &= ~(1ull << 47); /* #GP's gate absent: #GP -> #NP -> #DF */
    __asm__ volatile("movw $0xFFF8, %%ax\n"
                     ".globl df_fault\ndf_fault: movw %%ax, %%ds\n"
                     ".globl df_resume\ndf_resume:" ::: "eax", "memory");
    guest_idt[13] = gp;
    idt_restore(8);
    __asm__ volatile("clts");
    CHECK_EQ("#DF task: ran once", df_runs, 1);
    CHECK_EQ("#DF task: error code 0 on its stack", df_error, 0);
    CHECK("#DF task: nested (NT)", df_eflags & FL_NT);
    CHECK_EQ("#DF task: faulting EIP saved", df_old_eip, (uint32_t)(uintptr_t)df_fault);
    CHECK_EQ("#DF task: back link", tss_df.link, SEL_TSS);
    CHECK_EQ("#DF task: IRET back to the faulting task", str(), SEL_TSS);
    CHECK_EQ("#DF task: not busy after IRET", gdt_type(IDX_TSS_DF), 9);
}

static void jmp_busy(void *arg)
{
    (void)arg;
    __asm__ volatile("ljmp $0x28, $0" ::: "memory");
}

static void jmp_bad(void *arg)
{
    (void)arg;
    __asm__ volatile("ljmp $0x50, $0" ::: "memory");
}

static void iret_nt(void *arg)
{
    (void)arg;
    __asm__ volatile("pushfl\n orl $0x4000, (%%esp)\n popfl\n iret" ::: "memory");
}

static void test_checks(void)
{
    long r = try_call(jmp_busy, NULL);
    check("jmp tss: busy TSS #GP(sel)", r == (TRAP_CAUGHT | 13) && trap_last.error_code == SEL_TSS,
          "rc 0x%lx error 0x%x", r, (unsigned)trap_last.error_code);
    gdt_set(IDX_BAD, tss_desc(&tss_c, 0x67, 0x09));
    r = try_call(jmp_bad, NULL);
    check("jmp tss: not present #NP(sel)", r == (TRAP_CAUGHT | 11) && trap_last.error_code == SEL_BAD,
          "rc 0x%lx error 0x%x", r, (unsigned)trap_last.error_code);
    gdt_set(IDX_BAD, tss_desc(&tss_c, 0x60, 0x89));
    r = try_call(jmp_bad, NULL);
    check("jmp tss: limit below 0x67 #TS(sel)", r == (TRAP_CAUGHT | 10) && trap_last.error_code == SEL_BAD,
          "rc 0x%lx error 0x%x", r, (unsigned)trap_last.error_code);
    gdt_set(IDX_BAD, gdt_desc(0, 0xFFFFF, 0x9A, 0xC));
    gdt_set(IDX_GATE_B, gate_desc(SEL_BAD, 0, 5, 3, 0));
    r = try_call(user_task_gate, NULL);
    check("task gate: to a code segment #GP(sel)",
          r == (TRAP_CAUGHT | 13) && trap_last.error_code == SEL_BAD, "rc 0x%lx error 0x%x", r,
          (unsigned)trap_last.error_code);
    guest_tss.tss.link = SEL_TSS_B; /* available, not busy */
    r = try_call(iret_nt, NULL);
    check("iret NT: link to a non-busy TSS #TS(link)",
          r == (TRAP_CAUGHT | 10) && trap_last.error_code == SEL_TSS_B, "rc 0x%lx error 0x%x", r,
          (unsigned)trap_last.error_code);
    guest_tss.tss.link = 0;
    CHECK_EQ("failed switches leave the task", str(), SEL_TSS);
}

int main(uint32_t mb)
{
    (void)mb;
    test_jmp();
    test_call_iret();
    test_task_gate();
    test_double_fault_task();
    test_checks();
    test_finish();
}
