/* Differential forms: bit tests and scans, TZCNT/LZCNT/POPCNT, BMI1/BMI2, ADX, BSWAP, MOVBE,
 * CRC32. Forms the host lacks (CPUID) are reported as skipped. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

#define BT_UNDEF (DF_OF | DF_SF | DF_AF | DF_PF)         /* BT*: CF defined, ZF unaffected */
#define BSF_UNDEF (DF_CF | DF_OF | DF_SF | DF_AF | DF_PF) /* BSF BSR: ZF defined */
#define CNT_UNDEF (DF_OF | DF_SF | DF_AF | DF_PF)        /* TZCNT LZCNT: CF ZF defined */
#define BMI_UNDEF (DF_AF | DF_PF)                        /* ANDN BLS* BZHI */
#define BEXTR_UNDEF (DF_AF | DF_SF | DF_PF)

/* Bit-test operations: name, 0F opcode of the r/m,r form, /digit of the 0F BA imm8 form. */
#define BT_LIST(X) X("bt", 0xA3, 4) X("bts", 0xAB, 5) X("btr", 0xB3, 6) X("btc", 0xBB, 7)

#define BT_FORMS(nm, opc, k)                                                                \
    {.name = nm " r/m,r", .sizes = SWDQ, .map = 1, .op = (opc), .enc = E_RM_R,              \
     .mem = M_BOTH, .gen = G_BT, .undef = BT_UNDEF},                                        \
    {.name = nm " r/m,imm8", .sizes = SWDQ, .map = 1, .op = 0xBA, .enc = E_RM_EXT,          \
     .ext = (k), .imm = I_8, .mem = M_BOTH, .undef = BT_UNDEF},

static const struct diff_form bits_forms[] = {
    BT_LIST(BT_FORMS)
    {.name = "bsf r,r/m", .sizes = SWDQ, .map = 1, .op = 0xBC, .enc = E_R_RM, .mem = M_BOTH,
     .undef = BSF_UNDEF},
    {.name = "bsr r,r/m", .sizes = SWDQ, .map = 1, .op = 0xBD, .enc = E_R_RM, .mem = M_BOTH,
     .undef = BSF_UNDEF},
    {.name = "tzcnt r,r/m", .sizes = SWDQ, .prefix = 0xF3, .map = 1, .op = 0xBC, .enc = E_R_RM,
     .mem = M_BOTH, .feature = NF_BMI1, .undef = CNT_UNDEF},
    {.name = "lzcnt r,r/m", .sizes = SWDQ, .prefix = 0xF3, .map = 1, .op = 0xBD, .enc = E_R_RM,
     .mem = M_BOTH, .feature = NF_LZCNT, .undef = CNT_UNDEF},
    {.name = "popcnt r,r/m", .sizes = SWDQ, .prefix = 0xF3, .map = 1, .op = 0xB8, .enc = E_R_RM,
     .mem = M_BOTH, .feature = NF_POPCNT},
    {.name = "bswap r", .sizes = SDQ, .map = 1, .op = 0xC8, .enc = E_OPREG},
    {.name = "movbe r,m", .sizes = SWDQ, .map = 2, .op = 0xF0, .enc = E_R_RM, .mem = M_MEM,
     .feature = NF_MOVBE},
    {.name = "movbe m,r", .sizes = SWDQ, .map = 2, .op = 0xF1, .enc = E_RM_R, .mem = M_MEM,
     .feature = NF_MOVBE},
    {.name = "crc32 r,r/m8", .sizes = SDQ, .prefix = 0xF2, .map = 2, .op = 0xF0, .enc = E_R_RM,
     .mem = M_BOTH, .feature = NF_SSE42, .byte_rm = 1},
    {.name = "crc32 r,r/m", .sizes = SWDQ, .prefix = 0xF2, .map = 2, .op = 0xF1, .enc = E_R_RM,
     .mem = M_BOTH, .feature = NF_SSE42},
    {.name = "adcx r,r/m", .sizes = SDQ, .prefix = 0x66, .map = 2, .op = 0xF6, .enc = E_R_RM,
     .mem = M_BOTH, .feature = NF_ADX},
    {.name = "adox r,r/m", .sizes = SDQ, .prefix = 0xF3, .map = 2, .op = 0xF6, .enc = E_R_RM,
     .mem = M_BOTH, .feature = NF_ADX},
};

/* VEX-encoded BMI1/BMI2 (SDM Vol 2 Table 2-..: VEX.LZ.pp.0F38/0F3A .W0 32-bit, .W1 64-bit). */
static const struct diff_form bmi_forms[] = {
    {.name = "andn", .sizes = SDQ, .map = 2, .op = 0xF2, .enc = E_VEX_RVM, .mem = M_BOTH,
     .feature = NF_BMI1, .undef = BMI_UNDEF},
    {.name = "blsr", .sizes = SDQ, .map = 2, .op = 0xF3, .enc = E_VEX_VM, .ext = 1,
     .mem = M_BOTH, .feature = NF_BMI1, .undef = BMI_UNDEF},
    {.name = "blsmsk", .sizes = SDQ, .map = 2, .op = 0xF3, .enc = E_VEX_VM, .ext = 2,
     .mem = M_BOTH, .feature = NF_BMI1, .undef = BMI_UNDEF},
    {.name = "blsi", .sizes = SDQ, .map = 2, .op = 0xF3, .enc = E_VEX_VM, .ext = 3,
     .mem = M_BOTH, .feature = NF_BMI1, .undef = BMI_UNDEF},
    {.name = "bextr", .sizes = SDQ, .map = 2, .op = 0xF7, .enc = E_VEX_RMV, .mem = M_BOTH,
     .gen = G_BEXTR, .feature = NF_BMI1, .undef = BEXTR_UNDEF},
    {.name = "bzhi", .sizes = SDQ, .map = 2, .op = 0xF5, .enc = E_VEX_RMV, .mem = M_BOTH,
     .gen = G_BZHI, .feature = NF_BMI2, .undef = BMI_UNDEF},
    {.name = "pdep", .sizes = SDQ, .map = 2, .op = 0xF5, .enc = E_VEX_RVM, .mem = M_BOTH,
     .feature = NF_BMI2, .vex_pp = 3},
    {.name = "pext", .sizes = SDQ, .map = 2, .op = 0xF5, .enc = E_VEX_RVM, .mem = M_BOTH,
     .feature = NF_BMI2, .vex_pp = 2},
    {.name = "mulx", .sizes = SDQ, .map = 2, .op = 0xF6, .enc = E_VEX_RVM, .mem = M_BOTH,
     .feature = NF_BMI2, .vex_pp = 3},
    {.name = "sarx", .sizes = SDQ, .map = 2, .op = 0xF7, .enc = E_VEX_RMV, .mem = M_BOTH,
     .feature = NF_BMI2, .vex_pp = 2},
    {.name = "shlx", .sizes = SDQ, .map = 2, .op = 0xF7, .enc = E_VEX_RMV, .mem = M_BOTH,
     .feature = NF_BMI2, .vex_pp = 1},
    {.name = "shrx", .sizes = SDQ, .map = 2, .op = 0xF7, .enc = E_VEX_RMV, .mem = M_BOTH,
     .feature = NF_BMI2, .vex_pp = 3},
    {.name = "rorx", .sizes = SDQ, .map = 3, .op = 0xF0, .enc = E_VEX_RM, .imm = I_8,
     .mem = M_BOTH, .cnt = C_IMM, .gen = G_SHIFT, .feature = NF_BMI2, .vex_pp = 3},
};

DIFF_FAMILY_TEST(bits, bits_forms)
DIFF_FAMILY_TEST(bmi, bmi_forms)
