/*
 * The seccomp profile parser (policy.h): one line at a time, a small
 * tokenizer, then a recursive-descent parse of the rule; the first error
 * ends the parse with "FILE:LINE: message". Nothing here knows libseccomp;
 * syscall numbers come from the caller's resolver.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define POLICY_FILE_MAX  (1u << 20)
#define POLICY_MAX_TOKS  (POLICY_LINE_MAX / 2 + 1)
#define POLICY_SHOW      40     /* bytes of a token quoted in a message */

enum tok_kind { TOK_WORD, TOK_OP };

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t len;
};

/* The parse of one line. */
struct pline {
	const char *file;
	unsigned line;
	char *msg;
	size_t msg_size;
	struct tok tok[POLICY_MAX_TOKS];
	unsigned ntok;
	unsigned pos;           /* next token */
};

static int __attribute__((format(printf, 2, 3)))
pl_err(struct pline *pl, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(pl->msg, pl->msg_size, "%s:%u: ", pl->file,
	    pl->line);
	if (n < pl->msg_size) {
		va_start(ap, fmt);
		vsnprintf(pl->msg + n, pl->msg_size - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool
tok_is(const struct tok *t, const char *s)
{
	return t != NULL && t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

/* How much of t to quote in a message. */
static int
tshow(const struct tok *t)
{
	return (int)(t->len < POLICY_SHOW ? t->len : POLICY_SHOW);
}

static const struct tok *
pl_peek(struct pline *pl)
{
	return pl->pos < pl->ntok ? &pl->tok[pl->pos] : NULL;
}

static const struct tok *
pl_next(struct pline *pl)
{
	return pl->pos < pl->ntok ? &pl->tok[pl->pos++] : NULL;
}

static bool
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

static bool
is_op_char(char c)
{
	return c != '\0' && strchr("=!<>&|", c) != NULL;
}

/* Split the rule part of a line (before its '#') into tokens. */
static int
tokenize(struct pline *pl, const char *s, const char *end)
{
	size_t n;

	pl->ntok = 0;
	while (s < end) {
		if (*s == ' ' || *s == '\t' || *s == '\r') {
			s++;
			continue;
		}
		for (n = 0; s + n < end && is_word_char(s[n]); n++)
			;
		if (n > 0) {
			pl->tok[pl->ntok++] = (struct tok){ TOK_WORD, s, n };
		} else if (is_op_char(*s)) {
			/* a run of operator characters: the parser judges it */
			for (n = 0; s + n < end && is_op_char(s[n]); n++)
				;
			pl->tok[pl->ntok++] = (struct tok){ TOK_OP, s, n };
		} else if ((unsigned char)*s >= 0x21 && (unsigned char)*s < 0x7f) {
			return pl_err(pl, "unexpected character '%c'", *s);
		} else {
			return pl_err(pl, "unexpected byte 0x%02x",
			    (unsigned char)*s);
		}
		s += n;
	}
	return 0;
}

static int
parse_number(struct pline *pl, const struct tok *t, uint64_t *v)
{
	unsigned base = 10, d;
	size_t i = 0;
	char c;

	if (t->len > 2 && t->s[0] == '0' && (t->s[1] == 'x' || t->s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (*v = 0; i < t->len; i++) {
		c = t->s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return pl_err(pl, "bad value '%.*s'", tshow(t), t->s);
		if (__builtin_mul_overflow(*v, base, v) ||
		    __builtin_add_overflow(*v, d, v))
			return pl_err(pl, "value '%.*s' does not fit in 64 bits",
			    tshow(t), t->s);
	}
	return 0;
}

static int
parse_term(struct pline *pl, const char *after, uint64_t *v)
{
	const struct tok *t = pl_next(pl);
	char name[POLICY_NAME_MAX];

	if (t == NULL || t->kind != TOK_WORD)
		return pl_err(pl, "expected a value after '%s'", after);
	if (t->s[0] >= '0' && t->s[0] <= '9')
		return parse_number(pl, t, v);
	if (t->len < sizeof(name)) {
		memcpy(name, t->s, t->len);
		name[t->len] = '\0';
		if (policy_symbol(name, v) == 0)
			return 0;
	}
	return pl_err(pl, "unknown symbol '%.*s'", tshow(t), t->s);
}

/* VALUE := TERM [| TERM]... */
static int
parse_value(struct pline *pl, const char *after, uint64_t *v)
{
	uint64_t term;
	int rc;

	if ((rc = parse_term(pl, after, v)) < 0)
		return rc;
	while (tok_is(pl_peek(pl), "|")) {
		pl_next(pl);
		if ((rc = parse_term(pl, "|", &term)) < 0)
			return rc;
		*v |= term;
	}
	return 0;
}

static int
parse_arg(struct pline *pl, unsigned *arg)
{
	const struct tok *t = pl_next(pl);
	unsigned n = 0;
	size_t i;

	if (t == NULL || t->kind != TOK_WORD || t->len < 4 ||
	    memcmp(t->s, "arg", 3) != 0)
		goto bad;
	for (i = 3; i < t->len; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			goto bad;
		if (n < 100)
			n = n * 10 + (unsigned)(t->s[i] - '0');
	}
	if (n >= POLICY_MAX_ARGS)
		return pl_err(pl, "%.*s: no such argument (arg0 to arg5)",
		    tshow(t), t->s);
	*arg = n;
	return 0;
bad:
	if (t == NULL)
		return pl_err(pl, "expected argN after '&&'");
	return pl_err(pl, "expected argN, got '%.*s'", tshow(t), t->s);
}

static const struct {
	const char *s;
	enum policy_op op;
} cmp_ops[] = {
	{ "==", POLICY_EQ }, { "!=", POLICY_NE }, { "<", POLICY_LT },
	{ "<=", POLICY_LE }, { ">", POLICY_GT }, { ">=", POLICY_GE },
};

const char *
policy_op_name(enum policy_op op)
{
	size_t i;

	for (i = 0; i < sizeof(cmp_ops) / sizeof(cmp_ops[0]); i++)
		if (cmp_ops[i].op == op)
			return cmp_ops[i].s;
	return "&";
}

/* argN & MASK == VALUE, after the '&'. */
static int
parse_masked(struct pline *pl, struct policy_cond *c)
{
	int rc;

	c->op = POLICY_MASKED_EQ;
	if ((rc = parse_value(pl, "&", &c->mask)) < 0)
		return rc;
	if (!tok_is(pl_next(pl), "=="))
		return pl_err(pl, "expected '==' after 'arg%u & MASK'", c->arg);
	if ((rc = parse_value(pl, "==", &c->value)) < 0)
		return rc;
	if (c->mask == 0)
		return pl_err(pl, "arg%u & 0 tests nothing", c->arg);
	if (c->value & ~c->mask)
		return pl_err(pl, "arg%u & 0x%llx can never be 0x%llx", c->arg,
		    (unsigned long long)c->mask, (unsigned long long)c->value);
	return 0;
}

static int
parse_cond(struct pline *pl, struct policy_cond *c)
{
	const struct tok *t;
	size_t i;
	int rc;

	if ((rc = parse_arg(pl, &c->arg)) < 0)
		return rc;
	c->mask = 0;
	t = pl_next(pl);
	if (t == NULL)
		return pl_err(pl, "expected an operator after arg%u", c->arg);
	if (tok_is(t, "&"))
		return parse_masked(pl, c);
	for (i = 0; i < sizeof(cmp_ops) / sizeof(cmp_ops[0]); i++)
		if (tok_is(t, cmp_ops[i].s))
			break;
	if (i == sizeof(cmp_ops) / sizeof(cmp_ops[0]))
		return pl_err(pl, "bad operator '%.*s' after arg%u (want == != "
		    "< <= > >= or &)", tshow(t), t->s, c->arg);
	c->op = cmp_ops[i].op;
	return parse_value(pl, cmp_ops[i].s, &c->value);
}

static int
cond_cmp(const void *a, const void *b)
{
	const struct policy_cond *x = a, *y = b;

	return (int)x->arg - (int)y->arg;
}

/* The conditions after the syscall name: COND [&& COND]... */
static int
parse_conds(struct pline *pl, struct policy_rule *r)
{
	const struct tok *t;
	unsigned seen = 0;
	int rc;

	while ((t = pl_next(pl)) != NULL) {
		if (r->ncond > 0 && !tok_is(t, "&&"))
			return pl_err(pl, "expected '&&' or '#' after a "
			    "condition, got '%.*s'", tshow(t), t->s);
		if (r->ncond == 0)
			pl->pos--;      /* the first condition: no '&&' */
		if (r->ncond == POLICY_MAX_ARGS)
			return pl_err(pl, "more than %d conditions",
			    POLICY_MAX_ARGS);
		if ((rc = parse_cond(pl, &r->cond[r->ncond])) < 0)
			return rc;
		if (seen & (1u << r->cond[r->ncond].arg))
			return pl_err(pl, "arg%u twice in one rule",
			    r->cond[r->ncond].arg);
		seen |= 1u << r->cond[r->ncond].arg;
		r->ncond++;
	}
	qsort(r->cond, r->ncond, sizeof(r->cond[0]), cond_cmp);
	return 0;
}

static bool
ioctl_pinned(const struct policy_rule *r)
{
	unsigned i;

	for (i = 0; i < r->ncond; i++)
		if (r->cond[i].arg == 1 && (r->cond[i].op == POLICY_EQ ||
		    r->cond[i].op == POLICY_MASKED_EQ))
			return true;
	return false;
}

static bool
same_conds(const struct policy_rule *a, const struct policy_rule *b)
{
	unsigned i;

	if (a->ncond != b->ncond)
		return false;
	for (i = 0; i < a->ncond; i++)
		if (a->cond[i].arg != b->cond[i].arg ||
		    a->cond[i].op != b->cond[i].op ||
		    a->cond[i].mask != b->cond[i].mask ||
		    a->cond[i].value != b->cond[i].value)
			return false;
	return true;
}

/* Rule r against the rules before it. */
static int
check_rule(struct pline *pl, const struct policy *p,
    const struct policy_rule *r)
{
	unsigned i;

	if (strcmp(r->name, "ioctl") == 0 && !ioctl_pinned(r))
		return pl_err(pl, "ioctl must be filtered by arg1");
	for (i = 0; i < p->nrules; i++) {
		if (p->rules[i].nr != r->nr)
			continue;
		if (same_conds(&p->rules[i], r))
			return pl_err(pl, "duplicate of line %u",
			    p->rules[i].line);
		if (p->rules[i].ncond == 0 || r->ncond == 0)
			return pl_err(pl, "conflicts with line %u (an "
			    "unconditional rule allows every call)",
			    p->rules[i].line);
	}
	return 0;
}

static int
parse_name(struct pline *pl, policy_resolve_fn resolve, struct policy_rule *r)
{
	const struct tok *t = pl_next(pl);
	int show;

	if (t->kind != TOK_WORD)
		return pl_err(pl, "expected a syscall name, got '%.*s'",
		    tshow(t), t->s);
	show = tshow(t);
	if (t->len >= sizeof(r->name))
		return pl_err(pl, "unknown syscall '%.*s'", show, t->s);
	memcpy(r->name, t->s, t->len);
	r->name[t->len] = '\0';
	r->nr = resolve(r->name);
	if (r->nr < 0)
		return pl_err(pl, "unknown syscall '%.*s'", show, t->s);
	return 0;
}

static int
policy_add(struct policy *p, const struct policy_rule *r)
{
	struct policy_rule *n;
	unsigned cap;

	if (p->nrules == p->cap) {
		cap = p->cap ? p->cap * 2 : 32;
		n = realloc(p->rules, cap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		p->rules = n;
		p->cap = cap;
	}
	p->rules[p->nrules++] = *r;
	return 0;
}

/* Is s..end only blanks? */
static bool
blank(const char *s, const char *end)
{
	for (; s < end; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r')
			return false;
	return true;
}

/* One line, s..end without its newline. */
static int
parse_line(struct pline *pl, struct policy *p, policy_resolve_fn resolve,
    const char *s, const char *end)
{
	const char *hash = memchr(s, '#', (size_t)(end - s));
	struct policy_rule r;
	int rc;

	if ((size_t)(end - s) > POLICY_LINE_MAX)
		return pl_err(pl, "line longer than %d bytes", POLICY_LINE_MAX);
	if (memchr(s, '\0', (size_t)(end - s)) != NULL)
		return pl_err(pl, "NUL byte");
	if ((rc = tokenize(pl, s, hash ? hash : end)) < 0)
		return rc;
	if (pl->ntok == 0)
		return 0;               /* blank or comment line */
	if (hash == NULL)
		return pl_err(pl, "rule without a comment (say why after '#')");
	if (blank(hash + 1, end))
		return pl_err(pl, "empty comment (say why after '#')");
	memset(&r, 0, sizeof(r));
	r.line = pl->line;
	pl->pos = 0;
	if ((rc = parse_name(pl, resolve, &r)) < 0 ||
	    (rc = parse_conds(pl, &r)) < 0 ||
	    (rc = check_rule(pl, p, &r)) < 0)
		return rc;
	if (p->nrules == POLICY_MAX_RULES)
		return pl_err(pl, "more than %d rules", POLICY_MAX_RULES);
	return policy_add(p, &r);
}

int
policy_parse(struct policy *p, const char *file, const char *text,
    size_t len, policy_resolve_fn resolve, char *msg, size_t msg_size)
{
	const char *s = text, *end = text + len, *nl;
	struct pline *pl;
	int rc = 0;

	pl = calloc(1, sizeof(*pl));    /* ~12 KiB of tokens: off the stack */
	if (pl == NULL)
		return -ENOMEM;
	pl->file = file;
	pl->msg = msg;
	pl->msg_size = msg_size;
	while (s < end && rc == 0) {
		pl->line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		rc = parse_line(pl, p, resolve, s, nl);
		s = nl + 1;
	}
	if (rc == -ENOMEM)
		snprintf(msg, msg_size, "%s:%u: out of memory", file, pl->line);
	free(pl);
	return rc;
}

int
policy_parse_file(struct policy *p, const char *path,
    policy_resolve_fn resolve, char *msg, size_t msg_size)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto io;
	rc = -EFBIG;
	if (st.st_size > POLICY_FILE_MAX)
		goto fail;
	rc = -ENOMEM;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (len <= (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size + 1 - len)) != 0) {
		if (n < 0)
			goto io;
		len += (size_t)n;
	}
	rc = -EFBIG;
	if (len > (size_t)st.st_size)
		goto fail;      /* it grew while we read */
	close(fd);
	rc = policy_parse(p, path, buf, len, resolve, msg, msg_size);
	free(buf);
	return rc;
io:
	rc = -errno;
fail:
	snprintf(msg, msg_size, "%s: %s", path, strerror(-rc));
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

void
policy_free(struct policy *p)
{
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

unsigned
policy_count(const struct policy *p, const char *name)
{
	unsigned i, n = 0;

	for (i = 0; i < p->nrules; i++)
		n += strcmp(p->rules[i].name, name) == 0;
	return n;
}

unsigned
policy_nsyscalls(const struct policy *p)
{
	unsigned i, j, n = 0;

	for (i = 0; i < p->nrules; i++) {
		for (j = 0; j < i; j++)
			if (p->rules[j].nr == p->rules[i].nr)
				break;
		n += j == i;
	}
	return n;
}
