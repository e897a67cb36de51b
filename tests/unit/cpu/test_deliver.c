/* Event delivery (SDM Vol 3 6.12-6.15, INT n and IRET pseudo-code): error codes with the EXT and
 * IDT bits, IDT limits, gate and handler checks, new-stack faults, IA-32e IST and checks,
 * virtual-8086 mode in and out, every form of IRET, NMI blocking until IRET, triple fault. */
#include <criterion/criterion.h>
#include <string.h>

#include "pm32_env.h"

#define VEC 0x40u

/* ---- 32-bit protected mode: what a failed delivery raises ---- */
struct dlv_case {
    const char *name;
    unsigned ring;
    bool external;     /* VEC as an external interrupt; else the code below runs */
    uint8_t code[4];
    unsigned len;
    uint64_t gate;     /* IDT[gate_vec] (0: keep the default) */
    unsigned gate_vec;
    uint16_t idt_limit;
    uint64_t slot;     /* GDT S_SLOT1 */
    uint16_t ss1;
    uint32_t tr_limit;
    unsigned vec;
    uint32_t err;
};

#define INT40 {0xcd, VEC}, 2
#define NONE {0}, 0
#define G(sel, off, acc) GATE_DESC(sel, off, acc, 0)
#define H (TH_HANDLER + 16 * 0x41) /* a HLT no default gate uses */

static const struct dlv_case dlv_cases[] = {
    {"ext_gate_absent", 0, true, NONE, G(S_CODE0, H, 0x0e), VEC, 0x7ff, 0, S_DATA1, 0x67, 11, VEC * 8 + 3},
    {"int_gate_absent", 0, false, INT40, G(S_CODE0, H, 0x0e), VEC, 0x7ff, 0, S_DATA1, 0x67, 11, VEC * 8 + 2},
    {"exc_gate_absent", 0, false, {0x0f, 0x0b}, 2, G(S_CODE0, H, 0x0e), 6, 0x7ff, 0, S_DATA1, 0x67, 11, 6 * 8 + 3},
    {"int_beyond_idt", 0, false, INT40, 0, 0, 0x1ff, 0, S_DATA1, 0x67, 13, VEC * 8 + 2},
    {"ext_beyond_idt", 0, true, NONE, 0, 0, 0x1ff, 0, S_DATA1, 0x67, 13, VEC * 8 + 3},
    {"int_gate_dpl", 3, false, INT40, 0, 0, 0x7ff, 0, S_DATA1, 0x67, 13, VEC * 8 + 2},
    {"int3_gate_dpl", 3, false, {0xcc}, 1, 0, 0, 0x7ff, 0, S_DATA1, 0x67, 13, 3 * 8 + 2},
    {"bad_gate_type", 0, false, INT40, G(S_CODE0, H, 0x8c), VEC, 0x7ff, 0, S_DATA1, 0x67, 13, VEC * 8 + 2},
    {"int_cs_null", 0, false, INT40, G(0, H, 0x8e), VEC, 0x7ff, 0, S_DATA1, 0x67, 13, 0},
    {"ext_cs_null", 0, true, NONE, G(0, H, 0x8e), VEC, 0x7ff, 0, S_DATA1, 0x67, 13, 1},
    {"ext_cs_beyond_gdt", 0, true, NONE, G(0x200, H, 0x8e), VEC, 0x7ff, 0, S_DATA1, 0x67, 13, 0x201},
    {"int_cs_data", 0, false, INT40, G(S_DATA0, H, 0x8e), VEC, 0x7ff, 0, S_DATA1, 0x67, 13, S_DATA0},
    {"int_cs_outer", 0, false, INT40, G(S_CODE3, H, 0x8e), VEC, 0x7ff, 0, S_DATA1, 0x67, 13, S_CODE3 & ~3},
    {"ext_cs_not_present", 0, true, NONE, G(S_SLOT1, H, 0x8e), VEC, 0x7ff,
     SEG_DESC(0, 0xfffff, 0x1b, 0xc), S_DATA1, 0x67, 11, S_SLOT1 + 1},
    {"int_ss1_null", 2, false, INT40, G(S_CODE1, H, 0xee), VEC, 0x7ff, 0, 0, 0x67, 10, 0},
    {"ext_ss1_null", 2, true, NONE, G(S_CODE1, H, 0xee), VEC, 0x7ff, 0, 0, 0x67, 10, 1},
    {"ext_ss1_dpl", 2, true, NONE, G(S_CODE1, H, 0xee), VEC, 0x7ff, 0, (S_DATA2 & ~3) | 1, 0x67, 10,
     (S_DATA2 & ~3) | 1},
    {"int_ss1_not_present", 2, false, INT40, G(S_CODE1, H, 0xee), VEC, 0x7ff,
     SEG_DESC(0, 0xfffff, 0x33, 0xc), S_SLOT1 | 1, 0x67, 12, S_SLOT1},
    {"int_ss1_no_room", 2, false, INT40, G(S_CODE1, H, 0xee), VEC, 0x7ff,
     SEG_DESC(0, 0x60ff0, 0xb3, 0x4), S_SLOT1 | 1, 0x67, 12, S_SLOT1},
    {"ext_tss_short", 2, true, NONE, G(S_CODE1, H, 0xee), VEC, 0x7ff, 0, S_DATA1, 0x0f, 10, S_TSS | 1},
    {"int_ip_beyond_limit", 2, false, INT40, G(S_SLOT1 | 1, 0x2000, 0xee), VEC, 0x7ff,
     SEG_DESC(0, 0xfff, 0xbb, 0x4), S_DATA1, 0x67, 13, 0},
};

Test(cpu_deliver, failed_delivery_error_codes)
{
    for (unsigned c = 0; c < ARRAY_SIZE(dlv_cases); c++) {
        const struct dlv_case *e = &dlv_cases[c];
        struct th t;
        p32_init(&t);
        p32_idt(&t, 0x40, GATE_DESC(S_CODE0, TH_HANDLER + 16 * 0x40, 0x8e, 0));
        if (e->gate)
            p32_idt(&t, e->gate_vec, e->gate);
        struct dtr idt = {TH_IDT, e->idt_limit};
        cpu_set_dtr(t.vp, true, &idt);
        if (e->slot)
            p32_gdt(&t, S_SLOT1, e->slot);
        th_wr(&t, P32_TSS + 16, e->ss1, 4);
        struct seg tr = {S_TSS, P32_TSS, e->tr_limit, 0x8b};
        cpu_set_seg(t.vp, SEG_TR, &tr);
        uint8_t code[8] = {0};
        memcpy(code, e->code, e->len);
        code[e->len] = 0x90;
        code[e->len + 1] = 0xf4;
        th_load(&t, TH_CODE, code, e->len + 2);
        p32_ring(&t, e->ring, TH_CODE, P32_USTACK);
        if (e->external) {
            cpu_set_rflags(t.vp, 0x202);
            cpu_raise_event(t.vp, CPU_EV_INTR);
        }
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", e->name);
        cr_assert_eq(th_vector(&t), (int)e->vec, "%s: vector %d", e->name, th_vector(&t));
        cr_assert_eq(p32_stack(&t, 0), e->err, "%s: error %#x", e->name, p32_stack(&t, 0));
        cr_assert_eq(p32_stack(&t, 1), TH_CODE, "%s: eip %#x", e->name, p32_stack(&t, 1));
        th_fini(&t);
    }
}

Test(cpu_deliver, triple_fault_when_df_cannot_be_delivered)
{
    struct th t;
    p32_init(&t);
    p32_idt(&t, 13, GATE_DESC(S_CODE0, TH_HANDLER, 0x0e, 0));
    p32_idt(&t, 8, GATE_DESC(S_CODE0, TH_HANDLER, 0x0e, 0));
    th_load(&t, TH_CODE, CODE(0x66, 0xb8, 0x03, 0x01, 0x8e, 0xd8)); /* mov ds, 0x103: #GP */
    cr_assert_eq(th_run(&t, 100), CPU_STOP_SHUTDOWN);
    th_fini(&t);
}

Test(cpu_deliver, df_error_code_zero_and_benign_then_contributory)
{
    struct th t;
    p32_init(&t);
    p32_idt(&t, 13, GATE_DESC(S_CODE0, TH_HANDLER, 0x0e, 0)); /* absent: #GP -> #NP -> #DF */
    th_load(&t, TH_CODE, CODE(0x66, 0xb8, 0x03, 0x01, 0x8e, 0xd8));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 8);
    cr_assert_eq(p32_stack(&t, 0), 0);
    th_fini(&t);
    /* #UD (benign) whose gate is absent: just #NP, no #DF. */
    p32_init(&t);
    p32_idt(&t, 6, GATE_DESC(S_CODE0, TH_HANDLER, 0x0e, 0));
    th_load(&t, TH_CODE, CODE(0x0f, 0x0b));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 11);
    cr_assert_eq(p32_stack(&t, 0), 6 * 8 + 3);
    th_fini(&t);
}

/* ---- virtual-8086 mode ---- */
#define V86_CS 0x1200u /* code at 0x12000 */

/* Ring 0 enters V86 mode at V86_CS:0 with IRETD; IOPL as given. */
static void enter_v86(struct th *t, unsigned iopl, const uint8_t *v86, size_t len)
{
    p32_init(t);
    p32_idt(t, 0x21, GATE_DESC(S_CODE0, TH_HANDLER + 16 * 0x21, 0xee, 0));
    uint32_t fl = 0x20202 | iopl << 12;
    uint8_t code[64];
    unsigned n = 0;
    const uint32_t pushes[9] = {0x4444, 0x3333, 0x2222, 0x1111, 0x5000, 0x800, fl, V86_CS, 0};
    for (unsigned k = 0; k < 9; k++) {
        code[n++] = 0x68;
        for (unsigned b = 0; b < 4; b++)
            code[n++] = (uint8_t)(pushes[k] >> (8 * b));
    }
    code[n++] = 0xcf;
    th_load(t, TH_CODE, code, n);
    th_load(t, V86_CS * 16, v86, len);
}

Test(cpu_deliver, iret_to_v86_and_interrupt_from_v86)
{
    struct th t;
    enter_v86(&t, 3, CODE(0x90, 0xcd, 0x21));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 0x21);
    cr_assert_eq(cpu_get_cpl(t.vp), 0);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), P32_ESP0 - 36);
    const uint32_t want[9] = {3, V86_CS, 0, 0x800, 0x5000, 0x1111, 0x2222, 0x3333, 0x4444};
    for (unsigned k = 0; k < 9; k++)
        if (k != 2)
            cr_assert_eq(p32_stack(&t, k), want[k], "slot %u = %#x", k, p32_stack(&t, k));
    cr_assert_eq(p32_stack(&t, 2) & 0x23000, 0x23000, "VM and IOPL 3 pushed");
    for (unsigned s = SEG_ES; s <= SEG_GS; s++)
        if (s != SEG_CS && s != SEG_SS)
            cr_assert_eq(p32_sel(&t, s), 0, "segment %u nulled", s);
    th_fini(&t);
}

struct v86_case {
    const char *name;
    unsigned iopl;
    uint8_t code[12];
    unsigned len;
    uint64_t gate21;  /* 0: the default DPL 3 gate to ring 0 */
    unsigned vec;
    uint32_t err;
    uint32_t eip;     /* pushed IP */
};

static const struct v86_case v86_cases[] = {
    {"int_iopl0", 0, {0xcd, 0x21}, 2, 0, 13, 0, 0},
    {"iret_iopl0", 0, {0xcf}, 1, 0, 13, 0, 0},
    {"int3_iopl0_goes_through", 0, {0xcc}, 1, GATE_DESC(S_CODE0, TH_HANDLER + 48, 0xee, 0), 3, 0, 1},
    /* push 0x0202; push V86_CS; push 0x10; iret -> IP 0x10 (int 0x21): IOPL 3 kept */
    {"iret_iopl3_keeps_iopl", 3, {0x68, 0x02, 0x02, 0x68, 0x00, 0x12, 0x68, 0x10, 0x00, 0xcf}, 10, 0,
     0x21, 0, 0x12},
    {"gate_to_ring3_code", 3, {0xcd, 0x21}, 2, GATE_DESC(S_CODE3, TH_HANDLER, 0xee, 0), 13,
     S_CODE3 & ~3, 0},
    {"gate_to_ring1_code", 3, {0xcd, 0x21}, 2, GATE_DESC(S_CODE1, TH_HANDLER, 0xee, 0), 13,
     S_CODE1 & ~3, 0},
    {"gate_16bit", 3, {0xcd, 0x21}, 2, GATE_DESC(S_CODE0, TH_HANDLER + 16 * 0x21, 0xe6, 0), 0x21, 0, 2},
};

Test(cpu_deliver, v86_mode_rules)
{
    for (unsigned c = 0; c < ARRAY_SIZE(v86_cases); c++) {
        const struct v86_case *e = &v86_cases[c];
        struct th t;
        enter_v86(&t, e->iopl, e->code, e->len);
        th_wr(&t, V86_CS * 16 + 0x10, 0x21cd, 2);
        if (e->gate21)
            p32_idt(&t, e->vec == 3 ? 3 : 0x21, e->gate21);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", e->name);
        cr_assert_eq(th_vector(&t), (int)e->vec, "%s: vector %d", e->name, th_vector(&t));
        bool has_err = e->vec == 13;
        bool w16 = e->gate21 && ((e->gate21 >> 40) & 0xf) == 6;
        uint32_t sp = (uint32_t)cpu_get_gpr(t.vp, REG_RSP);
        if (has_err)
            cr_assert_eq(p32_stack(&t, 0), e->err, "%s: error %#x", e->name, p32_stack(&t, 0));
        uint32_t ip = w16 ? (uint32_t)th_rd(&t, sp, 2) : p32_stack(&t, has_err);
        cr_assert_eq(ip, e->eip, "%s: ip %#x", e->name, ip);
        if (w16)
            cr_assert_eq(sp, P32_ESP0 - 18, "%s: 16-bit gate pushes words", e->name);
        th_fini(&t);
    }
}

/* ---- NMI blocking ends with IRET, whatever its form ---- */
struct nmi_case {
    const char *name;
    int mode; /* 16, 32, 64 */
};

Test(cpu_deliver, nmi_blocked_until_iret)
{
    static const struct nmi_case cases[] = {{"real", 16}, {"protected", 32}, {"long", 64}};
    for (unsigned c = 0; c < ARRAY_SIZE(cases); c++) {
        struct th t;
        int mode = cases[c].mode;
        uint64_t handler = 0x11000;
        if (mode != 32)
            th_init(&t);
        if (mode == 64) {
            th_mode64(&t);
            th_idt64(&t);
            th_wr(&t, TH_IDT + 32, (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
                                        ((handler >> 16) & 0xffff) << 48, 8);
            th_load(&t, handler, CODE(0xff, 0xc3, 0xf4, 0x48, 0xcf)); /* inc ebx; hlt; iretq */
        } else if (mode == 32) {
            p32_init(&t);
            p32_idt(&t, 2, GATE_DESC(S_CODE0, handler, 0x8e, 0));
            th_load(&t, handler, CODE(0x43, 0xf4, 0x90, 0xcf)); /* inc ebx; hlt; nop; iretd */
        } else {
            th_mode16(&t);
            handler = 0x1100; /* IVT entry 2 -> 0000:1100 */
            th_wr(&t, 8, handler, 4);
            th_load(&t, handler, CODE(0x43, 0xf4, 0x90, 0xcf)); /* inc bx; hlt; nop; iret */
        }
        th_load(&t, TH_CODE, CODE(0xf4, 0xf4, 0xf4));
        cpu_raise_event(t.vp, CPU_EV_NMI);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", cases[c].name);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX) & 0xffff, 1, "%s: first NMI taken", cases[c].name);
        cpu_raise_event(t.vp, CPU_EV_NMI);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", cases[c].name);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX) & 0xffff, 1, "%s: blocked in the handler", cases[c].name);
        cpu_set_halted(t.vp, false);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", cases[c].name);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX) & 0xffff, 2, "%s: taken after IRET", cases[c].name);
        th_fini(&t);
    }
}

Test(cpu_deliver, nmi_unblocked_by_task_return)
{
    struct th t;
    p32_init(&t);
    /* Task B's TSS at 0x9800 (S_SLOT0); NMI through an IDT task gate to it. B: inc ebx; hlt; iretd */
    p32_gdt(&t, S_SLOT0, SEG_DESC(0x9800, 0x67, 0x89, 0));
    for (unsigned k = 0; k < 0x68; k += 4)
        th_wr(&t, 0x9800 + k, 0, 4);
    th_wr(&t, 0x9800 + 0x20, 0x12000, 4);
    th_wr(&t, 0x9800 + 0x24, 2, 4);
    th_wr(&t, 0x9800 + 0x38, 0x58000, 4);
    const uint16_t segs[6] = {S_DATA0, S_CODE0, S_DATA0, S_DATA0, S_DATA0, S_DATA0};
    for (unsigned k = 0; k < 6; k++)
        th_wr(&t, 0x9800 + 0x48 + 4 * k, segs[k], 2);
    th_load(&t, 0x12000, CODE(0x43, 0xf4, 0xcf, 0xeb, 0xfb)); /* inc ebx; hlt; iretd; jmp -5 */
    p32_idt(&t, 2, GATE_DESC(S_SLOT0, 0, 0x85, 0));
    th_load(&t, TH_CODE, CODE(0xf4, 0xf4));
    cpu_raise_event(t.vp, CPU_EV_NMI);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(p32_sel(&t, SEG_TR), S_SLOT0, "NMI task runs");
    cpu_raise_event(t.vp, CPU_EV_NMI);
    cpu_set_halted(t.vp, false);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(p32_sel(&t, SEG_TR), S_SLOT0, "the second NMI enters the task again");
    cr_assert_eq(cpu_get_rip(t.vp), 0x12002, "after IRET and the task's re-entry");
    th_fini(&t);
}

/* ---- IA-32e delivery and IRETQ ---- */
static void boot64(struct th *t, const uint8_t *code, size_t len)
{
    th_init(t);
    th_mode64(t);
    th_idt64(t);
    th_load(t, TH_CODE, code, len);
}

static void idt64(struct th *t, unsigned vec, uint16_t sel, uint64_t off, unsigned access, unsigned ist)
{
    th_wr(t, TH_IDT + 16 * vec, (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)ist << 32) |
                                    ((uint64_t)access << 40) | ((off >> 16) & 0xffff) << 48, 8);
    th_wr(t, TH_IDT + 16 * vec + 8, off >> 32, 8);
}

Test(cpu_deliver, long_mode_ist_and_alignment)
{
    struct th t;
    boot64(&t, CODE(0xcd, VEC));
    idt64(&t, VEC, 0x08, TH_HANDLER + 16 * VEC, 0x8e, 2);
    th_wr(&t, 0x9000 + 0x24 + 8, 0x71008, 8); /* IST2, misaligned */
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), (int)VEC);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), 0x71000 - 40, "IST stack, aligned to 16");
    cr_assert_eq(th_rd(&t, 0x71000 - 16, 8), TH_STACK, "old RSP pushed");
    cr_assert_eq(p32_sel(&t, SEG_SS), 0x10, "an IST switch at the same CPL keeps SS");
    th_fini(&t);
}

struct lm_case {
    const char *name;
    uint16_t sel;
    uint64_t off;
    unsigned access;
    bool external;
    unsigned vec;
    uint32_t err;
};

static const struct lm_case lm_cases[] = {
    {"noncanonical_handler", 0x08, 0x0000800000000000ull, 0x8e, false, 13, 0},
    {"noncanonical_handler_ext", 0x08, 0x0000800000000000ull, 0x8e, true, 13, 1},
    {"handler_in_compat_code", 0x20, TH_HANDLER, 0x8e, false, 13, 0x20},
    {"task_gate", 0x08, TH_HANDLER, 0x85, false, 13, VEC * 8 + 2},
    {"gate16_type", 0x08, TH_HANDLER, 0x86, true, 13, VEC * 8 + 3},
};

Test(cpu_deliver, long_mode_gate_checks)
{
    for (unsigned c = 0; c < ARRAY_SIZE(lm_cases); c++) {
        const struct lm_case *e = &lm_cases[c];
        struct th t;
        boot64(&t, CODE(0xcd, VEC, 0x90, 0xf4));
        idt64(&t, VEC, e->sel, e->off, e->access, 0);
        if (e->external) {
            cpu_set_rflags(t.vp, 0x202);
            cpu_raise_event(t.vp, CPU_EV_INTR);
            th_wr(&t, TH_CODE, 0x90, 1);
            th_wr(&t, TH_CODE + 1, 0x90, 1);
        }
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", e->name);
        cr_assert_eq(th_vector(&t), (int)e->vec, "%s: vector %d", e->name, th_vector(&t));
        uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
        cr_assert_eq(th_rd(&t, sp, 8), e->err, "%s: error %#llx", e->name,
                     (unsigned long long)th_rd(&t, sp, 8));
        th_fini(&t);
    }
}

/* IRETQ frames built with mov rax, imm64; push rax. */
static unsigned push64(uint8_t *p, uint64_t v)
{
    p[0] = 0x48;
    p[1] = 0xb8;
    for (unsigned b = 0; b < 8; b++)
        p[2 + b] = (uint8_t)(v >> (8 * b));
    p[10] = 0x50;
    return 11;
}

struct iretq_case {
    const char *name;
    uint64_t ss, rsp, rflags, cs, rip;
    bool user_pages;
    int vec;           /* -1: returned; else the fault */
    uint32_t err;
    bool compat;
};

#define TGT (TH_CODE + 0x200)
static const struct iretq_case iretq_cases[] = {
    {"same_level_pops_ss_rsp", 0x10, 0x45678, 2, 0x08, TGT, false, -1, 0, false},
    {"null_ss_at_cpl0", 0, 0x45678, 2, 0x08, TGT, false, -1, 0, false},
    {"to_compat_mode", 0x10, 0x45678, 2, 0x20, TGT, false, -1, 0, true},
    {"to_ring3", 0x33, 0x45678, 2, 0x2b, TGT, true, 13, 0, false},
    {"noncanonical_rip", 0x10, 0x45678, 2, 0x08, 0x0000800000000000ull, false, 13, 0, false},
    {"null_ss_to_ring3", 0x03, 0x45678, 2, 0x2b, TGT, true, 13, 0, false},
    {"null_ss_to_compat", 0, 0x45678, 2, 0x20, TGT, false, 13, 0, false},
    {"ss_rpl_mismatch", 0x13, 0x45678, 2, 0x08, TGT, false, 13, 0x10, false},
    {"cs_rpl_below_cpl", 0x10, 0x45678, 2, 0x08, TGT, true, 13, 0x08, false},
    {"nt_set", 0x10, 0x45678, 2, 0x08, TGT, false, 13, 0, false},
};

Test(cpu_deliver, iretq_forms)
{
    for (unsigned c = 0; c < ARRAY_SIZE(iretq_cases); c++) {
        const struct iretq_case *e = &iretq_cases[c];
        uint8_t code[80];
        unsigned n = 0;
        const uint64_t frame[5] = {e->ss, e->rsp, e->rflags, e->cs, e->rip};
        for (unsigned k = 0; k < 5; k++)
            n += push64(code + n, frame[k]);
        code[n++] = 0x48;
        code[n++] = 0xcf;
        struct th t;
        boot64(&t, code, n);
        th_wr(&t, TGT, 0xf4, 1);
        th_wr(&t, 0x9004, 0x70000, 8);
        if (e->user_pages)
            th_user_pages(&t);
        if (!strcmp(e->name, "nt_set"))
            cpu_set_rflags(t.vp, 0x4002);
        if (!strcmp(e->name, "cs_rpl_below_cpl")) {
            /* Run at ring 3 and return to ring 0. */
            struct seg cs = {0x2b, 0, 0xffffffff, 0xa0fb}, ss = {0x33, 0, 0xffffffff, 0xc0f3};
            cpu_set_seg(t.vp, SEG_CS, &cs);
            cpu_set_seg(t.vp, SEG_SS, &ss);
        }
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", e->name);
        if (e->vec < 0) {
            cr_assert_eq(cpu_get_rip(t.vp), TGT + 1, "%s: rip %#llx", e->name,
                         (unsigned long long)cpu_get_rip(t.vp));
            cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), e->rsp, "%s: RSP popped", e->name);
            cr_assert_eq(cpu_in_64bit_mode(t.vp), !e->compat, "%s: mode", e->name);
            cr_assert_eq(p32_sel(&t, SEG_SS), e->ss, "%s: SS", e->name);
        } else {
            cr_assert_eq(th_vector(&t), e->vec, "%s: vector %d", e->name, th_vector(&t));
            uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
            if (!strcmp(e->name, "to_ring3")) {
                cr_assert_eq(th_rd(&t, sp + 8, 8), TGT, "%s: HLT at ring 3", e->name);
                cr_assert_eq(th_rd(&t, sp + 32, 8), e->rsp, "%s", e->name);
            } else {
                cr_assert_eq(th_rd(&t, sp, 8), e->err, "%s: error %#llx", e->name,
                             (unsigned long long)th_rd(&t, sp, 8));
                cr_assert_eq(th_rd(&t, sp + 8, 8), TH_CODE + 55, "%s: IRETQ faults", e->name);
            }
        }
        th_fini(&t);
    }
}

Test(cpu_deliver, iret_outer_level_32bit_nulls_segments)
{
    struct th t;
    p32_init(&t);
    /* push 0x23; push 0x50000; push 2; push 0x1b; push TH_CODE+0x40; iretd; at +0x40: hlt */
    th_load(&t, TH_CODE, CODE(0x6a, 0x23, 0x68, 0x00, 0x00, 0x05, 0x00, 0x6a, 0x02, 0x6a, 0x1b, 0x68,
                              0x40, 0x00, 0x01, 0x00, 0xcf));
    th_wr(&t, TH_CODE + 0x40, 0xf4, 1);
    struct seg fs = {S_DATA3, 0, 0xffffffff, 0xc0f3};
    cpu_set_seg(t.vp, SEG_FS, &fs);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "ring 3 HLT");
    cr_assert_eq(p32_stack(&t, 1), TH_CODE + 0x40);
    cr_assert_eq(p32_stack(&t, 4), 0x50000);
    cr_assert_eq(p32_sel(&t, SEG_DS), 0, "ring 0 DS nulled");
    cr_assert_eq(p32_sel(&t, SEG_FS), S_DATA3, "ring 3 FS kept");
    th_fini(&t);
}
