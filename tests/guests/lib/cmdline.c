/* `key=value` lookup in a space-separated kernel command line. */
#include "guest.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

int cmdline_get(const char *cmdline, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (is_space(*p))
			p++;
		const char *tok = p;
		while (*p && !is_space(*p))
			p++;
		if ((size_t)(p - tok) > klen && !strncmp(tok, key, klen) &&
		    tok[klen] == '=') {
			size_t vlen = p - tok - klen - 1, n = vlen;

			if (len) {
				n = n < len - 1 ? n : len - 1;
				memcpy(buf, tok + klen + 1, n);
				buf[n] = '\0';
			}
			return (int)vlen;
		}
	}
	return -1;
}

bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out)
{
	char buf[32];
	int n = cmdline_get(cmdline, key, buf, sizeof(buf));

	return n > 0 && n < (int)sizeof(buf) && parse_u64(buf, out);
}
