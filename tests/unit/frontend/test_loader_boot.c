/* boot_apply: the VP state each entry mode produces (segments with hidden caches in the VMX
 * access-rights layout, control registers, EFER, GDTR/IDTR, RIP, RSP and argument registers). */
#include "test_loader_util.h"

#include "cpu/cpu.h"

static const struct {
    enum boot_mode mode;
    uint32_t cs_attr;
    uint64_t cr0, cr4, efer, cr3;
    bool lma, b64;
} modes[] = {
    {BOOT_PROT32, 0xC09B, 0x31, 0, 0, 0, false, false},
    {BOOT_LONG64, 0xA09B, 0x80010031, 0x20, 0x500, LOADER_PML4, true, true},
};

Test(loader_boot, entry_state_per_mode)
{
    for (unsigned i = 0; i < ARRAY_SIZE(modes); i++) {
        struct physmem pm;
        cr_assert_eq(physmem_init(&pm, TEST_RAM), 0);
        struct vcpu *vp = cpu_create(&pm, NULL, 0);
        cr_assert_not_null(vp);
        struct boot_entry e = {.mode = modes[i].mode, .rip = 0x100123, .rsp = LOADER_STACK_TOP,
                               .rax = 0x2BADB002, .rbx = 0x8000, .rsi = 0x7000, .cr3 = modes[i].cr3,
                               .gdt_base = LOADER_GDT, .gdt_limit = 31};
        cpu_set_gpr(vp, REG_R15, 0xDEAD);
        boot_apply(vp, &e);
        struct seg s;
        cpu_get_seg(vp, SEG_CS, &s);
        cr_expect_eq(s.sel, LOADER_CS, "mode %u", i);
        cr_expect_eq(s.base, 0);
        cr_expect_eq(s.limit, 0xFFFFFFFFu);
        cr_expect_eq(s.attr, modes[i].cs_attr, "mode %u: CS attr 0x%x", i, s.attr);
        static const unsigned data[] = {SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS};
        for (unsigned j = 0; j < ARRAY_SIZE(data); j++) {
            cpu_get_seg(vp, data[j], &s);
            cr_expect(s.sel == LOADER_DS && s.base == 0 && s.limit == 0xFFFFFFFFu && s.attr == 0xC093,
                      "mode %u seg %u: sel 0x%x attr 0x%x", i, data[j], s.sel, s.attr);
        }
        cpu_get_seg(vp, SEG_TR, &s);
        cr_expect_eq(s.attr, 0x8B);
        cr_expect_eq(cpu_get_cr(vp, 0), modes[i].cr0, "mode %u: CR0 0x%llx", i,
                     (unsigned long long)cpu_get_cr(vp, 0));
        cr_expect_eq(cpu_get_cr(vp, 3), modes[i].cr3);
        cr_expect_eq(cpu_get_cr(vp, 4), modes[i].cr4);
        cr_expect_eq(cpu_get_efer(vp), modes[i].efer);
        cr_expect_eq(cpu_in_long_mode(vp), modes[i].lma);
        cr_expect_eq(cpu_in_64bit_mode(vp), modes[i].b64);
        cr_expect_eq(cpu_get_cpl(vp), 0);
        struct dtr d;
        cpu_get_dtr(vp, false, &d);
        cr_expect(d.base == LOADER_GDT && d.limit == 31);
        cpu_get_dtr(vp, true, &d);
        cr_expect(d.base == 0 && d.limit == 0, "IDTR cleared");
        cr_expect_eq(cpu_get_rip(vp), 0x100123);
        cr_expect_eq(cpu_get_gpr(vp, REG_RSP), LOADER_STACK_TOP);
        cr_expect_eq(cpu_get_gpr(vp, REG_RAX), 0x2BADB002);
        cr_expect_eq(cpu_get_gpr(vp, REG_RBX), 0x8000);
        cr_expect_eq(cpu_get_gpr(vp, REG_RSI), 0x7000);
        cr_expect_eq(cpu_get_gpr(vp, REG_R15), 0, "other GPRs cleared");
        cr_expect_eq(cpu_get_rflags(vp), 0x2);
        cpu_destroy(vp);
        physmem_destroy(&pm);
    }
}

Test(loader_boot, reset_mode_leaves_the_vp_alone)
{
    struct physmem pm;
    cr_assert_eq(physmem_init(&pm, TEST_RAM), 0);
    struct vcpu *vp = cpu_create(&pm, NULL, 0);
    cr_assert_not_null(vp);
    struct boot_entry e = {.mode = BOOT_RESET, .rip = 0x1234};
    boot_apply(vp, &e);
    struct seg s;
    cpu_get_seg(vp, SEG_CS, &s);
    cr_expect_eq(s.sel, 0xF000);
    cr_expect_eq(cpu_get_rip(vp), 0xFFF0);
    cpu_destroy(vp);
    physmem_destroy(&pm);
}
