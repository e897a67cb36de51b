/* The public face of the interpretive x86-64 CPU: architectural state of one virtual
 * processor, the VT-x-style exit interface through which it reaches the hypervisor and devices,
 * and the run entry point. The CPU knows nothing of devices or Hyper-V. */
#ifndef HVEMU_CPU_H
#define HVEMU_CPU_H

#include "types.h"

struct physmem;
struct vcpu;

enum exit_reason {
#define X(name, num) EXIT_REASON_##name = num,
#include "cpu/exit_reasons.def"
#undef X
};
const char *exit_reason_name(uint32_t reason);

/* An exit: raised synchronously from inside cpu_run; the handler may read and write the VP's
 * registers (cpu_state) before returning. */
struct vmexit {
    uint32_t reason;        /* EXIT_REASON_* */
    uint64_t qualification; /* as VT-x defines it for the reason (I/O: SDM Table 28-5, ...) */
    uint32_t insn_len;
    gva_t rip;              /* address of the exiting instruction */
    union {
        /* IO_INSTRUCTION: one element; for IN the handler stores data, for OUT it reads it.
         * String I/O is performed by the CPU as a sequence of such exits. */
        struct { uint16_t port; uint8_t size; bool in; uint32_t data; } io;
        /* MSR_READ: handler stores value. MSR_WRITE: value holds EDX:EAX. */
        struct { uint32_t index; uint64_t value; } msr;
        /* CR_ACCESS for CR8 (the CPU forwards TPR accesses): write=true stores value. */
        struct { uint8_t cr; bool write; uint64_t value; } cr;
    } u;
    /* Filled by the handler when it returns EXIT_FAULT. */
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
};

enum exit_action {
    EXIT_CONTINUE, /* instruction completed; the CPU advances RIP and goes on */
    EXIT_FAULT,    /* deliver exception (vector, error_code) instead of completing */
    EXIT_STOP,     /* instruction completed; cpu_run returns CPU_STOP_EXIT soon after */
    EXIT_RETRY,    /* instruction not completed and RIP unchanged: it runs again after any
                    * pending interrupt is taken (a Hyper-V rep hypercall's continuation) */
};

/* Callbacks the machine gives each VP. */
struct cpu_env {
    void *opaque;
    enum exit_action (*exit)(void *opaque, struct vcpu *vp, struct vmexit *ex);
    /* INTA: the VP accepts an external interrupt; returns its vector, or -1 if none is
     * pending any more (spurious). Called only when IF=1 and no interrupt shadow. */
    int (*intr_ack)(void *opaque, struct vcpu *vp);
};

/* Asynchronous events, set by other parts (LAPIC, machine) with cpu_raise_event(). */
enum {
    CPU_EV_INTR = 1u << 0, /* external interrupt line asserted (level: cleared by cpu_lower_event) */
    CPU_EV_NMI  = 1u << 1,
    CPU_EV_INIT = 1u << 2,
    CPU_EV_SIPI = 1u << 3, /* vector in vcpu->sipi_vector */
    CPU_EV_KICK = 1u << 4, /* leave cpu_run at the next block boundary */
    CPU_EV_SMI  = 1u << 5,
};

enum cpu_stop {
    CPU_STOP_BUDGET,   /* the instruction budget ran out */
    CPU_STOP_HALT,     /* HLT/MWAIT: vcpu->halted is set */
    CPU_STOP_EXIT,     /* an exit handler returned EXIT_STOP */
    CPU_STOP_SHUTDOWN, /* triple fault */
    CPU_STOP_KICK,     /* CPU_EV_KICK */
    CPU_STOP_WAIT_SIPI,/* after INIT, an AP waits for SIPI */
};

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };
enum {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

/* A segment register with its hidden descriptor cache. attr uses the VMX access-rights
 * layout: type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16. */
struct seg {
    uint16_t sel;
    uint64_t base;
    uint32_t limit; /* byte-granular, already scaled by G */
    uint32_t attr;
};

struct dtr {
    uint64_t base;
    uint16_t limit;
};

/* Construction and control. */
struct vcpu *cpu_create(struct physmem *pm, const struct cpu_env *env, unsigned apic_id);
void cpu_destroy(struct vcpu *vp);
void cpu_reset(struct vcpu *vp);          /* power-on/INIT state: CS:IP = F000:FFF0 */
/* The state an INIT signal leaves: as cpu_reset, but x87/SSE state, MXCSR, MTRRs, PAT, XCR0,
 * the APIC base, the TSC and CR0.CD/NW are kept (SDM Vol 3 Table 10-1). */
void cpu_reset_init(struct vcpu *vp);
/* (CPU part: a VP with apic_id != 0 is an application processor and comes out of
 * cpu_create/cpu_reset waiting for SIPI: cpu_run returns CPU_STOP_WAIT_SIPI until then.) */
enum cpu_stop cpu_run(struct vcpu *vp, uint64_t budget);

void cpu_raise_event(struct vcpu *vp, uint32_t ev);
/* The CPU_EV_* bits currently pending. */
uint32_t cpu_pending_events(const struct vcpu *vp);
void cpu_lower_event(struct vcpu *vp, uint32_t ev);

/* Retired guest instructions since creation: the virtual clock follows this. Exact whenever
 * the CPU calls out (exits, MMIO, I/O) and between cpu_run calls. */
const uint64_t *cpu_icount_ptr(const struct vcpu *vp);
uint64_t cpu_icount(const struct vcpu *vp);

/* Register access for exit handlers, loaders and tests. */
uint64_t cpu_get_gpr(const struct vcpu *vp, unsigned reg);
void cpu_set_gpr(struct vcpu *vp, unsigned reg, uint64_t v);
uint64_t cpu_get_rip(const struct vcpu *vp);
void cpu_set_rip(struct vcpu *vp, uint64_t rip);
uint64_t cpu_get_rflags(const struct vcpu *vp); /* materialises lazy flags */
void cpu_set_rflags(struct vcpu *vp, uint64_t rflags);
void cpu_get_seg(const struct vcpu *vp, unsigned seg, struct seg *out);
void cpu_set_seg(struct vcpu *vp, unsigned seg, const struct seg *s);
void cpu_get_dtr(const struct vcpu *vp, bool idt, struct dtr *out);
void cpu_set_dtr(struct vcpu *vp, bool idt, const struct dtr *d);
uint64_t cpu_get_cr(const struct vcpu *vp, unsigned cr);
void cpu_set_cr(struct vcpu *vp, unsigned cr, uint64_t v); /* loader/test use: no checks */
uint64_t cpu_get_efer(const struct vcpu *vp);
void cpu_set_efer(struct vcpu *vp, uint64_t efer);
void cpu_get_xmm(const struct vcpu *vp, unsigned reg, uint64_t out[2]);
void cpu_set_xmm(struct vcpu *vp, unsigned reg, const uint64_t in[2]);
unsigned cpu_get_cpl(const struct vcpu *vp);
bool cpu_in_long_mode(const struct vcpu *vp);  /* EFER.LMA */
bool cpu_in_64bit_mode(const struct vcpu *vp); /* LMA and CS.L */
bool cpu_is_halted(const struct vcpu *vp);
void cpu_set_halted(struct vcpu *vp, bool halted);
/* MWAIT is a hinted HLT: while halted by it, CPU_MWAIT_WAIT, or CPU_MWAIT_BREAK when ECX bit 0
 * asked that interrupts wake it even with IF=0; CPU_MWAIT_NONE otherwise. Since a write to the
 * monitored line by another agent must wake it, the machine wakes it whenever another VP ran
 * (a spurious wake-up is architecturally allowed, a missed one is not). */
enum { CPU_MWAIT_NONE, CPU_MWAIT_WAIT, CPU_MWAIT_BREAK };
unsigned cpu_mwait_state(const struct vcpu *vp);
unsigned cpu_apic_id(const struct vcpu *vp);

/* Guest-virtual accesses as the VP would make them (for hypercall emulation and tests):
 * return 0, or the #PF/#GP vector with *error filled. */
int cpu_read_virt(struct vcpu *vp, gva_t va, void *buf, size_t len, uint32_t *error);
int cpu_write_virt(struct vcpu *vp, gva_t va, const void *buf, size_t len, uint32_t *error);

/* Inject an exception as if raised by the current instruction boundary. */
void cpu_inject_exception(struct vcpu *vp, uint8_t vector, bool has_error, uint32_t error);

/* TLB maintenance requested from outside (remote flush hypercalls, map changes). */
void cpu_tlb_flush_all(struct vcpu *vp, bool include_global);
void cpu_tlb_flush_va(struct vcpu *vp, gva_t va);

/* Statistics for benchmarks and --trace. */
struct cpu_stats {
    uint64_t decode_hits, decode_misses, blocks_built, tlb_hits, tlb_misses, code_invalidations;
};
void cpu_get_stats(const struct vcpu *vp, struct cpu_stats *out);

/* Additions by the CPU part. */
/* INIT-SIPI-SIPI: deliver a Startup IPI with its vector (sets CPU_EV_SIPI). */
void cpu_raise_sipi(struct vcpu *vp, uint8_t vector);
/* The VP's TSC: retired instructions (1 insn = 1 tick, vclock.h) plus the TSC offset. */
uint64_t cpu_get_tsc(const struct vcpu *vp);
void cpu_set_tsc_offset(struct vcpu *vp, int64_t offset);
/* The CPU's own CPUID table (GenuineIntel, only implemented features) for leaf/subleaf, as an
 * EXIT_REASON_CPUID handler would fill EAX, EBX, ECX, EDX (out[0..3]). Exit handlers call it and
 * then adjust (hypervisor leaves, APIC IDs...). Without an exit callback the CPU uses it directly. */
void cpu_cpuid_default(const struct vcpu *vp, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif
