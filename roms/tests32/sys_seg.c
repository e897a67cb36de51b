/* Segmentation in 32-bit protected mode: segment-register loads (null, table limits, LDT, type,
 * privilege, presence, accessed bit: SDM Vol 2 MOV/POP/LDS/LSS, Vol 3 5.5-5.8), limit and type
 * checks on data accesses (expand-up/down, B flag, read-only, code, null: Vol 3 5.3-5.4, #GP(0)
 * or #SS(0)), and the CS limit on instruction fetch. */
#include "guest.h"

/* GDT entries of this test. I_T is rewritten before each check that needs a descriptor. */
#define I_T 6
#define I_CODE_XO 7   /* execute-only code, flat */
#define I_CODE_NF 8   /* readable code, base 0, limit 0xFFFFEFFF: not flat, so checked */
#define I_CODE_BUF 9  /* code at codebuf, limit set per check */
#define I_LDT 10      /* LDT descriptor for ldt[] */
#define SEL_T (I_T * 8)
#define SEL_LDT (I_LDT * 8)

static uint8_t buf[8192] __attribute__((aligned(4096)));
static uint8_t codebuf[4096] __attribute__((aligned(4096)));
static uint64_t ldt[2];

struct op {
    uint16_t sel;
    uint32_t off;
    uint32_t val;
};
static struct op o;

static void expect(const char *name, long r, long want, uint32_t err)
{
    bool ok = r == want && (want == 0 || trap_last.error_code == err);
    if (!ok)
        printf("  %s: got 0x%lx error 0x%x, want 0x%lx error 0x%x\n", name, r,
               (unsigned)trap_last.error_code, want, (unsigned)err);
    CHECK(name, ok);
}

#define GP (TRAP_CAUGHT | 13)
#define SS (TRAP_CAUGHT | 12)
#define NP (TRAP_CAUGHT | 11)

/* ---- data accesses through a segment, DS/ES/FS/GS put back to SEL_DATA32 afterwards ---- */

#define UNUSED __attribute__((unused))
#define ACCESS_FNS(reg)                                                                         \
    UNUSED static void reg##_rd(void *p)                                                        \
    {                                                                                           \
        struct op *a = p;                                                                       \
        uint32_t v;                                                                             \
        __asm__ volatile("mov %w1, %%" #reg "\n\tmovl %%" #reg ":(%2), %0\n\tmov %w3, %%" #reg \
                         : "=&r"(v)                                                             \
                         : "r"((uint32_t)a->sel), "r"(a->off), "r"((uint32_t)SEL_DATA32)        \
                         : "memory");                                                           \
        a->val = v;                                                                             \
    }                                                                                           \
    UNUSED static void reg##_rd8(void *p)                                                       \
    {                                                                                           \
        struct op *a = p;                                                                       \
        uint32_t v;                                                                             \
        __asm__ volatile("mov %w1, %%" #reg "\n\tmovzbl %%" #reg ":(%2), %0\n\t"               \
                         "mov %w3, %%" #reg                                                     \
                         : "=&r"(v)                                                             \
                         : "r"((uint32_t)a->sel), "r"(a->off), "r"((uint32_t)SEL_DATA32)        \
                         : "memory");                                                           \
        a->val = v;                                                                             \
    }                                                                                           \
    UNUSED static void reg##_wr(void *p)                                                        \
    {                                                                                           \
        struct op *a = p;                                                                       \
        __asm__ volatile("mov %w0, %%" #reg "\n\tmovl %2, %%" #reg ":(%1)\n\tmov %w3, %%" #reg  \
                         :                                                                      \
                         : "r"((uint32_t)a->sel), "r"(a->off), "r"(a->val),                     \
                           "r"((uint32_t)SEL_DATA32)                                            \
                         : "memory");                                                           \
    }

ACCESS_FNS(ds)
ACCESS_FNS(es)
ACCESS_FNS(fs)
ACCESS_FNS(gs)

static long acc(void (*fn)(void *), uint16_t sel, uint32_t off, uint32_t val)
{
    o.sel = sel;
    o.off = off;
    o.val = val;
    return try_call(fn, &o);
}

static uint32_t rd32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void data_checks(void)
{
    uint32_t b = (uint32_t)(uintptr_t)buf;
    for (unsigned k = 0; k < sizeof buf; k++)
        buf[k] = (uint8_t)(k * 7 + 1);

    /* Expand-up, byte granular, limit 0xFFF. */
    gdt_set(I_T, gdt_desc(b, 0xfff, 0x93, 0x4));
    expect("ds_base_added", acc(ds_rd, SEL_T, 0x10, 0), 0, 0);
    CHECK_EQ("ds_base_added_value", o.val, rd32(buf + 0x10));
    expect("ds_last_dword_in_limit", acc(ds_rd, SEL_T, 0xffc, 0), 0, 0);
    expect("ds_dword_straddles_limit_gp0", acc(ds_rd, SEL_T, 0xffd, 0), GP, 0);
    expect("ds_last_byte_in_limit", acc(ds_rd8, SEL_T, 0xfff, 0), 0, 0);
    expect("ds_byte_beyond_limit_gp0", acc(ds_rd8, SEL_T, 0x1000, 0), GP, 0);
    expect("ds_write_beyond_limit_gp0", acc(ds_wr, SEL_T, 0x1000, 0x5a5a5a5a), GP, 0);
    CHECK("ds_write_beyond_limit_no_store", rd32(buf + 0x1000) != 0x5a5a5a5a);
    expect("ds_write_in_limit", acc(ds_wr, SEL_T, 0x800, 0xa5a5a5a5), 0, 0);
    CHECK_EQ("ds_write_in_limit_stored", rd32(buf + 0x800), 0xa5a5a5a5);
    /* Page granular: limit 0 covers one 4 KiB page. */
    gdt_set(I_T, gdt_desc(b, 0, 0x93, 0xc));
    expect("granular_limit_last_byte", acc(ds_rd8, SEL_T, 0xfff, 0), 0, 0);
    expect("granular_limit_beyond_gp0", acc(ds_rd8, SEL_T, 0x1000, 0), GP, 0);

    /* Types. */
    gdt_set(I_T, gdt_desc(b, 0xfff, 0x91, 0x4));
    expect("readonly_read", acc(ds_rd, SEL_T, 0x20, 0), 0, 0);
    expect("readonly_write_gp0", acc(ds_wr, SEL_T, 0x20, 1), GP, 0);
    gdt_set(I_T, gdt_desc(0, 0xfffff, 0x91, 0xc));
    expect("readonly_4g_write_gp0", acc(ds_wr, SEL_T, b + 0x20, 1), GP, 0);
    gdt_set(I_T, gdt_desc(0, 0xfffff, 0x9b, 0xc));
    expect("readable_code_in_ds_read", acc(ds_rd, SEL_T, b + 0x30, 0), 0, 0);
    CHECK_EQ("readable_code_in_ds_value", o.val, rd32(buf + 0x30));
    expect("readable_code_in_ds_write_gp0", acc(ds_wr, SEL_T, b + 0x30, 1), GP, 0);
    expect("null_ds_read_gp0", acc(ds_rd, 0, b, 0), GP, 0);
    expect("null_es_write_gp0", acc(es_wr, 3, b, 0), GP, 0);

    /* Expand-down: valid offsets are limit+1 .. 0xFFFFFFFF (B=1) or .. 0xFFFF (B=0). */
    gdt_set(I_T, gdt_desc(b, 0xfff, 0x97, 0x4));
    expect("expand_down_above_limit", acc(ds_rd, SEL_T, 0x1000, 0), 0, 0);
    CHECK_EQ("expand_down_above_limit_value", o.val, rd32(buf + 0x1000));
    expect("expand_down_at_limit_gp0", acc(ds_rd8, SEL_T, 0xfff, 0), GP, 0);
    expect("expand_down_straddles_limit_gp0", acc(ds_rd, SEL_T, 0xffe, 0), GP, 0);
    expect("expand_down_top_dword", acc(ds_rd, SEL_T, 0xfffffffc, 0), 0, 0);
    expect("expand_down_straddles_top_gp0", acc(ds_rd, SEL_T, 0xfffffffd, 0), GP, 0);
    gdt_set(I_T, gdt_desc(b, 0xfff, 0x97, 0x0));
    expect("expand_down_16_top_dword", acc(ds_rd, SEL_T, 0xfffc, 0), 0, 0);
    expect("expand_down_16_straddles_top_gp0", acc(ds_rd, SEL_T, 0xfffd, 0), GP, 0);
    expect("expand_down_16_beyond_top_gp0", acc(ds_rd8, SEL_T, 0x10000, 0), GP, 0);
    gdt_set(I_T, gdt_desc(b, 0xfff, 0x95, 0x4));
    expect("expand_down_readonly_write_gp0", acc(ds_wr, SEL_T, 0x1000, 1), GP, 0);

    /* Other registers and a base that wraps the 32-bit linear space. */
    gdt_set(I_T, gdt_desc(b, 0xfff, 0x93, 0x4));
    expect("fs_base_added", acc(fs_rd, SEL_T, 0x40, 0), 0, 0);
    CHECK_EQ("fs_base_added_value", o.val, rd32(buf + 0x40));
    expect("gs_beyond_limit_gp0", acc(gs_rd, SEL_T, 0x1000, 0), GP, 0);
    expect("es_beyond_limit_gp0", acc(es_wr, SEL_T, 0x1ffe, 0), GP, 0);
    gdt_set(I_T, gdt_desc(0xfffff000, 0xfffff, 0x93, 0xc));
    expect("base_wraps_at_4g", acc(ds_rd, SEL_T, b + 0x1000 + 0x50, 0), 0, 0);
    CHECK_EQ("base_wraps_at_4g_value", o.val, rd32(buf + 0x50));
}

/* ---- stack segment: violations raise #SS(0) ---- */

static uint32_t ss_off;
static void ss_rd(void *p)
{
    struct op *a = p;
    uint32_t v;
    __asm__ volatile("mov %w1, %%ss\n\tmovl %%ss:(%2), %0\n\tmov %w3, %%ss"
                     : "=&r"(v)
                     : "r"((uint32_t)a->sel), "r"(ss_off), "r"((uint32_t)SEL_DATA32)
                     : "memory");
    a->val = v;
}

/* Expand-up SS whose (page-granular) limit ends a page above ESP: o.off 0 reads the last
 * dword, 1 straddles the limit. */
static void ss_limit_fn(void *p)
{
    uint32_t esp;
    __asm__ volatile("mov %%esp, %0" : "=r"(esp));
    uint32_t lim = (esp >> 12) + 1;
    gdt_set(I_T, gdt_desc(0, lim, 0x93, 0xc));
    ss_off = ((lim << 12) | 0xfff) - 3 + ((struct op *)p)->off;
    ss_rd(p);
}

/* Expand-down SS (B=1) valid from 16 KiB below ESP: o.off 0 reads at the limit, 1 above it. */
static void ss_down_fn(void *p)
{
    uint32_t esp;
    __asm__ volatile("mov %%esp, %0" : "=r"(esp));
    uint32_t lim = (esp >> 12) - 4;
    gdt_set(I_T, gdt_desc(0, lim, 0x97, 0xc));
    ss_off = ((lim << 12) | 0xfff) + ((struct op *)p)->off;
    ss_rd(p);
}

static void esp_fn(void *p)
{
    struct op *a = p;
    uint32_t v;
    /* [ESP] is SS-relative: with DS limited and SS flat no fault; with a DS override, #GP. */
    __asm__ volatile("mov %w1, %%ds\n\tmovl (%%esp), %0\n\tmovl %%ds:(%%esp), %0\n\t"
                     "mov %w2, %%ds"
                     : "=&r"(v)
                     : "r"((uint32_t)a->sel), "r"((uint32_t)SEL_DATA32)
                     : "memory");
    a->val = v;
}

static void stack_checks(void)
{
    o.sel = SEL_T;
    o.off = 0;
    expect("ss_last_dword_in_limit", try_call(ss_limit_fn, &o), 0, 0);
    o.off = 1;
    expect("ss_straddles_limit_ss0", try_call(ss_limit_fn, &o), SS, 0);
    o.off = 0;
    expect("ss_expand_down_at_limit_ss0", try_call(ss_down_fn, &o), SS, 0);
    o.off = 1;
    expect("ss_expand_down_above_limit", try_call(ss_down_fn, &o), 0, 0);
    gdt_set(I_T, gdt_desc(0, 0xfff, 0x93, 0x4));
    o.sel = SEL_T;
    expect("ds_override_on_esp_gp0", try_call(esp_fn, &o), GP, 0);
    uint32_t ip = (uint32_t)trap_last.rip;
    CHECK("esp_default_ss_not_checked_against_ds", *(const uint8_t *)(uintptr_t)ip == 0x3e);
}

/* ---- string instructions: REP stops at the element that faults ---- */

static uint32_t rep_ecx, rep_edi;
static bool record_rep(struct trap_frame *f)
{
    rep_ecx = f->ecx;
    rep_edi = f->edi;
    return false;
}

static void rep_stos_fn(void *p)
{
    struct op *a = p;
    uint32_t di = 0x100, cx = 8;
    __asm__ volatile("push %%es\n\tmov %w2, %%es\n\tmov $0x77, %%al\n\tcld\n\trep stosb\n\tpop %%es"
                     : "+D"(di), "+c"(cx)
                     : "r"((uint32_t)a->sel)
                     : "eax", "memory");
}

static void string_checks(void)
{
    gdt_set(I_T, gdt_desc((uint32_t)(uintptr_t)buf, 0x103, 0x93, 0x4));
    memset(buf + 0x100, 0, 8);
    trap_set_handler(13, record_rep);
    o.sel = SEL_T;
    expect("rep_stos_es_limit_gp0", try_call(rep_stos_fn, &o), GP, 0);
    trap_set_handler(13, NULL);
    CHECK_EQ("rep_stos_stopped_with_ecx_4", rep_ecx, 4);
    CHECK_EQ("rep_stos_stopped_at_edi_limit", rep_edi, 0x104);
    CHECK("rep_stos_stored_within_limit", rd32(buf + 0x100) == 0x77777777 && buf[0x104] == 0);
}

/* ---- CS: reads of execute-only code, writes to code, the limit on fetch ---- */

#define STR_(x) #x
#define STR(x) STR_(x)

static void xo_read_fn(void *p)
{
    uint32_t v;
    __asm__ volatile("ljmp $" STR(I_CODE_XO * 8) ", $1f\n1:\n\tmovl %%cs:(%1), %0\n\t"
                     "ljmp $" STR(SEL_CODE32) ", $2f\n2:"
                     : "=r"(v)
                     : "r"(((struct op *)p)->off)
                     : "memory");
    ((struct op *)p)->val = v;
}

static void nf_read_fn(void *p)
{
    uint32_t v;
    __asm__ volatile("ljmp $" STR(I_CODE_NF * 8) ", $1f\n1:\n\tmovl %%cs:(%1), %0\n\t"
                     "ljmp $" STR(SEL_CODE32) ", $2f\n2:"
                     : "=r"(v)
                     : "r"(((struct op *)p)->off)
                     : "memory");
    ((struct op *)p)->val = v;
}

static void nf_write_fn(void *p)
{
    __asm__ volatile("ljmp $" STR(I_CODE_NF * 8) ", $1f\n1:\n\tmovl %1, %%cs:(%0)\n\t"
                     "ljmp $" STR(SEL_CODE32) ", $2f\n2:"
                     :
                     : "r"(((struct op *)p)->off), "r"(((struct op *)p)->val)
                     : "memory");
}

static void call_codebuf(void *p)
{
    (void)p;
    __asm__ volatile("lcall $" STR(I_CODE_BUF * 8) ", $0" ::: "eax", "memory");
}

/* Run bytes at codebuf offset 0 under a CS of that limit (base codebuf, byte granular). */
static long run_codebuf(const uint8_t *bytes, unsigned n, uint32_t limit)
{
    memset(codebuf, 0xcc, 64);
    memcpy(codebuf, bytes, n);
    gdt_set(I_CODE_BUF, gdt_desc((uint32_t)(uintptr_t)codebuf, limit, 0x9b, 0x4));
    return try_call(call_codebuf, 0);
}

static void code_checks(void)
{
    uint32_t b = (uint32_t)(uintptr_t)buf;
    o.off = b;
    expect("execute_only_cs_read_gp0", try_call(xo_read_fn, &o), GP, 0);
    expect("readable_cs_read", try_call(nf_read_fn, &o), 0, 0);
    CHECK_EQ("readable_cs_read_value", o.val, rd32(buf));
    o.val = 0x12345678;
    expect("cs_write_gp0", try_call(nf_write_fn, &o), GP, 0);
    CHECK("cs_write_no_store", rd32(buf) != 0x12345678);
    o.off = 0xffffeffd;
    expect("cs_read_straddles_limit_gp0", try_call(nf_read_fn, &o), GP, 0);

    static const uint8_t nops_retf[] = {0x90, 0x90, 0x90, 0xcb};
    expect("fetch_last_byte_at_limit", run_codebuf(nops_retf, 4, 3), 0, 0);
    expect("fetch_beyond_limit_gp0", run_codebuf(nops_retf, 4, 2), GP, 0);
    CHECK_EQ("fetch_beyond_limit_eip", trap_last.rip, 3);
    static const uint8_t straddle[] = {0x90, 0xb8, 1, 0, 0, 0, 0xcb};
    expect("fetch_insn_straddles_limit_gp0", run_codebuf(straddle, 7, 4), GP, 0);
    CHECK_EQ("fetch_insn_straddles_limit_eip", trap_last.rip, 1);
    static const uint8_t jmp[] = {0x90, 0xeb, 0x20, [0x23] = 0xcb};
    expect("jmp_within_limit", run_codebuf(jmp, sizeof jmp, 0x23), 0, 0);
    expect("jmp_beyond_limit_gp0", run_codebuf(jmp, sizeof jmp, 0x22), GP, 0);
    CHECK("jmp_beyond_limit_eip_branch_or_target", trap_last.rip == 1 || trap_last.rip == 0x23);
    /* Code run under a large limit, then again under a small one: the limit is checked anew. */
    static const uint8_t six[] = {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xcb};
    expect("cached_code_large_limit", run_codebuf(six, 7, 0xfff), 0, 0);
    gdt_set(I_CODE_BUF, gdt_desc((uint32_t)(uintptr_t)codebuf, 3, 0x9b, 0x4));
    expect("cached_code_small_limit_gp0", try_call(call_codebuf, 0), GP, 0);
    CHECK_EQ("cached_code_small_limit_eip", trap_last.rip, 4);
}

/* ---- segment-register loads ---- */

#define LOAD_FN(name, reg, back)                                                                \
    static void name(void *p)                                                                   \
    {                                                                                           \
        __asm__ volatile("mov %w0, %%" #reg "\n\tmov %w1, %%" #reg                              \
                         :                                                                      \
                         : "r"((uint32_t)((struct op *)p)->sel), "r"((uint32_t)(back))          \
                         : "memory");                                                           \
    }

LOAD_FN(load_ds, ds, SEL_DATA32)
LOAD_FN(load_es, es, SEL_DATA32)
LOAD_FN(load_fs, fs, SEL_DATA32)
LOAD_FN(load_gs, gs, SEL_DATA32)
LOAD_FN(load_ss, ss, SEL_DATA32)
LOAD_FN(user_load_ds, ds, SEL_UDATA32)
LOAD_FN(user_load_ss, ss, SEL_UDATA32)

static long load(void (*fn)(void *), uint16_t sel)
{
    o.sel = sel;
    return try_call(fn, &o);
}

static long user_load(void (*fn)(void *), uint16_t sel)
{
    o.sel = sel;
    return try_call_user(fn, &o);
}

/* Install access byte acc (P DPL S type, accessed bit clear) at I_T and at ldt[1]. */
static void tdesc(uint8_t acc)
{
    gdt_set(I_T, gdt_desc(0, 0xfffff, acc, 0xc));
    ldt[1] = gdt_desc(0, 0xfffff, acc, 0xc);
}

static void lldt(uint16_t sel)
{
    __asm__ volatile("lldt %w0" ::"r"((uint32_t)sel) : "memory");
}

static void pop_ds_fn(void *p)
{
    __asm__ volatile("push %0\n\tpop %%ds\n\tmov %w1, %%ds"
                     :
                     : "r"((uint32_t)((struct op *)p)->sel), "r"((uint32_t)SEL_DATA32)
                     : "memory");
}

static struct __attribute__((packed)) {
    uint32_t off;
    uint16_t sel;
} fptr;
static uint32_t lds_result;

static void lds_fn(void *p)
{
    (void)p;
    uint32_t v = 7;
    __asm__ volatile("lds %1, %0\n\tmov %w2, %%ds" : "+r"(v) : "m"(fptr), "r"((uint32_t)SEL_DATA32)
                     : "memory");
    lds_result = v;
}

static uint16_t ss_seen;
static void lss_fn(void *p)
{
    (void)p;
    uint32_t s;
    __asm__ volatile("movl %%esp, fptr\n\tlss fptr, %%esp\n\tmov %%ss, %0\n\tmov %w1, %%ss"
                     : "=&r"(s)
                     : "r"((uint32_t)SEL_DATA32)
                     : "memory");
    ss_seen = (uint16_t)s;
}

static void load_checks(void)
{
    /* Null selectors. */
    expect("load_null_ds", load(load_ds, 0), 0, 0);
    expect("load_null_gs_rpl3", load(load_gs, 3), 0, 0);
    expect("load_null_ss_gp0", load(load_ss, 0), GP, 0);
    expect("load_null_ss_rpl3_gp0", load(load_ss, 3), GP, 0);
    /* Table limits (the GDT holds 48 entries) and the LDT. */
    expect("load_beyond_gdt_limit_gp", load(load_ds, GDT_ENTRIES * 8), GP, GDT_ENTRIES * 8);
    expect("load_beyond_gdt_limit_rpl_gp", load(load_es, GDT_ENTRIES * 8 + 3), GP,
           GDT_ENTRIES * 8);
    tdesc(0x92);
    lldt(0);
    expect("load_ldt_sel_null_ldtr_gp", load(load_ds, 0x0c), GP, 0x0c);
    gdt_set(I_LDT, gdt_desc((uint32_t)(uintptr_t)ldt, sizeof ldt - 1, 0x82, 0));
    lldt(SEL_LDT);
    expect("load_ldt_sel", load(load_fs, 0x0c), 0, 0);
    CHECK("load_ldt_sel_sets_accessed", (ldt[1] >> 40) & 1);
    expect("load_beyond_ldt_limit_gp", load(load_ds, 0x14), GP, 0x14);
    lldt(0);
    /* Types. */
    tdesc(0x89);
    expect("load_system_descriptor_gp", load(load_ds, SEL_T), GP, SEL_T);
    tdesc(0x98);
    expect("load_execute_only_code_gp", load(load_ds, SEL_T), GP, SEL_T);
    tdesc(0x9a);
    expect("load_readable_code_ds", load(load_ds, SEL_T), 0, 0);
    tdesc(0x90);
    expect("load_readonly_data_es", load(load_es, SEL_T), 0, 0);
    CHECK("load_sets_accessed_bit", (guest_gdt[I_T] >> 40) & 1);
    expect("load_readonly_ss_gp", load(load_ss, SEL_T), GP, SEL_T);
    tdesc(0x9a);
    expect("load_code_ss_gp", load(load_ss, SEL_T), GP, SEL_T);
    tdesc(0x92);
    expect("load_writable_ss", load(load_ss, SEL_T), 0, 0);
    tdesc(0x96);
    expect("load_expand_down_ss", load(load_ss, SEL_T), 0, 0);
    /* Presence. */
    tdesc(0x12);
    expect("load_not_present_ds_np", load(load_ds, SEL_T), NP, SEL_T);
    expect("load_not_present_gs_np", load(load_gs, SEL_T), NP, SEL_T);
    expect("load_not_present_ss_ss", load(load_ss, SEL_T), SS, SEL_T);
    tdesc(0x18);
    expect("load_not_present_execute_only_gp", load(load_ds, SEL_T), GP, SEL_T);
    /* Privilege. */
    tdesc(0x92);
    expect("load_rpl_above_dpl_gp", load(load_ds, SEL_T | 3), GP, SEL_T);
    expect("load_ss_rpl_ne_cpl_gp", load(load_ss, SEL_T | 3), GP, SEL_T);
    tdesc(0xf2);
    expect("load_ss_dpl_ne_cpl_gp", load(load_ss, SEL_T), GP, SEL_T);
    expect("load_dpl3_data_at_cpl0", load(load_ds, SEL_T), 0, 0);
    expect("user_load_dpl3_data", user_load(user_load_ds, SEL_T | 3), 0, 0);
    expect("user_load_dpl3_ss", user_load(user_load_ss, SEL_T | 3), 0, 0);
    tdesc(0x92);
    expect("user_load_dpl0_data_gp", user_load(user_load_ds, SEL_T | 3), GP, SEL_T);
    expect("user_load_dpl0_ss_gp", user_load(user_load_ss, SEL_T | 3), GP, SEL_T);
    expect("user_load_null_ss_gp0", user_load(user_load_ss, 3), GP, 0);
    tdesc(0x9a);
    expect("user_load_nonconforming_code_gp", user_load(user_load_ds, SEL_T | 3), GP, SEL_T);
    tdesc(0x9e);
    expect("user_load_conforming_code", user_load(user_load_ds, SEL_T | 3), 0, 0);
    /* POP DS, LDS, LSS. */
    tdesc(0x92);
    expect("pop_ds_rpl_above_dpl_gp", load(pop_ds_fn, SEL_T | 3), GP, SEL_T);
    tdesc(0x12);
    fptr.off = 0x1234;
    fptr.sel = SEL_T;
    lds_result = 0;
    expect("lds_not_present_np", try_call(lds_fn, 0), NP, SEL_T);
    CHECK_EQ("lds_not_present_leaves_dest", lds_result, 0);
    tdesc(0x92);
    fptr.sel = SEL_T;
    expect("lss_loads_ss", try_call(lss_fn, 0), 0, 0);
    CHECK_EQ("lss_loaded_selector", ss_seen, SEL_T);
}

int main(uint32_t mb)
{
    (void)mb;
    gdt_set(I_CODE_XO, gdt_desc(0, 0xfffff, 0x99, 0xc));
    gdt_set(I_CODE_NF, gdt_desc(0, 0xffffe, 0x9b, 0xc));
    data_checks();
    stack_checks();
    string_checks();
    code_checks();
    load_checks();
    test_finish();
}
