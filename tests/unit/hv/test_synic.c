/* SynIC: message slots, MessagePending and redelivery, event flags, ports and the guest's
 * HvPostMessage/HvSignalEvent. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define SINT_MSR(n) (0x40000090u + (n))

static void synic_on(struct fake_host *f, unsigned vp)
{
    wrmsr_ok(f, vp, 0x40000083, GPA_SIMP(vp) | 1);
    wrmsr_ok(f, vp, 0x40000082, GPA_SIEFP(vp) | 1);
    wrmsr_ok(f, vp, 0x40000080, 1);
}

static gpa_t slot(unsigned vp, unsigned sint)
{
    return GPA_SIMP(vp) + sint * 256;
}

static uint8_t slot_flags(struct fake_host *f, unsigned vp, unsigned sint)
{
    uint8_t b;
    physmem_read(&f->mem, slot(vp, sint) + 5, &b, 1);
    return b;
}

/* The guest's side of the protocol (Linux vmbus_signal_eom): free the slot, EOM if pending. */
static void guest_consume(struct fake_host *f, unsigned vp, unsigned sint)
{
    bool pending = slot_flags(f, vp, sint) & 1;
    uint32_t zero = 0;
    physmem_write(&f->mem, slot(vp, sint), &zero, 4);
    if (pending)
        wrmsr_ok(f, vp, 0x40000084, 0);
}

static uint16_t post(struct fake_host *f, unsigned vp, unsigned sint, uint32_t type, uint8_t tag)
{
    uint8_t payload[40];
    memset(payload, tag, sizeof(payload));
    return hv_post_message_to_guest(f->p, vp, sint, type, payload, sizeof(payload));
}

Test(hv_synic, message_delivery_and_pending)
{
    struct fake_host *f = fake_create(NULL, 1);
    cr_expect_eq(post(f, 0, 2, 0x100, 1), HV_STATUS_INVALID_SYNIC_STATE, "SynIC off");
    synic_on(f, 0);
    wrmsr_ok(f, 0, SINT_MSR(2), 0x50);
    cr_expect_eq(post(f, 0, 2, 0x100, 0xA1), 0);
    cr_expect_eq(get_u32(f, slot(0, 2)), 0x100);
    uint8_t hdr[24];
    physmem_read(&f->mem, slot(0, 2), hdr, sizeof(hdr));
    cr_expect_eq(hdr[4], 40, "PayloadSize");
    cr_expect_eq(hdr[5], 0, "nothing else pending");
    cr_expect_eq(hdr[16], 0xA1);
    cr_assert_eq(f->ninj, 1);
    cr_expect_eq(f->inj[0].vector, 0x50);
    cr_expect_not(f->inj[0].auto_eoi);

    /* Slot busy: queued, MessagePending set in the occupied slot, no interrupt. */
    cr_expect_eq(post(f, 0, 2, 0x101, 0xA2), 0);
    cr_expect_eq(post(f, 0, 2, 0x102, 0xA3), 0);
    cr_expect_eq(get_u32(f, slot(0, 2)), 0x100);
    cr_expect_eq(slot_flags(f, 0, 2), 1);
    cr_expect_eq(f->ninj, 1);
    /* EOM without freeing the slot changes nothing. */
    wrmsr_ok(f, 0, 0x40000084, 0);
    cr_expect_eq(get_u32(f, slot(0, 2)), 0x100);
    cr_expect_eq(f->ninj, 1);

    guest_consume(f, 0, 2);
    cr_expect_eq(get_u32(f, slot(0, 2)), 0x101);
    cr_expect_eq(slot_flags(f, 0, 2), 1, "one more still queued");
    cr_expect_eq(f->ninj, 2);
    guest_consume(f, 0, 2);
    cr_expect_eq(get_u32(f, slot(0, 2)), 0x102);
    cr_expect_eq(slot_flags(f, 0, 2), 0);
    cr_expect_eq(f->ninj, 3);
    fake_destroy(f);
}

Test(hv_synic, eoi_of_the_sint_vector_redelivers)
{
    struct fake_host *f = fake_create(NULL, 1);
    synic_on(f, 0);
    wrmsr_ok(f, 0, SINT_MSR(1), 0x60);
    post(f, 0, 1, 0x200, 1);
    post(f, 0, 1, 0x201, 2);
    uint32_t zero = 0;
    physmem_write(&f->mem, slot(0, 1), &zero, 4); /* guest frees the slot, no EOM */
    hv_apic_eoi_notify(f->p, fake_vp(f, 0), 0x61);
    cr_expect_eq(get_u32(f, slot(0, 1)), 0, "EOI of another vector: no rescan");
    hv_apic_eoi_notify(f->p, fake_vp(f, 0), 0x60);
    cr_expect_eq(get_u32(f, slot(0, 1)), 0x201);
    cr_expect_eq(f->ninj, 2);
    fake_destroy(f);
}

Test(hv_synic, masked_and_auto_eoi)
{
    struct fake_host *f = fake_create(NULL, 1);
    synic_on(f, 0);
    /* Masked (the reset value): the message lands, the interrupt is lost. */
    cr_expect_eq(post(f, 0, 3, 0x300, 1), 0);
    cr_expect_eq(get_u32(f, slot(0, 3)), 0x300);
    cr_expect_eq(f->ninj, 0);
    wrmsr_ok(f, 0, SINT_MSR(4), 0x20000 | 0x70);
    post(f, 0, 4, 0x400, 1);
    cr_assert_eq(f->ninj, 1);
    cr_expect(f->inj[0].auto_eoi);
    cr_expect_eq(f->inj[0].vector, 0x70);
    fake_destroy(f);
}

Test(hv_synic, queue_limits_and_bad_arguments)
{
    struct fake_host *f = fake_create(NULL, 2);
    synic_on(f, 0);
    wrmsr_ok(f, 0, SINT_MSR(5), 0x50);
    cr_expect_eq(post(f, 0, 5, 1, 0), 0); /* into the slot */
    for (unsigned i = 0; i < HV_MSG_QUEUE_LEN; i++)
        cr_expect_eq(post(f, 0, 5, 1, 0), 0, "queued %u", i);
    cr_expect_eq(post(f, 0, 5, 1, 0), HV_STATUS_INSUFFICIENT_BUFFERS);
    cr_expect_eq(post(f, 0, 16, 1, 0), HV_STATUS_INVALID_PARAMETER);
    cr_expect_eq(post(f, 2, 0, 1, 0), HV_STATUS_INVALID_PARAMETER);
    cr_expect_eq(post(f, 0, 5, 0, 0), HV_STATUS_INVALID_PARAMETER);
    uint8_t big[241] = {0};
    cr_expect_eq(hv_post_message_to_guest(f->p, 0, 5, 1, big, 241), HV_STATUS_INVALID_PARAMETER);
    cr_expect_eq(post(f, 1, 5, 1, 0), HV_STATUS_INVALID_SYNIC_STATE, "vp1 SynIC off");
    /* Disabling SCONTROL stops delivery; re-enabling delivers what waited. */
    wrmsr_ok(f, 0, 0x40000080, 0);
    guest_consume(f, 0, 5);
    cr_expect_eq(get_u32(f, slot(0, 5)), 0);
    wrmsr_ok(f, 0, 0x40000080, 1);
    cr_expect_eq(get_u32(f, slot(0, 5)), 1);
    fake_destroy(f);
}

Test(hv_synic, event_flags)
{
    struct fake_host *f = fake_create(NULL, 1);
    cr_expect_eq(hv_signal_event_to_guest(f->p, 0, 3, 5), HV_STATUS_INVALID_SYNIC_STATE);
    synic_on(f, 0);
    cr_expect_eq(hv_signal_event_to_guest(f->p, 0, 3, 5), HV_STATUS_INVALID_SYNIC_STATE,
                 "masked SINT");
    wrmsr_ok(f, 0, SINT_MSR(3), 0x44);
    cr_expect_eq(hv_signal_event_to_guest(f->p, 0, 3, 13), 0);
    uint8_t b;
    physmem_read(&f->mem, GPA_SIEFP(0) + 3 * 256 + 1, &b, 1);
    cr_expect_eq(b, 1u << 5, "flag 13 = byte 1 bit 5 of SINT3's 256 bytes");
    cr_expect_eq(f->ninj, 1);
    cr_expect_eq(hv_signal_event_to_guest(f->p, 0, 3, 13), 0);
    cr_expect_eq(f->ninj, 1, "no interrupt without a 0->1 change");
    b = 0;
    physmem_write(&f->mem, GPA_SIEFP(0) + 3 * 256 + 1, &b, 1);
    cr_expect_eq(hv_signal_event_to_guest(f->p, 0, 3, 13), 0);
    cr_expect_eq(f->ninj, 2);
    cr_expect_eq(hv_signal_event_to_guest(f->p, 0, 3, 2047), 0);
    physmem_read(&f->mem, GPA_SIEFP(0) + 3 * 256 + 255, &b, 1);
    cr_expect_eq(b, 0x80);
    cr_expect_eq(hv_signal_event_to_guest(f->p, 0, 3, 2048), HV_STATUS_INVALID_PARAMETER);
    fake_destroy(f);
}

Test(hv_synic, reset_clears_pages_and_queues)
{
    struct fake_host *f = fake_create(NULL, 1);
    synic_on(f, 0);
    wrmsr_ok(f, 0, SINT_MSR(2), 0x50);
    post(f, 0, 2, 7, 1);
    post(f, 0, 2, 8, 1);
    hv_partition_reset(f->p);
    synic_on(f, 0);
    cr_expect_eq(get_u32(f, slot(0, 2)), 0, "SIM page cleared at reset");
    wrmsr_ok(f, 0, 0x40000084, 0);
    cr_expect_eq(get_u32(f, slot(0, 2)), 0, "queue dropped at reset");
    fake_destroy(f);
}

/* ---- Guest hypercalls through ports. ---- */

struct host_rx {
    unsigned calls;
    uint32_t conn, type, len;
    unsigned from;
    uint8_t payload[240];
    uint16_t flag;
    uint16_t status;
};

static uint16_t rx_message(void *o, uint32_t conn, unsigned from, uint32_t type, const void *payload,
                           uint32_t len)
{
    struct host_rx *rx = o;
    rx->calls++;
    rx->conn = conn;
    rx->from = from;
    rx->type = type;
    rx->len = len;
    memcpy(rx->payload, payload, len);
    return rx->status;
}

static uint16_t rx_event(void *o, uint32_t conn, unsigned from, uint16_t flag)
{
    struct host_rx *rx = o;
    rx->calls++;
    rx->conn = conn;
    rx->from = from;
    rx->flag = flag;
    return rx->status;
}

static uint64_t guest_post(struct fake_host *f, unsigned vp, uint32_t conn, uint32_t type, uint32_t size)
{
    uint8_t in[256];
    memset(in, 0, sizeof(in));
    memcpy(in, &conn, 4);
    memcpy(in + 8, &type, 4);
    memcpy(in + 12, &size, 4);
    for (unsigned i = 0; i < 240; i++)
        in[16 + i] = (uint8_t)i;
    physmem_write(&f->mem, GPA_IN, in, sizeof(in));
    return call_slow(f, vp, HC(0x005C), GPA_IN, 0);
}

static uint64_t guest_signal(struct fake_host *f, unsigned vp, uint64_t arg)
{
    struct hv_call_regs r = regs64(HC(0x005D) | HC_FASTBIT, arg, 0);
    cr_assert_eq(hv_hypercall(f->p, fake_vp(f, vp), &r), HV_CALL_DONE);
    return r.gpr[REG_RAX];
}

Test(hv_ports, post_message)
{
    struct fake_host *f = fake_create(NULL, 2);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    struct host_rx rx = {0};
    struct hv_port_desc loop = {.type = HV_PORT_MESSAGE, .target_vp = 1, .sint = 4};
    struct hv_port_desc host = {.type = HV_PORT_MESSAGE, .host_message = rx_message, .host_opaque = &rx};
    struct hv_port_desc ev = {.type = HV_PORT_EVENT, .target_vp = 0, .sint = 1, .flag_count = 1};
    cr_assert_eq(hv_port_create(f->p, 0x1234, &loop), 0);
    cr_assert_eq(hv_port_create(f->p, 0x77, &host), 0);
    cr_assert_eq(hv_port_create(f->p, 0x88, &ev), 0);

    cr_expect_eq(STATUS(guest_post(f, 0, 0x1234, 5, 10)), HV_STATUS_INVALID_SYNIC_STATE);
    synic_on(f, 1);
    wrmsr_ok(f, 1, SINT_MSR(4), 0x90);
    cr_expect_eq(STATUS(guest_post(f, 0, 0x1234, 5, 10)), 0);
    cr_expect_eq(get_u32(f, slot(1, 4)), 5);
    cr_expect_eq(get_u64(f, slot(1, 4) + 8), 0x1234, "origin = port id");
    uint8_t pl[10];
    physmem_read(&f->mem, slot(1, 4) + 16, pl, 10);
    cr_expect_eq(pl[9], 9);
    cr_assert_eq(f->ninj, 1);
    cr_expect_eq(f->inj[0].vp, 1);

    static const struct {
        uint32_t conn, type, size;
        uint16_t status;
    } bad[] = {
        {0x9999, 5, 10, HV_STATUS_INVALID_CONNECTION_ID},
        {0x1234 | (1u << 24), 5, 10, HV_STATUS_INVALID_CONNECTION_ID},
        {0x88, 5, 10, HV_STATUS_INVALID_PORT_ID},
        {0x1234, 0, 10, HV_STATUS_INVALID_PARAMETER},
        {0x1234, 0x80000010u, 10, HV_STATUS_INVALID_PARAMETER},
        {0x1234, 5, 241, HV_STATUS_INVALID_PARAMETER},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        cr_expect_eq(STATUS(guest_post(f, 0, bad[i].conn, bad[i].type, bad[i].size)), bad[i].status,
                     "bad post %zu", i);

    rx.status = HV_STATUS_INSUFFICIENT_BUFFERS;
    cr_expect_eq(STATUS(guest_post(f, 1, 0x77, 0x42, 240)), HV_STATUS_INSUFFICIENT_BUFFERS);
    cr_expect_eq(rx.calls, 1);
    cr_expect_eq(rx.from, 1);
    cr_expect_eq(rx.type, 0x42);
    cr_expect_eq(rx.len, 240);
    cr_expect_eq(rx.payload[239], 239);

    struct hv_config cfg;
    hv_config_default(&cfg);
    cfg.synic = false;
    struct fake_host *g = fake_create(&cfg, 1);
    fake_enable_hypercalls(g, GPA_HYPERCALL);
    cr_expect_eq(STATUS(guest_post(g, 0, 1, 5, 10)), HV_STATUS_ACCESS_DENIED);
    fake_destroy(g);
    fake_destroy(f);
}

Test(hv_ports, signal_event)
{
    struct fake_host *f = fake_create(NULL, 2);
    fake_enable_hypercalls(f, GPA_HYPERCALL);
    struct host_rx rx = {0};
    struct hv_port_desc loop = {.type = HV_PORT_EVENT, .target_vp = 1, .sint = 2, .base_flag = 100,
                                .flag_count = 8};
    struct hv_port_desc host = {.type = HV_PORT_EVENT, .flag_count = 4, .host_event = rx_event,
                                .host_opaque = &rx};
    struct hv_port_desc msg = {.type = HV_PORT_MESSAGE, .target_vp = 0, .sint = 1};
    cr_assert_eq(hv_port_create(f->p, 0x10, &loop), 0);
    cr_assert_eq(hv_port_create(f->p, 0x11, &host), 0);
    cr_assert_eq(hv_port_create(f->p, 0x12, &msg), 0);
    synic_on(f, 1);
    cr_expect_eq(STATUS(guest_signal(f, 0, 0x10 | (3ull << 32))), HV_STATUS_INVALID_SYNIC_STATE,
                 "masked SINT");
    wrmsr_ok(f, 1, SINT_MSR(2), 0x91);
    cr_expect_eq(STATUS(guest_signal(f, 0, 0x10 | (3ull << 32))), 0);
    uint8_t b;
    physmem_read(&f->mem, GPA_SIEFP(1) + 2 * 256 + 103 / 8, &b, 1);
    cr_expect_eq(b, 1u << (103 % 8), "base flag 100 + 3");
    cr_assert_eq(f->ninj, 1);
    cr_expect_eq(f->inj[0].vp, 1);
    cr_expect_eq(f->inj[0].vector, 0x91);

    static const struct {
        uint64_t arg;
        uint16_t status;
    } cases[] = {
        {0x10 | (8ull << 32), HV_STATUS_INVALID_PARAMETER},   /* flag beyond the port's count */
        {0x13, HV_STATUS_INVALID_CONNECTION_ID},
        {0x12, HV_STATUS_INVALID_PORT_ID},
        {0x10 | (1ull << 48), HV_STATUS_INVALID_HYPERCALL_INPUT},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        cr_expect_eq(STATUS(guest_signal(f, 0, cases[i].arg)), cases[i].status, "case %zu", i);

    cr_expect_eq(STATUS(guest_signal(f, 1, 0x11 | (2ull << 32))), 0);
    cr_expect_eq(rx.calls, 1);
    cr_expect_eq(rx.conn, 0x11);
    cr_expect_eq(rx.from, 1);
    cr_expect_eq(rx.flag, 2);
    /* Memory-based form reads the same u64. */
    put_u64(f, GPA_IN, 0x11 | (1ull << 32));
    cr_expect_eq(STATUS(call_slow(f, 0, HC(0x005D), GPA_IN, 0)), 0);
    cr_expect_eq(rx.flag, 1);
    fake_destroy(f);
}

Test(hv_ports, create_validation)
{
    struct fake_host *f = fake_create(NULL, 2);
    struct {
        uint32_t id;
        struct hv_port_desc d;
        int rc;
    } cases[] = {
        {1, {.type = HV_PORT_MESSAGE, .target_vp = 1, .sint = 15}, 0},
        {1, {.type = HV_PORT_MESSAGE, .target_vp = 1, .sint = 1}, -1}, /* id taken */
        {0x1000000, {.type = HV_PORT_MESSAGE}, -1},                    /* > 24 bits */
        {2, {.type = HV_PORT_MESSAGE, .target_vp = 2}, -1},
        {3, {.type = HV_PORT_MESSAGE, .sint = 16}, -1},
        {4, {.type = HV_PORT_EVENT, .flag_count = 0}, -1},
        {5, {.type = HV_PORT_EVENT, .base_flag = 2000, .flag_count = 49}, -1},
        {6, {.type = HV_PORT_EVENT, .base_flag = 2000, .flag_count = 48}, 0},
        {7, {.type = 3}, -1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        cr_expect_eq(hv_port_create(f->p, cases[i].id, &cases[i].d), cases[i].rc, "case %zu", i);
    hv_port_destroy(f->p, 1);
    cr_expect_eq(hv_port_create(f->p, 1, &cases[0].d), 0, "id free again");
    fake_destroy(f);
}
