/* Local APIC: register semantics, priorities, EOI, timer modes on the virtual clock, IPIs of
 * every kind between four LAPICs on one bus, x2APIC MSR rules and IA32_APIC_BASE transitions. */
#include <criterion/criterion.h>

#include "dev_fuzz.h"

#include "devices/lapic.h"

/* Script steps leave their unused trailing operands to zero-initialisation. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define NCPU 4

struct vp_rec {
    bool intr;
    unsigned nmi, init, sipi, kicks;
    int sipi_vector;
};

struct rig {
    struct vclock clock;
    struct apic_bus bus;
    struct lapic l[NCPU];
    struct vp_rec vp[NCPU];
    int last_eoi_broadcast;
    int last_eoi_hook;
};

static void rec_intr(void *o, bool level) { ((struct vp_rec *)o)->intr = level; }
static void rec_nmi(void *o) { ((struct vp_rec *)o)->nmi++; }
static void rec_init(void *o) { ((struct vp_rec *)o)->init++; }
static void rec_sipi(void *o, uint8_t v)
{
    ((struct vp_rec *)o)->sipi++;
    ((struct vp_rec *)o)->sipi_vector = v;
}
static void rec_kick(void *o) { ((struct vp_rec *)o)->kicks++; }
static void rec_eoi(void *o, uint8_t v) { ((struct rig *)o)->last_eoi_broadcast = v; }
static void rec_hook(void *o, uint8_t v) { ((struct rig *)o)->last_eoi_hook = v; }

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    vclock_init(&r->clock);
    apic_bus_init(&r->bus);
    apic_bus_set_eoi_broadcast(&r->bus, rec_eoi, r);
    r->last_eoi_broadcast = r->last_eoi_hook = -1;
    for (unsigned i = 0; i < NCPU; i++) {
        struct lapic_cpu_ops ops = { &r->vp[i], rec_intr, rec_nmi, rec_init, rec_sipi, rec_kick };
        cr_assert_eq(lapic_init(&r->l[i], &r->bus, &r->clock, &ops, i, i == 0), 0);
        lapic_set_eoi_hook(&r->l[i], rec_hook, r);
    }
}

/* Register offsets. */
enum {
    ID = 0x20, VER = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xA0, EOI = 0xB0, LDR = 0xD0, DFR = 0xE0,
    SVR = 0xF0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR = 0x300, ICR2 = 0x310,
    LVTT = 0x320, LINT0 = 0x350, LINT1 = 0x360, LVTE = 0x370, TICR = 0x380, TCCR = 0x390,
    TDCR = 0x3E0,
};

enum op {
    END,
    W,      /* a: cpu, b: offset, c: value (32-bit MMIO write) */
    R,      /* a: cpu, b: offset, c: expected */
    WM,     /* a: cpu, b: msr, c: value, d: expected rc */
    RM,     /* a: cpu, b: msr, c: expected value, d: expected rc */
    SETIRR, /* a: cpu, b: vector, c: level */
    ACK,    /* a: cpu, b: expected lapic_ack result */
    HAS,    /* a: cpu, b: expected lapic_has_intr */
    INTR,   /* a: cpu, b: expected level last given to set_intr */
    NMI,    /* a: cpu, b: expected NMI count */
    INITS,  /* a: cpu, b: expected INIT count */
    SIPI,   /* a: cpu, b: expected SIPI count, c: expected vector */
    KICKS,  /* a: cpu, b: expected kick count */
    IRRBIT, /* a: cpu, b: vector, c: expected bit */
    ADV,    /* a: advance virtual time by a ns */
    EOIB,   /* a: expected last EOI broadcast vector (-1 none) */
    HOOK,   /* a: expected last EOI-hook vector */
    AUTOEOI,/* a: cpu, b: vector */
    LINT,   /* a: cpu, b: pin, c: level */
    PICINTR,/* a: level on every LINT0 */
    CR8W,   /* a: cpu, b: value */
    CR8R,   /* a: cpu, b: expected */
    ENABLE, /* a: cpu: software-enable (SVR 0x1FF) */
    X2,     /* a: cpu: enable x2APIC mode */
};

struct step { enum op op; int64_t a, b, c, d; };
struct lcase { const char *name; struct step s[40]; };

#define EN(c) {ENABLE, c, 0, 0, 0}
#define ALL_EN EN(0), EN(1), EN(2), EN(3)
#define APIC_BASE_X2 (LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD)

static void run_case(const struct lcase *c)
{
    struct rig r;
    rig_init(&r);
    for (unsigned i = 0; c->s[i].op != END; i++) {
        const struct step *s = &c->s[i];
        struct lapic *l = &r.l[s->a & 3];
        struct vp_rec *vp = &r.vp[s->a & 3];
        uint64_t v = 0;
        switch (s->op) {
        case W: lapic_mmio_write(l, (gpa_t)s->b, (uint64_t)s->c, 4); break;
        case R:
            v = lapic_mmio_read(l, (gpa_t)s->b, 4);
            cr_assert_eq(v, (uint64_t)s->c, "%s: step %u: read %#llx = %#llx, want %#llx", c->name,
                         i, (unsigned long long)s->b, (unsigned long long)v,
                         (unsigned long long)s->c);
            break;
        case WM: {
            int rc = lapic_msr_write(l, (uint32_t)s->b, (uint64_t)s->c);
            cr_assert_eq(rc, s->d, "%s: step %u: wrmsr %#llx rc %d", c->name, i,
                         (unsigned long long)s->b, rc);
            break;
        }
        case RM: {
            int rc = lapic_msr_read(l, (uint32_t)s->b, &v);
            cr_assert_eq(rc, s->d, "%s: step %u: rdmsr %#llx rc %d", c->name, i,
                         (unsigned long long)s->b, rc);
            if (rc == 0)
                cr_assert_eq(v, (uint64_t)s->c, "%s: step %u: rdmsr %#llx = %#llx", c->name, i,
                             (unsigned long long)s->b, (unsigned long long)v);
            break;
        }
        case SETIRR: lapic_set_irr(l, (uint8_t)s->b, s->c != 0); break;
        case ACK: {
            int got = lapic_ack(l);
            cr_assert_eq(got, s->b, "%s: step %u: ack %d want %d", c->name, i, got, (int)s->b);
            break;
        }
        case HAS:
            cr_assert_eq(lapic_has_intr(l), s->b != 0, "%s: step %u: has_intr", c->name, i);
            break;
        case INTR: cr_assert_eq(vp->intr, s->b != 0, "%s: step %u: INTR line", c->name, i); break;
        case NMI: cr_assert_eq(vp->nmi, s->b, "%s: step %u: NMI count %u", c->name, i, vp->nmi); break;
        case INITS:
            cr_assert_eq(vp->init, s->b, "%s: step %u: INIT count %u", c->name, i, vp->init);
            break;
        case SIPI:
            cr_assert_eq(vp->sipi, s->b, "%s: step %u: SIPI count %u", c->name, i, vp->sipi);
            if (s->b)
                cr_assert_eq(vp->sipi_vector, s->c, "%s: step %u: SIPI vector", c->name, i);
            break;
        case KICKS:
            cr_assert_eq(vp->kicks, s->b, "%s: step %u: kicks %u want %lld", c->name, i, vp->kicks,
                         (long long)s->b);
            break;
        case IRRBIT: {
            bool bit = (lapic_mmio_read(l, IRR + 0x10 * (gpa_t)(s->b / 32), 4) >> (s->b % 32)) & 1;
            if (lapic_is_x2apic(l)) {
                lapic_msr_read(l, 0x820 + (uint32_t)(s->b / 32), &v);
                bit = (v >> (s->b % 32)) & 1;
            }
            cr_assert_eq(bit, s->c != 0, "%s: step %u: cpu %lld IRR[%#llx] = %d", c->name, i,
                         (long long)s->a, (unsigned long long)s->b, bit);
            break;
        }
        case ADV: vclock_advance_to(&r.clock, vclock_now(&r.clock) + (uint64_t)s->a); break;
        case EOIB:
            cr_assert_eq(r.last_eoi_broadcast, s->a, "%s: step %u: EOI broadcast %d", c->name, i,
                         r.last_eoi_broadcast);
            break;
        case HOOK:
            cr_assert_eq(r.last_eoi_hook, s->a, "%s: step %u: EOI hook %d", c->name, i,
                         r.last_eoi_hook);
            break;
        case AUTOEOI: lapic_set_auto_eoi(l, (uint8_t)s->b, true); break;
        case LINT: lapic_set_lint(l, (unsigned)s->b, s->c != 0); break;
        case PICINTR: apic_bus_pic_intr(&r.bus, 0, (int)s->a); break;
        case CR8W: lapic_set_cr8(l, (uint64_t)s->b); break;
        case CR8R: cr_assert_eq(lapic_get_cr8(l), (uint64_t)s->b, "%s: step %u: CR8", c->name, i); break;
        case ENABLE: lapic_mmio_write(l, SVR, 0x1FF, 4); break;
        case X2:
            cr_assert_eq(lapic_msr_write(l, MSR_IA32_APIC_BASE, APIC_BASE_X2), 0);
            break;
        case END: break;
        }
    }
}

/* ---- registers, priorities, EOI ---- */

static const struct lcase reg_cases[] = {
    {"reset values", {{R, 1, ID, 1 << 24}, {R, 0, VER, 0x50014}, {R, 1, SVR, 0xFF},
        {R, 1, DFR, 0xFFFFFFFF}, {R, 1, LVTT, 0x10000}, {R, 1, LINT0, 0x10000},
        {R, 0, LINT0, 0x700}, {R, 1, LVTE, 0x10000}, {R, 1, TPR, 0},
        {RM, 0, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP, 0},
        {RM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN, 0}}},
    {"write masks", {{W, 1, TPR, 0x1FF}, {R, 1, TPR, 0xFF}, {W, 1, LDR, 0x12345678},
        {R, 1, LDR, 0x12000000}, {W, 1, DFR, 0x0}, {R, 1, DFR, 0x0FFFFFFF}, {W, 1, ID, 0x07ABCDEF},
        {R, 1, ID, 0x07000000}, {W, 1, VER, 0}, {R, 1, VER, 0x50014}, {W, 1, TDCR, 0xFF},
        {R, 1, TDCR, 0xB}, {W, 1, ICR2, 0xFFFFFFFF}, {R, 1, ICR2, 0xFF000000}}},
    {"LVT stays masked while software-disabled", {{W, 1, LVTT, 0x20}, {R, 1, LVTT, 0x10020},
        EN(1), {W, 1, LVTT, 0x20}, {R, 1, LVTT, 0x20}, {W, 1, LINT1, 0x400}, {R, 1, LINT1, 0x400},
        {W, 1, SVR, 0xFF}, {R, 1, LVTT, 0x10020}, {R, 1, LINT1, 0x10400}}},
    {"ESR latches on write, then reads", {EN(1), {W, 1, ICR, 0x05}, {R, 1, ESR, 0},
        {W, 1, ESR, 0}, {R, 1, ESR, 0x20}, {W, 1, ESR, 0}, {R, 1, ESR, 0}}},
    {"unimplemented register sets ESR bit 7", {EN(1), {R, 1, 0x2F0, 0}, {W, 1, ESR, 0},
        {R, 1, ESR, 0x80}}},
    {"error LVT delivers on an error", {EN(1), {W, 1, LVTE, 0xEE}, {W, 1, ICR, 0x03},
        {IRRBIT, 1, 0xEE, 1}}},
    {"illegal received vector rejected", {EN(1), {SETIRR, 1, 7, 0}, {HAS, 1, 0}, {W, 1, ESR, 0},
        {R, 1, ESR, 0x40}}},
    {"highest vector first; ISR blocks its class", {EN(1), {SETIRR, 1, 0x31, 0},
        {SETIRR, 1, 0x51, 0}, {INTR, 1, 1}, {ACK, 1, 0x51}, {R, 1, PPR, 0x50}, {HAS, 1, 0},
        {INTR, 1, 0}, {R, 1, ISR + 0x20, 1u << 17}, {R, 1, IRR + 0x10, 1u << 17},
        {SETIRR, 1, 0x55, 0}, {HAS, 1, 0}, {SETIRR, 1, 0x61, 0}, {ACK, 1, 0x61}, {W, 1, EOI, 0},
        {ACK, 1, -1}, {W, 1, EOI, 0}, {ACK, 1, 0x55}, {W, 1, EOI, 0}, {R, 1, ISR + 0x20, 0},
        {ACK, 1, 0x31}, {W, 1, EOI, 0}, {R, 1, PPR, 0}, {ACK, 1, -1}}},
    {"TPR gates delivery, PPR follows", {EN(1), {W, 1, TPR, 0x57}, {R, 1, PPR, 0x57},
        {SETIRR, 1, 0x45, 0}, {SETIRR, 1, 0x5F, 0}, {HAS, 1, 0}, {SETIRR, 1, 0x60, 0},
        {HAS, 1, 1}, {ACK, 1, 0x60}, {R, 1, PPR, 0x60}, {W, 1, EOI, 0}, {W, 1, TPR, 0},
        {ACK, 1, 0x5F}, {R, 1, PPR, 0x50}}},
    {"APR per SDM 10.8.3.1", {EN(1), {W, 1, TPR, 0x42}, {R, 1, APR, 0x42}, {SETIRR, 1, 0x45, 0},
        {R, 1, APR, 0x42}, {SETIRR, 1, 0x81, 0},
        {R, 1, APR, 0x80}, {ACK, 1, 0x81}, {R, 1, APR, 0x80}, {W, 1, EOI, 0}, {R, 1, APR, 0x42}}},
    {"CR8 is TPR[7:4]", {{CR8W, 1, 0x9}, {R, 1, TPR, 0x90}, {W, 1, TPR, 0xA5}, {CR8R, 1, 0xA},
        EN(1), {SETIRR, 1, 0xA9, 0}, {HAS, 1, 0}, {CR8W, 1, 0}, {HAS, 1, 1}}},
    {"level EOI broadcast, edge EOI not", {EN(1), {SETIRR, 1, 0x40, 1}, {R, 1, TMR + 0x20, 1},
        {ACK, 1, 0x40}, {W, 1, EOI, 0}, {EOIB, 0x40}, {HOOK, 0x40}, {SETIRR, 1, 0x70, 0},
        {ACK, 1, 0x70}, {W, 1, EOI, 0}, {EOIB, 0x40}, {HOOK, 0x70}}},
    {"auto-EOI vector skips ISR", {EN(1), {AUTOEOI, 1, 0x93}, {SETIRR, 1, 0x93, 0},
        {ACK, 1, 0x93}, {R, 1, ISR + 0x40, 0}, {R, 1, PPR, 0}, {HOOK, 0x93}}},
    {"virtual wire: BSP takes ExtINT from LINT0", {{PICINTR, 1}, {HAS, 0, 1}, {INTR, 0, 1},
        {HAS, 1, 0}, {ACK, 0, LAPIC_ACK_EXTINT}, {PICINTR, 0}, {HAS, 0, 0}, {INTR, 0, 0}}},
    {"disabled APIC passes INTR and NMI pins through", {
        {WM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE, 0}, {LINT, 1, 0, 1}, {HAS, 1, 1},
        {ACK, 1, LAPIC_ACK_EXTINT}, {LINT, 1, 1, 1}, {NMI, 1, 1}, {R, 1, VER, 0xFFFFFFFF}}},
    {"LINT1 NMI on rising edge", {EN(1), {W, 1, LINT1, 0x400}, {LINT, 1, 1, 1}, {LINT, 1, 1, 1},
        {NMI, 1, 1}, {LINT, 1, 1, 0}, {LINT, 1, 1, 1}, {NMI, 1, 2}}},
    {"software-disabled APIC drops fixed, keeps pending", {{SETIRR, 1, 0x50, 0},
        {W, 0, ICR2, 1 << 24}, {W, 0, ICR, 0x4051}, {IRRBIT, 1, 0x51, 0}, {HAS, 1, 1},
        {ACK, 1, 0x50}}},
};

/* ---- timer ---- */

static const struct lcase timer_cases[] = {
    {"one-shot divide 16 fires at count*16 ns", {EN(1), {W, 1, TDCR, 0x3}, {W, 1, LVTT, 0x30},
        {W, 1, TICR, 1000}, {R, 1, TCCR, 1000}, {ADV, 8000}, {R, 1, TCCR, 500}, {ADV, 7999},
        {IRRBIT, 1, 0x30, 0}, {R, 1, TCCR, 1}, {ADV, 1}, {IRRBIT, 1, 0x30, 1}, {R, 1, TCCR, 0},
        {ACK, 1, 0x30}, {W, 1, EOI, 0}, {ADV, 100000}, {IRRBIT, 1, 0x30, 0}}},
    {"divide-by-1 encoding 0xB and divide 128", {EN(1), {W, 1, TDCR, 0xB}, {W, 1, LVTT, 0x31},
        {W, 1, TICR, 50}, {ADV, 49}, {IRRBIT, 1, 0x31, 0}, {ADV, 1}, {IRRBIT, 1, 0x31, 1},
        {W, 1, TDCR, 0xA}, {W, 1, LVTT, 0x32}, {W, 1, TICR, 2}, {ADV, 255}, {IRRBIT, 1, 0x32, 0},
        {ADV, 1}, {IRRBIT, 1, 0x32, 1}}},
    {"periodic reloads and keeps phase", {EN(1), {W, 1, TDCR, 0xB}, {W, 1, LVTT, 0x20040},
        {W, 1, TICR, 1000}, {ADV, 3500}, {KICKS, 1, 3}, {R, 1, TCCR, 500}, {ADV, 500},
        {KICKS, 1, 4}, {R, 1, TCCR, 1000}, {W, 1, TICR, 0}, {ADV, 5000}, {KICKS, 1, 4}}},
    {"masked timer counts without interrupting", {EN(1), {W, 1, TDCR, 0xB},
        {W, 1, LVTT, 0x10033}, {W, 1, TICR, 100}, {ADV, 40}, {R, 1, TCCR, 60}, {ADV, 100},
        {IRRBIT, 1, 0x33, 0}, {R, 1, TCCR, 0}}},
    {"divide change continues the count", {EN(1), {W, 1, TDCR, 0xB}, {W, 1, LVTT, 0x34},
        {W, 1, TICR, 100}, {ADV, 50}, {W, 1, TDCR, 0x0}, {R, 1, TCCR, 50}, {ADV, 99},
        {IRRBIT, 1, 0x34, 0}, {ADV, 1}, {IRRBIT, 1, 0x34, 1}}},
    {"TSC deadline fires at the TSC value", {EN(1), {W, 1, LVTT, 0x40035},
        {WM, 1, MSR_IA32_TSC_DEADLINE, 5000, 0}, {RM, 1, MSR_IA32_TSC_DEADLINE, 5000, 0},
        {W, 1, TICR, 10}, {R, 1, TICR, 0}, {R, 1, TCCR, 0}, {ADV, 4999}, {IRRBIT, 1, 0x35, 0},
        {ADV, 1}, {IRRBIT, 1, 0x35, 1}, {RM, 1, MSR_IA32_TSC_DEADLINE, 0, 0}}},
    {"TSC deadline at the end of time never fires", {EN(1), {W, 1, LVTT, 0x40038},
        {WM, 1, MSR_IA32_TSC_DEADLINE, -1, 0}, {ADV, 1000000}, {IRRBIT, 1, 0x38, 0},
        {RM, 1, MSR_IA32_TSC_DEADLINE, -1, 0}}},
    {"TSC deadline in the past fires at once; 0 disarms", {EN(1), {ADV, 1000},
        {W, 1, LVTT, 0x40036}, {WM, 1, MSR_IA32_TSC_DEADLINE, 10, 0}, {IRRBIT, 1, 0x36, 1},
        {ACK, 1, 0x36}, {W, 1, EOI, 0}, {WM, 1, MSR_IA32_TSC_DEADLINE, 2000, 0},
        {WM, 1, MSR_IA32_TSC_DEADLINE, 0, 0}, {ADV, 5000}, {IRRBIT, 1, 0x36, 0}}},
    {"TSC deadline ignored outside its mode; mode switch disarms", {EN(1),
        {W, 1, LVTT, 0x37}, {WM, 1, MSR_IA32_TSC_DEADLINE, 100, 0},
        {RM, 1, MSR_IA32_TSC_DEADLINE, 0, 0}, {W, 1, TDCR, 0xB}, {W, 1, TICR, 100},
        {W, 1, LVTT, 0x40037}, {R, 1, TICR, 0}, {ADV, 1000}, {IRRBIT, 1, 0x37, 0},
        {WM, 1, MSR_IA32_TSC_DEADLINE, 2000, 0}, {W, 1, LVTT, 0x37}, {ADV, 1000},
        {IRRBIT, 1, 0x37, 0}}},
};

/* ---- IPIs ---- */

#define IPI(from, dest, lo) {W, from, ICR2, (int64_t)(dest) << 24, 0}, {W, from, ICR, lo, 0}
#define FLAT(c, bits) {W, c, LDR, (int64_t)(bits) << 24, 0}
#define CLUSTER(c, v) {W, c, DFR, 0x0FFFFFFF, 0}, {W, c, LDR, (int64_t)(v) << 24, 0}

static const struct lcase ipi_cases[] = {
    {"fixed physical", {ALL_EN, IPI(0, 2, 0x4041), {IRRBIT, 2, 0x41, 1}, {IRRBIT, 1, 0x41, 0},
        {IRRBIT, 0, 0x41, 0}, {R, 0, ICR, 0x4041}}},
    {"physical broadcast 0xFF", {ALL_EN, IPI(1, 0xFF, 0x4042), {IRRBIT, 0, 0x42, 1},
        {IRRBIT, 1, 0x42, 1}, {IRRBIT, 2, 0x42, 1}, {IRRBIT, 3, 0x42, 1}}},
    {"shorthand self", {ALL_EN, IPI(1, 3, 0x44043), {IRRBIT, 1, 0x43, 1}, {IRRBIT, 3, 0x43, 0}}},
    {"shorthand all including self", {ALL_EN, IPI(1, 0, 0x84044), {IRRBIT, 0, 0x44, 1},
        {IRRBIT, 1, 0x44, 1}, {IRRBIT, 2, 0x44, 1}, {IRRBIT, 3, 0x44, 1}}},
    {"shorthand all excluding self", {ALL_EN, IPI(1, 0, 0xC4045), {IRRBIT, 0, 0x45, 1},
        {IRRBIT, 1, 0x45, 0}, {IRRBIT, 2, 0x45, 1}, {IRRBIT, 3, 0x45, 1}}},
    {"logical flat", {ALL_EN, FLAT(0, 1), FLAT(1, 2), FLAT(2, 4), FLAT(3, 8),
        IPI(0, 0x06, 0x4846), {IRRBIT, 0, 0x46, 0}, {IRRBIT, 1, 0x46, 1}, {IRRBIT, 2, 0x46, 1},
        {IRRBIT, 3, 0x46, 0}}},
    {"logical cluster", {ALL_EN, CLUSTER(0, 0x11), CLUSTER(1, 0x12), CLUSTER(2, 0x21),
        CLUSTER(3, 0x22), IPI(0, 0x13, 0x4847), {IRRBIT, 0, 0x47, 1}, {IRRBIT, 1, 0x47, 1},
        {IRRBIT, 2, 0x47, 0}, {IRRBIT, 3, 0x47, 0}, IPI(0, 0x22, 0x4848), {IRRBIT, 2, 0x48, 0},
        {IRRBIT, 3, 0x48, 1}}},
    {"lowest priority picks lowest TPR", {ALL_EN, FLAT(0, 1), FLAT(1, 2), FLAT(2, 4), FLAT(3, 8),
        {W, 1, TPR, 0x30}, {W, 2, TPR, 0x10}, {W, 3, TPR, 0x20}, IPI(0, 0x0E, 0x4949),
        {IRRBIT, 1, 0x49, 0}, {IRRBIT, 2, 0x49, 1}, {IRRBIT, 3, 0x49, 0}}},
    {"lowest priority tie goes to lowest index", {ALL_EN, FLAT(0, 1), FLAT(1, 2), FLAT(2, 4),
        FLAT(3, 8), IPI(0, 0x0C, 0x494A), {IRRBIT, 2, 0x4A, 1}, {IRRBIT, 3, 0x4A, 0}}},
    {"NMI", {IPI(0, 3, 0x4400), {NMI, 3, 1}, {NMI, 0, 0}, {KICKS, 3, 1}}},
    {"INIT resets the target, de-assert ignored", {ALL_EN, {W, 2, TPR, 0x40},
        IPI(0, 2, 0xC500), {INITS, 2, 1}, {R, 2, TPR, 0}, {R, 2, SVR, 0xFF},
        {R, 2, ID, 2 << 24}, IPI(0, 2, 0x8500), {INITS, 2, 1}}},
    {"SIPI carries its vector", {IPI(0, 1, 0x4699), {SIPI, 1, 1, 0x99}, {SIPI, 2, 0, 0}}},
    {"SMI is ignored", {ALL_EN, IPI(0, 1, 0x4200), {NMI, 1, 0}, {INITS, 1, 0}, {HAS, 1, 0}}},
    {"send illegal vector", {ALL_EN, IPI(0, 1, 0x400F), {IRRBIT, 1, 0x0F, 0}, {W, 0, ESR, 0},
        {R, 0, ESR, 0x20}}},
    {"software-disabled target still takes NMI", {IPI(0, 1, 0x4050), {IRRBIT, 1, 0x50, 0},
        IPI(0, 1, 0x4400), {NMI, 1, 1}}},
    {"x2APIC physical with 32-bit destination", {ALL_EN, {X2, 0}, {X2, 3},
        {WM, 0, 0x830, (3ll << 32) | 0x4051, 0}, {IRRBIT, 3, 0x51, 1}, {IRRBIT, 1, 0x51, 0},
        {RM, 0, 0x830, (3ll << 32) | 0x4051, 0}}},
    {"x2APIC logical cluster", {ALL_EN, {X2, 0}, {X2, 1}, {X2, 2}, {X2, 3},
        {RM, 2, 0x80D, 0x4, 0}, {WM, 0, 0x830, (5ll << 32) | 0x4852, 0}, {IRRBIT, 0, 0x52, 1},
        {IRRBIT, 1, 0x52, 0}, {IRRBIT, 2, 0x52, 1}, {IRRBIT, 3, 0x52, 0},
        {WM, 0, 0x830, (0x10001ll << 32) | 0x4853, 0}, {IRRBIT, 0, 0x53, 0}}},
    {"x2APIC SELF IPI", {ALL_EN, {X2, 2}, {WM, 2, 0x83F, 0x54, 0}, {IRRBIT, 2, 0x54, 1},
        {IRRBIT, 0, 0x54, 0}, {WM, 2, 0x83F, 0x154, -1}}},
};

/* ---- x2APIC MSR rules and IA32_APIC_BASE transitions ---- */

static const struct lcase msr_cases[] = {
    {"x2APIC MSRs #GP in xAPIC mode", {{RM, 1, 0x802, 0, -1}, {WM, 1, 0x808, 0, -1}}},
    {"x2APIC read-only, write-only and absent registers", {{X2, 2}, {RM, 2, 0x802, 2, 0},
        {WM, 2, 0x802, 5, -1}, {RM, 2, 0x803, 0x50014, 0}, {RM, 2, 0x80B, 0, -1},
        {WM, 2, 0x80B, 0, 0}, {WM, 2, 0x80B, 1, -1}, {RM, 2, 0x809, 0, -1},
        {RM, 2, 0x80E, 0, -1}, {WM, 2, 0x80E, 0, -1}, {RM, 2, 0x831, 0, -1},
        {RM, 2, 0x83F, 0, -1}, {RM, 2, 0x80D, 0x4, 0}, {WM, 2, 0x80D, 0, -1},
        {WM, 2, 0x839, 0, -1}, {RM, 2, 0x8FF, 0, -1}, {WM, 2, 0x800, 0, -1},
        {RM, 2, 0x82F, 0, -1}}},
    {"x2APIC reserved bits #GP", {{X2, 2}, {WM, 2, 0x808, 0x100, -1}, {WM, 2, 0x808, 0x20, 0},
        {RM, 2, 0x808, 0x20, 0}, {WM, 2, 0x828, 1, -1}, {WM, 2, 0x828, 0, 0},
        {WM, 2, 0x830, 0x1000, -1}, {WM, 2, 0x80F, 1ll << 32, -1}, {WM, 2, 0x80F, 0x1FF, 0},
        {WM, 2, 0x832, 0x80000, -1}, {WM, 2, 0x83E, 0x10, -1}}},
    {"xAPIC MMIO gone in x2APIC mode", {{X2, 1}, {R, 1, VER, 0xFFFFFFFF}, {W, 1, TPR, 0x50},
        {RM, 1, 0x808, 0, 0}}},
    {"APIC base: legal transitions", {{X2, 1},
        {WM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN, -1},
        {WM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE, 0},
        {WM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN, 0},
        {RM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN, 0},
        {R, 1, VER, 0x50014}}},
    {"APIC base: illegal values", {
        {WM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EXTD, -1},
        {WM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN | (1 << 9), -1},
        {WM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN | 1, -1},
        {WM, 1, MSR_IA32_APIC_BASE, (1ll << MMU_MAXPHYADDR) | LAPIC_DEFAULT_BASE | APIC_BASE_EN, -1},
        {WM, 1, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE, 0},
        {WM, 1, MSR_IA32_APIC_BASE, APIC_BASE_X2, -1}}},
    {"APIC base: BSP bit read-only, base relocates", {
        {WM, 1, MSR_IA32_APIC_BASE, 0xFED00000 | APIC_BASE_EN | APIC_BASE_BSP, 0},
        {RM, 1, MSR_IA32_APIC_BASE, 0xFED00000 | APIC_BASE_EN, 0},
        {WM, 0, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN, 0},
        {RM, 0, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP, 0}}},
    {"x2APIC ID survives xAPIC ID writes", {{W, 3, ID, 0x09000000}, {R, 3, ID, 0x09000000},
        {X2, 3}, {RM, 3, 0x802, 3, 0}, {RM, 3, 0x80D, 0x8, 0}}},
};

static void run_table(const struct lcase *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_case(&t[i]);
}

Test(lapic, registers) { run_table(reg_cases, ARRAY_SIZE(reg_cases)); }
Test(lapic, timer) { run_table(timer_cases, ARRAY_SIZE(timer_cases)); }
Test(lapic, ipi) { run_table(ipi_cases, ARRAY_SIZE(ipi_cases)); }
Test(lapic, msr) { run_table(msr_cases, ARRAY_SIZE(msr_cases)); }

/* Messages from the IOAPIC/HPET/hypervisor side of the bus, and MSI decoding. */
struct bus_case {
    const char *name;
    uint32_t dest;
    unsigned dest_mode, dm;
    uint8_t vector;
    unsigned want_mask; /* which CPUs get the vector in IRR */
};

static const struct bus_case bus_cases[] = {
    {"physical 2", 2, APIC_DEST_PHYSICAL, APIC_DM_FIXED, 0x60, 0x4},
    {"physical broadcast", APIC_DEST_BROADCAST, APIC_DEST_PHYSICAL, APIC_DM_FIXED, 0x61, 0xF},
    {"logical flat 0x9", 0x9, APIC_DEST_LOGICAL, APIC_DM_FIXED, 0x62, 0x9},
    {"logical lowest", 0xE, APIC_DEST_LOGICAL, APIC_DM_LOWEST, 0x63, 0x2},
    {"absent physical ID", 7, APIC_DEST_PHYSICAL, APIC_DM_FIXED, 0x64, 0x0},
};

Test(lapic, bus_deliver)
{
    for (size_t k = 0; k < ARRAY_SIZE(bus_cases); k++) {
        const struct bus_case *c = &bus_cases[k];
        struct rig r;
        rig_init(&r);
        for (unsigned i = 0; i < NCPU; i++) {
            lapic_mmio_write(&r.l[i], SVR, 0x1FF, 4);
            lapic_mmio_write(&r.l[i], LDR, (1u << i) << 24, 4);
        }
        unsigned n = apic_bus_deliver(&r.bus, c->dest, c->dest_mode, c->dm, c->vector, 1,
                                      APIC_TRIGGER_EDGE);
        cr_assert_eq(n, (unsigned)__builtin_popcount(c->want_mask), "%s: accepted %u", c->name, n);
        for (unsigned i = 0; i < NCPU; i++)
            cr_assert_eq(lapic_pending_vector(&r.l[i]) == c->vector, (c->want_mask >> i) & 1,
                         "%s: cpu %u", c->name, i);
    }
}

Test(lapic, msi)
{
    struct rig r;
    rig_init(&r);
    for (unsigned i = 0; i < NCPU; i++)
        lapic_mmio_write(&r.l[i], SVR, 0x1FF, 4);
    cr_assert_eq(apic_bus_deliver_msi(&r.bus, 0xFEE03000, 0x0071), 1);
    cr_assert_eq(lapic_pending_vector(&r.l[3]), 0x71);
    cr_assert_eq(apic_bus_deliver_msi(&r.bus, 0xFEE01000, 0x8072), 1); /* level */
    cr_assert_eq(lapic_ack(&r.l[1]), 0x72);
    lapic_mmio_write(&r.l[1], EOI, 0, 4);
    cr_assert_eq(r.last_eoi_broadcast, 0x72);
    cr_assert_eq(apic_bus_deliver_msi(&r.bus, 0xFEF01000, 0x0073), 0, "not an MSI address");
    cr_assert_eq(apic_bus_deliver_msi(&r.bus, 0xFEEFF000, 0x0074), NCPU);
}

Test(lapic, two_buses_are_independent)
{
    struct rig a, b;
    rig_init(&a);
    rig_init(&b);
    lapic_mmio_write(&a.l[0], SVR, 0x1FF, 4);
    lapic_mmio_write(&b.l[0], SVR, 0x1FF, 4);
    apic_bus_deliver(&a.bus, 0, APIC_DEST_PHYSICAL, APIC_DM_FIXED, 0x80, 1, APIC_TRIGGER_EDGE);
    cr_assert_eq(lapic_pending_vector(&a.l[0]), 0x80);
    cr_assert_eq(lapic_pending_vector(&b.l[0]), -1);
}

Test(lapic, mmio_partial_reads)
{
    struct rig r;
    rig_init(&r);
    cr_assert_eq(lapic_mmio_read(&r.l[0], VER, 1), 0x14);
    cr_assert_eq(lapic_mmio_read(&r.l[0], VER + 2, 1), 0x05);
    cr_assert_eq(lapic_mmio_read(&r.l[0], VER + 4, 4), 0);
    cr_assert_eq(lapic_mmio_read(&r.l[0], 0x1000, 4), 0xFFFFFFFF);
    lapic_mmio_write(&r.l[0], TPR, 0x70, 1); /* narrow writes are dropped */
    cr_assert_eq(lapic_mmio_read(&r.l[0], TPR, 4), 0);
    cr_assert(lapic_msr_handles(0x1B) && lapic_msr_handles(0x6E0) && lapic_msr_handles(0x8FF));
    cr_assert(!lapic_msr_handles(0x900) && !lapic_msr_handles(0x10));
    cr_assert_str_eq(lapic_reg_name(ICR), "ICR");
    cr_assert_str_eq(lapic_reg_name(LVTT + 4), "LVT_TIMER");
    cr_assert_str_eq(lapic_reg_name(0x2F0), "reserved");
    cr_assert_str_eq(lapic_reg_name(0x5000), "reserved");
}

/* The hypervisor's synthetic APIC MSRs reach these, in both modes. */
Test(lapic, hypervisor_register_access)
{
    struct rig r;
    rig_init(&r);
    for (unsigned i = 0; i < NCPU; i++)
        lapic_mmio_write(&r.l[i], SVR, 0x1FF, 4);
    lapic_write_icr(&r.l[0], (2ull << 56) | 0x4061); /* xAPIC: destination in 63:56 */
    cr_assert_eq(lapic_pending_vector(&r.l[2]), 0x61);
    cr_assert_eq(lapic_read_icr(&r.l[0]), (2ull << 56) | 0x4061);
    cr_assert_eq(lapic_msr_write(&r.l[1], MSR_IA32_APIC_BASE, APIC_BASE_X2), 0);
    lapic_write_icr(&r.l[1], (3ull << 32) | 0x4062); /* x2APIC: destination in 63:32 */
    cr_assert_eq(lapic_pending_vector(&r.l[3]), 0x62);
    lapic_set_tpr(&r.l[2], 0x70);
    cr_assert_eq(lapic_get_tpr(&r.l[2]), 0x70);
    cr_assert_eq(lapic_pending_vector(&r.l[2]), -1);
    lapic_set_tpr(&r.l[2], 0);
    r.vp[2].intr = false; /* the CPU lost its event: resync restores it */
    lapic_sync_intr(&r.l[2]);
    cr_assert(r.vp[2].intr);
    cr_assert_eq(lapic_ack(&r.l[2]), 0x61);
    lapic_eoi(&r.l[2]);
    cr_assert_eq(lapic_get_ppr(&r.l[2]), 0);
    cr_assert_eq(r.last_eoi_hook, 0x61);
}


/* Random guest register traffic on four LAPICs: nothing may crash or hang, and every INTR line
 * the CPUs were given must match the LAPIC's own view. */
Test(lapic, random_guest_io_is_harmless)
{
    static const unsigned sizes[4] = { 1, 2, 4, 8 };
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct rig r;
        rig_init(&r);
        uint64_t s = seed * 0x9E3779B97F4A7C15ull;
        for (unsigned n = 0; n < 20000; n++) {
            uint64_t x = xorshift(&s), v = xorshift(&s);
            struct lapic *l = &r.l[x & 3];
            switch ((x >> 2) & 7) {
            case 0: lapic_mmio_read(l, (x >> 8) & 0x1FFF, sizes[(x >> 5) & 3]); break;
            case 1:
            case 2: lapic_mmio_write(l, (x >> 8) & 0x3F0, v, 4); break;
            case 3: lapic_msr_write(l, 0x800 + ((x >> 8) & 0xFF), v & (x & 32 ? ~0ull : 0xFFFFF)); break;
            case 4: {
                uint64_t out;
                lapic_msr_read(l, 0x800 + ((x >> 8) & 0xFF), &out);
                if (x & 0x10000)
                    lapic_msr_write(l, MSR_IA32_APIC_BASE, (v & 0xC00) | LAPIC_DEFAULT_BASE);
                else
                    lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, v & 0xFFFFF);
                break;
            }
            case 5: lapic_set_irr(l, (uint8_t)v, v & 256); break;
            case 6:
                if (lapic_ack(l) >= 0 || (x & 0x100))
                    lapic_eoi(l);
                break;
            default: vclock_advance_to(&r.clock, vclock_now(&r.clock) + (v & 0xFFFF)); break;
            }
            for (unsigned i = 0; i < NCPU; i++)
                cr_assert_eq(r.vp[i].intr, lapic_has_intr(&r.l[i]), "seed %llu step %u cpu %u",
                             (unsigned long long)seed, n, i);
        }
    }
}

/* One MMIO region serves every VP: the access reaches the running VP's own LAPIC. */
Test(lapic, shared_mmio_region_follows_the_running_vp)
{
    struct rig r;
    rig_init(&r);
    apic_bus_set_current(&r.bus, 2);
    apic_bus_mmio_ops.write(&r.bus, TPR, 0x30, 4);
    cr_assert_eq(apic_bus_mmio_ops.read(&r.bus, ID, 4), 2u << 24);
    apic_bus_set_current(&r.bus, 1);
    cr_assert_eq(apic_bus_mmio_ops.read(&r.bus, TPR, 4), 0);
    cr_assert_eq(lapic_get_tpr(&r.l[2]), 0x30);
    apic_bus_set_current(&r.bus, NCPU);
    cr_assert_eq(apic_bus_mmio_ops.read(&r.bus, ID, 4), 0xFFFFFFFF);
    apic_bus_mmio_ops.write(&r.bus, TPR, 0x30, 4);
}

Test(lapic, x2apic_lvt_write_ignores_read_only_bits)
{
    /* Linux's disconnect_bsp_APIC writes LINT0 = ExtINT | delivery status | remote IRR. */
    struct apic_bus bus;
    struct vclock clock;
    apic_bus_init(&bus);
    vclock_init(&clock);
    struct lapic l;
    struct lapic_cpu_ops ops = {0};
    cr_assert_eq(lapic_init(&l, &bus, &clock, &ops, 0, true), 0);
    cr_assert_eq(lapic_msr_write(&l, MSR_IA32_APIC_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP), 0);
    cr_assert_eq(lapic_msr_write(&l, MSR_IA32_APIC_BASE,
                                 LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP | APIC_BASE_EXTD), 0);
    cr_expect_eq(lapic_msr_write(&l, 0x835, 0x5700), 0, "LINT0 with RO bits set must not #GP");
    uint64_t v = 0;
    cr_assert_eq(lapic_msr_read(&l, 0x835, &v), 0);
    cr_expect_eq(v & 0x700, 0x700, "ExtINT delivery mode kept");
    cr_expect_eq(v & (1u << 14), 0, "remote IRR not set by a write");
    cr_expect_eq(lapic_msr_write(&l, 0x835, 1u << 20), -1, "a truly reserved bit still #GPs");
}
