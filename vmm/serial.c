/*
 * 16550A UART, the subset Linux's 8250 driver and simple polled guests use:
 * THR/RBR, IER, IIR/FCR, LCR (DLAB), MCR (loopback), LSR, MSR, SCR.
 * Interrupt sources: received data available and THR empty.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "serial.h"

#define UART_IER_RDI   0x01
#define UART_IER_THRI  0x02
#define UART_IIR_NONE  0x01
#define UART_IIR_THRI  0x02
#define UART_IIR_RDI   0x04
#define UART_IIR_FIFO  0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB  0x80
#define UART_MCR_LOOP  0x10
#define UART_LSR_DR    0x01
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40
#define UART_MSR_DEFAULT 0xb0 /* DCD | DSR | CTS */

struct serial {
	pthread_mutex_t lock;
	int out_fd;
	int room_efd;
	void (*raise_irq)(void *opaque, int level);
	void *opaque;
	int irq_level;

	uint8_t ier, lcr, mcr, msr, scr, fcr, dll, dlm;
	int thr_empty_pending;      /* THRE interrupt armed */
	uint8_t rx[SERIAL_RX_FIFO];
	unsigned rx_head, rx_count;
};

struct serial *
serial_new(int out_fd, void (*raise_irq)(void *, int), void *opaque, int room_efd)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->room_efd = room_efd;
	s->raise_irq = raise_irq;
	s->opaque = opaque;
	s->msr = UART_MSR_DEFAULT;
	s->dll = 0x0c;      /* 9600 baud */
	s->lcr = 0x03;      /* 8N1 */
	return s;
}

void
serial_free(struct serial *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Interrupt identification, highest priority first. Caller holds lock. */
static uint8_t
serial_iir(const struct serial *s)
{
	if ((s->ier & UART_IER_RDI) && s->rx_count > 0)
		return UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_empty_pending)
		return UART_IIR_THRI;
	return UART_IIR_NONE;
}

/* Drive the IRQ line from the interrupt state. Caller holds lock. */
static void
serial_update_irq(struct serial *s)
{
	int level = serial_iir(s) != UART_IIR_NONE;

	if (level != s->irq_level && s->raise_irq != NULL) {
		s->irq_level = level;
		s->raise_irq(s->opaque, level);
	}
}

static void
serial_rx_put(struct serial *s, uint8_t b)
{
	if (s->rx_count < SERIAL_RX_FIFO) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO] = b;
		s->rx_count++;
	}
}

/*
 * Write one guest byte to the output fd. Called WITHOUT the lock, so a
 * blocked stdout never stalls the main thread. EINTR is not retried: the
 * only signal a vCPU thread takes is the stop kick, and then the byte is
 * dropped so the thread can leave. Other errors (closed stdout) drop the
 * byte too: the guest keeps running.
 */
static void
serial_emit(struct serial *s, uint8_t b)
{
	if (write(s->out_fd, &b, 1) < 0) {
		/* dropped, see above */
	}
}

/* Tell the feeder the receive FIFO has room again. Caller holds lock. */
static void
serial_rx_room_appeared(struct serial *s)
{
	uint64_t one = 1;

	if (s->room_efd >= 0 && write(s->room_efd, &one, sizeof(one)) < 0) {
		/* eventfd counter saturated: the feeder is awake anyway */
	}
}

static uint8_t
serial_rx_pop(struct serial *s)
{
	uint8_t b;

	if (s->rx_count == 0)
		return 0;
	b = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO;
	s->rx_count--;
	serial_rx_room_appeared(s);
	return b;
}

/* In loopback mode MSR reflects MCR: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
static uint8_t
serial_msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & UART_MCR_LOOP))
		return s->msr;
	return (uint8_t)(((m & 0x01) << 5) | ((m & 0x02) << 3) | ((m & 0x04) << 4) |
	    ((m & 0x08) << 4));
}

uint8_t
serial_read(struct serial *s, unsigned off)
{
	uint8_t v = 0;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case 0:
		v = (s->lcr & UART_LCR_DLAB) ? s->dll : serial_rx_pop(s);
		break;
	case 1:
		v = (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier;
		break;
	case 2:
		v = serial_iir(s);
		if (v == UART_IIR_THRI)
			s->thr_empty_pending = 0;  /* reading IIR clears THRE */
		if (s->fcr & UART_FCR_ENABLE)
			v |= UART_IIR_FIFO;
		break;
	case 3: v = s->lcr; break;
	case 4: v = s->mcr; break;
	case 5:
		v = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0);
		break;
	case 6: v = serial_msr(s); break;
	case 7: v = s->scr; break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

void
serial_write(struct serial *s, unsigned off, uint8_t val)
{
	int emit = 0;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case 0:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = val;
		} else {
			if (s->mcr & UART_MCR_LOOP)
				serial_rx_put(s, val);
			else
				emit = 1;
			s->thr_empty_pending = 1;  /* transmit is instantaneous */
		}
		break;
	case 1:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = val;
		} else {
			/* Enabling THRI with an empty THR raises it at once. */
			if ((val & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
				s->thr_empty_pending = 1;
			s->ier = val & 0x0f;
		}
		break;
	case 2:
		s->fcr = val;
		if ((val & UART_FCR_CLEAR_RX) && s->rx_count > 0) {
			s->rx_count = 0;
			s->rx_head = 0;
			serial_rx_room_appeared(s);
		}
		break;
	case 3: s->lcr = val; break;
	case 4: s->mcr = val & 0x1f; break;
	case 7: s->scr = val; break;
	default: break;  /* LSR/MSR are read-only */
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (emit)
		serial_emit(s, val);
}

size_t
serial_rx_push(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n && s->rx_count < SERIAL_RX_FIFO; i++)
		serial_rx_put(s, buf[i]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return i;
}

size_t
serial_rx_room(struct serial *s)
{
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = SERIAL_RX_FIFO - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return room;
}
