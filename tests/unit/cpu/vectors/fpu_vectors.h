/* Host-independent FPU/SIMD vectors: the layout shared by the generator
 * (test_fpu_vectors_gen.c, x86-64 hosts), the committed tables (vectors/<family>.inc) and the
 * table-driven test (test_fpu_vectors.c, every host).
 *
 * A case runs a short code sequence with RBX pointing at an 80-byte data block. The state
 * compared is 18 quadwords: the block (q0-q9), XMM0 (q10-11), XMM1 (q12-13), RAX, RCX, RDX
 * (q14-16) and the arithmetic flags (q17). Before the code runs, XMM0 = q0:q1, XMM1 = q2:q3,
 * RAX = q4, RCX = q2, RDX = q5, RFLAGS = 0x202, other registers 0. q8 holds the control
 * input (MXCSR in its low half for SSE forms, FCW for x87 forms), q9 the STMXCSR output and
 * the reset MXCSR (1F80H at byte 0x4C), q7 the same for the fpctl forms (at 0x3C). */
#ifndef HVEMU_TEST_FPU_VECTORS_H
#define HVEMU_TEST_FPU_VECTORS_H

#include <stdint.h>

#include "../diff_harness.h"

#define FV_MEM_QWORDS 10
#define FV_QWORDS 18
#define FV_Q_XMM0 10
#define FV_Q_XMM1 12
#define FV_Q_RAX 14
#define FV_Q_RCX 15
#define FV_Q_RDX 16
#define FV_Q_FLAGS 17
#define FV_FLAGS_MASK 0x8D5u /* CF PF AF ZF SF OF */
#define FV_NO_IMM 0xFF
#define FV_NO_VECTOR 0xFF

/* One form: code for the register and memory variants (hex; the memory one empty when the
 * form has none), where the case's imm8 goes, which quadwords each case stores as input and
 * as output, and the cases: per case 1 byte flags (bit 0: memory variant), 1 byte imm8, 1
 * byte exception vector (FF: none), then the input and output quadwords, little-endian, all
 * in hex. On an exception only q0-q9 (memory) are compared. */
struct fv_form {
    const char *family, *name;
    const char *code_reg, *code_mem;
    uint8_t imm_reg, imm_mem; /* offset of the imm8 in each variant, FV_NO_IMM: none */
    uint8_t tol; /* 0: bit for bit; n: x87 results at +0x20/+0x30 within n ulps (transcendentals) */
    uint32_t in_mask, out_mask;
    unsigned ncases;
    const char *cases;
};

/* How the generator wraps a family's forms. */
enum fv_kind {
    FV_X87,   /* x87 sequences: FLDCW [rbx+0x40] after the leading FNINIT, FNINIT appended */
    FV_SEQ,   /* other sequences: FNINIT prepended, otherwise as they are */
    FV_INSN,  /* one SSE instruction: LDMXCSR [rbx+0x40]; insn; STMXCSR [rbx+0x48]; LDMXCSR [rbx+0x4C] */
};

struct fv_family {
    const char *name;
    const struct diff_form *forms;
    unsigned n;
    uint8_t kind; /* enum fv_kind for E_SEQ forms; E_* forms are always FV_INSN */
};

/* The emulator side (test_fpu_vectors.c): a test guest that runs one case at a time. */
struct fv_emu;
struct fv_emu *fv_emu_create(void);
void fv_emu_destroy(struct fv_emu *e);
/* The state before a case where the case stores nothing (zeros, reset MXCSR values). */
void fv_defaults(uint64_t q[FV_QWORDS]);
/* Runs code (a HLT is appended) from in[]; out[] receives the state. Returns the exception
 * vector, -1 when the HLT was reached, -2 when neither happened. */
int fv_emu_run(struct fv_emu *e, const uint8_t *code, unsigned len, const uint64_t in[FV_QWORDS],
               uint64_t out[FV_QWORDS]);
/* The state a case starts from, as the 18 compared quadwords. */
void fv_initial(const uint64_t in[FV_QWORDS], uint64_t st[FV_QWORDS]);
/* -1 when hvemu's result (vector ev, state eo) matches the expected one, else the first
 * differing quadword (or FV_QWORDS for the vector). With tol, the 80-bit results at +0x20 and
 * +0x30 may be tol ulps apart and the status word in AX may differ in C1, PE and UE (the
 * host's own error bound: test_softfloat_host_trans.c). */
int fv_compare(uint8_t vec, const uint64_t want[FV_QWORDS], int ev, const uint64_t eo[FV_QWORDS],
               unsigned tol);

#define FV_EXPORT(fam, table, k)                                                            \
    const struct fv_family fv_family_##fam = {#fam, table, (unsigned)ARRAY_SIZE(table), k};

#endif
