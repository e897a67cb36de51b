/* The board's device set; private to src/hv's board files. */
#ifndef HVEMU_BOARD_PRIV_H
#define HVEMU_BOARD_PRIV_H

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
#include "devices/vga_text.h"
#include "hv/hyperv.h"
#include "hv/machine.h"

struct vp_link {
    struct machine *m;
    unsigned index;
};

struct board {
    struct cpu_env env;
    struct sys_ctl sysctl;
    struct uart16550 com1, com2;
    struct i8259 pic;
    struct i8254 pit;
    struct mc146818 rtc;
    struct i8042 kbc;
    struct sysports sys;
    struct debugexit dbg;
    struct fwcfg fwcfg;
    struct acpi_pm pm;
    struct pci_host pci;
    struct hpet hpet;
    struct vga_text vga;
    struct apic_bus apic_bus;
    struct ioapic ioapic;
    struct irq_router router;
    struct lapic lapic[MACHINE_MAX_VCPUS];
    struct lapic_cpu_ops lapic_ops[MACHINE_MAX_VCPUS];
    struct vp_link links[MACHINE_MAX_VCPUS];
    bool idle[MACHINE_MAX_VCPUS]; /* in a Hyper-V guest-idle halt */
    struct acpi_table_addrs acpi;
    struct hv_partition *hv;      /* NULL with --hv off */
    struct hv_host_ops hv_ops;
};

int board_hv_create(struct machine *m, struct board *b, char *err, size_t errlen);
void board_hv_destroy(struct board *b);

#endif
