/* VM-exit handlers, dispatched through one table indexed by the VT-x basic exit reason. */
#include "hv/exits.h"

#include <stdio.h>

#include "devices/iobus.h"

typedef enum exit_action (*exit_handler)(struct machine *m, struct vcpu *vp, struct vmexit *ex);

static enum exit_action fault(struct vmexit *ex, uint8_t vector, bool has_error, uint32_t error)
{
    ex->vector = vector;
    ex->has_error_code = has_error;
    ex->error_code = error;
    return EXIT_FAULT;
}

static enum exit_action handle_cpuid(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    uint32_t out[4];
    uint32_t leaf = (uint32_t)cpu_get_gpr(vp, REG_RAX), sub = (uint32_t)cpu_get_gpr(vp, REG_RCX);
    board_cpuid(m, vp, leaf, sub, out);
    cpu_set_gpr(vp, REG_RAX, out[0]);
    cpu_set_gpr(vp, REG_RBX, out[1]);
    cpu_set_gpr(vp, REG_RCX, out[2]);
    cpu_set_gpr(vp, REG_RDX, out[3]);
    return EXIT_CONTINUE;
}

static enum exit_action handle_io(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    if (ex->u.io.in)
        ex->u.io.data = iobus_read(&m->io, ex->u.io.port, ex->u.io.size);
    else
        iobus_write(&m->io, ex->u.io.port, ex->u.io.data, ex->u.io.size);
    if (m->cfg.trace & TRACE_IO)
        fprintf(m->trace_out, "io: vp%u %s port 0x%04x size %u data 0x%x\n", cpu_apic_id(vp),
                ex->u.io.in ? "in " : "out", ex->u.io.port, ex->u.io.size, ex->u.io.data);
    return m->stop != MSTOP_NONE ? EXIT_STOP : EXIT_CONTINUE;
}

static enum exit_action handle_msr(struct machine *m, struct vcpu *vp, struct vmexit *ex, bool write)
{
    unsigned id = cpu_apic_id(vp);
    int rc = write ? board_msr_write(m, id, ex->u.msr.index, ex->u.msr.value)
                   : board_msr_read(m, id, ex->u.msr.index, &ex->u.msr.value);
    if (m->cfg.trace & TRACE_MSR)
        fprintf(m->trace_out, "msr: vp%u %s 0x%08x value 0x%016llx%s\n", id, write ? "wrmsr" : "rdmsr",
                ex->u.msr.index, (unsigned long long)ex->u.msr.value, rc ? " -> #GP" : "");
    if (rc)
        return fault(ex, 13, true, 0); /* SDM: RDMSR/WRMSR of an unimplemented MSR is #GP(0) */
    return m->stop != MSTOP_NONE ? EXIT_STOP : EXIT_CONTINUE;
}

static enum exit_action handle_msr_read(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    return handle_msr(m, vp, ex, false);
}

static enum exit_action handle_msr_write(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    return handle_msr(m, vp, ex, true);
}

static enum exit_action handle_vmcall(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    return board_vmcall(m, vp, ex);
}

static enum exit_action handle_cr(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    if (ex->u.cr.cr != 8)
        return EXIT_CONTINUE;
    if (ex->u.cr.write)
        board_tpr_write(m, cpu_apic_id(vp), ex->u.cr.value);
    else
        ex->u.cr.value = board_tpr_read(m, cpu_apic_id(vp));
    return EXIT_CONTINUE;
}

/* VT-x exit reason 2: the VP hit a triple fault and is in shutdown; the machine stops with
 * status 4, as a PC without a reset-on-shutdown chipset does. */
static enum exit_action handle_triple_fault(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    machine_request_stop(m, MSTOP_SHUTDOWN, 0);
    return EXIT_STOP;
}

static enum exit_action handle_nothing(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    return EXIT_CONTINUE;
}

static const exit_handler handlers[] = {
    [EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
    [EXIT_REASON_CPUID] = handle_cpuid,
    [EXIT_REASON_IO_INSTRUCTION] = handle_io,
    [EXIT_REASON_MSR_READ] = handle_msr_read,
    [EXIT_REASON_MSR_WRITE] = handle_msr_write,
    [EXIT_REASON_VMCALL] = handle_vmcall,
    [EXIT_REASON_CR_ACCESS] = handle_cr,
    [EXIT_REASON_HLT] = handle_nothing,
    [EXIT_REASON_PAUSE] = handle_nothing,
    [EXIT_REASON_INVLPG] = handle_nothing,
    [EXIT_REASON_WBINVD] = handle_nothing,
    [EXIT_REASON_INVD] = handle_nothing,
    [EXIT_REASON_MONITOR] = handle_nothing,
    [EXIT_REASON_MWAIT] = handle_nothing,
    [EXIT_REASON_RDTSC] = handle_nothing,
    [EXIT_REASON_RDTSCP] = handle_nothing,
    [EXIT_REASON_XSETBV] = handle_nothing,
};

enum exit_action machine_handle_exit(struct machine *m, struct vcpu *vp, struct vmexit *ex)
{
    if ((m->cfg.trace & TRACE_EXIT) && ex->reason != EXIT_REASON_IO_INSTRUCTION)
        fprintf(m->trace_out, "exit: vp%u %s rip 0x%llx qual 0x%llx\n", cpu_apic_id(vp),
                exit_reason_name(ex->reason), (unsigned long long)ex->rip,
                (unsigned long long)ex->qualification);
    if (ex->reason < ARRAY_SIZE(handlers) && handlers[ex->reason])
        return handlers[ex->reason](m, vp, ex);
    /* An exit no handler claims is an instruction this machine does not offer. */
    return fault(ex, 6, false, 0);
}
