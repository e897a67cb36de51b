/* 5-level paging in the CPU: CPUID advertises LA57 and 57 linear-address bits, MOV to CR4 may
 * change LA57 only outside IA-32e mode, and canonical checks (data, fetch, MSR bases) follow the
 * 57-bit width while CR4.LA57 is set. */
#include <criterion/criterion.h>

#include "harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define IMM64(v)                                                                                 \
    (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24),              \
        (uint8_t)((v) >> 32), (uint8_t)((v) >> 40), (uint8_t)((v) >> 48), (uint8_t)((v) >> 56)

#define CR4_LA57 (1ull << 12)
#define PML5 0x100000ull      /* PML5[0] -> the harness PML4 at 0x1000 (identity 0..1 GiB) */
#define VA57 0x0080000000000000ull /* PML5[128] -> ... -> 2 MiB page at DATA57 */
#define DATA57 0x200000ull

/* mov rax, imm64; mov rbx, [rax]; hlt */
#define LOAD(va) 0x48, 0xb8, IMM64(va), 0x48, 0x8b, 0x18, 0xf4
/* mov rax, imm64; jmp rax */
#define JUMP(va) 0x48, 0xb8, IMM64(va), 0xff, 0xe0

static void setup(struct th *t, bool la57)
{
    th_init(t);
    th_mode64(t);
    th_idt64(t);
    th_wr(t, PML5, 0x1000 | 3, 8);
    th_wr(t, PML5 + 8 * 128, (PML5 + 0x1000) | 3, 8);
    th_wr(t, PML5 + 0x1000, (PML5 + 0x2000) | 3, 8);
    th_wr(t, PML5 + 0x2000, (PML5 + 0x3000) | 3, 8);
    th_wr(t, PML5 + 0x3000, DATA57 | 0x83, 8);
    th_wr(t, DATA57 + 0x10, 0x5757575757575757ull, 8);
    th_wr(t, DATA57 + 0x100, 0x000057bb, 4); /* mov ebx, 0x57; hlt */
    th_wr(t, DATA57 + 0x104, 0xf400, 2);
    if (la57) {
        cpu_set_cr(t->vp, 4, cpu_get_cr(t->vp, 4) | CR4_LA57);
        cpu_set_cr(t->vp, 3, PML5);
    }
}

struct la57_case {
    const char *name;
    bool la57;
    const uint8_t *code;
    unsigned len;
    int vector;     /* -1: ran to its HLT */
    uint64_t cr2;   /* for #PF (error code 0 for every faulting case here) */
    uint64_t rbx;   /* when vector is -1 */
};

static const struct la57_case cases[] = {
    {"read_57bit_mapped", true, CODE(LOAD(VA57 + 0x10)), -1, 0, 0x5757575757575757ull},
    {"read_57bit_without_la57_gp", false, CODE(LOAD(VA57 + 0x10)), 13, 0, 0},
    {"read_48bit_noncanonical_is_pf_with_la57", true, CODE(LOAD(0x0000800000000000ull)), 14,
     0x0000800000000000ull, 0},
    {"read_48bit_noncanonical_without_la57_gp", false, CODE(LOAD(0x0000800000000000ull)), 13, 0, 0},
    {"read_negative_57bit_not_present_pf", true, CODE(LOAD(0xff00000000000008ull)), 14,
     0xff00000000000008ull, 0},
    {"read_bit56_noncanonical_gp", true, CODE(LOAD(0x0100000000000000ull)), 13, 0, 0},
    {"read_bits63_57_noncanonical_gp", true, CODE(LOAD(0xfe00000000000000ull)), 13, 0, 0},
    {"read_top_bit_noncanonical_gp", true, CODE(LOAD(0x8000000000000000ull)), 13, 0, 0},
    {"fetch_57bit_mapped", true, CODE(JUMP(VA57 + 0x100)), -1, 0, 0x57},
    {"fetch_57bit_without_la57_gp", false, CODE(JUMP(VA57 + 0x100)), 13, 0, 0},
    /* mov rax, cr4; btc rax, 12; mov cr4, rax; hlt */
    {"mov_cr4_set_la57_in_long_mode_gp", false,
     CODE(0x0f, 0x20, 0xe0, 0x48, 0x0f, 0xba, 0xf8, 0x0c, 0x0f, 0x22, 0xe0, 0xf4), 13, 0, 0},
    {"mov_cr4_clear_la57_in_long_mode_gp", true,
     CODE(0x0f, 0x20, 0xe0, 0x48, 0x0f, 0xba, 0xf8, 0x0c, 0x0f, 0x22, 0xe0, 0xf4), 13, 0, 0},
    /* mov rax, cr4; mov cr4, rax; xor ebx, ebx; hlt: rewriting the same LA57 is allowed. */
    {"mov_cr4_same_la57_ok", true, CODE(0x0f, 0x20, 0xe0, 0x0f, 0x22, 0xe0, 0x31, 0xdb, 0xf4), -1, 0, 0},
    /* mov ecx, FS_BASE; xor eax, eax; mov edx, 0x00800000; wrmsr; xor ebx, ebx; hlt */
    {"wrmsr_fs_base_57bit_ok", true,
     CODE(0xb9, 0x00, 0x01, 0x00, 0xc0, 0x31, 0xc0, 0xba, 0x00, 0x00, 0x80, 0x00, 0x0f, 0x30, 0x31, 0xdb,
          0xf4),
     -1, 0, 0},
    {"wrmsr_fs_base_57bit_without_la57_gp", false,
     CODE(0xb9, 0x00, 0x01, 0x00, 0xc0, 0x31, 0xc0, 0xba, 0x00, 0x00, 0x80, 0x00, 0x0f, 0x30, 0x31, 0xdb,
          0xf4),
     13, 0, 0},
};

Test(cpu_la57, table)
{
    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        const struct la57_case *c = &cases[k];
        struct th t;
        setup(&t, c->la57);
        uint64_t cr4 = cpu_get_cr(t.vp, 4);
        cpu_set_gpr(t.vp, REG_RBX, 0xdead);
        th_load(&t, TH_CODE, c->code, c->len);
        cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "%s", c->name);
        cr_assert_eq(th_vector(&t), c->vector, "%s: vector %d", c->name, th_vector(&t));
        cr_assert_eq(cpu_get_cr(t.vp, 4), cr4, "%s: CR4 %#llx", c->name,
                     (unsigned long long)cpu_get_cr(t.vp, 4));
        if (c->vector < 0) {
            cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX), c->rbx, "%s: rbx %#llx", c->name,
                         (unsigned long long)cpu_get_gpr(t.vp, REG_RBX));
        } else {
            uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
            cr_assert_eq(sp, TH_STACK - 48, "%s: rsp %#llx", c->name, (unsigned long long)sp);
            cr_assert_eq(th_rd(&t, sp, 8), 0, "%s: error code %#llx", c->name,
                         (unsigned long long)th_rd(&t, sp, 8));
        }
        if (c->vector == 14)
            cr_assert_eq(cpu_get_cr(t.vp, 2), c->cr2, "%s: cr2 %#llx", c->name,
                         (unsigned long long)cpu_get_cr(t.vp, 2));
        th_fini(&t);
    }
}

Test(cpu_la57, wrmsr_fs_base_57bit_value)
{
    struct th t;
    setup(&t, true);
    th_load(&t, TH_CODE, cases[13].code, cases[13].len);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    struct seg fs;
    cpu_get_seg(t.vp, SEG_FS, &fs);
    cr_assert_eq(fs.base, VA57, "FS base %#llx", (unsigned long long)fs.base);
    th_fini(&t);
}

/* Outside IA-32e mode (32-bit protected mode, paging off) CR4.LA57 may be set and cleared. */
Test(cpu_la57, mov_cr4_la57_outside_long_mode)
{
    struct th t;
    th_init(&t);
    th_mode32(&t);
    /* mov eax, cr4; or eax, 0x1000; mov cr4, eax; mov ebx, cr4; and eax, ~0x1000; mov cr4, eax; hlt */
    th_load(&t, TH_CODE,
            CODE(0x0f, 0x20, 0xe0, 0x0d, 0x00, 0x10, 0x00, 0x00, 0x0f, 0x22, 0xe0, 0x0f, 0x20, 0xe3, 0x25,
                 0xff, 0xef, 0xff, 0xff, 0x0f, 0x22, 0xe0, 0xf4));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert(cpu_get_gpr(t.vp, REG_RBX) & CR4_LA57, "LA57 was set");
    cr_assert_eq(cpu_get_cr(t.vp, 4) & CR4_LA57, 0, "LA57 was cleared");
    th_fini(&t);
}

Test(cpu_la57, cpuid_advertises_la57)
{
    struct th t;
    th_init(&t);
    uint32_t r[4];
    cpu_cpuid_default(t.vp, 7, 0, r);
    cr_assert(r[2] & (1u << 16), "CPUID.7.0:ECX.LA57");
    cpu_cpuid_default(t.vp, 0x80000008, 0, r);
    cr_assert_eq((r[0] >> 8) & 0xff, 57, "linear-address bits");
    th_fini(&t);
}
