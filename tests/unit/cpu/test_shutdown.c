/* Triple fault: the VP enters shutdown, cpu_run stops with CPU_STOP_SHUTDOWN, and the hypervisor
 * hears of it exactly once through the exit interface (VT-x exit reason 2, TRIPLE_FAULT). */
#include <criterion/criterion.h>

#include "harness.h"

Test(cpu_shutdown, triple_fault_is_one_exit)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* An empty IDT: #UD cannot be delivered (#GP), nor can the #GP (#DF), nor the #DF. */
    struct dtr idt = {0, 0};
    cpu_set_dtr(t.vp, true, &idt);
    static const uint8_t code[] = {0x0f, 0x0b}; /* ud2 */
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_expect_eq(th_run(&t, 100), CPU_STOP_SHUTDOWN);
    cr_expect_eq(t.reasons[EXIT_REASON_TRIPLE_FAULT], 1);
    cr_expect_eq(t.last.reason, EXIT_REASON_TRIPLE_FAULT);
    cr_expect_eq(t.last.rip, TH_CODE, "the exit names the instruction that faulted (0x%llx)",
                 (unsigned long long)t.last.rip);
    /* Staying in shutdown does not repeat the exit; a reset leaves shutdown. */
    cr_expect_eq(th_run(&t, 100), CPU_STOP_SHUTDOWN);
    cr_expect_eq(t.reasons[EXIT_REASON_TRIPLE_FAULT], 1);
    cpu_reset(t.vp);
    th_mode64(&t);
    cpu_set_dtr(t.vp, true, &idt);
    th_load(&t, TH_CODE, code, sizeof(code));
    cr_expect_eq(th_run(&t, 100), CPU_STOP_SHUTDOWN);
    cr_expect_eq(t.reasons[EXIT_REASON_TRIPLE_FAULT], 2);
    th_fini(&t);
}
