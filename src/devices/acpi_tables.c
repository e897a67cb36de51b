/* ACPI table generator (ACPI 6.0 layouts). The DSDT's AML is assembled by hand from a few
 * encoders (ACPI 6.0 chapter 20): enough for \_S5 and the \_SB devices. */
#include "devices/acpi_tables.h"

#include "devices/hpet.h"
#include "devices/ioapic.h"

#include <string.h>

#define HDR_LEN 36u
#define FADT_LEN 276u
#define FACS_LEN 64u
#define MADT_HDR_LEN 44u
#define HPET_LEN 56u

static const char oem_id[6] = { 'H', 'V', 'E', 'M', 'U', ' ' };
static const char oem_table_id[8] = { 'H', 'V', 'E', 'M', 'U', 'P', 'C', ' ' };

static void put8(uint8_t *p, size_t off, uint64_t v) { p[off] = (uint8_t)v; }
static void put16(uint8_t *p, size_t off, uint64_t v)
{
    p[off] = (uint8_t)v;
    p[off + 1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, size_t off, uint64_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[off + i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, size_t off, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[off + i] = (uint8_t)(v >> (8 * i));
}

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* Generic Address Structure (ACPI 6.0 5.2.3.2). */
enum { GAS_MEMORY = 0, GAS_IO = 1 };
static void put_gas(uint8_t *p, size_t off, uint8_t space, uint8_t bits, uint8_t access,
                    uint64_t addr)
{
    put8(p, off, space);
    put8(p, off + 1, bits);
    put8(p, off + 2, 0);
    put8(p, off + 3, access);
    put64(p, off + 4, addr);
}

static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t, 4, len);
    put8(t, 8, rev);
    memcpy(t + 10, oem_id, 6);
    memcpy(t + 16, oem_table_id, 8);
    put32(t, 24, 1);
    memcpy(t + 28, "HVEM", 4);
    put32(t, 32, 1);
}

static void finish(uint8_t *t, uint32_t len) { t[9] = (uint8_t)(0x100 - acpi_checksum(t, len)); }

/* ---- AML ---- */

#define AML_MAX 512
struct aml {
    uint8_t b[AML_MAX];
    size_t n;
    bool overflow;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (a->overflow || n > AML_MAX - a->n) {
        a->overflow = true;
        return;
    }
    memcpy(a->b + a->n, p, n);
    a->n += n;
}

static void aml_byte(struct aml *a, uint8_t v) { aml_bytes(a, &v, 1); }

/* PkgLength (20.2.4): counts itself; one byte up to 63, else a lead byte with the byte count in
 * bits 7:6 and the low nibble in 3:0, followed by the remaining bits. */
static void aml_pkglength(struct aml *a, size_t body)
{
    if (body + 1 < 64) {
        aml_byte(a, (uint8_t)(body + 1));
        return;
    }
    unsigned extra = body + 2 < (1u << 12) ? 1 : body + 3 < (1u << 20) ? 2 : 3;
    size_t total = body + 1 + extra;
    aml_byte(a, (uint8_t)((extra << 6) | (total & 0xF)));
    for (unsigned i = 0; i < extra; i++)
        aml_byte(a, (uint8_t)(total >> (4 + 8 * i)));
}

/* opcode(s), PkgLength, body */
static void aml_pkg(struct aml *a, const uint8_t *op, size_t oplen, const struct aml *body)
{
    if (body->overflow)
        a->overflow = true;
    aml_bytes(a, op, oplen);
    aml_pkglength(a, body->n);
    aml_bytes(a, body->b, body->n);
}

static void aml_integer(struct aml *a, uint64_t v)
{
    if (v <= 1) {
        aml_byte(a, (uint8_t)v); /* ZeroOp, OneOp */
    } else if (v <= 0xFF) {
        aml_byte(a, 0x0A);       /* BytePrefix */
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xFFFF) {
        aml_byte(a, 0x0B);       /* WordPrefix */
        aml_byte(a, (uint8_t)v);
        aml_byte(a, (uint8_t)(v >> 8));
    } else if (v <= 0xFFFFFFFF) {
        aml_byte(a, 0x0C);       /* DWordPrefix */
        for (unsigned i = 0; i < 4; i++)
            aml_byte(a, (uint8_t)(v >> (8 * i)));
    } else {
        aml_byte(a, 0x0E);       /* QWordPrefix */
        for (unsigned i = 0; i < 8; i++)
            aml_byte(a, (uint8_t)(v >> (8 * i)));
    }
}

/* EISAID("PNP0A03"): three 5-bit letters and four hex digits in a big-endian dword. */
static void aml_eisaid(struct aml *a, const char id[7])
{
    unsigned c1 = (unsigned)(id[0] - '@') & 0x1F, c2 = (unsigned)(id[1] - '@') & 0x1F,
             c3 = (unsigned)(id[2] - '@') & 0x1F;
    unsigned hex[4];
    for (unsigned i = 0; i < 4; i++) {
        char c = id[3 + i];
        hex[i] = (unsigned)(c <= '9' ? c - '0' : c - 'A' + 10) & 0xF;
    }
    aml_byte(a, 0x0C);
    aml_byte(a, (uint8_t)((c1 << 2) | (c2 >> 3)));
    aml_byte(a, (uint8_t)(((c2 & 7) << 5) | c3));
    aml_byte(a, (uint8_t)((hex[0] << 4) | hex[1]));
    aml_byte(a, (uint8_t)((hex[2] << 4) | hex[3]));
}

static void aml_name(struct aml *a, const char seg[4])
{
    aml_byte(a, 0x08); /* NameOp */
    aml_bytes(a, seg, 4);
}

static void aml_name_int(struct aml *a, const char seg[4], uint64_t v)
{
    aml_name(a, seg);
    aml_integer(a, v);
}

static void aml_name_eisaid(struct aml *a, const char seg[4], const char id[7])
{
    aml_name(a, seg);
    aml_eisaid(a, id);
}

static void aml_device(struct aml *a, const char seg[4], const struct aml *body)
{
    struct aml inner = { .n = 0 };
    aml_bytes(&inner, seg, 4);
    aml_bytes(&inner, body->b, body->n);
    inner.overflow |= body->overflow;
    static const uint8_t op[2] = { 0x5B, 0x82 }; /* ExtOpPrefix DeviceOp */
    aml_pkg(a, op, 2, &inner);
}

static void aml_buffer(struct aml *a, const uint8_t *data, size_t n)
{
    struct aml inner = { .n = 0 };
    aml_integer(&inner, n);
    aml_bytes(&inner, data, n);
    static const uint8_t op = 0x11; /* BufferOp */
    aml_pkg(a, &op, 1, &inner);
}

static void build_dsdt_aml(struct aml *out)
{
    /* Name(\_S5, Package(4) { SLP_TYP(PM1a), SLP_TYP(PM1b), 0, 0 }) */
    struct aml pkg = { .n = 0 };
    aml_byte(&pkg, 4); /* NumElements */
    aml_integer(&pkg, ACPI_S5_SLP_TYP);
    aml_integer(&pkg, ACPI_S5_SLP_TYP);
    aml_integer(&pkg, 0);
    aml_integer(&pkg, 0);
    aml_name(out, "_S5_");
    static const uint8_t package_op = 0x12;
    aml_pkg(out, &package_op, 1, &pkg);

    struct aml sb = { .n = 0 };
    static const uint8_t sb_name[5] = { 0x5C, '_', 'S', 'B', '_' }; /* \_SB_ */
    aml_bytes(&sb, sb_name, 5);

    struct aml pci = { .n = 0 };
    aml_name_eisaid(&pci, "_HID", "PNP0A03");
    aml_name_int(&pci, "_UID", 0);
    aml_device(&sb, "PCI0", &pci);

    /* COM1: IO(Decode16, 0x3F8, 0x3F8, 1, 8), IRQNoFlags() {4}, EndTag (6.4.2) */
    static const uint8_t com1_crs[] = {
        0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08,
        0x22, 0x10, 0x00,
        0x79, 0x00,
    };
    struct aml com = { .n = 0 };
    aml_name_eisaid(&com, "_HID", "PNP0501");
    aml_name_int(&com, "_UID", 1);
    aml_name(&com, "_CRS");
    aml_buffer(&com, com1_crs, sizeof(com1_crs));
    aml_device(&sb, "COM1", &com);

    static const uint8_t scope_op = 0x10;
    aml_pkg(out, &scope_op, 1, &sb);
}

/* ---- tables ---- */

struct area {
    uint8_t *buf;
    gpa_t base;
    uint32_t size, used;
};

/* Reserve len bytes aligned to align; returns the offset in the buffer or -1. */
static long area_alloc(struct area *ar, uint32_t len, uint32_t align)
{
    uint64_t addr = (ar->base + ar->used + align - 1) & ~(uint64_t)(align - 1);
    uint64_t off = addr - ar->base;
    if (off + len > ar->size)
        return -1;
    ar->used = (uint32_t)(off + len);
    return (long)off;
}

static void build_fadt(uint8_t *t, gpa_t facs, gpa_t dsdt)
{
    header(t, "FACP", FADT_LEN, 6);
    if (facs < (1ull << 32))
        put32(t, 36, facs);     /* FIRMWARE_CTRL */
    else
        put64(t, 132, facs);    /* X_FIRMWARE_CTRL: only one of the two may be set */
    put32(t, 40, dsdt < (1ull << 32) ? dsdt : 0);
    put16(t, 46, ACPI_SCI_IRQ);
    /* SMI_CMD (48) = 0: no SMM handshake, the platform is always in ACPI mode. */
    put32(t, 56, ACPI_PM1A_EVT_BLK);
    put32(t, 64, ACPI_PM1A_CNT_BLK);
    put32(t, 76, ACPI_PM_TMR_BLK);
    put8(t, 88, ACPI_PM1_EVT_LEN);
    put8(t, 89, ACPI_PM1_CNT_LEN);
    put8(t, 91, ACPI_PM_TMR_LEN);
    put16(t, 96, 101);  /* P_LVL2_LAT > 100: no C2 */
    put16(t, 98, 1001); /* P_LVL3_LAT > 1000: no C3 */
    put8(t, 108, ACPI_RTC_CENTURY);
    put16(t, 109, (1u << 0) | (1u << 1)); /* IAPC_BOOT_ARCH: LEGACY_DEVICES, 8042 */
    uint32_t flags = (1u << 0)    /* WBINVD */
                     | (1u << 2)  /* PROC_C1 */
                     | (1u << 4)  /* PWR_BUTTON: no fixed power button */
                     | (1u << 5)  /* SLP_BUTTON: no fixed sleep button */
                     | (1u << 6)  /* FIX_RTC: no RTC wake status */
                     | (1u << 10) /* RESET_REG_SUP */
                     | (ACPI_PM_TIMER_BITS == 32 ? 1u << 8 : 0); /* TMR_VAL_EXT */
    put32(t, 112, flags);
    put_gas(t, 116, GAS_IO, 8, 1, ACPI_RESET_PORT);
    put8(t, 128, ACPI_RESET_VALUE);
    put8(t, 131, 0); /* FADT minor version: 6.0 */
    put64(t, 140, dsdt);
    put_gas(t, 148, GAS_IO, ACPI_PM1_EVT_LEN * 8, 2, ACPI_PM1A_EVT_BLK);
    put_gas(t, 172, GAS_IO, ACPI_PM1_CNT_LEN * 8, 2, ACPI_PM1A_CNT_BLK);
    put_gas(t, 208, GAS_IO, ACPI_PM_TMR_LEN * 8, 3, ACPI_PM_TMR_BLK);
    finish(t, FADT_LEN);
}

static uint32_t madt_len(const struct acpi_config *cfg)
{
    unsigned isos = 2; /* IRQ0 -> GSI2, SCI */
    for (unsigned irq = 0; irq < 16; irq++)
        if ((cfg->level_irqs >> irq) & 1 && irq != ACPI_SCI_IRQ && irq != 0 && irq != 2)
            isos++;
    return MADT_HDR_LEN + 8 * cfg->ncpus + 12 + 10 * isos + 6;
}

static size_t madt_iso(uint8_t *t, size_t off, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    put8(t, off, 2); /* Interrupt Source Override */
    put8(t, off + 1, 10);
    put8(t, off + 2, 0); /* ISA bus */
    put8(t, off + 3, irq);
    put32(t, off + 4, gsi);
    put16(t, off + 8, flags);
    return off + 10;
}

/* MPS INTI flags: polarity 1:0 (01 active high), trigger 3:2 (11 level). */
#define INTI_LEVEL_HIGH 0x000Du

static void build_madt(uint8_t *t, const struct acpi_config *cfg, uint32_t len)
{
    header(t, "APIC", len, 3);
    put32(t, 36, LAPIC_DEFAULT_BASE);
    put32(t, 40, 1); /* PCAT_COMPAT: dual 8259s present */
    size_t off = MADT_HDR_LEN;
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        put8(t, off, 0); /* Processor Local APIC */
        put8(t, off + 1, 8);
        put8(t, off + 2, (uint8_t)i); /* ACPI processor UID */
        put8(t, off + 3, (uint8_t)(cfg->apic_ids ? cfg->apic_ids[i] : i));
        put32(t, off + 4, 1); /* enabled */
        off += 8;
    }
    put8(t, off, 1); /* I/O APIC */
    put8(t, off + 1, 12);
    put8(t, off + 2, cfg->ioapic_id);
    put8(t, off + 3, 0);
    put32(t, off + 4, IOAPIC_DEFAULT_BASE);
    put32(t, off + 8, 0); /* GSI base */
    off += 12;
    off = madt_iso(t, off, 0, ISA_IRQ0_GSI, 0); /* conforming: edge, active high */
    off = madt_iso(t, off, ACPI_SCI_IRQ, ACPI_SCI_IRQ, INTI_LEVEL_HIGH);
    for (unsigned irq = 0; irq < 16; irq++)
        if ((cfg->level_irqs >> irq) & 1 && irq != ACPI_SCI_IRQ && irq != 0 && irq != 2)
            off = madt_iso(t, off, (uint8_t)irq, irq, INTI_LEVEL_HIGH);
    put8(t, off, 4); /* Local APIC NMI: every processor's LINT1 */
    put8(t, off + 1, 6);
    put8(t, off + 2, 0xFF);
    put16(t, off + 3, 0);
    put8(t, off + 5, 1);
    finish(t, len);
}

static void build_hpet(uint8_t *t)
{
    header(t, "HPET", HPET_LEN, 1);
    put32(t, 36, hpet_block_id());
    put_gas(t, 40, GAS_MEMORY, 64, 0, HPET_DEFAULT_BASE);
    put8(t, 52, 0);      /* HPET number */
    put16(t, 53, 0x80);  /* minimum periodic tick the OS should program */
    put8(t, 55, 0);      /* no page protection */
    finish(t, HPET_LEN);
}

int acpi_build_tables(const struct acpi_config *cfg, uint8_t *tables, uint8_t *rsdp,
                      struct acpi_table_addrs *out)
{
    struct acpi_table_addrs a;
    memset(&a, 0, sizeof(a));
    if (!cfg->ncpus || cfg->ncpus > ACPI_MAX_CPUS || (cfg->rsdp_addr & 15) ||
        cfg->rsdp_addr + ACPI_RSDP_SIZE > (1ull << 32))
        return -1;
    for (unsigned i = 0; cfg->apic_ids && i < cfg->ncpus; i++)
        if (cfg->apic_ids[i] >= 0xFF)
            return -1;
    struct aml dsdt_aml = { .n = 0 };
    build_dsdt_aml(&dsdt_aml);
    if (dsdt_aml.overflow)
        return -1;

    struct area ar = { tables, cfg->tables_addr, cfg->tables_size, 0 };
    memset(tables, 0, cfg->tables_size);
    uint32_t dsdt_len = HDR_LEN + (uint32_t)dsdt_aml.n, mlen = madt_len(cfg);
    unsigned nent = cfg->hpet ? 3 : 2;
    long facs = area_alloc(&ar, FACS_LEN, 64); /* FACS must be 64-byte aligned */
    long dsdt = area_alloc(&ar, dsdt_len, 16);
    long fadt = area_alloc(&ar, FADT_LEN, 16);
    long madt = area_alloc(&ar, mlen, 16);
    long hpet = cfg->hpet ? area_alloc(&ar, HPET_LEN, 16) : 0;
    long rsdt = area_alloc(&ar, HDR_LEN + 4 * nent, 16);
    long xsdt = area_alloc(&ar, HDR_LEN + 8 * nent, 16);
    if (facs < 0 || dsdt < 0 || fadt < 0 || madt < 0 || hpet < 0 || rsdt < 0 || xsdt < 0)
        return -1;
    a.facs = cfg->tables_addr + (gpa_t)facs;
    a.dsdt = cfg->tables_addr + (gpa_t)dsdt;
    a.fadt = cfg->tables_addr + (gpa_t)fadt;
    a.madt = cfg->tables_addr + (gpa_t)madt;
    a.hpet = cfg->hpet ? cfg->tables_addr + (gpa_t)hpet : 0;
    a.rsdt = cfg->tables_addr + (gpa_t)rsdt;
    a.xsdt = cfg->tables_addr + (gpa_t)xsdt;
    a.rsdp = cfg->rsdp_addr;
    a.used = ar.used;
    /* The RSDT holds 32-bit pointers: every table must sit below 4 GiB. The RSDP must not
     * land on top of the tables. */
    if (a.xsdt + HDR_LEN + 8 * nent > (1ull << 32))
        return -1;
    if (cfg->rsdp_addr + ACPI_RSDP_SIZE > cfg->tables_addr &&
        cfg->rsdp_addr < cfg->tables_addr + ar.used)
        return -1;

    uint8_t *p = tables + facs;
    memcpy(p, "FACS", 4);
    put32(p, 4, FACS_LEN);
    put8(p, 32, 2); /* version */

    p = tables + dsdt;
    header(p, "DSDT", dsdt_len, 2); /* revision 2: 64-bit AML integers */
    memcpy(p + HDR_LEN, dsdt_aml.b, dsdt_aml.n);
    finish(p, dsdt_len);

    build_fadt(tables + fadt, a.facs, a.dsdt);
    build_madt(tables + madt, cfg, mlen);
    if (cfg->hpet)
        build_hpet(tables + hpet);

    gpa_t entries[3] = { a.fadt, a.madt, a.hpet };
    p = tables + rsdt;
    header(p, "RSDT", HDR_LEN + 4 * nent, 1);
    for (unsigned i = 0; i < nent; i++)
        put32(p, HDR_LEN + 4 * i, entries[i]);
    finish(p, HDR_LEN + 4 * nent);
    p = tables + xsdt;
    header(p, "XSDT", HDR_LEN + 8 * nent, 1);
    for (unsigned i = 0; i < nent; i++)
        put64(p, HDR_LEN + 8 * i, entries[i]);
    finish(p, HDR_LEN + 8 * nent);

    memset(rsdp, 0, ACPI_RSDP_SIZE);
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, oem_id, 6);
    put8(rsdp, 15, 2); /* ACPI 2.0+ */
    put32(rsdp, 16, a.rsdt);
    put32(rsdp, 20, ACPI_RSDP_SIZE);
    put64(rsdp, 24, a.xsdt);
    rsdp[8] = (uint8_t)(0x100 - acpi_checksum(rsdp, 20));
    rsdp[32] = (uint8_t)(0x100 - acpi_checksum(rsdp, ACPI_RSDP_SIZE));
    if (out)
        *out = a;
    return 0;
}

int acpi_write_tables(struct physmem *pm, const struct acpi_config *cfg,
                      struct acpi_table_addrs *out)
{
    static const uint32_t cap = ACPI_TABLES_MAX_SIZE;
    uint8_t tables[ACPI_TABLES_MAX_SIZE], rsdp[ACPI_RSDP_SIZE];
    struct acpi_config c = *cfg;
    if (c.tables_size > cap)
        c.tables_size = cap;
    struct acpi_table_addrs a;
    if (acpi_build_tables(&c, tables, rsdp, &a) < 0)
        return -1;
    if (physmem_load(pm, c.tables_addr, tables, a.used) < 0 ||
        physmem_load(pm, c.rsdp_addr, rsdp, ACPI_RSDP_SIZE) < 0)
        return -1;
    if (out)
        *out = a;
    return 0;
}
