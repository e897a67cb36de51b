/* The machine (partition): guest memory, buses, devices, virtual processors, the virtual clock,
 * and the run loop that executes VPs and handles their exits as a VT-x hypervisor does. */
#ifndef HVEMU_MACHINE_H
#define HVEMU_MACHINE_H

#include "types.h"
#include "cpu/cpu.h"
#include "devices/iobus.h"
#include "devices/vclock.h"
#include "mmu/physmem.h"

#define MACHINE_MAX_VCPUS 64
/* Round-robin slice: each runnable VP executes this many instructions per round. */
#define MACHINE_QUANTUM 20000

/* Exit statuses of the hvemu command (README documents them). */
enum hvemu_status {
    HVEMU_EXIT_POWEROFF = 0,
    HVEMU_EXIT_USAGE = 2,       /* bad option or bad input file */
    HVEMU_EXIT_HOST_ERROR = 3,  /* host-side failure (out of memory, I/O error) */
    HVEMU_EXIT_SHUTDOWN = 4,    /* triple fault / shutdown */
    HVEMU_EXIT_LIMIT = 5,       /* --max-insns reached */
    HVEMU_EXIT_CRASH = 6,       /* guest reported a crash (Hyper-V crash MSRs) */
    HVEMU_EXIT_RESET = 7,       /* guest requested a reset */
    HVEMU_EXIT_DEADLOCK = 8,    /* every VP halted with nothing left to wake it */
    /* debug-exit port: (value << 1) | 1, always odd */
};

enum trace_flag {
    TRACE_EXIT = 1u << 0, /* every VM exit */
    TRACE_IO = 1u << 1,   /* port I/O */
    TRACE_MSR = 1u << 2,  /* RDMSR/WRMSR exits */
    TRACE_HV = 1u << 3,   /* hypercalls, synthetic MSRs, SynIC */
    TRACE_INT = 1u << 4,  /* interrupt delivery */
    TRACE_CPU = 1u << 5,  /* run-loop events: halts, wake-ups, slices */
};

enum serial_mode { SERIAL_STDIO, SERIAL_NONE, SERIAL_FILE };

struct machine_config {
    uint64_t ram_size;
    /* COM1's host side, provided by the frontend: tx NULL discards output; rx is non-blocking
     * and may be NULL. */
    void (*serial_tx)(void *opaque, uint8_t byte);
    size_t (*serial_rx)(void *opaque, uint8_t *buf, size_t max);
    /* Blocks until host input may be there; false once input has ended (or never exists).
     * Called only when every VP is idle with no timer armed, so it never delays guest time. */
    bool (*serial_wait)(void *opaque);
    void *serial_opaque;
    const char *hv_spec;  /* --hv: "on", "off", or a list of enlightenments (NULL = on) */
    unsigned smp;
    enum serial_mode serial;
    const char *serial_path;
    uint32_t trace;
    uint64_t max_insns; /* 0 = no limit */
    /* Called once per round of the run loop, between slices (the frontend's display redraw
     * and window events); may be NULL. It must not change guest-visible state, except that
     * it may stop the machine. */
    void (*frame)(void *opaque);
    void *frame_opaque;
    bool rtc_host;
};

enum machine_stop {
    MSTOP_NONE,
    MSTOP_POWEROFF,
    MSTOP_DEBUG_EXIT,
    MSTOP_SHUTDOWN,
    MSTOP_LIMIT,
    MSTOP_RESET,
    MSTOP_CRASH,
    MSTOP_DEADLOCK,
    MSTOP_HOST_ERROR,
};

struct machine_devices; /* the platform's devices, private to machine.c */

struct machine {
    struct machine_config cfg;
    struct physmem mem;
    struct iobus io;
    struct vclock clock;
    unsigned nvcpus;
    struct vcpu *vcpu[MACHINE_MAX_VCPUS];
    struct machine_devices *dev;
    void *trace_out;           /* FILE * for --trace lines */
    unsigned current_vp;       /* the VP inside cpu_run: LAPIC MMIO goes to its APIC */
    bool wait_sipi[MACHINE_MAX_VCPUS]; /* an AP in wait-for-SIPI: idle until INIT/SIPI */
    /* Each VP's TSC counts its own retired instructions; these record when it was last lined
     * up with the virtual clock, so halted stretches and other VPs' longer slices are added. */
    uint64_t tsc_sync_ns[MACHINE_MAX_VCPUS];
    uint64_t tsc_sync_icount[MACHINE_MAX_VCPUS];
    int64_t tsc_guest_offset[MACHINE_MAX_VCPUS]; /* TSC - virtual ns, as the LAPIC knows it */
    enum machine_stop stop;
    int exit_status;
    uint64_t total_insns;
};

/* Returns 0, or -1 with a message in err. */
int machine_create(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen);
void machine_destroy(struct machine *m);
/* Run until the guest stops; returns the hvemu exit status. */
int machine_run(struct machine *m);
/* Machine-level requests from devices and the hypervisor. */
void machine_request_stop(struct machine *m, enum machine_stop why, int status);

int machine_status_for(enum machine_stop why, int debug_code);
const char *machine_stop_name(enum machine_stop why);
/* Where the machine's ACPI RSDP lies (for the Linux boot protocol). */
gpa_t machine_acpi_rsdp(const struct machine *m);
/* The machine's VGA (text mode), whose screen the frontend shows. */
struct vga_text *machine_vga(struct machine *m);
/* Hypervisor partition of the machine, or NULL with --hv off. */
struct hv_partition *machine_hv(const struct machine *m);

#endif
