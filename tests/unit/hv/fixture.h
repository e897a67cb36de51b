/* A fake machine for the Hyper-V unit tests: guest memory, a virtual clock, and host ops that
 * record every interrupt, EOI, TLB flush and stop request the hypervisor makes. */
#ifndef HVEMU_TEST_HV_FIXTURE_H
#define HVEMU_TEST_HV_FIXTURE_H

#include "hv/hyperv.h"
#include "hv/hyperv/internal.h"
#include "cpu/cpu.h"
#include "devices/vclock.h"
#include "mmu/physmem.h"

#define FAKE_MAX_EVENTS 512
#define FAKE_RAM (16ull << 20)

struct fake_inject {
    unsigned vp;
    uint8_t vector;
    bool auto_eoi;
};

struct fake_flush {
    unsigned vp;
    bool global;
    unsigned n; /* 0 = whole TLB */
    gva_t pages[64];
};

struct fake_host {
    struct physmem mem;
    struct vclock clock;
    struct hv_partition *p;
    struct fake_inject inj[FAKE_MAX_EVENTS];
    unsigned ninj;
    struct fake_flush fl[FAKE_MAX_EVENTS];
    unsigned nfl;
    unsigned eoi[HV_MAX_VPS];
    uint64_t icr[HV_MAX_VPS];
    int icr_rc;
    uint8_t tpr[HV_MAX_VPS];
    unsigned idles, yields;
    unsigned stops;
    enum hv_stop last_stop;
    struct hv_crash_report crash;
    unsigned ntrace;
    char last_trace[320];
};

/* cfg NULL: defaults. */
struct fake_host *fake_create(const struct hv_config *cfg, unsigned nr_vps);
void fake_destroy(struct fake_host *f);
struct hv_vp *fake_vp(struct fake_host *f, unsigned i);
void fake_trace_on(struct fake_host *f);
/* Moves virtual time to ns and runs due timers. */
void fake_advance(struct fake_host *f, uint64_t ns);

/* Guest-side helpers. */
uint64_t rdmsr_ok(struct fake_host *f, unsigned vp, uint32_t index);
void wrmsr_ok(struct fake_host *f, unsigned vp, uint32_t index, uint64_t value);
/* Guest OS ID set and the hypercall page at gpa. */
void fake_enable_hypercalls(struct fake_host *f, gpa_t gpa);
/* A 64-bit CPL0 register state. */
struct hv_call_regs regs64(uint64_t control, uint64_t rdx, uint64_t r8);
/* Memory-based 64-bit call; returns RAX, asserts the call completed. */
uint64_t call_slow(struct fake_host *f, unsigned vp, uint64_t control, gpa_t in, gpa_t out);
void put_u64(struct fake_host *f, gpa_t gpa, uint64_t v);
uint64_t get_u64(struct fake_host *f, gpa_t gpa);
uint32_t get_u32(struct fake_host *f, gpa_t gpa);

/* Control word fields. */
#define HC(code) ((uint64_t)(code))
#define HC_FASTBIT (1ull << 16)
#define HC_VARHEAD(n) ((uint64_t)(n) << 17)
#define HC_REP(count, start) (((uint64_t)(count) << 32) | ((uint64_t)(start) << 48))
#define STATUS(rax) ((uint16_t)((rax) & 0xFFFF))
#define REPS(rax) ((unsigned)(((rax) >> 32) & 0xFFF))

/* Guest pages the tests use. */
#define GPA_HYPERCALL 0x100000ull
#define GPA_IN        0x200000ull
#define GPA_OUT       0x201000ull
#define GPA_SIMP(vp)  (0x300000ull + (gpa_t)(vp) * 0x2000)
#define GPA_SIEFP(vp) (0x301000ull + (gpa_t)(vp) * 0x2000)

#endif
