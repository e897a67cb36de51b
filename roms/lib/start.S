/* Guest entry: Multiboot v1 header and 32-bit entry, or the Linux 64-bit boot protocol entry
 * (when packed as a bzImage); either way our own GDT and page tables identity-mapping the first
 * 4 GiB by 2 MiB pages, 64-bit IDT stubs for all 256 vectors, call main(), power off. */
    .file "start.S"
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-align modules, bit 1: provide memory info */

#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    movl %eax, %ebp /* Multiboot magic */
    movl %ebx, %esi /* Multiboot info */
    movl %cr0, %ecx
    movl %ecx, guest_entry_cr0 /* in .data: survives the .bss clear */

    /* The loader zeroes .bss, but a guest must not trust that. */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $boot_stack_top, %esp
    movl %ebp, guest_mb_magic
    movl %esi, guest_mb_info

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages covering 0-4 GiB. */
    /* U=1 everywhere so that try_call_user's ring-3 code can run (no SMEP/SMAP here). */
    movl $guest_pdpt, %eax
    orl $7, %eax
    movl %eax, guest_pml4
    movl $guest_pd, %eax
    orl $7, %eax
    xorl %ecx, %ecx
1:  movl %eax, guest_pdpt(,%ecx,8)
    addl $4096, %eax
    incl %ecx
    cmpl $4, %ecx
    jne 1b
    xorl %ecx, %ecx
    movl $0x87, %eax /* P, RW, U, PS */
2:  movl %eax, guest_pd(,%ecx,8)
    addl $0x200000, %eax
    incl %ecx
    cmpl $2048, %ecx
    jne 2b

    lgdt gdt_ptr

    movl %cr4, %eax
    orl $(1 << 5), %eax /* PAE */
    movl %eax, %cr4
    movl $guest_pml4, %eax
    movl %eax, %cr3

    /* NXE only where CPUID.80000001H:EDX.NX says it exists (SDM Vol 3 4.1.4). */
    movl $EFER_LME, %edi
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb 3f
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 20), %edx
    jz 3f
    orl $EFER_NXE, %edi
3:  movl $MSR_EFER, %ecx
    rdmsr
    orl %edi, %eax
    wrmsr

    movl %cr0, %eax
    orl $0x80010001, %eax /* PG, WP, PE */
    andl $0x9FFFFFFF, %eax /* caches on: clear CD, NW */
    movl %eax, %cr0
    ljmp $0x08, $long_entry

/* Linux 64-bit boot protocol entry (Documentation/arch/x86/boot.rst): long mode, the loader's
 * identity map, CS/DS = __BOOT_CS/__BOOT_DS, RSI = struct boot_params. */
    .section .text.linux64, "ax"
    .code64
    .globl linux64_entry
linux64_entry:
    cli
    cld
    movw %cs, guest_entry_cs(%rip) /* .data: survive the .bss clear */
    movw %ds, guest_entry_ds(%rip)
    movq %cr0, %rax
    movl %eax, guest_entry_cr0(%rip)
    movq %rsi, %r12
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl %r12d, guest_boot_params(%rip)
    movq $boot_stack_top, %rsp

    movl $guest_pdpt, %eax
    orl $7, %eax
    movl %eax, guest_pml4(%rip)
    movl $guest_pd, %eax
    orl $7, %eax
    xorl %ecx, %ecx
1:  movl %eax, guest_pdpt(,%rcx,8)
    addl $4096, %eax
    incl %ecx
    cmpl $4, %ecx
    jne 1b
    xorl %ecx, %ecx
    movq $0x87, %rax
2:  movq %rax, guest_pd(,%rcx,8)
    addq $0x200000, %rax
    incl %ecx
    cmpl $2048, %ecx
    jne 2b
    movl $guest_pml4, %eax
    movq %rax, %cr3
    lgdt gdt_ptr64(%rip)

    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb 3f
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 20), %edx
    jz 3f
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_NXE, %eax
    wrmsr
3:  pushq $0x08
    leaq long_entry(%rip), %rax
    pushq %rax
    lretq

    .section .text.boot, "ax"
long_entry:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    call runtime_init
    movl guest_mb_info(%rip), %edi
    call main
    movl %eax, %edi
    call guest_exit
4:  cli
    hlt
    jmp 4b

/* 256 entry stubs, 16 bytes apart, so that the IDT entry for vector v is isr_stubs + 16*v.
 * Vectors that push no error code push a zero, so the frame is always the same shape. */
    .text
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    call trap_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq

/* long try_call(void (*fn)(void *), void *arg): returns 0, or TRAP_CAUGHT|vector when fn raised an
 * exception that no handler claimed; trap_dispatch then resumes at try_resume on this frame. */
    .globl try_call
try_call:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq try_saved_rsp(%rip), %rax
    pushq %rax /* nested try_call keeps the outer frame */
    movq %rsp, try_saved_rsp(%rip)
    movq %rdi, %rax
    movq %rsi, %rdi
    call *%rax
    xorl %eax, %eax
    .globl try_resume
try_resume:
    movl $0x10, %ecx /* ring 3 may have left DS/ES null */
    movl %ecx, %ds
    movl %ecx, %es
    popq %rcx
    movq %rcx, try_saved_rsp(%rip)
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

/* long try_call_user(void (*fn)(void *), void *arg): as try_call, but fn runs at CPL 3 on its
 * own stack and comes back through the DPL-3 gate TRAP_USER_RETURN. */
    .globl try_call_user
try_call_user:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq try_saved_rsp(%rip), %rax
    pushq %rax
    movq %rsp, try_saved_rsp(%rip)
    movq %rdi, %rax
    movq %rsi, %rdi
    pushq $0x23 /* SS: user data */
    pushq $user_stack_top
    pushq $0x2 /* RFLAGS: IF=0, IOPL=0 */
    pushq $0x2B /* CS: 64-bit user code */
    pushq $user_entry
    iretq
user_entry:
    call *%rax
    int $0x81 /* TRAP_USER_RETURN */
    ud2

    .data
    .balign 16
    .globl guest_gdt
guest_gdt:
gdt:
    .quad 0
    .quad 0x00AF9B000000FFFF /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00CF93000000FFFF /* 0x10: data, DPL 0 */
    .quad 0x00CF9B000000FFFF /* 0x18: 32-bit code, DPL 0 */
    .quad 0x00CFF3000000FFFF /* 0x23: data, DPL 3 */
    .quad 0x00AFFB000000FFFF /* 0x2B: 64-bit code, DPL 3 */
    .quad 0, 0 /* 0x30: 64-bit TSS, filled by runtime_init */
gdt_end:
    .balign 4
    .word 0
gdt_ptr:
    .word gdt_end - gdt - 1
    .long gdt
    .balign 8
    .word 0, 0, 0
gdt_ptr64:
    .word gdt_end - gdt - 1
    .quad gdt

    .data
    .balign 8
    .globl guest_entry_cr0, guest_entry_cs, guest_entry_ds
guest_entry_cr0:
    .long 0
guest_entry_cs:
    .word 0
guest_entry_ds:
    .word 0
    .balign 8
    .globl try_saved_rsp
try_saved_rsp:
    .quad 0

    .section .bss.pagetables, "aw", @nobits
    .balign 4096
    .globl guest_pml4, guest_pdpt, guest_pd
guest_pml4: .skip 4096
guest_pdpt: .skip 4096
guest_pd: .skip 4 * 4096
    .bss
    .balign 16
boot_stack: .skip 32768
boot_stack_top:
    .balign 16
user_stack: .skip 16384
user_stack_top:
    .globl guest_mb_magic, guest_mb_info, guest_boot_params
    .balign 4
guest_mb_magic: .skip 4
guest_mb_info: .skip 4
guest_boot_params: .skip 4
    .section .note.GNU-stack, "", @progbits
