/* 32-bit guest entry: Multiboot v1 header, our own flat GDT, 256 IDT stubs, try_call and the
 * ring-3 / virtual-8086 entries. The guest stays in 32-bit protected mode with paging off. */
    .file "start32.S"
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

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
    movl %eax, %ebp
    movl %ebx, %esi
    movl %cr0, %ecx
    movl %ecx, guest_entry_cr0 /* .data: survives the .bss clear */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl %ebp, guest_mb_magic
    movl %esi, guest_mb_info
    lgdt gdt_ptr
    ljmp $0x08, $1f
1:  movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movl $boot_stack_top, %esp
    xorl %ebp, %ebp
    call runtime_init
    pushl guest_mb_info
    call main
    addl $4, %esp
    pushl %eax
    call guest_exit
2:  cli
    hlt
    jmp 2b

/* Stub for vector v at isr_stubs + 16*v; vectors without a CPU error code push a zero. */
    .text
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushl $0
    .endif
    pushl $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    pushal
    movl $0x10, %eax /* V86 and ring-3 traps arrive with other (or null) data segments */
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %fs
    movl %eax, %gs
    cld
    movl %esp, %eax
    pushl %eax
    call trap_dispatch
    addl $4, %esp
    popal
    popl %gs
    popl %fs
    popl %es
    popl %ds
    addl $8, %esp
    iret

/* long try_call(void (*fn)(void *), void *arg) */
    .globl try_call
try_call:
    pushl %ebx
    pushl %ebp
    pushl %esi
    pushl %edi
    pushl try_saved_esp /* nested try_call keeps the outer frame */
    movl %esp, try_saved_esp
    movl 24(%esp), %eax
    movl 28(%esp), %ecx
    pushl %ecx
    call *%eax
    addl $4, %esp
    xorl %eax, %eax
try_resume:
    movl $0x10, %ecx
    movl %ecx, %ds
    movl %ecx, %es
    movl %ecx, %fs
    movl %ecx, %gs
    popl %ecx
    movl %ecx, try_saved_esp
    popl %edi
    popl %esi
    popl %ebp
    popl %ebx
    ret

/* void try_longjmp(long result): abandon the trap frame and return result from the innermost
 * try_call / try_call_user / try_call_v86 (called by trap_dispatch at CPL 0). */
    .globl try_longjmp
try_longjmp:
    movl 4(%esp), %eax
    movl $0x10, %ecx
    movl %ecx, %ss
    movl try_saved_esp, %esp
    pushl $2 /* clean EFLAGS: IF, NT, AC, DF clear */
    popfl
    jmp try_resume

/* long try_call_user(void (*fn)(void *), void *arg): fn(arg) at CPL 3, back through INT 0x81. */
    .globl try_call_user
try_call_user:
    pushl %ebx
    pushl %ebp
    pushl %esi
    pushl %edi
    pushl try_saved_esp
    movl %esp, try_saved_esp
    movl 24(%esp), %eax
    movl 28(%esp), %ecx
    movl %ecx, user_stack_top - 16 /* fn's argument, at the user ESP */
    pushl $0x23
    pushl $user_stack_top - 16
    pushl $0x2
    pushl $0x1B
    pushl $user_entry
    movl $0x23, %ecx
    movl %ecx, %ds
    movl %ecx, %es
    movl %ecx, %fs
    movl %ecx, %gs
    iret
user_entry:
    call *%eax
    int $0x81
    ud2

/* long try_call_v86(const struct v86_regs *entry, struct v86_regs *exit_regs) */
    .globl try_call_v86
try_call_v86:
    pushl %ebx
    pushl %ebp
    pushl %esi
    pushl %edi
    pushl try_saved_esp
    movl %esp, try_saved_esp
    movl 28(%esp), %eax
    movl %eax, v86_exit_regs
    movl 24(%esp), %esi
    movzwl 46(%esi), %eax /* gs */
    pushl %eax
    movzwl 44(%esi), %eax /* fs */
    pushl %eax
    movzwl 40(%esi), %eax /* ds */
    pushl %eax
    movzwl 42(%esi), %eax /* es */
    pushl %eax
    movzwl 36(%esi), %eax /* ss */
    pushl %eax
    movzwl 38(%esi), %eax /* sp */
    pushl %eax
    movl 28(%esi), %eax /* eflags | VM */
    orl $0x20002, %eax
    pushl %eax
    movzwl 32(%esi), %eax /* cs */
    pushl %eax
    movzwl 34(%esi), %eax /* ip */
    pushl %eax
    movl 0(%esi), %eax
    movl 4(%esi), %ebx
    movl 8(%esi), %ecx
    movl 12(%esi), %edx
    movl 20(%esi), %edi
    movl 24(%esi), %ebp
    movl 16(%esi), %esi
    iret

    .data
    .balign 16
    .globl guest_gdt
guest_gdt:
gdt:
    .quad 0
    .quad 0x00CF9B000000FFFF /* 0x08: 32-bit code, DPL 0 */
    .quad 0x00CF93000000FFFF /* 0x10: data, DPL 0 */
    .quad 0x00CFFB000000FFFF /* 0x1B: 32-bit code, DPL 3 */
    .quad 0x00CFF3000000FFFF /* 0x23: data, DPL 3 */
    .quad 0                  /* 0x28: TSS, filled by runtime_init */
    .fill 42, 8, 0           /* free for tests (GDT_FREE_FIRST = 6 .. 47) */
gdt_end:
    .balign 4
    .word 0
gdt_ptr:
    .word gdt_end - gdt - 1
    .long gdt

    .balign 4
    .globl guest_entry_cr0, try_saved_esp, v86_exit_regs
guest_entry_cr0:
    .long 0
try_saved_esp:
    .long 0
v86_exit_regs:
    .long 0

    .bss
    .balign 16
boot_stack: .skip 32768
boot_stack_top:
    .balign 16
user_stack: .skip 16384
user_stack_top:
    .globl guest_mb_magic, guest_mb_info
    .balign 4
guest_mb_magic: .skip 4
guest_mb_info: .skip 4
    .section .note.GNU-stack, "", @progbits
