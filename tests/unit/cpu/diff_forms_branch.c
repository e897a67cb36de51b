/* Differential forms: control transfers inside a short byte sequence, so the host's run stays
 * within the trampoline: Jcc (rel8, rel32) over a marker store, LOOP/JRCXZ (with and without
 * 0x67), CALL/RET pairs, CALL+POP (the pushed return address), indirect JMP. Decoded blocks end
 * at each branch, so lazily kept flags cross a block boundary here. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "diff_harness.h"

#define BR_SEQ(nm, g, ...)                                                                  \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .gen = (g),                                    \
     .seq = (const uint8_t[]){__VA_ARGS__},                                                 \
     .seq_len = sizeof((const uint8_t[]){__VA_ARGS__})},

/* As BR_SEQ, with flags the SDM leaves undefined after the sequence. */
#define BR_SEQ_U(nm, u, ...)                                                                \
    {.name = nm, .sizes = S32, .enc = E_SEQ, .undef = (u),                                  \
     .seq = (const uint8_t[]){__VA_ARGS__},                                                 \
     .seq_len = sizeof((const uint8_t[]){__VA_ARGS__})},

#define MARK 0x41, 0xB3, 0x01 /* mov r11b, 1: runs only when the branch falls through */

#define CC_LIST(X)                                                                          \
    X("o", 0) X("no", 1) X("b", 2) X("ae", 3) X("e", 4) X("ne", 5) X("be", 6) X("a", 7)     \
    X("s", 8) X("ns", 9) X("p", 10) X("np", 11) X("l", 12) X("ge", 13) X("le", 14) X("g", 15)
#define JCC8(cc, k) BR_SEQ("j" cc " rel8", G_PLAIN, 0x70 + (k), 0x03, MARK)
#define JCC32(cc, k) BR_SEQ("j" cc " rel32", G_PLAIN, 0x0F, 0x80 + (k), 0x03, 0, 0, 0, MARK)
/* A flag-setting instruction in the same block, then the branch: the condition is computed
 * from that instruction's lazily recorded result. */
#define CMPJCC(cc, k) BR_SEQ("cmp rax,rcx; j" cc, G_PLAIN, 0x48, 0x39, 0xC8, 0x70 + (k), 0x03, MARK)

static const struct diff_form branch_forms[] = {
    CC_LIST(JCC8) CC_LIST(JCC32) CC_LIST(CMPJCC)
    BR_SEQ("add al,dl; jo", G_PLAIN, 0x00, 0xD0, 0x70, 0x03, MARK)
    BR_SEQ("sub ecx,edx; jl", G_PLAIN, 0x29, 0xD1, 0x7C, 0x03, MARK)
    BR_SEQ("dec rdx; jbe", G_PLAIN, 0x48, 0xFF, 0xCA, 0x76, 0x03, MARK)
    /* SHL leaves AF (and OF unless the count is 1) undefined: branch on CF. */
    BR_SEQ_U("shl rax,cl; jc", DF_AF | DF_OF, 0x48, 0xD3, 0xE0, 0x72, 0x03, MARK)
    BR_SEQ("test bl,bl; jp", G_PLAIN, 0x84, 0xDB, 0x7A, 0x03, MARK)
    BR_SEQ("loop rel8", G_PLAIN, 0xE2, 0x03, MARK)
    BR_SEQ("loope rel8", G_PLAIN, 0xE1, 0x03, MARK)
    BR_SEQ("loopne rel8", G_PLAIN, 0xE0, 0x03, MARK)
    BR_SEQ("jrcxz rel8", G_PLAIN, 0xE3, 0x03, MARK)
    BR_SEQ("loop rel8 (ecx)", G_PLAIN, 0x67, 0xE2, 0x03, MARK)
    BR_SEQ("jecxz rel8", G_PLAIN, 0x67, 0xE3, 0x03, MARK)
    BR_SEQ("jmp rel8", G_PLAIN, 0xEB, 0x03, MARK)
    BR_SEQ("jmp rel32", G_PLAIN, 0xE9, 0x03, 0, 0, 0, MARK)
    /* call +0; pop r11: r11 = the return address (same virtual address on both sides). */
    BR_SEQ("call rel32; pop", G_STACK, 0xE8, 0, 0, 0, 0, 0x41, 0x5B)
    /* call 7; jmp 8 (end); 7: ret */
    BR_SEQ("call; ret", G_STACK, 0xE8, 0x02, 0, 0, 0, 0xEB, 0x01, 0xC3)
    /* call 7; jmp 10 (end); 7: ret 8 */
    BR_SEQ("call; ret imm16", G_STACK, 0xE8, 0x02, 0, 0, 0, 0xEB, 0x03, 0xC2, 0x08, 0x00)
    /* lea r11,[rip+6]; jmp r11 (over mov r10b,1) */
    BR_SEQ("jmp r/m64", G_PLAIN, 0x4C, 0x8D, 0x1D, 0x06, 0, 0, 0, 0x41, 0xFF, 0xE3, 0x41, 0xB2,
           0x01)
    /* lea r11,[rip+5]; call r11 (to a pop r10 that discards the return address) */
    BR_SEQ("call r/m64; pop", G_STACK, 0x4C, 0x8D, 0x1D, 0x05, 0, 0, 0, 0x41, 0xFF, 0xD3, 0x41,
           0x5A, 0x90)
};

DIFF_FAMILY_TEST(branch, branch_forms)
