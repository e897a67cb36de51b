/* Native executor: a hand-assembled trampoline runs one instruction on the host with a chosen
 * register/flag state; a fault ends the run through a resume stub and reports its vector. */
#define _GNU_SOURCE
#include "native_exec.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#define NATIVE_OK 1
#include <cpuid.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#else
#define NATIVE_OK 0
#endif

static const char *const feature_names[NF_COUNT] = {
    "none", "popcnt", "lzcnt", "bmi1", "bmi2", "adx", "movbe", "sse4.2", "lahf64", "ssse3",
    "sse4.1",
};

const char *native_feature_name(enum native_feature f)
{
    return (unsigned)f < NF_COUNT ? feature_names[f] : "?";
}

#if NATIVE_OK

#define PAGE 4096u
#define CODE_PAGES 2             /* the instruction may straddle their boundary */
#define STATE_OFF (CODE_PAGES * PAGE) /* struct native_regs in the last (RW) page */
#define NPAGES (CODE_PAGES + 1)
#define HOST_RSP_OFF (PAGE + 0x400)
#define XMM_OFF (STATE_OFF + 8 + 16 * 8) /* native_regs.xmm */
#define INSN_MAX 48
#define RESUME_OFF 0x800 /* fault exit: the handler sends RIP here */
#define COMPAT_PRO_OFF 0x200 /* after the 64-bit path (prologue, instruction, epilogue) */
#define COMPAT_INSN_OFF 0x400
#define COMPAT_EPI_OFF 0x500
#define FAR32_OFF (STATE_OFF + 0x800) /* m16:32 far pointer to the compat-mode instruction */
#define LINUX_CS32 0x23      /* Linux's __USER32_CS; __USER_CS is 0x33 */
#define LINUX_CS64 0x33

struct native_exec {
    uint8_t *pages;   /* page 0: trampoline code, page 1: state */
    uint8_t *data;
    size_t data_size;
    size_t prologue_len;
    bool rwx;         /* page 0 is RWX; otherwise toggled with mprotect per run */
    bool low;         /* pages below 4 GiB: compatibility-mode runs possible */
    struct sigaction old[5];
};

static const int fault_sigs[5] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP};

/* The signal handler must find the running trampoline: a signal carries no user pointer, so
 * these thread-local slots are unavoidable (test code only). */
static _Thread_local uint8_t *volatile fault_code;
static _Thread_local volatile int fault_vector;
static _Thread_local volatile uint64_t fault_addr;

bool native_exec_supported(void) { return true; }

bool native_has_feature(enum native_feature f)
{
    unsigned a, b, c, d;
    switch (f) {
    case NF_NONE: return true;
    case NF_POPCNT: return __get_cpuid(1, &a, &b, &c, &d) && (c >> 23 & 1);
    case NF_MOVBE: return __get_cpuid(1, &a, &b, &c, &d) && (c >> 22 & 1);
    case NF_SSE42: return __get_cpuid(1, &a, &b, &c, &d) && (c >> 20 & 1);
    case NF_SSSE3: return __get_cpuid(1, &a, &b, &c, &d) && (c >> 9 & 1);
    case NF_SSE41: return __get_cpuid(1, &a, &b, &c, &d) && (c >> 19 & 1);
    case NF_LZCNT: return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c >> 5 & 1);
    case NF_LAHF64: return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & 1);
    case NF_BMI1: return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 3 & 1);
    case NF_BMI2: return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 8 & 1);
    case NF_ADX: return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 19 & 1);
    default: return false;
    }
}

static size_t put(uint8_t *p, size_t at, const uint8_t *b, size_t n)
{
    memcpy(p + at, b, n);
    return at + n;
}

/* op (3 bytes: REX.W, opcode, modrm with rip-relative r/m) followed by disp32 to target. */
static size_t put_riprel(uint8_t *code, size_t at, uint8_t rex, uint8_t op, uint8_t modrm,
                         size_t target)
{
    uint8_t b[7];
    size_t n = 0;
    if (rex)
        b[n++] = rex;
    b[n++] = op;
    b[n++] = modrm;
    int32_t disp = (int32_t)((long)target - (long)(at + n + 4));
    memcpy(b + n, &disp, 4);
    return put(code, at, b, n + 4);
}

/* movdqu xmmK, [rip+x] (load) or movdqu [rip+x], xmmK (store) for K = 0..15 at XMM_OFF. */
static size_t put_xmm_all(uint8_t *code, size_t at, bool store)
{
    for (unsigned k = 0; k < 16; k++) {
        uint8_t b[9];
        size_t n = 0;
        b[n++] = 0xF3;
        if (k >= 8)
            b[n++] = 0x44; /* REX.R */
        b[n++] = 0x0F;
        b[n++] = store ? 0x7F : 0x6F;
        b[n++] = (uint8_t)((k & 7) << 3 | 5);
        int32_t disp = (int32_t)((long)(XMM_OFF + 16 * k) - (long)(at + n + 4));
        memcpy(b + n, &disp, 4);
        at = put(code, at, b, n + 4);
    }
    return at;
}

static size_t emit_prologue(uint8_t *code, size_t start)
{
    static const uint8_t save[] = {0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57};
    /* popfq; pop rax..rbx; lea rsp,[rsp+8] (skip RSP slot, keeps flags); pop rbp..r15;
     * mov rsp,[rsp-0x60] (the RSP slot). */
    static const uint8_t load[] = {
        0x9D, 0x58, 0x59, 0x5A, 0x5B, 0x48, 0x8D, 0x64, 0x24, 0x08, 0x5D, 0x5E, 0x5F,
        0x41, 0x58, 0x41, 0x59, 0x41, 0x5A, 0x41, 0x5B, 0x41, 0x5C, 0x41, 0x5D, 0x41, 0x5E, 0x41, 0x5F,
        0x48, 0x8B, 0x64, 0x24, 0xA0,
    };
    size_t at = put(code, start, save, sizeof(save));
    at = put_xmm_all(code, at, false);
    at = put_riprel(code, at, 0x48, 0x89, 0x25, HOST_RSP_OFF); /* mov [rip+x], rsp */
    at = put_riprel(code, at, 0x48, 0x8D, 0x25, STATE_OFF);    /* lea rsp, [rip+x] */
    return put(code, at, load, sizeof(load));
}

static void emit_resume(uint8_t *code)
{
    /* The fault exit restores the host stack without siglongjmp, which would jump between
     * stacks behind ASan's back: cld; mov rsp,[rip+x]; pop r15..rbx; ret. */
    static const uint8_t restore[] = {0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C, 0x5D, 0x5B, 0xC3};
    code[RESUME_OFF] = 0xFC;
    size_t r = put_riprel(code, RESUME_OFF + 1, 0x48, 0x8B, 0x25, HOST_RSP_OFF);
    put(code, r, restore, sizeof(restore));
}

static size_t emit_epilogue(uint8_t *code, size_t at)
{
    /* push r15..r8, rdi, rsi, rbp; lea rsp,[rsp-8]; push rbx..rax; pushfq; cld */
    static const uint8_t store[] = {
        0x41, 0x57, 0x41, 0x56, 0x41, 0x55, 0x41, 0x54, 0x41, 0x53, 0x41, 0x52, 0x41, 0x51, 0x41, 0x50,
        0x57, 0x56, 0x55, 0x48, 0x8D, 0x64, 0x24, 0xF8, 0x53, 0x52, 0x51, 0x50, 0x9C, 0xFC,
    };
    static const uint8_t restore[] = {0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C, 0x5D, 0x5B, 0xC3};
    at = put_riprel(code, at, 0x48, 0x89, 0x25, STATE_OFF + 8 + 4 * 8); /* mov [rip+x], rsp */
    at = put_riprel(code, at, 0x48, 0x8D, 0x25, STATE_OFF + 8 + 16 * 8); /* lea rsp, [rip+x] */
    at = put(code, at, store, sizeof(store));
    at = put_xmm_all(code, at, true);
    at = put_riprel(code, at, 0x48, 0x8B, 0x25, HOST_RSP_OFF); /* mov rsp, [rip+x] */
    return put(code, at, restore, sizeof(restore));
}

/* Compatibility-mode path: the 64-bit prologue far-jumps through FAR32_OFF to the instruction
 * in a 32-bit code segment, which far-jumps back to a 64-bit epilogue. */
static void emit_compat(struct native_exec *nx)
{
    uint8_t *code = nx->pages;
    /* 64-bit Linux processes run with null DS/ES, which 32-bit code cannot use:
     * mov eax, __USER_DS; mov ds, eax; mov es, eax. */
    static const uint8_t segs[] = {0xB8, 0x2B, 0, 0, 0, 0x8E, 0xD8, 0x8E, 0xC0};
    memcpy(code + COMPAT_PRO_OFF, segs, sizeof(segs));
    size_t at = emit_prologue(code, COMPAT_PRO_OFF + sizeof(segs));
    put_riprel(code, at, 0x00, 0xFF, 0x2D, FAR32_OFF); /* jmp far [rip+x] */
    uint32_t insn = (uint32_t)(uintptr_t)(code + COMPAT_INSN_OFF);
    memcpy(code + FAR32_OFF, &insn, 4);
    uint16_t cs32 = LINUX_CS32;
    memcpy(code + FAR32_OFF + 4, &cs32, 2);
    emit_epilogue(code, COMPAT_EPI_OFF);
}

static uint8_t *map_data(uint64_t want, size_t size)
{
    if (want) {
        void *p = mmap((void *)(uintptr_t)want, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != MAP_FAILED && (uintptr_t)p == want)
            return p;
        if (p != MAP_FAILED)
            munmap(p, size);
    }
    /* Fallback: any address, aligned to 2 MiB so the guest can map it with one large page. */
    size_t big = size + (2u << 20);
    uint8_t *p = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t al = ((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
    if (al > (uintptr_t)p)
        munmap(p, al - (uintptr_t)p);
    if ((uintptr_t)p + big > al + size)
        munmap((void *)(al + size), (uintptr_t)p + big - (al + size));
    return (uint8_t *)al;
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
    ucontext_t *uc = uctx;
    uint8_t *code = fault_code;
    uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (!code || rip < (uintptr_t)code || rip >= (uintptr_t)code + CODE_PAGES * PAGE) {
        /* Not ours: let the default action report the real crash. */
        signal(sig, SIG_DFL);
        return;
    }
    int vec;
    switch (sig) {
    case SIGFPE: vec = 0; break;
    case SIGILL: vec = 6; break;
    case SIGTRAP: vec = 1; break;
    case SIGBUS: vec = 17; break;
    default: vec = 13; break;
    }
#ifdef REG_TRAPNO
    vec = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
#endif
    fault_vector = vec;
    fault_addr = (uint64_t)(uintptr_t)si->si_addr;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)(code + RESUME_OFF);
    /* A fault in compatibility mode: resume in 64-bit mode (CS is the low 16 bits). */
    uc->uc_mcontext.gregs[REG_CSGSFS] = (uc->uc_mcontext.gregs[REG_CSGSFS] & ~(greg_t)0xffff) | LINUX_CS64;
}

struct native_exec *native_exec_create(uint64_t want_data_va, size_t data_size)
{
    struct native_exec *nx = calloc(1, sizeof(*nx));
    if (!nx)
        return NULL;
    /* MAP_32BIT: 32-bit code must run below 4 GiB. */
    nx->pages = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    nx->rwx = nx->pages != MAP_FAILED;
    if (!nx->rwx)
        nx->pages = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (nx->pages == MAP_FAILED)
        nx->pages = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (nx->pages == MAP_FAILED) {
        free(nx);
        return NULL;
    }
    nx->data = map_data(want_data_va, data_size);
    if (!nx->data) {
        munmap(nx->pages, NPAGES * PAGE);
        free(nx);
        return NULL;
    }
    nx->data_size = data_size;
    nx->prologue_len = emit_prologue(nx->pages, 0);
    emit_resume(nx->pages);
    nx->low = (uintptr_t)nx->pages + NPAGES * PAGE <= 0x100000000ull &&
              (uintptr_t)nx->data + data_size <= 0x100000000ull;
    if (nx->low)
        emit_compat(nx);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (unsigned i = 0; i < 5; i++)
        sigaction(fault_sigs[i], &sa, &nx->old[i]);
    return nx;
}

void native_exec_destroy(struct native_exec *nx)
{
    if (!nx)
        return;
    for (unsigned i = 0; i < 5; i++)
        sigaction(fault_sigs[i], &nx->old[i], NULL);
    munmap(nx->pages, NPAGES * PAGE);
    munmap(nx->data, nx->data_size);
    free(nx);
}

uint8_t *native_exec_data(const struct native_exec *nx) { return nx->data; }

uint64_t native_exec_insn_va(const struct native_exec *nx)
{
    return (uint64_t)(uintptr_t)(nx->pages + nx->prologue_len);
}

bool native_exec_compat_ok(const struct native_exec *nx) { return nx->low; }

uint64_t native_exec_fault_addr(const struct native_exec *nx)
{
    (void)nx;
    return fault_addr;
}

uint64_t native_exec_insn_va32(const struct native_exec *nx)
{
    return (uint64_t)(uintptr_t)(nx->pages + COMPAT_INSN_OFF);
}

static int run(struct native_exec *nx, size_t entry_off, struct native_regs *regs);

uint64_t native_exec_insn_va_split(const struct native_exec *nx, unsigned split)
{
    return (uint64_t)(uintptr_t)(nx->pages + PAGE - split);
}

int native_exec_run_split(struct native_exec *nx, const uint8_t *insn, size_t len, unsigned split,
                          struct native_regs *regs)
{
    if (len > INSN_MAX || split == 0 || split > INSN_MAX)
        return 6;
    uint8_t *code = nx->pages;
    size_t at = PAGE - split - nx->prologue_len;
    if (!nx->rwx)
        mprotect(code, CODE_PAGES * PAGE, PROT_READ | PROT_WRITE);
    emit_prologue(code, at);
    memcpy(code + PAGE - split, insn, len);
    emit_epilogue(code, PAGE - split + len);
    if (!nx->rwx)
        mprotect(code, CODE_PAGES * PAGE, PROT_READ | PROT_EXEC);
    return run(nx, at, regs);
}

int native_exec_run(struct native_exec *nx, const uint8_t *insn, size_t len, struct native_regs *regs)
{
    if (len > INSN_MAX)
        return 6;
    uint8_t *code = nx->pages;
    if (!nx->rwx)
        mprotect(code, CODE_PAGES * PAGE, PROT_READ | PROT_WRITE);
    memcpy(code + nx->prologue_len, insn, len);
    emit_epilogue(code, nx->prologue_len + len);
    if (!nx->rwx)
        mprotect(code, CODE_PAGES * PAGE, PROT_READ | PROT_EXEC);
    return run(nx, 0, regs);
}

int native_exec_run32(struct native_exec *nx, const uint8_t *insn, size_t len, struct native_regs *regs)
{
    if (len > INSN_MAX || !nx->low)
        return 6;
    uint8_t *code = nx->pages;
    if (!nx->rwx)
        mprotect(code, CODE_PAGES * PAGE, PROT_READ | PROT_WRITE);
    memcpy(code + COMPAT_INSN_OFF, insn, len);
    /* jmp far 0x33:epilogue (EA ptr16:32, valid outside 64-bit mode) */
    uint8_t *j = code + COMPAT_INSN_OFF + len;
    uint32_t epi = (uint32_t)(uintptr_t)(code + COMPAT_EPI_OFF);
    j[0] = 0xEA;
    memcpy(j + 1, &epi, 4);
    j[5] = LINUX_CS64;
    j[6] = 0;
    if (!nx->rwx)
        mprotect(code, CODE_PAGES * PAGE, PROT_READ | PROT_EXEC);
    return run(nx, COMPAT_PRO_OFF, regs);
}

static int run(struct native_exec *nx, size_t entry_off, struct native_regs *regs)
{
    uint8_t *code = nx->pages;
    memcpy(nx->pages + STATE_OFF, regs, sizeof(*regs));

    fault_vector = -1;
    fault_code = code;
    void (*fn)(void);
    void *entry = code + entry_off;
    memcpy(&fn, &entry, sizeof(fn));
    fn();
    fault_code = NULL;
    int vec = fault_vector;
    if (vec < 0)
        memcpy(regs, nx->pages + STATE_OFF, sizeof(*regs));
    return vec;
}

#else /* !NATIVE_OK */

bool native_exec_supported(void) { return false; }
bool native_has_feature(enum native_feature f) { (void)f; return false; }
struct native_exec *native_exec_create(uint64_t want_data_va, size_t data_size)
{
    (void)want_data_va;
    (void)data_size;
    return NULL;
}
void native_exec_destroy(struct native_exec *nx) { (void)nx; }
uint8_t *native_exec_data(const struct native_exec *nx) { (void)nx; return NULL; }
uint64_t native_exec_insn_va(const struct native_exec *nx) { (void)nx; return 0; }
bool native_exec_compat_ok(const struct native_exec *nx) { (void)nx; return false; }
uint64_t native_exec_fault_addr(const struct native_exec *nx) { (void)nx; return 0; }
uint64_t native_exec_insn_va_split(const struct native_exec *nx, unsigned split)
{
    (void)nx;
    (void)split;
    return 0;
}
int native_exec_run_split(struct native_exec *nx, const uint8_t *insn, size_t len, unsigned split,
                          struct native_regs *regs)
{
    (void)split;
    return native_exec_run(nx, insn, len, regs);
}
uint64_t native_exec_insn_va32(const struct native_exec *nx) { (void)nx; return 0; }
int native_exec_run32(struct native_exec *nx, const uint8_t *insn, size_t len, struct native_regs *regs)
{
    return native_exec_run(nx, insn, len, regs);
}
int native_exec_run(struct native_exec *nx, const uint8_t *insn, size_t len, struct native_regs *regs)
{
    (void)nx;
    (void)insn;
    (void)len;
    (void)regs;
    return 6;
}

#endif
