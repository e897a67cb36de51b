/* Hardware task switching with 32-bit TSSs (SDM Vol 3 7.3): far JMP/CALL to a TSS and through a
 * task gate, IRET back through the link, an IDT task gate for #DF, busy bits, NT, the back link,
 * CR0.TS, CR3, V86 tasks, the T bit, and the checks before and after the commit point. */
#include <criterion/criterion.h>

#include "pm32_env.h"

#define TSS_B 0x9800u
#define B_EIP 0x12000u
#define B_ESP 0x58000u

struct tss_init {
    uint32_t eip, eflags, esp, cr3, eax;
    uint16_t cs, ss, ds, ldt;
    bool trap;
};

static const struct tss_init tss_b_default = {B_EIP, 2, B_ESP, 0, 0xb0b0, S_CODE0, S_DATA0, S_DATA0, 0, false};

static void write_tss(struct th *t, uint32_t base, const struct tss_init *s)
{
    for (unsigned k = 0; k < 0x68; k += 4)
        th_wr(t, base + k, 0, 4);
    th_wr(t, base + 0x04, P32_ESP0, 4);
    th_wr(t, base + 0x08, S_DATA0, 4);
    th_wr(t, base + 0x1c, s->cr3, 4);
    th_wr(t, base + 0x20, s->eip, 4);
    th_wr(t, base + 0x24, s->eflags, 4);
    th_wr(t, base + 0x28, s->eax, 4);
    th_wr(t, base + 0x38, s->esp, 4);
    const uint16_t segs[6] = {s->ds, s->cs, s->ss, s->ds, s->ds, s->ds};
    for (unsigned k = 0; k < 6; k++)
        th_wr(t, base + 0x48 + 4 * k, segs[k], 2);
    th_wr(t, base + 0x60, s->ldt, 2);
    th_wr(t, base + 0x64, s->trap ? 1 : 0, 2);
    th_wr(t, base + 0x66, 0x68, 2);
}

/* Task A runs at TH_CODE with TR = S_TSS; task B's TSS is at TSS_B, selector S_SLOT0. */
static void two_tasks(struct th *t, const struct tss_init *b)
{
    p32_init(t);
    p32_gdt(t, S_SLOT0, SEG_DESC(TSS_B, 0x67, 0x89, 0));
    write_tss(t, TSS_B, b);
    th_wr(t, B_EIP, 0xf4, 1);
}

static unsigned gdt_type(struct th *t, uint16_t sel)
{
    return (unsigned)(th_rd(t, TH_GDT + (sel & 0xfff8u) + 5, 1) & 0xf);
}

Test(cpu_task, jmp_to_tss_loads_the_new_task)
{
    struct th t;
    two_tasks(&t, &tss_b_default);
    /* 32-bit paging with 4 MiB pages; B's TSS names another (identical) page directory. */
    for (unsigned k = 0; k < 4; k++) {
        th_wr(&t, 0x1000 + 4 * k, (k << 22) | 0x83, 4);
        th_wr(&t, 0x2000 + 4 * k, (k << 22) | 0x83, 4);
    }
    th_wr(&t, TSS_B + 0x1c, 0x2000, 4);
    cpu_set_cr(t.vp, 4, cpu_get_cr(t.vp, 4) | (1u << 4));
    cpu_set_cr(t.vp, 3, 0x1000);
    cpu_set_cr(t.vp, 0, 0x80000011u);
    /* mov eax, 0xaaaa; jmp 0x58:0 */
    th_load(&t, TH_CODE, CODE(0xb8, 0xaa, 0xaa, 0, 0, 0xea, 0, 0, 0, 0, S_SLOT0, 0x00));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), B_EIP + 1);
    cr_assert_eq(p32_sel(&t, SEG_TR), S_SLOT0);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 0xb0b0);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), B_ESP);
    cr_assert_eq(cpu_get_cr(t.vp, 3), 0x2000, "CR3 from the new TSS");
    cr_assert_eq(cpu_get_cr(t.vp, 0) & 8, 8, "CR0.TS set");
    cr_assert_eq(cpu_get_rflags(t.vp) & 0x4000, 0, "JMP does not nest");
    cr_assert_eq(th_rd(&t, P32_TSS + 0x20, 4), TH_CODE + 12, "old EIP saved: after the JMP");
    cr_assert_eq(th_rd(&t, P32_TSS + 0x28, 4), 0xaaaa, "old EAX saved");
    cr_assert_eq(th_rd(&t, P32_TSS + 0x4c, 2), S_CODE0, "old CS saved");
    cr_assert_eq(gdt_type(&t, S_TSS), 9, "old TSS no longer busy");
    cr_assert_eq(gdt_type(&t, S_SLOT0), 0xb, "new TSS busy");
    cr_assert_eq(th_rd(&t, TSS_B, 2), 0, "no back link for JMP");
    th_fini(&t);
}

Test(cpu_task, call_nests_and_iret_returns)
{
    struct th t;
    two_tasks(&t, &tss_b_default);
    /* B: pushfd; pop ecx; iretd */
    th_load(&t, B_EIP, CODE(0x9c, 0x59, 0xcf));
    /* A: mov ebx, 0x77; call 0x58:0; hlt */
    th_load(&t, TH_CODE, CODE(0xbb, 0x77, 0, 0, 0, 0x9a, 0, 0, 0, 0, S_SLOT0, 0x00, 0xf4));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), TH_CODE + 13, "back in A after the CALL");
    cr_assert_eq(p32_sel(&t, SEG_TR), S_TSS);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX), 0x77, "A's registers reloaded");
    cr_assert_eq(th_rd(&t, TSS_B + 0x2c, 4) & 0x4000, 0x4000, "B ran with NT set");
    cr_assert_eq(th_rd(&t, TSS_B + 0x24, 4) & 0x4000, 0, "IRET saved B with NT clear");
    cr_assert_eq(th_rd(&t, TSS_B + 0x20, 4), B_EIP + 3, "B's EIP saved after its IRET");
    cr_assert_eq(th_rd(&t, TSS_B, 2), S_TSS, "back link to A");
    cr_assert_eq(gdt_type(&t, S_TSS), 0xb, "A stayed busy");
    cr_assert_eq(gdt_type(&t, S_SLOT0), 9, "IRET freed B");
    cr_assert_eq(cpu_get_rflags(t.vp) & 0x4000, 0);
    th_fini(&t);
}

Test(cpu_task, call_through_task_gate)
{
    struct th t;
    two_tasks(&t, &tss_b_default);
    p32_gdt(&t, S_SLOT1, GATE_DESC(S_SLOT0, 0, 0xe5, 0));
    /* Ring 3 calls the DPL 3 task gate; the TSS itself is DPL 0. */
    th_load(&t, TH_CODE, CODE(0x9a, 0, 0, 0, 0, S_SLOT1 | 3, 0x00));
    p32_ring(&t, 3, TH_CODE, P32_USTACK);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), B_EIP + 1);
    cr_assert_eq(cpu_get_cpl(t.vp), 0);
    cr_assert_eq(p32_sel(&t, SEG_TR), S_SLOT0);
    cr_assert_eq(th_rd(&t, TSS_B, 2), S_TSS);
    cr_assert_eq(th_rd(&t, P32_TSS + 0x4c, 2), S_CODE3, "A saved at ring 3");
    th_fini(&t);
}

Test(cpu_task, double_fault_through_idt_task_gate)
{
    struct th t;
    two_tasks(&t, &tss_b_default);
    p32_idt(&t, 8, GATE_DESC(S_SLOT0, 0, 0x85, 0));
    p32_idt(&t, 13, GATE_DESC(S_CODE0, TH_HANDLER + 16 * 13, 0x0e, 0)); /* not present */
    /* mov ax, 0x103; mov ds, ax: #GP(0x100), whose gate is absent: #NP, then #DF */
    th_load(&t, TH_CODE, CODE(0x66, 0xb8, 0x03, 0x01, 0x8e, 0xd8));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), B_EIP + 1, "the #DF task runs");
    cr_assert_eq(p32_sel(&t, SEG_TR), S_SLOT0);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), B_ESP - 4, "error code pushed on B's stack");
    cr_assert_eq(th_rd(&t, B_ESP - 4, 4), 0, "#DF error code 0");
    cr_assert_eq(cpu_get_rflags(t.vp) & 0x4000, 0x4000, "nested: NT");
    cr_assert_eq(th_rd(&t, TSS_B, 2), S_TSS);
    cr_assert_eq(th_rd(&t, P32_TSS + 0x20, 4), TH_CODE + 4, "A saved at the faulting MOV");
    th_fini(&t);
}

Test(cpu_task, v86_task_and_interrupt_from_v86)
{
    struct th t;
    struct tss_init b = tss_b_default;
    b.eflags = 0x20202; /* VM, IF */
    b.eip = 0;
    b.cs = 0x1200;      /* base 0x12000: the HLT */
    b.ss = 0x5000;
    b.esp = 0x800;
    b.ds = 0x4000;
    two_tasks(&t, &b);
    th_load(&t, TH_CODE, CODE(0xea, 0, 0, 0, 0, S_SLOT0, 0x00));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "HLT in V86 mode faults to ring 0");
    cr_assert_eq(cpu_get_cpl(t.vp), 0);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), P32_ESP0 - 40, "ring 0 stack from B's TSS");
    const uint32_t want[10] = {0, 0, 0x1200, 0, 0x800, 0x5000, 0x4000, 0x4000, 0x4000, 0x4000};
    for (unsigned k = 0; k < 10; k++)
        if (k != 3)
            cr_assert_eq(p32_stack(&t, k), want[k], "slot %u = %#x", k, p32_stack(&t, k));
    cr_assert_eq(p32_stack(&t, 3) & 0x20000, 0x20000, "EFLAGS.VM pushed");
    cr_assert_eq(cpu_get_rflags(t.vp) & 0x20000, 0);
    for (unsigned s = SEG_ES; s <= SEG_GS; s++)
        if (s != SEG_CS && s != SEG_SS)
            cr_assert_eq(p32_sel(&t, s), 0, "data segment %u nulled", s);
    th_fini(&t);
}

Test(cpu_task, t_bit_traps_on_entry)
{
    struct th t;
    struct tss_init b = tss_b_default;
    b.trap = true;
    two_tasks(&t, &b);
    th_load(&t, TH_CODE, CODE(0xea, 0, 0, 0, 0, S_SLOT0, 0x00));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 1);
    cr_assert_eq(p32_stack(&t, 0), B_EIP, "#DB before B's first instruction");
    th_fini(&t);
}

/* Failing switches: before the commit point the JMP faults in A; after it, the fault belongs to
 * B and is reported at B's first instruction. */
struct task_err_case {
    const char *name;
    uint64_t slot0;     /* TSS B descriptor */
    uint64_t slot1;     /* gate or extra descriptor (0: none) */
    uint64_t slot2;
    uint16_t target;    /* far JMP selector */
    uint32_t tr_limit;
    struct tss_init b;
    unsigned vec;
    uint32_t err;
    bool committed;
};

#define TSS_OK SEG_DESC(TSS_B, 0x67, 0x89, 0)
#define B(...) {B_EIP, 2, B_ESP, 0, 0xb0b0, __VA_ARGS__, 0, false}
#define B_OK B(S_CODE0, S_DATA0, S_DATA0)

static const struct task_err_case task_errs[] = {
    {"rpl_above_tss_dpl", TSS_OK, 0, 0, S_SLOT0 | 3, 0x67, B_OK, 13, S_SLOT0, false},
    {"tss_busy", SEG_DESC(TSS_B, 0x67, 0x8b, 0), 0, 0, S_SLOT0, 0x67, B_OK, 13, S_SLOT0, false},
    {"tss_not_present", SEG_DESC(TSS_B, 0x67, 0x09, 0), 0, 0, S_SLOT0, 0x67, B_OK, 11, S_SLOT0, false},
    {"tss_limit_short", SEG_DESC(TSS_B, 0x66, 0x89, 0), 0, 0, S_SLOT0, 0x67, B_OK, 10, S_SLOT0, false},
    {"old_tss_short", TSS_OK, 0, 0, S_SLOT0, 0x50, B_OK, 10, S_TSS, false},
    {"gate_to_ldt_selector", TSS_OK, GATE_DESC(S_SLOT0 | 4, 0, 0x85, 0), 0, S_SLOT1, 0x67, B_OK, 13,
     S_SLOT0 | 4, false},
    {"gate_to_code", TSS_OK, GATE_DESC(S_CODE0, 0, 0x85, 0), 0, S_SLOT1, 0x67, B_OK, 13, S_CODE0, false},
    {"gate_not_present", TSS_OK, GATE_DESC(S_SLOT0, 0, 0x05, 0), 0, S_SLOT1, 0x67, B_OK, 11, S_SLOT1, false},
    {"new_cs_is_data", TSS_OK, 0, 0, S_SLOT0, 0x67, B(S_DATA0, S_DATA0, S_DATA0), 10, S_DATA0, true},
    {"new_ss_rpl_not_cpl", TSS_OK, 0, 0, S_SLOT0, 0x67, B(S_CODE0, S_DATA1, S_DATA0), 10, S_DATA1 & ~3, true},
    {"new_ss_not_present", TSS_OK, 0, SEG_DESC(0, 0xfffff, 0x13, 0xc), S_SLOT0, 0x67,
     B(S_CODE0, S_SLOT2, S_DATA0), 12, S_SLOT2, true},
    {"new_ds_not_present", TSS_OK, 0, SEG_DESC(0, 0xfffff, 0x13, 0xc), S_SLOT0, 0x67,
     B(S_CODE0, S_DATA0, S_SLOT2), 11, S_SLOT2, true},
    {"new_ds_exec_only", TSS_OK, 0, SEG_DESC(0, 0xfffff, 0x99, 0xc), S_SLOT0, 0x67,
     B(S_CODE0, S_DATA0, S_SLOT2), 10, S_SLOT2, true},
    {"new_eip_beyond_cs", TSS_OK, 0, SEG_DESC(0, 0xfff, 0x9b, 0x4), S_SLOT0, 0x67,
     B(S_SLOT2, S_DATA0, S_DATA0), 13, 0, true},
};

Test(cpu_task, task_switch_checks)
{
    for (unsigned c = 0; c < ARRAY_SIZE(task_errs); c++) {
        const struct task_err_case *e = &task_errs[c];
        struct th t;
        two_tasks(&t, &e->b);
        p32_gdt(&t, S_SLOT0, e->slot0);
        if (e->slot1)
            p32_gdt(&t, S_SLOT1, e->slot1);
        if (e->slot2)
            p32_gdt(&t, S_SLOT2, e->slot2);
        struct seg tr = {S_TSS, P32_TSS, e->tr_limit, 0x8b};
        cpu_set_seg(t.vp, SEG_TR, &tr);
        th_load(&t, TH_CODE, CODE(0xea, 0, 0, 0, 0, (uint8_t)e->target, 0x00));
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", e->name);
        cr_assert_eq(th_vector(&t), (int)e->vec, "%s: vector %d", e->name, th_vector(&t));
        cr_assert_eq(p32_stack(&t, 0), e->err, "%s: error %#x", e->name, p32_stack(&t, 0));
        cr_assert_eq(p32_stack(&t, 1), e->committed ? B_EIP : TH_CODE, "%s: eip %#x", e->name,
                     p32_stack(&t, 1));
        cr_assert_eq(p32_sel(&t, SEG_TR), e->committed ? S_SLOT0 : S_TSS, "%s: TR", e->name);
        th_fini(&t);
    }
}

Test(cpu_task, iret_task_return_checks)
{
    static const struct {
        const char *name;
        uint16_t link;
        unsigned vec;
        uint32_t err;
    } cases[] = {
        {"link_not_busy", S_SLOT0, 10, S_SLOT0},
        {"link_in_ldt", S_SLOT0 | 4, 10, S_SLOT0 | 4},
        {"link_beyond_gdt", 0x200, 10, 0x200},
        {"link_to_code", S_CODE0, 10, S_CODE0},
    };
    for (unsigned c = 0; c < ARRAY_SIZE(cases); c++) {
        struct th t;
        two_tasks(&t, &tss_b_default);
        th_wr(&t, P32_TSS, cases[c].link, 2);
        cpu_set_rflags(t.vp, 0x4002); /* NT */
        th_load(&t, TH_CODE, CODE(0xcf));
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", cases[c].name);
        cr_assert_eq(th_vector(&t), (int)cases[c].vec, "%s", cases[c].name);
        cr_assert_eq(p32_stack(&t, 0), cases[c].err, "%s: error %#x", cases[c].name, p32_stack(&t, 0));
        cr_assert_eq(p32_stack(&t, 1), TH_CODE, "%s", cases[c].name);
        th_fini(&t);
    }
}

Test(cpu_task, tss16_round_trip)
{
    struct th t;
    two_tasks(&t, &tss_b_default);
    /* A 16-bit TSS (SDM Vol 3 7.6) at TSS_B: IP 0x2000, AX 0x1234, SP 0x7000. */
    p32_gdt(&t, S_SLOT0, SEG_DESC(TSS_B, 0x2b, 0x81, 0));
    for (unsigned k = 0; k < 0x2c; k += 2)
        th_wr(&t, TSS_B + k, 0, 2);
    th_wr(&t, TSS_B + 0x0e, 0x2000, 2);
    th_wr(&t, TSS_B + 0x10, 2, 2);
    th_wr(&t, TSS_B + 0x12, 0x1234, 2);
    th_wr(&t, TSS_B + 0x1a, 0x7000, 2);
    const uint16_t segs[4] = {S_DATA0, S_CODE0, S_DATA0, S_DATA0};
    for (unsigned k = 0; k < 4; k++)
        th_wr(&t, TSS_B + 0x22 + 2 * k, segs[k], 2);
    /* B: mov ax, 0x5678; jmp 0x28:0 (back to A) */
    th_load(&t, 0x2000, CODE(0x66, 0xb8, 0x78, 0x56, 0xea, 0, 0, 0, 0, S_TSS, 0x00));
    /* A: jmp 0x58:0; hlt */
    th_load(&t, TH_CODE, CODE(0xea, 0, 0, 0, 0, S_SLOT0, 0x00, 0xf4));
    struct seg fs = {S_DATA0, 0, 0xffffffff, 0xc093};
    cpu_set_seg(t.vp, SEG_FS, &fs);
    cr_assert_eq(th_run(&t, 2), CPU_STOP_BUDGET);
    cr_assert_eq(p32_sel(&t, SEG_TR), S_SLOT0, "in the 16-bit task");
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX) & 0xffff, 0x5678);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP) & 0xffff, 0x7000);
    cr_assert_eq(p32_sel(&t, SEG_FS), 0, "a 16-bit TSS has no FS: null");
    cr_assert_eq(gdt_type(&t, S_SLOT0), 3, "busy 16-bit TSS");
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), TH_CODE + 8, "back in A");
    cr_assert_eq(p32_sel(&t, SEG_FS), S_DATA0, "A's FS reloaded");
    cr_assert_eq(th_rd(&t, TSS_B + 0x0e, 2), 0x200b, "B's IP saved in the 16-bit TSS");
    cr_assert_eq(th_rd(&t, TSS_B + 0x12, 2), 0x5678, "B's AX saved");
    cr_assert_eq(gdt_type(&t, S_SLOT0), 1, "B available again");
    th_fini(&t);
}

Test(cpu_task, new_task_ldt_and_ldt_selectors)
{
    struct th t;
    struct tss_init b = tss_b_default;
    b.ldt = S_SLOT1;
    b.ds = 0x04; /* LDT entry 0 */
    two_tasks(&t, &b);
    p32_gdt(&t, S_SLOT1, SEG_DESC(0xa000, 0xf, 0x82, 0));
    th_wr(&t, 0xa000, SEG_DESC(0x123000, 0xfff, 0x93, 0x4), 8);
    th_load(&t, TH_CODE, CODE(0xea, 0, 0, 0, 0, S_SLOT0, 0x00));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), B_EIP + 1);
    struct seg ldtr, ds;
    cpu_get_seg(t.vp, SEG_LDTR, &ldtr);
    cpu_get_seg(t.vp, SEG_DS, &ds);
    cr_assert_eq(ldtr.sel, S_SLOT1);
    cr_assert_eq(ldtr.base, 0xa000);
    cr_assert_eq(ds.sel, 0x04);
    cr_assert_eq(ds.base, 0x123000, "DS came from the new task's LDT");
    cr_assert_eq(ds.limit, 0xfff);
    th_fini(&t);
}
