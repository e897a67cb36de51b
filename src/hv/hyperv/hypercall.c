/* The hypercall dispatcher (TLFS v6.0b chapter 3): calling conventions, the generic input
 * rules checked once from hypercalls.def, rep calls with continuation, and the result value. */
#include "hv/hyperv/internal.h"

#include <string.h>

#include "cpu/cpu.h"
#include "mmu/physmem.h"

enum { HC_FAST = 1, HC_VARHEAD = 2 };

struct hv_call_def {
    uint16_t code;
    const char *name;
    uint16_t (*handler)(struct hv_call *c);
    uint16_t in, out, rep_in, rep_out;
    uint8_t flags;
    uint8_t need, need2;
};

static const struct hv_call_def call_table[] = {
#define X(code, name, fn, in, out, rin, rout, flags, need, need2) \
    {code, #name, fn, in, out, rin, rout, flags, need, need2},
#include "hv/hyperv/hypercalls.def"
#undef X
};

static const struct {
    uint16_t value;
    const char *name;
} status_names[] = {
#define HV_STATUS_ROW(name, val) {val, "HV_STATUS_" #name},
    HV_STATUS_LIST(HV_STATUS_ROW)
#undef HV_STATUS_ROW
};

static const struct hv_call_def *call_find(uint16_t code)
{
    for (size_t i = 0; i < ARRAY_SIZE(call_table); i++)
        if (call_table[i].code == code)
            return &call_table[i];
    return NULL;
}

const char *hv_call_name(uint16_t code)
{
    const struct hv_call_def *d = call_find(code);
    return d ? d->name : NULL;
}

const char *hv_status_name(uint16_t status)
{
    for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
        if (status_names[i].value == status)
            return status_names[i].name;
    return NULL;
}

const uint8_t *hv_call_elem(const struct hv_call *c, unsigned i, size_t elem_size)
{
    return c->in + c->in_fixed + (size_t)c->varhead * 8 + (size_t)i * elem_size;
}

/* Fast input: RDX, R8 (or EBX:ECX, EDI:ESI), then XMM0-XMM5 (TLFS 3.7.1). */
#define HV_FAST_REG_BYTES 16
#define HV_FAST_XMM_BYTES (HV_FAST_REG_BYTES + 6 * 16)

/* A parameter block must be 8-byte aligned, inside MAXPHYADDR and within one page (TLFS
 * 3.5: INVALID_ALIGNMENT otherwise), and plain RAM: hvemu refuses overlay, MMIO and holes
 * with INVALID_PARAMETER (the TLFS leaves such accesses undefined). */
static uint16_t param_block(struct hv_partition *p, gpa_t gpa, size_t len, uint8_t **host)
{
    *host = NULL;
    if (len == 0)
        return HV_STATUS_SUCCESS; /* a GPA that is not needed is ignored */
    if ((gpa & 7) || !hv_gpa_valid(p, gpa) || (gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
        return HV_STATUS_INVALID_ALIGNMENT;
    *host = physmem_ram_ptr(p->mem, gpa, len);
    return *host ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER;
}

struct outcome {
    enum hv_call_action action;
    uint16_t status;
    unsigned reps_done;
    uint64_t new_control;
};

static struct outcome run(struct hv_partition *p, struct hv_vp *vp, const struct hv_call_regs *r,
                          uint64_t control, uint64_t a0, uint64_t a1)
{
    struct outcome o = {HV_CALL_DONE, HV_STATUS_SUCCESS, 0, 0};
    uint16_t code = (uint16_t)(control & HV_HC_CODE_MASK);
    bool fast = (control & HV_HC_FAST) != 0;
    unsigned varhead = (unsigned)((control & HV_HC_VARHEAD_MASK) >> HV_HC_VARHEAD_SHIFT);
    unsigned count = (unsigned)((control >> HV_HC_REP_COUNT_SHIFT) & HV_HC_REP_MASK);
    unsigned start = (unsigned)((control >> HV_HC_REP_START_SHIFT) & HV_HC_REP_MASK);

    /* A failed rep call reports the elements completed before it (the start index); a failed
     * simple call reports none. */
    unsigned done_before = 0;
#define FAIL(st)                   \
    do {                           \
        o.status = (st);           \
        o.reps_done = done_before; \
        return o;                  \
    } while (0)
    if (control & HV_HC_RSVD_MASK)
        FAIL(HV_STATUS_INVALID_HYPERCALL_INPUT);
    const struct hv_call_def *d = call_find(code);
    if (!d)
        FAIL(HV_STATUS_INVALID_HYPERCALL_CODE);
    if (!hv_has(p, d->need) || !hv_has(p, d->need2))
        FAIL(HV_STATUS_ACCESS_DENIED);
    if (fast && !(d->flags & HC_FAST))
        FAIL(HV_STATUS_INVALID_HYPERCALL_INPUT);
    if (varhead && !(d->flags & HC_VARHEAD))
        FAIL(HV_STATUS_INVALID_HYPERCALL_INPUT);
    bool rep = d->rep_in || d->rep_out;
    if (rep)
        done_before = start < count ? start : count;
    if (rep ? (count == 0 || start >= count) : (count != 0 || start != 0))
        FAIL(HV_STATUS_INVALID_HYPERCALL_INPUT);

    size_t in_len = d->in + (size_t)varhead * 8 + (size_t)count * d->rep_in;
    size_t out_len = d->out + (size_t)count * d->rep_out;
    uint8_t inbuf[PAGE_SIZE];
    uint8_t outbuf[PAGE_SIZE];
    uint8_t *out_host = NULL;
    if (fast) {
        if (in_len > HV_FAST_REG_BYTES) {
            /* XMM input without EDX[4] is #UD (KVM does the same). */
            if (!hv_has(p, HVF_MISC(HV_MISC_XMM_INPUT))) {
                o.action = HV_CALL_UD;
                return o;
            }
            if (in_len > HV_FAST_XMM_BYTES)
                FAIL(HV_STATUS_INVALID_HYPERCALL_INPUT);
        }
        /* No fast output is advertised (EDX[15]), so a fast call cannot return data. */
        if (out_len)
            FAIL(HV_STATUS_INVALID_HYPERCALL_INPUT);
        uint8_t regs[HV_FAST_XMM_BYTES];
        memcpy(regs, &a0, 8);
        memcpy(regs + 8, &a1, 8);
        for (unsigned i = 0; i < 6; i++)
            memcpy(regs + 16 + 16 * i, r->xmm[i], 16);
        memcpy(inbuf, regs, in_len);
    } else {
        if (in_len > PAGE_SIZE || out_len > PAGE_SIZE)
            FAIL(HV_STATUS_INVALID_ALIGNMENT); /* a list cannot cross a page */
        uint8_t *in_host;
        uint16_t st = param_block(p, a0, in_len, &in_host);
        if (st == HV_STATUS_SUCCESS)
            st = param_block(p, a1, out_len, &out_host);
        if (st)
            FAIL(st);
        if (in_len && out_len && a0 < a1 + out_len && a1 < a0 + in_len)
            FAIL(HV_STATUS_INVALID_PARAMETER); /* TLFS 3.5: the blocks must not overlap */
        if (in_len)
            memcpy(inbuf, in_host, in_len);
    }
    if (out_len)
        memset(outbuf, 0, out_len);

    struct hv_call c = {
        .p = p,
        .vp = vp,
        .fast = fast,
        .varhead = varhead,
        .rep_count = count,
        .rep_start = start,
        .rep_end = p->cfg.rep_batch && count - start > p->cfg.rep_batch ? start + p->cfg.rep_batch
                                                                         : count,
        .reps_done = start,
        .in = inbuf,
        .in_fixed = d->in,
        .in_len = in_len,
        .out = outbuf,
        .out_len = out_len,
    };
    o.status = d->handler(&c);
    o.reps_done = rep ? c.reps_done : 0;
    if (o.status == HV_STATUS_SUCCESS && out_len)
        memcpy(out_host, outbuf, out_len);
    if (rep && o.status == HV_STATUS_SUCCESS && c.reps_done < count) {
        /* TLFS 3.7.5 continuation: RIP stays on the VMCALL, the input value carries the new
         * start index, and the guest re-executes the call after taking any interrupt. */
        o.action = HV_CALL_CONTINUE;
        o.new_control = (control & ~(HV_HC_REP_MASK << HV_HC_REP_START_SHIFT)) |
                        ((uint64_t)c.reps_done << HV_HC_REP_START_SHIFT);
    }
    return o;
#undef FAIL
}

enum hv_call_action hv_hypercall(struct hv_partition *p, struct hv_vp *vp, struct hv_call_regs *r)
{
    /* No hypercall page: VMCALL is just an instruction this machine does not offer. */
    if (!p->cfg.enabled || !(p->hypercall & HV_PAGE_ENABLE))
        return HV_CALL_UD;
    /* TLFS 3.2: only CPL 0 in protected or long mode may call; others get #UD. */
    if (!r->pe || r->v86 || r->cpl != 0) {
        HV_TRACE(p, "vp%u hypercall from cpl %u%s%s -> #UD", vp->index, r->cpl,
                 r->pe ? "" : " real mode", r->v86 ? " v86" : "");
        return HV_CALL_UD;
    }
    bool m64 = r->lma && r->cs_l;
    uint64_t control, a0, a1;
    if (m64) {
        control = r->gpr[REG_RCX];
        a0 = r->gpr[REG_RDX];
        a1 = r->gpr[REG_R8];
    } else {
        /* 32-bit convention: EDX:EAX input value, EBX:ECX input, EDI:ESI output. */
        control = (r->gpr[REG_RDX] << 32) | (uint32_t)r->gpr[REG_RAX];
        a0 = (r->gpr[REG_RBX] << 32) | (uint32_t)r->gpr[REG_RCX];
        a1 = (r->gpr[REG_RDI] << 32) | (uint32_t)r->gpr[REG_RSI];
    }
    struct outcome o = run(p, vp, r, control, a0, a1);
    if (p->trace.fn) {
        const char *name = hv_call_name((uint16_t)control) ? hv_call_name((uint16_t)control)
                                                            : "unknown";
        if (o.action == HV_CALL_UD)
            hv_tracef(p, "vp%u hypercall %s (0x%04x) xmm input not offered -> #UD", vp->index,
                      name, (unsigned)(control & 0xFFFF));
        else
            hv_tracef(p, "vp%u hypercall %s (0x%04x)%s control 0x%llx in 0x%llx out 0x%llx -> %s "
                         "reps %u%s", vp->index, name, (unsigned)(control & 0xFFFF),
                      (control & HV_HC_FAST) ? " fast" : "", (unsigned long long)control,
                      (unsigned long long)a0, (unsigned long long)a1,
                      hv_status_name(o.status) ? hv_status_name(o.status) : "?", o.reps_done,
                      o.action == HV_CALL_CONTINUE ? " (continues)" : "");
    }
    if (o.action == HV_CALL_UD)
        return HV_CALL_UD;
    uint64_t out = o.action == HV_CALL_CONTINUE
                       ? o.new_control
                       : (uint64_t)o.status | ((uint64_t)o.reps_done << HV_HC_RESULT_REP_SHIFT);
    if (m64) {
        r->gpr[o.action == HV_CALL_CONTINUE ? REG_RCX : REG_RAX] = out;
    } else {
        r->gpr[REG_RDX] = out >> 32;
        r->gpr[REG_RAX] = (uint32_t)out;
    }
    return o.action;
}
