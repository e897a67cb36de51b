/* System behaviour: exits (CPUID, I/O, MSR, VMCALL, HLT), interrupts and the STI shadow,
 * real -> protected -> long mode, SYSCALL/SYSRET, TSC, RDRAND, INIT/SIPI, stop reasons. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static void boot64(struct th *t, const uint8_t *code, size_t len)
{
    th_init(t);
    th_mode64(t);
    th_idt64(t);
    th_load(t, TH_CODE, code, len);
}

Test(cpu_sys, cpuid_exit)
{
    struct th t;
    boot64(&t, CODE(0xb8, 0x00, 0x00, 0x00, 0x40, 0x0f, 0xa2, 0xf4));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(t.reasons[EXIT_REASON_CPUID], 1);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 0x12345678);
    cr_assert_eq(t.rip_at_exit, TH_CODE + 7, "RIP seen by the HLT exit is the HLT");
    cr_assert_eq(t.last.reason, EXIT_REASON_HLT);
    th_fini(&t);
}

Test(cpu_sys, io_exits)
{
    struct th t;
    /* out 0x80,al; mov dx,0x3f8; in al,dx; mov rsi,0x40000; mov ecx,3; rep outsb; hlt */
    boot64(&t, CODE(0xe6, 0x80, 0x66, 0xba, 0xf8, 0x03, 0xec, 0x48, 0xc7, 0xc6, 0x00, 0x00, 0x04,
                    0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0xf3, 0x6e, 0xf4));
    cpu_set_gpr(t.vp, REG_RAX, 0x5a);
    t.in_value = 0x99;
    th_wr(&t, 0x40000, 0x030201, 4);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(t.reasons[EXIT_REASON_IO_INSTRUCTION], 5);
    cr_assert_eq(t.nout, 4);
    static const uint32_t want[] = {0x5a, 1, 2, 3};
    for (unsigned k = 0; k < 4; k++)
        cr_assert_eq(t.out_log[k], want[k], "out %u = %#x", k, t.out_log[k]);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX) & 0xff, 0x99);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RCX), 0);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSI), 0x40003);
    th_fini(&t);
}

Test(cpu_sys, io_qualification)
{
    struct th t;
    boot64(&t, CODE(0xe6, 0x80, 0xf4));
    t.action = EXIT_STOP;
    cr_assert_eq(th_run(&t, 100), CPU_STOP_EXIT);
    /* SDM Table 28-5: size-1 = 0, OUT, immediate operand (bit 6), port in 31:16. */
    cr_assert_eq(t.last.qualification, 0x800040);
    cr_assert_eq(t.last.insn_len, 2);
    cr_assert_eq(t.last.rip, TH_CODE);
    cr_assert_eq(cpu_get_rip(t.vp), TH_CODE + 2, "EXIT_STOP completes the instruction");
    cr_assert_eq(cpu_icount(t.vp), 1);
    th_fini(&t);
}

Test(cpu_sys, icount_exact_at_callout)
{
    struct th t;
    boot64(&t, CODE(0x90, 0x90, 0x90, 0xe6, 0x80, 0xf4));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    /* The HLT exit came last; the OUT exit saw three retired instructions. */
    cr_assert_eq(t.reasons[EXIT_REASON_IO_INSTRUCTION], 1);
    cr_assert_eq(t.icount_at_exit, 4, "HLT exit sees 4 retired");
    th_fini(&t);
}

Test(cpu_sys, msr_table_and_exits)
{
    struct th t;
    boot64(&t, CODE(0xb9, 0x00, 0x00, 0x00, 0x40, 0x0f, 0x32, 0x48, 0x89, 0xc3, 0xb9, 0x81, 0x00,
                    0x00, 0xc0, 0xb8, 0x34, 0x12, 0x00, 0x00, 0x31, 0xd2, 0x0f, 0x30, 0x0f, 0x32,
                    0x48, 0x89, 0xc6, 0x0f, 0x01, 0xc1, 0xf4));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(t.reasons[EXIT_REASON_MSR_READ], 1);
    cr_assert_eq(t.reasons[EXIT_REASON_MSR_WRITE], 0, "STAR is kept by the CPU");
    cr_assert_eq(t.reasons[EXIT_REASON_VMCALL], 1);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX), 0x23456789);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RSI), 0x1234);
    th_fini(&t);
}

Test(cpu_sys, hlt_then_interrupt)
{
    struct th t;
    boot64(&t, CODE(0xf4));
    cpu_set_rflags(t.vp, 0x202);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert(cpu_is_halted(t.vp));
    cr_assert_eq(t.reasons[EXIT_REASON_HLT], 1);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT, "still halted without an event");
    cpu_raise_event(t.vp, CPU_EV_INTR);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 0x40);
    cr_assert_eq(th_rd(&t, cpu_get_gpr(t.vp, REG_RSP), 8), TH_CODE + 1, "return after HLT");
    cr_assert_eq(cpu_get_rflags(t.vp) & 0x200, 0, "interrupt gate clears IF");
    th_fini(&t);
}

Test(cpu_sys, sti_shadow)
{
    struct th t;
    boot64(&t, CODE(0xfb, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xbb, 0x02, 0x00, 0x00, 0x00, 0xf4));
    cpu_raise_event(t.vp, CPU_EV_INTR);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 0x40);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 1, "the instruction after STI ran");
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX), 0, "the next one did not");
    cr_assert_eq(th_rd(&t, cpu_get_gpr(t.vp, REG_RSP), 8), TH_CODE + 6);
    th_fini(&t);
}

Test(cpu_sys, nmi_and_injected_exception)
{
    struct th t;
    boot64(&t, CODE(0x90, 0xf4));
    cpu_raise_event(t.vp, CPU_EV_NMI);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 2);
    struct th u;
    boot64(&u, CODE(0x90, 0xf4));
    cpu_inject_exception(u.vp, 13, true, 0x10);
    cr_assert_eq(th_run(&u, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&u), 13);
    cr_assert_eq(th_rd(&u, cpu_get_gpr(u.vp, REG_RSP), 8), 0x10);
    th_fini(&u);
    th_fini(&t);
}

Test(cpu_sys, real_to_long_mode)
{
    static const uint8_t prog[] = {
        0x0f, 0x01, 0x16, 0xf0, 0x5f, 0x0f, 0x20, 0xc0, 0x66, 0x83, 0xc8, 0x01, 0x0f, 0x22, 0xc0,
        0x66, 0xea, 0x40, 0x00, 0x01, 0x00, 0x08, 0x00, [0x40] = 0x66, 0xb8, 0x10, 0x00, 0x8e,
        0xd8, 0x8e, 0xd0, 0x8e, 0xc0, 0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0, 0xb8,
        0x00, 0x10, 0x00, 0x00, 0x0f, 0x22, 0xd8, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0d,
        0x00, 0x01, 0x00, 0x00, 0x0f, 0x30, 0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80, 0x0f,
        0x22, 0xc0, 0xea, 0x80, 0x00, 0x01, 0x00, 0x18, 0x00, [0x80] = 0x48, 0xb8, 0x88, 0x77,
        0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xf4};
    struct th t;
    th_init(&t);
    th_mode16(&t);
    th_wr(&t, 0x1000, 0x2003, 8);
    th_wr(&t, 0x2000, 0x3003, 8);
    for (uint64_t k = 0; k < 512; k++)
        th_wr(&t, 0x3000 + 8 * k, (k << 21) | 0x83, 8);
    th_wr(&t, TH_GDT + 8, 0x00cf9b000000ffffull, 8);
    th_wr(&t, TH_GDT + 16, 0x00cf93000000ffffull, 8);
    th_wr(&t, TH_GDT + 24, 0x00af9b000000ffffull, 8);
    th_wr(&t, 0x5ff0, 0x1f | (TH_GDT << 16), 8); /* GDTR image: limit, base */
    th_load(&t, TH_CODE, prog, sizeof(prog));
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "rip %#llx", (unsigned long long)cpu_get_rip(t.vp));
    cr_assert(cpu_in_64bit_mode(t.vp));
    cr_assert(cpu_in_long_mode(t.vp));
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 0x1122334455667788ull);
    struct seg cs;
    cpu_get_seg(t.vp, SEG_CS, &cs);
    cr_assert_eq(cs.sel, 0x18);
    th_fini(&t);
}

Test(cpu_sys, syscall_sysret_user_gp)
{
    struct th t;
    boot64(&t, CODE(0xb9, 0x81, 0x00, 0x00, 0xc0, 0xba, 0x08, 0x00, 0x23, 0x00, 0x31, 0xc0, 0x0f,
                    0x30, 0xb9, 0x82, 0x00, 0x00, 0xc0, 0xb8, 0x00, 0x01, 0x01, 0x00, 0x31, 0xd2,
                    0x0f, 0x30, 0xb9, 0x84, 0x00, 0x00, 0xc0, 0xb8, 0x00, 0x02, 0x00, 0x00, 0x0f,
                    0x30, 0x49, 0xc7, 0xc3, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xf4));
    const uint8_t handler[] = {0x48, 0x89, 0xcb, 0x4d, 0x89, 0xdc, 0x48, 0xc7, 0xc1, 0x00, 0x02,
                               0x01, 0x00, 0x49, 0x81, 0xcb, 0x00, 0x02, 0x00, 0x00, 0x48, 0x0f, 0x07};
    th_load(&t, TH_CODE + 0x100, handler, sizeof(handler));
    th_wr(&t, TH_CODE + 0x200, 0xf4, 1); /* user-mode HLT: #GP */
    th_wr(&t, 0x9004, 0x70000, 8);        /* TSS RSP0 */
    th_user_pages(&t);
    cpu_set_rflags(t.vp, 0x202);
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_HALT, "rip %#llx", (unsigned long long)cpu_get_rip(t.vp));
    cr_assert_eq(th_vector(&t), 13);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX), TH_CODE + 49, "RCX = return RIP");
    cr_assert_eq(cpu_get_gpr(t.vp, REG_R12) & 0x200, 0x200, "R11 = RFLAGS with IF");
    uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
    cr_assert_eq(sp, 0x70000 - 48);
    cr_assert_eq(th_rd(&t, sp + 8, 8), TH_CODE + 0x200);
    cr_assert_eq(th_rd(&t, sp + 16, 8), 0x33, "user CS from STAR[63:48] + 16");
    cr_assert_eq(th_rd(&t, sp + 40, 8), 0x2b, "user SS from STAR[63:48] + 8");
    cr_assert_eq(cpu_get_cpl(t.vp), 0);
    th_fini(&t);
}

Test(cpu_sys, tsc_follows_icount)
{
    struct th t;
    boot64(&t, CODE(0x90, 0x90, 0x0f, 0x31, 0xf4));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 2);
    cpu_set_tsc_offset(t.vp, 1000);
    cpu_set_halted(t.vp, false);
    cpu_set_rip(t.vp, TH_CODE);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RAX), 1000 + 4 + 2);
    th_fini(&t);
}

Test(cpu_sys, rdrand_deterministic)
{
    uint64_t v[2];
    for (unsigned k = 0; k < 2; k++) {
        struct th t;
        boot64(&t, CODE(0x48, 0x0f, 0xc7, 0xf0, 0xf4));
        cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
        v[k] = cpu_get_gpr(t.vp, REG_RAX);
        cr_assert_eq(cpu_get_rflags(t.vp) & 1, 1, "CF=1: a value was returned");
        th_fini(&t);
    }
    cr_assert_eq(v[0], v[1]);
}

Test(cpu_sys, init_sipi)
{
    struct th t;
    th_init(&t);
    struct vcpu *ap = cpu_create(&t.pm, &t.env, 1);
    cr_assert_not_null(ap);
    th_wr(&t, 0x10000, 0xf4, 1);
    cr_assert_eq(cpu_run(ap, 100), CPU_STOP_WAIT_SIPI, "an AP starts waiting for SIPI");
    cpu_raise_event(ap, CPU_EV_INIT);
    cr_assert_eq(cpu_run(ap, 100), CPU_STOP_WAIT_SIPI);
    cr_assert_eq(cpu_run(ap, 100), CPU_STOP_WAIT_SIPI);
    cpu_raise_sipi(ap, 0x10);
    cr_assert_eq(cpu_run(ap, 100), CPU_STOP_HALT);
    struct seg cs;
    cpu_get_seg(ap, SEG_CS, &cs);
    cr_assert_eq(cs.base, 0x10000);
    cr_assert_eq(cpu_get_rip(ap), 1);
    cpu_destroy(ap);
    th_fini(&t);
}

Test(cpu_sys, kick_and_budget)
{
    struct th t;
    boot64(&t, CODE(0xeb, 0xfe)); /* jmp $ */
    cpu_raise_event(t.vp, CPU_EV_KICK);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_KICK);
    cr_assert_eq(cpu_icount(t.vp), 0);
    cr_assert_eq(th_run(&t, 1000), CPU_STOP_BUDGET);
    cr_assert_eq(cpu_icount(t.vp), 1000);
    th_fini(&t);
}

Test(cpu_sys, single_step_trap)
{
    struct th t;
    /* pushfq; or qword [rsp], 0x100; popfq; nop; nop; hlt */
    boot64(&t, CODE(0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90, 0x90, 0xf4));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 1);
    uint64_t sp = cpu_get_gpr(t.vp, REG_RSP);
    cr_assert_eq(th_rd(&t, sp, 8), TH_CODE + 11, "trap after the first NOP, not after POPF");
    cr_assert_eq(th_rd(&t, sp + 16, 8) & 0x100, 0x100, "pushed RFLAGS keeps TF");
    cr_assert_eq(cpu_get_rflags(t.vp) & 0x100, 0, "TF cleared in the handler");
    th_fini(&t);
}

Test(cpu_sys, clac_stac_movnti)
{
    struct th t;
    /* stac; pushfq; pop rbx; clac; mov rsi, 0x40000; movnti [rsi], ebx; hlt */
    boot64(&t, CODE(0x0f, 0x01, 0xcb, 0x9c, 0x5b, 0x0f, 0x01, 0xca, 0x48, 0xc7, 0xc6, 0x00, 0x00,
                    0x04, 0x00, 0x0f, 0xc3, 0x1e, 0xf4));
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), -1);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX) & (1u << 18), 1u << 18, "STAC set AC");
    cr_assert_eq(cpu_get_rflags(t.vp) & (1u << 18), 0, "CLAC cleared AC");
    cr_assert_eq(th_rd(&t, 0x40000, 4), (uint32_t)cpu_get_gpr(t.vp, REG_RBX));
    th_fini(&t);
}

static uint64_t mmio_rd(void *dev, gpa_t off, unsigned size)
{
    ++*(unsigned *)dev;
    return 0;
}
static void mmio_wr(void *dev, gpa_t off, uint64_t v, unsigned size) {}
static const struct mmio_ops mmio_test_ops = {mmio_rd, mmio_wr};

Test(cpu_sys, fetch_from_mmio_calls_no_device)
{
    struct th t;
    /* mov eax, 0x900000; jmp rax */
    boot64(&t, CODE(0xb8, 0x00, 0x00, 0x90, 0x00, 0xff, 0xe0));
    unsigned mmio_reads = 0;
    cr_assert_eq(physmem_map_mmio(&t.pm, 0x900000, 0x1000, &mmio_test_ops, &mmio_reads, "test"), 0);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 6, "all-ones bytes decode as #UD");
    cr_assert_eq(mmio_reads, 0);
    th_fini(&t);
}

Test(cpu_sys, mmio_data_access)
{
    struct th t;
    /* mov eax, 0x900000; mov ebx, [rax+8]; hlt */
    boot64(&t, CODE(0xb8, 0x00, 0x00, 0x90, 0x00, 0x8b, 0x58, 0x08, 0xf4));
    unsigned mmio_reads = 0;
    cr_assert_eq(physmem_map_mmio(&t.pm, 0x900000, 0x1000, &mmio_test_ops, &mmio_reads, "test"), 0);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(mmio_reads, 1);
    cr_assert_eq(cpu_get_gpr(t.vp, REG_RBX), 0);
    th_fini(&t);
}

Test(cpu_sys, readonly_overlay_write_gp)
{
    struct th t;
    /* mov rsi, 0x900000; mov byte [rsi], 1; hlt -- 0x900000 is a read-only overlay */
    boot64(&t, CODE(0x48, 0xc7, 0xc6, 0x00, 0x00, 0x90, 0x00, 0xc6, 0x06, 0x01, 0xf4));
    uint8_t *page = malloc(4096);
    cr_assert_not_null(page);
    memset(page, 0xcc, 4096);
    cr_assert_eq(physmem_map_overlay(&t.pm, 0x900000, page, "hypercall", true), 0);
    cr_assert_eq(th_run(&t, 100), CPU_STOP_HALT);
    cr_assert_eq(th_vector(&t), 13, "TLFS 3.13: writing the hypercall page raises #GP");
    cr_assert_eq(page[0], 0xcc);
    th_fini(&t);
    free(page);
}
