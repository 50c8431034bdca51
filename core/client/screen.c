#include "client/screen.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static volatile sig_atomic_t term_taken;
static bool mouse_on;

/* Alternate screen, hidden cursor, no line wrap (the last column of a line is drawn
 * without scrolling), and back. */
static const char enter_seq[] = "\033[?1049h\033[?25l\033[?7l";
static const char mouse_seq[] = "\033[?1000h\033[?1006h";
static const char leave_seq[] = "\033[?1000l\033[?1006l\033[0m\033[?7h\033[?25h\033[?1049l";

void term_close(void)
{
	if (!term_taken)
		return;
	term_taken = 0;
	(void)!write(1, leave_seq, sizeof leave_seq - 1);
	tcsetattr(0, TCSAFLUSH, &saved);
}

/* A signal that ends us (not one the applet handles itself): give the terminal back,
 * then die of it as we would have. */
static void fatal_signal(int sig)
{
	term_close();
	signal(sig, SIG_DFL);
	raise(sig);
}

bool term_open(struct screen *s, bool mouse)
{
	memset(s, 0, sizeof *s);
	if (!isatty(0) || !isatty(1) || tcgetattr(0, &saved) < 0)
		return false;
	struct termios raw = saved;
	raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	raw.c_oflag &= ~(tcflag_t)OPOST;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cflag |= CS8;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(0, TCSAFLUSH, &raw) < 0)
		return false;
	term_taken = 1;
	mouse_on = mouse;
	atexit(term_close);
	int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT};
	for (size_t i = 0; i < ARRAY_LEN(fatal); i++)
		signal(fatal[i], fatal_signal);
	(void)!write(1, enter_seq, sizeof enter_seq - 1);
	if (mouse)
		(void)!write(1, mouse_seq, sizeof mouse_seq - 1);
	screen_resize(s);
	return true;
}

void screen_resize(struct screen *s)
{
	struct winsize ws;
	int w = 80, h = 24;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)
		w = ws.ws_col, h = ws.ws_row;
	if (w > 1000)
		w = 1000;
	if (h > 500)
		h = 500;
	s->w = w;
	s->h = h;
	free(s->cells);
	free(s->shown);
	s->cells = xcalloc((size_t)w * (size_t)h, sizeof *s->cells);
	s->shown = xcalloc((size_t)w * (size_t)h, sizeof *s->shown);
	s->full = true;
	screen_clear(s);
}

void screen_free(struct screen *s)
{
	free(s->cells);
	free(s->shown);
	buf_free(&s->out);
	s->cells = s->shown = NULL;
}

void screen_clear(struct screen *s)
{
	for (int i = 0; i < s->w * s->h; i++)
		s->cells[i] = (struct cell){.ch = ' '};
}

static struct cell *at(struct screen *s, int x, int y)
{
	return x >= 0 && y >= 0 && x < s->w && y < s->h ? &s->cells[y * s->w + x] : NULL;
}

/* One code point from UTF-8 text (invalid bytes are one '?' each). */
static uint32_t next_cp(const unsigned char **p)
{
	const unsigned char *t = *p;
	uint32_t c = t[0];
	int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
	if (n < 0) {
		*p = t + 1;
		return '?';
	}
	c &= n == 0 ? 0x7f : 0x3f >> n;
	for (int i = 1; i <= n; i++) {
		if ((t[i] & 0xc0) != 0x80) {
			*p = t + 1;
			return '?';
		}
		c = c << 6 | (t[i] & 0x3f);
	}
	*p = t + n + 1;
	return c;
}

/* What a code point shows as: itself if it takes one column and the terminal can
 * show it, else '?'; 0 for those that take none (combining marks). */
static uint32_t shown_as(const struct screen *s, uint32_t c)
{
	if (c == '\t')
		return ' ';
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
		return '?';
	if (c < 0x80)
		return c;
	if (!s->utf8)
		return '?';
	if ((c >= 0x300 && c < 0x370) || (c >= 0x200b && c <= 0x200f) || (c >= 0xfe00 && c <= 0xfe0f))
		return 0;
	bool wide = (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
	            (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	            (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	            (c >= 0xffe0 && c <= 0xffe6) || c >= 0x1f000 || (c >= 0xd800 && c < 0xe000);
	return wide ? '?' : c;
}

int screen_put(struct screen *s, int x, int y, int max, const char *text, int fg, int attr)
{
	int used = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p && used < max;) {
		uint32_t c = shown_as(s, next_cp(&p));
		if (!c)
			continue;
		struct cell *cl = at(s, x + used, y);
		if (!cl)
			break;
		*cl = (struct cell){.ch = c, .fg = (uint8_t)fg, .attr = (uint8_t)attr};
		used++;
	}
	return used;
}

int screen_putf(struct screen *s, int x, int y, int max, int fg, int attr, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return screen_put(s, x, y, max, text, fg, attr);
}

void screen_fill(struct screen *s, int x, int y, int w, int h, uint32_t ch, int fg, int bg, int attr)
{
	for (int j = y; j < y + h; j++)
		for (int i = x; i < x + w; i++) {
			struct cell *c = at(s, i, j);
			if (c)
				*c = (struct cell){.ch = ch, .fg = (uint8_t)fg, .bg = (uint8_t)bg, .attr = (uint8_t)attr};
		}
}

void screen_box(struct screen *s, int x, int y, int w, int h, const char *title, bool focused)
{
	if (w < 2 || h < 2)
		return;
	uint32_t hz = s->utf8 ? 0x2500 : '-', vt = s->utf8 ? 0x2502 : '|';
	uint32_t tl = s->utf8 ? 0x250c : '+', tr = s->utf8 ? 0x2510 : '+';
	uint32_t bl = s->utf8 ? 0x2514 : '+', br = s->utf8 ? 0x2518 : '+';
	int fg = focused ? C_CYAN : C_GREY, attr = focused ? A_BOLD : 0;
	screen_fill(s, x + 1, y, w - 2, 1, hz, fg, 0, attr);
	screen_fill(s, x + 1, y + h - 1, w - 2, 1, hz, fg, 0, attr);
	screen_fill(s, x, y + 1, 1, h - 2, vt, fg, 0, attr);
	screen_fill(s, x + w - 1, y + 1, 1, h - 2, vt, fg, 0, attr);
	screen_fill(s, x, y, 1, 1, tl, fg, 0, attr);
	screen_fill(s, x + w - 1, y, 1, 1, tr, fg, 0, attr);
	screen_fill(s, x, y + h - 1, 1, 1, bl, fg, 0, attr);
	screen_fill(s, x + w - 1, y + h - 1, 1, 1, br, fg, 0, attr);
	if (title && w > 6) {
		int n = screen_put(s, x + 2, y, 1, " ", fg, attr);
		n += screen_put(s, x + 2 + n, y, w - 6, title, focused ? C_WHITE : C_DEFAULT, A_BOLD);
		screen_put(s, x + 2 + n, y, 1, " ", fg, attr);
	}
}

void screen_bar(struct screen *s, int x, int y, int w, double v, int fg)
{
	if (v < 0)
		v = 0;
	if (v > 1)
		v = 1;
	int eighths = (int)(v * w * 8 + 0.5);
	for (int i = 0; i < w; i++) {
		int e = eighths - i * 8;
		uint32_t c = e <= 0 ? ' ' : e >= 8 ? (s->utf8 ? 0x2588 : '#')
		           : s->utf8 ? 0x2590 - (uint32_t)e : (e >= 4 ? '#' : ' ');
		screen_fill(s, x + i, y, 1, 1, c, fg, 0, 0);
	}
}

void screen_spark(struct screen *s, int x, int y, const double *v, int n, int fg)
{
	static const char ascii[] = "_.-=#";
	for (int i = 0; i < n; i++) {
		double t = v[i] < 0 ? 0 : v[i] > 1 ? 1 : v[i];
		uint32_t c = s->utf8 ? 0x2581 + (uint32_t)(t * 7 + 0.5) : (uint32_t)ascii[(int)(t * 4 + 0.5)];
		screen_fill(s, x + i, y, 1, 1, c, fg, 0, 0);
	}
}

/* ---- flush ------------------------------------------------------------------------ */

static void put_utf8(struct buf *b, uint32_t c)
{
	char u[4];
	if (c < 0x80) {
		buf_putc(b, (char)c);
		return;
	}
	int n = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
	for (int i = n - 1; i > 0; i--, c >>= 6)
		u[i] = (char)(0x80 | (c & 0x3f));
	u[0] = (char)((n == 2 ? 0xc0 : n == 3 ? 0xe0 : 0xf0) | c);
	buf_add(b, u, (size_t)n);
}

static void put_style(struct screen *s, const struct cell *c)
{
	struct buf *b = &s->out;
	buf_puts(b, "\033[0");
	if (c->attr & A_BOLD)
		buf_puts(b, ";1");
	if (c->attr & A_DIM)
		buf_puts(b, ";2");
	if (c->attr & A_UNDERLINE)
		buf_puts(b, ";4");
	if (c->attr & A_REVERSE)
		buf_puts(b, ";7");
	if (s->color && c->fg)
		buf_printf(b, c->fg == C_GREY ? ";90" : ";%d", 30 + c->fg);
	if (s->color && c->bg && c->bg != C_GREY)
		buf_printf(b, ";%d", 40 + c->bg);
	buf_putc(b, 'm');
}

void screen_flush(struct screen *s)
{
	struct buf *b = &s->out;
	buf_reset(b);
	if (s->full)
		buf_puts(b, "\033[0m\033[H\033[2J");
	struct cell style = {.ch = 0xffffffff};   /* unknown: the first cell sets it */
	int cx = -1, cy = -1;
	for (int y = 0; y < s->h; y++)
		for (int x = 0; x < s->w; x++) {
			const struct cell *c = &s->cells[y * s->w + x];
			struct cell *was = &s->shown[y * s->w + x];
			if (!s->full && !memcmp(c, was, sizeof *c))
				continue;
			if (cx != x || cy != y)
				buf_printf(b, "\033[%d;%dH", y + 1, x + 1);
			if (style.ch == 0xffffffff || style.fg != c->fg || style.bg != c->bg || style.attr != c->attr) {
				put_style(s, c);
				style = *c;
			}
			if (s->utf8)
				put_utf8(b, c->ch);
			else
				buf_putc(b, c->ch < 0x80 ? (char)c->ch : '?');
			*was = *c;
			cx = x + 1;
			cy = y;
		}
	s->full = false;
	if (b->len)
		(void)!write_all(1, b->data, b->len);
	if (b->cap > 1 << 20)
		buf_free(b);
}

/* ---- keys ------------------------------------------------------------------------- */

/* An SGR mouse report: ESC [ < B ; X ; Y (M|m). */
static size_t mouse_report(const char *in, size_t len, struct key *k)
{
	int v[3] = {0, 0, 0}, n = 0;
	for (size_t i = 3; i < len && i < 32; i++) {
		char c = in[i];
		if (c >= '0' && c <= '9') {
			if (v[n] < 100000)
				v[n] = v[n] * 10 + (c - '0');
		} else if (c == ';' && n < 2) {
			n++;
		} else if ((c == 'M' || c == 'm') && n == 2) {
			/* the low bits: the button; 64: the wheel (64 up, 65 down); 4, 8, 16:
			 * shift, meta, control held, which change nothing here */
			*k = (struct key){.code = K_MOUSE, .button = v[0] & 64 ? 64 + (v[0] & 1) : v[0] & 3,
			                  .x = v[1] - 1, .y = v[2] - 1, .release = c == 'm'};
			return i + 1;
		} else {
			k->code = K_UNKNOWN;
			return i + 1;
		}
	}
	return len >= 32 ? (k->code = K_UNKNOWN, len) : 0;
}

size_t key_parse(const char *in, size_t len, bool more, struct key *k)
{
	*k = (struct key){0};
	if (len == 0)
		return 0;
	unsigned char c = (unsigned char)in[0];
	if (c != 0x1b) {
		const unsigned char *p = (const unsigned char *)in;
		if (c >= 0x80) {
			int need = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
			if ((size_t)need > len)
				return more ? 0 : (k->code = '?', 1);
		}
		k->code = (int)next_cp(&p);
		return (size_t)(p - (const unsigned char *)in);
	}
	if (len == 1) {
		if (more)
			return 0;
		k->code = K_ESC;
		return 1;
	}
	if (in[1] != '[' && in[1] != 'O') {
		k->code = K_ESC;   /* Esc, then another key: the Esc alone */
		return 1;
	}
	if (len < 3)
		return more ? 0 : (k->code = K_ESC, 1);
	if (in[1] == '[' && in[2] == '<')
		return mouse_report(in, len, k);
	/* CSI/SS3: parameters, then a final byte in 0x40..0x7e. */
	size_t i = 2;
	while (i < len && i < 16 && ((in[i] >= '0' && in[i] <= '9') || in[i] == ';'))
		i++;
	if (i >= len)
		return more && len < 16 ? 0 : (k->code = K_UNKNOWN, len);
	char fin = in[i];
	int num = atoi(in + 2);
	switch (fin) {
	case 'A': k->code = K_UP; break;
	case 'B': k->code = K_DOWN; break;
	case 'C': k->code = K_RIGHT; break;
	case 'D': k->code = K_LEFT; break;
	case 'H': k->code = K_HOME; break;
	case 'F': k->code = K_END; break;
	case 'Z': k->code = K_BACKTAB; break;
	case '~':
		k->code = num == 1 || num == 7 ? K_HOME : num == 4 || num == 8 ? K_END : num == 5 ? K_PGUP
		        : num == 6 ? K_PGDN : K_UNKNOWN;
		break;
	default: k->code = K_UNKNOWN; break;
	}
	return i + 1;
}
