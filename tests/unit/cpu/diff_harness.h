/* Differential-test harness: instruction-form tables, the encoder and case generator, and the
 * runner that executes each case natively and in hvemu and compares the results.
 *
 * Run: test_cpu --filter 'cpu_diff/@(alu|sse_fp)' or --filter 'cpu_fuzz/random_bytes_64bit'. Knobs:
 *   HVEMU_DIFF_SEED=n     seed (default fixed); every mismatch line names seed and case
 *   HVEMU_DIFF_CASES=n    cases per form and operand size (default 300)
 *   HVEMU_DIFF_FORM=text  only forms whose name contains text
 *   HVEMU_DIFF_CASE=k     only case k (as printed with a mismatch)
 *   HVEMU_DIFF_VERBOSE=1  print every mismatch, not the first three per form
 *   HVEMU_FUZZ_ITERS=n    fuzz iterations per mode (default 1000, capped at 70 insns each)
 *   HVEMU_FUZZ_TRACE=1    print each fuzz iteration before running it (to find a hang) */
#ifndef HVEMU_TEST_DIFF_HARNESS_H
#define HVEMU_TEST_DIFF_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "native_exec.h"
#include "types.h"

/* How operands map onto the encoding. */
enum diff_enc {
    E_RM_R,    /* ModRM: r/m = operand 1 (usually the destination), reg = operand 2 */
    E_R_RM,    /* ModRM: reg = destination, r/m = source */
    E_RM_EXT,  /* ModRM with /digit in reg: r/m only */
    E_NONE,    /* opcode only (implicit operands) */
    E_OPREG,   /* register in the opcode's low three bits */
    E_SEQ,     /* a fixed byte sequence (diff_form.seq), operands in memory at RBX */
    E_VEX_RVM, /* VEX: reg = dest, vvvv = src1, r/m = src2 (ANDN, PDEP, PEXT, MULX) */
    E_VEX_RMV, /* VEX: reg = dest, r/m = src1, vvvv = src2 (BEXTR, BZHI, SARX/SHLX/SHRX) */
    E_VEX_VM,  /* VEX: vvvv = dest, r/m = src, reg = /digit (BLSI, BLSR, BLSMSK) */
    E_VEX_RM,  /* VEX: reg = dest, r/m = src, vvvv unused (RORX) */
};

/* ib; iw/id by size (ib for 8-bit); full size (imm64); a 64-bit address in the data buffer
 * (MOV moffs); ENTER's iw, ib. */
enum diff_imm { I_NONE, I_8, I_Z, I_V, I_ADDR, I_ENTER };
enum diff_mem { M_REG, M_BOTH, M_MEM };   /* register form only, both, memory only */

/* Operand generators: biases that reach the interesting paths of a form. */
enum diff_gen {
    G_PLAIN,
    G_SHIFT,   /* count (CL or imm8) from 0, 1, size-1, size, size+1, 31, 32, 63, random */
    G_SHXD,    /* as G_SHIFT, but 16-bit counts stay <= 16 (larger ones are undefined) */
    G_DIV,     /* dividend high half 0, sign extension, or small, so most cases do not #DE */
    G_BT,      /* bit offset register small, so memory forms stay in the buffer */
    G_CMPXCHG, /* accumulator often equals the destination */
    G_STRING,  /* RSI/RDI into the buffer, small RCX, random DF, repeated data for REPE */
    G_BEXTR,   /* start/length bytes in vvvv from 0..70 */
    G_BZHI,    /* index byte in vvvv from 0..70 */
    G_STACK,   /* random stack contents (POPF-safe top), RBP near RSP for LEAVE */
    G_CMPXCHG8, /* rDX:rAX often equal to memory; 16-byte aligned three times in four */
    G_XLAT,    /* RBX points into the buffer */
    G_X87,     /* RBX -> operands A at +0, B at +0x10 (by lanes), results at +0x20, +0x30 */
    G_FPCTL,   /* as G_X87, plus x87 CW at +0x30, MXCSR at +0x34, reset MXCSR at +0x3C */
};

/* Flag rules on top of the static undefined mask (SDM per-instruction "Flags Affected"). */
enum diff_fr {
    FR_STATIC,
    FR_SHIFT,  /* SHL/SHR: count 0 none; else AF undefined, OF unless count 1, CF if count >= width */
    FR_SAR,    /* SAR: count 0 none; else AF undefined, OF unless count 1 */
    FR_ROT,    /* ROL/ROR/RCL/RCR: count 0 none; else OF unless count 1 */
    FR_SHXD,   /* SHLD/SHRD: count 0 none; else AF undefined, OF unless count 1 */
};

enum diff_cnt { C_NONE, C_CL, C_IMM, C_ONE }; /* where a shift count comes from */
enum diff_fault { FAULT_NONE, FAULT_NONCANON, FAULT_UNMAPPED };
enum { XR = 1, XM = 2 };
/* Edge integers, float/double edge values, or 80-bit extended edge values (x87). */
enum diff_lanes { L_INT, L_F32, L_F64, L_F80 };

/* RFLAGS bits compared. */
#define DF_CF 0x001u
#define DF_PF 0x004u
#define DF_AF 0x010u
#define DF_ZF 0x040u
#define DF_SF 0x080u
#define DF_DF 0x400u
#define DF_OF 0x800u
#define DF_ARITH (DF_CF | DF_PF | DF_AF | DF_ZF | DF_SF | DF_OF)

struct diff_form {
    const char *name;
    uint8_t sizes;   /* operand sizes: bit 0 = 8, 1 = 16, 2 = 32, 3 = 64 */
    uint8_t prefix;  /* mandatory/REP prefix (0x66, 0xF2, 0xF3) or 0 */
    uint8_t map;     /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A */
    uint8_t op8, op; /* opcode for 8-bit operands, for 16/32/64 */
    uint8_t enc;     /* enum diff_enc */
    uint8_t ext;     /* /digit */
    uint8_t imm;     /* enum diff_imm */
    uint8_t mem;     /* enum diff_mem */
    uint8_t gen;     /* enum diff_gen */
    uint8_t fr;      /* enum diff_fr */
    uint8_t cnt;     /* enum diff_cnt */
    uint8_t feature; /* enum native_feature the host must have */
    uint8_t vex_pp;  /* VEX.pp: 0 none, 1 66, 2 F3, 3 F2 */
    uint8_t byte_rm; /* r/m is a byte register whatever the operand size (MOVZX, CRC32, SETcc) */
    uint8_t compat;  /* runs in compatibility mode (32-bit code segment), no REX */
    uint8_t emu_xor; /* harness self-test only: hvemu runs opcode ^ emu_xor (must mismatch) */
    uint8_t fault;   /* enum diff_fault: memory operand made to fault */
    uint8_t xmm;     /* XR: ModRM.reg names an XMM register; XM: so does a register r/m */
    uint8_t lanes;   /* enum diff_lanes: how XMM registers and 16-byte memory are filled */
    uint8_t align16; /* memory operand 16-byte aligned three times in four (#GP otherwise) */
    uint8_t seq_len; /* E_SEQ */
    const uint8_t *seq;
    uint16_t undef;  /* flags the SDM leaves undefined */
};

#define S8 1u
#define S16 2u
#define S32 4u
#define S64 8u
#define SALL (S8 | S16 | S32 | S64)
#define SWDQ (S16 | S32 | S64)
#define SDQ (S32 | S64)

/* Runs every form of a family; prints per-form counts; returns the number of mismatches. */
unsigned diff_run_family(const char *family, const struct diff_form *forms, unsigned n);

/* The seed (HVEMU_DIFF_SEED, else a fixed default) and cases per form and size
 * (HVEMU_DIFF_CASES). */
uint64_t diff_seed(void);
unsigned diff_cases(void);

/* One Criterion test per family: skipped (visibly) where the host cannot run x86-64 code;
 * fails with the mismatch count, the per-form counts having been printed as [diff] lines. */
#define DIFF_FAMILY_TEST(fam, table)                                                          \
    Test(cpu_diff, fam, .timeout = 300)                                                       \
    {                                                                                         \
        if (!native_exec_supported()) {                                                       \
            printf("[diff] %s skipped: the host is not x86-64 Linux\n", #fam);               \
            cr_skip_test("differential tests need an x86-64 Linux host");                     \
        }                                                                                     \
        unsigned fails_ = diff_run_family(#fam, table, (unsigned)ARRAY_SIZE(table));          \
        cr_expect_eq(fails_, 0u, "%u hvemu/host mismatches in family %s (see [diff] lines)",  \
                     fails_, #fam);                                                           \
    }

/* Test RNG (splitmix64). */
static inline uint64_t diff_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
