/* Applies a loader's boot_entry to a freshly reset VP: flat segments with their hidden caches,
 * control registers and EFER for the entry mode, GDTR, RIP, RSP and the argument registers. */
#include "frontend/loader.h"

#include "cpu/cpu.h"

/* VMX access rights (cpu.h): type 3:0, S 4, DPL 6:5, P 7, L 13, D/B 14, G 15, unusable 16. */
#define AR_CODE_ACCESSED 0xB
#define AR_DATA_ACCESSED 0x3
#define AR_S    (1u << 4)
#define AR_P    (1u << 7)
#define AR_L    (1u << 13)
#define AR_DB   (1u << 14)
#define AR_G    (1u << 15)
#define AR_LDT  0x2
#define AR_TSS64_BUSY 0xB

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

void boot_apply(struct vcpu *vp, const struct boot_entry *e)
{
    if (e->mode == BOOT_RESET)
        return;
    bool lm = e->mode == BOOT_LONG64;
    /* Control registers first, so that the segment loads below see the final mode and CPL. */
    if (lm) {
        cpu_set_cr(vp, 4, CR4_PAE);
        cpu_set_cr(vp, 3, e->cr3);
        cpu_set_efer(vp, EFER_LME | EFER_LMA);
        cpu_set_cr(vp, 0, CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_PE);
    } else {
        cpu_set_cr(vp, 4, 0);
        cpu_set_cr(vp, 3, 0);
        cpu_set_efer(vp, 0);
        cpu_set_cr(vp, 0, CR0_NE | CR0_ET | CR0_PE);
    }

    const struct seg cs = {LOADER_CS, 0, 0xFFFFFFFFu,
                           AR_CODE_ACCESSED | AR_S | AR_P | AR_G | (lm ? AR_L : AR_DB)};
    const struct seg ds = {LOADER_DS, 0, 0xFFFFFFFFu, AR_DATA_ACCESSED | AR_S | AR_P | AR_DB | AR_G};
    const struct seg ldtr = {0, 0, 0xFFFF, AR_LDT | AR_P};
    const struct seg tr = {0, 0, 0xFFFF, AR_TSS64_BUSY | AR_P};
    cpu_set_seg(vp, SEG_CS, &cs);
    cpu_set_seg(vp, SEG_DS, &ds);
    cpu_set_seg(vp, SEG_ES, &ds);
    cpu_set_seg(vp, SEG_SS, &ds);
    cpu_set_seg(vp, SEG_FS, &ds);
    cpu_set_seg(vp, SEG_GS, &ds);
    cpu_set_seg(vp, SEG_LDTR, &ldtr);
    cpu_set_seg(vp, SEG_TR, &tr);

    const struct dtr gdt = {e->gdt_base, e->gdt_limit};
    /* No IDT until the guest loads one: an early exception then shuts down promptly instead of
     * vectoring through real-mode garbage. */
    const struct dtr idt = {0, 0};
    cpu_set_dtr(vp, false, &gdt);
    cpu_set_dtr(vp, true, &idt);

    for (unsigned r = REG_RAX; r <= REG_R15; r++)
        cpu_set_gpr(vp, r, 0);
    cpu_set_gpr(vp, REG_RAX, e->rax);
    cpu_set_gpr(vp, REG_RBX, e->rbx);
    cpu_set_gpr(vp, REG_RSI, e->rsi);
    cpu_set_gpr(vp, REG_RSP, e->rsp);
    cpu_set_rflags(vp, 0x2);
    cpu_set_rip(vp, e->rip);
}
