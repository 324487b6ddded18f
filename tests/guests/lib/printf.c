/* printf-lite straight to COM1, one spinlock around each call. */
#include "guest.h"

static struct spinlock console_lock;

void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			cpu_relax();
}

void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

void console_force_unlock(void)
{
	spin_unlock(&console_lock);
}

static void put_num(uint64_t v, unsigned base, bool neg, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (width-- > n)
		serial_putc(pad);
	while (n)
		serial_putc(buf[--n]);
}

static const char *put_conv(const char *f, va_list *ap)
{
	char pad = ' ';
	int width = 0, lng = 0;

	if (*f == '0')
		pad = *f++;
	while (*f >= '0' && *f <= '9')
		width = width * 10 + (*f++ - '0');
	while (*f == 'l')
		lng++, f++;
	switch (*f) {
	case 'd': {
		int64_t v = lng ? va_arg(*ap, int64_t) : va_arg(*ap, int);
		put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
		break;
	}
	case 'u':
	case 'x': {
		uint64_t v = lng ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned);
		put_num(v, *f == 'u' ? 10 : 16, false, width, pad);
		break;
	}
	case 'p':
		serial_write("0x", 2);
		put_num((uintptr_t)va_arg(*ap, void *), 16, false, width, pad);
		break;
	case 's': {
		const char *s = va_arg(*ap, const char *);
		s = s ? s : "(null)";
		serial_write(s, strlen(s));
		break;
	}
	case 'c':
		serial_putc((char)va_arg(*ap, int));
		break;
	case '\0':
		return f;
	default:
		serial_putc(*f);
		break;
	}
	return f + 1;
}

void gvprintf(const char *fmt, va_list ap)
{
	va_list cp;

	va_copy(cp, ap);
	spin_lock(&console_lock);
	while (*fmt) {
		if (*fmt != '%')
			serial_putc(*fmt++);
		else
			fmt = put_conv(fmt + 1, &cp);
	}
	spin_unlock(&console_lock);
	va_end(cp);
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
}
