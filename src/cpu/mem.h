/* Guest memory as instructions see it: effective/linear addresses, the soft-TLB fast path,
 * and the slow path (page walk, MMIO, code pages, page-crossing accesses). */
#ifndef HVEMU_CPU_MEM_H
#define HVEMU_CPU_MEM_H

#include <string.h>

#include "cpu/vcpu.h"

#if defined(__GNUC__)
#define NORETURN __attribute__((noreturn))
#define NOINLINE __attribute__((noinline))
#else
#define NORETURN _Noreturn
#define NOINLINE
#endif

/* Raise an exception for instruction i (NULL: at the current block boundary, vp->rip). */
NORETURN void cpu_fault(struct vcpu *vp, const struct insn *i, unsigned vec, bool has_err,
                        uint32_t err);
NORETURN void cpu_fault_ud(struct vcpu *vp, const struct insn *i);
NORETURN void cpu_fault_gp(struct vcpu *vp, const struct insn *i, uint32_t err);

static const uint64_t amask_tab[9] = {0, 0, 0xffff, 0, 0xffffffffull, 0, 0, 0, ~0ull};

static inline uint64_t ea_of(const struct vcpu *vp, const struct insn *i)
{
    uint64_t a = vp->gpr[i->base] + (vp->gpr[i->index] << i->scale) + (uint64_t)(int64_t)i->disp;
    return a & amask_tab[i->asz];
}

static inline uint64_t lin_of(const struct vcpu *vp, const struct insn *i)
{
    return (ea_of(vp, i) + vp->sbase[i->seg]) & vp->lin_mask;
}

static inline uint64_t lin_seg(const struct vcpu *vp, unsigned seg, uint64_t ea)
{
    return (ea + vp->sbase[seg]) & vp->lin_mask;
}

/* The per-access checks of careful mode (vcpu.careful): segment limits, data breakpoints,
 * alignment; returns the plain linear address. The slow-path entry points below call it. */
gva_t mem_careful(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len, bool write);
uint64_t mem_read_slow(struct vcpu *vp, const struct insn *i, gva_t la, unsigned sz);
void mem_write_slow(struct vcpu *vp, const struct insn *i, gva_t la, unsigned sz, uint64_t v);
void mem_read_buf(struct vcpu *vp, const struct insn *i, gva_t la, void *buf, unsigned len);
void mem_write_buf(struct vcpu *vp, const struct insn *i, gva_t la, const void *buf, unsigned len);
/* Fault now if a write of len bytes at la would fault (for multi-part stores). */
void mem_probe_write(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len);
/* Fault now if a read of len bytes at la would fault, without reading (no MMIO side effect). */
void mem_probe_read(struct vcpu *vp, const struct insn *i, gva_t la, unsigned len);

static inline uint64_t load_sz(const uint8_t *p, unsigned sz)
{
    switch (sz) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static inline void store_sz(uint8_t *p, unsigned sz, uint64_t v)
{
    switch (sz) {
    case 1: *p = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

static inline uint64_t mem_rd(struct vcpu *vp, const struct insn *i, gva_t la, unsigned sz)
{
    const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
    if (likely(e->tag_r == (la & PAGE_MASK) && (la & (PAGE_SIZE - 1)) <= PAGE_SIZE - sz)) {
        vp->tlb.hits++; /* one add: the hit rate --stats and the benchmarks report */
        return load_sz((const uint8_t *)(uintptr_t)(la + e->addend), sz);
    }
    return mem_read_slow(vp, i, la, sz);
}

static inline void mem_wr(struct vcpu *vp, const struct insn *i, gva_t la, unsigned sz, uint64_t v)
{
    const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
    if (likely(e->tag_w == (la & PAGE_MASK) && (la & (PAGE_SIZE - 1)) <= PAGE_SIZE - sz)) {
        vp->tlb.hits++;
        store_sz((uint8_t *)(uintptr_t)(la + e->addend), sz, v);
        return;
    }
    mem_write_slow(vp, i, la, sz, v);
}

/* Host pointer for a read-modify-write of sz bytes at la, or NULL (use mem_rd + mem_wr). */
static inline uint8_t *mem_rmw_ptr(struct vcpu *vp, gva_t la, unsigned sz)
{
    const struct tlb_entry *e = &vp->tlb.e[vp->mmu_idx][tlb_index(la)];
    if (likely(e->tag_w == (la & PAGE_MASK) && e->tag_r == e->tag_w &&
               (la & (PAGE_SIZE - 1)) <= PAGE_SIZE - sz)) {
        vp->tlb.hits++;
        return (uint8_t *)(uintptr_t)(la + e->addend);
    }
    return NULL;
}

/* Instruction fetch: translate for execution (faults at the block boundary). */
gpa_t mem_fetch_gpa(struct vcpu *vp, gva_t la);
/* Code bytes at gpa: RAM, ROM and overlay pages are read; MMIO and holes read as 0xFF, so
 * fetching never calls a device. */
void mem_code_read(struct vcpu *vp, gpa_t gpa, uint8_t *buf, unsigned len);
/* Copy up to len code bytes at la; returns how many could be fetched without a fault. */
unsigned mem_fetch_bytes(struct vcpu *vp, gva_t la, uint8_t *buf, unsigned len);

/* Implicit supervisor accesses for descriptor tables, IDT, TSS, with no longjmp: return 0 or
 * the vector (#PF with CR2 set, #GP) and *err. */
int mem_sys_read(struct vcpu *vp, gva_t la, void *buf, unsigned len, uint32_t *err);
int mem_sys_write(struct vcpu *vp, gva_t la, const void *buf, unsigned len, uint32_t *err);

/* Stack helpers: SS-relative with the stack address size. */
static inline unsigned stack_asz(const struct vcpu *vp)
{
    if (vp->mode == MODE_64)
        return 8;
    return (vp->seg[SEG_SS].attr & (1u << 14)) ? 4 : 2;
}

static inline void sp_set(struct vcpu *vp, uint64_t sp)
{
    unsigned s = stack_asz(vp);
    if (s == 8)
        vp->gpr[REG_RSP] = sp;
    else if (s == 4)
        vp->gpr[REG_RSP] = (uint32_t)sp;
    else
        vp->gpr[REG_RSP] = (vp->gpr[REG_RSP] & ~0xffffull) | (sp & 0xffff);
}

static inline void push(struct vcpu *vp, const struct insn *i, unsigned sz, uint64_t v)
{
    uint64_t sp = vp->gpr[REG_RSP] - sz;
    uint64_t m = amask_tab[stack_asz(vp)];
    mem_wr(vp, i, lin_seg(vp, SEG_SS, sp & m), sz, v);
    sp_set(vp, sp);
}

static inline uint64_t pop(struct vcpu *vp, const struct insn *i, unsigned sz)
{
    uint64_t sp = vp->gpr[REG_RSP];
    uint64_t m = amask_tab[stack_asz(vp)];
    uint64_t v = mem_rd(vp, i, lin_seg(vp, SEG_SS, sp & m), sz);
    sp_set(vp, sp + sz);
    return v;
}

#endif
