/* Differential forms: string instructions with and without REP/REPE/REPNE, small counts,
 * DF = 0 and 1, and runs of equal data so REPE comparisons keep going. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

/* String operations: name, 8-bit opcode (the 16/32/64-bit one is next). REPNE is defined
 * only for the comparing ones (CMPS, SCAS). */
#define STRING_LIST(X) X("movs", 0xA4) X("stos", 0xAA) X("lods", 0xAC)
#define CMP_STRING_LIST(X) X("cmps", 0xA6) X("scas", 0xAE)

#define STRING_FORMS(nm, opc)                                                               \
    {.name = nm, .sizes = SALL, .op8 = (opc), .op = (opc) + 1, .enc = E_NONE,               \
     .gen = G_STRING},                                                                      \
    {.name = "rep " nm, .sizes = SALL, .prefix = 0xF3, .op8 = (opc), .op = (opc) + 1,       \
     .enc = E_NONE, .gen = G_STRING},
#define CMP_STRING_FORMS(nm, opc)                                                           \
    STRING_FORMS(nm, opc)                                                                   \
    {.name = "repne " nm, .sizes = SALL, .prefix = 0xF2, .op8 = (opc), .op = (opc) + 1,     \
     .enc = E_NONE, .gen = G_STRING},

static const struct diff_form string_forms[] = {STRING_LIST(STRING_FORMS) CMP_STRING_LIST(CMP_STRING_FORMS)};

DIFF_FAMILY_TEST(string, string_forms)
