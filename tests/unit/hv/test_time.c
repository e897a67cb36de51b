/* Reference counter, reference TSC page, and the synthetic timers on the virtual clock. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define GPA_TSC 0x600000ull

static uint64_t mulhi64(uint64_t a, uint64_t b)
{
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

Test(hv_time, tsc_page_matches_reference_counter)
{
    struct fake_host *f = fake_create(NULL, 1);
    wrmsr_ok(f, 0, 0x40000021, GPA_TSC | 1);
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000021), GPA_TSC | 1);
    uint32_t seq = get_u32(f, GPA_TSC);
    cr_expect(seq != 0 && seq != 0xFFFFFFFFu, "sequence %u must be valid at once", seq);
    uint64_t scale = get_u64(f, GPA_TSC + 8), offset = get_u64(f, GPA_TSC + 16);
    cr_expect_eq(get_u64(f, GPA_TSC + 24), 0, "reserved area zero");
    /* The guest TSC counts virtual ns (vclock.h). */
    static const uint64_t tscs[] = {0, 1, 99, 100, 101, 199, 200, 12345678901ull,
                                    999999999999ull, 1000000000000000ull, 1ull << 50,
                                    86400ull * 365 * 1000000000ull /* a year */};
    for (size_t i = 0; i < ARRAY_SIZE(tscs); i++) {
        uint64_t ref = mulhi64(tscs[i], scale) + offset;
        cr_expect_eq(ref, tscs[i] / 100, "tsc %llu: page says %llu", (unsigned long long)tscs[i],
                     (unsigned long long)ref);
        fake_advance(f, tscs[i]);
        cr_expect_eq(rdmsr_ok(f, 0, 0x40000020), ref, "page and MSR agree at %llu",
                     (unsigned long long)tscs[i]);
    }
    /* Re-enabling publishes a new sequence; disabling removes the overlay. */
    wrmsr_ok(f, 0, 0x40000021, GPA_TSC | 1);
    cr_expect_neq(get_u32(f, GPA_TSC), seq);
    wrmsr_ok(f, 0, 0x40000021, GPA_TSC);
    struct phys_lookup l;
    physmem_lookup(&f->mem, GPA_TSC, &l);
    cr_expect_eq(l.kind, PHYS_RAM);
    /* Sequence never becomes 0 or 0xFFFFFFFF. */
    f->p->tsc_sequence = 0xFFFFFFFDu;
    wrmsr_ok(f, 0, 0x40000021, GPA_TSC | 1);
    cr_expect_eq(get_u32(f, GPA_TSC), 0xFFFFFFFEu);
    wrmsr_ok(f, 0, 0x40000021, GPA_TSC | 1);
    cr_expect_eq(get_u32(f, GPA_TSC), 1);
    fake_destroy(f);
}

Test(hv_time, tsc_scale_value)
{
    /* ceil(2^64 / 100) for a 1 GHz TSC. */
    cr_expect_eq(hv_tsc_scale(), 0x028F5C28F5C28F5Dull);
}

#define STIMER_CONFIG(n) (0x400000B0u + 2 * (n))
#define STIMER_COUNT(n) (0x400000B1u + 2 * (n))
#define CFG_ENABLE 1ull
#define CFG_PERIODIC 2ull
#define CFG_AUTO 8ull
#define CFG_DIRECT (1ull << 12)
#define CFG_VECTOR(v) ((uint64_t)(v) << 4)
#define CFG_SINT(s) ((uint64_t)(s) << 16)

static unsigned injects_of(const struct fake_host *f, uint8_t vector)
{
    unsigned n = 0;
    for (unsigned i = 0; i < f->ninj; i++)
        n += f->inj[i].vector == vector;
    return n;
}

Test(hv_stimer, one_shot_direct_fires_at_count)
{
    struct fake_host *f = fake_create(NULL, 2);
    /* Linux's order: CONFIG with AutoEnable, then an absolute COUNT. */
    wrmsr_ok(f, 1, STIMER_CONFIG(0), CFG_AUTO | CFG_DIRECT | CFG_VECTOR(0xED));
    fake_advance(f, 1000);
    wrmsr_ok(f, 1, STIMER_COUNT(0), 500); /* reference time 500 = 50 us */
    cr_expect_eq(rdmsr_ok(f, 1, STIMER_CONFIG(0)) & CFG_ENABLE, CFG_ENABLE, "AutoEnable");
    fake_advance(f, 49999);
    cr_expect_eq(f->ninj, 0, "never early");
    fake_advance(f, 50000);
    cr_assert_eq(f->ninj, 1);
    cr_expect_eq(f->inj[0].vp, 1);
    cr_expect_eq(f->inj[0].vector, 0xED);
    cr_expect_eq(rdmsr_ok(f, 1, STIMER_CONFIG(0)) & CFG_ENABLE, 0, "one-shot clears Enable");
    fake_advance(f, 10000000);
    cr_expect_eq(f->ninj, 1);
    fake_destroy(f);
}

Test(hv_stimer, periodic_direct)
{
    struct fake_host *f = fake_create(NULL, 1);
    fake_advance(f, 1000); /* reference time 10 */
    wrmsr_ok(f, 0, STIMER_COUNT(1), 1000);
    wrmsr_ok(f, 0, STIMER_CONFIG(1), CFG_ENABLE | CFG_PERIODIC | CFG_DIRECT | CFG_VECTOR(0x40));
    fake_advance(f, 101000 - 1);
    cr_expect_eq(f->ninj, 0);
    fake_advance(f, 350000);
    cr_expect_eq(injects_of(f, 0x40), 3, "ticks at 101000, 201000, 301000 ns");
    /* Writing COUNT = 0 stops it. */
    wrmsr_ok(f, 0, STIMER_COUNT(1), 0);
    cr_expect_eq(rdmsr_ok(f, 0, STIMER_CONFIG(1)) & CFG_ENABLE, 0);
    fake_advance(f, 10000000);
    cr_expect_eq(injects_of(f, 0x40), 3);
    fake_destroy(f);
}

Test(hv_stimer, periodic_skips_missed_ticks)
{
    struct fake_host *f = fake_create(NULL, 1);
    wrmsr_ok(f, 0, STIMER_COUNT(0), 100);
    wrmsr_ok(f, 0, STIMER_CONFIG(0), CFG_ENABLE | CFG_PERIODIC | CFG_DIRECT | CFG_VECTOR(0x40));
    /* The clock jumps over many periods with the VP attached (no intermediate deadlines). */
    f->clock.base_ns = 55555;
    vclock_run_timers(&f->clock);
    cr_expect_eq(f->ninj, 1, "one late tick, no burst");
    cr_expect_eq(vclock_next_deadline(&f->clock), 60000, "next tick on the period grid");
    fake_destroy(f);
}

static void synic_on(struct fake_host *f, unsigned vp)
{
    wrmsr_ok(f, vp, 0x40000083, GPA_SIMP(vp) | 1);
    wrmsr_ok(f, vp, 0x40000080, 1);
}

Test(hv_stimer, message_mode)
{
    struct fake_host *f = fake_create(NULL, 1);
    synic_on(f, 0);
    wrmsr_ok(f, 0, 0x40000093, 0x55); /* SINT3 */
    wrmsr_ok(f, 0, STIMER_COUNT(2), 200);
    wrmsr_ok(f, 0, STIMER_CONFIG(2), CFG_ENABLE | CFG_SINT(3));
    fake_advance(f, 20003);
    gpa_t s = GPA_SIMP(0) + 3 * 256;
    cr_expect_eq(get_u32(f, s), 0x80000010u, "HVMSG_TIMER_EXPIRED");
    uint8_t size;
    physmem_read(&f->mem, s + 4, &size, 1);
    cr_expect_eq(size, 24);
    cr_expect_eq(get_u32(f, s + 16), 2, "TimerIndex");
    cr_expect_eq(get_u64(f, s + 24), 200, "ExpirationTime");
    cr_expect_eq(get_u64(f, s + 32), 200, "DeliveryTime");
    cr_expect_eq(injects_of(f, 0x55), 1);
    fake_destroy(f);
}

Test(hv_stimer, message_mode_busy_slot_waits_for_eom)
{
    struct fake_host *f = fake_create(NULL, 1);
    synic_on(f, 0);
    wrmsr_ok(f, 0, 0x40000092, 0x66);
    wrmsr_ok(f, 0, STIMER_COUNT(0), 100);
    wrmsr_ok(f, 0, STIMER_CONFIG(0), CFG_ENABLE | CFG_PERIODIC | CFG_SINT(2));
    gpa_t s = GPA_SIMP(0) + 2 * 256;
    fake_advance(f, 10000);
    cr_expect_eq(get_u64(f, s + 24), 100);
    fake_advance(f, 45000); /* ticks at 200, 300, 400 find the slot busy */
    cr_expect_eq(injects_of(f, 0x66), 1);
    uint8_t flags;
    physmem_read(&f->mem, s + 5, &flags, 1);
    cr_expect_eq(flags & 1, 1, "MessagePending");
    uint32_t zero = 0;
    physmem_write(&f->mem, s, &zero, 4);
    wrmsr_ok(f, 0, 0x40000084, 0);
    cr_expect_eq(get_u32(f, s), 0x80000010u);
    cr_expect_eq(get_u64(f, s + 24), 200, "the first waiting expiration; later ones folded");
    cr_expect_eq(get_u64(f, s + 32), 450, "DeliveryTime = when it reached the slot");
    cr_expect_eq(injects_of(f, 0x66), 2);
    fake_destroy(f);
}

Test(hv_stimer, message_waits_for_synic)
{
    struct fake_host *f = fake_create(NULL, 1);
    wrmsr_ok(f, 0, 0x40000091, 0x77);
    wrmsr_ok(f, 0, STIMER_COUNT(3), 10);
    wrmsr_ok(f, 0, STIMER_CONFIG(3), CFG_ENABLE | CFG_SINT(1));
    fake_advance(f, 5000);
    cr_expect_eq(f->ninj, 0);
    synic_on(f, 0);
    cr_expect_eq(get_u32(f, GPA_SIMP(0) + 256), 0x80000010u);
    cr_expect_eq(get_u32(f, GPA_SIMP(0) + 256 + 16), 3);
    cr_expect_eq(injects_of(f, 0x77), 1);
    fake_destroy(f);
}

Test(hv_stimer, config_rules)
{
    struct fake_host *f = fake_create(NULL, 1);
    struct hv_vp *vp = fake_vp(f, 0);
    /* One-shot already in the past fires during the WRMSR. */
    fake_advance(f, 100000);
    wrmsr_ok(f, 0, STIMER_COUNT(0), 5);
    wrmsr_ok(f, 0, STIMER_CONFIG(0), CFG_ENABLE | CFG_DIRECT | CFG_VECTOR(0x30));
    cr_expect_eq(injects_of(f, 0x30), 1);
    cr_expect_eq(rdmsr_ok(f, 0, STIMER_CONFIG(0)) & CFG_ENABLE, 0);
    /* Message mode on SINT0 cannot be enabled. */
    wrmsr_ok(f, 0, STIMER_COUNT(1), 5000);
    wrmsr_ok(f, 0, STIMER_CONFIG(1), CFG_ENABLE);
    cr_expect_eq(rdmsr_ok(f, 0, STIMER_CONFIG(1)), 0);
    /* Enabled with COUNT = 0: nothing armed until a count arrives. */
    wrmsr_ok(f, 0, STIMER_CONFIG(2), CFG_ENABLE | CFG_DIRECT | CFG_VECTOR(0x31));
    cr_expect_eq(f->clock.head, NULL);
    wrmsr_ok(f, 0, STIMER_COUNT(2), 2000);
    cr_expect_eq(vclock_next_deadline(&f->clock), 200000);
    /* RsvdZ bits 15:13 and 63:20 are #GP. */
    cr_expect_eq(hv_msr_write(f->p, vp, STIMER_CONFIG(3), 1ull << 13), -1);
    cr_expect_eq(hv_msr_write(f->p, vp, STIMER_CONFIG(3), 1ull << 20), -1);
    fake_destroy(f);

    struct hv_config cfg;
    hv_config_default(&cfg);
    cfg.stimer_direct = false;
    f = fake_create(&cfg, 1);
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 0), STIMER_CONFIG(0), CFG_DIRECT), -1,
                 "direct mode not offered");
    cr_expect_eq(hv_msr_write(f->p, fake_vp(f, 0), STIMER_CONFIG(0), CFG_VECTOR(0x30)), -1);
    fake_destroy(f);
}

Test(hv_stimer, destroy_and_reset_stop_timers)
{
    struct fake_host *f = fake_create(NULL, 2);
    wrmsr_ok(f, 1, STIMER_COUNT(0), 1000);
    wrmsr_ok(f, 1, STIMER_CONFIG(0), CFG_ENABLE | CFG_PERIODIC | CFG_DIRECT | CFG_VECTOR(0x40));
    hv_partition_reset(f->p);
    cr_expect_eq(f->clock.head, NULL, "reset disarms");
    cr_expect_eq(rdmsr_ok(f, 1, STIMER_CONFIG(0)), 0);
    wrmsr_ok(f, 1, STIMER_COUNT(0), 1000);
    wrmsr_ok(f, 1, STIMER_CONFIG(0), CFG_ENABLE | CFG_PERIODIC | CFG_DIRECT | CFG_VECTOR(0x40));
    fake_destroy(f); /* asserts the clock has no timer left */
}

Test(hv_time, tsc_page_follows_guest_tsc_writes)
{
    struct fake_host *f = fake_create(NULL, 2);
    wrmsr_ok(f, 0, 0x40000021, GPA_TSC | 1);
    uint32_t seq = get_u32(f, GPA_TSC);
    /* The guest moved every VP's TSC ahead by 12300 ns: the page's offset compensates. */
    hv_set_tsc_offset(f->p, 0, 12300);
    cr_expect_eq(get_u32(f, GPA_TSC), 0, "VPs disagree: the page must be invalid");
    hv_set_tsc_offset(f->p, 1, 12300);
    uint32_t seq2 = get_u32(f, GPA_TSC);
    cr_expect(seq2 != 0 && seq2 != seq, "valid again with a new sequence (%u)", seq2);
    uint64_t scale = get_u64(f, GPA_TSC + 8), offset = get_u64(f, GPA_TSC + 16);
    static const uint64_t ns[] = {0, 100, 5000, 123456789, 86400ull * 1000000000ull};
    for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
        fake_advance(f, ns[i]);
        uint64_t ref = mulhi64(ns[i] + 12300, scale) + offset;
        cr_expect_eq(ref, rdmsr_ok(f, 0, 0x40000020), "at %llu ns the page and the MSR agree",
                     (unsigned long long)ns[i]);
    }
    /* A negative offset (TSC written backwards) works the same way. */
    hv_set_tsc_offset(f->p, 0, -4200);
    hv_set_tsc_offset(f->p, 1, -4200);
    scale = get_u64(f, GPA_TSC + 8);
    offset = get_u64(f, GPA_TSC + 16);
    uint64_t now = rdmsr_ok(f, 0, 0x40000020) * 100;
    cr_expect_eq(mulhi64(now - 4200, scale) + offset, now / 100);
    fake_destroy(f);
}
