/* Private to the differential harness (diff_values.c, diff_encode.c, diff_harness.c): the
 * data-buffer layout, one generated case, the run context, and the generators and encoder. */
#ifndef HVEMU_TEST_DIFF_CASE_H
#define HVEMU_TEST_DIFF_CASE_H

#include "diff_guest.h"
#include "diff_harness.h"

#define BUF_VA 0x10000000ull /* preferred native (and guest-virtual) address of the data buffer */
#define BUF_SIZE 0x10000u
#define CMP_SIZE 0x2000u     /* compared part of the buffer (two pages); the stack is above */
#define STACK_OFF 0xF000u
#define STK_LO (STACK_OFF - 0x200u) /* compared stack window (for completed cases only: */
#define STK_SIZE 0x400u            /* a host signal frame lands there on faults) */
#define WIN_SIZE (CMP_SIZE + STK_SIZE)
#define RFLAGS_IF 0x200u /* the host runs user code with IF=1; PUSHF must see the same */
#define MEM_LO 0x400u        /* memory operands land in [MEM_LO, MEM_LO + 0x400) */
#define STR_SRC 0x200u       /* string sources/destinations (room for DF=1 going down) */
#define STR_DST 0x900u

enum { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI };

struct diff_case {
    uint8_t code[48];
    unsigned len;
    unsigned insn_len; /* without the SETcc suffix */
    unsigned op_pos;   /* offset of the opcode byte */
    uint64_t gpr[16];
    uint64_t xmm[16][2];
    uint64_t rflags;
    unsigned size; /* bytes */
    bool mem;
    unsigned count; /* shift count as encoded (before masking) */
};

struct diff_ctx {
    struct native_exec *nx;
    struct diff_guest g;
    uint8_t *buf;
    gpa_t buf_gpa, insn_gpa;
    uint64_t buf_va, insn_va, insn_va64, insn_va32;
    gpa_t insn_gpa64, insn_gpa32;
    uint8_t before[WIN_SIZE]; /* compared windows: data area, then stack window */
    uint8_t emu_mem[WIN_SIZE];
    uint8_t after[WIN_SIZE];
    uint64_t seed;
    unsigned dumps;
    bool buf_low; /* the buffer lies below 4 GiB (32-bit addresses reach it) */
    bool split_ok; /* the code page boundary is guest-physically contiguous too */
    gpa_t split_gpa; /* guest-physical address of the code page boundary */
    uint64_t split_va;
    unsigned cur_split; /* this case's split (0: not across a page boundary) */
};

/* Edge values (diff_values.c). */
uint64_t dv_value(uint64_t *r, unsigned size);
uint32_t dv_f32(uint64_t *r);
uint64_t dv_f64(uint64_t *r);
uint64_t dv_f80_mant(uint64_t *r);
uint64_t dv_f80_se(uint64_t *r);
void dv_xmm(uint64_t *r, unsigned lanes, uint64_t out[2]);
unsigned dv_count(uint64_t *r, unsigned size, bool shxd16);

/* Little-endian helpers and masks (diff_encode.c). */
void dv_put_le(uint8_t *p, uint64_t v, unsigned n);
uint64_t dv_get_le(const uint8_t *p, unsigned n);
uint64_t dv_size_mask(unsigned size);

/* Case construction (diff_encode.c): operands, memory, encoding; the flags the SDM leaves
 * undefined for the case; the SETcc suffix that consumes the flags in the same block. */
void diff_build_case(struct diff_ctx *x, const struct diff_form *f, unsigned size, uint64_t *r,
                     struct diff_case *c);
uint32_t diff_undef_flags(const struct diff_form *f, const struct diff_case *c);
void diff_append_setcc(const struct diff_form *f, struct diff_case *c);

#endif
