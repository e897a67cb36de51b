/* Hardware task switching (SDM Vol 3 7.3): far JMP/CALL to a TSS or through a task gate, IDT
 * task gates, and IRET's return through the previous-task link. 32- and 16-bit TSSs. */
#ifndef HVEMU_CPU_TASK_H
#define HVEMU_CPU_TASK_H

#include "cpu/vcpu.h"

enum task_src { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };

struct task_req {
    uint16_t sel;      /* the new task's TSS selector (GDT) */
    enum task_src src;
    uint64_t ret_eip;  /* EIP saved in the old TSS */
    uint32_t ext;      /* EXT bit (1) of error codes raised while delivering an event */
    bool has_err;      /* TASK_INT: push err_code on the new task's stack */
    uint32_t err_code;
};

/* Switch tasks to the TSS described by d (read from the GDT by the caller, who made the gate and
 * privilege checks). Returns 0 or a vector with *err. *committed tells whether the switch
 * happened: a fault after the commit point belongs to the new task and is delivered there
 * (vp->rip is then the new task's EIP). IA-32e mode never gets here (task switches #GP). */
int task_switch(struct vcpu *vp, const struct task_req *r, const uint64_t d[2], bool *committed,
                uint32_t *err);

/* IRET with EFLAGS.NT outside IA-32e mode: the previous-task link of the current TSS, checked
 * as SDM IRET's TASK-RETURN asks (#TS/#NP), then task_switch(TASK_IRET). */
int task_return(struct vcpu *vp, uint64_t ret_eip, bool *committed, uint32_t *err);

#endif
