/* Differential forms: data movement and flag instructions (MOV, XCHG, XADD, CMPXCHG, CMOVcc,
 * SETcc, LEA, MOVSX/MOVZX/MOVSXD, CBW..CQO, LAHF/SAHF, CMC/CLC/STC/CLD/STD). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

/* Condition codes in encoding order (SDM Vol 2 Table B-1). */
#define CC_LIST(X)                                                                          \
    X("o", 0) X("no", 1) X("b", 2) X("ae", 3) X("e", 4) X("ne", 5) X("be", 6) X("a", 7)     \
    X("s", 8) X("ns", 9) X("p", 10) X("np", 11) X("l", 12) X("ge", 13) X("le", 14) X("g", 15)

#define CMOV_FORM(cc, k)                                                                    \
    {.name = "cmov" cc, .sizes = SWDQ, .map = 1, .op = 0x40 + (k), .enc = E_R_RM,           \
     .mem = M_BOTH},
#define SETCC_FORM(cc, k)                                                                   \
    {.name = "set" cc, .sizes = S8, .map = 1, .op8 = 0x90 + (k), .enc = E_RM_EXT,           \
     .mem = M_BOTH},

static const struct diff_form cond_forms[] = {CC_LIST(CMOV_FORM) CC_LIST(SETCC_FORM)};

static const struct diff_form move_forms[] = {
    {.name = "mov r/m,r", .sizes = SALL, .op8 = 0x88, .op = 0x89, .enc = E_RM_R, .mem = M_BOTH},
    {.name = "mov r,r/m", .sizes = SALL, .op8 = 0x8A, .op = 0x8B, .enc = E_R_RM, .mem = M_BOTH},
    {.name = "mov r/m,imm", .sizes = SALL, .op8 = 0xC6, .op = 0xC7, .enc = E_RM_EXT,
     .imm = I_Z, .mem = M_BOTH},
    {.name = "mov r,imm", .sizes = SALL, .op8 = 0xB0, .op = 0xB8, .enc = E_OPREG, .imm = I_V},
    {.name = "xchg r/m,r", .sizes = SALL, .op8 = 0x86, .op = 0x87, .enc = E_RM_R, .mem = M_BOTH},
    {.name = "xchg acc,r", .sizes = SWDQ, .op = 0x90, .enc = E_OPREG},
    {.name = "xadd r/m,r", .sizes = SALL, .map = 1, .op8 = 0xC0, .op = 0xC1, .enc = E_RM_R,
     .mem = M_BOTH},
    {.name = "cmpxchg r/m,r", .sizes = SALL, .map = 1, .op8 = 0xB0, .op = 0xB1, .enc = E_RM_R,
     .mem = M_BOTH, .gen = G_CMPXCHG},
    {.name = "lea r,m", .sizes = SWDQ, .op = 0x8D, .enc = E_R_RM, .mem = M_MEM},
    {.name = "movzx r,r/m8", .sizes = SWDQ, .map = 1, .op = 0xB6, .enc = E_R_RM, .mem = M_BOTH,
     .byte_rm = 1},
    {.name = "movzx r,r/m16", .sizes = SDQ, .map = 1, .op = 0xB7, .enc = E_R_RM, .mem = M_BOTH},
    {.name = "movsx r,r/m8", .sizes = SWDQ, .map = 1, .op = 0xBE, .enc = E_R_RM, .mem = M_BOTH,
     .byte_rm = 1},
    {.name = "movsx r,r/m16", .sizes = SDQ, .map = 1, .op = 0xBF, .enc = E_R_RM, .mem = M_BOTH},
    {.name = "movsxd r,r/m32", .sizes = SDQ, .op = 0x63, .enc = E_R_RM, .mem = M_BOTH},
    {.name = "cbw/cwde/cdqe", .sizes = SWDQ, .op = 0x98, .enc = E_NONE},
    {.name = "cwd/cdq/cqo", .sizes = SWDQ, .op = 0x99, .enc = E_NONE},
};

static const struct diff_form flag_forms[] = {
    {.name = "lahf", .sizes = S32, .op = 0x9F, .enc = E_NONE, .feature = NF_LAHF64},
    {.name = "sahf", .sizes = S32, .op = 0x9E, .enc = E_NONE, .feature = NF_LAHF64},
    {.name = "cmc", .sizes = S32, .op = 0xF5, .enc = E_NONE},
    {.name = "clc", .sizes = S32, .op = 0xF8, .enc = E_NONE},
    {.name = "stc", .sizes = S32, .op = 0xF9, .enc = E_NONE},
    {.name = "cld", .sizes = S32, .op = 0xFC, .enc = E_NONE, .gen = G_STRING},
    {.name = "std", .sizes = S32, .op = 0xFD, .enc = E_NONE},
};

DIFF_FAMILY_TEST(cond, cond_forms)
DIFF_FAMILY_TEST(move, move_forms)
DIFF_FAMILY_TEST(flagops, flag_forms)

static const struct diff_form misc_forms[] = {
    {.name = "cmpxchg8b m64", .sizes = S32, .map = 1, .op = 0xC7, .enc = E_RM_EXT, .ext = 1,
     .mem = M_MEM, .gen = G_CMPXCHG8},
    {.name = "cmpxchg16b m128", .sizes = S64, .map = 1, .op = 0xC7, .enc = E_RM_EXT, .ext = 1,
     .mem = M_MEM, .gen = G_CMPXCHG8},
    {.name = "lock cmpxchg16b m128", .sizes = S64, .prefix = 0xF0, .map = 1, .op = 0xC7,
     .enc = E_RM_EXT, .ext = 1, .mem = M_MEM, .gen = G_CMPXCHG8},
    {.name = "xlat", .sizes = S32 | S64, .op = 0xD7, .enc = E_NONE, .gen = G_XLAT},
    {.name = "mov acc,moffs64", .sizes = SALL, .op8 = 0xA0, .op = 0xA1, .enc = E_NONE,
     .imm = I_ADDR},
    {.name = "mov moffs64,acc", .sizes = SALL, .op8 = 0xA2, .op = 0xA3, .enc = E_NONE,
     .imm = I_ADDR},
    {.name = "enter iw,ib", .sizes = S16 | S64, .op = 0xC8, .enc = E_NONE, .imm = I_ENTER,
     .gen = G_STACK},
    {.name = "nop r/m", .sizes = SWDQ, .map = 1, .op = 0x1F, .enc = E_RM_EXT, .ext = 0,
     .mem = M_BOTH},
    {.name = "movnti m,r", .sizes = SDQ, .map = 1, .op = 0xC3, .enc = E_RM_R, .mem = M_MEM},
};

/* Instructions that trap, and opcodes that 64-bit mode no longer has (SDM Vol 2 Table A-2,
 * "i64"; not 62/C4/C5, which became EVEX/VEX): every case must raise the same exception on
 * both sides and change nothing. */
static const struct diff_form trap_forms[] = {
    {.name = "int3", .sizes = S32, .op = 0xCC, .enc = E_NONE},
    {.name = "int1", .sizes = S32, .op = 0xF1, .enc = E_NONE},
    {.name = "ud2", .sizes = S32, .map = 1, .op = 0x0B, .enc = E_NONE},
    {.name = "ud0 (0f ff)", .sizes = S32, .map = 1, .op = 0xFF, .enc = E_RM_R},
    {.name = "into (i64)", .sizes = S32, .op = 0xCE, .enc = E_NONE},
    {.name = "push es (i64)", .sizes = S32, .op = 0x06, .enc = E_NONE},
    {.name = "pop ds (i64)", .sizes = S32, .op = 0x1F, .enc = E_NONE},
    {.name = "daa (i64)", .sizes = S32, .op = 0x27, .enc = E_NONE},
    {.name = "aaa (i64)", .sizes = S32, .op = 0x37, .enc = E_NONE},
    {.name = "pusha (i64)", .sizes = S32, .op = 0x60, .enc = E_NONE},
    {.name = "grp1 82 (i64)", .sizes = S8, .op8 = 0x82, .enc = E_RM_EXT, .imm = I_8},
    {.name = "call far (i64)", .sizes = S32, .op = 0x9A, .enc = E_NONE, .imm = I_V},
    {.name = "aam (i64)", .sizes = S32, .op = 0xD4, .enc = E_NONE, .imm = I_8},
    {.name = "lock nop (#UD)", .sizes = S32, .prefix = 0xF0, .op = 0x90, .enc = E_NONE},
    {.name = "lock mov (#UD)", .sizes = SALL, .prefix = 0xF0, .op8 = 0x88, .op = 0x89,
     .enc = E_RM_R, .mem = M_MEM},
};

DIFF_FAMILY_TEST(misc, misc_forms)
DIFF_FAMILY_TEST(trap, trap_forms)
