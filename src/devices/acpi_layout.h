/* The PC platform layout the ACPI tables describe: fixed-hardware ports, sleep types, and the
 * addresses of the interrupt controllers and HPET. The devices and the table generator both
 * include this, so the tables cannot disagree with the hardware. */
#ifndef HVEMU_ACPI_LAYOUT_H
#define HVEMU_ACPI_LAYOUT_H

/* ACPI fixed hardware (PM1a event/control blocks and the PM timer) in I/O space. acpi_pm.h
 * defines the same names with the same tokens, so either header may come first. */
#define ACPI_PM_BASE        0x600
#define ACPI_PM1A_EVT_BLK   (ACPI_PM_BASE + 0x0) /* PM1_STS 0x600, PM1_EN 0x602 */
#define ACPI_PM1_EVT_LEN    4
#define ACPI_PM1A_CNT_BLK   (ACPI_PM_BASE + 0x4) /* SCI_EN 0, SLP_TYP 12:10, SLP_EN 13 */
#define ACPI_PM1_CNT_LEN    2
#define ACPI_PM_TMR_BLK     (ACPI_PM_BASE + 0x8)
#define ACPI_PM_TMR_LEN     4
#define ACPI_PM_TIMER_HZ    3579545ull
/* The FADT does not set TMR_VAL_EXT: the PM timer is 24 bits wide. */
#define ACPI_PM_TIMER_BITS  24
/* No SMI_CMD port: the platform is always in ACPI mode, so PM1_CNT.SCI_EN must read 1. */
#define ACPI_SCI_IRQ        9
/* SLP_TYP for S5 in the DSDT's \_S5 package (PM1a and PM1b both). Writing PM1_CNT with this
 * SLP_TYP and SLP_EN = 1 powers the machine off. */
#define ACPI_S5_SLP_TYP     5

/* FADT RESET_REG: one byte to the PCI reset control register. */
#define ACPI_RESET_PORT     0xCF9
#define ACPI_RESET_VALUE    0x06

/* CMOS index of the RTC century byte (FADT CENTURY). */
#define ACPI_RTC_CENTURY    0x32

/* Interrupt controllers and timers in the physical address space. */
#define LAPIC_DEFAULT_BASE  0xFEE00000ull
#define LAPIC_MMIO_SIZE     0x1000ull
#define IOAPIC_DEFAULT_BASE 0xFEC00000ull
#define IOAPIC_MMIO_SIZE    0x1000ull
#define HPET_DEFAULT_BASE   0xFED00000ull
#define HPET_MMIO_SIZE      0x400ull

/* ISA IRQ 0 (PIT, HPET legacy timer 0) reaches IOAPIC pin 2, as on QEMU and most PCs; every
 * other ISA IRQ n reaches pin n. The MADT carries the matching interrupt source override. */
#define ISA_IRQ0_GSI        2

#endif
