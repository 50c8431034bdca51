#include "lib/rx.h"
#include "lib/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { REP_MAX = 1000, NODES_MAX = 4 * RX_MAX_PATTERN };

/* ---- the parse: pattern → tree ------------------------------------------------ */

enum node_type { N_EMPTY, N_CHAR, N_ANY, N_CLASS, N_BOL, N_EOL, N_WORDB, N_NWORDB, N_CAT, N_ALT, N_REP };

struct node {
	uint8_t type;
	uint8_t c;
	int cls;           /* N_CLASS: index into classes */
	int min, max;      /* N_REP; max -1: no bound */
	int left, right;   /* children (N_CAT, N_ALT: both; N_REP: left) */
};

typedef uint8_t byteset[32];

struct parser {
	const char *p, *end;
	struct node nodes[NODES_MAX];
	int nnodes;
	byteset *classes;
	int nclasses;
	char *err;
	size_t errlen;
	bool failed;
};

static int fail(struct parser *ps, const char *fmt, const char *what)
{
	if (!ps->failed)
		snprintf(ps->err, ps->errlen, fmt, what);
	ps->failed = true;
	return -1;
}

static int node(struct parser *ps, enum node_type t)
{
	if (ps->nnodes >= NODES_MAX)
		return fail(ps, "%s", "too complex");
	struct node *n = &ps->nodes[ps->nnodes];
	*n = (struct node){.type = (uint8_t)t, .left = -1, .right = -1};
	return ps->nnodes++;
}

static int pair(struct parser *ps, enum node_type t, int a, int b)
{
	int n = node(ps, t);
	if (n >= 0) {
		ps->nodes[n].left = a;
		ps->nodes[n].right = b;
	}
	return n;
}

static void set_add(byteset s, int c) { s[c >> 3] |= (uint8_t)(1u << (c & 7)); }
static bool set_has(const byteset s, int c) { return s[c >> 3] >> (c & 7) & 1; }

/* \d \w \s and their negations, into s. */
static bool class_escape(byteset s, char e)
{
	byteset t = {0};
	char lower = (char)(e | 0x20);
	if (lower != 'd' && lower != 'w' && lower != 's')
		return false;
	for (int c = 0; c < 256; c++) {
		bool in = lower == 'd' ? (c >= '0' && c <= '9')
			: lower == 'w' ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			                 (c >= 'A' && c <= 'Z') || c == '_'
			: c == ' ' || (c >= '\t' && c <= '\r');
		if (in)
			set_add(t, c);
	}
	for (int i = 0; i < 32; i++)
		s[i] |= e == lower ? t[i] : (uint8_t)~t[i];
	return true;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The byte an escape (after the backslash) stands for, or -1 after an error. */
static int escaped_byte(struct parser *ps)
{
	char e = *ps->p++;
	switch (e) {
	case 't': return '\t';
	case 'n': return '\n';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'v': return '\v';
	case '0': return 0;
	case 'x':
	case 'u': {
		int digits = e == 'x' ? 2 : 4, v = 0;
		for (int i = 0; i < digits; i++) {
			int h = ps->p < ps->end ? hex(*ps->p) : -1;
			if (h < 0)
				return fail(ps, "bad \\%s escape", e == 'x' ? "x" : "u");
			v = v * 16 + h;
			ps->p++;
		}
		if (v > 255)
			return fail(ps, "%s", "\\u escapes above \\u00ff are not supported");
		return v;
	}
	default:
		if (e >= '1' && e <= '9')
			return fail(ps, "%s", "back-references are not supported");
		return (unsigned char)e;   /* an identity escape: \. \/ \\ \( ... */
	}
}

static int parse_class(struct parser *ps)
{
	byteset s = {0};
	bool negate = ps->p < ps->end && *ps->p == '^';
	if (negate)
		ps->p++;
	bool first = true;
	while (ps->p < ps->end && (*ps->p != ']' || first)) {
		first = false;
		int lo;
		if (*ps->p == '\\' && ps->p + 1 < ps->end) {
			ps->p++;
			if (class_escape(s, *ps->p)) {
				ps->p++;
				continue;
			}
			if (*ps->p == 'b') {   /* backspace, inside a class */
				ps->p++;
				lo = '\b';
			} else if ((lo = escaped_byte(ps)) < 0) {
				return -1;
			}
		} else {
			lo = (unsigned char)*ps->p++;
		}
		int hi = lo;
		if (ps->p + 1 < ps->end && *ps->p == '-' && ps->p[1] != ']') {
			ps->p++;
			if (*ps->p == '\\' && ps->p + 1 < ps->end) {
				ps->p++;
				if ((hi = escaped_byte(ps)) < 0)
					return -1;
			} else {
				hi = (unsigned char)*ps->p++;
			}
			if (hi < lo)
				return fail(ps, "%s", "range out of order in a character class");
		}
		for (int c = lo; c <= hi; c++)
			set_add(s, c);
	}
	if (ps->p >= ps->end)
		return fail(ps, "%s", "missing ]");
	ps->p++;
	if (negate)
		for (int i = 0; i < 32; i++)
			s[i] = (uint8_t)~s[i];
	int n = node(ps, N_CLASS);
	if (n < 0)
		return -1;
	ps->classes = xrealloc(ps->classes, (size_t)(ps->nclasses + 1) * sizeof *ps->classes);
	memcpy(ps->classes[ps->nclasses], s, sizeof s);
	ps->nodes[n].cls = ps->nclasses++;
	return n;
}

static int parse_alt(struct parser *ps, int depth);

static int parse_atom(struct parser *ps, int depth)
{
	char c = *ps->p++;
	int n;
	switch (c) {
	case '(':
		if (ps->p < ps->end && *ps->p == '?') {
			if (ps->p + 1 < ps->end && ps->p[1] == ':')
				ps->p += 2;
			else
				return fail(ps, "%s", "look-around and named groups are not supported");
		}
		n = parse_alt(ps, depth + 1);
		if (n < 0)
			return -1;
		if (ps->p >= ps->end || *ps->p != ')')
			return fail(ps, "%s", "missing )");
		ps->p++;
		return n;
	case ')':
		return fail(ps, "%s", "unmatched )");
	case '[':
		return parse_class(ps);
	case '.':
		return node(ps, N_ANY);
	case '^':
		return node(ps, N_BOL);
	case '$':
		return node(ps, N_EOL);
	case '*':
	case '+':
	case '?':
		return fail(ps, "nothing to repeat before %s", c == '*' ? "*" : c == '+' ? "+" : "?");
	case '\\':
		if (ps->p >= ps->end)
			return fail(ps, "%s", "\\ at the end");
		if (*ps->p == 'b' || *ps->p == 'B') {
			return node(ps, *ps->p++ == 'b' ? N_WORDB : N_NWORDB);
		}
		{
			byteset s = {0};
			if (class_escape(s, *ps->p)) {
				ps->p--;   /* let parse_class-like code build it: simplest as a class */
				n = node(ps, N_CLASS);
				if (n < 0)
					return -1;
				ps->p += 2;
				ps->classes = xrealloc(ps->classes, (size_t)(ps->nclasses + 1) * sizeof *ps->classes);
				memcpy(ps->classes[ps->nclasses], s, sizeof s);
				ps->nodes[n].cls = ps->nclasses++;
				return n;
			}
		}
		{
			int b = escaped_byte(ps);
			if (b < 0)
				return -1;
			n = node(ps, N_CHAR);
			if (n >= 0)
				ps->nodes[n].c = (uint8_t)b;
			return n;
		}
	default:
		n = node(ps, N_CHAR);
		if (n >= 0)
			ps->nodes[n].c = (uint8_t)c;
		return n;
	}
}

/* {n}, {n,}, {n,m} at ps->p (after the '{'); false (nothing consumed) when it is not
 * one, and then the brace is a literal, as in JavaScript. */
static bool parse_braces(struct parser *ps, int *min, int *max)
{
	const char *q = ps->p;
	long a = 0, b;
	int digits = 0;
	while (q < ps->end && *q >= '0' && *q <= '9' && digits < 9)
		a = a * 10 + (*q++ - '0'), digits++;
	if (!digits)
		return false;
	b = a;
	if (q < ps->end && *q == ',') {
		q++;
		if (q < ps->end && *q >= '0' && *q <= '9') {
			b = 0;
			digits = 0;
			while (q < ps->end && *q >= '0' && *q <= '9' && digits < 9)
				b = b * 10 + (*q++ - '0'), digits++;
		} else {
			b = -1;
		}
	}
	if (q >= ps->end || *q != '}')
		return false;
	ps->p = q + 1;
	*min = a > REP_MAX ? REP_MAX + 1 : (int)a;
	*max = b < 0 ? -1 : b > REP_MAX ? REP_MAX + 1 : (int)b;
	return true;
}

static int parse_repeat(struct parser *ps, int depth)
{
	int atom = parse_atom(ps, depth);
	while (atom >= 0 && ps->p < ps->end) {
		int min, max;
		char c = *ps->p;
		if (c == '*')
			min = 0, max = -1;
		else if (c == '+')
			min = 1, max = -1;
		else if (c == '?')
			min = 0, max = 1;
		else if (c == '{') {
			ps->p++;
			if (!parse_braces(ps, &min, &max)) {
				ps->p--;
				break;
			}
			ps->p--;
		} else
			break;
		ps->p++;
		if (ps->p < ps->end && *ps->p == '?')
			ps->p++;   /* lazy: the same for "does it match" */
		if (max >= 0 && min > max)
			return fail(ps, "%s", "numbers out of order in {} quantifier");
		if (min > REP_MAX || max > REP_MAX)
			return fail(ps, "%s", "too complex (a repetition count over 1000)");
		uint8_t t = ps->nodes[atom].type;
		if (t == N_BOL || t == N_EOL || t == N_WORDB || t == N_NWORDB)
			return fail(ps, "%s", "nothing to repeat");
		int rep = node(ps, N_REP);
		if (rep < 0)
			return -1;
		ps->nodes[rep].left = atom;
		ps->nodes[rep].min = min;
		ps->nodes[rep].max = max;
		atom = rep;
	}
	return atom;
}

static int parse_concat(struct parser *ps, int depth)
{
	int left = -1;
	while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')') {
		int n = parse_repeat(ps, depth);
		if (n < 0)
			return -1;
		left = left < 0 ? n : pair(ps, N_CAT, left, n);
		if (left < 0)
			return -1;
	}
	return left < 0 ? node(ps, N_EMPTY) : left;
}

static int parse_alt(struct parser *ps, int depth)
{
	if (depth > 64)
		return fail(ps, "%s", "too deeply nested");
	int left = parse_concat(ps, depth);
	while (left >= 0 && ps->p < ps->end && *ps->p == '|') {
		ps->p++;
		int right = parse_concat(ps, depth);
		if (right < 0)
			return -1;
		left = pair(ps, N_ALT, left, right);
	}
	return left;
}

/* ---- the program: tree → instructions ------------------------------------------ */

enum op { I_CHAR, I_ANY, I_CLASS, I_MATCH, I_JMP, I_SPLIT, I_BOL, I_EOL, I_WORDB, I_NWORDB };

struct inst {
	uint8_t op, c;
	int x, y;          /* I_JMP: x; I_SPLIT: x, y; I_CLASS: x = class */
};

struct rx {
	struct inst *prog;
	int n;
	byteset *classes;
};

struct emitter {
	struct inst prog[RX_MAX_PROGRAM];
	int n;
	const struct parser *ps;
	bool full;
};

static int emit(struct emitter *e, enum op op, int x, int y)
{
	if (e->n >= RX_MAX_PROGRAM) {
		e->full = true;
		return RX_MAX_PROGRAM - 1;
	}
	e->prog[e->n] = (struct inst){.op = (uint8_t)op, .x = x, .y = y};
	return e->n++;
}

static void gen(struct emitter *e, int ni, int depth)
{
	if (e->full || depth > 200) {
		e->full = true;
		return;
	}
	const struct node *nd = &e->ps->nodes[ni];
	int a, b;
	switch (nd->type) {
	case N_EMPTY:
		break;
	case N_CHAR:
		e->prog[emit(e, I_CHAR, 0, 0)].c = nd->c;
		break;
	case N_ANY: emit(e, I_ANY, 0, 0); break;
	case N_CLASS: emit(e, I_CLASS, nd->cls, 0); break;
	case N_BOL: emit(e, I_BOL, 0, 0); break;
	case N_EOL: emit(e, I_EOL, 0, 0); break;
	case N_WORDB: emit(e, I_WORDB, 0, 0); break;
	case N_NWORDB: emit(e, I_NWORDB, 0, 0); break;
	case N_CAT: {
		/* A left-deep chain as long as the pattern: walk it, do not recurse down it. */
		int n = 0, *parts = NULL, k = ni;
		for (; e->ps->nodes[k].type == N_CAT; k = e->ps->nodes[k].left) {
			parts = xrealloc(parts, (size_t)(n + 1) * sizeof *parts);
			parts[n++] = e->ps->nodes[k].right;
		}
		gen(e, k, depth + 1);
		while (n > 0 && !e->full)
			gen(e, parts[--n], depth + 1);
		free(parts);
		break;
	}
	case N_ALT:
		a = emit(e, I_SPLIT, 0, 0);
		e->prog[a].x = e->n;
		gen(e, nd->left, depth + 1);
		b = emit(e, I_JMP, 0, 0);
		e->prog[a].y = e->n;
		gen(e, nd->right, depth + 1);
		e->prog[b].x = e->n;
		break;
	case N_REP: {
		int mandatory = nd->max < 0 && nd->min > 0 ? nd->min - 1 : nd->min;
		for (int i = 0; i < mandatory && !e->full; i++)
			gen(e, nd->left, depth + 1);
		if (nd->max < 0) {
			if (nd->min > 0) {          /* e+ : L: e; SPLIT L, next */
				int start = e->n;
				gen(e, nd->left, depth + 1);
				emit(e, I_SPLIT, start, e->n + 1);
			} else {                    /* e* : L: SPLIT body, out; body: e; JMP L */
				a = emit(e, I_SPLIT, 0, 0);
				e->prog[a].x = e->n;
				gen(e, nd->left, depth + 1);
				emit(e, I_JMP, a, 0);
				e->prog[a].y = e->n;
			}
			break;
		}
		/* max - min optional copies, each skippable to the end: SPLIT body, end. The
		 * splits are chained through y until the end is known. */
		int last = -1;
		for (int i = nd->min; i < nd->max && !e->full; i++) {
			int sp = emit(e, I_SPLIT, 0, last);
			e->prog[sp].x = e->n;
			last = sp;
			gen(e, nd->left, depth + 1);
		}
		while (last >= 0 && !e->full) {
			int prev = e->prog[last].y;
			e->prog[last].y = e->n;
			last = prev;
		}
		break;
	}
	}
}

struct rx *rx_compile(const char *pattern, char *err, size_t errlen)
{
	size_t len = strlen(pattern);
	if (len > RX_MAX_PATTERN) {
		snprintf(err, errlen, "longer than %d bytes", RX_MAX_PATTERN);
		return NULL;
	}
	struct parser *ps = xcalloc(1, sizeof *ps);
	ps->p = pattern;
	ps->end = pattern + len;
	ps->err = err;
	ps->errlen = errlen;
	int root = parse_alt(ps, 0);
	if (root >= 0 && ps->p < ps->end)
		root = fail(ps, "%s", "unmatched )");
	struct rx *r = NULL;
	if (root >= 0) {
		struct emitter *e = xcalloc(1, sizeof *e);
		e->ps = ps;
		gen(e, root, 0);
		emit(e, I_MATCH, 0, 0);
		if (e->full) {
			snprintf(err, errlen, "too complex (more than %d steps to match a character)",
			         RX_MAX_PROGRAM);
		} else {
			r = xcalloc(1, sizeof *r);
			r->n = e->n;
			r->prog = xmalloc((size_t)e->n * sizeof *r->prog);
			memcpy(r->prog, e->prog, (size_t)e->n * sizeof *r->prog);
			r->classes = ps->classes;
			ps->classes = NULL;
		}
		free(e);
	}
	free(ps->classes);
	free(ps);
	return r;
}

void rx_free(struct rx *r)
{
	if (!r)
		return;
	free(r->prog);
	free(r->classes);
	free(r);
}

/* ---- matching: a Pike VM ------------------------------------------------------- */

struct threads {
	int *pcs;          /* dense: the program counters in this list */
	int *where;        /* sparse: where[pc] is its index in pcs, if it is there */
	int n;
};

static bool listed(const struct threads *t, int pc)
{
	return (unsigned)t->where[pc] < (unsigned)t->n && t->pcs[t->where[pc]] == pc;
}

static bool is_word(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Follow jumps, splits and assertions from pc at position i; list what consumes. */
static void add(const struct rx *r, struct threads *t, int *stack, int pc, const char *s,
                size_t len, size_t i, long *steps)
{
	int top = 0;
	stack[top++] = pc;
	while (top > 0) {
		pc = stack[--top];
		if (listed(t, pc))
			continue;
		t->where[pc] = t->n;
		t->pcs[t->n++] = pc;
		(*steps)++;
		const struct inst *in = &r->prog[pc];
		bool before = i > 0 && is_word((unsigned char)s[i - 1]);
		bool after = i < len && is_word((unsigned char)s[i]);
		switch (in->op) {
		case I_JMP:
			stack[top++] = in->x;
			break;
		case I_SPLIT:
			stack[top++] = in->y;   /* x first: popped first */
			stack[top++] = in->x;
			break;
		case I_BOL:
			if (i == 0)
				stack[top++] = pc + 1;
			break;
		case I_EOL:
			if (i == len)
				stack[top++] = pc + 1;
			break;
		case I_WORDB:
			if (before != after)
				stack[top++] = pc + 1;
			break;
		case I_NWORDB:
			if (before == after)
				stack[top++] = pc + 1;
			break;
		default:
			break;
		}
	}
}

int rx_search(const struct rx *r, const char *s, size_t len, long *budget)
{
	/* Two lists, and a stack: a pc is listed once per position and pushes at most two
	 * more, so 2n + 1 entries suffice. Zeroed: the sparse sets read before they write. */
	int *mem = xcalloc((size_t)r->n * 6 + 1, sizeof *mem);
	struct threads cur = {mem, mem + r->n, 0}, next = {mem + 2 * r->n, mem + 3 * r->n, 0};
	int *stack = mem + 4 * r->n;
	long steps = 0;
	int found = 0;
	for (size_t i = 0;; i++) {
		/* Unanchored: a new attempt begins at every position. */
		add(r, &cur, stack, 0, s, len, i, &steps);
		for (int k = 0; k < cur.n && !found; k++) {
			const struct inst *in = &r->prog[cur.pcs[k]];
			int c = i < len ? (unsigned char)s[i] : -1;
			steps++;
			switch (in->op) {
			case I_MATCH:
				found = 1;
				break;
			case I_CHAR:
				if (c == in->c)
					add(r, &next, stack, cur.pcs[k] + 1, s, len, i + 1, &steps);
				break;
			case I_ANY:
				if (c >= 0 && c != '\n' && c != '\r')
					add(r, &next, stack, cur.pcs[k] + 1, s, len, i + 1, &steps);
				break;
			case I_CLASS:
				if (c >= 0 && set_has(r->classes[in->x], c))
					add(r, &next, stack, cur.pcs[k] + 1, s, len, i + 1, &steps);
				break;
			default:
				break;
			}
		}
		if (found || i >= len || steps > *budget)
			break;
		struct threads swap = cur;
		cur = next;
		next = swap;
		next.n = 0;
	}
	*budget -= steps;
	free(mem);
	if (found)
		return 1;
	return *budget < 0 ? -1 : 0;
}
