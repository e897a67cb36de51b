/* Debug registers DR0-DR7 (SDM Vol 3 17.2): MOV DR, breakpoints, DR6 status. */
#include "cpu/debug.h"
#include "cpu/ops_inline.h"

static void need_cpl0(struct vcpu *vp, const struct insn *i)
{
    if ((vp->cr0 & CR0_PE) && vp->cpl != 0)
        cpu_fault_gp(vp, i, 0);
    if (vp->rflags & FL_VM)
        cpu_fault_gp(vp, i, 0);
}

static int next(struct vcpu *vp, const struct insn *i)
{
    return end_at(vp, next_ip(vp, i));
}

static unsigned dr_index(struct vcpu *vp, const struct insn *i)
{
    unsigned n = i->cc;
    if (n == 4 || n == 5) {
        if (vp->cr4 & CR4_DE)
            cpu_fault_ud(vp, i);
        n += 2;
    }
    if (n > 7)
        cpu_fault_ud(vp, i);
    return n;
}

int op_MOV_DR_W(struct vcpu *vp, const struct insn *i)
{
    need_cpl0(vp, i);
    unsigned n = dr_index(vp, i);
    uint64_t v = vp->gpr[i->r1 >> 3];
    if (vp->mode != MODE_64)
        v = (uint32_t)v;
    if ((n == 6 || n == 7) && (v >> 32))
        cpu_fault_gp(vp, i, 0);
    if (n == 6)
        v = (v & 0x1e00f) | 0xffff0ff0;
    else if (n == 7)
        v = (v & 0xffff2bff) | 0x400;
    vp->dr[n] = v;
    return next(vp, i);
}

int op_MOV_DR_R(struct vcpu *vp, const struct insn *i)
{
    need_cpl0(vp, i);
    unsigned n = dr_index(vp, i);
    wreg(vp, i->r1, vp->mode == MODE_64 ? 8 : 4, vp->dr[n]);
    return next(vp, i);
}


gva_t dbg_check_access(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write)
{
    (void)vp; (void)i; (void)len; (void)write;
    return la;
}

void dbg_io_access(struct vcpu *vp, const struct insn *i, uint16_t port, unsigned len)
{
    (void)vp; (void)i; (void)port; (void)len;
}
