/* Differential forms on the stack: PUSH/POP (register, memory, immediate), PUSHF/POPF, LEAVE,
 * and the PUSH RSP / POP RSP corner cases. The stack window around RSP is compared. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

/* 64-bit mode: operand size 64 by default, 16 with 0x66; 32 is not encodable. */
#define S16_64 (S16 | S64)

static const struct diff_form stack_forms[] = {
    {.name = "push r", .sizes = S16_64, .op = 0x50, .enc = E_OPREG, .gen = G_STACK},
    {.name = "pop r", .sizes = S16_64, .op = 0x58, .enc = E_OPREG, .gen = G_STACK},
    {.name = "push imm8", .sizes = S16_64, .op = 0x6A, .enc = E_NONE, .imm = I_8, .gen = G_STACK},
    {.name = "push imm", .sizes = S16_64, .op = 0x68, .enc = E_NONE, .imm = I_Z, .gen = G_STACK},
    {.name = "push r/m", .sizes = S16_64, .op = 0xFF, .enc = E_RM_EXT, .ext = 6, .mem = M_BOTH,
     .gen = G_STACK},
    {.name = "pop r/m", .sizes = S16_64, .op = 0x8F, .enc = E_RM_EXT, .ext = 0, .mem = M_BOTH,
     .gen = G_STACK},
    {.name = "pushf", .sizes = S16_64, .op = 0x9C, .enc = E_NONE, .gen = G_STACK},
    {.name = "popf", .sizes = S16_64, .op = 0x9D, .enc = E_NONE, .gen = G_STACK},
    {.name = "leave", .sizes = S16_64, .op = 0xC9, .enc = E_NONE, .gen = G_STACK},
    {.name = "push rsp", .sizes = S16_64, .op = 0x54, .enc = E_NONE, .gen = G_STACK},
    {.name = "pop rsp", .sizes = S16_64, .op = 0x5C, .enc = E_NONE, .gen = G_STACK},
};

DIFF_FAMILY_TEST(stack, stack_forms)
