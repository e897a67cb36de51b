/* The only file of the Hyper-V interface that touches the CPU: it snapshots a VP's registers
 * for hv_hypercall and writes back what the hypercall changed. */
#include "hv/hyperv/internal.h"

#include "cpu/cpu.h"

enum hv_call_action hv_hypercall_cpu(struct hv_partition *p, struct hv_vp *vp, struct vcpu *cpu)
{
    struct hv_call_regs r;
    for (unsigned i = 0; i < 16; i++)
        r.gpr[i] = cpu_get_gpr(cpu, i);
    for (unsigned i = 0; i < 6; i++)
        cpu_get_xmm(cpu, i, r.xmm[i]);
    struct seg cs;
    cpu_get_seg(cpu, SEG_CS, &cs);
    r.cpl = cpu_get_cpl(cpu);
    r.pe = (cpu_get_cr(cpu, 0) & 1) != 0;
    r.v86 = (cpu_get_rflags(cpu) & (1u << 17)) != 0;
    r.lma = cpu_in_long_mode(cpu);
    r.cs_l = (cs.attr & (1u << 13)) != 0;
    enum hv_call_action a = hv_hypercall(p, vp, &r);
    if (a != HV_CALL_UD) {
        cpu_set_gpr(cpu, REG_RAX, r.gpr[REG_RAX]);
        cpu_set_gpr(cpu, REG_RCX, r.gpr[REG_RCX]);
        cpu_set_gpr(cpu, REG_RDX, r.gpr[REG_RDX]);
    }
    return a;
}
