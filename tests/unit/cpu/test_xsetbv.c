/* XSETBV: XCR0 accepts exactly the components CPUID leaf 0xD lists (x87, SSE). */
#include <criterion/criterion.h>

#include "harness.h"

static const struct {
    uint32_t xcr0;
    int vector; /* -1: accepted */
} cases[] = {
    {0x3, -1}, {0x1, -1}, {0x7, 13} /* AVX is not implemented */, {0x2, 13} /* x87 must stay */,
    {0x80000003u, 13},
};

Test(cpu_xsetbv, only_implemented_components)
{
    for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
        struct th t;
        th_init(&t);
        th_mode64(&t);
        th_idt64(&t);
        cpu_set_cr(t.vp, 4, cpu_get_cr(t.vp, 4) | (1u << 18)); /* CR4.OSXSAVE */
        uint8_t code[] = {0xb9, 0, 0, 0, 0,                 /* mov ecx, 0 */
                          0xb8, 0, 0, 0, 0,                 /* mov eax, xcr0 */
                          0x31, 0xd2, 0x0f, 0x01, 0xd1,     /* xor edx, edx; xsetbv */
                          0x0f, 0x01, 0xd0, 0xf4};          /* xgetbv; hlt */
        memcpy(code + 6, &cases[k].xcr0, 4);
        th_load(&t, TH_CODE, code, sizeof(code));
        th_run(&t, 100);
        if (cases[k].vector < 0)
            cr_expect_eq(cpu_get_gpr(t.vp, REG_RAX), cases[k].xcr0, "xcr0 0x%x", cases[k].xcr0);
        else
            cr_expect_eq(th_vector(&t), cases[k].vector, "xcr0 0x%x", cases[k].xcr0);
        th_fini(&t);
    }
}
