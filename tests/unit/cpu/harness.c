/* Test machine for the CPU unit tests (see harness.h). */
#include "harness.h"

#include <criterion/criterion.h>
#include <string.h>

static enum exit_action th_exit(void *opaque, struct vcpu *vp, struct vmexit *ex)
{
    struct th *t = opaque;
    t->nexits++;
    t->last = *ex;
    if (ex->reason < 64)
        t->reasons[ex->reason]++;
    t->icount_at_exit = cpu_icount(vp);
    t->rip_at_exit = cpu_get_rip(vp);
    switch (ex->reason) {
    case EXIT_REASON_IO_INSTRUCTION:
        if (ex->u.io.in)
            ex->u.io.data = t->in_value;
        else if (t->nout < 64)
            t->out_log[t->nout++] = ex->u.io.data;
        break;
    case EXIT_REASON_CPUID: {
        uint32_t out[4];
        cpu_cpuid_default(vp, (uint32_t)cpu_get_gpr(vp, REG_RAX), (uint32_t)cpu_get_gpr(vp, REG_RCX), out);
        if ((uint32_t)cpu_get_gpr(vp, REG_RAX) == 0x40000000u)
            out[0] = 0x12345678;
        for (unsigned k = 0; k < 4; k++)
            cpu_set_gpr(vp, (unsigned[]){REG_RAX, REG_RBX, REG_RCX, REG_RDX}[k], out[k]);
        break;
    }
    case EXIT_REASON_MSR_READ:
        ex->u.msr.value = 0xabcdef0123456789ull;
        break;
    default:
        break;
    }
    if (t->retries) {
        t->retries--;
        return EXIT_RETRY;
    }
    return t->action;
}

static int th_ack(void *opaque, struct vcpu *vp)
{
    struct th *t = opaque;
    cpu_lower_event(vp, CPU_EV_INTR);
    return t->intr_vector;
}

void th_init(struct th *t)
{
    memset(t, 0, sizeof(*t));
    cr_assert_eq(physmem_init(&t->pm, TH_RAM), 0);
    t->env.opaque = t;
    t->env.exit = th_exit;
    t->env.intr_ack = th_ack;
    t->intr_vector = 0x40;
    t->action = EXIT_CONTINUE;
    t->vp = cpu_create(&t->pm, &t->env, 0);
    cr_assert_not_null(t->vp);
}

void th_fini(struct th *t)
{
    cpu_destroy(t->vp);
    physmem_destroy(&t->pm);
}

void th_load(struct th *t, uint64_t gpa, const void *code, size_t len)
{
    cr_assert_eq(physmem_load(&t->pm, gpa, code, len), 0);
}

uint64_t th_rd(struct th *t, uint64_t gpa, unsigned size)
{
    return physmem_read_u(&t->pm, gpa, size);
}

void th_wr(struct th *t, uint64_t gpa, uint64_t v, unsigned size)
{
    physmem_write_u(&t->pm, gpa, v, size);
}

static void flat(struct th *t, unsigned seg, uint16_t sel, uint32_t attr)
{
    struct seg s = {sel, 0, 0xffffffff, attr};
    cpu_set_seg(t->vp, seg, &s);
}

void th_mode64(struct th *t)
{
    /* PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 (2 MiB pages covering 0..1 GiB). */
    th_wr(t, 0x1000, 0x2000 | 3, 8);
    th_wr(t, 0x2000, 0x3000 | 3, 8);
    for (uint64_t k = 0; k < 512; k++)
        th_wr(t, 0x3000 + 8 * k, (k << 21) | 0x83, 8);
    cpu_set_cr(t->vp, 4, (1u << 5) | (1u << 9) | (1u << 10)); /* PAE, OSFXSR, OSXMMEXCPT */
    cpu_set_cr(t->vp, 3, 0x1000);
    cpu_set_efer(t->vp, (1u << 8) | (1u << 10) | (1u << 0) | (1u << 11));
    cpu_set_cr(t->vp, 0, 0x80000011u);
    flat(t, SEG_CS, 0x08, 0xa09b);
    flat(t, SEG_SS, 0x10, 0xc093);
    flat(t, SEG_DS, 0x10, 0xc093);
    flat(t, SEG_ES, 0x10, 0xc093);
    flat(t, SEG_FS, 0x10, 0xc093);
    flat(t, SEG_GS, 0x10, 0xc093);
    struct seg tr = {0x18, 0x9000, 0x67, 0x8b};
    cpu_set_seg(t->vp, SEG_TR, &tr);
    /* GDT: null, 64-bit code, data, TSS. */
    th_wr(t, TH_GDT + 8, 0x00af9b000000ffffull, 8);
    th_wr(t, TH_GDT + 16, 0x00cf93000000ffffull, 8);
    th_wr(t, TH_GDT + 32, 0x00cf9b000000ffffull, 8); /* 0x20: 32-bit code */
    th_wr(t, TH_GDT + 40, 0x00affb000000ffffull, 8); /* 0x28: 64-bit user code */
    th_wr(t, TH_GDT + 48, 0x00cff3000000ffffull, 8); /* 0x30: user data */
    struct dtr g = {TH_GDT, 0x7f};
    cpu_set_dtr(t->vp, false, &g);
    cpu_set_rflags(t->vp, 2);
    cpu_set_rip(t->vp, TH_CODE);
    cpu_set_gpr(t->vp, REG_RSP, TH_STACK);
}

void th_mode32(struct th *t)
{
    cpu_set_cr(t->vp, 0, 0x11);
    cpu_set_cr(t->vp, 4, (1u << 9) | (1u << 10));
    flat(t, SEG_CS, 0x08, 0xc09b);
    flat(t, SEG_SS, 0x10, 0xc093);
    flat(t, SEG_DS, 0x10, 0xc093);
    flat(t, SEG_ES, 0x10, 0xc093);
    flat(t, SEG_FS, 0x10, 0xc093);
    flat(t, SEG_GS, 0x10, 0xc093);
    th_wr(t, TH_GDT + 8, 0x00cf9b000000ffffull, 8);
    th_wr(t, TH_GDT + 16, 0x00cf93000000ffffull, 8);
    struct dtr g = {TH_GDT, 0x1f};
    cpu_set_dtr(t->vp, false, &g);
    cpu_set_rflags(t->vp, 2);
    cpu_set_rip(t->vp, TH_CODE);
    cpu_set_gpr(t->vp, REG_RSP, TH_STACK);
}

void th_mode16(struct th *t)
{
    for (unsigned s = 0; s < 6; s++) {
        struct seg r = {0, 0, 0xffff, s == SEG_CS ? 0x9b : 0x93};
        if (s == SEG_CS)
            r = (struct seg){TH_CODE >> 4, TH_CODE, 0xffff, 0x9b};
        cpu_set_seg(t->vp, s, &r);
    }
    cpu_set_cr(t->vp, 0, 0x10);
    cpu_set_rflags(t->vp, 2);
    cpu_set_rip(t->vp, 0);
    cpu_set_gpr(t->vp, REG_RSP, 0x8000);
}

void th_idt64(struct th *t)
{
    for (uint64_t v = 0; v < 256; v++) {
        uint64_t h = TH_HANDLER + 16 * v;
        th_wr(t, h, 0xf4, 1); /* hlt */
        uint64_t lo = (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | ((h >> 16) & 0xffff) << 48;
        th_wr(t, TH_IDT + 16 * v, lo, 8);
        th_wr(t, TH_IDT + 16 * v + 8, h >> 32, 8);
    }
    struct dtr d = {TH_IDT, 16 * 256 - 1};
    cpu_set_dtr(t->vp, true, &d);
}

int th_vector(struct th *t)
{
    uint64_t rip = cpu_get_rip(t->vp);
    if (rip < TH_HANDLER + 1 || rip > TH_HANDLER + 16 * 256)
        return -1;
    return (int)((rip - TH_HANDLER - 1) / 16);
}

enum cpu_stop th_run(struct th *t, uint64_t budget)
{
    return cpu_run(t->vp, budget);
}

void th_user_pages(struct th *t)
{
    th_wr(t, 0x1000, 0x2000 | 7, 8);
    th_wr(t, 0x2000, 0x3000 | 7, 8);
    for (uint64_t k = 0; k < 512; k++)
        th_wr(t, 0x3000 + 8 * k, (k << 21) | 0x87, 8);
    cpu_tlb_flush_all(t->vp, true);
}
