/* Partition reference time (TLFS v6.0b 12.4): the reference counter and the reference TSC page.
 * Reference time is virtual ns / 100; the guest TSC counts virtual ns (vclock.h), so the page
 * holds a constant scale and a zero offset. */
#include "hv/hyperv/internal.h"

#include <string.h>

/* scale must make ((tsc * scale) >> 64) equal floor(tsc / 100) = what TIME_REF_COUNT returns.
 * floor(2^64/100) falls one short at every exact multiple of 100; ceil(2^64/100) overshoots by
 * 0.84 * tsc / 2^64, which stays below the smallest fractional gap (1/100) while
 * tsc < 2.2e17 ns (about 6.9 years of guest time). */
uint64_t hv_tsc_scale(void)
{
    /* 2^64 * 10^7 / f = 2^64 / d with d = f / 10^7, in 64-bit arithmetic. */
    _Static_assert(VCLOCK_TSC_HZ % 10000000ull == 0 && VCLOCK_TSC_HZ > 10000000ull,
                   "the TSC page needs a TSC faster than 10 MHz and a multiple of it");
    const uint64_t d = VCLOCK_TSC_HZ / 10000000ull;
    uint64_t q = UINT64_MAX / d, r = UINT64_MAX % d + 1;
    if (r == d) {
        q++;
        r = 0;
    }
    return r ? q + 1 : q;
}

static void put32(uint8_t *b, uint32_t v)
{
    memcpy(b, &v, 4);
}

static void put64(uint8_t *b, uint64_t v)
{
    memcpy(b, &v, 8);
}

/* Writer protocol (TLFS 12.4.3.2): sequence 0 (invalid) first, then scale and offset, then a
 * new non-zero sequence. 0 and 0xFFFFFFFF are never published (early specs used the latter as
 * the invalid marker). */
void hv_tsc_page_fill(struct hv_partition *p)
{
    uint8_t *pg = p->tsc_page;
    put32(pg, 0);
    memset(pg + 4, 0, PAGE_SIZE - 4);
    /* One page serves every VP: it is valid only while all TSCs read the same. When a guest
     * has written different TSC values on different VPs, sequence 0 tells it to use the
     * reference counter MSR instead (TLFS 12.4.3.1). */
    int64_t off = p->vps[0].tsc_offset;
    for (unsigned i = 1; i < p->nr_vps; i++)
        if (p->vps[i].tsc_offset != off)
            return;
    /* ReferenceTime = ((tsc * scale) >> 64) + offset with tsc = ns + off: offset = -off / 100
     * (exact when off is a whole number of 100 ns ticks, else within one tick). */
    int64_t ticks = off >= 0 ? off / 100 : -((-off + 99) / 100);
    put64(pg + 8, hv_tsc_scale());
    put64(pg + 16, (uint64_t)-ticks);
    uint32_t seq = p->tsc_sequence + 1;
    if (seq == 0 || seq == 0xFFFFFFFFu)
        seq = 1;
    p->tsc_sequence = seq;
    put32(pg, seq);
}

void hv_set_tsc_offset(struct hv_partition *p, unsigned vp, int64_t offset)
{
    if (vp >= p->nr_vps || p->vps[vp].tsc_offset == offset)
        return;
    p->vps[vp].tsc_offset = offset;
    if (p->reference_tsc & HV_PAGE_ENABLE)
        hv_tsc_page_fill(p);
}
