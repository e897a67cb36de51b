/* hv_hypercall_cpu: the adapter that runs a hypercall on a real VP's registers. */
#include <criterion/criterion.h>

#include "fixture.h"

static void set_cs(struct vcpu *cpu, uint16_t sel, bool l)
{
    /* Code, readable, accessed; S; P; L or D. */
    struct seg cs = {.sel = sel, .base = 0, .limit = 0xFFFFFFFF,
                     .attr = 0xB | 0x10 | 0x80 | (uint32_t)((sel & 3) << 5) | (l ? 1u << 13 : 1u << 14)};
    cpu_set_seg(cpu, SEG_CS, &cs);
}

Test(hv_regs_cpu, adapter_conventions)
{
    struct fake_host *f = fake_create(NULL, 2);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    struct vcpu *cpu = cpu_create(&f->mem, NULL, 0);
    cr_assert(cpu);
    cpu_set_cr(cpu, 0, 0x80000011);
    cpu_set_efer(cpu, 0x500); /* LME | LMA */
    set_cs(cpu, 0x10, true);

    /* 64-bit, memory-based. */
    put_u64(f, GPA_IN + 16, 0x2);
    cpu_set_gpr(cpu, REG_RCX, 0x0002);
    cpu_set_gpr(cpu, REG_RDX, GPA_IN);
    cpu_set_gpr(cpu, REG_R8, 0);
    cpu_set_gpr(cpu, REG_RAX, 0xFFFF);
    cr_expect_eq(hv_hypercall_cpu(f->p, fake_vp(f, 0), cpu), HV_CALL_DONE);
    cr_expect_eq(cpu_get_gpr(cpu, REG_RAX), 0);
    cr_assert_eq(f->nfl, 1);
    cr_expect_eq(f->fl[0].vp, 1);

    /* 64-bit, XMM fast: ProcessorMask comes from XMM0. */
    const uint64_t x0[2] = {0x1, 0};
    cpu_set_xmm(cpu, 0, x0);
    cpu_set_gpr(cpu, REG_RCX, 0x0002 | (1u << 16));
    cpu_set_gpr(cpu, REG_RDX, 0);
    cr_expect_eq(hv_hypercall_cpu(f->p, fake_vp(f, 0), cpu), HV_CALL_DONE);
    cr_expect_eq(cpu_get_gpr(cpu, REG_RAX), 0);
    cr_assert_eq(f->nfl, 2);
    cr_expect_eq(f->fl[1].vp, 0);

    /* Ring 3: #UD and nothing written. */
    set_cs(cpu, 0x33, true);
    cpu_set_gpr(cpu, REG_RAX, 0x1234);
    cr_expect_eq(hv_hypercall_cpu(f->p, fake_vp(f, 0), cpu), HV_CALL_UD);
    cr_expect_eq(cpu_get_gpr(cpu, REG_RAX), 0x1234);

    /* 32-bit protected mode: EDX:EAX in, EBX:ECX input GPA, result in EDX:EAX. */
    cpu_set_efer(cpu, 0);
    cpu_set_cr(cpu, 0, 0x11);
    set_cs(cpu, 0x08, false);
    cpu_set_gpr(cpu, REG_RAX, 0x0002);
    cpu_set_gpr(cpu, REG_RDX, 0);
    cpu_set_gpr(cpu, REG_RBX, 0);
    cpu_set_gpr(cpu, REG_RCX, GPA_IN);
    cpu_set_gpr(cpu, REG_RDI, 0);
    cpu_set_gpr(cpu, REG_RSI, 0);
    cr_expect_eq(hv_hypercall_cpu(f->p, fake_vp(f, 0), cpu), HV_CALL_DONE);
    cr_expect_eq(cpu_get_gpr(cpu, REG_RAX), 0);
    cr_expect_eq(cpu_get_gpr(cpu, REG_RDX), 0);
    cr_expect_eq(f->nfl, 3);

    /* Real mode: #UD. */
    cpu_set_cr(cpu, 0, 0x10);
    cr_expect_eq(hv_hypercall_cpu(f->p, fake_vp(f, 0), cpu), HV_CALL_UD);
    cpu_destroy(cpu);
    fake_destroy(f);
}
