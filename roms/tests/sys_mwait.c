/* MONITOR/MWAIT from the guest (hvemu: MWAIT is a hinted HLT): CPUID leaf 5, a LAPIC timer
 * interrupt waking MWAIT with IF=1 (taken) and with IF=0 and ECX[0]=1 (not taken, pending),
 * MWAIT without a monitor not waiting, and, with --smp 2 --append vps=2, another VP's store to
 * the monitored line waking MWAIT with IF=0 and no interrupt at all. */
#include "guest.h"

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define VEC_TIMER 0x70
#define TRAMP_ADDR 0x9000u

static volatile unsigned timer_hits;
static volatile uint64_t line[8] __attribute__((aligned(64)));
static volatile unsigned ap_ready, ap_go;
static uint8_t ap_stack[16384] __attribute__((aligned(16)));

static bool on_timer(struct trap_frame *f)
{
    (void)f;
    timer_hits++;
    LAPIC(0xB0) = 0;
    return true;
}

static void monitor(const volatile void *p)
{
    __asm__ volatile("monitor" ::"a"(p), "c"(0), "d"(0) : "memory");
}
static void mwait(unsigned ecx)
{
    __asm__ volatile("mwait" ::"a"(0), "c"(ecx) : "memory");
}

static void timer_oneshot(uint32_t count)
{
    LAPIC(0x3E0) = 0xB; /* divide by 1 */
    LAPIC(0x320) = VEC_TIMER;
    LAPIC(0x380) = count;
}

void mwait_ap_main(void);
void mwait_ap_main(void)
{
    ap_ready = 1;
    while (!ap_go)
        __asm__ volatile("pause" ::: "memory");
    for (volatile unsigned i = 0; i < 20000; i++)
        ;
    line[0] = 0x600d;
    for (;;)
        __asm__ volatile("cli; hlt");
}

static bool start_ap(void)
{
    uint8_t vec = smp_prepare_ap(TRAMP_ADDR, mwait_ap_main, ap_stack + sizeof(ap_stack));
    lapic_icr_send(1, 0x4500);
    for (volatile unsigned i = 0; i < 200000; i++)
        ;
    lapic_icr_send(1, 0x4600 | vec);
    for (unsigned i = 0; i < 2000000 && !ap_ready; i++)
        __asm__ volatile("pause" ::: "memory");
    if (!ap_ready)
        lapic_icr_send(1, 0x4600 | vec);
    for (unsigned i = 0; i < 2000000 && !ap_ready; i++)
        __asm__ volatile("pause" ::: "memory");
    return ap_ready;
}

int main(uint32_t mb_info)
{
    printf("sys_mwait\n");
    const char *cl = guest_cmdline(mb_info);
    struct cpuid_regs c1 = cpuid(1, 0), c5 = cpuid(5, 0);
    CHECK("cpuid.monitor", c1.ecx & (1u << 3));
    CHECK_EQ("cpuid.leaf5.line_sizes", (uint64_t)c5.eax << 32 | c5.ebx, 64ull << 32 | 64);
    CHECK_EQ("cpuid.leaf5.ecx_emx_ibe", c5.ecx & 3, 3);
    CHECK_EQ("cpuid.leaf5.no_cstate_substates", c5.edx, 0);

    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(VEC_TIMER, on_timer);

    /* No monitor armed: MWAIT falls through even with IF=0 and nothing to wake it. */
    cli();
    mwait(0);
    CHECK("mwait.without_monitor_does_not_wait", true);

    /* IF=1: the timer interrupt wakes MWAIT and is taken. */
    uint64_t t0 = rdtsc();
    timer_hits = 0;
    timer_oneshot(100000);
    monitor(line);
    __asm__ volatile("sti; mwait; cli" ::"a"(0), "c"(0) : "memory");
    uint64_t waited = rdtsc() - t0;
    CHECK_EQ("mwait.timer_wakes_and_is_taken", timer_hits, 1);
    check("mwait.waited_for_the_timer", waited >= 100000, "waited %llu TSC ticks", (unsigned long long)waited);

    /* IF=0 with ECX[0]=1: the interrupt wakes MWAIT but stays pending until STI. */
    timer_hits = 0;
    timer_oneshot(50000);
    monitor(line);
    mwait(1);
    CHECK_EQ("mwait.break_event_wakes_with_if0", timer_hits, 0);
    CHECK("mwait.interrupt_pending_in_irr", LAPIC(0x200 + (VEC_TIMER / 32) * 0x10) & (1u << (VEC_TIMER % 32)));
    __asm__ volatile("sti; nop; cli" ::: "memory");
    CHECK_EQ("mwait.pending_interrupt_taken_after_sti", timer_hits, 1);

    if (!cmdline_has_word(cl, "vps=2")) {
        printf("SKIP: mwait.smp.* (run with --smp 2 --append vps=2)\n");
        test_finish();
    }
    CHECK("mwait.smp.ap_started", start_ap());
    /* IF=0, no break event, no interrupt: only the AP's store can end the wait. A missed wake-up
     * leaves every VP halted, and hvemu stops with status 8. */
    line[0] = 0;
    ap_go = 1;
    unsigned rounds = 0;
    while (line[0] == 0 && rounds < 1000000) {
        monitor(line);
        if (line[0] == 0)
            mwait(0);
        rounds++;
    }
    CHECK_EQ("mwait.smp.store_by_other_vp_wakes", line[0], 0x600d);
    test_finish();
}
