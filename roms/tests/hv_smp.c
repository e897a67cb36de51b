/* Hyper-V conformance with two VPs (run with --smp 2 --append vps=2): brings the AP up with
 * INIT-SIPI-SIPI through a real-mode trampoline copied below 1 MiB, then checks VP_INDEX on each
 * VP, partition-wide versus per-VP MSRs, HvCallSendSyntheticClusterIpi (and the Ex form with a
 * sparse VP set) aimed at VP 1, and HvFlushVirtualAddressSpace/ListEx invalidating VP 1's TLB.
 * Without "vps=2" on the command line it checks only what one VP can and passes. */
#include "guest.h"

#define MSR_GUEST_OS_ID 0x40000000
#define MSR_HYPERCALL   0x40000001
#define MSR_VP_INDEX    0x40000002
#define MSR_TIME_REF    0x40000020
#define MSR_SCONTROL    0x40000080
#define MSR_SINT0       0x40000090
#define MSR_EFER        0xC0000080

#define HC_FAST         (1ull << 16)
#define HC_VARHEAD(n)   ((uint64_t)(n) << 17)
#define HC_REP(c, s)    (((uint64_t)(c) << 32) | ((uint64_t)(s) << 48))
#define HC_STATUS(r)    ((uint16_t)(r))
#define HVCALL_FLUSH_SPACE   0x0002
#define HVCALL_FLUSH_LIST_EX 0x0014
#define HVCALL_SEND_IPI      0x000B
#define HVCALL_SEND_IPI_EX   0x0015

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define TRAMP_ADDR 0x8000u /* SIPI vector 0x08: CS = 0x0800, IP = 0 */
#define VEC_IPI    0x58

#define FLUSH_VA 0x40000000ull
#define PHYS_OLD 0x00800000ull
#define PHYS_NEW 0x00A00000ull
#define MARK_OLD 0x0DD0DD0DD0DD0DD0ull
#define MARK_NEW 0x0EE0EE0EE0EE0EE0ull

static uint8_t hc_page[4096] __attribute__((aligned(4096)));
static uint64_t hc_in[512] __attribute__((aligned(4096)));
static uint8_t ap_stack[16384] __attribute__((aligned(16)));

static uint64_t hypercall(uint64_t control, uint64_t in, uint64_t out)
{
    uint64_t status;
    register uint64_t r8 __asm__("r8") = out;
    __asm__ volatile("call *%[page]"
                     : "=a"(status), "+c"(control), "+d"(in), "+r"(r8)
                     : [page] "r"(hc_page)
                     : "r9", "r10", "r11", "memory", "cc");
    return status;
}

/* ---- Shared state between the VPs (one host thread runs both: plain volatiles suffice). ---- */
enum { CMD_NONE, CMD_READ_VA, CMD_READ_MSRS, CMD_ARM_TIMER, CMD_POST, CMD_SIGNAL };
static volatile unsigned ap_ready;
static volatile unsigned ap_cmd, ap_done;
static volatile uint64_t ap_vp_index, ap_guest_os_id, ap_scontrol, ap_va_value, ap_ref, ap_hypercall,
    ap_sint0;
static volatile unsigned hits[2]; /* VEC_IPI per VP */
static volatile unsigned timer_hits[2]; /* VEC_TIMER per VP */
static volatile unsigned sint_hits[2];  /* VEC_SINT per VP */
static volatile uint64_t ap_status;
static uint8_t simp[4096] __attribute__((aligned(4096)));
static uint8_t siefp[4096] __attribute__((aligned(4096)));
static uint64_t ap_in[32] __attribute__((aligned(64)));
#define VEC_SINT 0x5A
#define MSR_SIEFP 0x40000082
#define MSR_SIMP  0x40000083
#define CONN_LOOP_MESSAGE 3 /* hvemu host port: loops back to VP 0, SINT 3 */
#define CONN_LOOP_EVENT   4 /* VP 0, SINT 3, flags 0-63 */

static bool on_sint(struct trap_frame *f)
{
    (void)f;
    unsigned vp = (unsigned)rdmsr(MSR_VP_INDEX);
    if (vp < 2)
        sint_hits[vp]++;
    LAPIC(0xB0) = 0;
    return true;
}
#define VEC_TIMER 0x59
#define MSR_STIMER0_CONFIG 0x400000B0
#define MSR_STIMER0_COUNT  0x400000B1

static bool on_timer(struct trap_frame *f)
{
    (void)f;
    unsigned vp = (unsigned)rdmsr(MSR_VP_INDEX);
    if (vp < 2)
        timer_hits[vp]++;
    LAPIC(0xB0) = 0;
    return true;
}

static bool on_ipi(struct trap_frame *f)
{
    (void)f;
    unsigned vp = (unsigned)rdmsr(MSR_VP_INDEX);
    if (vp < 2)
        hits[vp]++;
    LAPIC(0xB0) = 0;
    return true;
}

void ap_main(void);
void ap_main(void)
{
    LAPIC(0xF0) = 0x1FF;
    ap_vp_index = rdmsr(MSR_VP_INDEX);
    ap_ready = 1;
    for (;;) {
        __asm__ volatile("sti; pause; cli" ::: "memory");
        unsigned c = ap_cmd;
        if (c == CMD_NONE)
            continue;
        if (c == CMD_READ_VA)
            ap_va_value = *(volatile uint64_t *)(uintptr_t)FLUSH_VA;
        else if (c == CMD_READ_MSRS) {
            ap_ref = rdmsr(MSR_TIME_REF);
            ap_guest_os_id = rdmsr(MSR_GUEST_OS_ID);
            ap_scontrol = rdmsr(MSR_SCONTROL);
            ap_hypercall = rdmsr(MSR_HYPERCALL);
            ap_sint0 = rdmsr(MSR_SINT0);
        } else if (c == CMD_POST) {
            /* HvPostMessage from VP 1: ConnectionId, reserved, type, size, payload. */
            ap_in[0] = CONN_LOOP_MESSAGE;
            ap_in[1] = 0x5151ull | (8ull << 32);
            ap_in[2] = 0x1122334455667788ull;
            ap_status = hypercall(0x005C, (uint64_t)(uintptr_t)ap_in, 0);
        } else if (c == CMD_SIGNAL) {
            ap_status = hypercall(0x005D | HC_FAST, CONN_LOOP_EVENT | (11ull << 32), 0);
        } else if (c == CMD_ARM_TIMER) {
            /* Per-VP stimer 0, direct mode: it must interrupt this VP (TLFS 12.5). */
            wrmsr(MSR_STIMER0_COUNT, rdmsr(MSR_TIME_REF) + 1000);
            wrmsr(MSR_STIMER0_CONFIG, 1 | (1ull << 12) | ((uint64_t)VEC_TIMER << 4));
        }
        ap_cmd = CMD_NONE;
        ap_done++;
    }
}

static bool ap_run(unsigned cmd)
{
    unsigned d = ap_done;
    ap_cmd = cmd;
    for (unsigned long i = 0; i < 20000000ul && ap_done == d; i++)
        __asm__ volatile("pause" ::: "memory");
    return ap_done != d;
}

static void wait_ref(uint64_t ticks)
{
    uint64_t end = rdmsr(MSR_TIME_REF) + ticks;
    while (rdmsr(MSR_TIME_REF) < end)
        __asm__ volatile("pause");
}

static bool start_ap(void)
{
    smp_prepare_ap(TRAMP_ADDR, ap_main, ap_stack + sizeof(ap_stack));

    /* SDM Vol 3 9.4.4.1: INIT, 10 ms, SIPI, 200 us, SIPI. */
    lapic_icr_send(1, 0x4500);           /* INIT, level assert, physical */
    wait_ref(100000);              /* 10 ms */
    lapic_icr_send(1, 0x4600 | (TRAMP_ADDR >> 12));
    wait_ref(2000);                /* 200 us */
    if (!ap_ready)
        lapic_icr_send(1, 0x4600 | (TRAMP_ADDR >> 12));
    for (unsigned i = 0; i < 200 && !ap_ready; i++)
        wait_ref(1000);
    return ap_ready;
}

static void take_interrupts(void)
{
    for (int i = 0; i < 50; i++)
        __asm__ volatile("sti; nop; cli" ::: "memory");
}

static bool wait_ap_hits(unsigned want)
{
    for (unsigned long i = 0; i < 5000000ul && hits[1] < want; i++)
        __asm__ volatile("pause" ::: "memory");
    return hits[1] >= want;
}

static void check_ipis(void)
{
    /* Fast form, ProcessorMask = VP 1 only. */
    unsigned b0 = hits[0], a0 = hits[1];
    uint64_t r = hypercall(HVCALL_SEND_IPI | HC_FAST, VEC_IPI, 1ull << 1);
    CHECK_EQ("ipi.vp1.status", HC_STATUS(r), 0);
    CHECK("ipi.vp1.delivered_to_vp1", wait_ap_hits(a0 + 1));
    take_interrupts();
    CHECK_EQ("ipi.vp1.not_to_vp0", hits[0], b0);
    CHECK_EQ("ipi.vp1.exactly_once", hits[1], a0 + 1);
    /* Both VPs. */
    b0 = hits[0];
    a0 = hits[1];
    r = hypercall(HVCALL_SEND_IPI | HC_FAST, VEC_IPI, 3);
    CHECK_EQ("ipi.both.status", HC_STATUS(r), 0);
    CHECK("ipi.both.vp1", wait_ap_hits(a0 + 1));
    take_interrupts();
    CHECK_EQ("ipi.both.vp0", hits[0], b0 + 1);
    /* Ex form, sparse set: format 0, bank mask 1, bank 0 = VP 1. */
    hc_in[0] = VEC_IPI;
    hc_in[1] = 0;
    hc_in[2] = 1;
    hc_in[3] = 1ull << 1;
    b0 = hits[0];
    a0 = hits[1];
    r = hypercall(HVCALL_SEND_IPI_EX | HC_VARHEAD(1), (uint64_t)(uintptr_t)hc_in, 0);
    CHECK_EQ("ipi_ex.sparse_vp1.status", HC_STATUS(r), 0);
    CHECK("ipi_ex.sparse_vp1.delivered", wait_ap_hits(a0 + 1));
    take_interrupts();
    CHECK_EQ("ipi_ex.sparse_vp1.not_to_vp0", hits[0], b0);
    /* Ex form, all VPs (format 1). */
    hc_in[1] = 1;
    hc_in[2] = 0;
    b0 = hits[0];
    a0 = hits[1];
    r = hypercall(HVCALL_SEND_IPI_EX, (uint64_t)(uintptr_t)hc_in, 0);
    CHECK_EQ("ipi_ex.all.status", HC_STATUS(r), 0);
    CHECK("ipi_ex.all.vp1", wait_ap_hits(a0 + 1));
    take_interrupts();
    CHECK_EQ("ipi_ex.all.vp0", hits[0], b0 + 1);
}

static void remap(uint64_t phys)
{
    *guest_pde(FLUSH_VA) = phys | 0x87;
}

static void check_flush(void)
{
    *(volatile uint64_t *)(uintptr_t)PHYS_OLD = MARK_OLD;
    *(volatile uint64_t *)(uintptr_t)PHYS_NEW = MARK_NEW;
    /* VP 1 caches the old translation; VP 0 changes the PDE and flushes VP 1 only. */
    remap(PHYS_OLD);
    invlpg(FLUSH_VA);
    CHECK("flush.ap_reads_old", ap_run(CMD_READ_VA) && ap_va_value == MARK_OLD);
    remap(PHYS_NEW);
    hc_in[0] = read_cr3();
    hc_in[1] = 0;
    hc_in[2] = 1ull << 1;
    uint64_t r = hypercall(HVCALL_FLUSH_SPACE, (uint64_t)(uintptr_t)hc_in, 0);
    CHECK_EQ("flush.space_vp1.status", HC_STATUS(r), 0);
    CHECK("flush.space_vp1.ap_sees_new", ap_run(CMD_READ_VA) && ap_va_value == MARK_NEW);

    /* ListEx with a sparse set naming VP 1, one GVA. */
    remap(PHYS_OLD);
    invlpg(FLUSH_VA);
    hc_in[0] = read_cr3();
    hc_in[1] = 0;
    hc_in[2] = 1ull << 1;
    r = hypercall(HVCALL_FLUSH_SPACE, (uint64_t)(uintptr_t)hc_in, 0);
    CHECK("flush.list_ex.ap_reads_old", ap_run(CMD_READ_VA) && ap_va_value == MARK_OLD);
    remap(PHYS_NEW);
    hc_in[0] = read_cr3();
    hc_in[1] = 0;
    hc_in[2] = 0;            /* sparse */
    hc_in[3] = 1;            /* bank 0 */
    hc_in[4] = 1ull << 1;    /* VP 1 */
    hc_in[5] = FLUSH_VA;     /* the rep element */
    r = hypercall(HVCALL_FLUSH_LIST_EX | HC_VARHEAD(1) | HC_REP(1, 0), (uint64_t)(uintptr_t)hc_in, 0);
    CHECK_EQ("flush.list_ex_vp1.status", HC_STATUS(r), 0);
    CHECK_EQ("flush.list_ex_vp1.reps", (r >> 32) & 0xFFF, 1);
    CHECK("flush.list_ex_vp1.ap_sees_new", ap_run(CMD_READ_VA) && ap_va_value == MARK_NEW);
    *guest_pde(FLUSH_VA) = 0;
    invlpg(FLUSH_VA);
}

static void check_ap_timer(void)
{
    if (!(cpuid(0x40000003, 0).edx >> 19 & 1)) {
        printf("SKIP: stimer.ap.* (0x40000003.EDX[19] not set)\n");
        return;
    }
    trap_set_handler(VEC_TIMER, on_timer);
    unsigned b0 = timer_hits[0];
    CHECK("stimer.ap.armed", ap_run(CMD_ARM_TIMER));
    for (unsigned long i = 0; i < 5000000ul && timer_hits[1] == 0; i++)
        __asm__ volatile("pause" ::: "memory");
    CHECK_EQ("stimer.ap.fires_on_vp1", timer_hits[1], 1);
    take_interrupts();
    CHECK_EQ("stimer.ap.not_on_vp0", timer_hits[0], b0);
    CHECK_EQ("stimer.bsp_timer_untouched", rdmsr(MSR_STIMER0_CONFIG), 0);
}

/* Messages and events sent by VP 1 to a port that targets VP 0 (TLFS 11.10). */
static void check_cross_vp_synic(void)
{
    struct cpuid_regs f = cpuid(0x40000003, 0);
    if (!((f.eax >> 2) & 1) || !((f.ebx >> 4) & 1) || !((f.ebx >> 5) & 1)) {
        printf("SKIP: synic.cross_vp.* (SynIC, PostMessages or SignalEvents not advertised)\n");
        return;
    }
    trap_set_handler(VEC_SINT, on_sint);
    wrmsr(MSR_SCONTROL, 1);
    wrmsr(MSR_SIMP, (uint64_t)(uintptr_t)simp | 1);
    wrmsr(MSR_SIEFP, (uint64_t)(uintptr_t)siefp | 1);
    wrmsr(MSR_SINT0 + 3, VEC_SINT);
    unsigned b0 = sint_hits[0], a0 = sint_hits[1];
    CHECK("synic.cross_vp.post_ran", ap_run(CMD_POST));
    CHECK_EQ("synic.cross_vp.post_status", ap_status & 0xFFFF, 0);
    take_interrupts();
    CHECK_EQ("synic.cross_vp.post_interrupts_vp0", sint_hits[0], b0 + 1);
    CHECK_EQ("synic.cross_vp.post_not_vp1", sint_hits[1], a0);
    volatile uint32_t *slot = (volatile uint32_t *)(simp + 3 * 256);
    CHECK_EQ("synic.cross_vp.slot_type", slot[0], 0x5151);
    CHECK_EQ("synic.cross_vp.slot_size", slot[1] & 0xFF, 8);
    CHECK_EQ("synic.cross_vp.slot_payload", *(volatile uint64_t *)(simp + 3 * 256 + 16), 0x1122334455667788ull);
    slot[0] = 0;
    wrmsr(0x40000084, 0);
    b0 = sint_hits[0];
    CHECK("synic.cross_vp.signal_ran", ap_run(CMD_SIGNAL));
    CHECK_EQ("synic.cross_vp.signal_status", ap_status & 0xFFFF, 0);
    take_interrupts();
    CHECK_EQ("synic.cross_vp.signal_interrupts_vp0", sint_hits[0], b0 + 1);
    CHECK("synic.cross_vp.flag_set_in_vp0_sief", (siefp[3 * 256 + 1] >> 3) & 1);
    wrmsr(MSR_SINT0 + 3, 0x10000);
    wrmsr(MSR_SIMP, 0);
    wrmsr(MSR_SIEFP, 0);
    wrmsr(MSR_SCONTROL, 0);
}

int main(uint32_t mb_info)
{
    printf("hv_smp\n");
    const char *cl = guest_cmdline(mb_info);
    CHECK_EQ("vp_index.bsp", rdmsr(MSR_VP_INDEX), 0);
    if (!cmdline_has_word(cl, "vps=2")) {
        printf("SKIP: smp.* (run with --smp 2 --append vps=2)\n");
        test_finish();
    }
    wrmsr(MSR_GUEST_OS_ID, 0x8100000006010000ull);
    wrmsr(MSR_HYPERCALL, (uint64_t)(uintptr_t)hc_page | 1);
    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(VEC_IPI, on_ipi);

    bool up = start_ap();
    check("smp.ap_started", up, "no sign of life from the AP after INIT-SIPI-SIPI (trampoline at 0x%x)",
          TRAMP_ADDR);
    if (!up)
        test_finish();
    CHECK_EQ("vp_index.ap_is_1", ap_vp_index, 1);

    /* GUEST_OS_ID is partition-wide, SCONTROL per VP (TLFS 3.13, 11.8). */
    wrmsr(MSR_SCONTROL, 1);
    wrmsr(MSR_SINT0, 0x40);
    uint64_t ref0 = rdmsr(MSR_TIME_REF);
    CHECK("msr.ap_answers", ap_run(CMD_READ_MSRS));
    CHECK_EQ("msr.guest_os_id_partition_wide", ap_guest_os_id, 0x8100000006010000ull);
    CHECK_EQ("msr.scontrol_per_vp", ap_scontrol, 0);
    CHECK_EQ("msr.hypercall_partition_wide", ap_hypercall, rdmsr(MSR_HYPERCALL));
    CHECK_EQ("msr.sint_per_vp_reset_masked", ap_sint0, 0x10000);
    CHECK("msr.ref_count_monotonic_across_vps", ap_ref >= ref0);
    uint64_t ref1 = rdmsr(MSR_TIME_REF);
    CHECK("msr.ref_count_monotonic_back_on_vp0", ref1 >= ap_ref);
    wrmsr(MSR_SCONTROL, 0);
    wrmsr(MSR_SINT0, 0x10000);

    check_ipis();
    check_flush();
    check_ap_timer();
    check_cross_vp_synic();
    test_finish();
}
