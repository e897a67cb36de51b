/* TLB-flush and IPI hypercalls (TLFS v6.0b 10.2-10.4, 10.5.x) and the sparse VP sets
 * (HV_VP_SET) their Ex forms take. */
#include "hv/hyperv/internal.h"

#include <string.h>

struct vpset {
    uint64_t bits[HV_MAX_VPS / 64];
};

static uint64_t get64(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}

static void vpset_all(const struct hv_partition *p, struct vpset *s)
{
    memset(s, 0, sizeof(*s));
    for (unsigned i = 0; i < p->nr_vps; i++)
        s->bits[i / 64] |= 1ull << (i % 64);
}

/* VPs the partition does not have are ignored, as KVM does. */
static void vpset_clip(const struct hv_partition *p, struct vpset *s)
{
    for (unsigned i = 0; i < HV_MAX_VPS; i++)
        if (i >= p->nr_vps)
            s->bits[i / 64] &= ~(1ull << (i % 64));
}

static bool vpset_has(const struct vpset *s, unsigned i)
{
    return (s->bits[i / 64] >> (i % 64)) & 1;
}

/* HV_VP_SET at `set` (Format, ValidBanksMask), its banks in the variable header. Bank b covers
 * VPs 64b..64b+63, banks appear in ascending order of b, and the variable header holds exactly
 * popcount(ValidBanksMask) of them. */
static uint16_t vpset_parse(const struct hv_call *c, const uint8_t *set, struct vpset *s)
{
    uint64_t format = get64(set), mask = get64(set + 8);
    memset(s, 0, sizeof(*s));
    if (format == HV_GENERIC_SET_ALL) {
        vpset_all(c->p, s);
        return HV_STATUS_SUCCESS;
    }
    if (format != HV_GENERIC_SET_SPARSE_4K)
        return HV_STATUS_INVALID_PARAMETER;
    unsigned banks = 0;
    for (uint64_t m = mask; m; m &= m - 1)
        banks++;
    if (banks != c->varhead)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    const uint8_t *bank = c->in + c->in_fixed;
    for (unsigned b = 0; b < 64; b++) {
        if (!((mask >> b) & 1))
            continue;
        if (b < HV_MAX_VPS / 64)
            s->bits[b] = get64(bank);
        bank += 8;
    }
    vpset_clip(c->p, s);
    return HV_STATUS_SUCCESS;
}

/* ProcessorMask form: bit i = VP i (VPs 0-63). A zero mask without ALL_PROCESSORS is taken
 * as "all", as KVM does for Windows Server 2012 (REFERENCE.md 8). */
static void vpset_from_mask(const struct hv_partition *p, uint64_t mask, bool all, struct vpset *s)
{
    if (all || mask == 0) {
        vpset_all(p, s);
        return;
    }
    memset(s, 0, sizeof(*s));
    s->bits[0] = mask;
    vpset_clip(p, s);
}

/* The flush list: up to this many pages are flushed one by one; beyond it, the whole TLB. */
#define FLUSH_PAGES_MAX 64

struct flush_list {
    gva_t pages[FLUSH_PAGES_MAX];
    unsigned n;
    bool whole;
};

/* GVA range element: 63:12 page, 11:0 number of additional pages. */
static void flush_list_add(struct flush_list *l, uint64_t e)
{
    gva_t va = e & PAGE_MASK;
    unsigned extra = (unsigned)(e & 0xFFF);
    for (unsigned i = 0; i <= extra && !l->whole; i++) {
        if (l->n == FLUSH_PAGES_MAX) {
            l->whole = true;
            break;
        }
        l->pages[l->n++] = va;
        va += PAGE_SIZE;
        if (va == 0)
            break; /* top of the address space */
    }
}

static void flush_targets(struct hv_call *c, const struct vpset *s, bool global,
                          const struct flush_list *l)
{
    struct hv_partition *p = c->p;
    for (unsigned i = 0; i < p->nr_vps; i++) {
        if (!vpset_has(s, i) || !p->ops.flush_tlb)
            continue;
        if (!l || l->whole)
            p->ops.flush_tlb(p->ops.opaque, i, global, NULL, 0);
        else if (l->n)
            p->ops.flush_tlb(p->ops.opaque, i, global, l->pages, l->n);
    }
}

/* TLFS 10.4: the AddressSpace (a CR3 value) may not have bits 62:MAXPHYADDR set unless every
 * address space is flushed anyway; reserved flag bits are INVALID_PARAMETER too. hvemu then
 * flushes every address space of the targets (allowed: the TLFS only forbids stale entries). */
static uint16_t flush_header(const struct hv_call *c, uint64_t valid_flags, uint64_t *flags)
{
    uint64_t as = get64(c->in) & ~(1ull << 63);
    *flags = get64(c->in + 8);
    if (*flags & ~valid_flags)
        return HV_STATUS_INVALID_PARAMETER;
    if (!(*flags & HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES) && !hv_gpa_valid(c->p, as))
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

/* Input: +0 AddressSpace, +8 Flags, +16 ProcessorMask. */
uint16_t hc_flush_space(struct hv_call *c)
{
    uint64_t flags;
    uint16_t st = flush_header(c, HV_FLUSH_VALID_MASK, &flags);
    if (st)
        return st;
    struct vpset s;
    vpset_from_mask(c->p, get64(c->in + 16), flags & HV_FLUSH_ALL_PROCESSORS, &s);
    flush_targets(c, &s, !(flags & HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY), NULL);
    return HV_STATUS_SUCCESS;
}

/* NON_GLOBAL_MAPPINGS_ONLY has no meaning for a list of addresses (TLFS 10.4). */
#define HV_FLUSH_LIST_VALID (HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES)

static uint16_t flush_list_common(struct hv_call *c, const struct vpset *s)
{
    struct flush_list l = {.n = 0, .whole = false};
    for (unsigned i = c->rep_start; i < c->rep_end; i++)
        flush_list_add(&l, get64(hv_call_elem(c, i, 8)));
    flush_targets(c, s, true, &l);
    c->reps_done = c->rep_end;
    return HV_STATUS_SUCCESS;
}

uint16_t hc_flush_list(struct hv_call *c)
{
    uint64_t flags;
    uint16_t st = flush_header(c, HV_FLUSH_LIST_VALID, &flags);
    if (st)
        return st;
    struct vpset s;
    vpset_from_mask(c->p, get64(c->in + 16), flags & HV_FLUSH_ALL_PROCESSORS, &s);
    return flush_list_common(c, &s);
}

/* Ex forms: +0 AddressSpace, +8 Flags, +16 HV_VP_SET. */
uint16_t hc_flush_space_ex(struct hv_call *c)
{
    uint64_t flags;
    uint16_t st = flush_header(c, HV_FLUSH_VALID_MASK, &flags);
    if (st)
        return st;
    struct vpset s;
    st = vpset_parse(c, c->in + 16, &s);
    if (st)
        return st;
    if (flags & HV_FLUSH_ALL_PROCESSORS)
        vpset_all(c->p, &s);
    flush_targets(c, &s, !(flags & HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY), NULL);
    return HV_STATUS_SUCCESS;
}

uint16_t hc_flush_list_ex(struct hv_call *c)
{
    uint64_t flags;
    uint16_t st = flush_header(c, HV_FLUSH_LIST_VALID, &flags);
    if (st)
        return st;
    struct vpset s;
    st = vpset_parse(c, c->in + 16, &s);
    if (st)
        return st;
    if (flags & HV_FLUSH_ALL_PROCESSORS)
        vpset_all(c->p, &s);
    return flush_list_common(c, &s);
}

/* +0 Vector u32 (0x10-0xFF), +4 HV_INPUT_VTL (3:0 TargetVtl, 4 UseTargetVtl, 7:5 RsvdZ; only
 * VTL 0 exists here), +5 3 bytes RsvdZ (TLFS 10.5.x HvSendSyntheticClusterIpi). */
static uint16_t ipi_vector(const struct hv_call *c, uint8_t *vector)
{
    uint32_t v, hi;
    memcpy(&v, c->in, 4);
    memcpy(&hi, c->in + 4, 4);
    if (v < 0x10 || v > 0xFF || (hi != 0 && hi != 0x10))
        return HV_STATUS_INVALID_PARAMETER;
    *vector = (uint8_t)v;
    return HV_STATUS_SUCCESS;
}

static void ipi_send(struct hv_call *c, const struct vpset *s, uint8_t vector)
{
    struct hv_partition *p = c->p;
    for (unsigned i = 0; i < p->nr_vps; i++)
        if (vpset_has(s, i) && p->ops.inject)
            p->ops.inject(p->ops.opaque, i, vector, false);
}

/* +8 ProcessorMask. Unlike the flush calls, an empty mask sends nothing. */
uint16_t hc_send_ipi(struct hv_call *c)
{
    uint8_t vector;
    uint16_t st = ipi_vector(c, &vector);
    if (st)
        return st;
    struct vpset s;
    memset(&s, 0, sizeof(s));
    s.bits[0] = get64(c->in + 8);
    vpset_clip(c->p, &s);
    ipi_send(c, &s, vector);
    return HV_STATUS_SUCCESS;
}

/* +8 HV_VP_SET. */
uint16_t hc_send_ipi_ex(struct hv_call *c)
{
    uint8_t vector;
    uint16_t st = ipi_vector(c, &vector);
    if (st)
        return st;
    struct vpset s;
    st = vpset_parse(c, c->in + 8, &s);
    if (st)
        return st;
    ipi_send(c, &s, vector);
    return HV_STATUS_SUCCESS;
}

/* Advisory only; always succeeds (TLFS 10.5.x "HvNotifyLongSpinWait"). */
uint16_t hc_notify_long_spin_wait(struct hv_call *c)
{
    if (c->p->ops.yield)
        c->p->ops.yield(c->p->ops.opaque, c->vp->index);
    return HV_STATUS_SUCCESS;
}
