/* The Hyper-V ("Hv#1", TLFS) guest interface: partition and VP objects, and the entry points the
 * VM-exit dispatcher calls for CPUID, RDMSR/WRMSR and VMCALL. Everything outside the
 * hypervisor that it needs (memory, clock, local APICs, TLBs, machine stop) comes in through
 * struct hv_host_ops, so this part depends on no other code being finished. */
#ifndef HVEMU_HYPERV_H
#define HVEMU_HYPERV_H

#include "types.h"

struct physmem;
struct vclock;
struct vcpu;
struct hv_partition;
struct hv_vp;

/* ---- Configuration: one bool per enlightenment, like QEMU's hv-* flags. ---- */

/* X(name, field, default, what it exposes). The name is what --hv accepts. */
#define HV_CONFIG_FLAGS(X)                                                                      \
    X("relaxed", relaxed, true, "relaxed timing hint (0x40000004.EAX[5])")                       \
    X("vapic", vapic, true, "APIC MSRs EOI/ICR/TPR (EAX[4]) and the APIC-access hint (hint[3])") \
    X("time", time, true, "reference counter (EAX[1]) and reference TSC page (EAX[9])")          \
    X("runtime", runtime, true, "VP runtime MSR (EAX[0])")                                      \
    X("synic", synic, true, "SynIC MSRs (EAX[2]), PostMessage/SignalEvent (EBX[4,5])")           \
    X("stimer", stimer, true, "synthetic timers (EAX[3]); message mode needs synic")             \
    X("stimer-direct", stimer_direct, true, "direct-mode synthetic timers (EDX[19])")            \
    X("reset", reset, true, "reset MSR (EAX[7])")                                               \
    X("frequencies", frequencies, true, "TSC/APIC frequency MSRs (EAX[11], EDX[8])")             \
    X("crash", crash, true, "guest crash MSRs (EDX[10])")                                       \
    X("tlbflush", tlbflush, true, "remote TLB flush hypercalls (hint[2])")                       \
    X("ipi", ipi, true, "synthetic cluster IPI hypercalls (hint[10])")                           \
    X("ex-masks", ex_masks, true, "sparse VP sets, the Ex flush/IPI calls (hint[11])")           \
    X("idle", idle, true, "guest idle MSR (EAX[10])")                                           \
    X("xmm-input", xmm_input, true, "XMM fast hypercall input (EDX[4])")                         \
    X("tsc-invariant", tsc_invariant, false, "TSC invariant control MSR (EAX[15])")              \
    X("ext-calls", ext_calls, false, "extended hypercalls, 0x8001 (EBX[20])")                    \
    X("deprecate-autoeoi", deprecate_autoeoi, true, "deprecate AutoEOI hint (hint[9]): guests EOI SINTs themselves")

struct hv_config {
    bool enabled; /* false: no hypervisor at all (--hv off) */
#define HV_CFG_FIELD(name, field, def, doc) bool field;
    HV_CONFIG_FLAGS(HV_CFG_FIELD)
#undef HV_CFG_FIELD
    uint32_t spin_retries; /* 0x40000004.EBX; 0xFFFFFFFF = never notify (disables call 0x08) */
    unsigned phys_bits;    /* guest MAXPHYADDR: overlay GPFNs beyond it are #GP */
    uint64_t apic_hz;      /* local APIC timer frequency reported by MSR 0x40000023 */
    /* Rep elements one VMCALL exit processes before returning HV_CALL_CONTINUE; 0 = finish
     * every rep call in one exit (at most 512 elements fit a page, and the TLFS allows it). */
    unsigned rep_batch;
    char vendor[13];       /* 0x40000000.EBX:ECX:EDX, "Microsoft Hv" */
    uint32_t build, version, service_pack, branch; /* leaf 0x40000002 */
};

/* Defaults: enabled, every flag at its default. */
void hv_config_default(struct hv_config *cfg);
/* Parses "on", "off", or a comma list of flag names, each optionally prefixed "no-" (or "-")
 * to clear it, "+" to set it, applied to the current contents; "all"/"none" set or clear all
 * flags. Returns 0, or -1 with the offending word in err. */
int hv_config_parse(struct hv_config *cfg, const char *spec, char *err, size_t errlen);
/* The flag names and descriptions, for --help. Returns the number of flags; i < n gives them. */
unsigned hv_config_flag_count(void);
const char *hv_config_flag_name(unsigned i);
const char *hv_config_flag_doc(unsigned i);

/* ---- What the hypervisor needs from the machine. ---- */

enum hv_stop {
    HV_STOP_RESET, /* the guest wrote 1 to the reset MSR */
    HV_STOP_CRASH, /* the guest wrote CRASH_CTL with CrashNotify */
};

struct hv_crash_report {
    uint64_t p[5];   /* CRASH_P0..P4 */
    uint64_t ctl;    /* the value written to CRASH_CTL */
    char msg[4097];  /* with CrashMessage: P4 bytes read from GPA P3, NUL-terminated */
    uint32_t msg_len;
};

struct hv_host_ops {
    void *opaque;
    /* Deliver a fixed, edge-triggered interrupt to the VP's local APIC. auto_eoi: the SINT
     * has AutoEOI set, so the APIC must not set the ISR bit for it (TLFS SINTx.AutoEOI). Also
     * used for synthetic cluster IPIs and direct-mode stimers (auto_eoi = false). */
    void (*inject)(void *opaque, unsigned vp, uint8_t vector, bool auto_eoi);
    /* The APIC registers behind MSRs 0x40000070-72. apic_icr_write returns 0, or -1 for #GP. */
    void (*apic_eoi)(void *opaque, unsigned vp);
    int (*apic_icr_write)(void *opaque, unsigned vp, uint64_t icr);
    uint64_t (*apic_icr_read)(void *opaque, unsigned vp);
    void (*apic_tpr_write)(void *opaque, unsigned vp, uint8_t tpr);
    uint8_t (*apic_tpr_read)(void *opaque, unsigned vp);
    /* Invalidate translations on VP vp before the hypercall returns. n == 0: the whole TLB
     * (global entries too when include_global); else the n page addresses in pages[]. */
    void (*flush_tlb)(void *opaque, unsigned vp, bool include_global, const gva_t *pages,
                      unsigned n);
    /* GUEST_IDLE read: put the VP in a halt that ANY pending interrupt ends, even with
     * RFLAGS.IF = 0 (the interrupt then stays pending); RDMSR completes normally. */
    void (*idle)(void *opaque, unsigned vp);
    /* HvNotifyLongSpinWait: a hint that another VP should run. May be NULL. */
    void (*yield)(void *opaque, unsigned vp);
    /* Machine reset or guest crash. crash is non-NULL for HV_STOP_CRASH only. */
    void (*request_stop)(void *opaque, enum hv_stop why, const struct hv_crash_report *crash);
    /* VP_RUNTIME source in virtual ns; NULL: the partition's reference time. */
    uint64_t (*vp_runtime_ns)(void *opaque, unsigned vp);
};

/* Trace hook: one line per synthetic MSR access, hypercall and SynIC delivery. Formatting is
 * skipped entirely while fn is NULL. */
struct hv_trace {
    void (*fn)(void *opaque, const char *line);
    void *opaque;
};

/* ---- Partition and VPs. ---- */

/* nr_vps VPs with VP index 0..nr_vps-1 (the VP index equals the APIC id). mem and clock must
 * outlive the partition. Returns NULL on allocation failure or nr_vps out of 1..HV_MAX_VPS. */
#define HV_MAX_VPS 256
struct hv_partition *hv_partition_create(const struct hv_config *cfg, const struct hv_host_ops *ops,
                                         struct physmem *mem, struct vclock *clock, unsigned nr_vps);
void hv_partition_destroy(struct hv_partition *p);
/* Partition reset (machine reset): every synthetic MSR back to its reset value, overlays
 * unmapped, timers stopped, queued messages dropped. */
void hv_partition_reset(struct hv_partition *p);
struct hv_vp *hv_partition_vp(struct hv_partition *p, unsigned vp_index);
unsigned hv_partition_nr_vps(const struct hv_partition *p);
const struct hv_config *hv_partition_config(const struct hv_partition *p);
void hv_set_trace(struct hv_partition *p, const struct hv_trace *t);
unsigned hv_vp_index(const struct hv_vp *vp);

/* ---- Exit-dispatcher entry points. ---- */

/* CPUID leaves 0x40000000-0x4000FFFF: returns true and fills out[] (EAX,EBX,ECX,EDX) when the
 * hypervisor is enabled; false when it is off (the CPU's own answer stands). */
bool hv_cpuid(struct hv_partition *p, struct hv_vp *vp, uint32_t leaf, uint32_t subleaf,
              uint32_t out[4]);
/* Adjusts the CPU's answer for a base leaf: CPUID.1:ECX[31] (hypervisor present) and, after
 * the guest sets TSC_INVARIANT_CONTROL, CPUID.80000007:EDX[8]. Call it for every leaf. */
void hv_cpuid_adjust_base(struct hv_partition *p, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* Synthetic MSRs. Return 0 handled, 1 not a hypervisor MSR (the caller handles it), -1 #GP. */
int hv_msr_read(struct hv_partition *p, struct hv_vp *vp, uint32_t index, uint64_t *value);
int hv_msr_write(struct hv_partition *p, struct hv_vp *vp, uint32_t index, uint64_t value);

/* Registers a hypercall reads and writes: the VP's state at the VMCALL. gpr[] is indexed by
 * REG_RAX.. REG_R15 (cpu.h order). */
struct hv_call_regs {
    uint64_t gpr[16];
    uint64_t xmm[6][2];
    unsigned cpl;
    bool pe;  /* CR0.PE */
    bool v86; /* RFLAGS.VM */
    bool lma; /* EFER.LMA */
    bool cs_l;
};

enum hv_call_action {
    HV_CALL_DONE,     /* result written (RAX, or EDX:EAX); advance RIP past the VMCALL */
    HV_CALL_CONTINUE, /* rep call not finished: the input value (RCX, or EDX:EAX) now holds the
                       * new rep start index; do NOT advance RIP, so the VMCALL runs again
                       * (TLFS continuation); pending interrupts are taken first */
    HV_CALL_UD,       /* raise #UD, nothing written: CPL > 0, real or V86 mode, no hypercall
                       * page, or hypervisor off */
};
/* Implements the whole hypercall ABI. Only gpr[REG_RAX], gpr[REG_RCX], gpr[REG_RDX] may change
 * (the 64-bit convention writes RAX and, on continuation, RCX; the 32-bit one EDX:EAX). */
enum hv_call_action hv_hypercall(struct hv_partition *p, struct hv_vp *vp, struct hv_call_regs *r);
/* Adapter over cpu.h (regs_cpu.c): snapshot the VP's registers, run hv_hypercall, write back
 * RAX/RCX/RDX. The caller advances RIP only for HV_CALL_DONE and injects #UD for HV_CALL_UD. */
enum hv_call_action hv_hypercall_cpu(struct hv_partition *p, struct hv_vp *vp, struct vcpu *cpu);

/* The machine reports a VP's TSC offset against virtual time whenever the guest moves it
 * (IA32_TSC writes): the reference TSC page follows, or is marked invalid when VPs differ. */
void hv_set_tsc_offset(struct hv_partition *p, unsigned vp, int64_t offset);

/* The local APIC calls this on every EOI (MMIO, x2APIC MSR or EOI MSR), so SynIC can retry a
 * message delivery that waits on that vector (TLFS: rescan on EOI). */
void hv_apic_eoi_notify(struct hv_partition *p, struct hv_vp *vp, uint8_t vector);

/* VP-assist EOI avoidance (TLFS "EOI assist"). When the APIC delivers an edge interrupt whose
 * EOI has no side effect (nothing else in ISR, nothing higher in IRR, not level-triggered), it
 * may call hv_apic_assist_offer: if the VP assist page is enabled the NoEoiRequired bit is set
 * and true is returned. Before delivering any other interrupt, and at least at the next exit,
 * the APIC calls hv_apic_assist_collect: it clears the bit if the guest left it set and
 * returns true if the guest consumed it (the APIC must then perform that EOI itself). */
bool hv_apic_assist_offer(struct hv_partition *p, struct hv_vp *vp);
bool hv_apic_assist_collect(struct hv_partition *p, struct hv_vp *vp);

/* ---- Host-side message ports (VMBus-style endpoints inside hvemu). ---- */

enum hv_port_type { HV_PORT_MESSAGE = 1, HV_PORT_EVENT = 2 };

/* A connection id the guest can post to (message port) or signal (event port). Without host
 * callbacks it loops back into the partition: messages are queued on SINT sint of target_vp,
 * events set flag (base_flag + n) in that VP's SIEF slot for sint. With a host callback the
 * guest's message/event goes to hvemu instead and the callback's return value (an HV_STATUS)
 * is the hypercall's status. */
struct hv_port_desc {
    enum hv_port_type type;
    uint32_t target_vp;
    uint8_t sint;        /* 0-15 */
    uint16_t base_flag;  /* event ports: flags base_flag .. base_flag+flag_count-1 */
    uint16_t flag_count;
    uint16_t (*host_message)(void *opaque, uint32_t connection_id, unsigned from_vp,
                             uint32_t type, const void *payload, uint32_t len);
    uint16_t (*host_event)(void *opaque, uint32_t connection_id, unsigned from_vp, uint16_t flag);
    void *host_opaque;
};
/* Returns 0, or -1 (id in use, id > 24 bits, bad SINT/VP/flag range, table full). */
int hv_port_create(struct hv_partition *p, uint32_t connection_id, const struct hv_port_desc *d);
void hv_port_destroy(struct hv_partition *p, uint32_t connection_id);
/* Host → guest: queue a message on (vp, sint) (type != 0, bit 31 clear or set: the host may send
 * hypervisor message types). Returns an HV_STATUS: 0, INVALID_PARAMETER (type 0, len > 240,
 * bad vp/sint), INVALID_SYNIC_STATE (SynIC or SIMP disabled), INSUFFICIENT_BUFFERS. */
uint16_t hv_post_message_to_guest(struct hv_partition *p, unsigned vp, unsigned sint, uint32_t type,
                                  const void *payload, uint32_t len);
/* Host → guest: set event flag `flag` of SINT sint on VP vp (interrupt on a 0→1 change). */
uint16_t hv_signal_event_to_guest(struct hv_partition *p, unsigned vp, unsigned sint, uint16_t flag);

/* Names for traces and tests, from the X-macro tables (NULL if unknown). */
const char *hv_msr_name(uint32_t index);
const char *hv_call_name(uint16_t code);
const char *hv_status_name(uint16_t status);

#endif
