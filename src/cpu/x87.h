/* x87 instruction execution (x87.c) on the FXSAVE image in struct vcpu. */
#ifndef HVEMU_CPU_X87_H
#define HVEMU_CPU_X87_H

#include "cpu/vcpu.h"

/* Execute an x87 escape (opcodes D8-DF): 0, an exception vector (#NM, #MF, #UD), or -1 when
 * i is not an x87 escape. */
int x87_exec(struct vcpu *vp, const struct insn *i);

/* Where vcpu.fxsave keeps the x87 pointers: the 32-bit FXSAVE layout in bytes 6-23, the
 * upper halves of FIP and FDP in software bytes that FXSAVE never writes (x87.c). */
enum { X87_FOP = 6, X87_FIP = 8, X87_FCS = 12, X87_FDP = 16, X87_FDS = 20, X87_FIP_HI = 464,
       X87_FDP_HI = 468 };

/* Bytes 0-23 of an FXSAVE/XSAVE image: the 64-bit layout (REX.W) or the 32-bit one with
 * FCS/FDS (SDM Vol 1 Tables 10-2, 10-3). */
void x87_legacy_save(const struct vcpu *vp, uint8_t out[24], bool rex_w);
void x87_legacy_load(struct vcpu *vp, const uint8_t in[24], bool rex_w);

#endif
