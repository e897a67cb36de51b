/* ACPI table generator: RSDP, RSDT/XSDT, FADT, FACS, DSDT (hand-assembled AML), MADT and HPET,
 * built from the platform layout in acpi_layout.h and written into guest RAM. */
#ifndef HVEMU_ACPI_TABLES_H
#define HVEMU_ACPI_TABLES_H

#include "devices/acpi_layout.h"
#include "mmu/physmem.h"

#define ACPI_RSDP_SIZE     36u
#define ACPI_MAX_CPUS      255u  /* Processor Local APIC entries carry 8-bit IDs (< 0xFF) */
/* Space acpi_build_tables() may need at most for ACPI_MAX_CPUS. */
#define ACPI_TABLES_MAX_SIZE 8192u

/* Conventional spots: the RSDP in the BIOS area the OS scans, the tables below it. */
#define ACPI_DEFAULT_RSDP_ADDR   0xF0000ull
#define ACPI_DEFAULT_TABLES_ADDR 0xE0000ull

struct acpi_config {
    gpa_t rsdp_addr;          /* 16-byte aligned; 0xE0000-0xFFFFF for the legacy scan */
    gpa_t tables_addr;        /* start of the table area (rounded up to 64 for the FACS) */
    uint32_t tables_size;     /* bytes available from tables_addr */
    unsigned ncpus;           /* 1..ACPI_MAX_CPUS */
    const uint32_t *apic_ids; /* ncpus APIC IDs, or NULL for 0..ncpus-1 */
    uint8_t ioapic_id;
    /* ISA IRQs (bit n = IRQ n) that are level-triggered active-high, e.g. PCI INTx routed to
     * ISA lines; SCI (IRQ 9) is always described so. */
    uint16_t level_irqs;
    bool hpet;                /* describe the HPET at HPET_DEFAULT_BASE */
};

/* Where each table landed (guest-physical), and the bytes used from tables_addr. */
struct acpi_table_addrs {
    gpa_t rsdp, rsdt, xsdt, fadt, facs, dsdt, madt, hpet;
    uint32_t used;
};

/* Build into host buffers: tables (cfg->tables_size bytes, representing guest memory from
 * cfg->tables_addr) and rsdp (ACPI_RSDP_SIZE bytes). Returns 0, or -1 if the configuration is
 * invalid or the tables do not fit. */
int acpi_build_tables(const struct acpi_config *cfg, uint8_t *tables, uint8_t *rsdp,
                      struct acpi_table_addrs *out);
/* Build and copy into guest RAM with physmem_load. Returns 0 or -1. */
int acpi_write_tables(struct physmem *pm, const struct acpi_config *cfg,
                      struct acpi_table_addrs *out);

/* Sum of len bytes modulo 256: zero for a table with a correct checksum. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
