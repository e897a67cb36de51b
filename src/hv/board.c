/* The PC board: the platform devices of one machine, their ports, MMIO windows, interrupt
 * wiring (PIC and IOAPIC behind one router, a local APIC per VP) and the ACPI tables. */
#include "hv/board.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/acpi_pm.h"
#include "devices/acpi_tables.h"
#include "devices/debugexit.h"
#include "devices/fwcfg.h"
#include "devices/hpet.h"
#include "devices/i8042.h"
#include "devices/i8254.h"
#include "devices/i8259.h"
#include "devices/ioapic.h"
#include "devices/irq_router.h"
#include "devices/lapic.h"
#include "devices/mc146818.h"
#include "devices/pci.h"
#include "devices/sysctl.h"
#include "devices/sysports.h"
#include "devices/uart16550.h"
#include "hv/board_priv.h"
#include "hv/exits.h"

static enum exit_action env_exit(void *opaque, struct vcpu *vp, struct vmexit *ex)
{
    return machine_handle_exit(opaque, vp, ex);
}

static int env_intr_ack(void *opaque, struct vcpu *vp)
{
    struct machine *m = opaque;
    struct board *b = (struct board *)m->dev;
    int v = lapic_ack(&b->lapic[cpu_apic_id(vp)]);
    if (v == LAPIC_ACK_EXTINT)
        v = pic_ack(&b->pic);
    if (m->cfg.trace & TRACE_INT)
        fprintf(m->trace_out, "int: vp%u accepts vector %d%s\n", cpu_apic_id(vp), v,
                b->lapic[cpu_apic_id(vp)].assist_armed ? " (EOI assist offered)" : "");
    return v;
}

/* The LAPIC's EOI-assist offers go to the VP assist page (TLFS "EOI assist"); the LAPIC
 * decides when an EOI may be skipped, the hypervisor owns the guest-visible bit. */
static bool assist_offer(void *opaque)
{
    struct vp_link *l = opaque;
    struct board *b = (struct board *)l->m->dev;
    return hv_apic_assist_offer(b->hv, hv_partition_vp(b->hv, l->index));
}

static bool assist_collect(void *opaque)
{
    struct vp_link *l = opaque;
    struct board *b = (struct board *)l->m->dev;
    return hv_apic_assist_collect(b->hv, hv_partition_vp(b->hv, l->index));
}

/* ---- Local APIC -> CPU signals. ---- */

static struct vcpu *link_vcpu(void *opaque)
{
    struct vp_link *l = opaque;
    return l->m->vcpu[l->index];
}

static void lapic_set_intr(void *opaque, bool level)
{
    struct vcpu *vp = link_vcpu(opaque);
    if (!vp)
        return;
    if (level)
        cpu_raise_event(vp, CPU_EV_INTR);
    else
        cpu_lower_event(vp, CPU_EV_INTR);
}

static void lapic_nmi(void *opaque)
{
    struct vcpu *vp = link_vcpu(opaque);
    if (vp)
        cpu_raise_event(vp, CPU_EV_NMI);
}

static void lapic_init_sig(void *opaque)
{
    struct vcpu *vp = link_vcpu(opaque);
    if (vp)
        cpu_raise_event(vp, CPU_EV_INIT);
}

static void lapic_sipi(void *opaque, uint8_t vector)
{
    struct vcpu *vp = link_vcpu(opaque);
    if (vp)
        cpu_raise_sipi(vp, vector);
}

static void lapic_kick(void *opaque)
{
    struct vcpu *vp = link_vcpu(opaque);
    if (vp)
        cpu_raise_event(vp, CPU_EV_KICK);
}

/* xAPIC MMIO: one window, but each VP sees its own local APIC. */
static uint64_t lapic_window_read(void *dev, gpa_t off, unsigned size)
{
    struct machine *m = dev;
    struct board *b = (struct board *)m->dev;
    return lapic_mmio_read(&b->lapic[m->current_vp], off, size);
}

static void lapic_window_write(void *dev, gpa_t off, uint64_t v, unsigned size)
{
    struct machine *m = dev;
    struct board *b = (struct board *)m->dev;
    lapic_mmio_write(&b->lapic[m->current_vp], off, v, size);
}

static const struct mmio_ops lapic_window_ops = {lapic_window_read, lapic_window_write};

/* ---- Machine-level requests from devices. ---- */

static void sys_request_fn(void *opaque, enum sys_request req, int status)
{
    struct machine *m = opaque;
    switch (req) {
    case SYS_REQ_POWEROFF: machine_request_stop(m, MSTOP_POWEROFF, 0); break;
    case SYS_REQ_RESET: machine_request_stop(m, MSTOP_RESET, 0); break;
    case SYS_REQ_DEBUG_EXIT: machine_request_stop(m, MSTOP_DEBUG_EXIT, status); break;
    }
}

static void sys_set_a20_fn(void *opaque, bool on)
{
    struct machine *m = opaque;
    physmem_set_a20(&m->mem, on);
    for (unsigned i = 0; i < m->nvcpus; i++)
        if (m->vcpu[i])
            cpu_tlb_flush_all(m->vcpu[i], true);
}

/* ---- COM1's host side. ---- */

static void serial_tx(void *opaque, uint8_t byte)
{
    struct machine *m = opaque;
    if (m->cfg.serial_tx)
        m->cfg.serial_tx(m->cfg.serial_opaque, byte);
}

static size_t serial_rx(void *opaque, uint8_t *buf, size_t max)
{
    struct machine *m = opaque;
    return m->cfg.serial_rx ? m->cfg.serial_rx(m->cfg.serial_opaque, buf, max) : 0;
}

static size_t no_rx(void *opaque, uint8_t *buf, size_t max)
{
    return 0;
}

static void no_tx(void *opaque, uint8_t byte)
{
}

static int board_acpi(struct machine *m, struct board *b, char *err, size_t errlen)
{
    uint32_t ids[MACHINE_MAX_VCPUS];
    for (unsigned i = 0; i < m->nvcpus; i++)
        ids[i] = i;
    struct acpi_config ac = {
        .rsdp_addr = ACPI_DEFAULT_RSDP_ADDR,
        .tables_addr = ACPI_DEFAULT_TABLES_ADDR,
        .tables_size = ACPI_TABLES_MAX_SIZE,
        .ncpus = m->nvcpus,
        .apic_ids = ids,
        .ioapic_id = (uint8_t)m->nvcpus,
        .hpet = true,
    };
    if (acpi_write_tables(&m->mem, &ac, &b->acpi)) {
        snprintf(err, errlen, "cannot build the ACPI tables");
        return -1;
    }
    return 0;
}

int board_create(struct machine *m, char *err, size_t errlen)
{
    struct board *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->dev = (struct machine_devices *)b;
    b->env = (struct cpu_env){m, env_exit, env_intr_ack};
    b->sysctl = (struct sys_ctl){m, sys_request_fn, sys_set_a20_fn};

    /* Interrupt fabric: LAPICs on one bus, the IOAPIC, the PIC on LINT0 (virtual wire). */
    apic_bus_init(&b->apic_bus);
    for (unsigned i = 0; i < m->nvcpus; i++) {
        b->links[i] = (struct vp_link){m, i};
        b->lapic_ops[i] = (struct lapic_cpu_ops){&b->links[i], lapic_set_intr, lapic_nmi,
                                                 lapic_init_sig, lapic_sipi, lapic_kick};
        if (lapic_init(&b->lapic[i], &b->apic_bus, &m->clock, &b->lapic_ops[i], i, i == 0)) {
            snprintf(err, errlen, "cannot create local APIC %u", i);
            goto fail;
        }
    }
    ioapic_init(&b->ioapic, &b->apic_bus, (uint8_t)m->nvcpus);
    apic_bus_set_eoi_broadcast(&b->apic_bus, ioapic_eoi_broadcast, &b->ioapic);
    struct irq_line pic_intr = {apic_bus_pic_intr, &b->apic_bus, 0};
    pic_init(&b->pic, &pic_intr);
    struct irq_router_pic rp = {&b->pic, pic_irq_handler};
    irq_router_init(&b->router, &b->ioapic, &rp);

    /* Legacy ISA devices. */
    struct uart_backend com1 = {m, serial_tx, serial_rx};
    struct uart_backend com2 = {m, no_tx, no_rx};
    uart_init(&b->com1, UART_COM1_BASE, &m->clock, irq_router_line(&b->router, UART_COM1_IRQ), &com1);
    uart_init(&b->com2, UART_COM2_BASE, &m->clock, irq_router_line(&b->router, UART_COM2_IRQ), &com2);
    pit_init(&b->pit, &m->clock, irq_router_line(&b->router, 0));
    struct rtc_config rc = {.ram_below_4g = m->mem.low_size,
                            .ram_above_4g = m->mem.ram_size - m->mem.low_size,
                            .host_time = m->cfg.rtc_host};
    rtc_init(&b->rtc, &m->clock, irq_router_line(&b->router, RTC_IRQ), &rc);
    i8042_init(&b->kbc, irq_router_line(&b->router, I8042_KBD_IRQ),
               irq_router_line(&b->router, I8042_AUX_IRQ), &b->sysctl);
    sysports_init(&b->sys, &b->pit, &m->clock, &b->sysctl);
    debugexit_init(&b->dbg, DEBUGEXIT_PORT, &b->sysctl);
    fwcfg_init(&b->fwcfg, m->cfg.ram_size, m->nvcpus);
    acpi_pm_init(&b->pm, &m->clock, irq_router_line(&b->router, ACPI_SCI_IRQ), &b->sysctl);
    pci_init(&b->pci);
    vga_text_init(&b->vga);
    struct hpet_irq_ops hio = {&b->router, irq_router_hpet_set, irq_router_set_hpet_legacy};
    hpet_init(&b->hpet, &m->clock, &hio);

    if (pic_register(&b->pic, &m->io) || uart_register(&b->com1, &m->io) ||
        uart_register(&b->com2, &m->io) || pit_register(&b->pit, &m->io) ||
        rtc_register(&b->rtc, &m->io) || i8042_register(&b->kbc, &m->io) ||
        sysports_register(&b->sys, &m->io) || debugexit_register(&b->dbg, &m->io) ||
        fwcfg_register(&b->fwcfg, &m->io) || acpi_pm_register(&b->pm, &m->io) ||
        pci_register(&b->pci, &m->io) || vga_text_register(&b->vga, &m->io)) {
        snprintf(err, errlen, "internal error: overlapping I/O ports");
        goto fail;
    }
    if (physmem_map_mmio(&m->mem, LAPIC_DEFAULT_BASE, LAPIC_MMIO_SIZE, &lapic_window_ops, m, "lapic") ||
        physmem_map_mmio(&m->mem, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, &ioapic_mmio_ops, &b->ioapic, "ioapic") ||
        physmem_map_mmio(&m->mem, HPET_DEFAULT_BASE, HPET_MMIO_SIZE, &hpet_mmio_ops, &b->hpet, "hpet")) {
        snprintf(err, errlen, "internal error: overlapping MMIO windows");
        goto fail;
    }
    if (board_acpi(m, b, err, errlen) || board_hv_create(m, b, err, errlen))
        goto fail;
    for (unsigned i = 0; b->hv && i < m->nvcpus; i++) {
        struct lapic_eoi_assist a = {&b->links[i], assist_offer, assist_collect};
        lapic_set_eoi_assist(&b->lapic[i], &a);
    }
    return 0;
fail:
    board_destroy(m);
    return -1;
}

void board_destroy(struct machine *m)
{
    struct board *b = (struct board *)m->dev;
    if (!b)
        return;
    board_hv_destroy(b);
    free(b);
    m->dev = NULL;
}

void board_poll(struct machine *m)
{
    struct board *b = (struct board *)m->dev;
    uart_poll(&b->com1);
}

const struct cpu_env *board_cpu_env(struct machine *m)
{
    return &((struct board *)m->dev)->env;
}

bool board_vp_wakeable(struct machine *m, unsigned i)
{
    struct board *b = (struct board *)m->dev;
    struct vcpu *vp = m->vcpu[i];
    if (cpu_pending_events(vp) & (CPU_EV_NMI | CPU_EV_INIT | CPU_EV_SIPI))
        return true;
    if (!lapic_has_intr(&b->lapic[i]) && !(lapic_accept_pic_intr(&b->lapic[i]) && pic_intr_pending(&b->pic)))
        return false;
    /* HLT waits for an interrupt it can take; the Hyper-V guest-idle MSR, and MWAIT with
     * "interrupt as break event", wake on any. */
    if (b->idle[i]) {
        b->idle[i] = false;
        return true;
    }
    if (cpu_mwait_state(vp) == CPU_MWAIT_BREAK)
        return true;
    return (cpu_get_rflags(vp) >> 9) & 1;
}

struct vga_text *machine_vga(struct machine *m)
{
    return &((struct board *)m->dev)->vga;
}

void board_tsc_offset_changed(struct machine *m, unsigned vp, int64_t offset)
{
    struct board *b = (struct board *)m->dev;
    lapic_set_tsc_offset(&b->lapic[vp], offset);
    if (b->hv)
        hv_set_tsc_offset(b->hv, vp, offset);
}

gpa_t machine_acpi_rsdp(const struct machine *m)
{
    const struct board *b = (const struct board *)m->dev;
    return b->acpi.rsdp;
}

uint64_t board_tpr_read(struct machine *m, unsigned vp)
{
    return lapic_get_cr8(&((struct board *)m->dev)->lapic[vp]);
}

void board_tpr_write(struct machine *m, unsigned vp, uint64_t cr8)
{
    lapic_set_cr8(&((struct board *)m->dev)->lapic[vp], cr8);
}
