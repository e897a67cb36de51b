/* Inter-processor interrupts between two VPs (run with --smp 2; with one VP, as the MADT tells,
 * it prints a SKIP line and passes): AP start-up by INIT-SIPI-SIPI, fixed IPIs both ways, an NMI
 * IPI, the all-excluding-self and all-including-self shorthands, logical flat destinations,
 * lowest-priority arbitration by TPR, waking a halted AP, IOAPIC interrupts steered to the AP,
 * a second INIT-SIPI-SIPI, and the same IPIs in x2APIC mode. */
#include "guest.h"

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define TRAMP_ADDR 0x9000u /* SIPI vector 0x09 */
#define VEC_A 0x50
#define VEC_B 0x58
#define VEC_LP 0x60
#define VEC_RTC 0x68
#define NCPU 2

#define ICR_NMI (4u << 8)
#define ICR_LOWPRI (1u << 8)
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_SELF (1u << 18)
#define ICR_ALL_INCL (2u << 18)
#define ICR_ALL_EXCL (3u << 18)

static uint8_t ap_stack[16384] __attribute__((aligned(16)));

enum { CMD_NONE, CMD_SEND, CMD_TPR, CMD_LDR, CMD_HALT, CMD_ID, CMD_X2APIC };
static volatile unsigned ap_ready, ap_cmd, ap_done;
static volatile uint32_t ap_arg, ap_arg2, ap_result;
static volatile unsigned hits[NCPU][256];
static volatile unsigned nmis[NCPU];

/* Set once both VPs run in x2APIC mode (registers through MSRs only). */
static volatile bool x2;

static unsigned my_id(void) { return (x2 ? (unsigned)rdmsr(0x802) : LAPIC(0x20) >> 24) % NCPU; }

static bool on_irq(struct trap_frame *f)
{
    hits[my_id()][f->vector & 0xFF]++;
    if (x2)
        wrmsr(0x80B, 0);
    else
        LAPIC(0xB0) = 0;
    return true;
}

static bool on_nmi(struct trap_frame *f)
{
    (void)f;
    nmis[my_id()]++;
    return true;
}

static void icr_send(uint32_t dest, uint32_t low)
{
    if (x2) {
        wrmsr(0x830, (uint64_t)dest << 32 | low);
        return;
    }
    LAPIC(0x310) = dest << 24;
    LAPIC(0x300) = low;
    for (unsigned i = 0; i < 100000 && (LAPIC(0x300) & (1u << 12)); i++)
        __asm__ volatile("pause");
}

void ipi_ap_main(void);
void ipi_ap_main(void)
{
    LAPIC(0xF0) = 0x1FF;
    LAPIC(0x80) = 0;
    ap_ready = 1;
    for (;;) {
        __asm__ volatile("sti; pause; jmp 1f; 1: cli" ::: "memory");
        unsigned c = ap_cmd;
        if (c == CMD_NONE)
            continue;
        if (c == CMD_SEND)
            icr_send(ap_arg, ap_arg2);
        else if (c == CMD_TPR)
            LAPIC(0x80) = ap_arg;
        else if (c == CMD_LDR) {
            LAPIC(0xE0) = 0xFFFFFFFFu;
            LAPIC(0xD0) = ap_arg << 24;
            ap_result = LAPIC(0xD0);
        } else if (c == CMD_HALT) {
            ap_cmd = CMD_NONE;
            ap_done++;
            __asm__ volatile("sti; hlt; cli" ::: "memory");
            ap_result = 0x600D;
            continue;
        } else if (c == CMD_ID)
            ap_result = LAPIC(0x20);
        else if (c == CMD_X2APIC) {
            wrmsr(0x1B, rdmsr(0x1B) | (1u << 10));
            ap_result = (uint32_t)rdmsr(0x80D);
        }
        ap_cmd = CMD_NONE;
        ap_done++;
    }
}

static void delay(unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        __asm__ volatile("pause" ::: "memory");
}

/* Waits with interrupts on until *p reaches n; bounded. */
static bool wait_count(volatile unsigned *p, unsigned n)
{
    for (unsigned long i = 0; i < 20000000ul && *p < n; i++)
        __asm__ volatile("sti; pause; jmp 1f; 1: cli" ::: "memory");
    return *p >= n;
}

static void settle(void)
{
    for (unsigned long i = 0; i < 200000ul; i++)
        __asm__ volatile("sti; pause; jmp 1f; 1: cli" ::: "memory");
}

static bool ap_run(unsigned cmd, uint32_t arg, uint32_t arg2)
{
    unsigned d = ap_done;
    ap_arg = arg;
    ap_arg2 = arg2;
    ap_cmd = cmd;
    return wait_count(&ap_done, d + 1);
}

static bool start_ap(void)
{
    smp_prepare_ap(TRAMP_ADDR, ipi_ap_main, ap_stack + sizeof(ap_stack));
    icr_send(1, 0x4500); /* INIT */
    delay(200000);
    icr_send(1, 0x4600 | (TRAMP_ADDR >> 12)); /* SIPI */
    delay(20000);
    if (!ap_ready)
        icr_send(1, 0x4600 | (TRAMP_ADDR >> 12));
    for (unsigned i = 0; i < 2000 && !ap_ready; i++)
        delay(10000);
    return ap_ready;
}

/* Enabled processor entries in the MADT (RSDP -> RSDT -> "APIC", type 0 flags bit 0). */
static unsigned madt_cpus(void)
{
    const uint8_t *rsdp = NULL;
    for (uintptr_t a = 0xE0000; a < 0x100000 && !rsdp; a += 16)
        if (memcmp((const void *)a, "RSD PTR ", 8) == 0)
            rsdp = (const uint8_t *)a;
    if (!rsdp)
        return 1;
    uint32_t rsdt, len;
    memcpy(&rsdt, rsdp + 16, 4);
    const uint8_t *t = (const uint8_t *)(uintptr_t)rsdt;
    memcpy(&len, t + 4, 4);
    unsigned n = 0;
    for (uint32_t off = 36; off + 4 <= len && len < 4096; off += 4) {
        uint32_t e, mlen;
        memcpy(&e, t + off, 4);
        const uint8_t *m = (const uint8_t *)(uintptr_t)e;
        if (memcmp(m, "APIC", 4) != 0)
            continue;
        memcpy(&mlen, m + 4, 4);
        for (uint32_t o = 44; o + 2 <= mlen && m[o + 1] >= 2; o += m[o + 1])
            if (m[o] == 0 && (m[o + 4] & 1))
                n++;
    }
    return n ? n : 1;
}

static void test_ipis(void)
{
    CHECK("ipi.ap_id_query", ap_run(CMD_ID, 0, 0));
    CHECK_EQ("ipi.ap_apic_id", ap_result >> 24, 1);

    /* Fixed, physical, BSP -> AP. */
    icr_send(1, ICR_ASSERT | VEC_A);
    CHECK("ipi.fixed_to_ap", wait_count(&hits[1][VEC_A], 1));
    CHECK_EQ("ipi.fixed_not_to_bsp", hits[0][VEC_A], 0);
    CHECK_EQ("ipi.icr_idle_after", LAPIC(0x300) & (1u << 12), 0);

    /* AP -> BSP. */
    CHECK("ipi.ap_sends", ap_run(CMD_SEND, 0, ICR_ASSERT | VEC_B));
    CHECK("ipi.fixed_back_to_bsp", wait_count(&hits[0][VEC_B], 1));
    CHECK_EQ("ipi.fixed_back_not_to_ap", hits[1][VEC_B], 0);

    /* NMI to the AP. */
    icr_send(1, ICR_ASSERT | ICR_NMI);
    CHECK("ipi.nmi_to_ap", wait_count(&nmis[1], 1));
    CHECK_EQ("ipi.nmi_not_to_bsp", nmis[0], 0);
    /* NMI from the AP back. */
    CHECK("ipi.ap_sends_nmi", ap_run(CMD_SEND, 0, ICR_ASSERT | ICR_NMI));
    CHECK("ipi.nmi_to_bsp", wait_count(&nmis[0], 1));

    /* Shorthands. */
    unsigned a1 = hits[1][VEC_A], a0 = hits[0][VEC_A];
    icr_send(0, ICR_ASSERT | ICR_ALL_EXCL | VEC_A);
    CHECK("ipi.all_excl_self_reaches_ap", wait_count(&hits[1][VEC_A], a1 + 1));
    settle();
    CHECK_EQ("ipi.all_excl_self_skips_self", hits[0][VEC_A], a0);
    icr_send(0, ICR_ASSERT | ICR_ALL_INCL | VEC_A);
    CHECK("ipi.all_incl_self_reaches_ap", wait_count(&hits[1][VEC_A], a1 + 2));
    CHECK("ipi.all_incl_self_reaches_self", wait_count(&hits[0][VEC_A], a0 + 1));
    icr_send(0, ICR_ASSERT | ICR_SELF | VEC_B);
    unsigned b1 = hits[1][VEC_B];
    CHECK("ipi.self_shorthand", wait_count(&hits[0][VEC_B], 2));
    settle();
    CHECK_EQ("ipi.self_shorthand_only_self", hits[1][VEC_B], b1);

    /* Logical, flat model: BSP bit 0, AP bit 1. */
    LAPIC(0xE0) = 0xFFFFFFFFu;
    LAPIC(0xD0) = 1u << 24;
    CHECK_EQ("ipi.ldr_bsp", LAPIC(0xD0) >> 24, 1);
    CHECK_EQ("ipi.dfr_flat", LAPIC(0xE0) >> 28, 0xF);
    CHECK("ipi.ldr_ap_set", ap_run(CMD_LDR, 2, 0) && (ap_result >> 24) == 2);
    a1 = hits[1][VEC_A], a0 = hits[0][VEC_A];
    icr_send(2, ICR_ASSERT | ICR_LOGICAL | VEC_A);
    CHECK("ipi.logical_to_ap", wait_count(&hits[1][VEC_A], a1 + 1));
    settle();
    CHECK_EQ("ipi.logical_ap_only", hits[0][VEC_A], a0);
    icr_send(3, ICR_ASSERT | ICR_LOGICAL | VEC_A);
    CHECK("ipi.logical_both_ap", wait_count(&hits[1][VEC_A], a1 + 2));
    CHECK("ipi.logical_both_bsp", wait_count(&hits[0][VEC_A], a0 + 1));
    icr_send(4, ICR_ASSERT | ICR_LOGICAL | VEC_A);
    settle();
    CHECK("ipi.logical_no_match", hits[0][VEC_A] == a0 + 1 && hits[1][VEC_A] == a1 + 2);

    /* Lowest priority among BSP and AP: the one with the lower TPR takes it, exactly once. */
    LAPIC(0x80) = 0x20;
    CHECK("ipi.ap_tpr0", ap_run(CMD_TPR, 0, 0));
    icr_send(3, ICR_ASSERT | ICR_LOGICAL | ICR_LOWPRI | VEC_LP);
    bool got = wait_count(&hits[1][VEC_LP], 1);
    settle();
    check("ipi.lowest_priority_to_lower_tpr_ap", got && hits[0][VEC_LP] == 0, "BSP %u AP %u", hits[0][VEC_LP],
          hits[1][VEC_LP]);
    LAPIC(0x80) = 0;
    CHECK("ipi.ap_tpr_raised", ap_run(CMD_TPR, 0x20, 0));
    icr_send(3, ICR_ASSERT | ICR_LOGICAL | ICR_LOWPRI | VEC_LP);
    got = wait_count(&hits[0][VEC_LP], 1);
    settle();
    check("ipi.lowest_priority_to_lower_tpr_bsp", got && hits[1][VEC_LP] == 1, "BSP %u AP %u", hits[0][VEC_LP],
          hits[1][VEC_LP]);
    CHECK("ipi.ap_tpr_back", ap_run(CMD_TPR, 0, 0));
    LAPIC(0x80) = 0;

    /* A halted AP wakes on a fixed IPI. */
    ap_result = 0;
    CHECK("ipi.ap_halting", ap_run(CMD_HALT, 0, 0));
    delay(100000);
    CHECK_EQ("ipi.ap_stays_halted", ap_result, 0);
    unsigned c1 = hits[1][VEC_B];
    icr_send(1, ICR_ASSERT | VEC_B);
    CHECK("ipi.halted_ap_takes_ipi", wait_count(&hits[1][VEC_B], c1 + 1));
    for (unsigned long i = 0; i < 10000000ul && ap_result != 0x600D; i++)
        __asm__ volatile("pause" ::: "memory");
    CHECK_EQ("ipi.halted_ap_resumes", ap_result, 0x600D);
}

/* Device interrupts steered by the IOAPIC: the RTC's 1024 Hz periodic interrupt (pin 8) to the
 * AP by physical ID, then to both by logical destination with lowest priority. */
#define IOAPIC_SEL (*(volatile uint32_t *)(uintptr_t)0xFEC00000ull)
#define IOAPIC_WIN (*(volatile uint32_t *)(uintptr_t)0xFEC00010ull)
static void ioapic_write(unsigned reg, uint32_t v) { IOAPIC_SEL = reg; IOAPIC_WIN = v; }
static void cmos_write(uint8_t r, uint8_t v) { outb(0x70, r); outb(0x71, v); }
static uint8_t cmos_read(uint8_t r) { outb(0x70, r); return inb(0x71); }

static bool on_rtc(struct trap_frame *f)
{
    (void)cmos_read(0x0C);
    return on_irq(f);
}

static void test_ioapic_steering(void)
{
    (void)cmos_read(0x0C);
    ioapic_write(0x11 + 2 * 8, 1u << 24);
    ioapic_write(0x10 + 2 * 8, VEC_RTC);
    cmos_write(0x0A, 0x26);
    cmos_write(0x0B, 0x42);
    CHECK("ipi.ioapic_physical_to_ap", wait_count(&hits[1][VEC_RTC], 5));
    CHECK_EQ("ipi.ioapic_physical_not_bsp", hits[0][VEC_RTC], 0);
    /* Logical flat set {BSP, AP}, lowest priority: the BSP's TPR 0x20 sends them to the AP. */
    LAPIC(0x80) = 0x20;
    ioapic_write(0x11 + 2 * 8, 3u << 24);
    ioapic_write(0x10 + 2 * 8, VEC_RTC | (1u << 11) | (1u << 8));
    unsigned a = hits[1][VEC_RTC];
    CHECK("ipi.ioapic_lowest_priority_to_ap", wait_count(&hits[1][VEC_RTC], a + 5));
    CHECK_EQ("ipi.ioapic_lowest_priority_not_bsp", hits[0][VEC_RTC], 0);
    LAPIC(0x80) = 0;
    ioapic_write(0x10 + 2 * 8, 1u << 16);
    cmos_write(0x0B, 0x02);
    (void)cmos_read(0x0C);
}

/* A second INIT-SIPI-SIPI restarts the AP from its reset state (xAPIC, LDR 0). */
static void test_restart(void)
{
    ap_ready = 0;
    bool up = start_ap();
    CHECK("ipi.ap_restarted", up);
    CHECK("ipi.ap_restart_ldr_reset", up && ap_run(CMD_LDR, 0, 0) && ap_result == 0);
    unsigned a = hits[1][VEC_A];
    icr_send(1, ICR_ASSERT | VEC_A);
    CHECK("ipi.restarted_ap_takes_ipi", wait_count(&hits[1][VEC_A], a + 1));
}

/* The same traffic in x2APIC mode: ICR MSR 0x830 with the destination in bits 63:32. */
static void test_x2apic(void)
{
    if (!((cpuid(1, 0).ecx >> 21) & 1)) {
        CHECK("ipi.x2apic_cpuid", false);
        return;
    }
    CHECK("ipi.ap_x2apic_on", ap_run(CMD_X2APIC, 0, 0));
    CHECK_EQ("ipi.ap_x2apic_ldr", ap_result, 2);
    wrmsr(0x1B, rdmsr(0x1B) | (1u << 10));
    x2 = true;
    CHECK_EQ("ipi.x2apic_bsp_ldr", rdmsr(0x80D), 1);
    unsigned a1 = hits[1][VEC_A], a0 = hits[0][VEC_A], b0 = hits[0][VEC_B];
    icr_send(1, VEC_A);
    CHECK("ipi.x2apic_physical_to_ap", wait_count(&hits[1][VEC_A], a1 + 1));
    CHECK("ipi.x2apic_ap_sends_back", ap_run(CMD_SEND, 0, VEC_B));
    CHECK("ipi.x2apic_back_to_bsp", wait_count(&hits[0][VEC_B], b0 + 1));
    icr_send(2, ICR_LOGICAL | VEC_A); /* cluster 0, member bit 1 */
    CHECK("ipi.x2apic_cluster_logical_to_ap", wait_count(&hits[1][VEC_A], a1 + 2));
    settle();
    CHECK_EQ("ipi.x2apic_cluster_logical_ap_only", hits[0][VEC_A], a0);
    icr_send(0, ICR_ALL_EXCL | VEC_A);
    CHECK("ipi.x2apic_all_excl_self", wait_count(&hits[1][VEC_A], a1 + 3));
    settle();
    CHECK_EQ("ipi.x2apic_all_excl_skips_self", hits[0][VEC_A], a0);
    icr_send(0xFFFFFFFFu, VEC_A); /* physical broadcast */
    CHECK("ipi.x2apic_broadcast_ap", wait_count(&hits[1][VEC_A], a1 + 4));
    CHECK("ipi.x2apic_broadcast_bsp", wait_count(&hits[0][VEC_A], a0 + 1));
    unsigned n1 = nmis[1];
    icr_send(1, ICR_NMI);
    CHECK("ipi.x2apic_nmi_to_ap", wait_count(&nmis[1], n1 + 1));
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    LAPIC(0xF0) = 0x1FF;
    trap_set_handler(2, on_nmi);
    trap_set_handler(VEC_A, on_irq);
    trap_set_handler(VEC_B, on_irq);
    trap_set_handler(VEC_LP, on_irq);
    trap_set_handler(VEC_RTC, on_rtc);
    unsigned n = madt_cpus();
    CHECK("ipi.madt_cpus", n >= 1);
    icr_send(0, ICR_ASSERT | ICR_SELF | VEC_B);
    CHECK("ipi.self_single", wait_count(&hits[0][VEC_B], 1));
    if (n < 2) {
        printf("SKIP: ipi.* cross-VP checks (run with --smp 2)\n");
        test_finish();
    }
    bool up = start_ap();
    CHECK("ipi.ap_started", up);
    if (!up)
        test_finish();
    test_ipis();
    test_ioapic_steering();
    test_restart();
    test_x2apic();
    test_finish();
}
