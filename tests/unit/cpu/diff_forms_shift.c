/* Differential forms: shifts and rotates (by 1, CL, imm8) and SHLD/SHRD. Count-dependent
 * undefined flags are the FR_* rules in diff_harness.h (SDM SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR,
 * SHLD, SHRD "Flags Affected"). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

/* Group-2 operations: name, /digit, flag rule. */
#define SHIFT_LIST(X)                                                                       \
    X("rol", 0, FR_ROT) X("ror", 1, FR_ROT) X("rcl", 2, FR_ROT) X("rcr", 3, FR_ROT)         \
    X("shl", 4, FR_SHIFT) X("shr", 5, FR_SHIFT) X("sar", 7, FR_SAR)

#define SHIFT_FORMS(nm, k, rule)                                                            \
    {.name = nm " r/m,1", .sizes = SALL, .op8 = 0xD0, .op = 0xD1, .enc = E_RM_EXT,          \
     .ext = (k), .mem = M_BOTH, .gen = G_SHIFT, .fr = (rule), .cnt = C_ONE},                \
    {.name = nm " r/m,cl", .sizes = SALL, .op8 = 0xD2, .op = 0xD3, .enc = E_RM_EXT,         \
     .ext = (k), .mem = M_BOTH, .gen = G_SHIFT, .fr = (rule), .cnt = C_CL},                 \
    {.name = nm " r/m,imm8", .sizes = SALL, .op8 = 0xC0, .op = 0xC1, .enc = E_RM_EXT,       \
     .ext = (k), .imm = I_8, .mem = M_BOTH, .gen = G_SHIFT, .fr = (rule), .cnt = C_IMM},

static const struct diff_form shift_forms[] = {
    SHIFT_LIST(SHIFT_FORMS)
    {.name = "shld r/m,r,imm8", .sizes = SWDQ, .map = 1, .op = 0xA4, .enc = E_RM_R, .imm = I_8,
     .mem = M_BOTH, .gen = G_SHXD, .fr = FR_SHXD, .cnt = C_IMM},
    {.name = "shld r/m,r,cl", .sizes = SWDQ, .map = 1, .op = 0xA5, .enc = E_RM_R,
     .mem = M_BOTH, .gen = G_SHXD, .fr = FR_SHXD, .cnt = C_CL},
    {.name = "shrd r/m,r,imm8", .sizes = SWDQ, .map = 1, .op = 0xAC, .enc = E_RM_R, .imm = I_8,
     .mem = M_BOTH, .gen = G_SHXD, .fr = FR_SHXD, .cnt = C_IMM},
    {.name = "shrd r/m,r,cl", .sizes = SWDQ, .map = 1, .op = 0xAD, .enc = E_RM_R,
     .mem = M_BOTH, .gen = G_SHXD, .fr = FR_SHXD, .cnt = C_CL},
};

DIFF_FAMILY_TEST(shift, shift_forms)

/* ROL/ROR change only CF and OF: hvemu keeps them lazily on top of the flag record before them
 * (LF_ROT), so these sequences check that the other flags still come from that record, through
 * a run of rotates, and that flag readers (ADC, SETcc, PUSHF) see the mix. Random registers. */
#define ROT_SEQ(nm, und, ...)                                                               \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = G_SHIFT, .undef = (und),                \
     .seq = (const uint8_t[]){__VA_ARGS__}, .seq_len = sizeof((const uint8_t[]){__VA_ARGS__})},

static const struct diff_form rotlazy_forms[] = {
    ROT_SEQ("add; rol 1", 0, 0x01, 0xC8, 0xD1, 0xC2)
    ROT_SEQ("sub; ror 1", 0, 0x29, 0xC8, 0xD1, 0xCA)
    ROT_SEQ("shl 3; rol 1", DF_AF, 0xC1, 0xE0, 0x03, 0xD1, 0xC2)
    ROT_SEQ("sar cl; ror 1 (64)", DF_AF, 0x48, 0xD3, 0xF8, 0x48, 0xD1, 0xCA)
    ROT_SEQ("imul; ror 1", DF_SF | DF_ZF | DF_AF | DF_PF, 0x0F, 0xAF, 0xC1, 0xD1, 0xCA)
    ROT_SEQ("inc; rol 1; ror 1", 0, 0xFF, 0xC0, 0xD1, 0xC2, 0xD1, 0xCB)
    ROT_SEQ("and; rol cl", DF_OF | DF_AF, 0x21, 0xC8, 0xD3, 0xC2)
    ROT_SEQ("add; rol 1; adc", 0, 0x01, 0xC8, 0xD1, 0xC2, 0x11, 0xDE)
    ROT_SEQ("add; ror 1; setl; setc; setz", 0, 0x01, 0xC8, 0xD1, 0xCA, 0x0F, 0x9C, 0xC3, 0x0F,
            0x92, 0xC7, 0x0F, 0x94, 0xC5)
    ROT_SEQ("cmp; rol imm; inc", DF_OF, 0x39, 0xC8, 0xC1, 0xC2, 0x07, 0xFF, 0xC6)
    ROT_SEQ("add; rol 1 (byte); sbb", 0, 0x01, 0xC8, 0xD0, 0xC2, 0x19, 0xDE)
};

DIFF_FAMILY_TEST(rotlazy, rotlazy_forms)
