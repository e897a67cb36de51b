/* MC146818 real-time clock and 128 bytes of CMOS at 0x70/0x71, IRQ8. */
#ifndef HVEMU_MC146818_H
#define HVEMU_MC146818_H

#include "devices/acpi_layout.h"
#include "devices/iobus.h"
#include "devices/irq.h"
#include "devices/vclock.h"

#define RTC_BASE 0x70
#define RTC_IRQ  8
#define RTC_CMOS_SIZE 128
/* CMOS index of the century byte; the FADT's CENTURY field names the same one. */
#define RTC_REG_CENTURY ACPI_RTC_CENTURY
/* Guest time at virtual time 0 unless host time is asked for: 2026-01-01 00:00:00 UTC. */
#define RTC_DEFAULT_EPOCH 1767225600ll

struct rtc_config {
    uint64_t ram_below_4g; /* bytes of RAM below 4 GiB (CMOS 0x15-0x18, 0x30-0x31, 0x34-0x35) */
    uint64_t ram_above_4g; /* bytes of RAM above 4 GiB (CMOS 0x5B-0x5D) */
    unsigned ncpus;        /* CMOS 0x5F = ncpus - 1, as QEMU sets it */
    bool host_time;        /* start from the host's wall clock (the one sanctioned host read) */
    int64_t start_time;    /* Unix seconds at virtual time 0 when !host_time; 0 = default */
};

struct mc146818 {
    uint8_t cmos[RTC_CMOS_SIZE];
    uint8_t index;
    bool nmi_masked;       /* port 0x70 bit 7 */
    int64_t base_sec;      /* Unix time of the second that began at virtual base_ns */
    uint64_t base_ns;
    uint64_t c_read_ns;    /* virtual time of the last register C read */
    bool irq_level;
    struct rtc_config cfg;
    struct vclock *clock;
    struct irq_line irq;
    struct vtimer periodic_timer;
    struct vtimer update_timer;
};

void rtc_init(struct mc146818 *r, struct vclock *clock, const struct irq_line *irq,
              const struct rtc_config *cfg);
void rtc_reset(struct mc146818 *r);
int rtc_register(struct mc146818 *r, struct iobus *bus);
bool rtc_nmi_masked(const struct mc146818 *r);
/* Current guest wall-clock time in Unix seconds. */
int64_t rtc_get_time(const struct mc146818 *r);

#endif
