/* The bundled default guest: a guided tour of the Hyper-V interface from inside a guest (TLFS
 * v6.0b), one printed line per observation: discovery, guest OS identity and hypercall page,
 * reference time, a SynIC message and event through hvemu's echo host ports, a synthetic timer,
 * and with two VPs a remote TLB flush and a synthetic IPI; then ACPI power-off (exit status 0).
 * Every step checks the feature bits it relies on and says so when it is skipped. */
#include "guest.h"

/* ---- Names from the TLFS. ---- */
#define MSR_EFER             0xC0000080
#define MSR_GUEST_OS_ID      0x40000000
#define MSR_HYPERCALL        0x40000001
#define MSR_VP_INDEX         0x40000002
#define MSR_TIME_REF_COUNT   0x40000020
#define MSR_REFERENCE_TSC    0x40000021
#define MSR_TSC_FREQUENCY    0x40000022
#define MSR_APIC_FREQUENCY   0x40000023
#define MSR_SCONTROL         0x40000080
#define MSR_SIEFP            0x40000082
#define MSR_SIMP             0x40000083
#define MSR_EOM              0x40000084
#define MSR_SINT(n)          (0x40000090 + (n))
#define MSR_STIMER_CONFIG(n) (0x400000B0 + 2 * (n))
#define MSR_STIMER_COUNT(n)  (0x400000B1 + 2 * (n))

/* Open source (bit 63), OS type Linux (1), version 6.1.0 (TLFS 3.13). */
#define TOUR_GUEST_OS_ID 0x8100000006010000ull

#define HC_FAST      (1ull << 16)
#define HC_STATUS(r) ((uint16_t)(r))
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE 0x0002
#define HVCALL_SEND_SYNTHETIC_CLUSTER_IPI  0x000B
#define HVCALL_POST_MESSAGE                0x005C
#define HVCALL_SIGNAL_EVENT                0x005D

#define HVMSG_TIMER_EXPIRED 0x80000010u
#define STIMER_ENABLE (1ull << 0)
#define STIMER_SINT(s) ((uint64_t)(s) << 16)

/* hvemu's host ports (src/hv/host_ports.h): echo endpoints answering on the sender's SINT 2. */
#define CONN_ECHO_MESSAGE 1
#define CONN_ECHO_EVENT   2
#define ECHO_SINT  2
#define TIMER_SINT 5
#define ECHO_FLAG  3
#define TOUR_MSG_TYPE 0x2A

#define VEC_ECHO  0x62
#define VEC_TIMER 0x65
#define VEC_IPI   0x58

#define LAPIC(reg) (*(volatile uint32_t *)(uintptr_t)(0xFEE00000ull + (reg)))
#define LAPIC_ID  0x20
#define LAPIC_EOI 0xB0
#define LAPIC_SVR 0xF0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310

/* QEMU fw_cfg (docs/specs/fw_cfg.rst), which hvemu's board offers too. */
#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_NB_CPUS   0x0005

static uint8_t hc_page[4096] __attribute__((aligned(4096)));
static uint64_t hc_in[512] __attribute__((aligned(4096)));
static uint8_t tsc_page[4096] __attribute__((aligned(4096)));
static uint8_t simp[4096] __attribute__((aligned(4096)));
static uint8_t siefp[4096] __attribute__((aligned(4096)));
static uint8_t ap_stack[16384] __attribute__((aligned(16)));

static unsigned problems; /* steps that did not behave as the TLFS says */
static uint64_t tsc_hz = 1000000000ull; /* hvemu's documented TSC rate, until the MSR says */

static void expect(bool ok, const char *what)
{
    if (!ok) {
        problems++;
        printf("  unexpected: %s\n", what);
    }
}

/* ---- Hypercalls (TLFS 3.7): RCX control, RDX input, R8 output, a near CALL to the page. ---- */
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

static const char *status_name(uint16_t st)
{
    static const struct { uint16_t code; const char *name; } names[] = {
        {0x00, "HV_STATUS_SUCCESS"},
        {0x02, "HV_STATUS_INVALID_HYPERCALL_CODE"},
        {0x03, "HV_STATUS_INVALID_HYPERCALL_INPUT"},
        {0x04, "HV_STATUS_INVALID_ALIGNMENT"},
        {0x05, "HV_STATUS_INVALID_PARAMETER"},
        {0x06, "HV_STATUS_ACCESS_DENIED"},
        {0x11, "HV_STATUS_INVALID_PORT_ID"},
        {0x12, "HV_STATUS_INVALID_CONNECTION_ID"},
        {0x13, "HV_STATUS_INSUFFICIENT_BUFFERS"},
        {0x18, "HV_STATUS_INVALID_SYNIC_STATE"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].code == st)
            return names[i].name;
    return "unknown status";
}

/* ---- Interrupts: one handler counts every tour vector per VP (by local APIC ID). ---- */
static volatile unsigned hits[2][256];

static bool on_vector(struct trap_frame *f)
{
    unsigned vp = LAPIC(LAPIC_ID) >> 24;
    if (vp < 2)
        hits[vp][f->vector & 0xFF]++;
    LAPIC(LAPIC_EOI) = 0;
    return true;
}

/* Polls with interrupts open until hits[vp][vector] reaches want (bounded: never hangs). */
static bool wait_hits(unsigned vp, unsigned vector, unsigned want)
{
    for (unsigned long i = 0; i < 2000000ul && hits[vp][vector] < want; i++)
        __asm__ volatile("sti; pause; cli" ::: "memory");
    return hits[vp][vector] >= want;
}

static void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + us * (tsc_hz / 1000000);
    while (rdtsc() < end)
        __asm__ volatile("pause");
}

/* ---- Step 1: discovery (TLFS 2.4). ---- */
struct feature_bit {
    uint32_t leaf;
    uint8_t reg; /* 0 EAX, 1 EBX, 3 EDX */
    uint8_t bit;
    const char *name;
};

static const struct feature_bit privileges[] = {
    {0x40000003, 0, 0, "VP runtime"},       {0x40000003, 0, 1, "reference counter"},
    {0x40000003, 0, 2, "SynIC"},            {0x40000003, 0, 3, "synthetic timers"},
    {0x40000003, 0, 4, "APIC MSRs"},        {0x40000003, 0, 5, "hypercall MSRs"},
    {0x40000003, 0, 6, "VP index"},         {0x40000003, 0, 7, "reset"},
    {0x40000003, 0, 9, "reference TSC page"}, {0x40000003, 0, 10, "guest idle"},
    {0x40000003, 0, 11, "frequency MSRs"},  {0x40000003, 1, 4, "PostMessages"},
    {0x40000003, 1, 5, "SignalEvents"},     {0x40000003, 3, 4, "XMM hypercall input"},
    {0x40000003, 3, 10, "crash MSRs"},      {0x40000003, 3, 19, "direct stimers"},
};

static const struct feature_bit hints[] = {
    {0x40000004, 0, 2, "remote TLB flush hypercall"}, {0x40000004, 0, 3, "APIC MSRs"},
    {0x40000004, 0, 5, "relaxed timing"},             {0x40000004, 0, 9, "deprecate AutoEOI"},
    {0x40000004, 0, 10, "synthetic cluster IPI"},     {0x40000004, 0, 11, "Ex processor masks"},
};

static bool has(const struct cpuid_regs *r, unsigned reg, unsigned bit)
{
    uint32_t w = reg == 0 ? r->eax : reg == 1 ? r->ebx : reg == 2 ? r->ecx : r->edx;
    return (w >> bit) & 1;
}

static void print_bits(const char *label, const struct feature_bit *t, size_t n)
{
    struct cpuid_regs r = cpuid(t[0].leaf, 0);
    printf("discovery: %s (leaf 0x%x: %08x %08x %08x):", label, t[0].leaf, r.eax, r.ebx, r.edx);
    unsigned shown = 0;
    for (size_t i = 0; i < n; i++)
        if (has(&r, t[i].reg, t[i].bit))
            printf("%s %s", shown++ ? "," : "", t[i].name);
    printf("%s\n", shown ? "" : " none");
}

static void vendor_string(uint32_t leaf, char out[13], bool hv_order)
{
    struct cpuid_regs r = cpuid(leaf, 0);
    /* Leaf 0 spells the vendor in EBX, EDX, ECX; the hypervisor leaf in EBX, ECX, EDX. */
    uint32_t w[3] = {r.ebx, hv_order ? r.ecx : r.edx, hv_order ? r.edx : r.ecx};
    memcpy(out, w, 12);
    out[12] = '\0';
}

static bool tour_discovery(void)
{
    char vendor[13];
    vendor_string(0x40000000, vendor, true);
    uint32_t max_hv = cpuid(0x40000000, 0).eax;
    printf("hypervisor vendor: %s (max leaf 0x%x)\n", vendor, max_hv);
    uint32_t sig = cpuid(0x40000001, 0).eax;
    char s[5] = {(char)sig, (char)(sig >> 8), (char)(sig >> 16), (char)(sig >> 24), 0};
    struct cpuid_regs f = cpuid(0x40000003, 0);
    printf("hypervisor interface: %s, privileges 0x%08x%08x\n", s, f.ebx, f.eax);
    /* A Microsoft-compatible hypervisor says "Hv#1" in leaf 0x40000001 (TLFS 2.4.2). */
    if (sig != 0x31237648 || max_hv < 0x40000005) {
        printf("discovery: not a Hyper-V compatible interface: tour skipped\n");
        return false;
    }
    print_bits("privileges", privileges, sizeof(privileges) / sizeof(privileges[0]));
    print_bits("recommendations", hints, sizeof(hints) / sizeof(hints[0]));
    struct cpuid_regs lim = cpuid(0x40000005, 0);
    printf("discovery: limits (leaf 0x40000005): at most %u VPs and %u logical processors\n", lim.eax,
           lim.ebx);
    return true;
}

/* ---- Step 2: guest OS identity and the hypercall page (TLFS 3.13). ---- */
static bool tour_hypercall_page(void)
{
    /* Leaf 0x40000002 stays zero until the guest says who it is (TLFS 2.4.3). */
    struct cpuid_regs before = cpuid(0x40000002, 0);
    wrmsr(MSR_GUEST_OS_ID, TOUR_GUEST_OS_ID);
    printf("hypercall: guest OS ID 0x%016llx (open source, Linux 6.1.0)\n",
           (unsigned long long)rdmsr(MSR_GUEST_OS_ID));
    struct cpuid_regs ver = cpuid(0x40000002, 0);
    printf("hypercall: hypervisor version (leaf 0x40000002) %s: build %u, version %u.%u\n",
           before.eax | before.ebx ? "was already set" : "appeared", ver.eax, ver.ebx >> 16,
           ver.ebx & 0xFFFF);
    expect(!(before.eax | before.ebx) && (ver.eax | ver.ebx), "leaf 0x40000002 before/after");

    /* The hypervisor overlays its calling sequence on the page named by the MSR (TLFS 3.13). */
    wrmsr(MSR_HYPERCALL, (uint64_t)(uintptr_t)hc_page | 1);
    uint64_t msr = rdmsr(MSR_HYPERCALL);
    printf("hypercall: page at 0x%llx %s, it begins %02x %02x %02x %02x\n",
           (unsigned long long)(msr & ~0xFFFull), msr & 1 ? "enabled" : "NOT enabled", hc_page[0],
           hc_page[1], hc_page[2], hc_page[3]);
    expect(msr & 1, "hypercall page enable bit");
    return msr & 1;
}

/* ---- Step 3: partition reference time (TLFS 12.4). ---- */
static void tour_time(const struct cpuid_regs *f)
{
    if (!has(f, 0, 1)) {
        printf("time: reference counter not offered (0x40000003.EAX[1]): skipped\n");
        return;
    }
    if (has(f, 0, 11)) {
        tsc_hz = rdmsr(MSR_TSC_FREQUENCY);
        printf("time: TSC frequency %llu Hz, APIC timer frequency %llu Hz\n",
               (unsigned long long)tsc_hz, (unsigned long long)rdmsr(MSR_APIC_FREQUENCY));
        if (tsc_hz < 1000000)
            tsc_hz = 1000000000ull;
    }
    uint64_t r0 = rdmsr(MSR_TIME_REF_COUNT);
    delay_us(50);
    uint64_t r1 = rdmsr(MSR_TIME_REF_COUNT);
    printf("time: reference counter %llu, 50 us later %llu (+%llu ticks of 100 ns)\n",
           (unsigned long long)r0, (unsigned long long)r1, (unsigned long long)(r1 - r0));
    expect(r1 - r0 >= 490 && r1 - r0 <= 520, "reference counter rate");

    if (!has(f, 0, 9)) {
        printf("time: reference TSC page not offered (0x40000003.EAX[9]): skipped\n");
        return;
    }
    wrmsr(MSR_REFERENCE_TSC, (uint64_t)(uintptr_t)tsc_page | 1);
    /* TLFS 12.4.3.2: time = ((TSC * scale) >> 64) + offset, valid while the sequence holds. */
    volatile uint32_t *seqp = (volatile uint32_t *)tsc_page;
    uint32_t seq;
    uint64_t scale, page_t, tsc;
    int64_t offset;
    do {
        seq = *seqp;
        scale = *(volatile uint64_t *)(tsc_page + 8);
        offset = *(volatile int64_t *)(tsc_page + 16);
        tsc = rdtsc();
    } while (seq != 0 && *seqp != seq);
    page_t = (uint64_t)(((unsigned __int128)tsc * scale) >> 64) + (uint64_t)offset;
    uint64_t msr_t = rdmsr(MSR_TIME_REF_COUNT);
    printf("time: TSC page at 0x%llx: sequence %u, scale 0x%016llx, offset %lld\n",
           (unsigned long long)(uintptr_t)tsc_page, seq, (unsigned long long)scale, (long long)offset);
    printf("time: TSC %llu through the page gives %llu; the MSR just after reads %llu\n",
           (unsigned long long)tsc, (unsigned long long)page_t, (unsigned long long)msr_t);
    expect(seq != 0 && msr_t >= page_t && msr_t - page_t <= 100, "TSC page agrees with the MSR");
    wrmsr(MSR_REFERENCE_TSC, 0);
}

/* ---- Step 4: SynIC message and event through the echo host ports (TLFS 11). ---- */
static void release_slot(unsigned sint)
{
    /* TLFS 11.9.3: empty the slot, then EOM if the hypervisor flagged a pending message. */
    volatile uint8_t *slot = simp + 256 * sint;
    bool pending = slot[5] & 1;
    *(volatile uint32_t *)slot = 0;
    __asm__ volatile("mfence" ::: "memory");
    if (pending)
        wrmsr(MSR_EOM, 0);
}

static bool tour_synic(const struct cpuid_regs *f)
{
    if (!has(f, 0, 2) || !has(f, 1, 4) || !has(f, 1, 5)) {
        printf("synic: SynIC, PostMessages or SignalEvents not offered: skipped\n");
        return false;
    }
    wrmsr(MSR_SIMP, (uint64_t)(uintptr_t)simp | 1);
    wrmsr(MSR_SIEFP, (uint64_t)(uintptr_t)siefp | 1);
    wrmsr(MSR_SINT(ECHO_SINT), VEC_ECHO);
    wrmsr(MSR_SCONTROL, 1);
    printf("synic: enabled, message page 0x%llx, event flags page 0x%llx, SINT %u -> vector 0x%x\n",
           (unsigned long long)(uintptr_t)simp, (unsigned long long)(uintptr_t)siefp, ECHO_SINT,
           VEC_ECHO);

    /* HvPostMessage input: ConnectionId, reserved, MessageType, PayloadSize, payload. */
    static const char text[] = "hello from the tour";
    uint32_t *in = (uint32_t *)hc_in;
    in[0] = CONN_ECHO_MESSAGE;
    in[1] = 0;
    in[2] = TOUR_MSG_TYPE;
    in[3] = sizeof(text);
    memcpy(&in[4], text, sizeof(text));
    unsigned h = hits[0][VEC_ECHO];
    uint16_t st = HC_STATUS(hypercall(HVCALL_POST_MESSAGE, (uint64_t)(uintptr_t)hc_in, 0));
    printf("synic: HvPostMessage to connection %u, type 0x%x, %u bytes: %s\n", CONN_ECHO_MESSAGE,
           TOUR_MSG_TYPE, (unsigned)sizeof(text), status_name(st));
    expect(st == 0, "HvPostMessage status");
    bool got = wait_hits(0, VEC_ECHO, h + 1);
    volatile uint8_t *slot = simp + 256 * ECHO_SINT;
    char echoed[32] = {0};
    for (unsigned i = 0; i < sizeof(echoed) - 1 && i < slot[4]; i++)
        echoed[i] = (char)slot[16 + i];
    printf("synic: message received on SINT %u (%s): type 0x%x, %u bytes, \"%s\"\n", ECHO_SINT,
           got ? "interrupt" : "no interrupt", *(volatile uint32_t *)slot, slot[4], echoed);
    expect(got && *(volatile uint32_t *)slot == TOUR_MSG_TYPE && strcmp(echoed, text) == 0,
           "echoed message");
    release_slot(ECHO_SINT);

    /* HvSignalEvent, fast form: RDX = ConnectionId | FlagNumber << 32 (TLFS 11.10.x). */
    h = hits[0][VEC_ECHO];
    st = HC_STATUS(hypercall(HVCALL_SIGNAL_EVENT | HC_FAST,
                             CONN_ECHO_EVENT | (uint64_t)ECHO_FLAG << 32, 0));
    printf("synic: HvSignalEvent to connection %u, flag %u: %s\n", CONN_ECHO_EVENT, ECHO_FLAG,
           status_name(st));
    expect(st == 0, "HvSignalEvent status");
    got = wait_hits(0, VEC_ECHO, h + 1);
    uint8_t *flags = siefp + 256 * ECHO_SINT;
    bool set = (flags[ECHO_FLAG / 8] >> (ECHO_FLAG % 8)) & 1;
    printf("synic: event flag %u %s in SINT %u's event flags (%s)\n", ECHO_FLAG,
           set ? "set" : "NOT set", ECHO_SINT, got ? "interrupt" : "no interrupt");
    expect(got && set, "echoed event flag");
    __atomic_fetch_and(&flags[ECHO_FLAG / 8], (uint8_t)~(1u << (ECHO_FLAG % 8)), __ATOMIC_SEQ_CST);
    return true;
}

/* ---- Step 5: a synthetic timer in message mode (TLFS 12.5). ---- */
static void tour_stimer(const struct cpuid_regs *f, bool synic)
{
    if (!synic || !has(f, 0, 3) || !has(f, 0, 1)) {
        printf("stimer: synthetic timers (with SynIC and the reference counter) not offered: skipped\n");
        return;
    }
    wrmsr(MSR_SINT(TIMER_SINT), VEC_TIMER);
    uint64_t due = rdmsr(MSR_TIME_REF_COUNT) + 10000; /* 1 ms */
    wrmsr(MSR_STIMER_COUNT(0), due);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(TIMER_SINT));
    printf("stimer: timer 0 armed, one-shot, message to SINT %u at reference time %llu\n",
           TIMER_SINT, (unsigned long long)due);
    /* Halt until the expiry: an idle VP costs no host time, hvemu jumps to the deadline. */
    unsigned h = hits[0][VEC_TIMER];
    cli();
    for (unsigned i = 0; i < 100 && hits[0][VEC_TIMER] == h; i++) {
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
    uint64_t now = rdmsr(MSR_TIME_REF_COUNT);
    volatile uint8_t *slot = simp + 256 * TIMER_SINT;
    uint32_t type = *(volatile uint32_t *)slot;
    /* HV_TIMER_MESSAGE_PAYLOAD: TimerIndex, reserved, ExpirationTime, DeliveryTime. */
    uint32_t index = *(volatile uint32_t *)(slot + 16);
    uint64_t exp = *(volatile uint64_t *)(slot + 24), del = *(volatile uint64_t *)(slot + 32);
    printf("stimer: message on SINT %u: type 0x%x (%s), timer %u, expiration %llu, delivery %llu\n",
           TIMER_SINT, type, type == HVMSG_TIMER_EXPIRED ? "HVMSG_TIMER_EXPIRED" : "unexpected",
           index, (unsigned long long)exp, (unsigned long long)del);
    printf("stimer: woke from HLT at reference time %llu, %s\n", (unsigned long long)now,
           now >= due ? "not early" : "EARLY");
    expect(hits[0][VEC_TIMER] != h && type == HVMSG_TIMER_EXPIRED && index == 0 && exp == due &&
           del >= due && now >= due, "timer expiry message");
    release_slot(TIMER_SINT);
    wrmsr(MSR_SINT(TIMER_SINT), 0x10000);
}

/* ---- Step 6: two VPs (TLFS 10.2 remote TLB flush, 10.5 synthetic cluster IPI). ---- */

/* VP 1 starts in real mode at the SIPI vector (SDM Vol 3 9.4.4); the guest library's trampoline
 * (smp_prepare_ap), copied to this page, takes it to long mode with VP 0's GDT, IDT and tables. */
#define TRAMP_ADDR 0x8000u /* SIPI vector 0x08: CS = 0x0800, IP = 0 */

/* A 2 MiB page VP 0 remaps under VP 1's feet: VP 1 keeps the stale translation until flushed. */
#define FLUSH_VA 0x40000000ull
#define PHYS_OLD 0x00800000ull
#define PHYS_NEW 0x00A00000ull
#define MARK_OLD 0x0DD0DD0DD0DD0DD0ull
#define MARK_NEW 0x0EE0EE0EE0EE0EE0ull

/* VP 1 runs commands VP 0 posts here (one host thread runs both VPs: volatiles suffice). */
enum { CMD_NONE, CMD_READ_VA };
static volatile unsigned ap_ready, ap_cmd, ap_done;
static volatile uint64_t ap_vp_index, ap_va_value;

void ap_main(void);
void ap_main(void)
{
    LAPIC(LAPIC_SVR) = 0x1FF;
    ap_vp_index = rdmsr(MSR_VP_INDEX);
    ap_ready = 1;
    for (;;) {
        __asm__ volatile("sti; pause; cli" ::: "memory");
        unsigned cmd = ap_cmd; /* read once: VP 0 may post between two reads */
        if (cmd == CMD_NONE)
            continue;
        if (cmd == CMD_READ_VA)
            ap_va_value = *(volatile uint64_t *)(uintptr_t)FLUSH_VA;
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

static bool start_ap(void)
{
    smp_prepare_ap(TRAMP_ADDR, ap_main, ap_stack + sizeof(ap_stack));

    /* SDM Vol 3 9.4.4.1: INIT, 10 ms, SIPI, 200 us, SIPI. */
    lapic_icr_send(1, 0x4500);
    delay_us(10000);
    lapic_icr_send(1, 0x4600 | (TRAMP_ADDR >> 12));
    delay_us(200);
    if (!ap_ready)
        lapic_icr_send(1, 0x4600 | (TRAMP_ADDR >> 12));
    for (unsigned i = 0; i < 200 && !ap_ready; i++)
        delay_us(100);
    return ap_ready;
}

/* The VP count from fw_cfg's NB_CPUS item, when the "QEMU" signature says fw_cfg is there. */
static unsigned count_vps(void)
{
    char sig[4];
    outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
    for (unsigned i = 0; i < 4; i++)
        sig[i] = (char)inb(FW_CFG_PORT_DATA);
    if (memcmp(sig, "QEMU", 4) != 0)
        return 1;
    outw(FW_CFG_PORT_SEL, FW_CFG_NB_CPUS);
    unsigned n = inb(FW_CFG_PORT_DATA);
    n |= (unsigned)inb(FW_CFG_PORT_DATA) << 8;
    return n ? n : 1;
}

static const char *mapping_name(uint64_t value)
{
    return value == MARK_OLD ? "old page" : value == MARK_NEW ? "new page" : "neither page";
}

static void tour_flush(void)
{
    uint64_t *pde = guest_pde(FLUSH_VA), saved = *pde;
    *(volatile uint64_t *)(uintptr_t)PHYS_OLD = MARK_OLD;
    *(volatile uint64_t *)(uintptr_t)PHYS_NEW = MARK_NEW;
    *pde = PHYS_OLD | 0x87; /* P, RW, U, PS */
    invlpg(FLUSH_VA);
    bool ran = ap_run(CMD_READ_VA);
    printf("smp: VP 1 reads 0x%016llx at 0x%llx (%s, now cached in its TLB)\n",
           (unsigned long long)ap_va_value, FLUSH_VA, mapping_name(ap_va_value));
    expect(ran && ap_va_value == MARK_OLD, "VP 1 reads the old mapping");
    /* VP 0 remaps and invalidates its own TLB only: VP 1 may keep the stale translation. */
    *pde = PHYS_NEW | 0x87;
    invlpg(FLUSH_VA);
    ran = ap_run(CMD_READ_VA);
    printf("smp: VP 0 remapped it; VP 1 still reads 0x%016llx (%s)\n",
           (unsigned long long)ap_va_value, mapping_name(ap_va_value));
    /* Input: AddressSpace (CR3), Flags, ProcessorMask (TLFS 10.4.2). */
    hc_in[0] = read_cr3();
    hc_in[1] = 0;
    hc_in[2] = 0x3;
    uint16_t st =
        HC_STATUS(hypercall(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, (uint64_t)(uintptr_t)hc_in, 0));
    printf("smp: HvFlushVirtualAddressSpace, CR3 0x%llx, VPs 0-1: %s\n",
           (unsigned long long)hc_in[0], status_name(st));
    ran = ran && ap_run(CMD_READ_VA);
    printf("smp: VP 1 now reads 0x%016llx (%s)\n", (unsigned long long)ap_va_value,
           mapping_name(ap_va_value));
    expect(st == 0 && ran && ap_va_value == MARK_NEW, "remote TLB flush");
    *pde = saved;
    invlpg(FLUSH_VA);
}

static void tour_ipi(void)
{
    /* Fast form: RDX = Vector, R8 = ProcessorMask (TLFS 10.5.2). */
    unsigned h0 = hits[0][VEC_IPI], h1 = hits[1][VEC_IPI];
    uint16_t st = HC_STATUS(hypercall(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI | HC_FAST, VEC_IPI, 1ull << 1));
    printf("smp: HvCallSendSyntheticClusterIpi, vector 0x%x to VP 1: %s\n", VEC_IPI, status_name(st));
    bool got = wait_hits(1, VEC_IPI, h1 + 1);
    for (int i = 0; i < 50; i++)
        __asm__ volatile("sti; nop; cli" ::: "memory");
    printf("smp: VP 1 took vector 0x%x %u time(s), VP 0 %u time(s)\n", VEC_IPI,
           hits[1][VEC_IPI] - h1, hits[0][VEC_IPI] - h0);
    expect(st == 0 && got && hits[1][VEC_IPI] == h1 + 1 && hits[0][VEC_IPI] == h0, "synthetic IPI");
}

static void tour_smp(const struct cpuid_regs *f)
{
    unsigned n = count_vps();
    printf("smp: %u VP%s (fw_cfg NB_CPUS)\n", n, n == 1 ? "" : "s");
    if (n < 2) {
        printf("smp: TLB-flush and IPI hypercalls skipped with 1 VP (try --smp 2)\n");
        return;
    }
    if (!has(f, 0, 6)) {
        printf("smp: VP index MSR not offered (0x40000003.EAX[6]): skipped\n");
        return;
    }
    bool up = start_ap();
    printf("smp: VP 1 %s by INIT-SIPI-SIPI, its VP_INDEX reads %llu\n",
           up ? "started" : "did NOT start", (unsigned long long)ap_vp_index);
    expect(up && ap_vp_index == 1, "VP 1 start-up");
    if (!up)
        return;
    struct cpuid_regs h = cpuid(0x40000004, 0);
    if (has(&h, 0, 2))
        tour_flush();
    else
        printf("smp: remote TLB flush not recommended (0x40000004.EAX[2]): skipped\n");
    if (has(&h, 0, 10))
        tour_ipi();
    else
        printf("smp: synthetic cluster IPI not recommended (0x40000004.EAX[10]): skipped\n");
}

static void tour(void)
{
    if (!tour_discovery())
        return;
    struct cpuid_regs f = cpuid(0x40000003, 0);
    if (!has(&f, 0, 5)) {
        printf("hypercall: hypercall MSRs not offered (0x40000003.EAX[5]): tour ends here\n");
        return;
    }
    LAPIC(LAPIC_SVR) = 0x1FF; /* xAPIC software-enabled, spurious vector 0xFF */
    trap_set_handler(VEC_ECHO, on_vector);
    trap_set_handler(VEC_TIMER, on_vector);
    trap_set_handler(VEC_IPI, on_vector);
    bool hc = tour_hypercall_page();
    tour_time(&f);
    if (!hc)
        return;
    bool synic = tour_synic(&f);
    tour_stimer(&f, synic);
    tour_smp(&f);
}

/* ---- A few self-checks of the interpreter. ---- */
static uint64_t fib(unsigned n)
{
    uint64_t a = 0, b = 1;
    for (unsigned i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

static unsigned self_checks(void)
{
    /* Volatile inputs keep the compiler from folding the checks away. */
    volatile uint64_t n90 = 90, m1 = 123456789, m2 = 987654321, d1 = 0xFFFFFFFFFFFFull, d2 = 0x12345;
    volatile unsigned top = 1000;
    unsigned bad = 0;
    bad += fib((unsigned)n90) != 2880067194370816120ull;
    bad += m1 * m2 != 121932631112635269ull;
    bad += d1 / d2 != 0xE1004FFBull;
    uint64_t sum = 0;
    for (unsigned i = 1; i <= top; i++)
        sum += i * i;
    bad += sum != 333833500;
    return bad;
}

int main(uint32_t mb_info)
{
    char vendor[13];
    uint64_t tsc0 = rdtsc();

    printf("hvemu default guest\n");
    printf("a tour of the Hyper-V interface (TLFS v6.0b), one line per observation\n");
    if (guest_mb_magic == 0x2BADB002) {
        const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)mb_info;
        printf("booted by: %s, memory: %u KiB low, %u KiB high\n",
               (mbi->flags & (1u << 9)) ? (const char *)(uintptr_t)mbi->boot_loader_name : "?",
               mbi->mem_lower, mbi->mem_upper);
    }
    struct cpuid_regs l0 = cpuid(0, 0);
    vendor_string(0, vendor, false);
    printf("cpu vendor: %s (max leaf 0x%x)\n", vendor, l0.eax);

    /* TLFS 2.4.1: CPUID.1:ECX[31] says a hypervisor is present; only then are 0x4000000x valid. */
    bool hv = (cpuid(1, 0).ecx >> 31) & 1;
    printf("hypervisor present: %s\n", hv ? "yes" : "no");
    if (hv)
        tour();
    else
        printf("no hypervisor present (CPUID.1:ECX[31] clear): nothing to tour\n");

    unsigned bad = self_checks();
    printf("self-checks: %s\n", bad ? "FAILED" : "ok");
    if (hv)
        printf("tour: %s\n",
               problems ? "some steps did not behave as the TLFS says" : "every step as expected");
    uint64_t tsc1 = rdtsc();
    printf("tsc: %llu -> %llu (+%llu)\n", (unsigned long long)tsc0, (unsigned long long)tsc1,
           (unsigned long long)(tsc1 - tsc0));
    printf("powering off\n");
    return bad || problems ? GUEST_EXIT_FAIL : 0;
}
