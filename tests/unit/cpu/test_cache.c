/* Decode cache: hits on re-execution, invalidation by writes to code pages (host/DMA writes,
 * guest stores into another block, a store into the running block), page-crossing
 * instructions, and exact budgets inside a block. */
#include <criterion/criterion.h>

#include "harness.h"

Test(cpu_cache, loop_decodes_once)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* mov ecx,1000; xor eax,eax; 1: add eax,3; dec ecx; jnz 1b; hlt */
    const uint8_t code[] = {0xb9, 0xe8, 0x03, 0, 0, 0x31, 0xc0, 0x83, 0xc0, 0x03, 0xff, 0xc9, 0x75, 0xf9, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100000), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 3000);
    cr_assert_eq(cpu_icount(t.vp), 2 + 3000 + 1);
    struct cpu_stats s;
    cpu_get_stats(t.vp, &s);
    cr_assert_leq(s.blocks_built, 4, "blocks built %llu", (unsigned long long)s.blocks_built);
    cr_assert_geq(s.decode_hits, 2990);
    th_fini(&t);
}

Test(cpu_cache, host_write_invalidates)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    const uint8_t code[] = {0xb8, 1, 0, 0, 0, 0xf4}; /* mov eax, 1; hlt */
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 1);
    th_wr(&t, TH_CODE + 1, 2, 1); /* a DMA-like write through the physical map */
    cpu_set_halted(t.vp, false);
    cpu_set_rip(t.vp, TH_CODE);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 2);
    struct cpu_stats s;
    cpu_get_stats(t.vp, &s);
    cr_assert_geq(s.code_invalidations, 1);
    th_fini(&t);
}

Test(cpu_cache, store_into_running_block)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* lea rsi,[rip+patch+1]; mov dword [rsi],42; patch: mov eax,1; hlt */
    const uint8_t code[] = {0x48, 0x8d, 0x35, 0x07, 0, 0, 0, 0xc7, 0x06, 0x2a, 0, 0, 0,
                            0xb8, 0x01, 0, 0, 0, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 42, "eax %#llx", (unsigned long long)cpu_get_gpr(t.vp, REG_RAX));
    cr_assert_eq(cpu_icount(t.vp), 4);
    th_fini(&t);
}

Test(cpu_cache, store_into_decoded_block)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* main: call target (decodes it); mov rbx,target; mov byte [rbx+1],9; jmp rbx.
     * target (TH_CODE+0x20): mov al, 5; ret-or-hlt selected by the caller */
    const uint8_t code[] = {0xe8, 0x1b, 0, 0, 0,                         /* call +0x1b -> 0x20 */
                            0x48, 0xc7, 0xc3, 0x20, 0x00, 0x01, 0x00,     /* mov rbx, 0x10020 */
                            0xc6, 0x43, 0x01, 0x09,                       /* mov byte [rbx+1], 9 */
                            0xc6, 0x43, 0x02, 0xf4,                       /* mov byte [rbx+2], hlt */
                            0xff, 0xe3};                                  /* jmp rbx */
    const uint8_t target[] = {0xb0, 0x05, 0xc3}; /* mov al, 5; ret */
    th_load(&t, TH_CODE, code, sizeof(code));
    th_load(&t, TH_CODE + 0x20, target, sizeof(target));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX) & 0xff, 9);
    cr_assert_eq(cpu_get_rip(t.vp), TH_CODE + 0x23);
    th_fini(&t);
}

Test(cpu_cache, instruction_across_pages)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* mov eax, 0x11223344 starting 2 bytes before a page boundary, twice through a loop. */
    const uint64_t at = 0x10ffe;
    const uint8_t insn[] = {0xb8, 0x44, 0x33, 0x22, 0x11, 0xff, 0xc1, 0xf4}; /* mov; inc ecx; hlt */
    th_load(&t, at, insn, sizeof(insn));
    cpu_set_rip(t.vp, at);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 0x11223344);
    th_wr(&t, 0x11000, 0x55, 1); /* change the byte on the second page */
    cpu_set_halted(t.vp, false);
    cpu_set_rip(t.vp, at);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 0x11225544);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RCX), 2);
    th_fini(&t);
}

Test(cpu_cache, budget_stops_inside_block)
{
    static const struct { uint64_t budget; uint64_t rax; } cases[] = {{1, 1}, {2, 2}, {3, 3}, {5, 5}};
    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        struct th t;
        th_init(&t);
        th_mode64(&t);
        const uint8_t code[] = {0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xff, 0xc0, 0xf4};
        th_load(&t, TH_CODE, code, sizeof(code));
        cr_assert_eq(th_run(&t, cases[k].budget), CPU_STOP_BUDGET, "budget %llu", (unsigned long long)cases[k].budget);
        cr_assert_eq(cpu_icount(t.vp), cases[k].budget);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), cases[k].rax);
        cr_assert_eq(cpu_get_rip(t.vp), TH_CODE + 2 * cases[k].budget);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 5);
        th_fini(&t);
    }
}

Test(cpu_cache, two_vps_share_invalidation)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    struct vcpu *vp2 = cpu_create(&t.pm, &t.env, 0); /* a second BSP-like VP: runs at once */
    cr_assert_not_null(vp2);
    const uint8_t code[] = {0xb8, 1, 0, 0, 0, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    /* vp2 runs in real mode at the same physical code (CS base TH_CODE): decode mode differs. */
    struct seg cs = {TH_CODE >> 4, TH_CODE, 0xffff, 0x9b};
    cpu_set_seg(vp2, SEG_CS, &cs);
    cpu_set_rip(vp2, 0);
    cr_assert_eq(cpu_run(vp2, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(vp2, REG_RAX) & 0xffff, 1);
    cpu_destroy(vp2);
    th_fini(&t);
}

Test(cpu_cache, data_store_beside_code_keeps_blocks)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* mov rsi, TH_CODE+0x40; mov dword [rsi], 7; mov eax, [rsi]; hlt -- data in the code page */
    const uint8_t code[] = {0x48, 0xc7, 0xc6, 0x40, 0x00, 0x01, 0x00, 0xc7, 0x06, 0x07, 0x00,
                            0x00, 0x00, 0x8b, 0x06, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    for (unsigned k = 0; k < 3; k++) {
        cpu_set_halted(t.vp, false);
        cpu_set_rip(t.vp, TH_CODE);
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
        cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 7);
    }
    struct cpu_stats s;
    cpu_get_stats(t.vp, &s);
    cr_assert_eq(s.code_invalidations, 0, "a store 0x30 bytes past the code kills nothing");
    cr_assert_eq(s.blocks_built, 1);
    th_fini(&t);
}
