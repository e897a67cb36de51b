/* ACPI tables: parse the generated RSDP, RSDT/XSDT, FADT, FACS, DSDT, MADT and HPET back and
 * check signatures, lengths, checksums, key fields and the AML of \_S5. */
#include <criterion/criterion.h>

#include "devices/acpi_tables.h"
#include "devices/hpet.h"

#define BASE 0xE0000ull
#define AREA 8192u

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

struct built {
    uint8_t tables[AREA];
    uint8_t rsdp[ACPI_RSDP_SIZE];
    struct acpi_table_addrs a;
};

static const uint8_t *at(const struct built *b, uint64_t gpa)
{
    cr_assert(gpa >= BASE && gpa < BASE + AREA, "address %#llx outside the area",
              (unsigned long long)gpa);
    return b->tables + (gpa - BASE);
}

/* Checks the common header and returns the table. */
static const uint8_t *table(const struct built *b, uint64_t gpa, const char *sig, uint8_t rev)
{
    const uint8_t *t = at(b, gpa);
    uint32_t len = (uint32_t)le(t + 4, 4);
    cr_assert(memcmp(t, sig, 4) == 0, "signature %.4s, want %s", (const char *)t, sig);
    cr_assert(len >= 36 && gpa + len <= BASE + AREA, "%s length %u", sig, len);
    cr_assert_eq(acpi_checksum(t, len), 0, "%s checksum", sig);
    cr_assert_eq(t[8], rev, "%s revision", sig);
    cr_assert(memcmp(t + 10, "HVEMU ", 6) == 0);
    return t;
}

static void build(struct built *b, const struct acpi_config *cfg)
{
    cr_assert_eq(acpi_build_tables(cfg, b->tables, b->rsdp, &b->a), 0);
}

static struct acpi_config default_cfg(void)
{
    return (struct acpi_config){ .rsdp_addr = 0xF0000, .tables_addr = BASE, .tables_size = AREA,
                                 .ncpus = 4, .ioapic_id = 0, .hpet = true };
}

Test(acpi_tables, rsdp_and_root_tables)
{
    static struct built b;
    struct acpi_config cfg = default_cfg();
    build(&b, &cfg);
    cr_assert(memcmp(b.rsdp, "RSD PTR ", 8) == 0);
    cr_assert_eq(acpi_checksum(b.rsdp, 20), 0);
    cr_assert_eq(acpi_checksum(b.rsdp, 36), 0);
    cr_assert_eq(b.rsdp[15], 2);
    cr_assert_eq(le(b.rsdp + 20, 4), 36);
    cr_assert_eq(le(b.rsdp + 16, 4), b.a.rsdt);
    cr_assert_eq(le(b.rsdp + 24, 8), b.a.xsdt);
    cr_assert_eq(b.a.rsdp, 0xF0000);

    const uint8_t *x = table(&b, b.a.xsdt, "XSDT", 1);
    const uint8_t *r = table(&b, b.a.rsdt, "RSDT", 1);
    cr_assert_eq(le(x + 4, 4), 36 + 3 * 8);
    cr_assert_eq(le(r + 4, 4), 36 + 3 * 4);
    static const char *const sigs[3] = { "FACP", "APIC", "HPET" };
    for (unsigned i = 0; i < 3; i++) {
        uint64_t p = le(x + 36 + 8 * i, 8);
        cr_assert_eq(le(r + 36 + 4 * i, 4), p, "RSDT and XSDT entry %u differ", i);
        cr_assert(memcmp(at(&b, p), sigs[i], 4) == 0, "entry %u is %.4s", i,
                  (const char *)at(&b, p));
    }
    cr_assert_leq(b.a.used, AREA);
}

Test(acpi_tables, fadt_and_facs)
{
    static struct built b;
    struct acpi_config cfg = default_cfg();
    build(&b, &cfg);
    const uint8_t *f = table(&b, b.a.fadt, "FACP", 6);
    cr_assert_eq(le(f + 4, 4), 276);
    cr_assert_eq(le(f + 36, 4), b.a.facs);
    cr_assert_eq(b.a.facs % 64, 0, "FACS must be 64-byte aligned");
    cr_assert_eq(le(f + 40, 4), b.a.dsdt);
    cr_assert_eq(le(f + 140, 8), b.a.dsdt);
    struct { unsigned off, size; uint64_t want; const char *what; } fields[] = {
        {46, 2, 9, "SCI_INT"},          {48, 4, 0, "SMI_CMD"},
        {56, 4, 0x600, "PM1a_EVT_BLK"}, {64, 4, 0x604, "PM1a_CNT_BLK"},
        {76, 4, 0x608, "PM_TMR_BLK"},   {80, 4, 0, "GPE0_BLK"},
        {88, 1, 4, "PM1_EVT_LEN"},      {89, 1, 2, "PM1_CNT_LEN"},
        {91, 1, 4, "PM_TMR_LEN"},       {108, 1, 0x32, "CENTURY"},
        {116, 1, 1, "RESET_REG space"}, {117, 1, 8, "RESET_REG width"},
        {120, 8, 0xCF9, "RESET_REG address"}, {128, 1, 6, "RESET_VALUE"},
        {148, 1, 1, "X_PM1a_EVT space"}, {149, 1, 32, "X_PM1a_EVT width"},
        {152, 8, 0x600, "X_PM1a_EVT"},  {173, 1, 16, "X_PM1a_CNT width"},
        {176, 8, 0x604, "X_PM1a_CNT"},  {209, 1, 32, "X_PM_TMR width"},
        {212, 8, 0x608, "X_PM_TMR"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        cr_assert_eq(le(f + fields[i].off, fields[i].size), fields[i].want, "%s = %#llx",
                     fields[i].what, (unsigned long long)le(f + fields[i].off, fields[i].size));
    uint32_t iapc = (uint32_t)le(f + 109, 2), flags = (uint32_t)le(f + 112, 4);
    cr_assert(iapc & 2, "IAPC_BOOT_ARCH 8042");
    cr_assert(iapc & 1, "IAPC_BOOT_ARCH LEGACY_DEVICES");
    cr_assert(flags & (1u << 10), "RESET_REG_SUP");
    cr_assert(!(flags & (1u << 8)), "24-bit PM timer: TMR_VAL_EXT clear");
    cr_assert(!(flags & (1u << 20)), "not hardware-reduced");
    const uint8_t *facs = at(&b, b.a.facs);
    cr_assert(memcmp(facs, "FACS", 4) == 0);
    cr_assert_eq(le(facs + 4, 4), 64);
}

/* PkgLength (ACPI 20.2.4); returns the value and advances *p past the encoding. */
static size_t pkglength(const uint8_t **p)
{
    const uint8_t *q = *p;
    unsigned extra = q[0] >> 6;
    size_t len = extra ? (q[0] & 0xF) : (q[0] & 0x3F);
    for (unsigned i = 0; i < extra; i++)
        len |= (size_t)q[1 + i] << (4 + 8 * i);
    *p = q + 1 + extra;
    return len;
}

static uint64_t aml_int(const uint8_t **p)
{
    const uint8_t *q = *p;
    switch (q[0]) {
    case 0x00: *p = q + 1; return 0;
    case 0x01: *p = q + 1; return 1;
    case 0x0A: *p = q + 2; return q[1];
    case 0x0B: *p = q + 3; return le(q + 1, 2);
    case 0x0C: *p = q + 5; return le(q + 1, 4);
    default: cr_assert_fail("not an integer: opcode %#x", q[0]); return 0;
    }
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return hay + i;
    return NULL;
}

Test(acpi_tables, dsdt_aml)
{
    static struct built b;
    struct acpi_config cfg = default_cfg();
    build(&b, &cfg);
    const uint8_t *d = table(&b, b.a.dsdt, "DSDT", 2);
    size_t len = le(d + 4, 4);
    const uint8_t *end = d + len;

    /* The body starts with Name(_S5_, Package(4) {5, 5, 0, 0}). */
    const uint8_t *p = d + 36;
    cr_assert_eq(p[0], 0x08, "NameOp");
    cr_assert(memcmp(p + 1, "_S5_", 4) == 0);
    p += 5;
    cr_assert_eq(*p++, 0x12, "PackageOp");
    const uint8_t *pkg_start = p;
    size_t plen = pkglength(&p);
    const uint8_t *pkg_end = pkg_start + plen;
    cr_assert_eq(*p++, 4, "NumElements");
    cr_assert_eq(aml_int(&p), ACPI_S5_SLP_TYP, "SLP_TYPa");
    cr_assert_eq(aml_int(&p), ACPI_S5_SLP_TYP, "SLP_TYPb");
    cr_assert_eq(aml_int(&p), 0);
    cr_assert_eq(aml_int(&p), 0);
    cr_assert_eq(p, pkg_end, "package length covers exactly its elements");

    /* Then Scope(\_SB_) spanning the rest of the table. */
    cr_assert_eq(*p++, 0x10, "ScopeOp");
    const uint8_t *scope_start = p;
    size_t slen = pkglength(&p);
    cr_assert_eq(scope_start + slen, end, "scope ends with the table");
    cr_assert(memcmp(p, "\\_SB_", 5) == 0);
    p += 5;

    /* Device(PCI0) { Name(_HID, EISAID("PNP0A03")) ... } */
    cr_assert(p[0] == 0x5B && p[1] == 0x82, "DeviceOp");
    p += 2;
    const uint8_t *dev_start = p;
    size_t dlen = pkglength(&p);
    cr_assert(memcmp(p, "PCI0", 4) == 0);
    static const uint8_t hid_pci[] = { 0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03 };
    cr_assert_not_null(find(p, (size_t)(dev_start + dlen - p), hid_pci, sizeof(hid_pci)));
    p = dev_start + dlen;

    /* Device(COM1) with PNP0501 and its I/O port and IRQ 4. */
    cr_assert(p[0] == 0x5B && p[1] == 0x82, "DeviceOp");
    p += 2;
    dev_start = p;
    dlen = pkglength(&p);
    cr_assert_eq(dev_start + dlen, end);
    cr_assert(memcmp(p, "COM1", 4) == 0);
    static const uint8_t hid_com[] = { 0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01 };
    static const uint8_t io[] = { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00,
                                  0x79, 0x00 };
    cr_assert_not_null(find(p, (size_t)(end - p), hid_com, sizeof(hid_com)));
    cr_assert_not_null(find(p, (size_t)(end - p), io, sizeof(io)));
}

struct madt_case {
    const char *name;
    unsigned ncpus;
    const uint32_t *ids;
    uint16_t level_irqs;
    unsigned want_isos;
};

static const uint32_t sparse_ids[3] = { 0, 2, 7 };

static const struct madt_case madt_cases[] = {
    {"one cpu", 1, NULL, 0, 2},
    {"four cpus, PCI level IRQs 10 and 11", 4, NULL, (1u << 10) | (1u << 11) | (1u << 9), 4},
    {"sparse APIC IDs", 3, sparse_ids, 0, 2},
    {"maximum cpus", ACPI_MAX_CPUS, NULL, 0, 2},
};

Test(acpi_tables, madt)
{
    static struct built b;
    for (size_t k = 0; k < ARRAY_SIZE(madt_cases); k++) {
        const struct madt_case *c = &madt_cases[k];
        struct acpi_config cfg = default_cfg();
        cfg.ncpus = c->ncpus;
        cfg.apic_ids = c->ids;
        cfg.level_irqs = c->level_irqs;
        cfg.ioapic_id = 5;
        build(&b, &cfg);
        const uint8_t *m = table(&b, b.a.madt, "APIC", 3);
        size_t len = le(m + 4, 4);
        cr_assert_eq(le(m + 36, 4), 0xFEE00000u);
        cr_assert_eq(le(m + 40, 4), 1, "PCAT_COMPAT");
        unsigned cpus = 0, ioapics = 0, isos = 0, nmis = 0;
        bool irq0 = false, sci = false;
        for (size_t off = 44; off < len;) {
            const uint8_t *e = m + off;
            cr_assert(e[1] >= 2 && off + e[1] <= len, "%s: entry at %zu", c->name, off);
            switch (e[0]) {
            case 0:
                cr_assert_eq(e[1], 8);
                cr_assert_eq(e[2], cpus, "processor UID");
                cr_assert_eq(e[3], c->ids ? c->ids[cpus] : cpus, "%s: APIC ID", c->name);
                cr_assert_eq(le(e + 4, 4), 1, "enabled");
                cpus++;
                break;
            case 1:
                cr_assert_eq(e[1], 12);
                cr_assert_eq(e[2], 5);
                cr_assert_eq(le(e + 4, 4), 0xFEC00000u);
                cr_assert_eq(le(e + 8, 4), 0, "GSI base");
                ioapics++;
                break;
            case 2: {
                cr_assert_eq(e[1], 10);
                unsigned src = e[3], gsi = (unsigned)le(e + 4, 4), flags = (unsigned)le(e + 8, 2);
                if (src == 0) {
                    irq0 = gsi == 2 && flags == 0;
                } else if (src == 9) {
                    sci = gsi == 9 && flags == 0xD;
                } else {
                    cr_assert((c->level_irqs >> src) & 1, "%s: unexpected ISO %u", c->name, src);
                    cr_assert(gsi == src && flags == 0xD);
                }
                isos++;
                break;
            }
            case 4:
                cr_assert_eq(e[1], 6);
                cr_assert_eq(e[2], 0xFF, "all processors");
                cr_assert_eq(e[5], 1, "LINT1");
                nmis++;
                break;
            default:
                cr_assert_fail("%s: unexpected MADT entry type %u", c->name, e[0]);
            }
            off += e[1];
        }
        cr_assert_eq(cpus, c->ncpus, "%s", c->name);
        cr_assert_eq(ioapics, 1);
        cr_assert_eq(isos, c->want_isos, "%s: ISOs %u", c->name, isos);
        cr_assert(irq0 && sci, "%s: IRQ0->GSI2 and SCI level overrides", c->name);
        cr_assert_eq(nmis, 1);
    }
}

Test(acpi_tables, hpet_table)
{
    static struct built b;
    struct acpi_config cfg = default_cfg();
    build(&b, &cfg);
    const uint8_t *h = table(&b, b.a.hpet, "HPET", 1);
    cr_assert_eq(le(h + 4, 4), 56);
    cr_assert_eq(le(h + 36, 4), hpet_block_id());
    cr_assert_eq(h[40], 0, "memory space");
    cr_assert_eq(le(h + 44, 8), 0xFED00000u);
    cr_assert_eq(h[52], 0);

    cfg.hpet = false;
    build(&b, &cfg);
    const uint8_t *x = table(&b, b.a.xsdt, "XSDT", 1);
    cr_assert_eq(le(x + 4, 4), 36 + 2 * 8);
    cr_assert_eq(b.a.hpet, 0);
}

struct bad_case {
    const char *name;
    struct acpi_config cfg;
};

static const uint32_t bad_ids[2] = { 0, 0xFF };

static const struct bad_case bad_cases[] = {
    {"no cpus", {0xF0000, BASE, AREA, 0, NULL, 0, 0, true}},
    {"too many cpus", {0xF0000, BASE, AREA, ACPI_MAX_CPUS + 1, NULL, 0, 0, true}},
    {"APIC ID 0xFF", {0xF0000, BASE, AREA, 2, bad_ids, 0, 0, true}},
    {"misaligned RSDP", {0xF0008, BASE, AREA, 1, NULL, 0, 0, true}},
    {"area too small", {0xF0000, BASE, 256, 1, NULL, 0, 0, true}},
    {"RSDP inside the tables", {BASE + 0x40, BASE, AREA, 1, NULL, 0, 0, true}},
    {"tables above 4 GiB", {0xF0000, 0xFFFFFF00ull, AREA, 1, NULL, 0, 0, true}},
};

Test(acpi_tables, invalid_configurations)
{
    static struct built b;
    for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++)
        cr_assert_eq(acpi_build_tables(&bad_cases[i].cfg, b.tables, b.rsdp, &b.a), -1, "%s",
                     bad_cases[i].name);
}

Test(acpi_tables, written_into_guest_ram)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, 16ull << 20), 0);
    struct acpi_config cfg = default_cfg();
    cfg.tables_addr = 0x100000;
    cfg.tables_size = 0x10000;
    struct acpi_table_addrs a;
    cr_assert_eq(acpi_write_tables(&pm, &cfg, &a), 0);
    uint8_t rsdp[36], hdr[36];
    physmem_read(&pm, 0xF0000, rsdp, sizeof(rsdp));
    cr_assert(memcmp(rsdp, "RSD PTR ", 8) == 0);
    cr_assert_eq(acpi_checksum(rsdp, 36), 0);
    physmem_read(&pm, le(rsdp + 24, 8), hdr, sizeof(hdr));
    cr_assert(memcmp(hdr, "XSDT", 4) == 0);
    cr_assert_eq(le(rsdp + 24, 8), a.xsdt);
    cr_assert(a.xsdt >= 0x100000 && a.xsdt < 0x110000);
    cfg.tables_addr = 32ull << 20; /* beyond RAM */
    cr_assert_eq(acpi_write_tables(&pm, &cfg, NULL), -1);
    physmem_destroy(&pm);
}
