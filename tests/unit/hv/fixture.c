/* The fake machine behind the Hyper-V unit tests (see fixture.h). */
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void f_inject(void *o, unsigned vp, uint8_t vector, bool auto_eoi)
{
    struct fake_host *f = o;
    if (f->ninj < FAKE_MAX_EVENTS)
        f->inj[f->ninj++] = (struct fake_inject){vp, vector, auto_eoi};
}

static void f_eoi(void *o, unsigned vp)
{
    ((struct fake_host *)o)->eoi[vp]++;
}

static int f_icr_write(void *o, unsigned vp, uint64_t icr)
{
    struct fake_host *f = o;
    f->icr[vp] = icr;
    return f->icr_rc;
}

static uint64_t f_icr_read(void *o, unsigned vp)
{
    return ((struct fake_host *)o)->icr[vp];
}

static void f_tpr_write(void *o, unsigned vp, uint8_t tpr)
{
    ((struct fake_host *)o)->tpr[vp] = tpr;
}

static uint8_t f_tpr_read(void *o, unsigned vp)
{
    return ((struct fake_host *)o)->tpr[vp];
}

static void f_flush(void *o, unsigned vp, bool global, const gva_t *pages, unsigned n)
{
    struct fake_host *f = o;
    if (f->nfl >= FAKE_MAX_EVENTS)
        return;
    struct fake_flush *x = &f->fl[f->nfl++];
    x->vp = vp;
    x->global = global;
    x->n = n;
    for (unsigned i = 0; i < n && i < 64; i++)
        x->pages[i] = pages[i];
}

static void f_idle(void *o, unsigned vp)
{
    ((struct fake_host *)o)->idles++;
}

static void f_yield(void *o, unsigned vp)
{
    ((struct fake_host *)o)->yields++;
}

static void f_stop(void *o, enum hv_stop why, const struct hv_crash_report *crash)
{
    struct fake_host *f = o;
    f->stops++;
    f->last_stop = why;
    if (crash)
        f->crash = *crash;
}

static void f_trace(void *o, const char *line)
{
    struct fake_host *f = o;
    f->ntrace++;
    snprintf(f->last_trace, sizeof(f->last_trace), "%s", line);
}

struct fake_host *fake_create(const struct hv_config *cfg, unsigned nr_vps)
{
    struct fake_host *f = calloc(1, sizeof(*f));
    cr_assert(f);
    cr_assert_eq(physmem_init(&f->mem, FAKE_RAM), 0);
    vclock_init(&f->clock);
    struct hv_config def;
    if (!cfg) {
        hv_config_default(&def);
        cfg = &def;
    }
    struct hv_host_ops ops = {
        .opaque = f,
        .inject = f_inject,
        .apic_eoi = f_eoi,
        .apic_icr_write = f_icr_write,
        .apic_icr_read = f_icr_read,
        .apic_tpr_write = f_tpr_write,
        .apic_tpr_read = f_tpr_read,
        .flush_tlb = f_flush,
        .idle = f_idle,
        .yield = f_yield,
        .request_stop = f_stop,
    };
    f->p = hv_partition_create(cfg, &ops, &f->mem, &f->clock, nr_vps);
    cr_assert(f->p);
    return f;
}

void fake_destroy(struct fake_host *f)
{
    hv_partition_destroy(f->p);
    cr_assert_eq(f->clock.head, NULL, "a timer stayed armed after the partition was destroyed");
    cr_assert_eq(f->mem.nregions, 0, "an overlay stayed mapped after the partition was destroyed");
    physmem_destroy(&f->mem);
    free(f);
}

struct hv_vp *fake_vp(struct fake_host *f, unsigned i)
{
    struct hv_vp *vp = hv_partition_vp(f->p, i);
    cr_assert(vp);
    return vp;
}

void fake_trace_on(struct fake_host *f)
{
    struct hv_trace t = {f_trace, f};
    hv_set_trace(f->p, &t);
}

void fake_advance(struct fake_host *f, uint64_t ns)
{
    vclock_advance_to(&f->clock, ns);
}

uint64_t rdmsr_ok(struct fake_host *f, unsigned vp, uint32_t index)
{
    uint64_t v = 0xDEADBEEF;
    cr_assert_eq(hv_msr_read(f->p, fake_vp(f, vp), index, &v), 0, "rdmsr 0x%x on vp%u", index, vp);
    return v;
}

void wrmsr_ok(struct fake_host *f, unsigned vp, uint32_t index, uint64_t value)
{
    cr_assert_eq(hv_msr_write(f->p, fake_vp(f, vp), index, value), 0, "wrmsr 0x%x <- 0x%llx on vp%u",
                 index, (unsigned long long)value, vp);
}

void fake_enable_hypercalls(struct fake_host *f, gpa_t gpa)
{
    wrmsr_ok(f, 0, 0x40000000, 0x8100000601FF0000ull);
    wrmsr_ok(f, 0, 0x40000001, gpa | 1);
}

struct hv_call_regs regs64(uint64_t control, uint64_t rdx, uint64_t r8)
{
    struct hv_call_regs r;
    memset(&r, 0, sizeof(r));
    r.gpr[REG_RCX] = control;
    r.gpr[REG_RDX] = rdx;
    r.gpr[REG_R8] = r8;
    r.pe = r.lma = r.cs_l = true;
    return r;
}

uint64_t call_slow(struct fake_host *f, unsigned vp, uint64_t control, gpa_t in, gpa_t out)
{
    struct hv_call_regs r = regs64(control, in, out);
    cr_assert_eq(hv_hypercall(f->p, fake_vp(f, vp), &r), HV_CALL_DONE, "control 0x%llx",
                 (unsigned long long)control);
    return r.gpr[REG_RAX];
}

void put_u64(struct fake_host *f, gpa_t gpa, uint64_t v)
{
    physmem_write(&f->mem, gpa, &v, 8);
}

uint64_t get_u64(struct fake_host *f, gpa_t gpa)
{
    uint64_t v;
    physmem_read(&f->mem, gpa, &v, 8);
    return v;
}

uint32_t get_u32(struct fake_host *f, gpa_t gpa)
{
    uint32_t v;
    physmem_read(&f->mem, gpa, &v, 4);
    return v;
}
