/* A tiny machine for CPU unit tests: physmem + one VP + a recording cpu_env, flat 64-bit
 * (identity-mapped with 2 MiB pages), flat 32-bit or real-mode set-ups, and helpers. */
#ifndef HVEMU_TEST_CPU_HARNESS_H
#define HVEMU_TEST_CPU_HARNESS_H

#include "cpu/cpu.h"
#include "mmu/physmem.h"

#define TH_RAM (16u << 20)
#define TH_CODE 0x10000ull   /* code is loaded here */
#define TH_STACK 0x80000ull  /* initial RSP */
#define TH_DATA 0x40000ull   /* scratch data area */
#define TH_IDT 0x5000ull     /* IDT built by th_idt64 */
#define TH_GDT 0x6000ull
#define TH_HANDLER 0x7000ull /* exception handlers: one HLT per vector at TH_HANDLER + 16*vec */

struct th {
    struct physmem pm;
    struct vcpu *vp;
    struct cpu_env env;
    unsigned nexits;
    struct vmexit last;
    uint32_t in_value;          /* data returned for IN */
    uint32_t out_log[64];       /* OUT data, in order */
    unsigned nout;
    int intr_vector;            /* intr_ack result */
    enum exit_action action;    /* what the exit handler returns */
    unsigned retries;           /* return EXIT_RETRY this many times first */
    unsigned reasons[64];       /* exits seen, per reason */
    uint64_t icount_at_exit;    /* cpu_icount() seen by the last exit */
    uint64_t rip_at_exit;       /* cpu_get_rip() seen by the last exit */
};

void th_init(struct th *t);
void th_fini(struct th *t);
void th_load(struct th *t, uint64_t gpa, const void *code, size_t len);
/* 64-bit long mode, paging on (identity 0..1 GiB with 2 MiB pages), CPL 0, code at TH_CODE. */
void th_mode64(struct th *t);
/* 32-bit protected mode, flat segments, paging off. */
void th_mode32(struct th *t);
/* Real mode with CS=TH_CODE>>4 (IP 0), DS=ES=SS=0, SP 0x8000. */
void th_mode16(struct th *t);
/* IDT whose vector v handler is "hlt" at TH_HANDLER + 16*v (64-bit gates). */
void th_idt64(struct th *t);
enum cpu_stop th_run(struct th *t, uint64_t budget);
uint64_t th_rd(struct th *t, uint64_t gpa, unsigned size);
void th_wr(struct th *t, uint64_t gpa, uint64_t v, unsigned size);
/* Page tables of th_mode64 with user access allowed. */
void th_user_pages(struct th *t);
/* After an exception handled by th_idt64's handlers: the vector (from RIP), or -1. */
int th_vector(struct th *t);

#endif
