/* Local APIC: register file (xAPIC MMIO and x2APIC MSRs), priorities, EOI and LVT (SDM Vol 3
 * chapter 10). The timer is in lapic_timer.c, IPIs and the APIC bus in lapic_bus.c. */
#include "devices/lapic_priv.h"

#include <string.h>


/* Register file, indexed by offset >> 4 (x2APIC MSR = 0x800 + index). Access bits for the xAPIC
 * and x2APIC interfaces, and the bits a write may set: in x2APIC mode setting any other bit is
 * #GP(0) (SDM 10.12.1.2); in xAPIC mode the others are ignored. */
enum { A_R = 1, A_W = 2, A_RW = 3 };
struct lapic_reg {
    const char *name;
    uint8_t xapic, x2apic;
    uint32_t mask;
};

#define LVT_MASK_TIMER 0x000700FFu /* vector, mask, timer mode */
#define LVT_MASK_LOCAL 0x000107FFu /* vector, delivery mode, mask */
#define LVT_MASK_LINT  0x0001A7FFu /* + polarity, trigger */
#define LVT_MASK_ERROR 0x000100FFu
#define ICR_LO_MASK    0x000CCFFFu /* vector, mode, dest mode, level, trigger, shorthand */

#define LAPIC_REGS(X)                                                 \
    X(0x02, "ID",        A_RW, A_R,  0xFF000000u)                     \
    X(0x03, "VERSION",   A_R,  A_R,  0)                               \
    X(0x08, "TPR",       A_RW, A_RW, 0xFFu)                           \
    X(0x09, "APR",       A_R,  0,    0)                               \
    X(0x0A, "PPR",       A_R,  A_R,  0)                               \
    X(0x0B, "EOI",       A_W,  A_W,  0)                               \
    X(0x0D, "LDR",       A_RW, A_R,  0xFF000000u)                     \
    X(0x0E, "DFR",       A_RW, 0,    0xF0000000u)                     \
    X(0x0F, "SVR",       A_RW, A_RW, 0x3FFu)                          \
    X(0x10, "ISR0", A_R, A_R, 0) X(0x11, "ISR1", A_R, A_R, 0)         \
    X(0x12, "ISR2", A_R, A_R, 0) X(0x13, "ISR3", A_R, A_R, 0)         \
    X(0x14, "ISR4", A_R, A_R, 0) X(0x15, "ISR5", A_R, A_R, 0)         \
    X(0x16, "ISR6", A_R, A_R, 0) X(0x17, "ISR7", A_R, A_R, 0)         \
    X(0x18, "TMR0", A_R, A_R, 0) X(0x19, "TMR1", A_R, A_R, 0)         \
    X(0x1A, "TMR2", A_R, A_R, 0) X(0x1B, "TMR3", A_R, A_R, 0)         \
    X(0x1C, "TMR4", A_R, A_R, 0) X(0x1D, "TMR5", A_R, A_R, 0)         \
    X(0x1E, "TMR6", A_R, A_R, 0) X(0x1F, "TMR7", A_R, A_R, 0)         \
    X(0x20, "IRR0", A_R, A_R, 0) X(0x21, "IRR1", A_R, A_R, 0)         \
    X(0x22, "IRR2", A_R, A_R, 0) X(0x23, "IRR3", A_R, A_R, 0)         \
    X(0x24, "IRR4", A_R, A_R, 0) X(0x25, "IRR5", A_R, A_R, 0)         \
    X(0x26, "IRR6", A_R, A_R, 0) X(0x27, "IRR7", A_R, A_R, 0)         \
    X(0x28, "ESR",       A_RW, A_RW, 0)                               \
    X(0x30, "ICR",       A_RW, A_RW, ICR_LO_MASK)                     \
    X(0x31, "ICR2",      A_RW, 0,    0xFF000000u)                     \
    X(0x32, "LVT_TIMER", A_RW, A_RW, LVT_MASK_TIMER)                  \
    X(0x33, "LVT_THERMAL", A_RW, A_RW, LVT_MASK_LOCAL)                \
    X(0x34, "LVT_PERF",  A_RW, A_RW, LVT_MASK_LOCAL)                  \
    X(0x35, "LVT_LINT0", A_RW, A_RW, LVT_MASK_LINT)                   \
    X(0x36, "LVT_LINT1", A_RW, A_RW, LVT_MASK_LINT)                   \
    X(0x37, "LVT_ERROR", A_RW, A_RW, LVT_MASK_ERROR)                  \
    X(0x38, "TIMER_ICR", A_RW, A_RW, 0xFFFFFFFFu)                     \
    X(0x39, "TIMER_CCR", A_R,  A_R,  0)                               \
    X(0x3E, "TIMER_DCR", A_RW, A_RW, 0xBu)                            \
    X(0x3F, "SELF_IPI",  0,    A_W,  0xFFu)


static const struct lapic_reg lapic_regs[REG_COUNT] = {
#define X(idx, nm, xa, x2a, m) [idx] = { nm, xa, x2a, m },
    LAPIC_REGS(X)
#undef X
};

const char *lapic_reg_name(gpa_t offset)
{
    unsigned idx = (unsigned)(offset >> 4);
    if (offset >= LAPIC_MMIO_SIZE || idx >= REG_COUNT || !lapic_regs[idx].name)
        return "reserved";
    return lapic_regs[idx].name;
}

/* 256-bit vector sets (IRR, ISR, TMR) as eight 32-bit words, the register layout. */
static bool vec_test(const uint32_t *b, unsigned v) { return (b[v >> 5] >> (v & 31)) & 1; }
static void vec_set(uint32_t *b, unsigned v) { b[v >> 5] |= 1u << (v & 31); }
static void vec_clear(uint32_t *b, unsigned v) { b[v >> 5] &= ~(1u << (v & 31)); }
static int vec_highest(const uint32_t *b)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w = b[i];
        if (!w)
            continue;
        int bit = 31;
        while (!(w >> bit))
            bit--;
        return i * 32 + bit;
    }
    return -1;
}

bool lapic_is_x2apic(const struct lapic *l) { return (l->apic_base & APIC_BASE_EXTD) != 0; }

static uint32_t x2apic_ldr(uint32_t id)
{
    /* SDM 10.12.10.2: cluster ID in 31:16, one bit for the logical ID in 15:0. */
    return ((id >> 4) << 16) | (1u << (id & 0xF));
}


/* ---- priorities and the INTR line ---- */

uint32_t lapic_get_ppr(const struct lapic *l)
{
    int isrv = vec_highest(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    /* SDM 10.8.3.1 */
    if ((l->tpr & 0xF0) >= isr_class)
        return l->tpr & 0xFF;
    return isr_class;
}

uint32_t lapic_get_apr(const struct lapic *l)
{
    int irrv = vec_highest(l->irr), isrv = vec_highest(l->isr);
    uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xF0;
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    uint32_t tpr_class = l->tpr & 0xF0;
    /* SDM 10.8.3.1, arbitration priority (used for lowest-priority delivery) */
    if (tpr_class >= irr_class && tpr_class > isr_class)
        return l->tpr & 0xFF;
    uint32_t m = tpr_class;
    if (isr_class > m)
        m = isr_class;
    if (irr_class > m)
        m = irr_class;
    return m;
}

int lapic_pending_vector(const struct lapic *l)
{
    if (!lapic_hw_enabled(l))
        return -1;
    int irrv = vec_highest(l->irr);
    if (irrv < 0)
        return -1;
    if (((uint32_t)irrv & 0xF0) <= (lapic_get_ppr(l) & 0xF0))
        return -1;
    return irrv;
}

bool lapic_accept_pic_intr(const struct lapic *l)
{
    if (!lapic_hw_enabled(l))
        return true;
    uint32_t lvt = l->lvt[LVT_LINT0];
    return !(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == APIC_DM_EXTINT;
}

static bool extint_pending(const struct lapic *l)
{
    if (l->extint_msg && lapic_hw_enabled(l))
        return true;
    return l->lint_level[0] && lapic_accept_pic_intr(l);
}

bool lapic_has_intr(const struct lapic *l)
{
    return lapic_pending_vector(l) >= 0 || extint_pending(l);
}

void lapic_update_intr(struct lapic *l)
{
    bool level = lapic_has_intr(l);
    if (level == l->intr_out)
        return;
    l->intr_out = level;
    if (l->cpu.set_intr)
        l->cpu.set_intr(l->cpu.opaque, level);
}

void lapic_sync_intr(struct lapic *l)
{
    l->intr_out = lapic_has_intr(l);
    if (l->cpu.set_intr)
        l->cpu.set_intr(l->cpu.opaque, l->intr_out);
}

void lapic_kick(struct lapic *l)
{
    if (l->cpu.kick)
        l->cpu.kick(l->cpu.opaque);
}

static void do_eoi(struct lapic *l);

/* Take back an outstanding EOI-assist offer. If the guest consumed it, the EOI it skipped is
 * done now, before anything that could depend on it (a new IRR bit, the next INTA). */
static void assist_settle(struct lapic *l)
{
    if (!l->assist_armed)
        return;
    l->assist_armed = false;
    if (l->assist.collect && l->assist.collect(l->assist.opaque))
        do_eoi(l);
}

/* A fixed interrupt arrives from the bus or a local source. */
bool lapic_accept_fixed(struct lapic *l, uint8_t vector, bool level_trig)
{
    if (vector < 16) {
        lapic_error(l, APIC_ESR_RECEIVE_ILLEGAL_VECTOR);
        return false;
    }
    assist_settle(l);
    vec_set(l->irr, vector);
    if (level_trig)
        vec_set(l->tmr, vector);
    else
        vec_clear(l->tmr, vector);
    lapic_update_intr(l);
    lapic_kick(l);
    return true;
}

bool lapic_set_irr(struct lapic *l, uint8_t vector, bool level_trig)
{
    if (!lapic_hw_enabled(l))
        return false;
    return lapic_accept_fixed(l, vector, level_trig);
}

bool lapic_eoi_is_trivial(const struct lapic *l, uint8_t vector)
{
    if (!vec_test(l->isr, vector) || vec_test(l->tmr, vector))
        return false;
    for (unsigned i = 0; i < 8; i++) {
        if (l->irr[i])
            return false;
        uint32_t others = l->isr[i] & ~(i == vector >> 5 ? 1u << (vector & 31) : 0u);
        if (others)
            return false;
    }
    return true;
}

int lapic_ack(struct lapic *l)
{
    assist_settle(l);
    int v = lapic_pending_vector(l);
    if (v >= 0) {
        vec_clear(l->irr, (unsigned)v);
        if (vec_test(l->auto_eoi, (unsigned)v)) {
            lapic_update_intr(l);
            if (l->eoi_hook)
                l->eoi_hook(l->eoi_hook_opaque, (uint8_t)v);
            return v;
        }
        vec_set(l->isr, (unsigned)v);
        lapic_update_intr(l);
        if (l->assist.offer && lapic_eoi_is_trivial(l, (uint8_t)v))
            l->assist_armed = l->assist.offer(l->assist.opaque);
        return v;
    }
    if (extint_pending(l)) {
        l->extint_msg = false;
        lapic_update_intr(l);
        return LAPIC_ACK_EXTINT;
    }
    return -1;
}

void lapic_set_auto_eoi(struct lapic *l, uint8_t vector, bool on)
{
    if (on)
        vec_set(l->auto_eoi, vector);
    else
        vec_clear(l->auto_eoi, vector);
}

void lapic_set_eoi_hook(struct lapic *l, lapic_eoi_fn fn, void *opaque)
{
    l->eoi_hook = fn;
    l->eoi_hook_opaque = opaque;
}

void lapic_set_eoi_assist(struct lapic *l, const struct lapic_eoi_assist *a)
{
    assist_settle(l);
    if (a)
        l->assist = *a;
    else
        memset(&l->assist, 0, sizeof(l->assist));
}

/* An EOI the guest wrote (xAPIC, x2APIC or the Hyper-V EOI MSR). While an offer is outstanding
 * the guest may have ignored the bit and EOId anyway: retire the offer without the deferred
 * EOI, so the vector is EOId exactly once (and the bit is clear for the next interrupt). */
static void guest_eoi(struct lapic *l)
{
    if (l->assist_armed) {
        l->assist_armed = false;
        if (l->assist.collect)
            (void)l->assist.collect(l->assist.opaque);
    }
    do_eoi(l);
}

static void do_eoi(struct lapic *l)
{
    int v = vec_highest(l->isr);
    if (v < 0)
        return;
    vec_clear(l->isr, (unsigned)v);
    /* SDM 10.8.5: EOI of a level-triggered vector is broadcast to the IOAPICs. */
    if (vec_test(l->tmr, (unsigned)v) && l->bus && l->bus->eoi_broadcast)
        l->bus->eoi_broadcast(l->bus->eoi_opaque, (uint8_t)v);
    if (l->eoi_hook)
        l->eoi_hook(l->eoi_hook_opaque, (uint8_t)v);
    lapic_update_intr(l);
}

uint64_t lapic_get_cr8(const struct lapic *l) { return (l->tpr >> 4) & 0xF; }

void lapic_set_cr8(struct lapic *l, uint64_t cr8)
{
    l->tpr = (uint32_t)(cr8 & 0xF) << 4;
    lapic_update_intr(l);
}

/* ---- local vector table ---- */

void lapic_lvt_deliver(struct lapic *l, unsigned idx)
{
    uint32_t lvt = l->lvt[idx];
    if (lvt & LVT_MASKED)
        return;
    /* Timer and error entries have no delivery-mode field: always fixed. */
    unsigned dm = (idx == LVT_TIMER || idx == LVT_ERROR) ? APIC_DM_FIXED : (lvt >> 8) & 7;
    uint8_t vector = (uint8_t)lvt;
    switch (dm) {
    case APIC_DM_FIXED:
        if (vector < 16 && idx == LVT_ERROR) {
            /* Reported, but not re-delivered through the same broken entry. */
            l->esr_pending |= APIC_ESR_RECEIVE_ILLEGAL_VECTOR;
            return;
        }
        lapic_accept_fixed(l, vector, false);
        break;
    case APIC_DM_NMI:
        if (l->cpu.nmi)
            l->cpu.nmi(l->cpu.opaque);
        lapic_kick(l);
        break;
    case APIC_DM_INIT:
        lapic_init_reset(l);
        if (l->cpu.init)
            l->cpu.init(l->cpu.opaque);
        lapic_kick(l);
        break;
    default: /* SMI is not modelled; ExtINT is level-driven through extint_pending() */
        break;
    }
}

void lapic_error(struct lapic *l, uint32_t bits)
{
    l->esr_pending |= bits;
    lapic_lvt_deliver(l, LVT_ERROR);
}

void lapic_set_lint(struct lapic *l, unsigned pin, bool level)
{
    if (pin > 1)
        return;
    bool rising = level && !l->lint_level[pin];
    l->lint_level[pin] = level;
    if (!lapic_hw_enabled(l)) {
        /* Without the APIC the pins are the processor's INTR and NMI inputs. */
        if (pin == 1 && rising && l->cpu.nmi) {
            l->cpu.nmi(l->cpu.opaque);
            lapic_kick(l);
        }
        lapic_update_intr(l);
        return;
    }
    uint32_t lvt = l->lvt[LVT_LINT0 + pin];
    if (((lvt >> 8) & 7) == APIC_DM_EXTINT) {
        lapic_update_intr(l);
        if (rising)
            lapic_kick(l);
        return;
    }
    /* Other delivery modes take the rising edge. */
    if (rising)
        lapic_lvt_deliver(l, LVT_LINT0 + pin);
}

/* ---- timer (SDM 10.5.4) ---- */

static uint32_t reg_read(struct lapic *l, unsigned idx)
{
    /* A consumed EOI-assist offer is an EOI the guest already did: every register it reads
     * (ISR, PPR, ...) must show it done, as KVM syncs pv_eoi on every exit. */
    assist_settle(l);
    switch (idx) {
    case REG_ID: return lapic_is_x2apic(l) ? l->id : (l->id & 0xFF) << 24;
    case REG_VERSION: return LAPIC_VERSION_REG;
    case REG_TPR: return l->tpr;
    case REG_APR: return lapic_get_apr(l);
    case REG_PPR: return lapic_get_ppr(l);
    case REG_LDR: return l->ldr;
    case REG_DFR: return l->dfr;
    case REG_SVR: return l->svr;
    case REG_ESR: return l->esr;
    case REG_ICR: return l->icr_lo;
    case REG_ICR2: return l->icr_hi;
    case REG_TIMER_ICR: return l->timer_initial;
    case REG_TIMER_CCR: return lapic_timer_current(l);
    case REG_TIMER_DCR: return l->timer_dcr;
    default: break;
    }
    if (idx >= REG_ISR && idx < REG_ISR + 8)
        return l->isr[idx - REG_ISR];
    if (idx >= REG_TMR && idx < REG_TMR + 8)
        return l->tmr[idx - REG_TMR];
    if (idx >= REG_IRR && idx < REG_IRR + 8)
        return l->irr[idx - REG_IRR];
    if (idx >= REG_LVT && idx < REG_LVT + LVT_COUNT)
        return l->lvt[idx - REG_LVT];
    return 0;
}

static void lvt_write(struct lapic *l, unsigned n, uint32_t v)
{
    /* SDM 10.4.7.2: while software-disabled the mask bits cannot be cleared. */
    if (!lapic_sw_enabled(l))
        v |= LVT_MASKED;
    uint32_t old = l->lvt[n];
    v |= old & LVT_REMOTE_IRR;
    l->lvt[n] = v;
    if (n == LVT_TIMER) {
        bool was_dl = LVT_TIMER_MODE(old) == TIMER_TSC_DEADLINE;
        bool is_dl = LVT_TIMER_MODE(v) == TIMER_TSC_DEADLINE;
        if (was_dl != is_dl) {
            /* A mode change to or from TSC-deadline disarms the timer. */
            lapic_timer_cancel(l);
            l->timer_initial = 0;
            l->tsc_deadline = 0;
        }
    }
    if (n == LVT_LINT0)
        lapic_update_intr(l);
}

static void reg_write(struct lapic *l, unsigned idx, uint32_t v)
{
    v &= lapic_regs[idx].mask | (idx == REG_EOI || idx == REG_ESR ? 0xFFFFFFFFu : 0);
    switch (idx) {
    case REG_ID: l->id = v >> 24; return;
    case REG_TPR: l->tpr = v; lapic_update_intr(l); return;
    case REG_EOI: guest_eoi(l); return;
    case REG_LDR: l->ldr = v; return;
    case REG_DFR: l->dfr = v | 0x0FFFFFFFu; return;
    case REG_SVR:
        l->svr = v;
        if (!(v & SVR_ENABLE))
            for (unsigned i = 0; i < LVT_COUNT; i++)
                l->lvt[i] |= LVT_MASKED;
        lapic_update_intr(l);
        return;
    case REG_ESR:
        /* SDM 10.5.3: a write latches the errors seen since the last write. */
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        return;
    case REG_ICR:
        l->icr_lo = v;
        lapic_send_ipi(l, v, (l->icr_hi >> 24) == 0xFF ? APIC_DEST_BROADCAST : l->icr_hi >> 24);
        return;
    case REG_ICR2: l->icr_hi = v; return;
    case REG_TIMER_ICR:
        if (lapic_timer_mode(l) == TIMER_TSC_DEADLINE)
            return;
        l->timer_initial = v;
        l->timer_divisor = lapic_dcr_divisor(l->timer_dcr);
        lapic_timer_start(l, lapic_now_ns(l), v);
        return;
    case REG_TIMER_DCR: {
        uint32_t cur = lapic_timer_current(l);
        bool running = l->timer_running && lapic_timer_mode(l) != TIMER_TSC_DEADLINE;
        l->timer_dcr = v;
        l->timer_divisor = lapic_dcr_divisor(v);
        /* The count in progress continues at the new rate. */
        if (running && cur)
            lapic_timer_start(l, lapic_now_ns(l), cur);
        return;
    }
    case REG_SELF_IPI:
        lapic_send_ipi(l, (v & 0xFF) | (SH_SELF << 18), 0);
        return;
    default:
        break;
    }
    if (idx >= REG_LVT && idx < REG_LVT + LVT_COUNT)
        lvt_write(l, idx - REG_LVT, v);
}

/* ---- xAPIC MMIO ---- */

bool lapic_mmio_enabled(const struct lapic *l) { return lapic_hw_enabled(l) && !lapic_is_x2apic(l); }
gpa_t lapic_mmio_base(const struct lapic *l) { return l->apic_base & APIC_BASE_ADDR_MASK; }

uint64_t lapic_mmio_read(struct lapic *l, gpa_t offset, unsigned size)
{
    uint64_t ones = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    if (!lapic_mmio_enabled(l) || offset >= LAPIC_MMIO_SIZE)
        return ones;
    unsigned idx = (unsigned)(offset >> 4) & 0xFF, byte = (unsigned)offset & 0xF;
    if (idx >= REG_COUNT || !(lapic_regs[idx].xapic & A_R)) {
        lapic_error(l, APIC_ESR_ILLEGAL_REGISTER);
        return 0;
    }
    /* Each register is the first dword of its 16-byte slot; narrower reads see part of it. */
    if (byte >= 4)
        return 0;
    return (reg_read(l, idx) >> (byte * 8)) & ones;
}

void lapic_mmio_write(struct lapic *l, gpa_t offset, uint64_t value, unsigned size)
{
    if (!lapic_mmio_enabled(l) || offset >= LAPIC_MMIO_SIZE)
        return;
    unsigned idx = (unsigned)(offset >> 4) & 0xFF;
    if (idx >= REG_COUNT || !(lapic_regs[idx].xapic & A_W)) {
        lapic_error(l, APIC_ESR_ILLEGAL_REGISTER);
        return;
    }
    /* SDM 10.4.1: only aligned 32-bit accesses are defined; others are dropped. */
    if ((offset & 0xF) || size < 4)
        return;
    reg_write(l, idx, (uint32_t)value);
}

static uint64_t mmio_read_op(void *dev, gpa_t offset, unsigned size)
{
    return lapic_mmio_read(dev, offset, size);
}

static void mmio_write_op(void *dev, gpa_t offset, uint64_t value, unsigned size)
{
    lapic_mmio_write(dev, offset, value, size);
}

const struct mmio_ops lapic_mmio_ops = { mmio_read_op, mmio_write_op };

static uint64_t bus_mmio_read(void *dev, gpa_t offset, unsigned size)
{
    struct apic_bus *bus = dev;
    if (bus->current >= bus->count)
        return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    return lapic_mmio_read(bus->lapics[bus->current], offset, size);
}

static void bus_mmio_write(void *dev, gpa_t offset, uint64_t value, unsigned size)
{
    struct apic_bus *bus = dev;
    if (bus->current < bus->count)
        lapic_mmio_write(bus->lapics[bus->current], offset, value, size);
}

const struct mmio_ops apic_bus_mmio_ops = { bus_mmio_read, bus_mmio_write };

void apic_bus_set_current(struct apic_bus *bus, unsigned index) { bus->current = index; }

/* ---- MSRs ---- */

bool lapic_msr_handles(uint32_t msr)
{
    return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
           (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST);
}

static void reset_registers(struct lapic *l)
{
    /* ISR is about to be cleared: withdraw an outstanding offer so the guest's bit is not
     * left set for an interrupt it was never offered for. */
    if (l->assist_armed) {
        l->assist_armed = false;
        if (l->assist.collect)
            (void)l->assist.collect(l->assist.opaque);
    }
    lapic_timer_cancel(l);
    l->tpr = 0;
    l->ldr = 0;
    l->dfr = 0xFFFFFFFFu;
    l->svr = 0xFF;
    memset(l->irr, 0, sizeof(l->irr));
    memset(l->isr, 0, sizeof(l->isr));
    memset(l->tmr, 0, sizeof(l->tmr));
    l->esr = l->esr_pending = 0;
    l->icr_lo = l->icr_hi = 0;
    for (unsigned i = 0; i < LVT_COUNT; i++)
        l->lvt[i] = LVT_MASKED;
    l->timer_initial = 0;
    l->timer_dcr = 0;
    l->timer_divisor = lapic_dcr_divisor(0);
    l->tsc_deadline = 0;
    l->extint_msg = false;
    if (lapic_is_x2apic(l))
        l->ldr = x2apic_ldr(l->id);
}

static int apic_base_write(struct lapic *l, uint64_t v)
{
    /* Reserved: bits 7:0, 9 and above the physical address width (SDM 10.4.4, 10.12.1). */
    if (v & ~(APIC_BASE_ADDR_MASK | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP))
        return -1;
    bool old_en = lapic_hw_enabled(l), old_x2 = lapic_is_x2apic(l);
    bool en = (v & APIC_BASE_EN) != 0, x2 = (v & APIC_BASE_EXTD) != 0;
    /* SDM 10.12.5 Figure 10-27: EXTD without EN is invalid; x2APIC -> xAPIC and
     * disabled -> x2APIC are illegal transitions. */
    if (x2 && !en)
        return -1;
    if (old_en && old_x2 && en && !x2)
        return -1;
    if (!old_en && x2)
        return -1;
    /* BSP is read-only: it records which processor the platform reset first. */
    l->apic_base = (v & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
    if (!en && old_en) {
        /* Going to the disabled state resets the APIC; the ID returns to the initial one. */
        l->id = l->initial_id;
        reset_registers(l);
    } else if (x2 && !old_x2) {
        /* SDM 10.12.5.1: entering x2APIC mode, the ID is the x2APIC ID and LDR is derived. */
        l->id = l->initial_id;
        l->ldr = x2apic_ldr(l->id);
    }
    lapic_update_intr(l);
    return 0;
}

int lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *value)
{
    *value = 0;
    if (msr == MSR_IA32_APIC_BASE) {
        *value = l->apic_base;
        return 0;
    }
    if (msr == MSR_IA32_TSC_DEADLINE) {
        *value = lapic_timer_mode(l) == TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
        return 0;
    }
    if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !lapic_hw_enabled(l) || !lapic_is_x2apic(l))
        return -1;
    unsigned idx = msr - MSR_X2APIC_FIRST;
    if (idx >= REG_COUNT || !(lapic_regs[idx].x2apic & A_R))
        return -1;
    *value = reg_read(l, idx);
    if (idx == REG_ICR)
        *value |= (uint64_t)l->icr_hi << 32;
    return 0;
}

int lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t value)
{
    if (msr == MSR_IA32_APIC_BASE)
        return apic_base_write(l, value);
    if (msr == MSR_IA32_TSC_DEADLINE) {
        lapic_tsc_deadline_write(l, value);
        return 0;
    }
    if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !lapic_hw_enabled(l) || !lapic_is_x2apic(l))
        return -1;
    unsigned idx = msr - MSR_X2APIC_FIRST;
    if (idx >= REG_COUNT || !(lapic_regs[idx].x2apic & A_W))
        return -1;
    if (idx == REG_ICR) {
        /* One 64-bit register; the destination is the full 32-bit x2APIC ID in 63:32. */
        if ((uint32_t)value & ~ICR_LO_MASK)
            return -1;
        lapic_write_icr(l, value);
        return 0;
    }
    /* Read-only status bits are not reserved: a write may carry them (Linux's
     * disconnect_bsp_APIC sets delivery status and remote IRR in LINT0) and they are ignored. */
    uint32_t ro = 0;
    if (idx >= 0x32 && idx <= 0x37)
        ro = 1u << 12 | ((idx == 0x35 || idx == 0x36) ? 1u << 14 : 0);
    if ((value >> 32) || ((uint32_t)value & ~(lapic_regs[idx].mask | ro)))
        return -1;
    reg_write(l, idx, (uint32_t)value & ~ro);
    return 0;
}

void lapic_eoi(struct lapic *l) { guest_eoi(l); }

void lapic_write_icr(struct lapic *l, uint64_t value)
{
    if (lapic_is_x2apic(l)) {
        l->icr_lo = (uint32_t)value & ICR_LO_MASK;
        l->icr_hi = (uint32_t)(value >> 32);
        lapic_send_ipi(l, l->icr_lo, l->icr_hi);
        return;
    }
    reg_write(l, REG_ICR2, (uint32_t)(value >> 32));
    reg_write(l, REG_ICR, (uint32_t)value);
}

uint64_t lapic_read_icr(const struct lapic *l) { return l->icr_lo | (uint64_t)l->icr_hi << 32; }
uint32_t lapic_get_tpr(const struct lapic *l) { return l->tpr; }

void lapic_set_tpr(struct lapic *l, uint32_t tpr)
{
    l->tpr = tpr & 0xFF;
    lapic_update_intr(l);
}

/* ---- construction and reset ---- */

int lapic_init(struct lapic *l, struct apic_bus *bus, struct vclock *clock,
               const struct lapic_cpu_ops *cpu, uint32_t apic_id, bool bsp)
{
    memset(l, 0, sizeof(*l));
    if (bus && bus->count >= APIC_BUS_MAX_CPUS)
        return -1;
    l->bus = bus;
    l->clock = clock;
    if (cpu)
        l->cpu = *cpu;
    l->initial_id = apic_id;
    l->apic_base = bsp ? APIC_BASE_BSP : 0;
    vtimer_init(&l->timer, lapic_timer_fire, l);
    if (bus) {
        l->index = bus->count;
        bus->lapics[bus->count++] = l;
    }
    lapic_reset(l);
    return 0;
}

void lapic_reset(struct lapic *l)
{
    l->apic_base = LAPIC_DEFAULT_BASE | APIC_BASE_EN | (l->apic_base & APIC_BASE_BSP);
    l->id = l->initial_id;
    reset_registers(l);
    /* Firmware leaves the BSP's LINT0 in ExtINT mode (virtual wire A); with no firmware in
     * front of a directly booted kernel the platform does it, as QEMU does, so PIC interrupts
     * reach the BSP until the OS programs its APIC. */
    if (l->apic_base & APIC_BASE_BSP)
        l->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
    lapic_update_intr(l);
}

void lapic_init_reset(struct lapic *l)
{
    reset_registers(l);
    lapic_update_intr(l);
}
