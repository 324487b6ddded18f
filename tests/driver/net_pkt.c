/*
 * vu-driver net modes: IPv4/TCP frames for the checksum and GSO checks,
 * and the Internet checksum (RFC 1071) to verify what arrives.
 */
#include <arpa/inet.h>
#include <string.h>

#include "net.h"

#define TCP_ISN 0x10000000u

static const uint8_t ip_guest[4] = { 10, 77, 0, 2 };
static const uint8_t ip_host[4] = { 10, 77, 0, 1 };

static uint32_t
sum16(const uint8_t *p, uint32_t len, uint32_t acc)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static uint16_t
fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Sum of the TCP pseudo-header for a TCP length. */
static uint32_t
pseudo(const uint8_t *ip, uint32_t tcp_len)
{
	uint32_t acc = sum16(ip + 12, 8, 0);

	return acc + 6 + tcp_len;
}

uint8_t
net_tcp_byte(uint32_t j)
{
	return (uint8_t)(j * 13u + 5u);
}

uint32_t
net_tcp_frame(uint8_t *buf, uint32_t payload, unsigned dir, bool partial)
{
	static const uint8_t mg[6] = { 2, 0, 0, 0, 0, 1 }, mp[6] = { 2, 0, 0, 0, 0, 2 };
	uint8_t *ip = buf + NET_ETH_LEN, *th = ip + 20;
	uint32_t len = NET_TCP_HDRS + payload, tcp_len = 20 + payload;

	memcpy(buf, dir == NET_DIR_TX ? mp : mg, 6);
	memcpy(buf + 6, dir == NET_DIR_TX ? mg : mp, 6);
	put16(buf + 12, 0x0800);
	memset(ip, 0, 40);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(len - NET_ETH_LEN));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, dir == NET_DIR_TX ? ip_guest : ip_host, 4);
	memcpy(ip + 16, dir == NET_DIR_TX ? ip_host : ip_guest, 4);
	put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	put16(th, 40000);
	put16(th + 2, 5001);
	put16(th + 4, TCP_ISN >> 16);
	put16(th + 6, TCP_ISN & 0xffff);
	th[12] = 5 << 4;
	th[13] = 0x18;          /* PSH, ACK */
	put16(th + 14, 65535);
	for (uint32_t j = 0; j < payload; j++)
		th[20 + j] = net_tcp_byte(j);
	if (partial)
		put16(th + 16, fold(pseudo(ip, tcp_len)));
	else
		put16(th + 16, (uint16_t)~fold(sum16(th, tcp_len, pseudo(ip, tcp_len))));
	return len;
}

bool
net_tcp_csum_ok(const uint8_t *buf, uint32_t len)
{
	const uint8_t *ip = buf + NET_ETH_LEN;
	uint32_t ip_len;

	if (len < NET_TCP_HDRS || get16(buf + 12) != 0x0800 || ip[0] != 0x45)
		return false;
	ip_len = get16(ip + 2);
	if (ip_len + NET_ETH_LEN > len || ip_len < 40)
		return false;
	if (fold(sum16(ip, 20, 0)) != 0xffff)
		return false;
	return fold(sum16(ip + 20, ip_len - 20, pseudo(ip, ip_len - 20))) == 0xffff;
}

void
net_csum_complete(uint8_t *buf, uint32_t len, uint16_t start, uint16_t off)
{
	if ((uint32_t)start + off + 2 > len)
		return;
	put16(buf + start + off, (uint16_t)~fold(sum16(buf + start, len - start, 0)));
}
