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
