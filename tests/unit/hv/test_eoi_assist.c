/* EOI assist end to end between a real local APIC and the hypervisor's VP assist page: when the
 * offer is made, that a consumed offer is EOId by the APIC exactly once, that a guest ignoring
 * the bit is not EOId twice, and that nothing changes while the page is disabled. */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/lapic.h"
#include "fixture.h"

#define ASSIST_PAGE 0x400000ull

struct eoi_rig {
    struct fake_host *f;
    struct lapic l;
    unsigned eois;       /* EOIs the LAPIC performed (its EOI hook) */
    uint8_t last_eoi;
};

static bool rig_offer(void *opaque)
{
    struct eoi_rig *r = opaque;
    return hv_apic_assist_offer(r->f->p, fake_vp(r->f, 0));
}

static bool rig_collect(void *opaque)
{
    struct eoi_rig *r = opaque;
    return hv_apic_assist_collect(r->f->p, fake_vp(r->f, 0));
}

static void rig_eoi_hook(void *opaque, uint8_t vector)
{
    struct eoi_rig *r = opaque;
    r->eois++;
    r->last_eoi = vector;
}

/* page_on: the guest enabled its VP assist page. The APIC is software-enabled. */
static void rig_init(struct eoi_rig *r, bool page_on)
{
    memset(r, 0, sizeof(*r));
    r->f = fake_create(NULL, 1);
    cr_assert(r->f);
    cr_assert_eq(lapic_init(&r->l, NULL, &r->f->clock, NULL, 0, true), 0);
    lapic_mmio_write(&r->l, 0xF0, 0x1FF, 4); /* SVR: enabled */
    lapic_set_eoi_hook(&r->l, rig_eoi_hook, r);
    struct lapic_eoi_assist a = {r, rig_offer, rig_collect};
    lapic_set_eoi_assist(&r->l, &a);
    if (page_on)
        wrmsr_ok(r->f, 0, 0x40000073, ASSIST_PAGE | 1);
    else
        put_u64(r->f, ASSIST_PAGE, 0); /* where a page would be: must stay untouched */
}

static void rig_fini(struct eoi_rig *r) { fake_destroy(r->f); }

static uint32_t assist_bit(struct eoi_rig *r) { return get_u32(r->f, ASSIST_PAGE) & 1; }

/* The guest's EOI-assist-aware EOI (Linux hv_apic_eoi_write): clear the bit if set, else EOI. */
static void guest_eoi(struct eoi_rig *r)
{
    uint32_t a = get_u32(r->f, ASSIST_PAGE);
    if (a & 1) {
        a &= ~1u;
        physmem_write(&r->f->mem, ASSIST_PAGE, &a, 4);
        return;
    }
    lapic_eoi(&r->l);
}

static bool isr_has(const struct lapic *l, unsigned v) { return (l->isr[v >> 5] >> (v & 31)) & 1; }
static bool isr_empty(const struct lapic *l)
{
    for (unsigned i = 0; i < 8; i++)
        if (l->isr[i])
            return false;
    return true;
}

/* When an offer is made: one vector is acknowledged after the setup. */
static const struct {
    const char *what;
    bool page_on;
    int in_service;      /* already in ISR before (acked earlier), or -1 */
    int also_pending;    /* another vector left in IRR, or -1 */
    bool level, auto_eoi;
    bool offered;
} offer_cases[] = {
    {"edge, alone", true, -1, -1, false, false, true},
    {"page disabled", false, -1, -1, false, false, false},
    {"level-triggered: the EOI goes to the IOAPIC", true, -1, -1, true, false, false},
    {"auto-EOI vector never enters ISR", true, -1, -1, false, true, false},
    {"nested in a lower vector", true, 0x30, -1, false, false, false},
    {"a lower vector waits for the EOI", true, -1, 0x31, false, false, false},
};

Test(eoi_assist, offer_rules)
{
    for (size_t i = 0; i < sizeof(offer_cases) / sizeof(offer_cases[0]); i++) {
        struct eoi_rig r;
        rig_init(&r, offer_cases[i].page_on);
        if (offer_cases[i].in_service >= 0) {
            lapic_set_irr(&r.l, (uint8_t)offer_cases[i].in_service, true); /* level: no offer */
            cr_assert_eq(lapic_ack(&r.l), offer_cases[i].in_service);
        }
        if (offer_cases[i].also_pending >= 0)
            lapic_set_irr(&r.l, (uint8_t)offer_cases[i].also_pending, false);
        lapic_set_auto_eoi(&r.l, 0x41, offer_cases[i].auto_eoi);
        lapic_set_irr(&r.l, 0x41, offer_cases[i].level);
        cr_expect_eq(lapic_ack(&r.l), 0x41, "%s", offer_cases[i].what);
        cr_expect_eq(assist_bit(&r), offer_cases[i].offered, "%s: NoEoiRequired", offer_cases[i].what);
        cr_expect_eq(r.l.assist_armed, offer_cases[i].offered, "%s: armed", offer_cases[i].what);
        rig_fini(&r);
    }
}

Test(eoi_assist, consumed_offer_is_eoid_before_the_next_interrupt)
{
    struct eoi_rig r;
    rig_init(&r, true);
    lapic_set_irr(&r.l, 0x50, false);
    cr_assert_eq(lapic_ack(&r.l), 0x50);
    cr_assert_eq(assist_bit(&r), 1);
    guest_eoi(&r); /* clears the bit, no EOI write */
    cr_expect_eq(r.eois, 0);
    cr_expect(isr_has(&r.l, 0x50), "the EOI is deferred");
    /* A lower vector arrives: it could not be delivered behind 0x50, so the EOI happens now. */
    lapic_set_irr(&r.l, 0x30, false);
    cr_expect_eq(r.eois, 1);
    cr_expect_eq(r.last_eoi, 0x50);
    cr_expect(lapic_has_intr(&r.l), "0x30 is deliverable");
    cr_expect_eq(lapic_ack(&r.l), 0x30);
    cr_expect_eq(assist_bit(&r), 1, "offered again");
    guest_eoi(&r);
    /* The next INTA settles it too (here an ExtINT-free ack with nothing pending). */
    cr_expect_eq(lapic_ack(&r.l), -1);
    cr_expect_eq(r.eois, 2);
    cr_expect(isr_empty(&r.l));
    rig_fini(&r);
}

Test(eoi_assist, guest_that_ignores_the_bit_is_eoid_once)
{
    struct eoi_rig r;
    rig_init(&r, true);
    lapic_set_irr(&r.l, 0x50, false);
    cr_assert_eq(lapic_ack(&r.l), 0x50);
    cr_assert_eq(assist_bit(&r), 1);
    lapic_mmio_write(&r.l, 0xB0, 0, 4); /* xAPIC EOI, bit left set */
    cr_expect_eq(r.eois, 1);
    cr_expect_eq(assist_bit(&r), 0, "the offer is withdrawn");
    cr_expect_not(r.l.assist_armed);
    /* An interrupt now in service must not be EOId by a stale offer. */
    lapic_set_irr(&r.l, 0x60, true); /* level: no new offer */
    cr_assert_eq(lapic_ack(&r.l), 0x60);
    lapic_set_irr(&r.l, 0x70, false);
    cr_expect_eq(r.eois, 1);
    cr_expect(isr_has(&r.l, 0x60));
    rig_fini(&r);
}

Test(eoi_assist, unconsumed_offer_is_taken_back)
{
    struct eoi_rig r;
    rig_init(&r, true);
    lapic_set_irr(&r.l, 0x50, false);
    cr_assert_eq(lapic_ack(&r.l), 0x50);
    /* A higher vector arrives before the handler reached its EOI. */
    lapic_set_irr(&r.l, 0x80, false);
    cr_expect_eq(assist_bit(&r), 0, "bit cleared: the guest must EOI 0x50 itself");
    cr_expect_eq(r.eois, 0);
    cr_expect_eq(lapic_ack(&r.l), 0x80);
    cr_expect_eq(assist_bit(&r), 0, "nested in 0x50: no offer");
    guest_eoi(&r);
    guest_eoi(&r);
    cr_expect_eq(r.eois, 2);
    cr_expect(isr_empty(&r.l));
    rig_fini(&r);
}

Test(eoi_assist, disabled_page_changes_nothing)
{
    struct eoi_rig r;
    rig_init(&r, false);
    lapic_set_irr(&r.l, 0x50, false);
    cr_assert_eq(lapic_ack(&r.l), 0x50);
    cr_expect_eq(get_u64(r.f, ASSIST_PAGE), 0);
    cr_expect_not(r.l.assist_armed);
    lapic_set_irr(&r.l, 0x30, false);
    cr_expect_eq(r.eois, 0, "no EOI on the guest's behalf");
    cr_expect(isr_has(&r.l, 0x50));
    rig_fini(&r);
}

Test(eoi_assist, reset_withdraws_the_offer)
{
    struct eoi_rig r;
    rig_init(&r, true);
    lapic_set_irr(&r.l, 0x50, false);
    cr_assert_eq(lapic_ack(&r.l), 0x50);
    cr_assert_eq(assist_bit(&r), 1);
    lapic_init_reset(&r.l);
    cr_expect_eq(assist_bit(&r), 0, "no stale NoEoiRequired for a later interrupt");
    cr_expect_not(r.l.assist_armed);
    rig_fini(&r);
}

Test(eoi_assist, register_read_shows_the_consumed_eoi_done)
{
    struct eoi_rig r;
    rig_init(&r, true);
    lapic_set_irr(&r.l, 0x50, false);
    cr_assert_eq(lapic_ack(&r.l), 0x50);
    guest_eoi(&r);
    cr_expect_eq(lapic_mmio_read(&r.l, 0x120, 4) >> 16 & 1, 0, "ISR bit 0x50 reads clear");
    cr_expect_eq(r.eois, 1);
    cr_expect(isr_empty(&r.l));
    rig_fini(&r);
}
