/* cpu_run: the block loop, the checks made at block boundaries (events, interrupts, budget),
 * and the unwinding of faults raised inside instructions. */
#include "cpu/exec.h"
#include "cpu/intr.h"
#include "cpu/mem.h"

/* An endless chain of faults retires nothing; cap deliveries per cpu_run so a hostile guest
 * cannot hang the emulator. */
#define MAX_FAULTS_PER_RUN 100000

static void do_init(struct vcpu *vp)
{
    uint64_t apic_base = vp->apic_base;
    uint64_t icount = vp->icount;
    cpu_reset(vp);
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

/* -1 to go on running, else the stop reason. */
static int boundary(struct vcpu *vp, uint64_t end)
{
    if (vp->shutdown)
        return CPU_STOP_SHUTDOWN;
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
            return CPU_STOP_SHUTDOWN;
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
            return CPU_STOP_SHUTDOWN;
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
    intr_deliver(vp, vp->fault_vec, EVK_EXC, vp->fault_has_err, vp->fault_err, 0);
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
        struct block *b = dcache_lookup(vp);
        uint64_t left = end - vp->icount;
        if (vp->int_shadow || (vp->rflags & FL_TF)) {
            /* STI / MOV SS: one instruction runs before interrupts are looked at again.
             * TF: a single-step trap follows each instruction that began with TF set. */
            bool tf = vp->rflags & FL_TF;
            uint64_t before = vp->icount;
            exec_steps(vp, b, 1);
            vp->int_shadow = false;
            if (tf && vp->icount != before && !vp->shutdown) {
                vp->dr[6] |= 1u << 14; /* DR6.BS */
                intr_deliver(vp, EXC_DB, EVK_EXC, false, 0, 0);
            }
        } else if (b->n <= left) {
            exec_block(vp, b, end);
        } else {
            exec_steps(vp, b, left);
        }
    }
out:
    vp->jb = outer;
    return (enum cpu_stop)st;
}
