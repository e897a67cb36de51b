/* The local APIC of each virtual processor (xAPIC MMIO and x2APIC MSRs, timer, IPIs) and the
 * APIC bus that carries IPIs and MSI-style messages between them. */
#ifndef HVEMU_LAPIC_H
#define HVEMU_LAPIC_H

#include "devices/acpi_layout.h"
#include "devices/vclock.h"
#include "mmu/mmu.h"
#include "mmu/physmem.h"

/* Version register: version 0x14 (integrated xAPIC), max LVT entry 5, i.e. six LVT entries
 * (timer, thermal, perf, LINT0, LINT1, error). There is no CMCI entry (0x2F0 is reserved) and
 * no EOI-broadcast suppression (bit 24 clear), so every level-triggered EOI reaches the IOAPIC. */
#define LAPIC_VERSION       0x14u
#define LAPIC_MAX_LVT       5u
#define LAPIC_VERSION_REG   (LAPIC_VERSION | (LAPIC_MAX_LVT << 16))

/* The APIC timer counts a 1 GHz bus clock before the divider: one tick per virtual nanosecond.
 * The hypervisor reports this rate (HV_X64_MSR_APIC_FREQUENCY, CPUID 0x40000010). */
#define LAPIC_TIMER_HZ      1000000000ull
/* A periodic timer re-arms no more often than this, so a guest that programs a 1-tick period
 * coalesces interrupts instead of flooding the timer queue. The current-count register still
 * follows the programmed period exactly. */
#define LAPIC_TIMER_MIN_PERIOD_NS 1000ull

/* IA32_APIC_BASE (MSR 0x1B) bits. */
#define APIC_BASE_BSP       (1ull << 8)
#define APIC_BASE_EXTD      (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN        (1ull << 11) /* APIC global enable */
/* The base address field stops at the CPU's physical-address width; bits above are reserved. */
#define APIC_BASE_ADDR_MASK (((1ull << MMU_MAXPHYADDR) - 1) & ~0xFFFull)

#define MSR_IA32_APIC_BASE    0x1Bu
#define MSR_IA32_TSC_DEADLINE 0x6E0u
#define MSR_X2APIC_FIRST      0x800u
#define MSR_X2APIC_LAST       0x8FFu

/* Delivery modes (ICR, LVT, IOAPIC redirection entries, MSI data). */
enum apic_delivery {
    APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
    APIC_DM_INIT = 5, APIC_DM_STARTUP = 6, APIC_DM_EXTINT = 7,
};
enum apic_dest_mode { APIC_DEST_PHYSICAL = 0, APIC_DEST_LOGICAL = 1 };
enum apic_trigger { APIC_TRIGGER_EDGE = 0, APIC_TRIGGER_LEVEL = 1 };
/* Physical or logical destination that every APIC accepts. 8-bit senders (xAPIC ICR, IOAPIC,
 * MSI) convert their 0xFF to this. */
#define APIC_DEST_BROADCAST 0xFFFFFFFFu

/* LVT indices. */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

/* ESR bits the emulation can raise. */
#define APIC_ESR_SEND_ILLEGAL_VECTOR    (1u << 5)
#define APIC_ESR_RECEIVE_ILLEGAL_VECTOR (1u << 6)
#define APIC_ESR_ILLEGAL_REGISTER       (1u << 7)

/* How a LAPIC signals its VP. The machine wires these to cpu_raise_event/cpu_lower_event; any
 * may be NULL. set_intr is the INTR line: level true while lapic_has_intr() holds. kick is called
 * whenever something new arrives (interrupt accepted into IRR, NMI, INIT, SIPI) so the machine
 * can wake a halted VP or end the sender's slice. */
struct lapic_cpu_ops {
    void *opaque;
    void (*set_intr)(void *opaque, bool level);
    void (*nmi)(void *opaque);
    void (*init)(void *opaque); /* the LAPIC has already reset itself (INIT keeps ID and base) */
    void (*sipi)(void *opaque, uint8_t vector);
    void (*kick)(void *opaque);
};

/* Called on every EOI with the vector retired (and at acceptance of an auto-EOI vector): the
 * Hyper-V SynIC uses it to redeliver pending messages and timers. */
typedef void (*lapic_eoi_fn)(void *opaque, uint8_t vector);

/* EOI avoidance (Hyper-V VP assist "EOI assist", KVM pv_eoi): offer sets the guest-visible
 * "no EOI required" bit and returns true if it did; collect clears it again and returns true if
 * the guest consumed it (cleared the bit instead of writing EOI). */
struct lapic_eoi_assist {
    void *opaque;
    bool (*offer)(void *opaque);
    bool (*collect)(void *opaque);
};

struct apic_bus;

struct lapic {
    struct apic_bus *bus;
    struct vclock *clock;
    struct lapic_cpu_ops cpu;
    unsigned index;       /* position on the bus (deterministic tie-breaks) */
    uint32_t initial_id;  /* x2APIC ID, also the xAPIC ID at reset */

    uint64_t apic_base;   /* IA32_APIC_BASE */
    uint32_t id;          /* current APIC ID (xAPIC: bits 7:0 of it are visible in 31:24) */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t irr[8], isr[8], tmr[8];
    uint32_t esr, esr_pending;
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[LVT_COUNT];
    uint32_t timer_initial, timer_dcr;
    int64_t tsc_offset;   /* guest TSC = virtual ns + tsc_offset */
    uint64_t tsc_deadline;

    /* Timer: the counter reaches zero at timer_deadline (virtual ns) counting at
     * timer_divisor ns per tick; timer_running is false once a one-shot count has expired. */
    struct vtimer timer;
    uint64_t timer_deadline;
    uint32_t timer_divisor;
    bool timer_running;

    bool intr_out;        /* last level given to cpu.set_intr */
    bool lint_level[2];   /* LINT0/LINT1 pin levels */
    bool extint_msg;      /* an ExtINT message (IOAPIC virtual wire) awaits INTA */
    uint32_t auto_eoi[8]; /* vectors accepted without entering ISR (SynIC AutoEOI) */
    lapic_eoi_fn eoi_hook;
    void *eoi_hook_opaque;
    struct lapic_eoi_assist assist; /* offer == NULL: never offered */
    bool assist_armed;    /* an offer is outstanding: the guest may skip the EOI of ISR's vector */
};

#define APIC_BUS_MAX_CPUS 64

/* Every LAPIC of a machine, plus the path from EOI to the IOAPIC. */
struct apic_bus {
    struct lapic *lapics[APIC_BUS_MAX_CPUS];
    unsigned count;
    void *eoi_opaque;
    void (*eoi_broadcast)(void *opaque, uint8_t vector); /* level-triggered EOI, e.g. ioapic_eoi */
    unsigned current;     /* LAPIC that apic_bus_mmio_ops reaches: the running VP's */
};

void apic_bus_init(struct apic_bus *bus);
void apic_bus_set_eoi_broadcast(struct apic_bus *bus, void (*fn)(void *opaque, uint8_t vector),
                                void *opaque);
/* Deliver one interrupt message (IOAPIC, HPET/MSI, hypervisor). dest is an APIC ID, a logical
 * destination, or APIC_DEST_BROADCAST. level matters only for INIT (0 = INIT level de-assert,
 * which is ignored). Returns how many LAPICs accepted it. */
unsigned apic_bus_deliver(struct apic_bus *bus, uint32_t dest, unsigned dest_mode,
                          unsigned delivery_mode, uint8_t vector, int level, unsigned trigger);
/* MSI: decode an address/data pair (SDM 10.11) and deliver it. */
unsigned apic_bus_deliver_msi(struct apic_bus *bus, uint64_t address, uint32_t data);
/* The PIC's INTR output, wired to LINT0 of every LAPIC (struct irq_line signature; opaque is
 * the bus). */
void apic_bus_pic_intr(void *opaque, unsigned irq, int level);
struct lapic *apic_bus_find(const struct apic_bus *bus, uint32_t apic_id);
/* The xAPIC page as one MMIO region for every VP (dev = struct apic_bus *): accesses reach the
 * LAPIC last named by apic_bus_set_current(), which the machine calls whenever it switches VPs
 * (one host thread runs them all). A guest that relocates its APIC base needs the machine to
 * map this region at the new lapic_mmio_base() too. */
extern const struct mmio_ops apic_bus_mmio_ops;
void apic_bus_set_current(struct apic_bus *bus, unsigned index);

/* Construction: attaches to bus (index = attach order). Returns 0, or -1 if the bus is full. */
int lapic_init(struct lapic *l, struct apic_bus *bus, struct vclock *clock,
               const struct lapic_cpu_ops *cpu, uint32_t apic_id, bool bsp);
/* Power-on reset (also returns IA32_APIC_BASE to xAPIC mode at LAPIC_DEFAULT_BASE). */
void lapic_reset(struct lapic *l);
/* INIT reset: as power-on but keeps APIC ID and IA32_APIC_BASE (SDM 10.4.7.3). */
void lapic_init_reset(struct lapic *l);

/* xAPIC registers. The machine routes each VP's accesses to [lapic_mmio_base, +4 KiB) to its
 * own LAPIC; lapic_mmio_ops takes the struct lapic as dev. While the APIC is disabled or in
 * x2APIC mode, reads return all-ones and writes are dropped. */
uint64_t lapic_mmio_read(struct lapic *l, gpa_t offset, unsigned size);
void lapic_mmio_write(struct lapic *l, gpa_t offset, uint64_t value, unsigned size);
extern const struct mmio_ops lapic_mmio_ops;
gpa_t lapic_mmio_base(const struct lapic *l);
bool lapic_mmio_enabled(const struct lapic *l); /* globally enabled and not in x2APIC mode */

/* MSRs: IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range 0x800-0x8FF. Return 0, or -1
 * when the access must raise #GP(0). lapic_msr_handles() says whether an index belongs here. */
bool lapic_msr_handles(uint32_t msr);
int lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *value);
int lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t value);

/* Mode-independent register access for the hypervisor's synthetic APIC MSRs (TLFS
 * HV_X64_MSR_EOI/ICR/TPR). lapic_write_icr takes the x2APIC layout in x2APIC mode (destination
 * in 63:32) and the xAPIC ICR2:ICR pair otherwise (destination in 63:56), and sends the IPI. */
void lapic_eoi(struct lapic *l);
void lapic_write_icr(struct lapic *l, uint64_t value);
uint64_t lapic_read_icr(const struct lapic *l);
uint32_t lapic_get_tpr(const struct lapic *l);
void lapic_set_tpr(struct lapic *l, uint32_t tpr);

/* CR8 is TPR[7:4] (SDM 10.8.6.1). */
uint64_t lapic_get_cr8(const struct lapic *l);
void lapic_set_cr8(struct lapic *l, uint64_t cr8);
void lapic_set_tsc_offset(struct lapic *l, int64_t offset);

/* Interrupt acceptance. lapic_has_intr: a fixed vector in IRR outranks PPR, or an ExtINT
 * (LINT0 virtual wire or IOAPIC ExtINT message) is waiting. lapic_ack is the INTA cycle:
 * returns the vector (moved IRR -> ISR, or retired at once if auto-EOI), LAPIC_ACK_EXTINT when
 * the PIC must supply the vector (machine then calls pic_ack), or -1 when nothing is pending. */
#define LAPIC_ACK_EXTINT (-2)
bool lapic_has_intr(const struct lapic *l);
/* Give cpu.set_intr the current level again (after the CPU dropped its pending events on a
 * reset of its own), even if it has not changed. */
void lapic_sync_intr(struct lapic *l);
int lapic_pending_vector(const struct lapic *l); /* highest deliverable IRR vector, or -1 */
int lapic_ack(struct lapic *l);
/* Virtual wire: true while a PIC interrupt would reach the CPU (APIC globally disabled, or
 * LINT0 unmasked with ExtINT delivery). */
bool lapic_accept_pic_intr(const struct lapic *l);

/* Direct injection (hypervisor, SynIC): set vector in IRR (and TMR if level_trig), as a fixed
 * interrupt accepted from the bus. Vectors below 16 are refused with a receive-illegal-vector
 * error. Returns true if the vector was accepted. */
bool lapic_set_irr(struct lapic *l, uint8_t vector, bool level_trig);
/* SynIC AutoEOI: vectors so marked are retired at INTA instead of entering ISR; the EOI hook
 * still sees them, so SINT message redelivery works the same way. */
void lapic_set_auto_eoi(struct lapic *l, uint8_t vector, bool on);
void lapic_set_eoi_hook(struct lapic *l, lapic_eoi_fn fn, void *opaque);
/* EOI assist: after lapic_ack moves a vector into ISR whose EOI would have no side effect
 * (lapic_eoi_is_trivial), the LAPIC offers the guest to skip it. The offer is collected before
 * anything else can need that EOI (a vector entering IRR, the next INTA, a guest read of any
 * APIC register, a reset); if the guest consumed it the LAPIC performs the EOI itself. A guest
 * EOI while an offer is outstanding retires the offer, so a guest that ignores the bit is EOId
 * exactly once.
 * NULL (or a NULL offer) turns it off. */
void lapic_set_eoi_assist(struct lapic *l, const struct lapic_eoi_assist *a);
/* True when an EOI now would only clear ISR bit `vector`: it is the only ISR bit, it is
 * edge-triggered (TMR clear, so no IOAPIC broadcast), and IRR is empty (nothing waits on the
 * EOI to become deliverable), as KVM's pv_eoi rules. */
bool lapic_eoi_is_trivial(const struct lapic *l, uint8_t vector);
/* LINT0/LINT1 input pins (LINT0 usually the PIC; LINT1 the NMI line). */
void lapic_set_lint(struct lapic *l, unsigned pin, bool level);

/* Register views for tests and the hypervisor (xAPIC layout). */
uint32_t lapic_get_ppr(const struct lapic *l);
uint32_t lapic_get_apr(const struct lapic *l);
uint32_t lapic_timer_current(const struct lapic *l);
bool lapic_is_x2apic(const struct lapic *l);
/* Register name for traces ("TPR", "ICR", ...; "reserved" for holes), by xAPIC offset. */
const char *lapic_reg_name(gpa_t offset);

#endif
