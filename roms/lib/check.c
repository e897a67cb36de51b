/* Named test checks, the summary line, and the ways out of the guest (ACPI S5, debug-exit port). */
#include "guest.h"

static unsigned n_passed, n_failed;

bool check(const char *name, bool ok, const char *fmt, ...)
{
    if (ok) {
        n_passed++;
        printf("PASS: %s\n", name);
        return true;
    }
    n_failed++;
    printf("FAIL: %s (", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(")\n");
    return false;
}

unsigned test_passed(void) { return n_passed; }
unsigned test_failed(void) { return n_failed; }

void test_finish(void)
{
    printf("SUMMARY: %u passed, %u failed\n", n_passed, n_failed);
    debug_exit(n_failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS);
}

static __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void debug_exit(uint8_t value)
{
    outb(PORT_DEBUG_EXIT, value);
    halt_forever();
}

void poweroff(void)
{
    /* ACPI S5: SLP_TYP from the \_S5 package hvemu's DSDT declares, with SLP_EN. */
    outw(PORT_PM1A_CNT, (uint16_t)(PM1_SLP_TYP_S5 | PM1_SLP_EN));
    halt_forever();
}

void guest_exit(int status)
{
    if (status == 0)
        poweroff();
    debug_exit((uint8_t)status);
}
