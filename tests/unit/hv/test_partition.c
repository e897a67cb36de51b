/* Partition lifetime: argument checks, independence of two partitions, host hooks. */
#include <criterion/criterion.h>

#include "fixture.h"

static uint64_t runtime_ns(void *opaque, unsigned vp)
{
    return 1000ull * (vp + 1);
}

Test(hv_partition, create_arguments)
{
    struct physmem mem;
    struct vclock clock;
    cr_assert_eq(physmem_init(&mem, 1 << 20), 0);
    vclock_init(&clock);
    struct hv_config cfg;
    hv_config_default(&cfg);
    struct hv_host_ops ops = {0};
    cr_expect_null(hv_partition_create(&cfg, &ops, &mem, &clock, 0));
    cr_expect_null(hv_partition_create(&cfg, &ops, &mem, &clock, HV_MAX_VPS + 1));
    cr_expect_null(hv_partition_create(NULL, &ops, &mem, &clock, 1));
    struct hv_partition *p = hv_partition_create(&cfg, &ops, &mem, &clock, HV_MAX_VPS);
    cr_assert(p);
    cr_expect_eq(hv_partition_nr_vps(p), HV_MAX_VPS);
    cr_expect_null(hv_partition_vp(p, HV_MAX_VPS));
    cr_expect_eq(hv_vp_index(hv_partition_vp(p, 77)), 77);
    cr_expect_eq(hv_partition_config(p)->synic, true);
    /* Host ops left NULL are skipped, not called. */
    struct hv_vp *vp = hv_partition_vp(p, 0);
    cr_expect_eq(hv_msr_write(p, vp, 0x40000070, 0), 0);
    cr_expect_eq(hv_msr_write(p, vp, 0x40000003, 1), 0);
    uint64_t v;
    cr_expect_eq(hv_msr_read(p, vp, 0x400000F0, &v), 0);
    hv_partition_destroy(p);
    hv_partition_destroy(NULL);
    physmem_destroy(&mem);
}

Test(hv_partition, two_partitions_are_independent)
{
    struct fake_host *a = fake_create(NULL, 1), *b = fake_create(NULL, 1);
    fake_enable_hypercalls(a, GPA_HYPERCALL);
    cr_expect_eq(rdmsr_ok(b, 0, 0x40000000), 0);
    cr_expect_eq(rdmsr_ok(b, 0, 0x40000001), 0);
    fake_advance(a, 1000000);
    cr_expect_eq(rdmsr_ok(a, 0, 0x40000020), 10000);
    cr_expect_eq(rdmsr_ok(b, 0, 0x40000020), 0, "each partition follows its own clock");
    fake_destroy(a);
    fake_destroy(b);
}

Test(hv_partition, vp_runtime_from_host)
{
    struct fake_host *f = fake_create(NULL, 2);
    f->p->ops.vp_runtime_ns = runtime_ns;
    cr_expect_eq(rdmsr_ok(f, 0, 0x40000010), 10);
    cr_expect_eq(rdmsr_ok(f, 1, 0x40000010), 20);
    fake_destroy(f);
}
