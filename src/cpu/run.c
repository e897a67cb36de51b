/* cpu_run: the block loop, the checks made at block boundaries (events, interrupts, budget),
 * the unwinding of faults raised inside instructions, and the one-instruction steps the debug
 * unit needs (single step, breakpoints, RF, the MOV SS shadow). */
#include "cpu/debug.h"
#include "cpu/exec.h"
#include "cpu/intr.h"
#include "cpu/mem.h"
#include "cpu/ops.h"

/* An endless chain of faults retires nothing; cap deliveries per cpu_run so a hostile guest
 * cannot hang the emulator. */
#define MAX_FAULTS_PER_RUN 100000

static void do_init(struct vcpu *vp)
{
    uint64_t apic_base = vp->apic_base;
    uint64_t icount = vp->icount;
    cpu_reset_init(vp); /* INIT keeps x87/SSE state, MTRRs, PAT, ... (SDM Vol 3 Table 10-1) */
    vp->apic_base = apic_base;
    vp->icount = icount;
    /* Only application processors wait for a Startup IPI (SDM Vol 3 9.4). */
    vp->wait_sipi = !(apic_base & (1u << 8));
}

static void do_sipi(struct vcpu *vp)
{
    struct seg cs = {(uint16_t)(vp->sipi_vector << 8), (uint64_t)vp->sipi_vector << 12, 0xffff,
                     0x9b};
    seg_commit(vp, SEG_CS, &cs);
    vp->rip = 0;
    vp->wait_sipi = false;
    vp->halted = false;
}

/* Shutdown after a triple fault: reported once through the exit interface (VT-x exit reason
 * 2), so that the hypervisor sees it as it would see any other exit. */
static int shutdown_stop(struct vcpu *vp)
{
    if (!vp->shutdown_reported && vp->env.exit) {
        vp->shutdown_reported = true;
        struct vmexit ex = {.reason = EXIT_REASON_TRIPLE_FAULT, .rip = vp->rip};
        vp->env.exit(vp->env.opaque, vp, &ex);
    }
    return CPU_STOP_SHUTDOWN;
}

/* -1 to go on running, else the stop reason. */
static int boundary(struct vcpu *vp, uint64_t end)
{
    if (vp->shutdown)
        return shutdown_stop(vp);
    uint32_t ev = vp->events;
    if (ev & CPU_EV_KICK) {
        vp->events &= ~(uint32_t)CPU_EV_KICK;
        return CPU_STOP_KICK;
    }
    if (ev & CPU_EV_INIT) {
        vp->events &= ~(uint32_t)CPU_EV_INIT;
        do_init(vp);
    }
    if (vp->events & CPU_EV_SIPI) {
        vp->events &= ~(uint32_t)CPU_EV_SIPI;
        if (vp->wait_sipi)
            do_sipi(vp);
    }
    if (vp->wait_sipi)
        return CPU_STOP_WAIT_SIPI;
    if (vp->stop_exit) {
        vp->stop_exit = false;
        return CPU_STOP_EXIT;
    }
    if (vp->pending_exc != 0xff) {
        unsigned v = vp->pending_exc;
        vp->pending_exc = 0xff;
        vp->halted = false;
        intr_deliver(vp, v, EVK_EXC, vp->pending_has_err, vp->pending_err, 0);
        if (vp->shutdown)
            return shutdown_stop(vp);
    }
    if (!vp->int_shadow) {
        if ((vp->events & CPU_EV_NMI) && !vp->nmi_blocked) {
            vp->events &= ~(uint32_t)CPU_EV_NMI;
            vp->halted = false;
            intr_deliver(vp, EXC_NMI, EVK_NMI, false, 0, 0);
            vp->nmi_blocked = true;
        } else if ((vp->events & CPU_EV_INTR) && (vp->rflags & FL_IF)) {
            int vec = vp->env.intr_ack ? vp->env.intr_ack(vp->env.opaque, vp) : -1;
            if (vec >= 0) {
                vp->halted = false;
                intr_deliver(vp, (unsigned)vec & 0xff, EVK_EXT, false, 0, 0);
            }
        }
        if (vp->shutdown)
            return shutdown_stop(vp);
    }
    if (vp->halted)
        return CPU_STOP_HALT;
    if (vp->icount >= end)
        return CPU_STOP_BUDGET;
    return -1;
}

static void unwind_fault(struct vcpu *vp)
{
    const struct insn *i = vp->cur;
    if (i) {
        uint64_t rip = vp->gpr[GPR_BRIP] + i->nxt - i->len;
        vp->rip = vp->mode == MODE_64 ? rip : (uint32_t)rip;
        vp->icount = vp->ic0 + i->idx;
        vp->cur = NULL;
    }
    vp->int_shadow = false;
    vp->dr[DBG_HELD] = 0;
    /* SDM Vol 3 17.3.1.1: fault-class exceptions push RF = 1, so that the handler's IRET
     * restarts the instruction without hitting its instruction breakpoint again. */
    vp->rflags |= FL_RF;
    if (vp->fault_vec == EXC_DB)
        vp->dr[7] &= ~(uint64_t)DR7_GD;
    intr_deliver(vp, vp->fault_vec, EVK_EXC, vp->fault_has_err, vp->fault_err, 0);
}

/* #DB with the DR6 bits given; the processor clears DR7.GD on entry to the handler (SDM Vol 3
 * 17.2.4). DR6 bits are sticky: the handler clears them. */
static void deliver_db(struct vcpu *vp, uint64_t dr6)
{
    vp->dr[6] |= dr6;
    vp->dr[7] &= ~(uint64_t)DR7_GD;
    vp->int_shadow = false;
    intr_deliver(vp, EXC_DB, EVK_EXC, false, 0, 0);
}

static bool rep_string(const struct insn *i)
{
    return (i->flags & (IF_REP | IF_REPNE)) &&
           (i->op == OP_MOVS || i->op == OP_CMPS || i->op == OP_SCAS || i->op == OP_LODS ||
            i->op == OP_STOS || i->op == OP_INS || i->op == OP_OUTS);
}

/* Run one instruction with the debug unit's checks around it (SDM Vol 3 17.3): the instruction
 * breakpoint fault before it, then the #DB trap for single step and data/I/O breakpoints.
 * Returns false when an instruction breakpoint fault was delivered instead (nothing retired). */
static bool debug_step(struct vcpu *vp)
{
    uint64_t held = vp->dr[DBG_HELD];
    bool ss_shadow = held & DBG_HELD_SHADOW;
    /* Instruction breakpoints are checked before the fetch; RF (and a MOV SS shadow) skip the
     * check, and RF is cleared as the instruction starts. The fault pushes RF as it is (0). */
    if (!(vp->rflags & FL_RF) && !ss_shadow && (vp->dr[7] & DR7_ENABLES)) {
        unsigned hit = dbg_insn_match(vp);
        if (hit & dbg_enabled(vp)) {
            vp->dr[DBG_HELD] = 0;
            deliver_db(vp, hit);
            return false;
        }
    }
    struct block *b = dcache_lookup(vp);
    const struct insn *i = b->insns;
    bool tf = vp->rflags & FL_TF, rf = vp->rflags & FL_RF, shadow = vp->int_shadow;
    bool into = i->op == OP_INTO && (flags_get(vp) & FL_OF);
    uint64_t before = vp->icount, rip0 = vp->rip;
    vp->rflags &= ~(uint64_t)FL_RF;
    vp->dr[DBG_HITS] = 0;
    vp->dr[DBG_HELD] = 0;
    vp->int_shadow = false;
    exec_steps(vp, b, 1);
    if (vp->icount == before) {
        /* Not retired (to be run again after an exit): as if it had not started. */
        if (rf)
            vp->rflags |= FL_RF;
        vp->dr[DBG_HELD] = held;
        vp->int_shadow = vp->int_shadow || shadow;
        return true;
    }
    if (vp->shutdown)
        return true;
    uint64_t db = held & ~DBG_HELD_SHADOW;
    /* Single step: TF as the instruction began, so the one that sets TF does not trap. An
     * instruction that delivers an event (INT n, INT3, INT1, INTO) enters its handler with TF
     * clear and no trap; stepping resumes after the handler's IRET. */
    if (tf && i->op != OP_INT && !into)
        db |= DR6_BS;
    unsigned hits = (unsigned)vp->dr[DBG_HITS];
    if (hits & dbg_enabled(vp))
        db |= hits;
    /* Between iterations of a REP string instruction RF is 1 (SDM Vol 3 17.3.1.1): it is
     * pushed by a trap or interrupt here, and the rest of the instruction does not meet its
     * instruction breakpoint again. */
    if (rep_string(i) && vp->rip == rip0)
        vp->rflags |= FL_RF;
    /* SDM Vol 3 6.8.3: MOV SS / POP SS hold debug exceptions until after the next instruction. */
    if (vp->int_shadow && (i->op == OP_MOV_SEG_W || i->op == OP_POP_SEG) && i->cc == SEG_SS) {
        vp->dr[DBG_HELD] = db | DBG_HELD_SHADOW;
        return true;
    }
    if (db)
        deliver_db(vp, db);
    return true;
}

enum cpu_stop cpu_run(struct vcpu *vp, uint64_t budget)
{
    jmp_buf jb;
    jmp_buf *outer = vp->jb;
    const uint64_t end = vp->icount + budget;
    volatile unsigned faults = 0;
    int st;
    vp->jb = &jb;
    if (setjmp(jb)) {
        unwind_fault(vp);
        if (++faults > MAX_FAULTS_PER_RUN) {
            st = CPU_STOP_BUDGET;
            goto out;
        }
    }
    for (;;) {
        /* One test covers every reason to look closer at this boundary. */
        if (unlikely(exec_attention(vp, end))) {
            st = boundary(vp, end);
            if (st >= 0)
                break;
        }
        if (unlikely(vp->dc->generation != vp->pm->generation)) {
            tlb_flush_all(&vp->tlb);
            vp->tlb_generation = vp->pm->generation;
            dcache_flush_all(vp);
        }
        if (vp->int_shadow || dbg_stepping(vp)) {
            /* STI / MOV SS: one instruction runs before interrupts are looked at again.
             * The debug unit: single step, breakpoints, RF, a held #DB. A breakpoint on the
             * #DB handler's own entry faults forever, as on hardware: count it with the
             * faults so that cpu_run still returns. */
            if (!debug_step(vp) && ++faults > MAX_FAULTS_PER_RUN) {
                st = CPU_STOP_BUDGET;
                break;
            }
            continue;
        }
        struct block *b = dcache_lookup(vp);
        uint64_t left = end - vp->icount;
        if (b->n <= left) {
            exec_block(vp, b, end);
        } else {
            exec_steps(vp, b, left);
        }
    }
out:
    vp->jb = outer;
    return (enum cpu_stop)st;
}
