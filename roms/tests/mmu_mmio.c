/* MMIO and holes through paging: LAPIC and HPET registers through 4 KiB alias mappings, accesses
 * straddling the end of RAM into the hole (holes read all-ones, ignore writes), RAM-to-MMIO
 * straddles across two translations, HPET 64-bit versus 32-bit counter accesses, and an access
 * straddling two device registers. */
#include "guest.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PG 4096ull

#define TB 0x8000000000ull
#define VA(i) (TB + (uint64_t)(i) * PG)

#define LAPIC_BASE 0xFEE00000ull
#define HPET_BASE 0xFED00000ull
#define HPET_CAP 0x000
#define HPET_CFG 0x010
#define HPET_COUNTER 0x0F0

static uint64_t pdpt_a[512] __attribute__((aligned(4096)));
static uint64_t pd_a[512] __attribute__((aligned(4096)));
static uint64_t pt_a[512] __attribute__((aligned(4096)));
static uint8_t ram_page[4096] __attribute__((aligned(4096)));

static void map(unsigned i, uint64_t pa, uint64_t flags)
{
    pt_a[i] = pa | flags;
    invlpg(VA(i));
}

static inline uint8_t r8(uint64_t a) { return *(volatile uint8_t *)(uintptr_t)a; }
static inline uint16_t r16(uint64_t a) { return *(volatile uint16_t *)(uintptr_t)a; }
static inline uint32_t r32(uint64_t a) { return *(volatile uint32_t *)(uintptr_t)a; }
static inline uint64_t r64(uint64_t a) { return *(volatile uint64_t *)(uintptr_t)a; }
static inline void w16(uint64_t a, uint16_t v) { *(volatile uint16_t *)(uintptr_t)a = v; }
static inline void w32(uint64_t a, uint32_t v) { *(volatile uint32_t *)(uintptr_t)a = v; }
static inline void w64(uint64_t a, uint64_t v) { *(volatile uint64_t *)(uintptr_t)a = v; }

static void probe_w64(void *p) { *(volatile uint64_t *)p = 0; }
static void probe_w32_ff(void *p) { *(volatile uint32_t *)p = 0xFF; }
static volatile uint64_t probe_val;
static void probe_r64(void *p) { probe_val = *(volatile uint64_t *)p; }
static void probe_exec(void *p) { ((void (*)(void))p)(); }

/* End of the RAM range holding the image, from the Multiboot memory map. */
static uint64_t low_ram_top(uint32_t info)
{
    const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)info;
    if (!info || !(mbi->flags & 0x40))
        return 0;
    uint64_t img = (uintptr_t)__image_start;
    for (uint32_t off = 0; off + sizeof(struct mb_mmap_entry) <= mbi->mmap_length;) {
        const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)(uintptr_t)(mbi->mmap_addr + off);
        if (e->type == 1 && img >= e->addr && img - e->addr < e->len)
            return e->addr + e->len;
        off += e->size + 4;
    }
    return 0;
}

static void test_holes(uint64_t top)
{
    CHECK("mmio.ram_top_found", top > (16ull << 20) && top <= 0xC0000000ull && !(top & (PG - 1)));
    if (!top)
        return;
    printf("INFO: low RAM ends at 0x%llx\n", (unsigned long long)top);
    uint64_t h = top + 0x1000;
    CHECK_EQ("mmio.hole_read8_ones", r8(h), 0xFF);
    CHECK_EQ("mmio.hole_read16_ones", r16(h + 2), 0xFFFF);
    CHECK_EQ("mmio.hole_read32_ones", r32(h + 4), 0xFFFFFFFFu);
    CHECK_EQ("mmio.hole_read64_ones", r64(h + 8), ~0ull);
    w64(h + 8, 0x1234);
    CHECK_EQ("mmio.hole_write_ignored", r64(h + 8), ~0ull);

    /* An 8-byte read straddling the end of RAM: the RAM half, then all-ones. */
    w32(top - 4, 0x11223344);
    CHECK_EQ("mmio.straddle_ram_end_read64", r64(top - 4), 0xFFFFFFFF11223344ull);
    CHECK_EQ("mmio.straddle_ram_end_read16", r16(top - 1), 0xFF11);
    CHECK_EQ("mmio.straddle_ram_end_read32_unaligned", r32(top - 3), 0xFF112233u);
    w64(top - 4, 0xAABBCCDD55667788ull);
    CHECK_EQ("mmio.straddle_ram_end_write64_ram_half_lands", r32(top - 4), 0x55667788u);
    CHECK_EQ("mmio.straddle_ram_end_write64_reads_back", r64(top - 4), 0xFFFFFFFF55667788ull);

    /* The same through 4 KiB pages: the last RAM page, then a hole page. */
    map(0, top - PG, PTE_P | PTE_RW);
    map(1, top, PTE_P | PTE_RW);
    CHECK_EQ("mmio.paged_straddle_ram_hole_read64", r64(VA(1) - 4), 0xFFFFFFFF55667788ull);
    /* Two unrelated pages: a RAM page in the middle of memory and a hole page. */
    map(2, (uint64_t)(uintptr_t)ram_page, PTE_P | PTE_RW);
    map(3, top + 0x10000, PTE_P | PTE_RW);
    *(volatile uint32_t *)&ram_page[PG - 4] = 0xCAFEBABE;
    CHECK_EQ("mmio.paged_straddle_nonadjacent_ram_hole", r64(VA(3) - 4), 0xFFFFFFFFCAFEBABEull);
    w64(VA(3) - 2, 0);
    CHECK("mmio.paged_straddle_write_ram_half_only",
          *(volatile uint32_t *)&ram_page[PG - 4] == 0x0000BABE && r16(VA(3)) == 0xFFFF);
    /* Code fetched from a hole is all-ones: FF FF is an invalid encoding, #UD. */
    long r = try_call(probe_exec, (void *)(uintptr_t)h);
    CHECK("mmio.fetch_from_hole_ud", r == (TRAP_CAUGHT | 6));
}

static void test_lapic(void)
{
    uint32_t ver = r32(LAPIC_BASE + 0x30);
    printf("INFO: LAPIC version register 0x%x\n", ver);
    CHECK("mmio.lapic_version_sane", (ver & 0xFF) >= 0x10 && (ver & 0xFF) <= 0x15 && ((ver >> 16) & 0xFF) >= 3);
    map(4, LAPIC_BASE, PTE_P | PTE_RW | PTE_PCD | PTE_PWT);
    CHECK_EQ("mmio.lapic_version_via_alias", r32(VA(4) + 0x30), ver);
    CHECK_EQ("mmio.lapic_id_via_alias", r32(VA(4) + 0x20), r32(LAPIC_BASE + 0x20));
    uint32_t tpr = r32(LAPIC_BASE + 0x80);
    w32(VA(4) + 0x80, 0x20);
    CHECK_EQ("mmio.lapic_tpr_write_via_alias", r32(LAPIC_BASE + 0x80) & 0xFF, 0x20);
    w32(LAPIC_BASE + 0x80, tpr);
    CHECK_EQ("mmio.lapic_tpr_restored_seen_via_alias", r32(VA(4) + 0x80), tpr);
    /* A second alias of the same device page. */
    map(5, LAPIC_BASE, PTE_P | PTE_RW);
    CHECK_EQ("mmio.lapic_second_alias", r32(VA(5) + 0x30), ver);
    /* A read-only alias: the write faults before reaching the device. */
    map(6, LAPIC_BASE, PTE_P);
    long r = try_call(probe_w32_ff, (void *)(uintptr_t)(VA(6) + 0x80));
    CHECK("mmio.lapic_ro_alias_write_faults", r == (TRAP_CAUGHT | 14) && trap_last.error_code == 3);
    CHECK_EQ("mmio.lapic_ro_alias_write_no_effect", r32(LAPIC_BASE + 0x80), tpr);
}

static void test_hpet(void)
{
    uint64_t cap = r64(HPET_BASE + HPET_CAP);
    uint32_t period = (uint32_t)(cap >> 32);
    printf("INFO: HPET capabilities 0x%llx\n", (unsigned long long)cap);
    CHECK("mmio.hpet_period_valid", period > 0 && period <= 100000000u);
    CHECK("mmio.hpet_64bit_counter", cap & (1u << 13));
    map(7, HPET_BASE, PTE_P | PTE_RW | PTE_PCD);
    CHECK_EQ("mmio.hpet_cap_via_alias", r64(VA(7) + HPET_CAP), cap);
    CHECK_EQ("mmio.hpet_cap_32bit_halves", ((uint64_t)r32(VA(7) + 4) << 32) | r32(VA(7)), cap);
    CHECK_EQ("mmio.hpet_cap_16bit_unaligned_in_reg", r16(VA(7) + 3), (cap >> 24) & 0xFFFF);

    /* Halted counter: writes by halves and whole, read back exactly. */
    uint64_t cfg = r64(VA(7) + HPET_CFG);
    w64(VA(7) + HPET_CFG, cfg & ~1ull);
    w32(VA(7) + HPET_COUNTER, 0x55667788);
    w32(VA(7) + HPET_COUNTER + 4, 0x11223344);
    CHECK_EQ("mmio.hpet_counter_write_halves", r64(VA(7) + HPET_COUNTER), 0x1122334455667788ull);
    CHECK_EQ("mmio.hpet_counter_read_high_half", r32(VA(7) + HPET_COUNTER + 4), 0x11223344);
    w16(VA(7) + HPET_COUNTER + 2, 0xAAAA);
    CHECK_EQ("mmio.hpet_counter_write16", r64(VA(7) + HPET_COUNTER), 0x11223344AAAA7788ull);
    /* A read straddling the reserved register at 0xE8 and the counter at 0xF0: each byte comes
     * from its own register (a misaligned access reaches the device as two accesses). */
    CHECK_EQ("mmio.hpet_read32_straddling_two_regs", r32(VA(7) + HPET_COUNTER - 2), 0x77880000u);
    CHECK_EQ("mmio.hpet_read16_straddling_two_regs", r16(VA(7) + HPET_COUNTER + 7), 0x0011);
    w64(VA(7) + HPET_COUNTER, 0);

    /* Running counter: monotonic, and 32-bit halves consistent with 64-bit reads. */
    w64(VA(7) + HPET_CFG, cfg | 1);
    uint64_t a = r64(HPET_BASE + HPET_COUNTER);
    for (volatile int i = 0; i < 20000; i++)
        ;
    uint64_t b = r64(VA(7) + HPET_COUNTER);
    CHECK("mmio.hpet_counter_advances", b > a);
    uint64_t c64a = r64(VA(7) + HPET_COUNTER);
    uint32_t lo = r32(VA(7) + HPET_COUNTER);
    uint32_t hi = r32(VA(7) + HPET_COUNTER + 4);
    uint64_t c64b = r64(VA(7) + HPET_COUNTER);
    uint64_t c32 = ((uint64_t)hi << 32) | lo;
    CHECK("mmio.hpet_counter_32_vs_64_consistent", c64a <= c32 && c32 <= c64b && hi == (uint32_t)(c64a >> 32));
    printf("INFO: HPET counter 0x%llx .. 0x%llx (32-bit pair 0x%llx)\n", (unsigned long long)c64a,
           (unsigned long long)c64b, (unsigned long long)c32);
    /* A read-only alias: the write faults before reaching the device. */
    map(8, HPET_BASE, PTE_P);
    long r = try_call(probe_w64, (void *)(uintptr_t)(VA(8) + HPET_CFG));
    CHECK("mmio.hpet_ro_alias_write_faults", r == (TRAP_CAUGHT | 14) && trap_last.error_code == 3 &&
                                                 trap_last.cr2 == VA(8) + HPET_CFG);
    CHECK("mmio.hpet_ro_alias_write_no_effect", r64(HPET_BASE + HPET_CFG) & 1);
    w64(VA(7) + HPET_CFG, cfg);

    /* RAM page then the HPET page: an 8-byte read across the two translations. */
    map(9, (uint64_t)(uintptr_t)ram_page, PTE_P | PTE_RW);
    map(10, HPET_BASE, PTE_P | PTE_RW);
    *(volatile uint32_t *)&ram_page[PG - 4] = 0x0BADF00D;
    CHECK_EQ("mmio.paged_straddle_ram_mmio", r64(VA(10) - 4), ((cap & 0xFFFFFFFFull) << 32) | 0x0BADF00D);
}

/* Instructions other than MOV reaching MMIO: read-modify-write, XCHG, CMPXCHG, BT, PUSH/POP
 * with a memory operand and string moves. */
static void test_mmio_insns(void)
{
    volatile uint64_t *cfg = (volatile uint64_t *)(uintptr_t)(VA(7) + HPET_CFG);
    volatile uint32_t *tpr = (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + 0x80);
    uint64_t cfg0 = *cfg;
    __asm__ volatile("andq $~1, %0" : "+m"(*cfg) : : "cc");
    CHECK_EQ("mmio.rmw_and_hpet_cfg", *cfg & 1, 0);
    __asm__ volatile("orq $1, %0" : "+m"(*cfg) : : "cc");
    CHECK_EQ("mmio.rmw_or_hpet_cfg", *cfg & 1, 1);
    __asm__ volatile("lock andq $~1, %0" : "+m"(*cfg) : : "cc");
    CHECK_EQ("mmio.lock_and_hpet_cfg", *cfg & 1, 0);
    uint8_t bit;
    __asm__ volatile("btsq $0, %0; setc %1" : "+m"(*cfg), "=r"(bit) : : "cc");
    CHECK("mmio.bts_hpet_cfg", bit == 0 && (*cfg & 1));
    __asm__ volatile("btq $0, %1; setc %0" : "=r"(bit) : "m"(*cfg) : "cc");
    CHECK_EQ("mmio.bt_hpet_cfg", bit, 1);
    uint32_t tpr0 = *tpr, x = 0x30;
    __asm__ volatile("xchgl %0, %1" : "+r"(x), "+m"(*tpr));
    CHECK("mmio.xchg_lapic_tpr", x == tpr0 && (*tpr & 0xFF) == 0x30);
    uint32_t expect = 0x30, nv = 0x40;
    __asm__ volatile("lock cmpxchgl %2, %1" : "+a"(expect), "+m"(*tpr) : "r"(nv) : "cc");
    CHECK_EQ("mmio.cmpxchg_lapic_tpr", *tpr & 0xFF, 0x40);
    expect = 0x99;
    __asm__ volatile("lock cmpxchgl %2, %1" : "+a"(expect), "+m"(*tpr) : "r"(nv + 0x10) : "cc");
    CHECK("mmio.cmpxchg_lapic_tpr_mismatch", expect == 0x40 && (*tpr & 0xFF) == 0x40);
    *tpr = tpr0;

    uint64_t cap = r64(HPET_BASE + HPET_CAP), pushed;
    __asm__ volatile("pushq %1; popq %0" : "=r"(pushed) : "m"(*(volatile uint64_t *)(uintptr_t)(VA(7) + HPET_CAP)));
    CHECK_EQ("mmio.push_mem_from_hpet", pushed, cap);
    __asm__ volatile("pushq %1; popq %0" : "=m"(*cfg) : "r"(cfg0 & ~1ull));
    CHECK_EQ("mmio.pop_mem_to_hpet_cfg", *cfg & 1, 0);

    /* rep movsq of the first four HPET registers (cap, reserved, config, reserved) into RAM. */
    uint64_t out[4] = {1, 1, 1, 1};
    void *d = out;
    const void *s = (const void *)(uintptr_t)VA(7);
    size_t n = 4;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    CHECK("mmio.rep_movsq_from_hpet",
          out[0] == cap && out[1] == r64(HPET_BASE + 8) && out[2] == r64(HPET_BASE + HPET_CFG) &&
              out[3] == r64(HPET_BASE + 0x18));
    /* rep stosl over the halted counter's two halves. */
    d = (void *)(uintptr_t)(VA(7) + HPET_COUNTER);
    n = 2;
    __asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(0x0A0B0C0D) : "memory");
    CHECK_EQ("mmio.rep_stosl_hpet_counter", r64(HPET_BASE + HPET_COUNTER), 0x0A0B0C0D0A0B0C0Dull);
    /* lods from a hole. */
    uint64_t l;
    const void *hs = (const void *)0xD0000000ull; /* the PCI hole, whatever the RAM size */
    __asm__ volatile("lodsq" : "=a"(l), "+S"(hs) : : "memory");
    CHECK_EQ("mmio.lodsq_from_hole", l, ~0ull);
    w64(HPET_BASE + HPET_COUNTER, 0);
    *cfg = cfg0;
}

/* Device and address-space edges: the top of the 40-bit physical space, straddles between a
 * hole and a device, and the IOAPIC's index/data pair through an alias. */
static void test_edges(void)
{
    unsigned maxphy = cpuid(0x80000008, 0).eax & 0xFF;
    uint64_t top = (1ull << maxphy) - PG;
    map(11, top, PTE_P | PTE_RW);
    map(12, 0, PTE_P | PTE_RW);
    CHECK_EQ("mmio.pa_top_of_space_reads_ones", r64(VA(11) + 0x10), ~0ull);
    w64(VA(11) + 0x10, 0);
    CHECK_EQ("mmio.pa_top_of_space_write_ignored", r64(VA(11) + 0x10), ~0ull);
    /* The last bytes of the physical space, then PA 0 through the next page. */
    uint32_t lo0 = r32(VA(12));
    CHECK_EQ("mmio.pa_top_straddle_into_pa0", r64(VA(12) - 4), ((uint64_t)lo0 << 32) | 0xFFFFFFFFull);

    uint64_t cap = r64(HPET_BASE + HPET_CAP);
    CHECK_EQ("mmio.straddle_hole_into_hpet", r64(HPET_BASE - 4), (cap << 32) | 0xFFFFFFFFull);
    CHECK_EQ("mmio.straddle_hpet_end_into_hole", r64(HPET_BASE + 0x400 - 4) >> 32, 0xFFFFFFFFull);
    CHECK_EQ("mmio.straddle_lapic_end_into_hole", r64(LAPIC_BASE + 0x1000 - 4) >> 32, 0xFFFFFFFFull);

    /* A page table inside the HPET: its "entry 0" is the capabilities register, whose bits
     * 51:40 are set: present with reserved bits, #PF RSVD, and no harm to the device. */
    pd_a[1] = HPET_BASE | PTE_P | PTE_RW;
    long r = try_call(probe_r64, (void *)(uintptr_t)(TB + (2ull << 20) + 8));
    CHECK("mmio.page_table_in_hpet_rsvd", r == (TRAP_CAUGHT | 14) && trap_last.error_code == 9);
    CHECK_EQ("mmio.page_table_in_hpet_cap_intact", r64(HPET_BASE + HPET_CAP), cap);
    pd_a[1] = 0;
    invlpg(TB + (2ull << 20));

    map(13, 0xFEC00000ull, PTE_P | PTE_RW | PTE_PCD);
    w32(VA(13), 1); /* IOREGSEL: IOAPICVER */
    uint32_t ver = r32(VA(13) + 0x10);
    w32(0xFEC00000ull, 1);
    CHECK("mmio.ioapic_version_via_alias", ver == r32(0xFEC00010ull) && (ver & 0xFF) >= 0x11 && (ver >> 16 & 0xFF) >= 23);
}

int main(uint32_t mb_info)
{
    guest_pml4[1] = (uint64_t)(uintptr_t)pdpt_a | PTE_P | PTE_RW;
    pdpt_a[0] = (uint64_t)(uintptr_t)pd_a | PTE_P | PTE_RW;
    pd_a[0] = (uint64_t)(uintptr_t)pt_a | PTE_P | PTE_RW;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    test_holes(low_ram_top(mb_info));
    test_lapic();
    test_hpet();
    test_mmio_insns();
    test_edges();
    test_finish();
}
