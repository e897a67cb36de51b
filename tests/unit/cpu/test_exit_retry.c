/* EXIT_RETRY: an exit handler that made partial progress (a rep hypercall) leaves the
 * instruction unretired with RIP on it, so it runs again after pending events. */
#include <criterion/criterion.h>

#include "harness.h"

Test(cpu_exit, retry_reexecutes_vmcall)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    static const uint8_t code[] = {0x0f, 0x01, 0xc1, 0xf4}; /* vmcall; hlt */
    th_load(&t, TH_CODE, code, sizeof(code));
    t.retries = 3;
    th_run(&t, 10);
    cr_expect_eq(t.reasons[EXIT_REASON_VMCALL], 4, "three partial exits, then the completing one");
    cr_expect(cpu_is_halted(t.vp), "completed, then HLT");
    cr_expect_eq(cpu_icount(t.vp), 2, "the VMCALL retired once, then HLT");
    th_fini(&t);
}
