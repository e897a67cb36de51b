/* String instructions with REP/REPE/REPNE in every address size, and port I/O (IN, OUT, INS,
 * OUTS) as one EXIT_REASON_IO_INSTRUCTION per element. Registers advance per element, so a
 * fault in the middle leaves a restartable state; long REP runs yield every STR_CHUNK elements
 * (RIP stays on the instruction) so events and the budget are seen. */
#include "cpu/exits.h"
#include "cpu/ops_inline.h"

#define STR_CHUNK 4096

enum skind { S_MOVS, S_CMPS, S_SCAS, S_LODS, S_STOS, S_INS, S_OUTS };

static uint64_t insn_rip(const struct vcpu *vp, const struct insn *i)
{
    uint64_t r = vp->gpr[GPR_BRIP] + i->nxt - i->len;
    return vp->mode == MODE_64 ? r : (uint32_t)r;
}

static void areg_set(struct vcpu *vp, unsigned r, unsigned asz, uint64_t v)
{
    if (asz == 8)
        vp->gpr[r] = v;
    else if (asz == 4)
        vp->gpr[r] = (uint32_t)v;
    else
        vp->gpr[r] = (vp->gpr[r] & ~0xffffull) | (v & 0xffff);
}

/* SDM Vol 1 19.5.3: I/O permission when CPL > IOPL (the TSS bitmap is not consulted yet). */
static void io_check(struct vcpu *vp, const struct insn *i)
{
    if ((vp->cr0 & CR0_PE) && (vp->cpl > ((vp->rflags & FL_IOPL) >> 12) || (vp->rflags & FL_VM)))
        cpu_fault_gp(vp, i, 0);
}

static uint64_t io_qual(unsigned port, unsigned size, bool in, bool str, bool rep, bool imm)
{
    return (uint64_t)(size - 1) | (in ? 8u : 0) | (str ? 16u : 0) | (rep ? 32u : 0) |
           (imm ? 64u : 0) | (uint64_t)port << 16;
}

static uint32_t io_in(struct vcpu *vp, const struct insn *i, unsigned port, unsigned size,
                      bool str, bool imm)
{
    struct vmexit ex = {.reason = EXIT_REASON_IO_INSTRUCTION};
    ex.qualification = io_qual(port, size, true, str, (i->flags & IF_REP) != 0, imm);
    ex.u.io.port = (uint16_t)port;
    ex.u.io.size = (uint8_t)size;
    ex.u.io.in = true;
    ex.u.io.data = 0xffffffffu;
    exit_call(vp, i, &ex);
    return ex.u.io.data;
}

static void io_out(struct vcpu *vp, const struct insn *i, unsigned port, unsigned size,
                   uint32_t data, bool str, bool imm)
{
    struct vmexit ex = {.reason = EXIT_REASON_IO_INSTRUCTION};
    ex.qualification = io_qual(port, size, false, str, (i->flags & IF_REP) != 0, imm);
    ex.u.io.port = (uint16_t)port;
    ex.u.io.size = (uint8_t)size;
    ex.u.io.in = false;
    ex.u.io.data = data;
    exit_call(vp, i, &ex);
}

static int string_op(struct vcpu *vp, const struct insn *i, enum skind k)
{
    unsigned sz = i->opsz, asz = i->asz;
    uint64_t am = amask_tab[asz];
    bool rep = i->flags & (IF_REP | IF_REPNE);
    int64_t step = (vp->rflags & FL_DF) ? -(int64_t)sz : (int64_t)sz;
    if (k == S_INS || k == S_OUTS)
        io_check(vp, i);
    for (unsigned n = 0;; n++) {
        if (rep) {
            if ((vp->gpr[REG_RCX] & am) == 0)
                return end_at(vp, vp->mode == MODE_64 ? vp->rip + i->nxt : (uint32_t)(vp->rip + i->nxt));
            if (n == STR_CHUNK || vp->stop_exit)
                return end_at(vp, insn_rip(vp, i));
        }
        uint64_t si = vp->gpr[REG_RSI] & am, di = vp->gpr[REG_RDI] & am;
        gva_t src = lin_seg(vp, i->seg, si), dst = lin_seg(vp, SEG_ES, di);
        bool stop = false;
        switch (k) {
        case S_MOVS:
            mem_wr(vp, i, dst, sz, mem_rd(vp, i, src, sz));
            areg_set(vp, REG_RSI, asz, si + (uint64_t)step);
            areg_set(vp, REG_RDI, asz, di + (uint64_t)step);
            break;
        case S_CMPS: {
            uint64_t a = mem_rd(vp, i, src, sz), b = mem_rd(vp, i, dst, sz);
            lf_set(vp, LF_SUB, sz, a, b, a - b);
            areg_set(vp, REG_RSI, asz, si + (uint64_t)step);
            areg_set(vp, REG_RDI, asz, di + (uint64_t)step);
            stop = (i->flags & IF_REP) ? a != b : a == b;
            break;
        }
        case S_SCAS: {
            uint64_t a = rreg(vp, 0, sz), b = mem_rd(vp, i, dst, sz);
            lf_set(vp, LF_SUB, sz, a, b, a - b);
            areg_set(vp, REG_RDI, asz, di + (uint64_t)step);
            stop = (i->flags & IF_REP) ? a != b : a == b;
            break;
        }
        case S_LODS:
            wreg(vp, 0, sz, mem_rd(vp, i, src, sz));
            areg_set(vp, REG_RSI, asz, si + (uint64_t)step);
            break;
        case S_STOS:
            mem_wr(vp, i, dst, sz, rreg(vp, 0, sz));
            areg_set(vp, REG_RDI, asz, di + (uint64_t)step);
            break;
        case S_INS: {
            mem_probe_write(vp, i, dst, sz);
            uint32_t v = io_in(vp, i, (uint16_t)vp->gpr[REG_RDX], sz, true, false);
            mem_wr(vp, i, dst, sz, v);
            areg_set(vp, REG_RDI, asz, di + (uint64_t)step);
            break;
        }
        case S_OUTS: {
            uint32_t v = (uint32_t)mem_rd(vp, i, src, sz);
            io_out(vp, i, (uint16_t)vp->gpr[REG_RDX], sz, v, true, false);
            areg_set(vp, REG_RSI, asz, si + (uint64_t)step);
            break;
        }
        }
        if (!rep)
            break;
        areg_set(vp, REG_RCX, asz, (vp->gpr[REG_RCX] & am) - 1);
        if (stop && (k == S_CMPS || k == S_SCAS))
            break;
        if (vp->stop_exit && (vp->gpr[REG_RCX] & am))
            return end_at(vp, insn_rip(vp, i));
    }
    return end_at(vp, vp->mode == MODE_64 ? vp->rip + i->nxt : (uint32_t)(vp->rip + i->nxt));
}

int op_MOVS(struct vcpu *vp, const struct insn *i) { return string_op(vp, i, S_MOVS); }
int op_CMPS(struct vcpu *vp, const struct insn *i) { return string_op(vp, i, S_CMPS); }
int op_SCAS(struct vcpu *vp, const struct insn *i) { return string_op(vp, i, S_SCAS); }
int op_LODS(struct vcpu *vp, const struct insn *i) { return string_op(vp, i, S_LODS); }
int op_STOS(struct vcpu *vp, const struct insn *i) { return string_op(vp, i, S_STOS); }
int op_INS(struct vcpu *vp, const struct insn *i) { return string_op(vp, i, S_INS); }
int op_OUTS(struct vcpu *vp, const struct insn *i) { return string_op(vp, i, S_OUTS); }

int op_IN(struct vcpu *vp, const struct insn *i)
{
    io_check(vp, i);
    unsigned port = i->cc ? (uint16_t)vp->gpr[REG_RDX] : (unsigned)(i->imm & 0xff);
    uint32_t v = io_in(vp, i, port, i->opsz, false, !i->cc);
    wreg(vp, 0, i->opsz, v);
    return end_at(vp, next_ip(vp, i));
}

int op_OUT(struct vcpu *vp, const struct insn *i)
{
    io_check(vp, i);
    unsigned port = i->cc ? (uint16_t)vp->gpr[REG_RDX] : (unsigned)(i->imm & 0xff);
    io_out(vp, i, port, i->opsz, (uint32_t)rreg(vp, 0, i->opsz), false, !i->cc);
    return end_at(vp, next_ip(vp, i));
}
