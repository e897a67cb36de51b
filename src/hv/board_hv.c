/* The hypervisor on the board: the Hyper-V partition's host operations (APIC, TLB, stop), and
 * the CPUID, MSR and VMCALL paths of the exit handlers. */
#include <stdio.h>
#include <string.h>

#include "hv/board_priv.h"
#include "mmu/mmu.h"
#include "hv/exits.h"
#include "hv/host_ports.h"

static struct board *board_of(struct machine *m)
{
    return (struct board *)m->dev;
}

static void hv_inject(void *opaque, unsigned vp, uint8_t vector, bool auto_eoi)
{
    struct machine *m = opaque;
    struct board *b = board_of(m);
    if (vp >= m->nvcpus)
        return;
    lapic_set_auto_eoi(&b->lapic[vp], vector, auto_eoi);
    lapic_set_irr(&b->lapic[vp], vector, false);
}

static void hv_apic_eoi(void *opaque, unsigned vp)
{
    struct machine *m = opaque;
    lapic_eoi(&board_of(m)->lapic[vp]);
}

static int hv_icr_write(void *opaque, unsigned vp, uint64_t icr)
{
    struct machine *m = opaque;
    struct lapic *l = &board_of(m)->lapic[vp];
    if (lapic_is_x2apic(l))
        return lapic_msr_write(l, 0x830, icr);
    lapic_mmio_write(l, 0x310, icr >> 32, 4);
    lapic_mmio_write(l, 0x300, (uint32_t)icr, 4);
    return 0;
}

static uint64_t hv_icr_read(void *opaque, unsigned vp)
{
    struct machine *m = opaque;
    return lapic_read_icr(&board_of(m)->lapic[vp]);
}

static void hv_tpr_write(void *opaque, unsigned vp, uint8_t tpr)
{
    struct machine *m = opaque;
    lapic_set_tpr(&board_of(m)->lapic[vp], tpr);
}

static uint8_t hv_tpr_read(void *opaque, unsigned vp)
{
    struct machine *m = opaque;
    return (uint8_t)lapic_get_tpr(&board_of(m)->lapic[vp]);
}

static void hv_flush_tlb(void *opaque, unsigned vp, bool include_global, const gva_t *pages, unsigned n)
{
    struct machine *m = opaque;
    if (vp >= m->nvcpus)
        return;
    if (n == 0)
        cpu_tlb_flush_all(m->vcpu[vp], include_global);
    for (unsigned i = 0; i < n; i++)
        cpu_tlb_flush_va(m->vcpu[vp], pages[i]);
}

static void hv_idle(void *opaque, unsigned vp)
{
    struct machine *m = opaque;
    board_of(m)->idle[vp] = true;
    cpu_set_halted(m->vcpu[vp], true);
    cpu_raise_event(m->vcpu[vp], CPU_EV_KICK);
}

static void hv_request_stop(void *opaque, enum hv_stop why, const struct hv_crash_report *crash)
{
    struct machine *m = opaque;
    if (why == HV_STOP_CRASH && crash) {
        fprintf(stderr, "hvemu: guest crash report: P0 0x%llx P1 0x%llx P2 0x%llx P3 0x%llx P4 0x%llx\n",
                (unsigned long long)crash->p[0], (unsigned long long)crash->p[1],
                (unsigned long long)crash->p[2], (unsigned long long)crash->p[3],
                (unsigned long long)crash->p[4]);
        if (crash->msg_len)
            fprintf(stderr, "hvemu: guest crash message: %.*s\n", (int)crash->msg_len, crash->msg);
        machine_request_stop(m, MSTOP_CRASH, 0);
    } else {
        machine_request_stop(m, MSTOP_RESET, 0);
    }
}

static uint64_t hv_vp_runtime(void *opaque, unsigned vp)
{
    /* Time the VP spent executing: its retired instructions, not the halted stretches. */
    struct machine *m = opaque;
    return vp < m->nvcpus ? cpu_icount(m->vcpu[vp]) * VCLOCK_NS_PER_INSN : 0;
}

static void hv_trace_line(void *opaque, const char *line)
{
    struct machine *m = opaque;
    fprintf(m->trace_out, "hv: %s\n", line);
}

static void lapic_eoi_to_hv(void *opaque, uint8_t vector)
{
    struct vp_link *l = opaque;
    struct board *b = board_of(l->m);
    hv_apic_eoi_notify(b->hv, hv_partition_vp(b->hv, l->index), vector);
}

static uint16_t echo_message(void *opaque, uint32_t conn, unsigned from_vp, uint32_t type,
                             const void *payload, uint32_t len)
{
    struct machine *m = opaque;
    if (m->cfg.trace & TRACE_HV)
        fprintf(m->trace_out, "hv: host port %u: message type 0x%x, %u bytes from vp%u; echoing\n",
                conn, type, len, from_vp);
    return hv_post_message_to_guest(board_of(m)->hv, from_vp, HVEMU_ECHO_SINT, type, payload, len);
}

static uint16_t echo_event(void *opaque, uint32_t conn, unsigned from_vp, uint16_t flag)
{
    struct machine *m = opaque;
    if (m->cfg.trace & TRACE_HV)
        fprintf(m->trace_out, "hv: host port %u: event flag %u from vp%u; echoing\n", conn, flag, from_vp);
    return hv_signal_event_to_guest(board_of(m)->hv, from_vp, HVEMU_ECHO_SINT, flag);
}

static int create_ports(struct machine *m, struct board *b)
{
    const struct hv_port_desc ports[] = {
        {.type = HV_PORT_MESSAGE, .sint = HVEMU_ECHO_SINT, .host_message = echo_message, .host_opaque = m},
        {.type = HV_PORT_EVENT, .sint = HVEMU_ECHO_SINT, .flag_count = 2048, .host_event = echo_event,
         .host_opaque = m},
        {.type = HV_PORT_MESSAGE, .target_vp = 0, .sint = HVEMU_LOOP_SINT},
        {.type = HV_PORT_EVENT, .target_vp = 0, .sint = HVEMU_LOOP_SINT, .base_flag = 0, .flag_count = 64},
    };
    static const uint32_t ids[] = {HVEMU_CONN_ECHO_MESSAGE, HVEMU_CONN_ECHO_EVENT,
                                   HVEMU_CONN_LOOP_MESSAGE, HVEMU_CONN_LOOP_EVENT};
    for (size_t i = 0; i < ARRAY_SIZE(ports); i++)
        if (hv_port_create(b->hv, ids[i], &ports[i]))
            return -1;
    return 0;
}

int board_hv_create(struct machine *m, struct board *b, char *err, size_t errlen)
{
    struct hv_config cfg;
    hv_config_default(&cfg);
    if (m->cfg.hv_spec && hv_config_parse(&cfg, m->cfg.hv_spec, err, errlen))
        return -1;
    if (!cfg.enabled)
        return 0;
    /* What the hypervisor reports must be what the board's hardware does. */
    cfg.apic_hz = LAPIC_TIMER_HZ;
    cfg.phys_bits = MMU_MAXPHYADDR;
    /* Long rep hypercalls return to the guest every 16 elements (the CPU re-executes the
     * VMCALL), so interrupts are not held off for a whole list. */
    cfg.rep_batch = 16;
    b->hv_ops = (struct hv_host_ops){
        .opaque = m,
        .inject = hv_inject,
        .apic_eoi = hv_apic_eoi,
        .apic_icr_write = hv_icr_write,
        .apic_icr_read = hv_icr_read,
        .apic_tpr_write = hv_tpr_write,
        .apic_tpr_read = hv_tpr_read,
        .flush_tlb = hv_flush_tlb,
        .idle = hv_idle,
        .request_stop = hv_request_stop,
        .vp_runtime_ns = hv_vp_runtime,
    };
    b->hv = hv_partition_create(&cfg, &b->hv_ops, &m->mem, &m->clock, m->nvcpus);
    if (!b->hv) {
        snprintf(err, errlen, "cannot create the hypervisor partition");
        return -1;
    }
    if (create_ports(m, b)) {
        snprintf(err, errlen, "cannot create the hypervisor's host ports");
        return -1;
    }
    if (m->cfg.trace & TRACE_HV) {
        struct hv_trace t = {hv_trace_line, m};
        hv_set_trace(b->hv, &t);
    }
    for (unsigned i = 0; i < m->nvcpus; i++)
        lapic_set_eoi_hook(&b->lapic[i], lapic_eoi_to_hv, &b->links[i]);
    return 0;
}

void board_hv_destroy(struct board *b)
{
    if (b->hv)
        hv_partition_destroy(b->hv);
    b->hv = NULL;
}

struct hv_partition *machine_hv(const struct machine *m)
{
    return m->dev ? ((const struct board *)m->dev)->hv : NULL;
}

void board_cpuid(struct machine *m, struct vcpu *vp, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    struct board *b = board_of(m);
    unsigned id = cpu_apic_id(vp);
    if (leaf >= 0x40000000 && leaf <= 0x4FFFFFFF) {
        memset(out, 0, 4 * sizeof(out[0]));
        if (b->hv)
            hv_cpuid(b->hv, hv_partition_vp(b->hv, id), leaf, subleaf, out);
        return;
    }
    cpu_cpuid_default(vp, leaf, subleaf, out);
    if (leaf == 1) {
        /* Initial APIC ID and the APIC-present bit follow this VP's local APIC. */
        out[1] = (out[1] & 0x00FFFFFF) | (id << 24);
        out[1] = (out[1] & 0xFF00FFFF) | ((m->nvcpus > 1 ? m->nvcpus : 1) << 16);
        if (lapic_mmio_enabled(&b->lapic[id]) || lapic_is_x2apic(&b->lapic[id]))
            out[3] |= 1u << 9;
        else
            out[3] &= ~(1u << 9);
        out[2] |= 1u << 21 | 1u << 24; /* x2APIC, TSC-deadline timer: both in the LAPIC */
    } else if (leaf == 0xB || leaf == 0x1F) {
        out[3] = id;
    }
    if (b->hv)
        hv_cpuid_adjust_base(b->hv, leaf, subleaf, out);
}

int board_msr_read(struct machine *m, unsigned vp, uint32_t index, uint64_t *value)
{
    struct board *b = board_of(m);
    if (lapic_msr_handles(index))
        return lapic_msr_read(&b->lapic[vp], index, value) ? -1 : 0;
    if (b->hv) {
        int rc = hv_msr_read(b->hv, hv_partition_vp(b->hv, vp), index, value);
        if (rc <= 0)
            return rc;
    }
    return -1;
}

int board_msr_write(struct machine *m, unsigned vp, uint32_t index, uint64_t value)
{
    struct board *b = board_of(m);
    if (lapic_msr_handles(index))
        return lapic_msr_write(&b->lapic[vp], index, value) ? -1 : 0;
    if (b->hv) {
        int rc = hv_msr_write(b->hv, hv_partition_vp(b->hv, vp), index, value);
        if (rc <= 0)
            return rc;
    }
    return -1;
}

enum exit_action board_vmcall(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    struct board *b = board_of(m);
    if (!b->hv)
        goto ud;
    switch (hv_hypercall_cpu(b->hv, hv_partition_vp(b->hv, cpu_apic_id(vp)), vp)) {
    case HV_CALL_DONE: return m->stop != MSTOP_NONE ? EXIT_STOP : EXIT_CONTINUE;
    case HV_CALL_CONTINUE: return EXIT_RETRY;
    case HV_CALL_UD: break;
    }
ud:
    ex->vector = 6;
    ex->has_error_code = false;
    return EXIT_FAULT;
}
