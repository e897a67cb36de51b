/* Alignment check (SDM Vol 3 6.15, interrupt 17): #AC(0) for misaligned data accesses at CPL 3
 * with CR0.AM and RFLAGS.AC, by operand size (Table 6-7), on loads, stores, read-modify-write,
 * the stack, strings and x87 operands; none at CPL 0 or with either control clear; SSE aligned
 * forms keep their #GP; POPF turning AC on and off. The byte strings were assembled from the
 * text in the comment above each case. */
#include <criterion/criterion.h>

#include "cpu/vcpu.h"
#include "ring_harness.h"

#define C(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

struct ac_case {
    const char *name;
    unsigned cpl;
    const uint8_t *code;
    size_t len;
    int vec;      /* exception the run ends in (#UD: ran to the trailing UD2) */
    unsigned off; /* its pushed RIP, from TH_CODE */
    bool am, ac;  /* CR0.AM, RFLAGS.AC at the start */
    enum rh_mode mode;
    bool v86;          /* entered by IRETD into virtual-8086 mode (CPL 3) */
};

static const struct ac_case ac_cases[] = {
    /* t: mov ax, word ptr [0x40001]; ud2 */
    {"word_misaligned", 3, C(0x66, 0x8b, 0x04, 0x25, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_LM64, false},
    /* mov ax, word ptr [0x40002]; e: ud2 */
    {"word_aligned", 3, C(0x66, 0x8b, 0x04, 0x25, 0x02, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 8, 1, 1, RH_LM64, false},
    /* mov al, byte ptr [0x40001]; e: ud2 */
    {"byte_any_address", 3, C(0x8a, 0x04, 0x25, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 7, 1, 1, RH_LM64, false},
    /* t: mov eax, dword ptr [0x40002]; ud2 */
    {"dword_on_word_boundary", 3, C(0x8b, 0x04, 0x25, 0x02, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_LM64, false},
    /* mov eax, dword ptr [0x40004]; e: ud2 */
    {"dword_aligned", 3, C(0x8b, 0x04, 0x25, 0x04, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 7, 1, 1, RH_LM64, false},
    /* t: mov rax, qword ptr [0x40004]; ud2 */
    {"qword_on_dword_boundary", 3, C(0x48, 0x8b, 0x04, 0x25, 0x04, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_LM64, false},
    /* mov rax, qword ptr [0x40008]; e: ud2 */
    {"qword_aligned", 3, C(0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 8, 1, 1, RH_LM64, false},
    /* t: mov word ptr [0x40003], ax; ud2 */
    {"store_misaligned", 3, C(0x66, 0x89, 0x04, 0x25, 0x03, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_LM64, false},
    /* t: add dword ptr [0x40001], 1; ud2 */
    {"rmw_misaligned", 3, C(0x83, 0x04, 0x25, 0x01, 0x00, 0x04, 0x00, 0x01, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_LM64, false},
    /* sub rsp, 4; t: push rax; ud2 */
    {"push_misaligned_stack", 3, C(0x48, 0x83, 0xec, 0x04, 0x50, 0x0f, 0x0b), EXC_AC, 4, 1, 1, RH_LM64, false},
    /* mov esi, 0x40001; t: lodsw; ud2 */
    {"string_word_misaligned", 3, C(0xbe, 0x01, 0x00, 0x04, 0x00, 0x66, 0xad, 0x0f, 0x0b), EXC_AC, 5, 1, 1, RH_LM64, false},
    /* t: fld tbyte ptr [0x40004]; ud2 */
    {"x87_tword_on_dword_boundary", 3, C(0xdb, 0x2c, 0x25, 0x04, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_LM64, false},
    /* t: fnstenv [0x40002]; ud2 */
    {"x87_env_on_word_boundary", 3, C(0xd9, 0x34, 0x25, 0x02, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_LM64, false},
    /* movups xmm0, [0x40008]; e: ud2 */
    {"sse_unaligned_form_unchecked", 3, C(0x0f, 0x10, 0x04, 0x25, 0x08, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 8, 1, 1, RH_LM64, false},
    /* t: movaps xmm0, [0x40008]; ud2 */
    {"sse_aligned_form_keeps_gp", 3, C(0x0f, 0x28, 0x04, 0x25, 0x08, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_GP, 0, 1, 1, RH_LM64, false},
    /* mov ax, word ptr [0x40001]; e: ud2 */
    {"cpl0_not_checked", 0, C(0x66, 0x8b, 0x04, 0x25, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 8, 1, 1, RH_LM64, false},
    /* mov ax, word ptr [0x40001]; e: ud2 */
    {"cr0_am_clear", 3, C(0x66, 0x8b, 0x04, 0x25, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 8, 0, 1, RH_LM64, false},
    /* mov ax, word ptr [0x40001]; e: ud2 */
    {"rflags_ac_clear", 3, C(0x66, 0x8b, 0x04, 0x25, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 8, 1, 0, RH_LM64, false},
    /* pushfq; or dword ptr [rsp], 0x40000; popfq; t: mov ax, word ptr [0x40001]; ud2 */
    {"popf_sets_ac", 3, C(0x9c, 0x81, 0x0c, 0x24, 0x00, 0x00, 0x04, 0x00, 0x9d, 0x66, 0x8b, 0x04, 0x25, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_AC, 9, 1, 0, RH_LM64, false},
    /* pushfq; and dword ptr [rsp], 0xfffbffff; popfq; mov ax, word ptr [0x40001]; e: ud2 */
    {"popf_clears_ac", 3, C(0x9c, 0x81, 0x24, 0x24, 0xff, 0xff, 0xfb, 0xff, 0x9d, 0x66, 0x8b, 0x04, 0x25, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 17, 1, 1, RH_LM64, false},
    /* 32-bit protected mode, virtual-8086 mode (always CPL 3) and real mode (CPL 0). */
    /* t: mov ax, word ptr [0x40001]; ud2 */
    {"pm32_word_misaligned", 3, C(0x66, 0xa1, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_PM32, false},
    {"pm32_cpl0_unchecked", 0, C(0x66, 0xa1, 0x01, 0x00, 0x04, 0x00, 0x0f, 0x0b), EXC_UD, 6, 1, 1, RH_PM32, false},
    /* t: mov ax, word ptr [0x1] (DS base 0x40000); ud2 */
    {"v86_word_misaligned", 3, C(0xa1, 0x01, 0x00, 0x0f, 0x0b), EXC_AC, 0, 1, 1, RH_PM32, true},
    {"v86_ac_clear_none", 3, C(0xa1, 0x01, 0x00, 0x0f, 0x0b), EXC_UD, 3, 1, 0, RH_PM32, true},
    {"real_mode_unchecked", 0, C(0xa1, 0x01, 0x00, 0x0f, 0x0b), EXC_UD, 3, 1, 1, RH_REAL, false},
};

Test(cpu_ac, table)
{
    for (unsigned k = 0; k < sizeof(ac_cases) / sizeof(ac_cases[0]); k++) {
        const struct ac_case *c = &ac_cases[k];
        struct th t;
        uint64_t base = TH_CODE;
        if (c->v86) {
            rh_boot_v86(&t, 0, false, c->code, c->len);
            /* The EFLAGS image the IRETD loads (SDM: AC is loaded in every mode). */
            uint64_t fl = TH_STACK - 36 + 8;
            th_wr(&t, fl, th_rd(&t, fl, 4) | (c->ac ? 1u << 18 : 0), 4);
            base = 0;
        } else {
            rh_boot(&t, c->mode, c->cpl, 0, false, c->code, c->len);
            if (c->mode == RH_REAL)
                base = 0; /* the pushed IP is relative to CS = TH_CODE >> 4 */
            if (c->ac)
                cpu_set_rflags(t.vp, cpu_get_rflags(t.vp) | (1u << 18));
        }
        if (c->am)
            cpu_set_cr(t.vp, 0, cpu_get_cr(t.vp, 0) | (1u << 18));
        th_wr(&t, 0x40000, 0x1122334455667788ull, 8);
        cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "%s", c->name);
        cr_assert_eq(rh_vector(&t), c->vec, "%s: vector %d", c->name, rh_vector(&t));
        cr_assert_eq(rh_frame(&t, 0), base + c->off, "%s: pushed rip %#llx", c->name,
                     (unsigned long long)rh_frame(&t, 0));
        if (c->vec == EXC_AC) {
            cr_assert_eq(rh_errcode(&t), 0, "%s: error code", c->name);
            cr_assert_eq(th_rd(&t, 0x40000, 8), 0x1122334455667788ull, "%s: memory untouched",
                         c->name);
        }
        th_fini(&t);
    }
}
