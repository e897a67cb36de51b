/* String instructions with REP/REPE/REPNE in every address size, and port I/O (IN, OUT, INS,
 * OUTS) as one EXIT_REASON_IO_INSTRUCTION per element. Registers advance per element, so a
 * fault in the middle leaves a restartable state; long REP runs yield every STR_CHUNK elements
 * (RIP stays on the instruction) so events and the budget are seen. REP MOVS/STOS with DF=0
 * copy whole in-page runs through the TLB's host pointers. */
#include "cpu/debug.h"
#include "cpu/exits.h"
#include "cpu/ops_inline.h"

#include <string.h>

/* Elements per execution before a REP instruction yields (RIP stays on it, counting as one
 * retired instruction): bounds the work one unit of budget can cost. Port I/O yields sooner,
 * as every element is an exit. */
#define STR_CHUNK 1024
#define STR_IO_CHUNK 16

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

/* SDM Vol 1 19.5.2, Vol 3 20.2.8.1: in virtual-8086 mode, and in protected mode at
 * CPL > IOPL, every port of the access must be clear in the I/O permission bitmap of the
 * current 32/64-bit TSS. The processor reads two bytes at io_base + port / 8 (an access may
 * span two bitmap bytes); both must lie within the TSS limit. A 16-bit TSS has no bitmap. */
static void io_check(struct vcpu *vp, const struct insn *i, unsigned port, unsigned size)
{
    if (!(vp->cr0 & CR0_PE))
        return;
    if (!(vp->rflags & FL_VM) && vp->cpl <= ((vp->rflags & FL_IOPL) >> 12))
        return;
    const struct seg *tr = &vp->seg[SEG_TR];
    unsigned type = tr->attr & 0x1f;
    if ((tr->attr & (1u << 16)) || !(tr->attr & 0x80) || (type != 9 && type != 0xb) ||
        tr->limit < 0x67)
        cpu_fault_gp(vp, i, 0);
    uint16_t base = 0, bits = 0;
    uint32_t err = 0;
    /* The TSS reads are supervisor accesses, so a page fault on them is a #PF; linear
     * addresses wrap at 4 GiB outside IA-32e mode. */
    uint64_t am = (vp->efer & EFER_LMA) ? ~0ull : 0xffffffffull;
    int v = mem_sys_read(vp, (tr->base + 0x66) & am, &base, 2, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    uint32_t first = base + port / 8u;
    if (first + 1u > tr->limit)
        cpu_fault_gp(vp, i, 0);
    v = mem_sys_read(vp, (tr->base + first) & am, &bits, 2, &err);
    if (v)
        cpu_fault(vp, i, (unsigned)v, true, err);
    if (bits & (((1u << size) - 1) << (port & 7)))
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
    dbg_io_access(vp, i, (uint16_t)port, size);
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
    dbg_io_access(vp, i, (uint16_t)port, size);
    struct vmexit ex = {.reason = EXIT_REASON_IO_INSTRUCTION};
    ex.qualification = io_qual(port, size, false, str, (i->flags & IF_REP) != 0, imm);
    ex.u.io.port = (uint16_t)port;
    ex.u.io.size = (uint8_t)size;
    ex.u.io.in = false;
    ex.u.io.data = data;
    exit_call(vp, i, &ex);
}

/* Host pointer for n bytes at la through the TLB (no page crossing), or NULL. */
static uint8_t *tlb_span(struct vcpu *vp, gva_t la, uint64_t n, bool write)
{
    const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
    uint64_t tag = write ? e->tag_w : e->tag_r;
    if (tag != (la & PAGE_MASK) || (la & (PAGE_SIZE - 1)) + n > PAGE_SIZE)
        return NULL;
    return (uint8_t *)(uintptr_t)(la + e->addend);
}

/* REP MOVS/STOS with DF=0: whole runs within a page straight through the TLB's host
 * pointers, element by element in order (so overlapping MOVS behaves as the CPU's). Returns
 * the elements done (0: take the per-element path for the next one). */
static uint64_t rep_fast(struct vcpu *vp, const struct insn *i, enum skind k, uint64_t max)
{
    unsigned sz = i->opsz;
    uint64_t am = amask_tab[i->asz];
    uint64_t cnt = vp->gpr[REG_RCX] & am;
    uint64_t si = vp->gpr[REG_RSI] & am, di = vp->gpr[REG_RDI] & am;
    gva_t dst = lin_seg(vp, SEG_ES, di), src = lin_seg(vp, i->seg, si);
    uint64_t n = cnt < max ? cnt : max;
    uint64_t room = (PAGE_SIZE - (dst & (PAGE_SIZE - 1))) / sz;
    if (k == S_MOVS) {
        uint64_t r2 = (PAGE_SIZE - (src & (PAGE_SIZE - 1))) / sz;
        room = r2 < room ? r2 : room;
    }
    n = n < room ? n : room;
    /* Stay clear of address-size wrap-around. */
    if (n == 0 || di + n * sz - 1 > am || (k == S_MOVS && si + n * sz - 1 > am))
        return 0;
    uint8_t *d = tlb_span(vp, dst, n * sz, true);
    if (!d)
        return 0;
    if (k == S_STOS) {
        uint64_t v = rreg(vp, 0, sz);
        if (sz == 1)
            memset(d, (int)(v & 0xff), n);
        else
            for (uint64_t e = 0; e < n; e++)
                store_sz(d + e * sz, sz, v);
    } else {
        const uint8_t *s = tlb_span(vp, src, n * sz, false);
        if (!s)
            return 0;
        if (d >= s + n * sz || s >= d + n * sz)
            memcpy(d, s, n * sz);
        else
            for (uint64_t e = 0; e < n; e++)
                store_sz(d + e * sz, sz, load_sz(s + e * sz, sz));
        areg_set(vp, REG_RSI, i->asz, si + n * sz);
    }
    areg_set(vp, REG_RDI, i->asz, di + n * sz);
    areg_set(vp, REG_RCX, i->asz, cnt - n);
    return n;
}

static int string_op(struct vcpu *vp, const struct insn *i, enum skind k)
{
    unsigned sz = i->opsz, asz = i->asz;
    uint64_t am = amask_tab[asz];
    bool rep = i->flags & (IF_REP | IF_REPNE);
    int64_t step = (vp->rflags & FL_DF) ? -(int64_t)sz : (int64_t)sz;
    if (k == S_INS || k == S_OUTS)
        io_check(vp, i, (uint16_t)vp->gpr[REG_RDX], sz);
    bool fast = rep && !(vp->rflags & FL_DF) && (k == S_MOVS || k == S_STOS);
    for (unsigned n = 0;; n++) {
        if (rep) {
            if ((vp->gpr[REG_RCX] & am) == 0)
                return end_at(vp, vp->mode == MODE_64 ? vp->rip + i->nxt : (uint32_t)(vp->rip + i->nxt));
            if (n >= (k == S_INS || k == S_OUTS ? STR_IO_CHUNK : STR_CHUNK) || vp->stop_exit)
                return end_at(vp, insn_rip(vp, i));
            if (fast) {
                uint64_t done = rep_fast(vp, i, k, STR_CHUNK * 16ull);
                if (done) {
                    n += (unsigned)(done / 16);
                    continue;
                }
            }
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
        /* SDM Vol 3 17.3.1.2 and 17.3.1.4: an enabled data or I/O breakpoint met by one
         * iteration, or single-stepping, traps after that iteration, with RIP still on the
         * instruction (the run loop delivers the #DB with RF=1). */
        if (((vp->dr[DBG_HITS] & dbg_enabled(vp)) || (vp->rflags & FL_TF)) &&
            (vp->gpr[REG_RCX] & am))
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
    unsigned port = i->cc ? (uint16_t)vp->gpr[REG_RDX] : (unsigned)(i->imm & 0xff);
    io_check(vp, i, port, i->opsz);
    uint32_t v = io_in(vp, i, port, i->opsz, false, !i->cc);
    wreg(vp, 0, i->opsz, v);
    return end_at(vp, next_ip(vp, i));
}

int op_OUT(struct vcpu *vp, const struct insn *i)
{
    unsigned port = i->cc ? (uint16_t)vp->gpr[REG_RDX] : (unsigned)(i->imm & 0xff);
    io_check(vp, i, port, i->opsz);
    io_out(vp, i, port, i->opsz, (uint32_t)rreg(vp, 0, i->opsz), false, !i->cc);
    return end_at(vp, next_ip(vp, i));
}
