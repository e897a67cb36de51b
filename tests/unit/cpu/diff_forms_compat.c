/* Differential forms in compatibility mode (32-bit code): the BCD adjusts, one-byte INC/DEC,
 * PUSHA/POPA, INTO and BOUND that 64-bit mode lacks, plus a few forms to check 32-bit
 * decoding and stack width. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

static const struct diff_form compat_forms[] = {
    {.name = "daa", .sizes = S32, .op = 0x27, .enc = E_NONE, .compat = 1, .undef = DF_OF},
    {.name = "das", .sizes = S32, .op = 0x2F, .enc = E_NONE, .compat = 1, .undef = DF_OF},
    {.name = "aaa", .sizes = S32, .op = 0x37, .enc = E_NONE, .compat = 1,
     .undef = DF_OF | DF_SF | DF_ZF | DF_PF},
    {.name = "aas", .sizes = S32, .op = 0x3F, .enc = E_NONE, .compat = 1,
     .undef = DF_OF | DF_SF | DF_ZF | DF_PF},
    {.name = "aam imm8", .sizes = S32, .op = 0xD4, .enc = E_NONE, .imm = I_8, .compat = 1,
     .undef = DF_OF | DF_AF | DF_CF},
    {.name = "aad imm8", .sizes = S32, .op = 0xD5, .enc = E_NONE, .imm = I_8, .compat = 1,
     .undef = DF_OF | DF_AF | DF_CF},
    {.name = "inc r (40+r)", .sizes = S16 | S32, .op = 0x40, .enc = E_OPREG, .compat = 1},
    {.name = "dec r (48+r)", .sizes = S16 | S32, .op = 0x48, .enc = E_OPREG, .compat = 1},
    {.name = "add r/m,r (32-bit)", .sizes = S8 | S16 | S32, .op8 = 0x00, .op = 0x01,
     .enc = E_RM_R, .mem = M_BOTH, .compat = 1},
    {.name = "sbb r,r/m (32-bit)", .sizes = S8 | S16 | S32, .op8 = 0x1A, .op = 0x1B,
     .enc = E_R_RM, .mem = M_BOTH, .compat = 1},
    {.name = "imul r,r/m (32-bit)", .sizes = S16 | S32, .map = 1, .op = 0xAF, .enc = E_R_RM,
     .mem = M_BOTH, .compat = 1, .undef = DF_SF | DF_ZF | DF_AF | DF_PF},
    {.name = "shl r/m,cl (32-bit)", .sizes = S8 | S16 | S32, .op8 = 0xD2, .op = 0xD3,
     .enc = E_RM_EXT, .ext = 4, .mem = M_BOTH, .gen = G_SHIFT, .fr = FR_SHIFT, .cnt = C_CL,
     .compat = 1},
    {.name = "rep movs (32-bit)", .sizes = SALL & ~S64, .prefix = 0xF3, .op8 = 0xA4, .op = 0xA5,
     .enc = E_NONE, .gen = G_STRING, .compat = 1},
    {.name = "pusha/pushad", .sizes = S16 | S32, .op = 0x60, .enc = E_NONE, .gen = G_STACK,
     .compat = 1},
    {.name = "popa/popad", .sizes = S16 | S32, .op = 0x61, .enc = E_NONE, .gen = G_STACK,
     .compat = 1},
    {.name = "into (#OF when OF=1)", .sizes = S32, .op = 0xCE, .enc = E_NONE, .compat = 1},
    {.name = "bound r,m (#BR)", .sizes = S16 | S32, .op = 0x62, .enc = E_R_RM, .mem = M_MEM,
     .gen = G_BT, .compat = 1},
    {.name = "push/pop r (32-bit)", .sizes = S16 | S32, .op = 0x50, .enc = E_OPREG,
     .gen = G_STACK, .compat = 1},
};

DIFF_FAMILY_TEST(compat, compat_forms)
