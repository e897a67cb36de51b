/* Machine lifetime and the run loop: round-robin VPs in fixed instruction quanta on one host
 * thread, so every run is deterministic; virtual time follows retired instructions and jumps
 * to the next timer deadline when every VP is idle. */
#include "hv/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/board.h"

static const char *const stop_names[] = {
    [MSTOP_NONE] = "running",          [MSTOP_POWEROFF] = "power-off",
    [MSTOP_DEBUG_EXIT] = "debug-exit", [MSTOP_SHUTDOWN] = "triple fault (shutdown)",
    [MSTOP_LIMIT] = "instruction limit reached", [MSTOP_RESET] = "guest reset",
    [MSTOP_CRASH] = "guest crash report",        [MSTOP_DEADLOCK] = "all VPs halted forever",
    [MSTOP_HOST_ERROR] = "host error",
};

const char *machine_stop_name(enum machine_stop why)
{
    return (unsigned)why < ARRAY_SIZE(stop_names) ? stop_names[why] : "?";
}

int machine_status_for(enum machine_stop why, int debug_code)
{
    switch (why) {
    case MSTOP_NONE:
    case MSTOP_POWEROFF: return HVEMU_EXIT_POWEROFF;
    case MSTOP_DEBUG_EXIT: return debug_code & 0xff; /* the device computed (v << 1) | 1 */
    case MSTOP_SHUTDOWN: return HVEMU_EXIT_SHUTDOWN;
    case MSTOP_LIMIT: return HVEMU_EXIT_LIMIT;
    case MSTOP_RESET: return HVEMU_EXIT_RESET;
    case MSTOP_CRASH: return HVEMU_EXIT_CRASH;
    case MSTOP_DEADLOCK: return HVEMU_EXIT_DEADLOCK;
    case MSTOP_HOST_ERROR: return HVEMU_EXIT_HOST_ERROR;
    }
    return HVEMU_EXIT_HOST_ERROR;
}

void machine_request_stop(struct machine *m, enum machine_stop why, int status)
{
    if (m->stop != MSTOP_NONE)
        return; /* the first reason wins */
    m->stop = why;
    m->exit_status = machine_status_for(why, status);
    for (unsigned i = 0; i < m->nvcpus; i++)
        cpu_raise_event(m->vcpu[i], CPU_EV_KICK);
}

int machine_create(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    if (cfg->smp == 0 || cfg->smp > MACHINE_MAX_VCPUS) {
        snprintf(err, errlen, "--smp must be between 1 and %d", MACHINE_MAX_VCPUS);
        return -1;
    }
    if (physmem_init(&m->mem, cfg->ram_size)) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest memory",
                 (unsigned long long)(cfg->ram_size >> 20));
        return -1;
    }
    iobus_init(&m->io);
    vclock_init(&m->clock);
    m->trace_out = stderr;
    m->nvcpus = cfg->smp;
    if (board_create(m, err, errlen)) {
        physmem_destroy(&m->mem);
        return -1;
    }
    for (unsigned i = 0; i < m->nvcpus; i++) {
        m->vcpu[i] = cpu_create(&m->mem, board_cpu_env(m), i);
        if (!m->vcpu[i]) {
            snprintf(err, errlen, "cannot create virtual processor %u", i);
            machine_destroy(m);
            return -1;
        }
    }
    return 0;
}

void machine_destroy(struct machine *m)
{
    for (unsigned i = 0; i < m->nvcpus; i++)
        if (m->vcpu[i])
            cpu_destroy(m->vcpu[i]);
    board_destroy(m);
    physmem_destroy(&m->mem);
    memset(m, 0, sizeof(*m));
}

static bool vp_runnable(struct machine *m, unsigned i)
{
    if (m->wait_sipi[i]) {
        if (!(cpu_pending_events(m->vcpu[i]) & (CPU_EV_SIPI | CPU_EV_INIT)))
            return false;
        m->wait_sipi[i] = false;
    }
    if (!cpu_is_halted(m->vcpu[i]))
        return true;
    if (board_vp_wakeable(m, i)) {
        cpu_set_halted(m->vcpu[i], false);
        return true;
    }
    return false;
}

/* Keep every VP's TSC equal to virtual time (plus what the guest itself wrote): time that
 * passed while the VP did not execute (halted, waiting for SIPI, or other VPs running longer
 * slices) is added to its TSC offset. Without this a guest's clocksource (TSC, Hyper-V TSC
 * page) would lag the timers, which run on virtual time. */
static void sync_tsc(struct machine *m)
{
    uint64_t now = vclock_now(&m->clock);
    for (unsigned i = 0; i < m->nvcpus; i++) {
        struct vcpu *vp = m->vcpu[i];
        uint64_t ic = cpu_icount(vp);
        int64_t lag = (int64_t)((now - m->tsc_sync_ns[i]) - (ic - m->tsc_sync_icount[i]) * VCLOCK_NS_PER_INSN);
        if (lag)
            cpu_set_tsc_offset(vp, (int64_t)(cpu_get_tsc(vp) - ic) + lag);
        m->tsc_sync_ns[i] = now;
        m->tsc_sync_icount[i] = ic;
        /* Only a guest write to IA32_TSC moves the TSC against virtual time. */
        int64_t off = (int64_t)(cpu_get_tsc(vp) - now);
        if (off != m->tsc_guest_offset[i]) {
            m->tsc_guest_offset[i] = off;
            board_tsc_offset_changed(m, i, off);
        }
    }
}

int machine_run(struct machine *m)
{
    unsigned idle_waits = 0;
    for (unsigned i = 0; i < m->nvcpus; i++) {
        m->tsc_sync_ns[i] = vclock_now(&m->clock);
        m->tsc_sync_icount[i] = cpu_icount(m->vcpu[i]);
    }
    while (m->stop == MSTOP_NONE) {
        sync_tsc(m);
        uint64_t start = vclock_now(&m->clock);
        uint64_t budget = MACHINE_QUANTUM;
        uint64_t deadline = vclock_next_deadline(&m->clock);
        /* End the slice at the next timer deadline, so timers fire on the exact instruction. */
        if (deadline != UINT64_MAX) {
            uint64_t until = deadline > start ? (deadline - start) / VCLOCK_NS_PER_INSN : 0;
            if (until < budget)
                budget = until ? until : 1;
        }
        if (m->cfg.max_insns) {
            if (m->total_insns >= m->cfg.max_insns) {
                machine_request_stop(m, MSTOP_LIMIT, 0);
                break;
            }
            if (m->cfg.max_insns - m->total_insns < budget)
                budget = m->cfg.max_insns - m->total_insns;
        }

        uint64_t longest = 0;
        bool ran = false;
        unsigned nbusy = 0, busy = 0; /* VPs that executed instructions this round */
        for (unsigned i = 0; i < m->nvcpus && m->stop == MSTOP_NONE; i++) {
            if (!vp_runnable(m, i))
                continue;
            ran = true;
            struct vcpu *vp = m->vcpu[i];
            m->current_vp = i;
            uint64_t before = cpu_icount(vp);
            vclock_attach(&m->clock, start, cpu_icount_ptr(vp));
            enum cpu_stop why = cpu_run(vp, budget);
            uint64_t used = cpu_icount(vp) - before;
            vclock_attach(&m->clock, start, NULL);
            m->total_insns += used;
            if (used > longest)
                longest = used;
            if (used) {
                nbusy++;
                busy = i;
            }
            if (why == CPU_STOP_SHUTDOWN)
                machine_request_stop(m, MSTOP_SHUTDOWN, 0);
            else if (why == CPU_STOP_WAIT_SIPI)
                m->wait_sipi[i] = true;
        }
        if (ran)
            idle_waits = 0;
        /* A VP in MWAIT must wake when another agent writes its monitored line: another VP
         * that ran may have, so wake it (spurious wake-ups are allowed, missed ones not). */
        for (unsigned i = 0; i < m->nvcpus && nbusy; i++)
            if (cpu_mwait_state(m->vcpu[i]) && (nbusy > 1 || busy != i))
                cpu_set_halted(m->vcpu[i], false);
        if (ran && longest > 0) {
            vclock_advance_to(&m->clock, start + longest * VCLOCK_NS_PER_INSN);
        } else if (m->stop == MSTOP_NONE) {
            /* Every VP is idle: jump straight to the next event. */
            deadline = vclock_next_deadline(&m->clock);
            board_poll(m);
            bool woken = false;
            for (unsigned i = 0; i < m->nvcpus; i++)
                woken |= vp_runnable(m, i);
            if (woken)
                continue;
            if (deadline == UINT64_MAX) {
                /* Only host input can wake the guest now (a shell waiting on its console). */
                /* A guest that never drains its UART would make the wait return at once
                 * forever: after a few fruitless wake-ups it counts as halted for good. */
                if (idle_waits++ < 100 && m->cfg.serial_wait &&
                    m->cfg.serial_wait(m->cfg.serial_opaque))
                    continue;
                machine_request_stop(m, MSTOP_DEADLOCK, 0);
                break;
            }
            vclock_advance_to(&m->clock, deadline);
        }
        if (m->stop != MSTOP_NONE)
            break;
        board_poll(m);
        if (m->cfg.frame)
            m->cfg.frame(m->cfg.frame_opaque);
    }
    return m->exit_status;
}
