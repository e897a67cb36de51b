/* MIPS of the interpreter on a 64-bit loop of ALU, branch, load and store instructions with
 * paging on (identity map, 2 MiB pages). Usage: bench_cpu_loop [million-instructions]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu.h"
#include "mmu/physmem.h"

static double now_s(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    uint64_t millions = argc > 1 ? strtoull(argv[1], NULL, 0) : 500;
    struct physmem pm;
    if (physmem_init(&pm, 64u << 20)) {
        fprintf(stderr, "bench_cpu_loop: cannot allocate guest RAM\n");
        return 1;
    }
    struct cpu_env env = {0};
    struct vcpu *vp = cpu_create(&pm, &env, 0);
    if (!vp) {
        fprintf(stderr, "bench_cpu_loop: cannot create a VP\n");
        return 1;
    }
    physmem_write_u(&pm, 0x1000, 0x2003, 8);
    physmem_write_u(&pm, 0x2000, 0x3003, 8);
    for (uint64_t k = 0; k < 512; k++)
        physmem_write_u(&pm, 0x3000 + 8 * k, (k << 21) | 0x83, 8);
    /* loop: mov rax,[rsi+rbx*8]; add rax,rbx; mov [rdi+rbx*8],rax; xor rdx,rax; inc rbx;
     *       and rbx,1023; cmp rax,rdx; jne skip; nop; skip: dec rcx; jnz loop; jmp loop0 */
    static const uint8_t code[] = {
        0x48, 0xc7, 0xc1, 0x00, 0x00, 0x00, 0x40,       /* 0: mov rcx, 0x40000000 */
        0x48, 0x8b, 0x04, 0xde,                         /* 7: mov rax, [rsi+rbx*8] */
        0x48, 0x01, 0xd8,                               /* add rax, rbx */
        0x48, 0x89, 0x04, 0xdf,                         /* mov [rdi+rbx*8], rax */
        0x48, 0x31, 0xc2,                               /* xor rdx, rax */
        0x48, 0xff, 0xc3,                               /* inc rbx */
        0x48, 0x81, 0xe3, 0xff, 0x03, 0x00, 0x00,       /* and rbx, 1023 */
        0x48, 0x39, 0xd0,                               /* cmp rax, rdx */
        0x75, 0x01,                                     /* jne +1 */
        0x90,                                           /* nop */
        0x48, 0xff, 0xc9,                               /* dec rcx */
        0x75, 0xdc,                                     /* jnz 7 */
        0xeb, 0xcd,                                     /* jmp 0 */
    };
    physmem_load(&pm, 0x100000, code, sizeof(code));
    cpu_set_cr(vp, 4, 1u << 5);
    cpu_set_cr(vp, 3, 0x1000);
    cpu_set_efer(vp, (1u << 8) | (1u << 10));
    cpu_set_cr(vp, 0, 0x80000011u);
    struct seg cs = {8, 0, 0xffffffff, 0xa09b}, ds = {16, 0, 0xffffffff, 0xc093};
    cpu_set_seg(vp, SEG_CS, &cs);
    for (unsigned s = SEG_ES; s <= SEG_GS; s++)
        if (s != SEG_CS)
            cpu_set_seg(vp, s, &ds);
    cpu_set_rip(vp, 0x100000);
    cpu_set_gpr(vp, REG_RSI, 0x200000);
    cpu_set_gpr(vp, REG_RDI, 0x300000);
    cpu_set_gpr(vp, REG_RSP, 0x80000);
    double t0 = now_s();
    uint64_t total = millions * 1000000ull, done = 0;
    while (done < total) {
        enum cpu_stop st = cpu_run(vp, 10000000);
        if (st != CPU_STOP_BUDGET) {
            fprintf(stderr, "bench_cpu_loop: unexpected stop %d at rip %#llx\n", st,
                    (unsigned long long)cpu_get_rip(vp));
            return 1;
        }
        done = cpu_icount(vp);
    }
    double dt = now_s() - t0;
    struct cpu_stats s;
    cpu_get_stats(vp, &s);
    printf("cpu_loop: %llu instructions in %.3f s = %.1f MIPS (blocks built %llu, tlb misses %llu)\n",
           (unsigned long long)done, dt, (double)done / dt / 1e6, (unsigned long long)s.blocks_built,
           (unsigned long long)s.tlb_misses);
    cpu_destroy(vp);
    physmem_destroy(&pm);
    return 0;
}
