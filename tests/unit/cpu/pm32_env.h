/* A 32-bit protected-mode machine for the gate, task and delivery tests: a GDT with code and
 * data segments for rings 0-3, a 32-bit TSS, an IDT whose handlers HLT at ring 0, and
 * descriptor builders. */
#ifndef HVEMU_TEST_PM32_ENV_H
#define HVEMU_TEST_PM32_ENV_H

#include "harness.h"

#define CODE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

#define P32_TSS 0x9000u
#define P32_ESP0 0x60000u
#define P32_ESP1 0x61000u
#define P32_ESP2 0x62000u
#define P32_USTACK 0x50000u

/* GDT selectors (RPL = DPL). 0x58.. are free slots for a test's own descriptors. */
enum {
    S_CODE0 = 0x08, S_DATA0 = 0x10, S_CODE3 = 0x1b, S_DATA3 = 0x23, S_TSS = 0x28,
    S_CODE1 = 0x39, S_DATA1 = 0x41, S_CODE2 = 0x4a, S_DATA2 = 0x52,
    S_SLOT0 = 0x58, S_SLOT1 = 0x60, S_SLOT2 = 0x68, S_SLOT3 = 0x70, S_SLOT4 = 0x78,
};

/* access: P, DPL, S, type (descriptor byte 5); flags: G, D/B, L, AVL (byte 6 high nibble).
 * Macros, so that tables of cases can hold them. */
#define SEG_DESC(base, limit, access, flags)                                                   \
    (((uint64_t)(limit) & 0xffff) | (((uint64_t)(base) & 0xffffff) << 16) |                    \
     ((uint64_t)(access) << 40) | ((((uint64_t)(limit) >> 16) & 0xf) << 48) |                  \
     ((uint64_t)(flags) << 52) | (((uint64_t)(base) >> 24) << 56))

/* A call, task, interrupt or trap gate; count is a call gate's parameter count. */
#define GATE_DESC(sel, off, access, count)                                                     \
    (((uint64_t)(off) & 0xffff) | ((uint64_t)(sel) << 16) | ((uint64_t)(count) << 32) |        \
     ((uint64_t)(access) << 40) | (((uint64_t)(off) >> 16 & 0xffff) << 48))

static inline void p32_gdt(struct th *t, uint16_t sel, uint64_t d)
{
    th_wr(t, TH_GDT + (sel & 0xfff8u), d, 8);
}

static inline void p32_idt(struct th *t, unsigned vec, uint64_t g)
{
    th_wr(t, TH_IDT + 8 * vec, g, 8);
}

/* Flat segments for rings 0-3, the TSS at P32_TSS (ring stacks 0-2) as TR, and an IDT of
 * interrupt gates to a HLT at TH_HANDLER + 16 * vector (th_vector reads it back). */
static inline void p32_init(struct th *t)
{
    th_init(t);
    th_mode32(t);
    p32_gdt(t, S_CODE0, SEG_DESC(0, 0xfffff, 0x9b, 0xc));
    p32_gdt(t, S_DATA0, SEG_DESC(0, 0xfffff, 0x93, 0xc));
    p32_gdt(t, S_CODE3, SEG_DESC(0, 0xfffff, 0xfb, 0xc));
    p32_gdt(t, S_DATA3, SEG_DESC(0, 0xfffff, 0xf3, 0xc));
    p32_gdt(t, S_TSS, SEG_DESC(P32_TSS, 0x67, 0x8b, 0));
    p32_gdt(t, S_CODE1, SEG_DESC(0, 0xfffff, 0xbb, 0xc));
    p32_gdt(t, S_DATA1, SEG_DESC(0, 0xfffff, 0xb3, 0xc));
    p32_gdt(t, S_CODE2, SEG_DESC(0, 0xfffff, 0xdb, 0xc));
    p32_gdt(t, S_DATA2, SEG_DESC(0, 0xfffff, 0xd3, 0xc));
    struct dtr g = {TH_GDT, 0xff};
    cpu_set_dtr(t->vp, false, &g);
    struct seg tr = {S_TSS, P32_TSS, 0x67, 0x8b};
    cpu_set_seg(t->vp, SEG_TR, &tr);
    th_wr(t, P32_TSS + 4, P32_ESP0, 4);
    th_wr(t, P32_TSS + 8, S_DATA0, 4);
    th_wr(t, P32_TSS + 12, P32_ESP1, 4);
    th_wr(t, P32_TSS + 16, S_DATA1, 4);
    th_wr(t, P32_TSS + 20, P32_ESP2, 4);
    th_wr(t, P32_TSS + 24, S_DATA2, 4);
    for (unsigned v = 0; v < 256; v++) {
        th_wr(t, TH_HANDLER + 16 * v, 0xf4, 1);
        p32_idt(t, v, GATE_DESC(S_CODE0, (uint32_t)(TH_HANDLER + 16 * v), 0x8e, 0));
    }
    struct dtr d = {TH_IDT, 8 * 256 - 1};
    cpu_set_dtr(t->vp, true, &d);
}

/* Run at ring `ring` with flat code/data selectors of that ring. */
static inline void p32_ring(struct th *t, unsigned ring, uint32_t eip, uint32_t esp)
{
    static const uint16_t cs[4] = {S_CODE0, S_CODE1, S_CODE2, S_CODE3};
    static const uint16_t ds[4] = {S_DATA0, S_DATA1, S_DATA2, S_DATA3};
    for (unsigned s = 0; s < 6; s++) {
        bool code = s == SEG_CS;
        struct seg r = {code ? cs[ring] : ds[ring], 0, 0xffffffff,
                        (code ? 0xc09bu : 0xc093u) | ring << 5};
        cpu_set_seg(t->vp, s, &r);
    }
    cpu_set_rip(t->vp, eip);
    cpu_set_gpr(t->vp, REG_RSP, esp);
}

static inline uint32_t p32_stack(struct th *t, unsigned k)
{
    return (uint32_t)th_rd(t, (uint32_t)cpu_get_gpr(t->vp, REG_RSP) + 4 * k, 4);
}

static inline uint16_t p32_sel(struct th *t, unsigned seg)
{
    struct seg s;
    cpu_get_seg(t->vp, seg, &s);
    return s.sel;
}

#endif
