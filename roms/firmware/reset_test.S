/* Firmware test image (hvemu --bios): starts at the reset vector F000:FFF0 and checks the
 * power-on register state, exception delivery through the real-mode IVT, each mode transition
 * (real -> 16-bit protected -> 32-bit protected -> paging -> PAE -> long mode) and the #GP
 * cases of illegal control-register combinations (SDM Vol 3 2.5, Table 10-1, 10.8, 10.9).
 * Prints "PASS: name"/"FAIL: name" per check and "SUMMARY: N passed, M failed" on COM1, then
 * writes 0 (all passed) or 0x20 to the debug-exit port F4h.
 *
 * The 64 KiB image is linked at F0000h, its low alias; the reset vector runs from the top of
 * the 4 GiB space with the same offsets (CS.base FFFF0000h). Real-mode and 16-bit code name
 * addresses as offsets in the image (OFF); 32- and 64-bit code runs flat from the alias. */
    .file "reset_test.S"

#define OFF(x) ((x) - image_base)

/* Scratch RAM (the ROM cannot be written). */
#define RAM_PASS    0x500
#define RAM_FAIL    0x504
#define RAM_RESUME  0x600 /* where the exception handlers resume */
#define RAM_VEC     0x608 /* vector of the last exception, FFh = none */
#define RAM_ERR     0x610 /* its error code (protected and long mode) */
#define RAM_RMIP    0x618 /* real mode: the IP, CS and FLAGS the delivery pushed */
#define RAM_RMCS    0x61A
#define RAM_RMFL    0x61C
#define RAM_TMP     0x620
#define SAVE_EAX    0x700 /* registers as they were at the reset vector */
#define SAVE_EBX    0x704
#define SAVE_ECX    0x708
#define SAVE_EDX    0x70C
#define SAVE_ESI    0x710
#define SAVE_EDI    0x714
#define SAVE_EBP    0x718
#define SAVE_ESP    0x71C
#define SAVE_EFL    0x720
#define SAVE_CR0    0x724
#define SAVE_CR2    0x728
#define SAVE_CR3    0x72C
#define SAVE_CR4    0x730
#define SAVE_DR6    0x734
#define SAVE_DR7    0x738
#define SAVE_CS     0x740
#define SAVE_DS     0x742
#define SAVE_ES     0x744
#define SAVE_SS     0x746
#define SAVE_FS     0x748
#define SAVE_GS     0x74A
#define SAVE_GDTR   0x750 /* limit word, base dword */
#define SAVE_IDTR   0x758
#define SAVE_FENV   0x780 /* FNSTENV, 32-bit layout: FTW in the low word of the third dword */
#define SAVE_FENV16 0x7B0 /* FNSTENV, 16-bit real-mode layout: FCW, FSW, FTW words */
#define SAVE_FSW    0x7A0
#define SAVE_FCW    0x7A2
#define SAVE_MXCSR  0x790
#define STACK_TOP   0x7000
#define IDT32       0x1000
#define IDT64       0x2000
#define ALIAS_DATA  0x3000 /* read back through paging aliases */
#define PD32        0x10000
#define PT32        0x11000
#define PT32_ALIAS  0x12000
#define PAE_PDPT    0x13000
#define PAE_PD      0x14000
#define PML4        0x15000
#define LM_PDPT     0x16000
#define MAGIC       0xCAFEBABE

#define MSR_APIC_BASE 0x1B
#define MSR_PAT     0x277
#define MSR_EFER    0xC0000080
#define EFER_LME    0x100
#define EFER_LMA    0x400

#define SEL_CODE16  0x08
#define SEL_DATA    0x10
#define SEL_CODE32  0x18
#define SEL_CODE64  0x20
#define SEL_CODE_LD 0x28 /* L and D both set: #GP(selector) when loaded in IA-32e mode */

/* A check passes when ZF is set; its name follows the call inline. */
.macro CHECK16 name
    call check16
    .asciz "\name"
.endm
.macro CHECK32 name
    call check32
    .asciz "\name"
.endm
.macro CHECK64 name
    call check64
    .asciz "\name"
.endm

/* Arm the handlers: the next exception resumes at \resume. */
.macro EXPECT16 resume
    movw $OFF(\resume), RAM_RESUME
    movb $0xFF, RAM_VEC
.endm
.macro EXPECT32 resume
    movl $\resume, RAM_RESUME
    movl $0xFF, RAM_VEC
    movl $0xFFFFFFFF, RAM_ERR
.endm
.macro EXPECT64 resume
    movq $\resume, RAM_RESUME
    movl $0xFF, RAM_VEC
    movl $0xFFFFFFFF, RAM_ERR
.endm

    .text
image_base:

/* ------------------------------------------------------------------ real mode */
    .code16
rm_entry:
    /* DS = 0 at reset: save what the reset left before anything changes it. */
    movl %eax, SAVE_EAX
    movl %ebx, SAVE_EBX
    movl %ecx, SAVE_ECX
    movl %edx, SAVE_EDX
    movl %esi, SAVE_ESI
    movl %edi, SAVE_EDI
    movl %ebp, SAVE_EBP
    movl %esp, SAVE_ESP
    pushfl /* SS:SP = 0:0, so this lands at 0:FFFC */
    popl SAVE_EFL
    movl %cr0, %eax
    movl %eax, SAVE_CR0
    movl %cr2, %eax
    movl %eax, SAVE_CR2
    movl %cr3, %eax
    movl %eax, SAVE_CR3
    movl %cr4, %eax
    movl %eax, SAVE_CR4
    movl %dr6, %eax
    movl %eax, SAVE_DR6
    movl %dr7, %eax
    movl %eax, SAVE_DR7
    movw %cs, SAVE_CS
    movw %ds, SAVE_DS
    movw %es, SAVE_ES
    movw %ss, SAVE_SS
    movw %fs, SAVE_FS
    movw %gs, SAVE_GS
    sgdtl SAVE_GDTR
    sidtl SAVE_IDTR
    fnstsw SAVE_FSW
    fnstcw SAVE_FCW
    fnstenv SAVE_FENV16 /* FNSTENV then masks every exception: FCW only from the first */
    data32 fnstenv SAVE_FENV
    movl %cr4, %eax
    orl $0x200, %eax /* OSFXSR: STMXCSR is #UD without it */
    movl %eax, %cr4
    stmxcsr SAVE_MXCSR
    andl $~0x200, %eax
    movl %eax, %cr4

    xorl %eax, %eax
    movw %ax, %ss
    movl $STACK_TOP, %esp
    movl %eax, RAM_PASS
    movl %eax, RAM_FAIL

    /* SDM Vol 3 Table 10-1, power-up column. */
    cmpl $0, SAVE_EAX
    CHECK16 "reset_eax_zero"
    movl $1, %eax
    cpuid
    cmpl SAVE_EDX, %eax
    CHECK16 "reset_edx_is_cpuid1_signature"
    movl SAVE_EBX, %eax
    orl SAVE_ECX, %eax
    orl SAVE_ESI, %eax
    orl SAVE_EDI, %eax
    orl SAVE_EBP, %eax
    orl SAVE_ESP, %eax
    CHECK16 "reset_gprs_zero"
    cmpl $0x2, SAVE_EFL
    CHECK16 "reset_eflags"
    cmpl $0x60000010, SAVE_CR0
    CHECK16 "reset_cr0"
    movl SAVE_CR2, %eax
    orl SAVE_CR3, %eax
    orl SAVE_CR4, %eax
    CHECK16 "reset_cr2_cr3_cr4_zero"
    cmpl $0xFFFF0FF0, SAVE_DR6
    CHECK16 "reset_dr6"
    cmpl $0x400, SAVE_DR7
    CHECK16 "reset_dr7"
    cmpw $0xF000, SAVE_CS
    CHECK16 "reset_cs_selector"
    movw SAVE_DS, %ax
    orw SAVE_ES, %ax
    orw SAVE_SS, %ax
    orw SAVE_FS, %ax
    orw SAVE_GS, %ax
    CHECK16 "reset_data_selectors_zero"
    cmpw $0xFFFF, SAVE_GDTR
    jne 1f
    cmpl $0, SAVE_GDTR + 2
1:  CHECK16 "reset_gdtr"
    cmpw $0xFFFF, SAVE_IDTR
    jne 1f
    cmpl $0, SAVE_IDTR + 2
1:  CHECK16 "reset_idtr"
    cmpw $0x0040, SAVE_FCW
    CHECK16 "reset_fpu_control_word"
    cmpw $0x0000, SAVE_FSW
    CHECK16 "reset_fpu_status_word"
    cmpw $0x5555, SAVE_FENV + 8
    CHECK16 "reset_fpu_tag_word"
    cmpw $0x0040, SAVE_FENV16
    jne 1f
    cmpw $0x5555, SAVE_FENV16 + 4
1:  CHECK16 "reset_fpu_env_16bit_layout"
    cmpl $0x1F80, SAVE_MXCSR
    CHECK16 "reset_mxcsr"
    movl $MSR_EFER, %ecx
    rdmsr
    orl %edx, %eax
    CHECK16 "reset_efer_zero"
    movl $MSR_PAT, %ecx
    rdmsr
    cmpl $0x00070406, %eax
    jne 1f
    cmpl $0x00070406, %edx
1:  CHECK16 "reset_pat"
    movl $MSR_APIC_BASE, %ecx
    rdmsr
    cmpl $0xFEE00900, %eax /* base, global enable, BSP */
    CHECK16 "reset_apic_base"

    /* Exception delivery through the real-mode IVT: FLAGS, CS, IP pushed; faults
     * push the faulting instruction's IP, traps and INT n the next one's. */
    movw $OFF(rm_de), 0x00 * 4
    movw $0xF000, 0x00 * 4 + 2
    movw $OFF(rm_bp), 0x03 * 4
    movw $0xF000, 0x03 * 4 + 2
    movw $OFF(rm_ud), 0x06 * 4
    movw $0xF000, 0x06 * 4 + 2
    movw $OFF(rm_gp), 0x0D * 4
    movw $0xF000, 0x0D * 4 + 2
    movw $OFF(rm_int42), 0x42 * 4
    movw $0xF000, 0x42 * 4 + 2

    EXPECT16 rm_de_resume
    movw $1, %ax
    xorw %dx, %dx
    xorb %cl, %cl
    pushw $0x08D3 /* OF SF ZF AF CF: the pushed FLAGS must be these */
    popfw
rm_de_insn:
    divb %cl
rm_de_resume:
    cmpb $0x00, RAM_VEC
    CHECK16 "rm_de_vector"
    cmpw $OFF(rm_de_insn), RAM_RMIP
    CHECK16 "rm_de_pushed_ip"
    cmpw $0xF000, RAM_RMCS
    CHECK16 "rm_de_pushed_cs"
    cmpw $0x08D3, RAM_RMFL
    CHECK16 "rm_de_pushed_flags"

    EXPECT16 rm_ud_resume
rm_ud_insn:
    ud2
rm_ud_resume:
    cmpb $0x06, RAM_VEC
    jne 1f
    cmpw $OFF(rm_ud_insn), RAM_RMIP
1:  CHECK16 "rm_ud_vector_and_ip"

    EXPECT16 rm_bp_resume
    pushw $0x0002
    popfw
    int3
rm_bp_resume:
    cmpb $0x03, RAM_VEC
    jne 1f
    cmpw $OFF(rm_bp_resume), RAM_RMIP
    jne 1f
    cmpw $0x0002, RAM_RMFL
1:  CHECK16 "rm_bp_trap_ip_and_flags"

    EXPECT16 rm_int_resume
    int $0x42
rm_int_resume:
    cmpb $0x42, RAM_VEC
    jne 1f
    cmpw $OFF(rm_int_resume), RAM_RMIP
    jne 1f
    cmpw $0xF000, RAM_RMCS
1:  CHECK16 "rm_int_n_vector_and_ip"

    /* SDM Vol 3 2.5 / MOV CR0: PG without PE and NW without CD are #GP(0), CR0 unchanged. */
    movl %cr0, %eax
    movl %eax, RAM_TMP
    EXPECT16 1f
    orl $0x80000000, %eax
    movl %eax, %cr0
1:  cmpb $0x0D, RAM_VEC
    jne 2f
    movl %cr0, %eax
    cmpl RAM_TMP, %eax
2:  CHECK16 "gp_cr0_pg_without_pe"
    EXPECT16 1f
    movl $0x20000010, %eax /* NW, ET */
    movl %eax, %cr0
1:  cmpb $0x0D, RAM_VEC
    jne 2f
    movl %cr0, %eax
    cmpl RAM_TMP, %eax
2:  CHECK16 "gp_cr0_nw_without_cd"
    EXPECT16 1f
    movl $0x8000, %eax /* CR4 bit 15 is reserved */
    movl %eax, %cr4
1:  cmpb $0x0D, RAM_VEC
    jne 2f
    movl %cr4, %eax
    testl %eax, %eax
2:  CHECK16 "gp_cr4_reserved_bit"

    /* Real-mode segments are 64 KiB: a word at DS:FFFF crosses the limit (#GP). */
    EXPECT16 1f
    movw 0xFFFF, %ax
1:  cmpb $0x0D, RAM_VEC
    CHECK16 "rm_segment_limit_gp"

    /* Real mode -> 16-bit protected mode (SDM Vol 3 10.9.1). */
    lgdtl %cs:OFF(gdt_desc)
    movl %cr0, %eax
    andl $0x9FFFFFFF, %eax /* caches on */
    orl $1, %eax
    movl %eax, %cr0
    ljmpw $SEL_CODE16, $OFF(pm16)

rm_de:    movb $0x00, RAM_VEC
    jmp rm_common
rm_bp:    movb $0x03, RAM_VEC
    jmp rm_common
rm_ud:    movb $0x06, RAM_VEC
    jmp rm_common
rm_gp:    movb $0x0D, RAM_VEC
    jmp rm_common
rm_int42: movb $0x42, RAM_VEC
rm_common:
    pushw %bp
    movw %sp, %bp
    pushw %ax
    movw 2(%bp), %ax
    movw %ax, RAM_RMIP
    movw 4(%bp), %ax
    movw %ax, RAM_RMCS
    movw 6(%bp), %ax
    movw %ax, RAM_RMFL
    movw RAM_RESUME, %ax
    movw %ax, 2(%bp)
    popw %ax
    popw %bp
    iretw

/* Real mode and 16-bit protected mode (CS.base F0000h, DS.base 0): name inline after the call. */
check16:
    pushfw
    pushw %bp
    movw %sp, %bp /* 0: bp, 2: flags, 4: return IP */
    pushw %ax
    pushw %si
    testb $0x40, 2(%bp)
    jz 1f
    incl RAM_PASS
    movw $OFF(str_pass), %si
    jmp 2f
1:  incl RAM_FAIL
    movw $OFF(str_fail), %si
2:  call puts16
    movw 4(%bp), %si
    call puts16
    movw %si, 4(%bp)
    movb $'\n', %al
    call putc16
    popw %si
    popw %ax
    popw %bp
    popfw
    retw
puts16:
    lodsb %cs:(%si), %al
    testb %al, %al
    jz 1f
    call putc16
    jmp puts16
1:  retw
putc16:
    pushw %dx
    movw $0x3F8, %dx
    outb %al, %dx
    popw %dx
    retw

/* ------------------------------------------------------------------ 16-bit protected mode */
pm16:
    movw $SEL_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr0, %eax
    testb $1, %al
    jz 1f
    movw %cs, %ax
    cmpw $SEL_CODE16, %ax
1:  CHECK16 "pm16_entered"
    xorl %eax, %eax
    decw %ax
    cmpl $0xFFFF, %eax
    CHECK16 "pm16_operand_size_16"

    /* Back to real mode (SDM Vol 3 10.9.2): the segment caches keep the flat 4 GiB limit of
     * protected mode until reloaded ("unreal" mode), and real-mode far jumps work again. */
    movl $0x100000, %ebx
    movl $MAGIC, (%ebx)
    movl %cr0, %eax
    andl $~1, %eax
    movl %eax, %cr0
    ljmpw $0xF000, $OFF(rm_again)
rm_again:
    movw %cs, %ax
    cmpw $0xF000, %ax
    jne 1f
    movl %cr0, %eax
    testb $1, %al
    jnz 1f
    cmpl $MAGIC, (%ebx)
1:  CHECK16 "pm_to_real_mode_keeps_flat_limit"
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpw $SEL_CODE16, $OFF(pm16_again)
pm16_again:
    movw $SEL_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    ljmpl $SEL_CODE32, $pm32

str_pass: .asciz "PASS: "
str_fail: .asciz "FAIL: "

    .balign 8
gdt:
    .quad 0
    .quad 0x00009B0F0000FFFF /* 0x08: 16-bit code, base F0000h, limit FFFFh */
    .quad 0x00CF93000000FFFF /* 0x10: flat data */
    .quad 0x00CF9B000000FFFF /* 0x18: flat 32-bit code */
    .quad 0x00AF9B000000FFFF /* 0x20: 64-bit code */
    .quad 0x00EF9B000000FFFF /* 0x28: L and D both set */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
idt32_desc:
    .word 32 * 8 - 1
    .long IDT32
    .balign 8
idt64_desc:
    .word 32 * 16 - 1
    .quad IDT64
far_ld:
    .long lm_ld_target
    .word SEL_CODE_LD

/* ------------------------------------------------------------------ 32-bit protected mode */
    .code32
pm32:
    movl $STACK_TOP, %esp
    movw %cs, %ax
    cmpw $SEL_CODE32, %ax
    CHECK32 "pm32_entered"
    xorl %eax, %eax
    decl %eax
    cmpl $0xFFFFFFFF, %eax
    CHECK32 "pm32_operand_size_32"

    /* 32-bit IDT: vector v's gate points at stubs32 + 16 * v. */
    movl $IDT32, %edi
    movl $stubs32, %ebx
    xorl %ecx, %ecx
1:  movl %ebx, %eax
    andl $0xFFFF, %eax
    orl $(SEL_CODE32 << 16), %eax
    movl %eax, (%edi)
    movl %ebx, %eax
    andl $0xFFFF0000, %eax
    orl $0x8E00, %eax
    movl %eax, 4(%edi)
    addl $8, %edi
    addl $16, %ebx
    incl %ecx
    cmpl $32, %ecx
    jne 1b
    lidt idt32_desc

    /* LMSW loads MP, EM, TS but never clears PE. */
    movl %cr0, %eax
    movl %eax, RAM_TMP
    xorl %eax, %eax
    lmsw %ax
    movl %cr0, %eax
    testb $1, %al
    jz 1f
    movl RAM_TMP, %eax
    andl $~0xE, %eax
    movl %cr0, %edx
    cmpl %eax, %edx
1:  CHECK32 "lmsw_keeps_pe"

    EXPECT32 1f
    movl $0x8000, %eax
    movl %eax, %cr4
1:  cmpl $0x0D, RAM_VEC
    jne 2f
    cmpl $0, RAM_ERR
2:  CHECK32 "pm32_gp_cr4_reserved_bit_error_code"

    /* SDM Vol 3 10.8.5: with EFER.LME set, turning paging on needs CR4.PAE: else #GP(0). */
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    EXPECT32 1f
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
1:  cmpl $0x0D, RAM_VEC
    jne 2f
    movl %cr0, %eax
    testl %eax, %eax /* SF: PG */
    js 2f
    cmpl %eax, %eax
2:  CHECK32 "gp_pg_with_lme_without_pae"
    movl $MSR_EFER, %ecx
    rdmsr
    andl $~EFER_LME, %eax
    wrmsr

    /* 32-bit paging: PD[0] identity-maps 0-4 MiB, PD[1] maps 4 MiB to ALIAS_DATA. */
    movl $PD32, %edi
    movl $(0x7000 / 4), %ecx
    xorl %eax, %eax
    rep stosl
    movl $(PT32 | 3), PD32
    movl $(PT32_ALIAS | 3), PD32 + 4
    movl $PT32, %edi
    movl $3, %eax
    movl $1024, %ecx
1:  stosl
    addl $0x1000, %eax
    loop 1b
    movl $(ALIAS_DATA | 3), PT32_ALIAS
    movl $MAGIC, ALIAS_DATA
    movl $PD32, %eax
    movl %eax, %cr3
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    jmp 1f
1:  movl %cr0, %eax
    testl %eax, %eax /* PG is the sign; PE keeps ZF clear when PG is off */
    jns 2f
    cmpl $MAGIC, 0x400000
2:  CHECK32 "paging32_alias"

    /* SDM Vol 3 10.8.5: EFER.LME cannot change while paging is on. */
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    EXPECT32 1f
    wrmsr
1:  cmpl $0x0D, RAM_VEC
    jne 2f
    rdmsr
    testl $EFER_LME, %eax
2:  CHECK32 "gp_efer_lme_write_while_paging"

    /* PAE paging: PDPT[0] -> PD of 2 MiB pages; PD[2] maps 4 MiB back to 0. */
    movl %cr0, %eax
    andl $0x7FFFFFFF, %eax
    movl %eax, %cr0
    movl $(PAE_PD | 1), PAE_PDPT
    movl $0x00000083, PAE_PD
    movl $0x00200083, PAE_PD + 8
    movl $0x00000083, PAE_PD + 16
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $PAE_PDPT, %eax
    movl %eax, %cr3
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    jmp 1f
1:  cmpl $MAGIC, 0x400000 + ALIAS_DATA
    CHECK32 "pae_alias"

    /* Long mode (SDM Vol 3 10.8.5): paging off, CR3 = PML4, EFER.LME, paging on. */
    movl %cr0, %eax
    andl $0x7FFFFFFF, %eax
    movl %eax, %cr0
    movl $(LM_PDPT | 3), PML4
    movl $(PAE_PD | 3), LM_PDPT
    movl $PML4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    jmp 1f
1:  movl $MSR_EFER, %ecx
    rdmsr
    andl $(EFER_LME | EFER_LMA), %eax
    cmpl $(EFER_LME | EFER_LMA), %eax
    CHECK32 "compat_mode_efer_lma"
    ljmp $SEL_CODE64, $lm64

    .balign 16
stubs32:
    .set vec, 0
    .rept 32
    .balign 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushl $0
    .endif
    pushl $vec
    jmp common32
    .set vec, vec + 1
    .endr
common32:
    popl RAM_VEC
    popl RAM_ERR
    pushl %eax
    movl RAM_RESUME, %eax
    movl %eax, 4(%esp)
    popl %eax
    iretl

check32:
    pushfl
    pushl %eax
    pushl %esi
    testb $0x40, 8(%esp)
    jz 1f
    incl RAM_PASS
    movl $str_pass, %esi
    jmp 2f
1:  incl RAM_FAIL
    movl $str_fail, %esi
2:  call puts32
    movl 12(%esp), %esi
    call puts32
    movl %esi, 12(%esp)
    movb $'\n', %al
    call putc32
    popl %esi
    popl %eax
    popfl
    ret
puts32:
    lodsb
    testb %al, %al
    jz 1f
    call putc32
    jmp puts32
1:  ret
putc32:
    pushl %edx
    movw $0x3F8, %dx
    outb %al, %dx
    popl %edx
    ret

/* ------------------------------------------------------------------ 64-bit mode */
    .code64
lm64:
    movl $STACK_TOP, %esp
    movw %cs, %ax
    cmpw $SEL_CODE64, %ax
    CHECK64 "lm64_entered"
    movabsq $0x123456789ABCDEF0, %rax
    shrq $32, %rax
    cmpq $0x12345678, %rax
    CHECK64 "lm64_operand_size_64"

    movl $IDT64, %edi
    movl $stubs64, %ebx
    xorl %ecx, %ecx
1:  movl %ebx, %eax
    andl $0xFFFF, %eax
    orl $(SEL_CODE64 << 16), %eax
    movl %eax, (%rdi)
    movl %ebx, %eax
    andl $0xFFFF0000, %eax
    orl $0x8E00, %eax
    movl %eax, 4(%rdi)
    movq $0, 8(%rdi)
    addl $16, %edi
    addl $16, %ebx
    incl %ecx
    cmpl $32, %ecx
    jne 1b
    lidt idt64_desc

    /* SDM Vol 3 2.5: CR4.PAE cannot be cleared in IA-32e mode. */
    movq %cr4, %rax
    andq $~0x20, %rax
    EXPECT64 1f
    movq %rax, %cr4
1:  cmpl $0x0D, RAM_VEC
    jne 2f
    movq %cr4, %rax
    testb $0x20, %al
    jz 2f
    cmpl $0, RAM_ERR
2:  CHECK64 "gp_clear_cr4_pae_in_long_mode"

    /* CR3 bits above MAXPHYADDR (bit 52 is above any) are reserved in IA-32e mode. */
    movq %cr3, %rax
    btsq $52, %rax
    EXPECT64 1f
    movq %rax, %cr3
1:  cmpl $0x0D, RAM_VEC
    jne 2f
    movq %cr3, %rax
    cmpq $PML4, %rax
2:  CHECK64 "gp_cr3_reserved_bit_long_mode"

    movq %cr4, %rax
    btsq $32, %rax
    EXPECT64 1f
    movq %rax, %cr4
1:  cmpl $0x0D, RAM_VEC
    CHECK64 "gp_cr4_reserved_high_bit"

    /* SDM Vol 3 5.2.1: L and D both set is reserved; loading it in IA-32e mode is
     * #GP(selector). */
    EXPECT64 1f
    ljmpl *far_ld
1:  cmpl $0x0D, RAM_VEC
    jne 2f
    cmpl $SEL_CODE_LD, RAM_ERR
2:  CHECK64 "gp_far_jmp_code_l_and_d"

    call print64
    .asciz "SUMMARY: "
    movl RAM_PASS, %eax
    call putdec64
    call print64
    .asciz " passed, "
    movl RAM_FAIL, %eax
    call putdec64
    call print64
    .asciz " failed\n"
    xorl %eax, %eax
    cmpl $0, RAM_FAIL
    je 1f
    movb $0x20, %al
1:  outb %al, $0xF4
2:  hlt
    jmp 2b

/* Reached only if the far jump wrongly succeeded: go on, and let the check fail. */
lm_ld_target:
    movq RAM_RESUME, %rax
    jmpq *%rax

    .balign 16
stubs64:
    .set vec, 0
    .rept 32
    .balign 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushq $0
    .endif
    pushq $vec
    jmp common64
    .set vec, vec + 1
    .endr
common64:
    popq %rax
    movl %eax, RAM_VEC
    popq %rax
    movl %eax, RAM_ERR
    movq RAM_RESUME, %rax
    movq %rax, (%rsp)
    iretq

check64:
    pushfq
    pushq %rax
    pushq %rsi
    testb $0x40, 16(%rsp)
    jz 1f
    incl RAM_PASS
    movl $str_pass, %esi
    jmp 2f
1:  incl RAM_FAIL
    movl $str_fail, %esi
2:  call puts64
    movq 24(%rsp), %rsi
    call puts64
    movq %rsi, 24(%rsp)
    movb $'\n', %al
    call putc64
    popq %rsi
    popq %rax
    popfq
    ret
print64:
    pushq %rsi
    movq 8(%rsp), %rsi
    call puts64
    movq %rsi, 8(%rsp)
    popq %rsi
    ret
puts64:
    lodsb
    testb %al, %al
    jz 1f
    call putc64
    jmp puts64
1:  ret
putc64:
    pushq %rdx
    movw $0x3F8, %dx
    outb %al, %dx
    popq %rdx
    ret
/* EAX in decimal. */
putdec64:
    movl $10, %ecx
    xorl %esi, %esi
1:  xorl %edx, %edx
    divl %ecx
    addb $'0', %dl
    pushq %rdx
    incl %esi
    testl %eax, %eax
    jnz 1b
2:  popq %rax
    call putc64
    decl %esi
    jnz 2b
    ret

/* ------------------------------------------------------------------ reset vector */
    .code16
    .org 0xFFF0
reset_vector:
    jmp rm_entry
    .org 0xFFFF
    .byte 0xFF

    .section .note.GNU-stack, "", @progbits
