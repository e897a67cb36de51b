/* Memory benchmark guest (bench/mem.sh): sequential and random loads/stores and a dependent-load
 * chase over 64 MiB of RAM at 64 MiB, both through the library's 2 MiB identity map and through
 * an alias at 4 GiB that this guest maps with 4 KiB pages (a TLB-heavy variant). On the Multiboot
 * command line, "passes=N" sets the number of passes (default 4) and "phases=MASK" the phases run
 * (enum below; default all). Needs --mem 256M (128M at least). Prints a checksum, then leaves as
 * bench_cpu does.
 * Built with -DBENCH_HOST it is a host program (both views are one malloc'd buffer) printing the
 * same lines, so the guest's checksum can be checked against the host's. */
#ifdef BENCH_HOST
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#else
#include "guest.h"
#endif

#define NOINLINE __attribute__((noinline))
#define DEFAULT_PASSES 4u

#define REGION_SIZE  (64ull << 20)
#define REGION_QWORDS (REGION_SIZE / 8)
#define RAND_ACCESSES (2u << 20)
#define CHASE_NODES  (1u << 20) /* one node per 64-byte line */
#define NODE_QWORDS  (REGION_QWORDS / CHASE_NODES)

static inline uint64_t rotl64(uint64_t x, unsigned r) { return (x << (r & 63)) | (x >> ((64 - r) & 63)); }
static uint64_t mix(uint64_t sum, uint64_t v) { return rotl64(sum, 7) ^ (v * 0x9E3779B97F4A7C15ull); }

static NOINLINE void seq_write(uint64_t *p, uint64_t pass)
{
    for (uint64_t i = 0; i < REGION_QWORDS; i++)
        p[i] = i * 0x9E3779B97F4A7C15ull + pass;
}

static NOINLINE uint64_t seq_read(const uint64_t *p)
{
    uint64_t a = 0, b = 0;
    for (uint64_t i = 0; i < REGION_QWORDS; i += 2) {
        a += p[i];
        b ^= p[i + 1];
    }
    return a ^ rotl64(b, 17);
}

/* Read-modify-write at pseudo-random qwords: nearly every access is on another 4 KiB page. */
static NOINLINE uint64_t random_rmw(uint64_t *p, uint64_t seed)
{
    uint64_t x = seed | 1, sum = 0;
    for (uint32_t i = 0; i < RAND_ACCESSES; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t idx = (x >> 20) & (REGION_QWORDS - 1);
        sum += p[idx];
        p[idx] ^= x;
    }
    return sum;
}

/* Links every 64-byte line into one cycle in LCG order (full period mod 2^20: a = 1 mod 4, c odd). */
static NOINLINE void chase_build(uint64_t *p, uint64_t pass)
{
    uint32_t x = 0;
    uint32_t c = (uint32_t)(pass * 2 + 12345) | 1;
    for (uint32_t k = 0; k < CHASE_NODES; k++) {
        uint32_t nx = (x * 1103515245u + c) & (CHASE_NODES - 1);
        p[(uint64_t)x * NODE_QWORDS] = nx;
        x = nx;
    }
}

/* Dependent loads: the next address is the value just loaded (masked: without chase_build the
 * lines hold other data, and the chase must stay inside the region all the same). */
static NOINLINE uint64_t chase(const uint64_t *p)
{
    uint64_t x = 0, sum = 0;
    for (uint32_t k = 0; k < CHASE_NODES; k++) {
        x = p[x * NODE_QWORDS] & (CHASE_NODES - 1);
        sum += x;
    }
    return sum;
}

/* The phases, each selectable with "phases=MASK" on the command line (default: all). */
enum {
    PH_SEQ_WRITE = 1,    /* sequential qword stores, 2 MiB pages */
    PH_SEQ_READ = 2,     /* sequential qword loads, 2 MiB pages */
    PH_RAND_2M = 4,      /* random read-modify-write, 2 MiB pages */
    PH_RAND_4K = 8,      /* random read-modify-write, 4 KiB pages */
    PH_SEQ_READ_4K = 16, /* sequential qword loads, 4 KiB pages */
    PH_CHASE_BUILD = 32, /* random-order stores linking the lines, 2 MiB pages */
    PH_CHASE_4K = 64,    /* dependent loads along the links, 4 KiB pages */
    PH_ALL = 127,
};

static uint64_t run(uint64_t *flat, uint64_t *paged, uint32_t passes, uint32_t phases)
{
    uint64_t sum = 0;
    for (uint32_t pass = 0; pass < passes; pass++) {
        if (phases & PH_SEQ_WRITE)
            seq_write(flat, pass);
        if (phases & PH_SEQ_READ)
            sum = mix(sum, seq_read(flat));
        if (phases & PH_RAND_2M)
            sum = mix(sum, random_rmw(flat, pass * 2 + 1));
        if (phases & PH_RAND_4K)
            sum = mix(sum, random_rmw(paged, pass * 2 + 2));
        if (phases & PH_SEQ_READ_4K)
            sum = mix(sum, seq_read(paged));
        if (phases & PH_CHASE_BUILD)
            chase_build(flat, pass);
        if (phases & PH_CHASE_4K)
            sum = mix(sum, chase(paged));
    }
    return sum;
}

/* "KEY=N" (decimal) anywhere on the command line; absent or unparsable: dflt. */
static uint32_t cmdline_uint(const char *cmdline, const char *key, uint32_t dflt)
{
    size_t klen = strlen(key);
    for (const char *p = cmdline; p && *p; p++) {
        if ((p == cmdline || p[-1] == ' ') && !memcmp(p, key, klen)) {
            const char *d = p + klen;
            uint64_t v = 0;
            if (*d < '0' || *d > '9')
                return dflt;
            while (*d >= '0' && *d <= '9' && v <= 0xFFFFFFFFu)
                v = v * 10 + (uint64_t)(*d++ - '0');
            return v > 0xFFFFFFFFu ? dflt : (uint32_t)v;
        }
    }
    return dflt;
}

#ifdef BENCH_HOST
int main(int argc, char **argv)
{
    const char *cmdline = argc > 1 ? argv[1] : "";
    uint32_t passes = cmdline_uint(cmdline, "passes=", DEFAULT_PASSES);
    uint32_t phases = cmdline_uint(cmdline, "phases=", PH_ALL);
    uint64_t *region = calloc(1, REGION_SIZE);
    if (!region)
        return 1;
    printf("bench_mem: passes=%" PRIu32 " phases=%" PRIu32 "\n", passes, phases);
    printf("bench_mem: checksum %016" PRIx64 "\n", run(region, region, passes, phases));
    free(region);
    return 0;
}
#else
#define REGION_PA     (64ull << 20)
#define ALIAS_VA      (4ull << 30) /* PDPT entry 4: above the library's 0-4 GiB identity map */
#define PTE_P_RW      0x3ull
#define ALIAS_PTS     (REGION_SIZE >> 21)

static uint64_t alias_pd[512] __attribute__((aligned(4096)));
static uint64_t alias_pt[ALIAS_PTS][512] __attribute__((aligned(4096)));

/* Maps ALIAS_VA..+64 MiB onto the region with 4 KiB pages. Tables live in the identity-mapped
 * image, so their virtual addresses are their physical ones. */
static uint64_t *map_alias(void)
{
    for (uint64_t t = 0; t < ALIAS_PTS; t++) {
        for (uint64_t e = 0; e < 512; e++)
            alias_pt[t][e] = (REGION_PA + (t * 512 + e) * 4096) | PTE_P_RW;
        alias_pd[t] = (uint64_t)(uintptr_t)alias_pt[t] | PTE_P_RW;
    }
    guest_pdpt[ALIAS_VA >> 30] = (uint64_t)(uintptr_t)alias_pd | PTE_P_RW;
    __asm__ volatile("mov %0, %%cr3" ::"r"(read_cr3()) : "memory");
    return (uint64_t *)(uintptr_t)ALIAS_VA;
}

/* hvemu powers off on ACPI S5 (SLP_TYP 5); QEMU's DSDT names another SLP_TYP for S5, so the
 * write does nothing there and the debug-exit port ends the run instead. */
static __attribute__((noreturn)) void bench_exit(void)
{
    outw(PORT_PM1A_CNT, (uint16_t)(PM1_SLP_TYP_S5 | PM1_SLP_EN));
    debug_exit(0);
}

int main(uint32_t mb_info)
{
    const char *cmdline = NULL;
    uint64_t ram_end = 0;
    if (guest_mb_magic == 0x2BADB002) {
        const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)mb_info;
        if (mbi->flags & (1u << 2))
            cmdline = (const char *)(uintptr_t)mbi->cmdline;
        if (mbi->flags & 1u)
            ram_end = (1ull << 20) + (uint64_t)mbi->mem_upper * 1024;
    }
    if (ram_end < REGION_PA + REGION_SIZE) {
        printf("bench_mem: needs RAM up to 0x%llx (have 0x%llx): run with --mem 256M\n",
               (unsigned long long)(REGION_PA + REGION_SIZE), (unsigned long long)ram_end);
        return GUEST_EXIT_FAIL;
    }
    uint32_t passes = cmdline_uint(cmdline, "passes=", DEFAULT_PASSES);
    uint32_t phases = cmdline_uint(cmdline, "phases=", PH_ALL);
    uint64_t *paged = map_alias();
    printf("bench_mem: passes=%u phases=%u\n", passes, phases);
    printf("bench_mem: checksum %016llx\n",
           (unsigned long long)run((uint64_t *)(uintptr_t)REGION_PA, paged, passes, phases));
    bench_exit();
}
#endif
