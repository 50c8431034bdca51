/* The terminal for full-screen applets (monit): raw mode on the alternate screen, a
 * grid of cells to draw into, and a flush that writes only the cells that changed
 * since the last frame (the first frame, and the one after a resize, clear first).
 * The terminal is given back on every way out: exit, the signals that end a process,
 * the terminal going away.
 *
 * Text put on the grid is never passed through as it is: control characters and
 * escape sequences become '?', wide characters too (one cell each, always), and
 * without UTF-8 every character outside ASCII. */
#ifndef TEND_SCREEN_H
#define TEND_SCREEN_H

#include "lib/util.h"

#include <stdint.h>

enum { A_BOLD = 1, A_REVERSE = 2, A_DIM = 4, A_UNDERLINE = 8 };
enum { C_DEFAULT, C_RED, C_GREEN, C_YELLOW, C_BLUE, C_MAGENTA, C_CYAN, C_WHITE, C_GREY };

struct cell {
	uint32_t ch;       /* a code point that takes one column */
	uint8_t fg, bg, attr;
};

struct screen {
	int w, h;
	struct cell *cells;   /* what the next flush shows */
	struct cell *shown;   /* what the terminal shows */
	bool utf8;            /* box drawing and text in UTF-8; else ASCII */
	bool color;
	bool full;            /* the next flush redraws everything (clearing first) */
	struct buf out;
};

/* Take the terminal on fd 0/1: raw mode, the alternate screen, no cursor, mouse
 * reports (SGR 1006) if asked. False (nothing changed) if stdin or stdout is not a
 * terminal. */
bool term_open(struct screen *s, bool mouse);
/* Give it back as it was. Safe to call twice, from atexit and signal handlers. */
void term_close(void);
/* Read the window size again (after SIGWINCH); the next flush redraws all. */
void screen_resize(struct screen *s);
void screen_free(struct screen *s);

/* Draw into the grid (clipped to it and to max columns): returns the columns used. */
int screen_put(struct screen *s, int x, int y, int max, const char *text, int fg, int attr);
int screen_putf(struct screen *s, int x, int y, int max, int fg, int attr, const char *fmt, ...)
	PRINTF_LIKE(7, 8);
void screen_fill(struct screen *s, int x, int y, int w, int h, uint32_t ch, int fg, int bg, int attr);
/* A frame with a title on its top edge; focused frames are drawn bright. */
void screen_box(struct screen *s, int x, int y, int w, int h, const char *title, bool focused);
/* A bar of eighths (or '#' without UTF-8) for v in 0..1, w cells. */
void screen_bar(struct screen *s, int x, int y, int w, double v, int fg);
/* One column per value: ▁..█ (or ASCII _.-=#) for v in 0..1. */
void screen_spark(struct screen *s, int x, int y, const double *v, int n, int fg);
void screen_clear(struct screen *s);
/* Write what changed to the terminal. */
void screen_flush(struct screen *s);

/* Keys, as read from the terminal: a code point, or one of these. */
enum {
	K_UP = 0x110000, K_DOWN, K_LEFT, K_RIGHT, K_PGUP, K_PGDN, K_HOME, K_END,
	K_BACKTAB, K_ESC, K_MOUSE, K_UNKNOWN,
};
struct key {
	int code;
	int x, y;          /* K_MOUSE: the cell (0-based) */
	int button;        /* K_MOUSE: 0 left, 1 middle, 2 right, 64 wheel up, 65 wheel down */
	bool release;
};
/* The next key at the head of in (len bytes): the bytes it took, or 0 when the
 * sequence is not complete yet and more may come (more: true). */
size_t key_parse(const char *in, size_t len, bool more, struct key *k);

#endif
