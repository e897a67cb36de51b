/* Call gates (SDM Vol 3 5.8): 16/32-bit gates with stack switch and parameter copy, far RET to an
 * outer level, every check's vector and error code, and 64-bit call gates in IA-32e mode. */
#include <criterion/criterion.h>

#include "pm32_env.h"

#define INNER 0x11000u

/* Ring 3 pushes two parameters and calls gate 0x5b (to ring 0 code at INNER). */
static const uint8_t call_two_params[] = {
    0x68, 0x44, 0x44, 0x33, 0x33,             /* push 0x33334444 */
    0x68, 0x22, 0x22, 0x11, 0x11,             /* push 0x11112222 */
    0x9a, 0x00, 0x00, 0x00, 0x00, 0x5b, 0x00, /* call 0x5b:0 */
    0xf4,                                     /* hlt: #GP at ring 3 */
};
#define RET_EIP (TH_CODE + 17)

struct gate_frame_case {
    const char *name;
    unsigned type; /* 0xc: 32-bit gate, 4: 16-bit gate */
    unsigned w;
    uint32_t target; /* a 16-bit gate holds a 16-bit offset */
};

Test(cpu_gates, inner_call_switches_stack_and_copies_parameters)
{
    static const struct gate_frame_case cases[] = {{"gate32", 0xc, 4, INNER}, {"gate16", 4, 2, 0xf000}};
    for (unsigned c = 0; c < ARRAY_SIZE(cases); c++) {
        struct th t;
        p32_init(&t);
        uint32_t target = cases[c].target;
        p32_gdt(&t, S_SLOT0, GATE_DESC(S_CODE0, target, 0xe0 | cases[c].type, 2));
        th_wr(&t, target, 0xf4, 1);
        th_load(&t, TH_CODE, call_two_params, sizeof(call_two_params));
        p32_ring(&t, 3, TH_CODE, P32_USTACK);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", cases[c].name);
        cr_assert_eq(cpu_get_rip(t.vp), target + 1, "%s: at the gate's target", cases[c].name);
        cr_assert_eq(cpu_get_cpl(t.vp), 0, "%s", cases[c].name);
        cr_assert_eq(p32_sel(&t, SEG_SS), S_DATA0, "%s: SS0 from the TSS", cases[c].name);
        unsigned w = cases[c].w;
        uint32_t sp = (uint32_t)cpu_get_gpr(t.vp, REG_RSP);
        cr_assert_eq(sp, P32_ESP0 - 6 * w, "%s: esp %#x", cases[c].name, sp);
        /* From the top: EIP, CS, the parameters in the caller's order, ESP, SS. */
        uint64_t mask = w == 2 ? 0xffff : 0xffffffff;
        /* Parameters are gate-sized words from the caller's stack top. */
        const uint64_t want[6] = {RET_EIP & mask, S_CODE3, w == 2 ? 0x2222 : 0x11112222,
                                  w == 2 ? 0x1111 : 0x33334444, (P32_USTACK - 8) & mask, S_DATA3};
        for (unsigned k = 0; k < 6; k++)
            cr_assert_eq(th_rd(&t, sp + k * w, w), want[k], "%s: slot %u = %#llx", cases[c].name, k,
                         (unsigned long long)th_rd(&t, sp + k * w, w));
        th_fini(&t);
    }
}

Test(cpu_gates, far_ret_to_outer_level_nulls_inner_data_segments)
{
    struct th t;
    p32_init(&t);
    p32_gdt(&t, S_SLOT0, GATE_DESC(S_CODE0, INNER, 0xec, 2));
    /* Ring 0: mov ax, 0x10; mov ds, ax; retf 8 */
    const uint8_t inner[] = {0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0xca, 0x08, 0x00};
    th_load(&t, INNER, inner, sizeof(inner));
    th_load(&t, TH_CODE, call_two_params, sizeof(call_two_params));
    p32_ring(&t, 3, TH_CODE, P32_USTACK);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "the ring 3 HLT after the return faults");
    cr_assert_eq(p32_stack(&t, 1), RET_EIP);
    cr_assert_eq(p32_stack(&t, 2), S_CODE3);
    cr_assert_eq(p32_stack(&t, 4), P32_USTACK, "RETF 8 released the parameters");
    cr_assert_eq(p32_stack(&t, 5), S_DATA3);
    cr_assert_eq(p32_sel(&t, SEG_DS), 0, "DS held a ring 0 segment: nulled");
    cr_assert_eq(p32_sel(&t, SEG_ES), S_DATA3, "ES kept");
    th_fini(&t);
}

Test(cpu_gates, same_level_call_and_jmp_through_gates)
{
    struct th t;
    p32_init(&t);
    p32_gdt(&t, S_SLOT0, GATE_DESC(S_CODE0, INNER, 0x8c, 0));        /* 32-bit gate */
    p32_gdt(&t, S_SLOT1, GATE_DESC(S_CODE0, INNER + 0x10, 0x8c, 0)); /* jmp target */
    /* call 0x58:0 ; (INNER:) jmp 0x60:0 ; (INNER+0x10:) hlt */
    th_load(&t, TH_CODE, CODE(0x9a, 0, 0, 0, 0, 0x58, 0x00, 0xf4));
    th_load(&t, INNER, CODE(0xea, 0, 0, 0, 0, 0x60, 0x00));
    th_wr(&t, INNER + 0x10, 0xf4, 1);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), INNER + 0x11);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), TH_STACK - 8, "no stack switch at the same level");
    cr_assert_eq(p32_stack(&t, 0), TH_CODE + 7);
    cr_assert_eq(p32_stack(&t, 1), S_CODE0);
    th_fini(&t);
}

/* Error cases: ring 2 calls gate S_SLOT0 (to ring 1 code unless changed), so that ring 0 takes
 * the fault on its own good stack. */
struct gate_err_case {
    const char *name;
    uint64_t gate;      /* descriptor at S_SLOT0 */
    uint64_t slot1;     /* descriptor at S_SLOT1 (0: none) */
    uint16_t ss1;       /* TSS SS1 */
    uint32_t tr_limit;  /* TR limit */
    uint8_t sel_rpl;    /* RPL of the gate selector in the far pointer */
    bool jmp;           /* JMP instead of CALL */
    unsigned vec;
    uint32_t err;
};

#define G1(acc) GATE_DESC(S_CODE1, INNER, (acc), 0)
static const struct gate_err_case gate_errs[] = {
    {"gate_dpl_below_cpl", G1(0xac), 0, S_DATA1, 0x67, 2, false, 13, S_SLOT0},
    {"gate_rpl_above_dpl", G1(0xcc), 0, S_DATA1, 0x67, 3, false, 13, S_SLOT0},
    {"gate_not_present", G1(0x6c), 0, S_DATA1, 0x67, 2, false, 11, S_SLOT0},
    {"gate_is_ldt", SEG_DESC(0, 0xfff, 0xe2, 0), 0, S_DATA1, 0x67, 2, false, 13, S_SLOT0},
    {"interrupt_gate", G1(0xee), 0, S_DATA1, 0x67, 2, false, 13, S_SLOT0},
    {"target_null", GATE_DESC(0, INNER, 0xec, 0), 0, S_DATA1, 0x67, 2, false, 13, 0},
    {"target_data", GATE_DESC(S_DATA1, INNER, 0xec, 0), 0, S_DATA1, 0x67, 2, false, 13, S_DATA1 & ~3},
    {"target_outer", GATE_DESC(S_CODE3, INNER, 0xec, 0), 0, S_DATA1, 0x67, 2, false, 13, S_CODE3 & ~3},
    {"target_not_present", GATE_DESC(S_SLOT1 | 1, INNER, 0xec, 0), SEG_DESC(0, 0xfffff, 0x3b, 0xc),
     S_DATA1, 0x67, 2, false, 11, S_SLOT1},
    {"target_beyond_gdt", GATE_DESC(0x101, INNER, 0xec, 0), 0, S_DATA1, 0x67, 2, false, 13, 0x100},
    {"ip_beyond_limit", GATE_DESC(S_SLOT1 | 1, 0x2000, 0xec, 0), SEG_DESC(0, 0xfff, 0xbb, 0x4),
     S_DATA1, 0x67, 2, false, 13, 0},
    {"ss1_null", G1(0xec), 0, 0, 0x67, 2, false, 10, 0},
    {"ss1_rpl_mismatch", G1(0xec), 0, S_DATA1 + 1, 0x67, 2, false, 10, S_DATA1 & ~3},
    {"ss1_dpl_mismatch", G1(0xec), 0, (S_DATA2 & ~3) | 1, 0x67, 2, false, 10, S_DATA2 & ~3},
    {"ss1_code", G1(0xec), 0, S_CODE1, 0x67, 2, false, 10, S_CODE1 & ~3},
    {"ss1_read_only", G1(0xec), SEG_DESC(0, 0xfffff, 0xb1, 0xc), S_SLOT1 | 1, 0x67, 2, false, 10, S_SLOT1},
    {"ss1_not_present", G1(0xec), SEG_DESC(0, 0xfffff, 0x33, 0xc), S_SLOT1 | 1, 0x67, 2, false, 12, S_SLOT1},
    {"ss1_no_room", G1(0xec), SEG_DESC(0, 0x60ff0, 0xb3, 0x4), S_SLOT1 | 1, 0x67, 2, false, 12, S_SLOT1},
    /* Expand-down: valid offsets lie above the limit (as expand-up this stack would fit). */
    {"ss1_expand_down_no_room", G1(0xec), SEG_DESC(0, 0x60fff, 0xb7, 0x4), S_SLOT1 | 1, 0x67, 2, false,
     12, S_SLOT1},
    {"tss_too_short", G1(0xec), 0, S_DATA1, 0x0f, 2, false, 10, S_TSS},
    {"jmp_to_inner", G1(0xec), 0, S_DATA1, 0x67, 2, true, 13, S_CODE1 & ~3},
    {"jmp_busy_tss", SEG_DESC(0x9800, 0x67, 0xeb, 0), 0, S_DATA1, 0x67, 2, true, 13, S_SLOT0},
};

Test(cpu_gates, call_gate_checks)
{
    for (unsigned c = 0; c < ARRAY_SIZE(gate_errs); c++) {
        const struct gate_err_case *e = &gate_errs[c];
        struct th t;
        p32_init(&t);
        p32_gdt(&t, S_SLOT0, e->gate);
        if (e->slot1)
            p32_gdt(&t, S_SLOT1, e->slot1);
        th_wr(&t, P32_TSS + 16, e->ss1, 4);
        struct seg tr = {S_TSS, P32_TSS, e->tr_limit, 0x8b};
        cpu_set_seg(t.vp, SEG_TR, &tr);
        th_wr(&t, INNER, 0xf4, 1);
        th_wr(&t, INNER + 0x2000, 0xf4, 1);
        th_load(&t, TH_CODE, CODE(e->jmp ? 0xea : 0x9a, 0, 0, 0, 0, S_SLOT0 | e->sel_rpl, 0x00, 0xf4));
        p32_ring(&t, 2, TH_CODE, P32_USTACK);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", e->name);
        cr_assert_eq(th_vector(&t), (int)e->vec, "%s: vector %d", e->name, th_vector(&t));
        cr_assert_eq(p32_stack(&t, 0), e->err, "%s: error %#x", e->name, p32_stack(&t, 0));
        cr_assert_eq(p32_stack(&t, 1), TH_CODE, "%s: faults on the far transfer", e->name);
        cr_assert_eq(p32_stack(&t, 2), S_CODE2, "%s: nothing committed", e->name);
        cr_assert_eq(p32_stack(&t, 4), P32_USTACK, "%s", e->name);
        th_fini(&t);
    }
}

/* ---- IA-32e: 64-bit call gates (16-byte descriptors, no parameters, SS null at the new CPL) */

#define G64 0x40u /* gate slot in th_mode64's GDT */

static void gate64(struct th *t, uint16_t csel, uint64_t off, unsigned access, uint32_t upper_type)
{
    th_wr(t, TH_GDT + G64, GATE_DESC(csel, (uint32_t)off, access, 0), 8);
    th_wr(t, TH_GDT + G64 + 8, (off >> 32) | ((uint64_t)upper_type << 40), 8);
}

static void boot64_user(struct th *t)
{
    th_init(t);
    th_mode64(t);
    th_idt64(t);
    th_user_pages(t);
    th_wr(t, 0x9004, 0x70000, 8); /* RSP0 */
    /* call far [0x40000] (m16:32 pointer: offset 0, selector G64 | 3); hlt */
    th_load(t, TH_CODE, CODE(0xff, 0x1c, 0x25, 0x00, 0x00, 0x04, 0x00, 0xf4));
    th_wr(t, 0x40000, (uint64_t)(G64 | 3) << 32, 8);
    struct seg cs = {0x2b, 0, 0xffffffff, 0xa0fb}, ss = {0x33, 0, 0xffffffff, 0xc0f3};
    cpu_set_seg(t->vp, SEG_CS, &cs);
    cpu_set_seg(t->vp, SEG_SS, &ss);
    cpu_set_gpr(t->vp, REG_RSP, P32_USTACK);
}

Test(cpu_gates, gate64_inner_call_and_retfq)
{
    struct th t;
    boot64_user(&t);
    gate64(&t, 0x08, 0x11000, 0xec, 0);
    th_wr(&t, 0x11000, 0xf4, 1);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), 0x11001);
    cr_assert_eq(cpu_get_cpl(t.vp), 0);
    struct seg ss;
    cpu_get_seg(t.vp, SEG_SS, &ss);
    cr_assert_eq(ss.sel, 0, "SS is null with RPL = new CPL");
    uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
    cr_assert_eq(sp, 0x70000 - 32);
    const uint64_t want[4] = {TH_CODE + 7, 0x2b, P32_USTACK, 0x33};
    for (unsigned k = 0; k < 4; k++)
        cr_assert_eq(th_rd(&t, sp + 8 * k, 8), want[k], "slot %u", k);
    th_fini(&t);

    boot64_user(&t);
    gate64(&t, 0x08, 0x11000, 0xec, 0);
    th_load(&t, 0x11000, CODE(0x48, 0xcb)); /* retfq */
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "back at ring 3: HLT faults");
    sp = cpu_get_gpr(t.vp, REG_RSP);
    cr_assert_eq(th_rd(&t, sp + 8, 8), TH_CODE + 7);
    cr_assert_eq(th_rd(&t, sp + 16, 8), 0x2b);
    cr_assert_eq(th_rd(&t, sp + 32, 8), P32_USTACK, "RSP restored by RETFQ");
    cr_assert_eq(th_rd(&t, sp + 40, 8), 0x33);
    th_fini(&t);
}

struct gate64_case {
    const char *name;
    uint16_t csel;
    unsigned access;
    uint32_t upper_type;
    uint16_t gdt_limit;
    unsigned vec;
    uint32_t err;
};

static const struct gate64_case gate64_errs[] = {
    {"upper_type_not_zero", 0x08, 0xec, 0x0c, 0x7f, 13, G64},
    {"gate16_type", 0x08, 0xe4, 0, 0x7f, 13, G64},
    {"task_gate", 0x08, 0xe5, 0, 0x7f, 13, G64},
    {"target_32bit_code", 0x20, 0xec, 0, 0x7f, 13, 0x20},
    {"gate_upper_half_beyond_gdt", 0x08, 0xec, 0, G64 + 8 + 7 - 1, 13, G64},
    {"gate_not_present", 0x08, 0x6c, 0, 0x7f, 11, G64},
};

Test(cpu_gates, gate64_checks)
{
    for (unsigned c = 0; c < ARRAY_SIZE(gate64_errs); c++) {
        const struct gate64_case *e = &gate64_errs[c];
        struct th t;
        boot64_user(&t);
        gate64(&t, e->csel, 0x11000, e->access, e->upper_type);
        struct dtr g = {TH_GDT, e->gdt_limit};
        cpu_set_dtr(t.vp, false, &g);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", e->name);
        cr_assert_eq(th_vector(&t), (int)e->vec, "%s: vector %d", e->name, th_vector(&t));
        uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
        cr_assert_eq(th_rd(&t, sp, 8), e->err, "%s: error %#llx", e->name,
                     (unsigned long long)th_rd(&t, sp, 8));
        cr_assert_eq(th_rd(&t, sp + 8, 8), TH_CODE, "%s", e->name);
        th_fini(&t);
    }
}

Test(cpu_gates, gate64_same_level_from_compat_mode)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    th_idt64(&t);
    gate64(&t, 0x08, 0x11000, 0x8c, 0);
    th_wr(&t, 0x11000, 0xf4, 1);
    /* In compatibility mode (CS 0x20): call 0x40:0 (ptr16:32); the pushes are 8 bytes. */
    th_load(&t, TH_CODE, CODE(0x9a, 0, 0, 0, 0, G64, 0x00, 0xf4));
    struct seg cs = {0x20, 0, 0xffffffff, 0xc09b};
    cpu_set_seg(t.vp, SEG_CS, &cs);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_rip(t.vp), 0x11001);
    cr_assert(cpu_in_64bit_mode(t.vp));
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSP), TH_STACK - 16);
    cr_assert_eq(th_rd(&t, TH_STACK - 16, 8), TH_CODE + 7);
    cr_assert_eq(th_rd(&t, TH_STACK - 8, 8), 0x20);
    th_fini(&t);
}

/* RETF 8 from ring 0 to an outer level: the popped CS and SS are checked (SDM RET,
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL) before anything changes. */
struct retf_case {
    const char *name;
    uint32_t cs, ss;
    uint64_t slot0, slot1;
    unsigned vec;
    uint32_t err;
    bool returned;
};

static const struct retf_case retf_cases[] = {
    {"to_ring3", S_CODE3, S_DATA3, 0, 0, 13, 0, true},
    {"null_ss", S_CODE3, 3, 0, 0, 13, 0, false},
    {"ss_rpl_not_cs_rpl", S_CODE3, S_DATA3 & ~3, 0, 0, 13, S_DATA3 & ~3, false},
    {"ss_dpl_not_cs_rpl", S_CODE3, (S_DATA0 & ~3) | 3, 0, 0, 13, S_DATA0 & ~3, false},
    {"ss_is_code", S_CODE3, S_CODE3, 0, 0, 13, S_CODE3 & ~3, false},
    {"ss_not_present", S_CODE3, S_SLOT0 | 3, SEG_DESC(0, 0xfffff, 0x73, 0xc), 0, 12, S_SLOT0, false},
    {"cs_is_data", S_DATA3, S_DATA3, 0, 0, 13, S_DATA3 & ~3, false},
    {"cs_not_present", S_SLOT1 | 3, S_DATA3, 0, SEG_DESC(0, 0xfffff, 0x7b, 0xc), 11, S_SLOT1, false},
    {"cs_dpl_not_rpl", (S_CODE0 & ~3) | 3, S_DATA3, 0, 0, 13, S_CODE0 & ~3, false},
};

Test(cpu_gates, far_ret_outer_checks)
{
    for (unsigned c = 0; c < ARRAY_SIZE(retf_cases); c++) {
        const struct retf_case *e = &retf_cases[c];
        struct th t;
        p32_init(&t);
        if (e->slot0)
            p32_gdt(&t, S_SLOT0, e->slot0);
        if (e->slot1)
            p32_gdt(&t, S_SLOT1, e->slot1);
        /* push ss; push 0x50000; push 0; push 0; push cs; push TH_CODE+0x100; retf 8 */
        const uint32_t words[6] = {e->ss, P32_USTACK, 0, 0, e->cs, TH_CODE + 0x100};
        uint8_t code[40];
        unsigned n = 0;
        for (unsigned k = 0; k < 6; k++) {
            code[n++] = 0x68;
            for (unsigned b = 0; b < 4; b++)
                code[n++] = (uint8_t)(words[k] >> (8 * b));
        }
        code[n++] = 0xca;
        code[n++] = 0x08;
        code[n++] = 0x00;
        th_load(&t, TH_CODE, code, n);
        th_wr(&t, TH_CODE + 0x100, 0xf4, 1);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "%s", e->name);
        cr_assert_eq(th_vector(&t), (int)e->vec, "%s: vector %d", e->name, th_vector(&t));
        cr_assert_eq(p32_stack(&t, 0), e->err, "%s: error %#x", e->name, p32_stack(&t, 0));
        if (e->returned) {
            cr_assert_eq(p32_stack(&t, 1), TH_CODE + 0x100, "%s", e->name);
            cr_assert_eq(p32_stack(&t, 2), S_CODE3, "%s", e->name);
            cr_assert_eq(p32_stack(&t, 4), P32_USTACK + 8, "%s: RETF 8 on the outer stack too", e->name);
            cr_assert_eq(p32_stack(&t, 5), S_DATA3, "%s", e->name);
        } else {
            cr_assert_eq(p32_stack(&t, 1), TH_CODE + 30, "%s: the RETF faults", e->name);
            cr_assert_eq(p32_stack(&t, 2), S_CODE0, "%s: still ring 0", e->name);
        }
        th_fini(&t);
    }
}
