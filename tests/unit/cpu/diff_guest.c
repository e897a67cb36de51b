/* Test guest for the differential/fuzz tests: descriptor tables, exception stubs, paging. */
#include "diff_guest.h"

#include <string.h>

static enum exit_action dg_exit(void *opaque, struct vcpu *vp, struct vmexit *ex)
{
    (void)vp;
    struct diff_guest *g = opaque;
    g->exits++;
    switch (ex->reason) {
    case EXIT_REASON_HLT:
        g->hlt_exits++;
        return g->hlt_continue ? EXIT_CONTINUE : EXIT_STOP;
    case EXIT_REASON_IO_INSTRUCTION:
        if (ex->u.io.in)
            ex->u.io.data = 0xffffffffu;
        return EXIT_CONTINUE;
    case EXIT_REASON_MSR_READ:
        ex->u.msr.value = 0;
        return EXIT_CONTINUE;
    case EXIT_REASON_CR_ACCESS:
        if (!ex->u.cr.write)
            ex->u.cr.value = 0;
        return EXIT_CONTINUE;
    default:
        return EXIT_CONTINUE;
    }
}

static int dg_intr_ack(void *opaque, struct vcpu *vp)
{
    (void)opaque;
    (void)vp;
    return -1;
}

static void put64(struct diff_guest *g, gpa_t a, uint64_t v) { physmem_write_u(&g->pm, a, v, 8); }

static void build_tables(struct diff_guest *g)
{
    /* null, 64-bit code, flat data, 32-bit code (SDM Vol 3 3.4.5). */
    put64(g, DG_GDT + 0x08, 0x00AF9B000000FFFFull);
    put64(g, DG_GDT + 0x10, 0x00CF93000000FFFFull);
    put64(g, DG_GDT + 0x18, 0x00CF9B000000FFFFull);
    for (unsigned v = 0; v < 256; v++) {
        uint64_t h = DG_STUBS + v;
        /* 64-bit interrupt gate (SDM Vol 3 6.14.1) and 32-bit interrupt gate (6.11). */
        put64(g, DG_IDT64 + v * 16, (h & 0xffff) | (uint64_t)DG_SEL_CODE64 << 16 |
                                         0x8Eull << 40 | ((h >> 16) & 0xffff) << 48);
        put64(g, DG_IDT64 + v * 16 + 8, h >> 32);
        put64(g, DG_IDT32 + v * 8, (h & 0xffff) | (uint64_t)DG_SEL_CODE32 << 16 |
                                        0x8Eull << 40 | ((h >> 16) & 0xffff) << 48);
        physmem_write_u(&g->pm, DG_STUBS + v, 0xF4, 1);
        /* Real-mode interrupt vector table at 0: offset, segment 0. */
        physmem_write_u(&g->pm, (gpa_t)v * 4, h & 0xffff, 4);
    }
}

static gpa_t pt_alloc(struct diff_guest *g)
{
    if (g->pt_used == 16)
        return 0;
    return DG_PT_POOL + 0x1000u * g->pt_used++;
}

/* Next-level table for entry idx of the table at t, created on demand. */
static gpa_t pt_next(struct diff_guest *g, gpa_t t, unsigned idx)
{
    uint64_t e = physmem_read_u(&g->pm, t + idx * 8, 8);
    if (e & 1)
        return e & 0x000ffffffffff000ull;
    gpa_t n = pt_alloc(g);
    if (n)
        put64(g, t + idx * 8, n | 0x7);
    return n;
}

static int map_2m(struct diff_guest *g, uint64_t va, gpa_t pa)
{
    gpa_t pml4 = DG_PT_POOL;
    gpa_t pdpt = pt_next(g, pml4, (va >> 39) & 511);
    gpa_t pd = pdpt ? pt_next(g, pdpt, (va >> 30) & 511) : 0;
    if (!pd)
        return -1;
    put64(g, pd + ((va >> 21) & 511) * 8, pa | 0x87); /* P, RW, U, PS */
    return 0;
}

gpa_t dg_map_va(struct diff_guest *g, uint64_t va)
{
    uint64_t region = va & ~0x1fffffull;
    for (unsigned i = 0; i < g->nmapped; i++)
        if (g->mapped_va[i] == region)
            return g->mapped_gpa[i] + (va - region);
    if (!g->long_mode || g->nmapped == ARRAY_SIZE(g->mapped_va) ||
        g->next_region + 0x200000u > DG_RAM_SIZE)
        return UINT64_MAX;
    if (map_2m(g, region, g->next_region))
        return UINT64_MAX;
    g->mapped_va[g->nmapped] = region;
    g->mapped_gpa[g->nmapped++] = g->next_region;
    g->next_region += 0x200000u;
    return g->mapped_gpa[g->nmapped - 1] + (va - region);
}

int dg_init(struct diff_guest *g, bool long_mode)
{
    memset(g, 0, sizeof(*g));
    if (physmem_init(&g->pm, DG_RAM_SIZE))
        return -1;
    g->long_mode = long_mode;
    g->env.opaque = g;
    g->env.exit = dg_exit;
    g->env.intr_ack = dg_intr_ack;
    g->vp = cpu_create(&g->pm, &g->env, 0);
    if (!g->vp) {
        physmem_destroy(&g->pm);
        return -1;
    }
    build_tables(g);
    g->next_region = DG_LOW_END;
    if (long_mode) {
        pt_alloc(g); /* PML4 */
        if (map_2m(g, 0, 0))
            return -1;
        g->mapped_va[0] = 0;
        g->mapped_gpa[0] = 0;
        g->nmapped = 1;
    }
    return 0;
}

void dg_destroy(struct diff_guest *g)
{
    if (g->vp)
        cpu_destroy(g->vp);
    physmem_destroy(&g->pm);
    memset(g, 0, sizeof(*g));
}

static void set_seg(struct vcpu *vp, unsigned s, uint16_t sel, uint32_t attr)
{
    struct seg d = {sel, 0, 0xffffffffu, attr};
    cpu_set_seg(vp, s, &d);
}

static void load_sys(struct diff_guest *g);

void dg_load(struct diff_guest *g, const uint64_t gpr[16], uint64_t rflags, uint64_t rip)
{
    struct vcpu *vp = g->vp;
    cpu_set_halted(vp, false);
    if (!g->sys_valid || g->sys_compat != g->compat || g->sys_real != g->real)
        load_sys(g);
    for (unsigned r = 0; r < 16; r++)
        cpu_set_gpr(vp, r, gpr[r]);
    cpu_set_rflags(vp, rflags);
    cpu_set_rip(vp, rip);
}

void dg_load_xmm(struct diff_guest *g, const uint64_t xmm[16][2])
{
    for (unsigned k = 0; k < 16; k++)
        cpu_set_xmm(g->vp, k, xmm[k]);
}

static void load_sys(struct diff_guest *g)
{
    struct vcpu *vp = g->vp;
    g->sys_valid = true;
    g->sys_compat = g->compat;
    g->sys_real = g->real;
    if (g->real) {
        /* Real mode: segment bases are selector * 16, 64 KiB limits (SDM Vol 3 20.1). */
        cpu_set_cr(vp, 4, 0);
        cpu_set_cr(vp, 3, 0);
        cpu_set_efer(vp, 0);
        cpu_set_cr(vp, 0, 0x10u); /* ET */
        for (unsigned sg = 0; sg < SEG_LDTR; sg++) {
            uint16_t sel = sg == SEG_CS ? DG_REAL_CS : 0;
            struct seg d = {sel, (uint64_t)sel << 4, 0xffff, sg == SEG_CS ? 0x9Bu : 0x93u};
            cpu_set_seg(vp, sg, &d);
        }
        cpu_set_dtr(vp, true, &(struct dtr){0, 0x3ff});
        cpu_set_dtr(vp, false, &(struct dtr){DG_GDT, 0x1f});
        struct seg ldtr = {0, 0, 0xffff, 0x82};
        cpu_set_seg(vp, SEG_LDTR, &ldtr);
        struct seg tr = {0, 0, 0xffff, 0x8B};
        cpu_set_seg(vp, SEG_TR, &tr);
        return;
    }
    if (g->long_mode) {
        cpu_set_cr(vp, 4, 0x20 | 0x200 | 0x400);          /* PAE, OSFXSR, OSXMMEXCPT */
        cpu_set_cr(vp, 3, DG_PT_POOL);
        cpu_set_efer(vp, 0x500);                          /* LME, LMA */
        cpu_set_cr(vp, 0, 0x80000033u);                   /* PG, NE, ET, MP, PE */
        if (g->compat)
            set_seg(vp, SEG_CS, DG_SEL_CODE32, 0xC09B);
        else
            set_seg(vp, SEG_CS, DG_SEL_CODE64, 0xA09B);
        cpu_set_dtr(vp, true, &(struct dtr){DG_IDT64, 0xfff});
    } else {
        cpu_set_cr(vp, 4, 0x200 | 0x400);
        cpu_set_cr(vp, 3, 0);
        cpu_set_efer(vp, 0);
        cpu_set_cr(vp, 0, 0x33u);
        set_seg(vp, SEG_CS, DG_SEL_CODE32, 0xC09B);
        cpu_set_dtr(vp, true, &(struct dtr){DG_IDT32, 0x7ff});
    }
    cpu_set_dtr(vp, false, &(struct dtr){DG_GDT, 0x1f});
    for (unsigned s = 0; s < SEG_LDTR; s++)
        if (s != SEG_CS)
            set_seg(vp, s, DG_SEL_DATA, 0xC093);
    struct seg ldtr = {0, 0, 0, 1u << 16};
    cpu_set_seg(vp, SEG_LDTR, &ldtr);
    struct seg tr = {0, 0, 0x67, 0x8B};
    cpu_set_seg(vp, SEG_TR, &tr);
}

void dg_run(struct diff_guest *g, uint64_t budget, unsigned max_calls, struct dg_result *out)
{
    struct vcpu *vp = g->vp;
    uint64_t start = cpu_icount(vp);
    out->stop = CPU_STOP_BUDGET;
    out->halted = false;
    for (unsigned i = 0; i < max_calls; i++) {
        uint64_t hlt_before = g->hlt_exits;
        out->stop = cpu_run(vp, budget);
        if (out->stop == CPU_STOP_HALT || g->hlt_exits != hlt_before) {
            out->halted = true;
            break;
        }
        if (out->stop != CPU_STOP_BUDGET && out->stop != CPU_STOP_KICK)
            break;
    }
    for (unsigned r = 0; r < 16; r++)
        out->gpr[r] = cpu_get_gpr(vp, r);
    for (unsigned k = 0; k < 16; k++)
        cpu_get_xmm(vp, k, out->xmm[k]);
    out->rflags = cpu_get_rflags(vp);
    out->rip = cpu_get_rip(vp);
    out->cr2 = cpu_get_cr(vp, 2);
    out->icount = cpu_icount(vp) - start;
    out->vector = -1;
    struct seg cs;
    cpu_get_seg(vp, SEG_CS, &cs);
    if (out->halted && cs.base == 0 && out->rip > DG_STUBS && out->rip <= DG_STUBS + 256)
        out->vector = (int)(out->rip - DG_STUBS - 1);
    /* An exception taken in 64-bit mode at CPL 0 goes through a 64-bit gate to the same
     * code selector and leaves control registers and segments as dg_load set them; from
     * compatibility mode it changes CS, and anything else is not known. */
    if (!out->halted || (out->vector >= 0 && g->compat))
        g->sys_valid = false;
    /* A triple fault sticks until reset (SDM Vol 3 6.15: shutdown). */
    if (out->stop == CPU_STOP_SHUTDOWN)
        cpu_reset(vp);
}
