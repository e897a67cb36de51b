/* Privilege set-ups for the IOPL, virtual-8086 and fast-system-call tests: real mode, 32-bit
 * protected mode, 64-bit and compatibility mode at a chosen CPL and IOPL, virtual-8086 mode
 * entered by IRETD, a TSS with an I/O permission bitmap, and the exception frame a handler
 * sees. Every vector's handler is a HLT at TH_HANDLER + 16 * vector (linear). */
#ifndef HVEMU_TEST_CPU_RING_HARNESS_H
#define HVEMU_TEST_CPU_RING_HARNESS_H

#include "harness.h"

enum rh_mode { RH_REAL, RH_PM32, RH_LM64, RH_COMPAT };

/* GDT of the ring set-ups, laid out for SYSRET with STAR[63:48] = 0x18 and SYSEXIT with
 * SYSENTER_CS = 0x08: kernel code (64-bit in long mode) and data, user 32-bit code and data,
 * user 64-bit code and data, kernel 32-bit code, and the TSS's selector (its descriptor cache
 * is set directly). */
enum {
    RH_KCS = 0x08, RH_KDS = 0x10, RH_UCS32 = 0x1b, RH_UDS = 0x23, RH_UCS = 0x2b, RH_UDS2 = 0x33,
    RH_KCS32 = 0x38, RH_TSS = 0x40,
};

#define RH_TSS_BASE 0x9000ull
#define RH_ESP0 0x60000ull       /* ring-0 stack of the TSS */
#define RH_USER_STACK 0x50000ull /* ring-3 stack */
#define RH_IOMAP 0x68u           /* I/O bitmap offset in the TSS rh_boot builds */
#define RH_V86_CS 0x2000u        /* virtual-8086 code segment (linear 0x20000) */
#define RH_V86_SS 0x3000u        /* and stack, SP 0xfffe */
#define RH_V86_DS 0x4000u

/* A machine in mode m at privilege cpl with RFLAGS.IOPL = iopl and RFLAGS.IF = ifl, running
 * code loaded at TH_CODE (flat segments; real mode: CS = TH_CODE >> 4, IP 0). The TSS is a
 * 32- or 64-bit one at RH_TSS_BASE with ring-0 stack RH_ESP0 and an I/O bitmap at RH_IOMAP
 * that denies every port except 0x80-0x87 and 0x3f8; its limit covers the whole bitmap. */
void rh_boot(struct th *t, enum rh_mode m, unsigned cpl, unsigned iopl, bool ifl,
             const uint8_t *code, size_t len);

/* 32-bit protected mode at CPL 0 about to IRETD into virtual-8086 mode at RH_V86_CS:0 with
 * RH_V86_SS:0xfffe, DS = ES = RH_V86_DS; code is the 16-bit program. */
void rh_boot_v86(struct th *t, unsigned iopl, bool ifl, const uint8_t *code, size_t len);

/* Replace the TSS descriptor cache: type (9/0xb 32/64-bit, 1/3 16-bit), limit, bitmap offset. */
void rh_set_tss(struct th *t, unsigned type, uint32_t limit, uint16_t iomap);

/* The vector whose handler the VP halted in, or -1. */
int rh_vector(struct th *t);
/* Slot k of the exception frame on the handler's stack, above the error code if the vector
 * has one: 0 return IP, 1 CS, 2 RFLAGS, 3 SP, 4 SS, then ES, DS, FS, GS after V86. */
uint64_t rh_frame(struct th *t, unsigned k);
/* The error code of the exception the handler is running for. */
uint64_t rh_errcode(struct th *t);

#endif
