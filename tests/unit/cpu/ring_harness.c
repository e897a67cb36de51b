/* Privilege set-ups for the IOPL, virtual-8086 and fast-system-call tests (ring_harness.h). */
#include "ring_harness.h"

#include <criterion/criterion.h>

static void seg_set(struct th *t, unsigned s, uint16_t sel, uint32_t attr)
{
    struct seg v = {sel, 0, 0xffffffff, attr};
    cpu_set_seg(t->vp, s, &v);
}

static void build_gdt(struct th *t, bool lm)
{
    th_wr(t, TH_GDT + 0x08, lm ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull, 8);
    th_wr(t, TH_GDT + 0x10, 0x00cf93000000ffffull, 8);
    th_wr(t, TH_GDT + 0x18, 0x00cffb000000ffffull, 8);
    th_wr(t, TH_GDT + 0x20, 0x00cff3000000ffffull, 8);
    th_wr(t, TH_GDT + 0x28, 0x00affb000000ffffull, 8);
    th_wr(t, TH_GDT + 0x30, 0x00cff3000000ffffull, 8);
    th_wr(t, TH_GDT + 0x38, 0x00cf9b000000ffffull, 8);
    struct dtr g = {TH_GDT, 0x4f};
    cpu_set_dtr(t->vp, false, &g);
}

/* Interrupt gates of DPL 3 (so INT n works from ring 3) to the HLT handlers. */
static void build_idt(struct th *t, bool lm)
{
    for (uint64_t v = 0; v < 256; v++) {
        uint64_t h = TH_HANDLER + 16 * v;
        th_wr(t, h, 0xf4, 1);
        uint64_t lo = (h & 0xffff) | ((uint64_t)RH_KCS << 16) | (0xeeull << 40) |
                      ((h >> 16) & 0xffff) << 48;
        if (lm) {
            th_wr(t, TH_IDT + 16 * v, lo, 8);
            th_wr(t, TH_IDT + 16 * v + 8, h >> 32, 8);
        } else {
            th_wr(t, TH_IDT + 8 * v, lo, 8);
        }
    }
    struct dtr d = {TH_IDT, lm ? 16 * 256 - 1 : 8 * 256 - 1};
    cpu_set_dtr(t->vp, true, &d);
}

static void build_tss(struct th *t, bool lm)
{
    if (lm) {
        th_wr(t, RH_TSS_BASE + 4, RH_ESP0, 8);
    } else {
        th_wr(t, RH_TSS_BASE + 4, RH_ESP0, 4);
        th_wr(t, RH_TSS_BASE + 8, RH_KDS, 4);
    }
    th_wr(t, RH_TSS_BASE + 0x66, RH_IOMAP, 2);
    for (unsigned b = 0; b <= 0x2000; b++)
        th_wr(t, RH_TSS_BASE + RH_IOMAP + b, 0xff, 1);
    th_wr(t, RH_TSS_BASE + RH_IOMAP + 0x80 / 8, 0x00, 1);
    th_wr(t, RH_TSS_BASE + RH_IOMAP + 0x3f8 / 8, 0xfe, 1);
    rh_set_tss(t, 0xb, RH_IOMAP + 0x2000, RH_IOMAP);
}

void rh_set_tss(struct th *t, unsigned type, uint32_t limit, uint16_t iomap)
{
    struct seg tr = {RH_TSS, RH_TSS_BASE, limit, 0x80 | type};
    cpu_set_seg(t->vp, SEG_TR, &tr);
    th_wr(t, RH_TSS_BASE + 0x66, iomap, 2);
    if (type == 1 || type == 3) {
        /* 16-bit TSS: SP0 at 2, SS0 at 4 (over the 32-bit ESP0). */
        th_wr(t, RH_TSS_BASE + 2, 0xff00, 2);
        th_wr(t, RH_TSS_BASE + 4, RH_KDS, 2);
    }
}

void rh_boot(struct th *t, enum rh_mode m, unsigned cpl, unsigned iopl, bool ifl,
             const uint8_t *code, size_t len)
{
    th_init(t);
    if (m == RH_REAL) {
        th_mode16(t);
        for (uint32_t v = 0; v < 256; v++) {
            th_wr(t, TH_HANDLER + 16 * v, 0xf4, 1);
            th_wr(t, 4 * v, (uint32_t)(TH_HANDLER >> 4) << 16 | (16 * v), 4);
        }
    } else {
        bool lm = m != RH_PM32;
        if (lm) {
            th_mode64(t);
            th_user_pages(t);
        } else {
            th_mode32(t);
        }
        build_gdt(t, lm);
        build_idt(t, lm);
        build_tss(t, lm);
        if (m == RH_COMPAT)
            seg_set(t, SEG_CS, cpl ? RH_UCS32 : RH_KCS32, cpl ? 0xc0fb : 0xc09b);
        else if (cpl)
            seg_set(t, SEG_CS, m == RH_LM64 ? RH_UCS : RH_UCS32, m == RH_LM64 ? 0xa0fb : 0xc0fb);
        if (cpl) {
            for (unsigned s = SEG_ES; s <= SEG_GS; s++)
                if (s != SEG_CS)
                    seg_set(t, s, RH_UDS, 0xc0f3);
            cpu_set_gpr(t->vp, REG_RSP, RH_USER_STACK);
        }
    }
    cpu_set_rflags(t->vp, 2 | (uint64_t)iopl << 12 | (ifl ? 0x200 : 0));
    th_load(t, TH_CODE, code, len);
}

void rh_boot_v86(struct th *t, unsigned iopl, bool ifl, const uint8_t *code, size_t len)
{
    static const uint8_t iretd = 0xcf;
    rh_boot(t, RH_PM32, 0, 0, false, &iretd, 1);
    const uint32_t frame[9] = {0, RH_V86_CS, 0x20002 | iopl << 12 | (ifl ? 0x200u : 0), 0xfffe,
                               RH_V86_SS, RH_V86_DS, RH_V86_DS, 0, 0};
    uint64_t sp = TH_STACK - sizeof(frame);
    for (unsigned k = 0; k < 9; k++)
        th_wr(t, sp + 4 * k, frame[k], 4);
    cpu_set_gpr(t->vp, REG_RSP, sp);
    th_load(t, (uint64_t)RH_V86_CS << 4, code, len);
}

int rh_vector(struct th *t)
{
    struct seg cs;
    cpu_get_seg(t->vp, SEG_CS, &cs);
    uint64_t la = cs.base + cpu_get_rip(t->vp);
    if (la < TH_HANDLER + 1 || la > TH_HANDLER + 16 * 256 || (la - TH_HANDLER - 1) % 16)
        return -1;
    return (int)((la - TH_HANDLER - 1) / 16);
}

static bool has_errcode(struct th *t, int vec)
{
    if (!(cpu_get_cr(t->vp, 0) & 1))
        return false;
    return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
}

static unsigned frame_width(struct th *t)
{
    if (cpu_in_64bit_mode(t->vp))
        return 8;
    return (cpu_get_cr(t->vp, 0) & 1) ? 4 : 2;
}

static uint64_t stack_lin(struct th *t)
{
    struct seg ss;
    cpu_get_seg(t->vp, SEG_SS, &ss);
    uint64_t sp = cpu_get_gpr(t->vp, REG_RSP);
    return frame_width(t) == 2 ? ss.base + (sp & 0xffff) : ss.base + sp;
}

uint64_t rh_frame(struct th *t, unsigned k)
{
    unsigned w = frame_width(t);
    unsigned skip = has_errcode(t, rh_vector(t)) ? 1 : 0;
    return th_rd(t, stack_lin(t) + (uint64_t)w * (k + skip), w);
}

uint64_t rh_errcode(struct th *t)
{
    return th_rd(t, stack_lin(t), frame_width(t));
}
