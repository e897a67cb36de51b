/* Single step and data breakpoints inside REP string instructions (SDM Vol 3 17.3.1.2, 17.3.1.4):
 * the #DB trap comes after one iteration, with RIP still on the instruction and RCX counting
 * the iterations left, not after a whole chunk of them. */
#include <criterion/criterion.h>

#include "harness.h"

#define RFL_TF (1u << 8)

Test(cpu_rep_step, single_step_traps_after_each_iteration)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    th_idt64(&t);
    static const uint8_t code[] = {0xf3, 0xa4, 0xf4}; /* rep movsb ; hlt */
    th_load(&t, TH_CODE, code, sizeof(code));
    cpu_set_gpr(t.vp, 1, 5);            /* RCX */
    cpu_set_gpr(t.vp, 6, TH_DATA);      /* RSI */
    cpu_set_gpr(t.vp, 7, TH_DATA + 64); /* RDI */
    cpu_set_rflags(t.vp, 2 | RFL_TF);
    th_run(&t, 100);
    cr_expect_eq(th_vector(&t), 1, "#DB expected, got vector %d", th_vector(&t));
    cr_expect_eq(cpu_get_gpr(t.vp, 1), 4, "one iteration done (RCX %llu)",
                 (unsigned long long)cpu_get_gpr(t.vp, 1));
    cr_expect_eq(cpu_get_gpr(t.vp, 7), TH_DATA + 65);
    th_fini(&t);
}
