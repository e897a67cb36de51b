/* Private state of the Hyper-V interface: the partition and VP objects and the functions the
 * files of src/hv/hyperv share. Nothing outside this folder (but its tests) includes it. */
#ifndef HVEMU_HV_INTERNAL_H
#define HVEMU_HV_INTERNAL_H

#include "hv/hyperv.h"
#include "hv/hyperv/tlfs.h"
#include "devices/vclock.h"

/* Pseudo feature for HvNotifyLongSpinWait: advertised when 0x40000004.EBX asks for notifies. */
#define HVF_SPIN 254

/* Messages a (VP, SINT) queue holds: the TLFS gives each port 16 message buffers. */
#define HV_MSG_QUEUE_LEN 16
#define HV_MAX_PORTS 64

struct hv_msg_queue {
    uint8_t msg[HV_MSG_QUEUE_LEN][HV_MESSAGE_SIZE];
    unsigned head, count;
};

struct hv_stimer {
    struct hv_vp *vp;
    unsigned index;
    uint64_t config, count;
    uint64_t exp_ref;    /* scheduled expiration, reference time */
    bool msg_pending;    /* its one message buffer waits for a free SIM slot */
    uint64_t msg_exp;    /* ExpirationTime of that message */
    struct vtimer timer;
};

struct hv_vp {
    struct hv_partition *p;
    unsigned index;
    int64_t tsc_offset; /* this VP's TSC minus virtual ns (the guest wrote IA32_TSC) */
    uint64_t scontrol, siefp, simp;
    uint64_t sint[HV_SINT_COUNT];
    uint8_t *simp_page, *siefp_page; /* overlay backing, 4 KiB each */
    gpa_t simp_gpa, siefp_gpa;       /* where mapped, or HV_UNMAPPED */
    struct hv_msg_queue *queue[HV_SINT_COUNT]; /* allocated on first use */
    struct hv_stimer stimer[HV_STIMER_COUNT];
    uint64_t vp_assist;
    bool assist_armed;
};

struct hv_port {
    bool used;
    uint32_t id;
    struct hv_port_desc d;
};

struct hv_partition {
    struct hv_config cfg;
    struct hv_host_ops ops;
    struct physmem *mem;
    struct vclock *clock;
    struct hv_trace trace;
    /* CPUID words derived once from cfg; every access rule reads these. */
    uint64_t priv;   /* 0x40000003 EBX:EAX */
    uint32_t misc;   /* 0x40000003 EDX */
    uint32_t hints;  /* 0x40000004 EAX */

    uint64_t guest_os_id;
    uint64_t hypercall;
    uint8_t *hypercall_page;
    gpa_t hypercall_gpa;
    uint64_t reference_tsc;
    uint8_t *tsc_page;
    gpa_t tsc_gpa;
    uint32_t tsc_sequence;
    uint64_t last_ref; /* keeps TIME_REF_COUNT monotonic across VPs' slices */
    uint64_t crash_p[5];
    uint64_t crash_ctl;
    uint64_t tsc_invariant;
    struct hv_port ports[HV_MAX_PORTS];

    unsigned nr_vps;
    struct hv_vp *vps;
};

#define HV_UNMAPPED UINT64_MAX

/* partition.c */
bool hv_has(const struct hv_partition *p, unsigned feature);
uint64_t hv_ref_now(const struct hv_partition *p);
void hv_tracef(struct hv_partition *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
#define HV_TRACE(p, ...)                                                                       \
    do {                                                                                       \
        if (unlikely((p)->trace.fn != NULL))                                                   \
            hv_tracef((p), __VA_ARGS__);                                                       \
    } while (0)

/* overlay.c: map/unmap a 4 KiB overlay page for a "bit 0 enable, 63:12 GPFN" MSR value.
 * Returns 0, or -1 (#GP) if the GPFN is beyond MAXPHYADDR, is taken by another overlay or
 * device, or the map is full; on failure nothing changes. */
/* readonly: guest writes fault (#GP, TLFS 3.13 for the hypercall page) and never land. */
int hv_overlay_update(struct hv_partition *p, gpa_t *mapped, uint8_t *page, uint64_t msr,
                      const char *name, bool readonly);
void hv_overlay_unmap(struct hv_partition *p, gpa_t *mapped);
bool hv_gpa_valid(const struct hv_partition *p, gpa_t gpa);

/* reftime.c */
void hv_tsc_page_fill(struct hv_partition *p);
/* TscScale for the fixed virtual TSC (VCLOCK_TSC_HZ): ceil(2^64 * 10^7 / f). */
uint64_t hv_tsc_scale(void);

/* synic.c */
uint16_t hv_synic_queue(struct hv_vp *vp, unsigned sint, const uint8_t msg[HV_MESSAGE_SIZE]);
uint16_t hv_synic_set_event(struct hv_vp *vp, unsigned sint, unsigned flag);
void hv_synic_scan(struct hv_vp *vp, unsigned sint);
void hv_synic_scan_all(struct hv_vp *vp);
bool hv_synic_usable(const struct hv_vp *vp);
void hv_synic_reset(struct hv_vp *vp);
void hv_synic_destroy(struct hv_vp *vp);

/* stimer.c */
void hv_stimer_init(struct hv_vp *vp);
int hv_stimer_config_write(struct hv_vp *vp, unsigned n, uint64_t value);
void hv_stimer_count_write(struct hv_vp *vp, unsigned n, uint64_t value);
void hv_stimer_stop(struct hv_vp *vp);

/* ports.c */
struct hv_port *hv_port_find(struct hv_partition *p, uint32_t id);

/* hypercall.c: what a hypercall handler sees, after the dispatcher has checked the generic
 * rules. Input is the fixed header, then varhead qwords of variable header, then rep_count
 * elements of the table's rep_in bytes each. */
struct hv_call {
    struct hv_partition *p;
    struct hv_vp *vp;
    bool fast;
    unsigned varhead;                      /* variable header size in qwords */
    unsigned rep_count, rep_start, rep_end; /* this exit processes [rep_start, rep_end) */
    unsigned reps_done;                    /* rep handlers: first element not completed */
    const uint8_t *in;
    size_t in_fixed, in_len;
    uint8_t *out;
    size_t out_len;
};
const uint8_t *hv_call_elem(const struct hv_call *c, unsigned i, size_t elem_size);

/* hc_flush_ipi.c, hc_messages.c */
uint16_t hc_flush_space(struct hv_call *c);
uint16_t hc_flush_list(struct hv_call *c);
uint16_t hc_flush_space_ex(struct hv_call *c);
uint16_t hc_flush_list_ex(struct hv_call *c);
uint16_t hc_send_ipi(struct hv_call *c);
uint16_t hc_send_ipi_ex(struct hv_call *c);
uint16_t hc_notify_long_spin_wait(struct hv_call *c);
uint16_t hc_post_message(struct hv_call *c);
uint16_t hc_signal_event(struct hv_call *c);
uint16_t hc_ext_query_capabilities(struct hv_call *c);

/* msrs.c */
uint64_t hv_msr_reset_value(uint32_t index); /* UINT64_MAX: none */
void hv_msrs_reset(struct hv_partition *p);

#endif
