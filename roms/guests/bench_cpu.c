/* Integer CPU benchmark guest (bench/cpu.sh): ALU mix, data-dependent branches, calls, arrays,
 * rep movsb/stosb, a sort, CRC-32, FNV hash and a sieve, iterated ITERS times (about 1.55e9 guest
 * instructions by default; "iters=N" on the Multiboot command line changes it). Prints a checksum
 * and leaves through ACPI S5, or isa-debug-exit where S5 is not the hvemu one (QEMU).
 * Built with -DBENCH_HOST it is a host program printing the same lines, so the checksum the guest
 * prints can be compared with the one the host's CPU computes. */
#ifdef BENCH_HOST
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#else
#include "guest.h"
#endif

#define NOINLINE __attribute__((noinline))
/* About 838,000 guest instructions per iteration (GCC 12 -O2): 1850 make the 1.55e9 default. */
#define DEFAULT_ITERS 1850u

#define BUF_SIZE   4096u
#define SORT_N     512u
#define SIEVE_N    16384u
#define MAT_N      16u

struct bench_state {
    uint8_t buf_a[BUF_SIZE], buf_b[BUF_SIZE];
    uint32_t sort_arr[SORT_N];
    uint8_t sieve[SIEVE_N];
    uint32_t crc_table[256];
    int32_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];
};
static struct bench_state st;

static inline void rep_movsb(void *d, const void *s, size_t n)
{
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static inline void rep_stosb(void *d, uint8_t v, size_t n)
{
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}

static inline uint64_t rotl64(uint64_t x, unsigned r) { return (x << (r & 63)) | (x >> ((64 - r) & 63)); }

static inline uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* Straight-line ALU work: multiply, rotate, shifts, logic, and an occasional 64-bit divide. */
static NOINLINE uint64_t alu_mix(uint64_t s, unsigned rounds)
{
    uint64_t a = s | 1, b = s ^ 0x9E3779B97F4A7C15ull, c = ~s;
    for (unsigned i = 0; i < rounds; i++) {
        a = a * 0x5851F42D4C957F2Dull + b;
        b ^= rotl64(a, i & 63);
        c += (a >> 17) ^ (b << 5);
        c -= (uint32_t)a & 0xFFFF;
        b = (b | c) - (a & c);
        if ((i & 15) == 15)
            c += b / ((a & 0xFFFF) | 1);
    }
    return a ^ b ^ c;
}

/* Branches the predictor cannot learn: each byte of pseudo-random data picks the path. */
static NOINLINE uint64_t branchy(const uint8_t *p, size_t n)
{
    uint64_t x = 0, y = 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t v = p[i];
        if (v < 64)
            x += v;
        else if (v < 128)
            x ^= (uint64_t)v << (v & 31);
        else if (v & 1)
            y = y * 3 + v;
        else
            y -= x >> 3;
        if ((v ^ (uint8_t)x) & 0x10)
            x = rotl64(x, 3);
    }
    return x + y;
}

static NOINLINE uint32_t fib_rec(uint32_t n) { return n < 2 ? n : fib_rec(n - 1) + fib_rec(n - 2); }

/* Indirect calls through a table. */
static NOINLINE uint64_t op_add(uint64_t a, uint64_t b) { return a + b; }
static NOINLINE uint64_t op_xor(uint64_t a, uint64_t b) { return a ^ (b << 1); }
static NOINLINE uint64_t op_mul(uint64_t a, uint64_t b) { return a * (b | 1); }
static NOINLINE uint64_t op_sub(uint64_t a, uint64_t b) { return a - rotl64(b, 13); }
typedef uint64_t (*op_fn)(uint64_t, uint64_t);
static op_fn const ops[4] = {op_add, op_xor, op_mul, op_sub};

static NOINLINE uint64_t indirect_calls(const uint8_t *p, size_t n, uint64_t acc)
{
    for (size_t i = 0; i < n; i++)
        acc = ops[p[i] & 3](acc, p[i]);
    return acc;
}

static NOINLINE uint64_t matmul(uint64_t s)
{
    for (unsigned i = 0; i < MAT_N; i++)
        for (unsigned j = 0; j < MAT_N; j++) {
            st.mat_a[i][j] = (int32_t)(xorshift64(&s) & 0xFFF) - 0x800;
            st.mat_b[i][j] = (int32_t)(xorshift64(&s) & 0xFFF) - 0x800;
        }
    uint64_t sum = 0;
    for (unsigned i = 0; i < MAT_N; i++)
        for (unsigned j = 0; j < MAT_N; j++) {
            int32_t acc = 0;
            for (unsigned k = 0; k < MAT_N; k++)
                acc += st.mat_a[i][k] * st.mat_b[k][j];
            st.mat_c[i][j] = acc;
            sum = sum * 31 + (uint32_t)acc;
        }
    return sum;
}

/* Copies and fills of varying offsets and lengths (rep movsb / rep stosb), checked with a hash. */
static NOINLINE uint64_t string_ops(uint64_t s)
{
    uint64_t h = 0;
    for (unsigned r = 0; r < 8; r++) {
        size_t off_a = xorshift64(&s) & 1023, off_b = xorshift64(&s) & 1023;
        size_t len = 1024 + (xorshift64(&s) & 2047);
        rep_movsb(st.buf_b + off_b, st.buf_a + off_a, len);
        rep_stosb(st.buf_a + (xorshift64(&s) & 3071), (uint8_t)s, 1 + (s >> 20 & 1023));
        h = h * 0x100000001B3ull ^ st.buf_b[(off_b + len / 2) & (BUF_SIZE - 1)];
    }
    return h;
}

static NOINLINE void quicksort(uint32_t *a, int lo, int hi)
{
    while (lo < hi) {
        uint32_t pivot = a[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint32_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        /* Recurse into the smaller side, loop on the larger: the stack stays O(log n). */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

static NOINLINE uint64_t sort_bench(uint64_t s)
{
    for (unsigned i = 0; i < SORT_N; i++)
        st.sort_arr[i] = (uint32_t)xorshift64(&s);
    quicksort(st.sort_arr, 0, SORT_N - 1);
    uint64_t h = 0, unsorted = 0;
    for (unsigned i = 0; i < SORT_N; i++) {
        if (i && st.sort_arr[i - 1] > st.sort_arr[i])
            unsorted++;
        h = h * 33 + st.sort_arr[i];
    }
    return h + (unsorted << 60);
}

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        st.crc_table[i] = c;
    }
}

static NOINLINE uint32_t crc32_table(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = st.crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return ~c;
}

/* The bit-at-a-time form: shifts and a data-dependent mask, no table. */
static NOINLINE uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static NOINLINE uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

static NOINLINE uint32_t sieve_count(uint32_t n)
{
    rep_stosb(st.sieve, 1, n);
    st.sieve[0] = st.sieve[1] = 0;
    for (uint32_t i = 2; i * i < n; i++)
        if (st.sieve[i])
            for (uint32_t j = i * i; j < n; j += i)
                st.sieve[j] = 0;
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++)
        count += st.sieve[i];
    return count;
}

static uint64_t mix(uint64_t sum, uint64_t v) { return rotl64(sum, 7) ^ (v * 0x9E3779B97F4A7C15ull); }

static uint64_t run_iteration(uint32_t it, uint64_t sum)
{
    uint64_t s = 0x2545F4914F6CDD1Dull ^ ((uint64_t)it * 0x9E3779B97F4A7C15ull) ^ sum;
    if (!s)
        s = 1;
    for (unsigned i = 0; i < BUF_SIZE; i += 8) {
        uint64_t v = xorshift64(&s);
        for (unsigned k = 0; k < 8; k++)
            st.buf_a[i + k] = (uint8_t)(v >> (8 * k));
    }
    sum = mix(sum, alu_mix(s, 6000));
    sum = mix(sum, branchy(st.buf_a, BUF_SIZE));
    sum = mix(sum, fib_rec(18 + (it & 1)));
    sum = mix(sum, indirect_calls(st.buf_a, BUF_SIZE, sum));
    sum = mix(sum, matmul(s));
    sum = mix(sum, string_ops(s));
    sum = mix(sum, sort_bench(s));
    sum = mix(sum, crc32_table(st.buf_b, BUF_SIZE));
    sum = mix(sum, crc32_bitwise(st.buf_a, 512));
    sum = mix(sum, fnv1a(st.buf_b, BUF_SIZE));
    sum = mix(sum, sieve_count(SIEVE_N - (it & 255)));
    return sum;
}

static uint64_t run(uint32_t iters)
{
    crc32_init();
    uint64_t sum = 0;
    for (uint32_t it = 0; it < iters; it++)
        sum = run_iteration(it, sum);
    return sum;
}

/* "iters=N" anywhere on the command line; anything unparsable keeps the default. */
static uint32_t parse_iters(const char *cmdline)
{
    static const char key[] = "iters=";
    for (const char *p = cmdline; p && *p; p++) {
        if ((p == cmdline || p[-1] == ' ') && !memcmp(p, key, sizeof(key) - 1)) {
            const char *d = p + sizeof(key) - 1;
            uint64_t v = 0;
            if (*d < '0' || *d > '9')
                return DEFAULT_ITERS;
            while (*d >= '0' && *d <= '9' && v <= 0xFFFFFFFFu)
                v = v * 10 + (uint64_t)(*d++ - '0');
            return v > 0xFFFFFFFFu ? DEFAULT_ITERS : (uint32_t)v;
        }
    }
    return DEFAULT_ITERS;
}

#ifdef BENCH_HOST
int main(int argc, char **argv)
{
    uint32_t iters = argc > 1 ? parse_iters(argv[1]) : DEFAULT_ITERS;
    printf("bench_cpu: iters=%" PRIu32 "\n", iters);
    printf("bench_cpu: checksum %016" PRIx64 "\n", run(iters));
    return 0;
}
#else
/* hvemu powers off on ACPI S5 (SLP_TYP 5); QEMU's DSDT names another SLP_TYP for S5, so the
 * write does nothing there and the debug-exit port ends the run instead. */
static __attribute__((noreturn)) void bench_exit(void)
{
    outw(PORT_PM1A_CNT, (uint16_t)(PM1_SLP_TYP_S5 | PM1_SLP_EN));
    debug_exit(0);
}

int main(uint32_t mb_info)
{
    const char *cmdline = NULL;
    if (guest_mb_magic == 0x2BADB002) {
        const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)mb_info;
        if (mbi->flags & (1u << 2))
            cmdline = (const char *)(uintptr_t)mbi->cmdline;
    }
    uint32_t iters = parse_iters(cmdline);
    printf("bench_cpu: iters=%u\n", iters);
    printf("bench_cpu: checksum %016llx\n", (unsigned long long)run(iters));
    bench_exit();
}
#endif
