/* Table of single-program instruction cases: code, initial state, expected state. */
#ifndef HVEMU_TEST_CPU_INSN_CASES_H
#define HVEMU_TEST_CPU_INSN_CASES_H

#include <stdint.h>

#include "cpu/cpu.h"

struct case_reg { unsigned reg; uint64_t val; };
struct case_mem { uint64_t gpa; uint64_t val; unsigned size; };

struct insn_case {
    const char *name;
    unsigned mode;      /* 64, 32 or 16 */
    const char *src;    /* the assembly the bytes came from */
    const uint8_t *code;
    unsigned len;       /* code ends with HLT */
    unsigned nin;
    struct case_reg in[8];
    unsigned nout;
    struct case_reg out[8];
    uint32_t fmask, fval; /* RFLAGS bits checked */
    unsigned nmin;
    struct case_mem min[4];
    unsigned nmout;
    struct case_mem mout[4];
};

extern const struct insn_case insn_cases[];
extern const unsigned insn_case_count;

#endif
