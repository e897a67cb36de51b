/* Hyper-V conformance, SynIC and synthetic timers (TLFS v6.0b chapters 11-12, REFERENCE.md 5-6,
 * 9): SIM/SIEF overlays, SINT programming, HvPostMessage through hvemu's host ports (loop-back
 * connection 3 to VP 0 SINT 3, echo connection 1 back to SINT 2), the MessagePending/EOM/EOI
 * redelivery protocol, HvSignalEvent flags, and stimer 0 in direct, message and periodic mode,
 * all taken as real interrupts (sti; hlt) through the xAPIC. */
#include "guest.h"

#define MSR_GUEST_OS_ID 0x40000000
#define MSR_HYPERCALL   0x40000001
#define MSR_TIME_REF    0x40000020
#define MSR_EOI         0x40000070
#define MSR_SCONTROL    0x40000080
#define MSR_SVERSION    0x40000081
#define MSR_SIEFP       0x40000082
#define MSR_SIMP        0x40000083
#define MSR_EOM         0x40000084
#define MSR_SINT(n)     (0x40000090 + (n))
#define MSR_STIMER_CONFIG(n) (0x400000B0 + 2 * (n))
#define MSR_STIMER_COUNT(n)  (0x400000B1 + 2 * (n))

#define STIMER_ENABLE     (1ull << 0)
#define STIMER_PERIODIC   (1ull << 1)
#define STIMER_AUTOENABLE (1ull << 3)
#define STIMER_DIRECT     (1ull << 12)
#define STIMER_VECTOR(v)  ((uint64_t)(v) << 4)
#define STIMER_SINT(s)    ((uint64_t)(s) << 16)

#define HC_FAST       (1ull << 16)
#define HC_STATUS(r)  ((uint16_t)(r))
#define HVCALL_POST_MESSAGE 0x005C
#define HVCALL_SIGNAL_EVENT 0x005D

#define ST_SUCCESS              0x00
#define ST_INVALID_PARAMETER    0x05
#define ST_INVALID_PORT_ID      0x11
#define ST_INVALID_CONNECTION_ID 0x12
#define ST_INSUFFICIENT_BUFFERS 0x13
#define ST_INVALID_SYNIC_STATE  0x18

#define HVMSG_TIMER_EXPIRED 0x80000010u

/* hvemu's host ports (src/hv/host_ports.h, README "Host ports"). */
#define CONN_ECHO_MESSAGE 1
#define CONN_ECHO_EVENT   2
#define CONN_LOOP_MESSAGE 3
#define CONN_LOOP_EVENT   4
#define ECHO_SINT 2
#define LOOP_SINT 3
#define LOOP_EVENT_FLAGS 64
#define TIMER_SINT 5

#define VEC_ECHO     0x62
#define VEC_LOOP     0x63
#define VEC_TIMERMSG 0x65
#define VEC_DIRECT   0x70
#define VEC_PERIODIC 0x71
#define VEC_WATCHDOG 0x7F
#define WATCHDOG_TIMER 3

static uint8_t hc_page[4096] __attribute__((aligned(4096)));
static uint8_t hc_in[4096] __attribute__((aligned(4096)));
static uint8_t simp[4096] __attribute__((aligned(4096)));
static uint8_t siefp[4096] __attribute__((aligned(4096)));

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

static uint64_t ref_now(void)
{
    return rdmsr(MSR_TIME_REF);
}

/* ---- Message slots. ---- */
struct hv_message_header {
    uint32_t type;
    uint8_t size;
    uint8_t flags; /* bit 0 MessagePending */
    uint16_t reserved;
    uint64_t origin;
};

static volatile struct hv_message_header *slot(unsigned sint)
{
    return (volatile struct hv_message_header *)(simp + 256 * sint);
}

static volatile uint8_t *slot_payload(unsigned sint)
{
    return simp + 256 * sint + 16;
}

static void slot_release(unsigned sint)
{
    slot(sint)->type = 0;
    __asm__ volatile("mfence" ::: "memory");
}

static uint16_t post(uint32_t conn, uint32_t type, uint32_t size, uint8_t fill)
{
    uint32_t *in = (uint32_t *)hc_in;
    in[0] = conn;
    in[1] = 0;
    in[2] = type;
    in[3] = size;
    for (unsigned i = 0; i < 240; i++)
        hc_in[16 + i] = (uint8_t)(fill + i);
    return HC_STATUS(hypercall(HVCALL_POST_MESSAGE, (uint64_t)(uintptr_t)hc_in, 0));
}

static uint16_t signal_event(uint32_t conn, uint16_t flag)
{
    return HC_STATUS(hypercall(HVCALL_SIGNAL_EVENT | HC_FAST, conn | (uint64_t)flag << 32, 0));
}

static bool sief_bit(unsigned sint, unsigned flag)
{
    return (siefp[sint * 256 + flag / 8] >> (flag % 8)) & 1;
}

static void sief_clear(unsigned sint, unsigned flag)
{
    __atomic_fetch_and(&siefp[sint * 256 + flag / 8], (uint8_t)~(1u << (flag % 8)), __ATOMIC_SEQ_CST);
}

/* ---- Interrupts. ---- */
static bool use_eoi_msr;
static volatile unsigned hits[256];
static volatile uint64_t hit_time[256];
/* Timer-message handler mode: copy slot TIMER_SINT, release it, EOM (Linux's vmbus_isr order). */
static volatile bool drain_timer_slot;
static volatile uint32_t timer_msg_type;
static volatile uint8_t timer_msg_size;
static volatile uint64_t timer_msg_payload[3];
/* Loop handler mode: release slot LOOP_SINT before the EOI, without EOM (redelivery on EOI). */
static volatile bool release_loop_before_eoi;
static volatile uint32_t loop_types[32];
static volatile unsigned loop_types_n;
/* AutoEOI check: the handler must not EOI (TLFS 11.8.4). */
static volatile bool no_eoi;

static void lapic_eoi(void)
{
    if (use_eoi_msr)
        wrmsr(MSR_EOI, 0);
    else
        *(volatile uint32_t *)(uintptr_t)0xFEE000B0ull = 0;
}

static bool on_vector(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector & 0xFF;
    hits[v]++;
    hit_time[v] = ref_now();
    if (v == VEC_TIMERMSG && drain_timer_slot) {
        timer_msg_type = slot(TIMER_SINT)->type;
        timer_msg_size = slot(TIMER_SINT)->size;
        for (unsigned i = 0; i < 3; i++)
            timer_msg_payload[i] = ((volatile uint64_t *)slot_payload(TIMER_SINT))[i];
        bool pending = slot(TIMER_SINT)->flags & 1;
        slot_release(TIMER_SINT);
        if (pending)
            wrmsr(MSR_EOM, 0);
    }
    if (v == VEC_LOOP && release_loop_before_eoi) {
        if (loop_types_n < 32)
            loop_types[loop_types_n++] = slot(LOOP_SINT)->type;
        slot_release(LOOP_SINT);
    }
    if (!no_eoi)
        lapic_eoi();
    return true;
}

static bool isr_bit(unsigned vector)
{
    return (*(volatile uint32_t *)(uintptr_t)(0xFEE00100ull + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

static void take_interrupts(void)
{
    for (int i = 0; i < 50; i++)
        __asm__ volatile("sti; nop; cli" ::: "memory");
}

/* Halts with interrupts on until hits[vector] reaches want or `timeout` reference ticks pass
 * (stimer 3 in direct mode is the watchdog, so HLT always ends). */
static bool wait_hits(unsigned vector, unsigned want, uint64_t timeout)
{
    wrmsr(MSR_STIMER_CONFIG(WATCHDOG_TIMER), 0);
    wrmsr(MSR_STIMER_COUNT(WATCHDOG_TIMER), ref_now() + timeout);
    unsigned w0 = hits[VEC_WATCHDOG];
    wrmsr(MSR_STIMER_CONFIG(WATCHDOG_TIMER), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_WATCHDOG));
    for (;;) {
        cli();
        if (hits[vector] >= want || hits[VEC_WATCHDOG] != w0)
            break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    take_interrupts();
    wrmsr(MSR_STIMER_CONFIG(WATCHDOG_TIMER), 0);
    return hits[vector] >= want;
}

/* Halts until reference time `until` (the watchdog fires then). */
static void sleep_until(uint64_t until)
{
    wrmsr(MSR_STIMER_CONFIG(WATCHDOG_TIMER), 0);
    wrmsr(MSR_STIMER_COUNT(WATCHDOG_TIMER), until);
    unsigned w0 = hits[VEC_WATCHDOG];
    wrmsr(MSR_STIMER_CONFIG(WATCHDOG_TIMER), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_WATCHDOG));
    for (;;) {
        cli();
        if (hits[VEC_WATCHDOG] != w0)
            break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    take_interrupts();
    wrmsr(MSR_STIMER_CONFIG(WATCHDOG_TIMER), 0);
}

/* ---- Checks. ---- */

static void check_reset_values(void)
{
    uint64_t v;
    CHECK("synic.scontrol_reset_zero", rdmsr_safe(MSR_SCONTROL, &v) && v == 0);
    CHECK("synic.sversion_is_1", rdmsr_safe(MSR_SVERSION, &v) && (v & 0xFFFFFFFF) == 1);
    CHECK("synic.sversion_write_gp", !wrmsr_safe(MSR_SVERSION, 1));
    CHECK("synic.simp_reset_zero", rdmsr_safe(MSR_SIMP, &v) && v == 0);
    CHECK("synic.siefp_reset_zero", rdmsr_safe(MSR_SIEFP, &v) && v == 0);
    CHECK("synic.eom_reads_zero", rdmsr_safe(MSR_EOM, &v) && v == 0);
    bool all = true;
    for (unsigned n = 0; n < 16; n++)
        all &= rdmsr_safe(MSR_SINT(n), &v) && v == 0x10000;
    CHECK("synic.sint_reset_masked_0x10000", all);
    all = true;
    for (unsigned n = 0; n < 4; n++)
        all &= rdmsr_safe(MSR_STIMER_CONFIG(n), &v) && v == 0 && rdmsr_safe(MSR_STIMER_COUNT(n), &v) &&
               v == 0;
    CHECK("stimer.reset_zero", all);
}

static void check_enable(void)
{
    /* SynIC off: a post to a valid loop-back connection cannot be delivered (TLFS 11.10.x). */
    CHECK_EQ("post.synic_disabled", post(CONN_LOOP_MESSAGE, 0x1000, 8, 0), ST_INVALID_SYNIC_STATE);

    memset(simp, 0xA5, sizeof(simp));
    memset(siefp, 0xA5, sizeof(siefp));
    wrmsr(MSR_SCONTROL, 1);
    wrmsr(MSR_SIMP, (uint64_t)(uintptr_t)simp | 1);
    wrmsr(MSR_SIEFP, (uint64_t)(uintptr_t)siefp | 1);
    CHECK_EQ("synic.scontrol_read_back", rdmsr(MSR_SCONTROL), 1);
    CHECK_EQ("synic.simp_read_back", rdmsr(MSR_SIMP), (uint64_t)(uintptr_t)simp | 1);
    CHECK_EQ("synic.siefp_read_back", rdmsr(MSR_SIEFP), (uint64_t)(uintptr_t)siefp | 1);
    /* Overlays: the hypervisor's zeroed pages hide the 0xA5 RAM (TLFS 11.9). */
    bool zero = true;
    for (unsigned i = 0; i < 4096; i++)
        zero &= simp[i] == 0 && siefp[i] == 0;
    CHECK("synic.sim_sief_pages_start_empty", zero);

    /* Vectors 0-15 are invalid for a SINT: #GP (TLFS 11.8.4). */
    CHECK("synic.sint_vector_below_16_gp", !wrmsr_safe(MSR_SINT(LOOP_SINT), 15));
    CHECK_EQ("synic.sint_unchanged_after_gp", rdmsr(MSR_SINT(LOOP_SINT)), 0x10000);
    wrmsr(MSR_SINT(LOOP_SINT), VEC_LOOP);
    wrmsr(MSR_SINT(ECHO_SINT), VEC_ECHO);
    wrmsr(MSR_SINT(TIMER_SINT), VEC_TIMERMSG);
    CHECK_EQ("synic.sint_read_back", rdmsr(MSR_SINT(LOOP_SINT)), VEC_LOOP);
}

static void check_messages(void)
{
    /* First message: copied into slot 3 with an interrupt (TLFS 11.4). */
    unsigned h0 = hits[VEC_LOOP];
    CHECK_EQ("post.loop.status", post(CONN_LOOP_MESSAGE, 0x1001, 16, 0x10), ST_SUCCESS);
    CHECK("post.loop.interrupt", wait_hits(VEC_LOOP, h0 + 1, 10000));
    CHECK_EQ("post.loop.slot_type", slot(LOOP_SINT)->type, 0x1001);
    CHECK_EQ("post.loop.slot_size", slot(LOOP_SINT)->size, 16);
    CHECK_EQ("post.loop.slot_not_pending", slot(LOOP_SINT)->flags & 1, 0);
    bool same = true;
    for (unsigned i = 0; i < 16; i++)
        same &= slot_payload(LOOP_SINT)[i] == (uint8_t)(0x10 + i);
    CHECK("post.loop.slot_payload", same);
    printf("loop message origin 0x%llx\n", (unsigned long long)slot(LOOP_SINT)->origin);

    /* Second message while the slot is busy: queued, MessagePending set in the occupied slot,
     * no interrupt (TLFS 11.4, 11.9.3). */
    h0 = hits[VEC_LOOP];
    CHECK_EQ("post.busy.status", post(CONN_LOOP_MESSAGE, 0x1002, 8, 0x20), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("post.busy.no_interrupt", hits[VEC_LOOP], h0);
    CHECK_EQ("post.busy.slot_keeps_first", slot(LOOP_SINT)->type, 0x1001);
    CHECK_EQ("post.busy.message_pending_flag", slot(LOOP_SINT)->flags & 1, 1);
    /* Release the slot and write EOM: the queued message arrives with an interrupt. */
    slot_release(LOOP_SINT);
    wrmsr(MSR_EOM, 0);
    CHECK("eom.redelivery_interrupt", wait_hits(VEC_LOOP, h0 + 1, 10000));
    CHECK_EQ("eom.redelivered_type", slot(LOOP_SINT)->type, 0x1002);
    CHECK_EQ("eom.redelivered_payload0", slot_payload(LOOP_SINT)[0], 0x20);
    CHECK_EQ("eom.queue_empty_no_pending", slot(LOOP_SINT)->flags & 1, 0);
    slot_release(LOOP_SINT);
    h0 = hits[VEC_LOOP];
    wrmsr(MSR_EOM, 0);
    take_interrupts();
    CHECK_EQ("eom.empty_queue_noop", hits[VEC_LOOP], h0);
    CHECK_EQ("eom.empty_queue_slot_stays_empty", slot(LOOP_SINT)->type, 0);

    /* Redelivery on EOI: the handler releases the slot, then EOIs without EOM (TLFS 11.4:
     * "the guest indicates end of interrupt by writing to the APIC's EOI register"). */
    release_loop_before_eoi = true;
    loop_types_n = 0;
    cli();
    CHECK_EQ("eoi.first.status", post(CONN_LOOP_MESSAGE, 0x1003, 0, 0), ST_SUCCESS);
    CHECK_EQ("eoi.second.status", post(CONN_LOOP_MESSAGE, 0x1004, 0, 0), ST_SUCCESS);
    h0 = hits[VEC_LOOP];
    wait_hits(VEC_LOOP, h0 + 2, 10000);
    release_loop_before_eoi = false;
    check("eoi.redelivers_queued_message", loop_types_n == 2 && loop_types[0] == 0x1003 &&
          loop_types[1] == 0x1004, "handler saw %u messages: 0x%x 0x%x", loop_types_n,
          loop_types_n > 0 ? loop_types[0] : 0, loop_types_n > 1 ? loop_types[1] : 0);

    /* Echo port: hvemu posts the message back to the sender's SINT 2. */
    h0 = hits[VEC_ECHO];
    CHECK_EQ("post.echo.status", post(CONN_ECHO_MESSAGE, 0x2002, 240, 0x40), ST_SUCCESS);
    CHECK("post.echo.interrupt", wait_hits(VEC_ECHO, h0 + 1, 10000));
    CHECK_EQ("post.echo.slot_type", slot(ECHO_SINT)->type, 0x2002);
    CHECK_EQ("post.echo.slot_size", slot(ECHO_SINT)->size, 240);
    same = true;
    for (unsigned i = 0; i < 240; i++)
        same &= slot_payload(ECHO_SINT)[i] == (uint8_t)(0x40 + i);
    CHECK("post.echo.payload_240_bytes", same);
    slot_release(ECHO_SINT);
    wrmsr(MSR_EOM, 0);

    /* Parameter errors (TLFS HvPostMessage return values). */
    CHECK_EQ("post.unknown_connection", post(0x999, 0x1000, 8, 0), ST_INVALID_CONNECTION_ID);
    CHECK_EQ("post.to_event_port", post(CONN_LOOP_EVENT, 0x1000, 8, 0), ST_INVALID_PORT_ID);
    CHECK_EQ("post.type_zero", post(CONN_LOOP_MESSAGE, 0, 8, 0), ST_INVALID_PARAMETER);
    CHECK_EQ("post.type_bit31", post(CONN_LOOP_MESSAGE, 0x80000010u, 8, 0), ST_INVALID_PARAMETER);
    CHECK_EQ("post.payload_241", post(CONN_LOOP_MESSAGE, 0x1000, 241, 0), ST_INVALID_PARAMETER);
    take_interrupts();
    CHECK_EQ("post.errors_left_slot_empty", slot(LOOP_SINT)->type, 0);

    /* Polling: a masked SINT still gets its message into the slot, without an interrupt, and
     * EOM drains the queue (TLFS 11.8.3 EOM register). */
    wrmsr(MSR_SINT(LOOP_SINT), 0x10000 | VEC_LOOP);
    h0 = hits[VEC_LOOP];
    CHECK_EQ("masked.post.status", post(CONN_LOOP_MESSAGE, 0x1005, 4, 0), ST_SUCCESS);
    CHECK_EQ("masked.post.status2", post(CONN_LOOP_MESSAGE, 0x1006, 4, 0), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("masked.no_interrupt", hits[VEC_LOOP], h0);
    CHECK_EQ("masked.message_in_slot", slot(LOOP_SINT)->type, 0x1005);
    slot_release(LOOP_SINT);
    wrmsr(MSR_EOM, 0);
    take_interrupts();
    CHECK_EQ("masked.eom_polls_next", slot(LOOP_SINT)->type, 0x1006);
    CHECK_EQ("masked.eom_no_interrupt", hits[VEC_LOOP], h0);
    slot_release(LOOP_SINT);
    wrmsr(MSR_EOM, 0);

    /* Queue limits: with the slot held, posts are queued until the port's buffers run out
     * (16 per port, TLFS 11.10.x: HV_STATUS_INSUFFICIENT_BUFFERS); then every accepted message
     * comes out once, in order. */
    unsigned accepted = 0, refused = 0;
    uint16_t other = 0;
    for (unsigned i = 0; i < 24; i++) {
        uint16_t st = post(CONN_LOOP_MESSAGE, 0x3000 + i, 1, 0);
        if (st == ST_SUCCESS && refused == 0)
            accepted++;
        else if (st == ST_INSUFFICIENT_BUFFERS)
            refused++;
        else
            other = st ? st : 0xFFFF;
    }
    printf("queue: %u accepted, %u refused\n", accepted, refused);
    check("queue.insufficient_buffers", refused > 0 && other == 0 && accepted >= 16,
          "%u accepted, %u refused, other status 0x%x", accepted, refused, other);
    unsigned got = 0;
    bool in_order = true;
    for (unsigned i = 0; i < 40 && slot(LOOP_SINT)->type != 0; i++) {
        in_order &= slot(LOOP_SINT)->type == 0x3000 + got;
        got++;
        slot_release(LOOP_SINT);
        wrmsr(MSR_EOM, 0);
    }
    check("queue.drains_in_order", in_order && got == accepted, "drained %u of %u, in order %d",
          got, accepted, in_order);
    wrmsr(MSR_SINT(LOOP_SINT), VEC_LOOP);
    take_interrupts();

    /* AutoEOI (TLFS 11.8.4): the hypervisor performs the EOI, so after delivery the vector is
     * not in service although the handler did not EOI. Without AutoEOI it stays in service. */
    wrmsr(MSR_SINT(LOOP_SINT), VEC_LOOP | (1ull << 17));
    no_eoi = true;
    h0 = hits[VEC_LOOP];
    CHECK_EQ("autoeoi.post.status", post(CONN_LOOP_MESSAGE, 0x1007, 0, 0), ST_SUCCESS);
    wait_hits(VEC_LOOP, h0 + 1, 10000);
    no_eoi = false;
    CHECK_EQ("autoeoi.interrupt", hits[VEC_LOOP], h0 + 1);
    CHECK("autoeoi.not_in_service", !isr_bit(VEC_LOOP));
    slot_release(LOOP_SINT);
    wrmsr(MSR_SINT(LOOP_SINT), VEC_LOOP);
    no_eoi = true;
    h0 = hits[VEC_LOOP];
    CHECK_EQ("no_autoeoi.post.status", post(CONN_LOOP_MESSAGE, 0x1008, 0, 0), ST_SUCCESS);
    wait_hits(VEC_LOOP, h0 + 1, 10000);
    no_eoi = false;
    CHECK("no_autoeoi.in_service_until_eoi", isr_bit(VEC_LOOP));
    slot_release(LOOP_SINT);
    lapic_eoi();
    CHECK("no_autoeoi.eoi_clears", !isr_bit(VEC_LOOP));

    /* SynIC disabled again (SCONTROL.Enable = 0): posting fails (TLFS HvPostMessage). */
    wrmsr(MSR_SCONTROL, 0);
    CHECK_EQ("post.scontrol_disabled", post(CONN_LOOP_MESSAGE, 0x1000, 8, 0), ST_INVALID_SYNIC_STATE);
    wrmsr(MSR_SCONTROL, 1);
    take_interrupts();
    CHECK_EQ("post.scontrol_disabled.slot_empty", slot(LOOP_SINT)->type, 0);

    /* SIM page disabled: posting fails (TLFS: "the target VP's SIM page is disabled"). */
    wrmsr(MSR_SIMP, (uint64_t)(uintptr_t)simp);
    CHECK_EQ("post.sim_disabled", post(CONN_LOOP_MESSAGE, 0x1000, 8, 0), ST_INVALID_SYNIC_STATE);
    wrmsr(MSR_SIMP, (uint64_t)(uintptr_t)simp | 1);
}

static void check_events(void)
{
    unsigned h0 = hits[VEC_LOOP];
    CHECK_EQ("event.loop.status", signal_event(CONN_LOOP_EVENT, 5), ST_SUCCESS);
    CHECK("event.loop.interrupt", wait_hits(VEC_LOOP, h0 + 1, 10000));
    CHECK("event.loop.flag_set", sief_bit(LOOP_SINT, 5));
    /* Already set: no 0->1 change, no interrupt (TLFS 11.9.4). */
    h0 = hits[VEC_LOOP];
    CHECK_EQ("event.again.status", signal_event(CONN_LOOP_EVENT, 5), ST_SUCCESS);
    take_interrupts();
    CHECK_EQ("event.again.no_interrupt", hits[VEC_LOOP], h0);
    sief_clear(LOOP_SINT, 5);
    CHECK_EQ("event.last_flag.status", signal_event(CONN_LOOP_EVENT, LOOP_EVENT_FLAGS - 1), ST_SUCCESS);
    CHECK("event.last_flag.set", sief_bit(LOOP_SINT, LOOP_EVENT_FLAGS - 1));
    take_interrupts();
    sief_clear(LOOP_SINT, LOOP_EVENT_FLAGS - 1);
    /* Memory-based form works too. */
    *(uint64_t *)hc_in = CONN_LOOP_EVENT | (uint64_t)7 << 32;
    CHECK_EQ("event.memory_form.status",
             HC_STATUS(hypercall(HVCALL_SIGNAL_EVENT, (uint64_t)(uintptr_t)hc_in, 0)), ST_SUCCESS);
    CHECK("event.memory_form.flag_set", sief_bit(LOOP_SINT, 7));
    take_interrupts();
    sief_clear(LOOP_SINT, 7);

    CHECK_EQ("event.flag_beyond_port_count", signal_event(CONN_LOOP_EVENT, LOOP_EVENT_FLAGS),
             ST_INVALID_PARAMETER);
    CHECK_EQ("event.unknown_connection", signal_event(0x999, 0), ST_INVALID_CONNECTION_ID);
    CHECK_EQ("event.to_message_port", signal_event(CONN_LOOP_MESSAGE, 0), ST_INVALID_PORT_ID);

    /* Echo event port: the flag comes back on the sender's SINT 2. */
    h0 = hits[VEC_ECHO];
    CHECK_EQ("event.echo.status", signal_event(CONN_ECHO_EVENT, 100), ST_SUCCESS);
    CHECK("event.echo.interrupt", wait_hits(VEC_ECHO, h0 + 1, 10000));
    CHECK("event.echo.flag_set", sief_bit(ECHO_SINT, 100));
    sief_clear(ECHO_SINT, 100);

    /* A masked SINT makes the signal fail (TLFS HvSignalEvent: INVALID_SYNIC_STATE). */
    wrmsr(MSR_SINT(LOOP_SINT), 0x10000 | VEC_LOOP);
    CHECK_EQ("event.masked_sint", signal_event(CONN_LOOP_EVENT, 9), ST_INVALID_SYNIC_STATE);
    wrmsr(MSR_SINT(LOOP_SINT), VEC_LOOP);
    /* SIEF page disabled: fails too. */
    wrmsr(MSR_SIEFP, (uint64_t)(uintptr_t)siefp);
    CHECK_EQ("event.sief_disabled", signal_event(CONN_LOOP_EVENT, 9), ST_INVALID_SYNIC_STATE);
    wrmsr(MSR_SIEFP, (uint64_t)(uintptr_t)siefp | 1);
    take_interrupts();
}

static void check_timers(bool direct)
{
    if (!direct) {
        printf("SKIP: stimer.* (direct mode, 0x40000003.EDX[19], is needed for the watchdog)\n");
        return;
    }

    /* One-shot, direct mode: COUNT is an absolute reference time; never early (TLFS 12.6). */
    uint64_t due = ref_now() + 2000;
    unsigned h0 = hits[VEC_DIRECT];
    wrmsr(MSR_STIMER_COUNT(0), due);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_DIRECT));
    CHECK("stimer.direct.fires", wait_hits(VEC_DIRECT, h0 + 1, 20000));
    check("stimer.direct.not_early", hit_time[VEC_DIRECT] >= due, "fired at %llu, due %llu",
          (unsigned long long)hit_time[VEC_DIRECT], (unsigned long long)due);
    check("stimer.direct.on_time", hit_time[VEC_DIRECT] <= due + 100, "fired at %llu, due %llu",
          (unsigned long long)hit_time[VEC_DIRECT], (unsigned long long)due);
    CHECK_EQ("stimer.direct.oneshot_clears_enable", rdmsr(MSR_STIMER_CONFIG(0)) & STIMER_ENABLE, 0);
    take_interrupts();
    CHECK_EQ("stimer.direct.fires_once", hits[VEC_DIRECT], h0 + 1);

    /* A one-shot already in the past fires at once. */
    h0 = hits[VEC_DIRECT];
    wrmsr(MSR_STIMER_COUNT(0), 1);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_DIRECT));
    take_interrupts();
    CHECK_EQ("stimer.past_deadline_fires_now", hits[VEC_DIRECT], h0 + 1);

    /* AutoEnable: writing a non-zero COUNT sets Enable (TLFS 12.5.1). */
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_AUTOENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_DIRECT));
    h0 = hits[VEC_DIRECT];
    due = ref_now() + 1000;
    wrmsr(MSR_STIMER_COUNT(0), due);
    CHECK_EQ("stimer.autoenable_sets_enable", rdmsr(MSR_STIMER_CONFIG(0)) & STIMER_ENABLE, 1);
    CHECK("stimer.autoenable_fires", wait_hits(VEC_DIRECT, h0 + 1, 20000));
    /* COUNT = 0 stops an armed timer. */
    wrmsr(MSR_STIMER_CONFIG(0), 0);
    wrmsr(MSR_STIMER_COUNT(0), ref_now() + 1000);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_DIRECT));
    wrmsr(MSR_STIMER_COUNT(0), 0);
    CHECK_EQ("stimer.count_zero_clears_enable", rdmsr(MSR_STIMER_CONFIG(0)) & STIMER_ENABLE, 0);
    h0 = hits[VEC_DIRECT];
    sleep_until(ref_now() + 3000);
    CHECK_EQ("stimer.count_zero_never_fires", hits[VEC_DIRECT], h0);

    /* Message mode: HVMSG_TIMER_EXPIRED in the SINT's slot, payload {index, expiration,
     * delivery} (TLFS 12.5.3). */
    wrmsr(MSR_STIMER_CONFIG(0), 0);
    drain_timer_slot = true;
    timer_msg_type = 0;
    h0 = hits[VEC_TIMERMSG];
    due = ref_now() + 1500;
    wrmsr(MSR_STIMER_COUNT(0), due);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(TIMER_SINT));
    CHECK("stimer.message.interrupt", wait_hits(VEC_TIMERMSG, h0 + 1, 20000));
    CHECK_EQ("stimer.message.type", timer_msg_type, HVMSG_TIMER_EXPIRED);
    CHECK_EQ("stimer.message.payload_size", timer_msg_size, 24);
    CHECK_EQ("stimer.message.timer_index", timer_msg_payload[0] & 0xFFFFFFFF, 0);
    CHECK_EQ("stimer.message.expiration_time", timer_msg_payload[1], due);
    check("stimer.message.delivery_time", timer_msg_payload[2] >= due && timer_msg_payload[2] <= due + 100,
          "delivery %llu, due %llu", (unsigned long long)timer_msg_payload[2], (unsigned long long)due);
    check("stimer.message.not_early", hit_time[VEC_TIMERMSG] >= due, "interrupt at %llu, due %llu",
          (unsigned long long)hit_time[VEC_TIMERMSG], (unsigned long long)due);

    /* Timer 2 in message mode reports its own index. */
    timer_msg_type = 0;
    h0 = hits[VEC_TIMERMSG];
    wrmsr(MSR_STIMER_COUNT(2), ref_now() + 500);
    wrmsr(MSR_STIMER_CONFIG(2), STIMER_ENABLE | STIMER_SINT(TIMER_SINT));
    CHECK("stimer2.message.interrupt", wait_hits(VEC_TIMERMSG, h0 + 1, 20000));
    CHECK_EQ("stimer2.message.timer_index", timer_msg_payload[0] & 0xFFFFFFFF, 2);

    /* Slot busy: the expiration waits (MessagePending) and comes after release + EOM. */
    drain_timer_slot = false;
    h0 = hits[VEC_TIMERMSG];
    wrmsr(MSR_STIMER_COUNT(0), ref_now() + 300);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(TIMER_SINT));
    wait_hits(VEC_TIMERMSG, h0 + 1, 20000); /* first message stays in the slot */
    uint64_t first_exp = ((volatile uint64_t *)slot_payload(TIMER_SINT))[1];
    due = ref_now() + 300;
    wrmsr(MSR_STIMER_COUNT(1), due);
    wrmsr(MSR_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_SINT(TIMER_SINT));
    sleep_until(due + 1000);
    CHECK_EQ("stimer.busy_slot.pending_flag", slot(TIMER_SINT)->flags & 1, 1);
    CHECK_EQ("stimer.busy_slot.first_kept", ((volatile uint64_t *)slot_payload(TIMER_SINT))[1], first_exp);
    h0 = hits[VEC_TIMERMSG];
    slot_release(TIMER_SINT);
    wrmsr(MSR_EOM, 0);
    CHECK("stimer.busy_slot.redelivered", wait_hits(VEC_TIMERMSG, h0 + 1, 20000));
    CHECK_EQ("stimer.busy_slot.second_index", ((volatile uint32_t *)slot_payload(TIMER_SINT))[0], 1);
    CHECK_EQ("stimer.busy_slot.second_expiration", ((volatile uint64_t *)slot_payload(TIMER_SINT))[1], due);
    slot_release(TIMER_SINT);
    wrmsr(MSR_EOM, 0);

    /* SIM page disabled when the timer expires: the message stays queued and arrives once the
     * page is enabled again (TLFS 11.4: "If the SIM page is disabled ... the message remains
     * queued, and no interrupt is generated"). */
    drain_timer_slot = true;
    timer_msg_type = 0;
    wrmsr(MSR_SIMP, (uint64_t)(uintptr_t)simp);
    h0 = hits[VEC_TIMERMSG];
    due = ref_now() + 300;
    wrmsr(MSR_STIMER_COUNT(0), due);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(TIMER_SINT));
    sleep_until(due + 1000);
    CHECK_EQ("stimer.sim_disabled.no_interrupt", hits[VEC_TIMERMSG], h0);
    wrmsr(MSR_SIMP, (uint64_t)(uintptr_t)simp | 1);
    CHECK("stimer.sim_reenabled.delivered", wait_hits(VEC_TIMERMSG, h0 + 1, 10000));
    CHECK_EQ("stimer.sim_reenabled.type", timer_msg_type, HVMSG_TIMER_EXPIRED);
    CHECK_EQ("stimer.sim_reenabled.expiration_time", timer_msg_payload[1], due);
    drain_timer_slot = false;

    /* Periodic, direct mode: 10 periods of 1000 ticks (100 us) give 10 expirations; the first
     * period starts at enable (TLFS 12.6). */
    h0 = hits[VEC_PERIODIC];
    uint64_t start = ref_now();
    wrmsr(MSR_STIMER_COUNT(0), 1000);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT | STIMER_VECTOR(VEC_PERIODIC));
    sleep_until(start + 10500);
    wrmsr(MSR_STIMER_CONFIG(0), 0);
    unsigned n = hits[VEC_PERIODIC] - h0;
    printf("periodic direct: %u expirations in 10500 ticks\n", n);
    CHECK_EQ("stimer.periodic.direct_count", n, 10);
    CHECK_EQ("stimer.periodic.stays_enabled_until_disabled", n > 0, 1);
    take_interrupts();
    unsigned after = hits[VEC_PERIODIC];
    sleep_until(ref_now() + 3000);
    CHECK_EQ("stimer.periodic.stops_when_disabled", hits[VEC_PERIODIC], after);

    /* Periodic, message mode, drained by the handler: 5 periods of 1000 ticks. */
    drain_timer_slot = true;
    h0 = hits[VEC_TIMERMSG];
    start = ref_now();
    wrmsr(MSR_STIMER_COUNT(0), 1000);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(TIMER_SINT));
    sleep_until(start + 5500);
    wrmsr(MSR_STIMER_CONFIG(0), 0);
    n = hits[VEC_TIMERMSG] - h0;
    printf("periodic message: %u expirations in 5500 ticks\n", n);
    CHECK_EQ("stimer.periodic.message_count", n, 5);
    drain_timer_slot = false;

    /* A hostile period of one tick (100 ns): the guest must keep running; expirations may be
     * compressed but never exceed one per period (TLFS 12.6: never early). */
    h0 = hits[VEC_PERIODIC];
    start = ref_now();
    wrmsr(MSR_STIMER_COUNT(0), 1);
    wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT | STIMER_VECTOR(VEC_PERIODIC));
    sleep_until(start + 2000);
    wrmsr(MSR_STIMER_CONFIG(0), 0);
    uint64_t elapsed = ref_now() - start;
    n = hits[VEC_PERIODIC] - h0;
    printf("periodic 1-tick: %u expirations in %llu ticks\n", n, (unsigned long long)elapsed);
    check("stimer.periodic.one_tick_period_bounded", n >= 1 && n <= elapsed + 1,
          "%u expirations in %llu ticks", n, (unsigned long long)elapsed);
}

int main(uint32_t mb_info)
{
    (void)mb_info;
    printf("hv_synic\n");
    struct cpuid_regs f = cpuid(0x40000003, 0);
    if (!((f.eax >> 2) & 1) || !((f.eax >> 3) & 1)) {
        printf("SKIP: SynIC or stimer MSRs not advertised (0x40000003.EAX[2,3])\n");
        CHECK("synic.not_advertised_gp", !wrmsr_safe(MSR_SCONTROL, 1));
        test_finish();
    }
    use_eoi_msr = (f.eax >> 4) & 1;
    /* xAPIC: software-enable through SVR (spurious vector 0xFF). */
    *(volatile uint32_t *)(uintptr_t)0xFEE000F0ull = 0x1FF;
    static const uint8_t vectors[] = {VEC_ECHO, VEC_LOOP, VEC_TIMERMSG, VEC_DIRECT, VEC_PERIODIC,
                                      VEC_WATCHDOG};
    for (unsigned i = 0; i < sizeof(vectors); i++)
        trap_set_handler(vectors[i], on_vector);

    wrmsr(MSR_GUEST_OS_ID, 0x8100000006010000ull);
    wrmsr(MSR_HYPERCALL, (uint64_t)(uintptr_t)hc_page | 1);

    check_reset_values();
    check_enable();
    check_messages();
    check_events();
    check_timers((f.edx >> 19) & 1);
    test_finish();
}
