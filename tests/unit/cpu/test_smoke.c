/* First checks: a straight-line 64-bit program runs to HLT. */
#include <criterion/criterion.h>

#include "harness.h"

Test(cpu_smoke, mov_add_hlt)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* mov eax, 5; add eax, 7; mov rbx, rax; hlt */
    const uint8_t code[] = {0xb8, 5, 0, 0, 0, 0x83, 0xc0, 7, 0x48, 0x89, 0xc3, 0xf4};
    th_load(&t, TH_CODE, code, sizeof(code));
    enum cpu_stop st = th_run(&t, 1000);
    cr_assert_eq(st, CPU_STOP_HALT, "stop %d rip %lx", st, (unsigned long)cpu_get_rip(t.vp));
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX), 12);
    cr_assert_eq(cpu_icount(t.vp), 4);
    th_fini(&t);
}
