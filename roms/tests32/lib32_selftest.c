/* Self-test of the 32-bit guest library (roms/lib32): printing, the GDT/TSS it runs on, try_call
 * recovery, ring-3 entry and return, and the I/O permission bitmap at CPL 3. */
#include "guest.h"

static void do_ud(void *p) { (void)p; __asm__ volatile("ud2"); }
static void do_gp(void *p) { (void)p; __asm__ volatile("mov %0, %%ds" ::"r"(0x1230) : "memory"); }
static void do_div0(void *p) { volatile unsigned z = 0; *(unsigned *)p = 7u / z; }
static void nothing(void *p) { *(int *)p = 42; }

static unsigned cpl_seen;
static void read_cpl(void *p)
{
    (void)p;
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    cpl_seen = cs & 3;
}
static void user_out(void *p) { outb((uint16_t)(uintptr_t)p, 0); }
static void user_in(void *p) { (void)inb((uint16_t)(uintptr_t)p); }

int main(uint32_t mb)
{
    (void)mb;
    printf("lib32 selftest: %s %d %u 0x%x %llu 0x%llx %ld\n", "str", -5, 7u, 0xabcu,
           12345678901234ull, 0x1122334455667788ull, -9l);
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", 18446744073709551615ull);
    CHECK("printf_64bit_decimal", strcmp(buf, "18446744073709551615") == 0);
    snprintf(buf, sizeof buf, "%08x|%5d|%ld", 0xbeefu, -42, 123456l);
    CHECK("printf_width_long", strcmp(buf, "0000beef|  -42|123456") == 0);

    uint16_t cs, tr;
    __asm__ volatile("mov %%cs, %0; str %1" : "=r"(cs), "=r"(tr));
    CHECK_EQ("runs_on_sel_code32", cs, SEL_CODE32);
    CHECK_EQ("tr_is_library_tss", tr, SEL_TSS);
    CHECK("protected_mode_paging_off", (read_cr0() & 0x80000001u) == 1);

    int x = 0;
    CHECK_EQ("try_call_returns_0", try_call(nothing, &x), 0);
    CHECK_EQ("try_call_ran_fn", x, 42);
    CHECK_EQ("try_call_catches_ud", try_call(do_ud, 0), TRAP_CAUGHT | 6);
    CHECK_EQ("try_call_catches_gp", try_call(do_gp, 0), TRAP_CAUGHT | 13);
    CHECK_EQ("gp_error_code_is_selector", trap_last.error_code, 0x1230);
    unsigned q;
    CHECK_EQ("try_call_catches_de", try_call(do_div0, &q), TRAP_CAUGHT | 0);

    CHECK_EQ("try_call_user_returns_0", try_call_user(read_cpl, 0), 0);
    CHECK_EQ("user_code_ran_at_cpl3", cpl_seen, 3);
    CHECK_EQ("ring3_ud_caught", try_call_user(do_ud, 0), TRAP_CAUGHT | 6);
    CHECK_EQ("ring3_out_denied_by_bitmap", try_call_user(user_out, (void *)0x80), TRAP_CAUGHT | 13);
    iomap_allow(0x80, 1, true);
    CHECK_EQ("ring3_out_allowed_by_bitmap", try_call_user(user_out, (void *)0x80), 0);
    CHECK_EQ("ring3_in_neighbour_denied", try_call_user(user_in, (void *)0x81), TRAP_CAUGHT | 13);
    iomap_allow(0x80, 1, false);
    CHECK_EQ("ring3_out_denied_again", try_call_user(user_out, (void *)0x80), TRAP_CAUGHT | 13);
    test_finish();
}
