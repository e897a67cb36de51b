/* Application-processor start-up code (SDM Vol 3 9.4.4): an AP leaves INIT-SIPI-SIPI in real mode
 * at CS = vector << 8, IP = 0; this code, copied to that page by smp_prepare_ap (smp.c), goes
 * straight to long mode with the BSP's GDT, IDT and page tables and jumps to a C entry. It is
 * position-independent: real-mode data goes through DS = CS, 64-bit data RIP-relative, and the
 * far jump between them through a pointer filled in at copy time. */
    .file "ap_tramp.S"
    .text
    .code16
    .globl ap_tramp_start, ap_tramp_end, ap_tramp_64
    .globl ap_tramp_gdt, ap_tramp_idt, ap_tramp_cr3, ap_tramp_efer, ap_tramp_far
    .globl ap_tramp_stack, ap_tramp_entry
ap_tramp_start:
    cli
    movw %cs, %ax
    movw %ax, %ds
    lgdtl ap_tramp_gdt - ap_tramp_start
    movl %cr4, %eax
    orl $0x20, %eax /* PAE */
    movl %eax, %cr4
    movl ap_tramp_cr3 - ap_tramp_start, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl ap_tramp_efer - ap_tramp_start, %eax /* LME (+NXE) */
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax /* PG, WP, PE */
    andl $0x9FFFFFFF, %eax /* caches on */
    movl %eax, %cr0
    ljmpl *(ap_tramp_far - ap_tramp_start)
    .code64
ap_tramp_64:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    lidt ap_tramp_idt(%rip)
    movq ap_tramp_stack(%rip), %rsp
    movq ap_tramp_entry(%rip), %rax
    jmp *%rax
    .balign 8
ap_tramp_gdt:   .word 0
                .long 0
ap_tramp_idt:   .word 0
                .quad 0
ap_tramp_cr3:   .long 0
ap_tramp_efer:  .long 0
ap_tramp_far:   .long 0 /* linear address of ap_tramp_64 in the copy */
                .word 0x08 /* 64-bit code selector of roms/lib's GDT */
    .balign 8
ap_tramp_stack: .quad 0
ap_tramp_entry: .quad 0
ap_tramp_end:
    .section .note.GNU-stack, "", @progbits
