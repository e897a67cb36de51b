/* PCID (CR4.PCIDE, CR3 PCID bits and bit 63): the enable rules, and that translations always
 * follow the current CR3 even when a switch asks to keep the old PCID's entries. */
#include <criterion/criterion.h>

#include "harness.h"

static const uint8_t switch_code[] = {
    0x0f, 0x20, 0xe0,                               /* mov rax, cr4 */
    0x0d, 0x00, 0x00, 0x02, 0x00,                   /* or eax, CR4.PCIDE */
    0x0f, 0x22, 0xe0,                               /* mov cr4, rax */
    0x48, 0x8b, 0x1c, 0x25, 0x00, 0x01, 0x20, 0x00, /* mov rbx, [0x200100] */
    0x48, 0xb8, 0x01, 0x80, 0, 0, 0, 0, 0, 0x80,    /* mov rax, 1<<63 | 0x8000 | PCID 1 */
    0x0f, 0x22, 0xd8,                               /* mov cr3, rax */
    0x48, 0x8b, 0x0c, 0x25, 0x00, 0x01, 0x20, 0x00, /* mov rcx, [0x200100] */
    0x48, 0xb8, 0x00, 0x10, 0, 0, 0, 0, 0, 0x80,    /* mov rax, 1<<63 | 0x1000 | PCID 0 */
    0x0f, 0x22, 0xd8,                               /* mov cr3, rax */
    0x48, 0x8b, 0x14, 0x25, 0x00, 0x01, 0x20, 0x00, /* mov rdx, [0x200100] */
    0x0f, 0x20, 0xde,                               /* mov rsi, cr3 */
    0xf4,                                           /* hlt */
};

Test(cpu_pcid, advertised_in_cpuid)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    static const uint8_t code[] = {0xb8, 0x01, 0, 0, 0, 0x0f, 0xa2, 0xf4}; /* cpuid(1); hlt */
    th_load(&t, TH_CODE, code, sizeof(code));
    th_run(&t, 100);
    cr_expect(cpu_get_gpr(t.vp, REG_RCX) & (1u << 17), "CPUID.1:ECX.PCID");
    th_fini(&t);
}

Test(cpu_pcid, switch_keeps_translations_per_cr3)
{
    struct th t;
    th_init(&t);
    th_mode64(&t);
    /* A second hierarchy at 0x8000 maps the 2 MiB page at 0x200000 to 0x400000 instead. */
    th_wr(&t, 0x8000, 0x9000 | 3, 8);
    th_wr(&t, 0x9000, 0xA000 | 3, 8);
    for (uint64_t k = 0; k < 512; k++)
        th_wr(&t, 0xA000 + 8 * k, (k << 21) | 0x83, 8);
    th_wr(&t, 0xA000 + 8, 0x400000 | 0x83, 8);
    th_wr(&t, 0x200100, 0x1111, 8);
    th_wr(&t, 0x400100, 0x2222, 8);
    th_load(&t, TH_CODE, switch_code, sizeof(switch_code));
    th_run(&t, 1000);
    cr_expect_eq(cpu_get_gpr(t.vp, REG_RBX), 0x1111);
    cr_expect_eq(cpu_get_gpr(t.vp, REG_RCX), 0x2222, "PCID 1 must see its own tables");
    cr_expect_eq(cpu_get_gpr(t.vp, REG_RDX), 0x1111, "back on PCID 0 with bit 63 set");
    cr_expect_eq(cpu_get_gpr(t.vp, REG_RSI), 0x1000, "CR3 reads back without bit 63");
    cr_expect(cpu_get_cr(t.vp, 4) & (1u << 17));
    th_fini(&t);
}

struct pcid_gp_case {
    const char *what;
    uint64_t cr3;
    bool pcide;
    const uint8_t *code;
    size_t len;
};

static const uint8_t set_pcide[] = {0x0f, 0x20, 0xe0, 0x0d, 0x00, 0x00, 0x02, 0x00,
                                    0x0f, 0x22, 0xe0, 0xf4};
static const uint8_t cr3_bit63[] = {0x48, 0xb8, 0x00, 0x10, 0, 0, 0, 0, 0, 0x80,
                                    0x0f, 0x22, 0xd8, 0xf4};

static const struct pcid_gp_case gp_cases[] = {
    {"PCIDE with CR3[11:0] != 0", 0x1005, false, set_pcide, sizeof(set_pcide)},
    {"CR3 bit 63 without PCIDE", 0x1000, false, cr3_bit63, sizeof(cr3_bit63)},
};

Test(cpu_pcid, enable_rules_fault)
{
    for (size_t k = 0; k < ARRAY_SIZE(gp_cases); k++) {
        const struct pcid_gp_case *c = &gp_cases[k];
        struct th t;
        th_init(&t);
        th_mode64(&t);
        th_idt64(&t);
        cpu_set_cr(t.vp, 3, c->cr3);
        th_load(&t, TH_CODE, c->code, c->len);
        th_run(&t, 1000);
        cr_expect_eq(th_vector(&t), 13, "%s: vector %d", c->what, th_vector(&t));
        cr_expect_eq(cpu_get_cr(t.vp, 4) & (1u << 17), 0, "%s", c->what);
        th_fini(&t);
    }
}
