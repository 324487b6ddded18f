/*
 * The selftest guest library: what a guest's guest_main() can use. In the
 * spirit of the KVM selftests' guest_code: serial output, printf-lite,
 * assertions, command-line lookup, MP table lookup, interrupts (irq.h:
 * IDT, LAPIC, IOAPIC; off until a guest calls irq_init), and i8042 reset as
 * the way to end. No libc, one flat identity map of the first
 * GUEST_MAP_GIB GiB built by the entry stub.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "io.h"

/* Machine state as it was at the first instruction (entry_x86_64.S). */
struct guest_entry_state {
	uint64_t path;      /* ENTRY_PATH_PVH32 or ENTRY_PATH_LONG64 */
	uint64_t rsi, rbx, rsp;
	uint64_t cr0, cr3, cr4, efer, rflags;
	uint64_t cs, ds, es, ss;
	uint8_t gdtr[16];   /* raw sgdt: u16 limit, u32 (PVH) or u64 base */
	uint8_t idtr[16];
};
_Static_assert(__builtin_offsetof(struct guest_entry_state, rsi) == ES_RSI, "rsi");
_Static_assert(__builtin_offsetof(struct guest_entry_state, cr3) == ES_CR3, "cr3");
_Static_assert(__builtin_offsetof(struct guest_entry_state, ss) == ES_SS, "ss");
_Static_assert(__builtin_offsetof(struct guest_entry_state, gdtr) == ES_GDTR, "gdtr");
_Static_assert(__builtin_offsetof(struct guest_entry_state, idtr) == ES_IDTR, "idtr");
_Static_assert(sizeof(struct guest_entry_state) == ES_SIZE, "size");

/* What main receives. */
struct guest_boot {
	int kind;                 /* GUEST_KIND_* this image was packaged as */
	const struct guest_entry_state *entry;
	const char *cmdline;      /* "" when the vmm passed none */
};

/* Provided by each guest; returning ends the guest with an i8042 reset. */
void guest_main(const struct guest_boot *gb);

/* Linker-script symbols */
extern char __image_start[], __image_end[];
extern const uint32_t guest_packaging;   /* from the packaging object */

/* Serial (16550 at COM1, polled). */
void serial_putc(char c);
void serial_write(const char *s, size_t n);
bool serial_can_read(void);
char serial_getc(void);        /* blocks (polls LSR.DR) */

/* printf-lite: %s %d %u %x %lx %llx %lu %ld %llu %c %p %%, with optional
 * '0' flag and width. Whole calls are serialized by a spinlock, so lines
 * from several CPUs do not interleave. */
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gvprintf(const char *fmt, va_list ap);
/* For fatal paths only (an exception inside gprintf): drop the console
 * lock so the report can be printed. */
void console_force_unlock(void);

/* Spinlock */
struct spinlock { volatile uint32_t locked; };
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);

/* End the guest: i8042 CPU reset (outb 0xfe to port 0x64). */
__attribute__((noreturn)) void guest_reset(void);
__attribute__((noreturn)) void guest_halt_forever(void);

/* Assertions: print file:line and the values, then reset. */
__attribute__((noreturn)) void guest_assert_fail(const char *file, int line,
    const char *expr, const char *detail, uint64_t a, uint64_t b);
/* A failed check with a message: "PREFIX: not ok: line L: ..." then reset. */
__attribute__((noreturn, format(printf, 3, 4)))
void guest_fail(const char *prefix, int line, const char *fmt, ...);
#define GUEST_ASSERT(cond) do { if (!(cond)) \
	guest_assert_fail(__FILE__, __LINE__, #cond, NULL, 0, 0); } while (0)
#define GUEST_ASSERT_EQ(a, b) do { uint64_t __a = (uint64_t)(a), \
	__b = (uint64_t)(b); if (__a != __b) guest_assert_fail(__FILE__, \
	__LINE__, #a " == " #b, "", __a, __b); } while (0)

/* Command line: look up `key=value` (space separated tokens). Returns the
 * value length (copied NUL-terminated into buf, truncated to len-1) or -1
 * when the key is absent. */
int cmdline_get(const char *cmdline, const char *key, char *buf, size_t len);
/* Numeric value (decimal or 0x hex); false when absent or malformed. */
bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out);

/* MP floating pointer: search [0x9fc00,0xa0000) then [0xf0000,0x100000) on
 * 16-byte boundaries for the "_MP_" signature (checksum not checked);
 * 0 when absent. */
uint64_t mp_find_mpf(void);
uint8_t checksum8(const void *p, size_t n);

/* LAPIC */
#define LAPIC_ID     0x020
#define LAPIC_SVR    0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
static inline uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

/* Busy-wait about `us` microseconds using the TSC (assumes <= 4 GHz, so it
 * waits at least that long on any real CPU). */
void delay_us(uint64_t us);

/* string.h subset (the compiler may call these) */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *h, const char *n);
bool parse_u64(const char *s, uint64_t *out);

#include "irq.h"

#endif
