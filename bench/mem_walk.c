/* Host-side microbenchmark of the memory path: soft-TLB hit, page walk (4K/2M, 4-level), TLB fill
 * and physmem lookups. Prints ns per operation; run by hand (bench/README.md), never a test. */
#include "mmu/mmu.h"
#include "mmu/tlb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RAM (256ull << 20)
#define NPAGES 512u

static double now_ns(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static gpa_t alloc_table(gpa_t *next)
{
    gpa_t t = *next;
    *next += PAGE_SIZE;
    return t;
}

/* 4-level tables: va [0, NPAGES*4K) in 4K pages, va 1 GiB + [0, NPAGES*2M) in 2M pages. */
static void build(struct physmem *pm, struct paging_state *ps)
{
    gpa_t next = 0x100000;
    gpa_t pml4 = alloc_table(&next), pdpt = alloc_table(&next), pd0 = alloc_table(&next),
          pd1 = alloc_table(&next);
    physmem_write_u(pm, pml4, pdpt | 7, 8);
    physmem_write_u(pm, pdpt, pd0 | 7, 8);
    physmem_write_u(pm, pdpt + 8, pd1 | 7, 8);
    for (unsigned i = 0; i < NPAGES / 512; i++) {
        gpa_t pt = alloc_table(&next);
        physmem_write_u(pm, pd0 + i * 8, pt | 7, 8);
        for (unsigned j = 0; j < 512; j++)
            physmem_write_u(pm, pt + j * 8, (0x1000000 + ((uint64_t)(i * 512 + j) << 12)) | 0x67, 8);
    }
    for (unsigned i = 0; i < 64; i++)
        physmem_write_u(pm, pd1 + i * 8, ((uint64_t)i << 21) | 0xE7, 8);
    *ps = (struct paging_state){.cr0 = MMU_CR0_PG | MMU_CR0_WP | 1, .cr3 = pml4,
                                .cr4 = MMU_CR4_PAE | MMU_CR4_PGE,
                                .efer = MMU_EFER_LME | MMU_EFER_LMA | MMU_EFER_NXE};
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 20000000;
    if (iters <= 0)
        iters = 20000000;
    struct physmem pm;
    if (physmem_init(&pm, RAM)) {
        fprintf(stderr, "mem_walk: cannot allocate %llu MiB of guest RAM\n", RAM >> 20);
        return 1;
    }
    struct paging_state ps;
    build(&pm, &ps);
    struct tlb *t = malloc(sizeof(*t));
    if (!t)
        return 1;
    tlb_init(t);

    volatile uint64_t sink = 0;
    struct walk_result res;
    uint32_t err;
    struct walk_req req = {.access = MMU_READ, .set_ad = true};

    /* Walks: 4K pages (4 levels read) and 2M pages (3 levels). */
    long nwalk = iters / 10;
    double t0 = now_ns();
    for (long k = 0; k < nwalk; k++) {
        req.va = ((gva_t)(k % NPAGES) << 12) | 8;
        if (mmu_walk(&pm, &ps, &req, &res, &err))
            return 2;
        sink += res.gpa;
    }
    double walk4k = (now_ns() - t0) / (double)nwalk;
    t0 = now_ns();
    for (long k = 0; k < nwalk; k++) {
        req.va = (1ull << 30) + ((gva_t)(k % 64) << 21) + 8;
        if (mmu_walk(&pm, &ps, &req, &res, &err))
            return 2;
        sink += res.gpa;
    }
    double walk2m = (now_ns() - t0) / (double)nwalk;

    /* Fill: lookup of the host page, permission tags for one context. */
    t0 = now_ns();
    for (long k = 0; k < nwalk; k++) {
        req.va = (gva_t)(k % NPAGES) << 12;
        mmu_walk(&pm, &ps, &req, &res, &err);
        mmu_tlb_fill(t, 0, &pm, &ps, req.va, &res, 0);
    }
    double fill = (now_ns() - t0) / (double)nwalk - walk4k;

    /* Hits: NPAGES pages all resident (NPAGES <= TLB_SIZE). */
    t0 = now_ns();
    for (long k = 0; k < iters; k++) {
        uint8_t *p = tlb_lookup_r(t, 0, ((gva_t)(k & (NPAGES - 1)) << 12) | 16);
        if (!p)
            return 3;
        sink += *p;
    }
    double hit = (now_ns() - t0) / (double)iters;

    t0 = now_ns();
    for (long k = 0; k < nwalk; k++) {
        struct phys_lookup l;
        physmem_lookup(&pm, (gpa_t)(k % 4096) << 12, &l);
        sink += l.avail;
    }
    double lookup = (now_ns() - t0) / (double)nwalk;

    printf("tlb hit        %8.2f ns\n", hit);
    printf("walk 4K        %8.2f ns\n", walk4k);
    printf("walk 2M        %8.2f ns\n", walk2m);
    printf("tlb fill       %8.2f ns (beyond the walk)\n", fill);
    printf("physmem lookup %8.2f ns\n", lookup);
    free(t);
    physmem_destroy(&pm);
    return sink == 42 ? 4 : 0;
}
