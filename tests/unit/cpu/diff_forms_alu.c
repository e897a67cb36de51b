/* Differential forms: integer arithmetic and logic (ADD..CMP, TEST, INC/DEC/NEG/NOT, MUL/IMUL,
 * DIV/IDIV). The undef column is the SDM's "Flags Affected: undefined" for each form. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

#define LOGIC_UNDEF DF_AF                               /* AND OR XOR TEST: AF undefined */
#define MUL_UNDEF (DF_SF | DF_ZF | DF_AF | DF_PF)       /* MUL IMUL: only CF OF defined */
#define DIV_UNDEF DF_ARITH                              /* DIV IDIV: all undefined */

/* Group-1 operations: name, /digit (also opcode row), undefined flags. */
#define ALU_LIST(X)                                                                         \
    X("add", 0, 0) X("or", 1, LOGIC_UNDEF) X("adc", 2, 0) X("sbb", 3, 0)                    \
    X("and", 4, LOGIC_UNDEF) X("sub", 5, 0) X("xor", 6, LOGIC_UNDEF) X("cmp", 7, 0)

#define ALU_FORMS(nm, k, u)                                                                 \
    {.name = nm " r/m,r", .sizes = SALL, .op8 = (k) * 8, .op = (k) * 8 + 1, .enc = E_RM_R,  \
     .mem = M_BOTH, .undef = (u)},                                                          \
    {.name = nm " r,r/m", .sizes = SALL, .op8 = (k) * 8 + 2, .op = (k) * 8 + 3,             \
     .enc = E_R_RM, .mem = M_BOTH, .undef = (u)},                                           \
    {.name = nm " acc,imm", .sizes = SALL, .op8 = (k) * 8 + 4, .op = (k) * 8 + 5,           \
     .enc = E_NONE, .imm = I_Z, .undef = (u)},                                              \
    {.name = nm " r/m,imm", .sizes = SALL, .op8 = 0x80, .op = 0x81, .enc = E_RM_EXT,        \
     .ext = (k), .imm = I_Z, .mem = M_BOTH, .undef = (u)},                                  \
    {.name = nm " r/m,imm8", .sizes = SWDQ, .op = 0x83, .enc = E_RM_EXT, .ext = (k),        \
     .imm = I_8, .mem = M_BOTH, .undef = (u)},

static const struct diff_form alu_forms[] = {ALU_LIST(ALU_FORMS)};

static const struct diff_form unary_forms[] = {
    {.name = "test r/m,r", .sizes = SALL, .op8 = 0x84, .op = 0x85, .enc = E_RM_R, .mem = M_BOTH,
     .undef = LOGIC_UNDEF},
    {.name = "test acc,imm", .sizes = SALL, .op8 = 0xA8, .op = 0xA9, .enc = E_NONE, .imm = I_Z,
     .undef = LOGIC_UNDEF},
    {.name = "test r/m,imm", .sizes = SALL, .op8 = 0xF6, .op = 0xF7, .enc = E_RM_EXT, .ext = 0,
     .imm = I_Z, .mem = M_BOTH, .undef = LOGIC_UNDEF},
    {.name = "inc r/m", .sizes = SALL, .op8 = 0xFE, .op = 0xFF, .enc = E_RM_EXT, .ext = 0,
     .mem = M_BOTH},
    {.name = "dec r/m", .sizes = SALL, .op8 = 0xFE, .op = 0xFF, .enc = E_RM_EXT, .ext = 1,
     .mem = M_BOTH},
    {.name = "not r/m", .sizes = SALL, .op8 = 0xF6, .op = 0xF7, .enc = E_RM_EXT, .ext = 2,
     .mem = M_BOTH},
    {.name = "neg r/m", .sizes = SALL, .op8 = 0xF6, .op = 0xF7, .enc = E_RM_EXT, .ext = 3,
     .mem = M_BOTH},
};

static const struct diff_form muldiv_forms[] = {
    {.name = "mul r/m", .sizes = SALL, .op8 = 0xF6, .op = 0xF7, .enc = E_RM_EXT, .ext = 4,
     .mem = M_BOTH, .undef = MUL_UNDEF},
    {.name = "imul r/m", .sizes = SALL, .op8 = 0xF6, .op = 0xF7, .enc = E_RM_EXT, .ext = 5,
     .mem = M_BOTH, .undef = MUL_UNDEF},
    {.name = "imul r,r/m", .sizes = SWDQ, .map = 1, .op = 0xAF, .enc = E_R_RM, .mem = M_BOTH,
     .undef = MUL_UNDEF},
    {.name = "imul r,r/m,imm", .sizes = SWDQ, .op = 0x69, .enc = E_R_RM, .imm = I_Z,
     .mem = M_BOTH, .undef = MUL_UNDEF},
    {.name = "imul r,r/m,imm8", .sizes = SWDQ, .op = 0x6B, .enc = E_R_RM, .imm = I_8,
     .mem = M_BOTH, .undef = MUL_UNDEF},
    {.name = "div r/m", .sizes = SALL, .op8 = 0xF6, .op = 0xF7, .enc = E_RM_EXT, .ext = 6,
     .mem = M_BOTH, .gen = G_DIV, .undef = DIV_UNDEF},
    {.name = "idiv r/m", .sizes = SALL, .op8 = 0xF6, .op = 0xF7, .enc = E_RM_EXT, .ext = 7,
     .mem = M_BOTH, .gen = G_DIV, .undef = DIV_UNDEF},
};

DIFF_FAMILY_TEST(alu, alu_forms)
DIFF_FAMILY_TEST(unary, unary_forms)
DIFF_FAMILY_TEST(muldiv, muldiv_forms)

/* LOCK on memory destinations (atomic in hardware; one VP here), and on a register
 * destination, where it is #UD (SDM Vol 2 LOCK). */
#define LOCK_FORMS(nm, k, u)                                                                \
    {.name = "lock " nm " m,r", .sizes = SALL, .prefix = 0xF0, .op8 = (k) * 8,              \
     .op = (k) * 8 + 1, .enc = E_RM_R, .mem = M_MEM, .undef = (u)},                         \
    {.name = "lock " nm " m,imm8", .sizes = SWDQ, .prefix = 0xF0, .op = 0x83,               \
     .enc = E_RM_EXT, .ext = (k), .imm = I_8, .mem = M_MEM, .undef = (u)},
#define ALU_LOCKABLE(X)                                                                     \
    X("add", 0, 0) X("or", 1, LOGIC_UNDEF) X("adc", 2, 0) X("sbb", 3, 0)                    \
    X("and", 4, LOGIC_UNDEF) X("sub", 5, 0) X("xor", 6, LOGIC_UNDEF)

static const struct diff_form lock_forms[] = {
    ALU_LOCKABLE(LOCK_FORMS)
    {.name = "lock inc m", .sizes = SALL, .prefix = 0xF0, .op8 = 0xFE, .op = 0xFF,
     .enc = E_RM_EXT, .ext = 0, .mem = M_MEM},
    {.name = "lock dec m", .sizes = SALL, .prefix = 0xF0, .op8 = 0xFE, .op = 0xFF,
     .enc = E_RM_EXT, .ext = 1, .mem = M_MEM},
    {.name = "lock not m", .sizes = SALL, .prefix = 0xF0, .op8 = 0xF6, .op = 0xF7,
     .enc = E_RM_EXT, .ext = 2, .mem = M_MEM},
    {.name = "lock neg m", .sizes = SALL, .prefix = 0xF0, .op8 = 0xF6, .op = 0xF7,
     .enc = E_RM_EXT, .ext = 3, .mem = M_MEM},
    {.name = "lock xadd m,r", .sizes = SALL, .prefix = 0xF0, .map = 1, .op8 = 0xC0, .op = 0xC1,
     .enc = E_RM_R, .mem = M_MEM},
    {.name = "lock cmpxchg m,r", .sizes = SALL, .prefix = 0xF0, .map = 1, .op8 = 0xB0,
     .op = 0xB1, .enc = E_RM_R, .mem = M_MEM, .gen = G_CMPXCHG},
    {.name = "lock xchg m,r", .sizes = SALL, .prefix = 0xF0, .op8 = 0x86, .op = 0x87,
     .enc = E_RM_R, .mem = M_MEM},
    {.name = "lock bts m,r", .sizes = SWDQ, .prefix = 0xF0, .map = 1, .op = 0xAB, .enc = E_RM_R,
     .mem = M_MEM, .gen = G_BT, .undef = DF_OF | DF_SF | DF_AF | DF_PF},
    {.name = "lock btc m,imm8", .sizes = SWDQ, .prefix = 0xF0, .map = 1, .op = 0xBA,
     .enc = E_RM_EXT, .ext = 7, .imm = I_8, .mem = M_MEM, .undef = DF_OF | DF_SF | DF_AF | DF_PF},
    {.name = "lock add r,r (#UD)", .sizes = SALL, .prefix = 0xF0, .op8 = 0x00, .op = 0x01,
     .enc = E_RM_R, .mem = M_REG},
    {.name = "lock cmp m,r (#UD)", .sizes = SALL, .prefix = 0xF0, .op8 = 0x38, .op = 0x39,
     .enc = E_RM_R, .mem = M_MEM},
};

DIFF_FAMILY_TEST(lock, lock_forms)
