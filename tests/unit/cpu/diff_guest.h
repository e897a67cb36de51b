/* Emulator side of the differential and fuzz tests: a small guest (GDT, IDT whose every vector
 * ends in its own HLT, 4-level paging with 2 MiB pages) built only through the public CPU API. */
#ifndef HVEMU_TEST_DIFF_GUEST_H
#define HVEMU_TEST_DIFF_GUEST_H

#include "cpu/cpu.h"
#include "mmu/physmem.h"

/* Guest-physical layout (identity-mapped low 2 MiB). */
#define DG_GDT 0x1000u
#define DG_IDT64 0x2000u
#define DG_IDT32 0x3000u
#define DG_STUBS 0x4000u    /* 256 HLTs: vector v ends with RIP = DG_STUBS + v + 1 */
#define DG_PT_POOL 0x10000u /* 16 page tables */
#define DG_LOW_END 0x200000u
#define DG_RAM_SIZE (16u << 20)
#define DG_SEL_CODE64 0x08
#define DG_SEL_DATA 0x10
#define DG_SEL_CODE32 0x18
#define DG_REAL_CS 0x1000 /* real-mode code segment: base 0x10000 */

struct diff_guest {
    struct physmem pm;
    struct vcpu *vp;
    struct cpu_env env;
    bool long_mode;
    unsigned pt_used;
    gpa_t next_region;                  /* next free 2 MiB guest-physical region */
    uint64_t mapped_va[6];              /* 2 MiB virtual regions mapped so far */
    gpa_t mapped_gpa[6];
    unsigned nmapped;
    uint64_t exits, hlt_exits;
    bool compat;       /* long mode with a 32-bit code segment (dg_load) */
    bool real;         /* real mode, CS = DG_REAL_CS (dg_load; built with long_mode false) */
    bool sys_real;
    bool hlt_continue;
    bool sys_valid;    /* control registers/segments as dg_load sets them (cleared by a fault) */
    bool sys_compat;   /* the compat value sys_valid refers to */ /* fuzzing: every exit, HLT included, returns EXIT_CONTINUE */
};

/* Builds the guest; long_mode selects 64-bit mode with paging, else 32-bit protected mode
 * without paging. Returns 0 or -1. */
int dg_init(struct diff_guest *g, bool long_mode);
void dg_destroy(struct diff_guest *g);

/* Maps the 2 MiB virtual region holding va (long mode only); returns the gpa of va, or
 * UINT64_MAX when out of guest RAM/tables. Mapping the same region twice reuses it. */
gpa_t dg_map_va(struct diff_guest *g, uint64_t va);

/* Loads the given GPRs/RFLAGS/RIP, and control registers, segments and descriptor tables
 * unless they are known unchanged since the last load (each reload flushes the TLB). */
void dg_load(struct diff_guest *g, const uint64_t gpr[16], uint64_t rflags, uint64_t rip);
void dg_load_xmm(struct diff_guest *g, const uint64_t xmm[16][2]);

struct dg_result {
    enum cpu_stop stop;
    int vector;       /* exception taken (RIP landed in a stub), else -1 */
    bool halted;      /* stopped at a HLT */
    uint64_t gpr[16];
    uint64_t xmm[16][2];
    uint64_t rflags;
    uint64_t rip;
    uint64_t cr2;
    uint64_t icount;  /* instructions retired by this run */
};

/* Runs until HLT, an exception stub, or max_calls calls of cpu_run(budget). */
void dg_run(struct diff_guest *g, uint64_t budget, unsigned max_calls, struct dg_result *out);

#endif
