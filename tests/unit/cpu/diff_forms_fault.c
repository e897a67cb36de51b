/* Differential forms that fault: memory operands at non-canonical addresses (#GP, or #SS
 * when the base is RBP) and at canonical addresses neither side maps (#PF, CR2 compared
 * with the host's fault address). Registers and flags must be left as they were. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

#define FAULT_FORMS(tag, kind)                                                              \
    {.name = "add m,r " tag, .sizes = SALL, .op8 = 0x00, .op = 0x01, .enc = E_RM_R,         \
     .mem = M_MEM, .fault = (kind)},                                                        \
    {.name = "mov r,m " tag, .sizes = SALL, .op8 = 0x8A, .op = 0x8B, .enc = E_R_RM,         \
     .mem = M_MEM, .fault = (kind)},                                                        \
    {.name = "mov m,imm " tag, .sizes = SALL, .op8 = 0xC6, .op = 0xC7, .enc = E_RM_EXT,     \
     .imm = I_Z, .mem = M_MEM, .fault = (kind)},                                            \
    {.name = "inc m " tag, .sizes = SALL, .op8 = 0xFE, .op = 0xFF, .enc = E_RM_EXT,         \
     .mem = M_MEM, .fault = (kind)},                                                        \
    {.name = "bt m,r " tag, .sizes = SWDQ, .map = 1, .op = 0xA3, .enc = E_RM_R,             \
     .mem = M_MEM, .gen = G_BT, .fault = (kind), .undef = DF_OF | DF_SF | DF_AF | DF_PF},   \
    {.name = "cmpxchg m,r " tag, .sizes = SALL, .map = 1, .op8 = 0xB0, .op = 0xB1,          \
     .enc = E_RM_R, .mem = M_MEM, .gen = G_CMPXCHG, .fault = (kind)},

static const struct diff_form fault_forms[] = {
    FAULT_FORMS("(non-canonical)", FAULT_NONCANON)
    FAULT_FORMS("(unmapped)", FAULT_UNMAPPED)
};

DIFF_FAMILY_TEST(fault, fault_forms)
