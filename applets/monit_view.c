/* monit's screen and keys. PM2's layout (process list and logs above, metrics and
 * metadata below, a footer of keys), a header line for the host, and the same keys;
 * a terminal too small for four panes shows the list alone. */
#include "applets/monit.h"
#include "client/table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- pieces ----------------------------------------------------------------------- */

static int status_color(const char *s)
{
	if (!s)
		return C_GREY;
	if (!strcmp(s, "online"))
		return C_GREEN;
	if (!strcmp(s, "errored"))
		return C_RED;
	if (!strcmp(s, "stopped"))
		return C_GREY;
	return C_YELLOW;   /* launching, stopping, waiting restart: on the way somewhere */
}

static int load_color(double pct)
{
	return pct >= 80 ? C_RED : pct >= 50 ? C_YELLOW : C_GREEN;
}

static void uptime_of(const struct inst *in, char *out, size_t n)
{
	if (in->started && in->pid > 0)
		format_duration(out, n, wall_ms() - in->started);
	else
		snprintf(out, n, "-");
}

/* The panes' places, from the screen size. */
struct layout {
	bool single;   /* the list alone: the terminal is too small for four */
	int top, mid_h, list_w, up_h;
};

static struct layout layout(void)
{
	struct layout l = {.top = 1, .mid_h = M.scr.h - 2};
	l.single = M.scr.w < 60 || M.scr.h < 14;
	l.list_w = M.scr.w * 2 / 5 < 52 ? 52 : M.scr.w * 2 / 5;
	if (l.list_w > M.scr.w - 20)
		l.list_w = M.scr.w - 20;
	l.up_h = l.mid_h * 3 / 5;
	return l;
}

static int list_rows(void)
{
	struct layout l = layout();
	return (l.single ? l.mid_h : l.up_h) - 3;   /* frame and the column header */
}

/* ---- the panes ---------------------------------------------------------------------- */

static void draw_header(void)
{
	/* The host's figures once per refresh, not per frame (frames follow the logs). */
	static struct host h;
	static int64_t read_at;
	if (!read_at || mono_ms() - read_at >= M.delay_ms) {
		monit_host(&h);
		read_at = mono_ms();
	}
	char avail[32], total[32];
	format_bytes(avail, sizeof avail, h.mem_avail);
	format_bytes(total, sizeof total, h.mem_total);
	int online = 0;
	for (int i = 0; i < M.n; i++)
		online += M.v[i]->status && !strcmp(M.v[i]->status, "online");
	struct screen *s = &M.scr;
	screen_fill(s, 0, 0, s->w, 1, ' ', C_DEFAULT, 0, A_REVERSE);
	int x = screen_put(s, 0, 0, s->w, " tend monit ", C_DEFAULT, A_REVERSE | A_BOLD);
	x += screen_putf(s, x, 0, s->w - x, C_DEFAULT, A_REVERSE,
	                 " %s  load %.2f %.2f %.2f  mem %s free of %s  %d cpu%s  %d/%d online%s%s ", h.name,
	                 h.load[0], h.load[1], h.load[2], avail, total, h.cpus, h.cpus == 1 ? "" : "s",
	                 online, M.n, M.paused ? "  [paused]" : "", M.daemon_up ? "" : "  [no daemon]");
}

static void draw_list(int x, int y, int w, int h)
{
	struct screen *s = &M.scr;
	char title[96];
	snprintf(title, sizeof title, "Process List (%s%s%s%s)", monit_sort_name(M.sort),
	         M.desc ? " desc" : "", M.filter[0] ? ", /" : "", M.filter);
	screen_box(s, x, y, w, h, title, M.focus == P_LIST);
	/* id 4, name, status 9, cpu 6, mem 7, restarts 3, uptime 5, a space between each */
	int inner = w - 2, name_w = inner - 40;
	if (name_w < 4)
		name_w = 4;
	screen_putf(s, x + 1, y + 1, inner, C_GREY, A_BOLD, "%-4s %-*s %-9s %6s %7s %3s %5s", "id", name_w,
	            "name", "status", "cpu", "mem", s->utf8 ? "↺" : "rst", "up");
	int rows = h - 3;
	int sel = 0;
	for (int i = 0; i < M.norder; i++)
		if (M.v[M.order[i]]->id == M.sel_id)
			sel = i;
	if (sel < M.top)
		M.top = sel;
	if (sel >= M.top + rows)
		M.top = sel - rows + 1;
	if (M.top > M.norder - rows)
		M.top = M.norder - rows > 0 ? M.norder - rows : 0;
	for (int r = 0; r < rows && M.top + r < M.norder; r++) {
		const struct inst *in = M.v[M.order[M.top + r]];
		int ry = y + 2 + r, cx = x + 1;
		bool selected = in->id == M.sel_id;
		int attr = selected ? A_REVERSE : 0;
		if (selected)
			screen_fill(s, cx, ry, inner, 1, ' ', C_DEFAULT, 0, A_REVERSE);
		char mem[32], up[32];
		format_bytes(mem, sizeof mem, in->mem);
		uptime_of(in, up, sizeof up);
		cx += screen_putf(s, cx, ry, 5, C_DEFAULT, attr, "%-4d ", in->id);
		cx += screen_putf(s, cx, ry, name_w + 1, C_DEFAULT, attr | A_BOLD, "%-*.*s ", name_w, name_w,
		                  in->name ? in->name : "");
		cx += screen_putf(s, cx, ry, 10, status_color(in->status), attr, "%-9.9s ", in->status ? in->status : "");
		cx += screen_putf(s, cx, ry, 7, load_color(in->cpu), attr, "%5.1f%% ", in->cpu);
		cx += screen_putf(s, cx, ry, 8, C_DEFAULT, attr, "%7s ", mem);
		cx += screen_putf(s, cx, ry, 4, in->restarts ? C_YELLOW : C_DEFAULT, attr, "%3d ", in->restarts);
		screen_putf(s, cx, ry, x + w - 1 - cx, C_DEFAULT, attr, "%5s", up);
	}
	if (!M.norder)
		screen_put(s, x + 2, y + 2, inner - 1, M.filter[0] ? "no app matches the filter" : "no apps",
		           C_GREY, 0);
}

/* One log line, as the pane shows it: its time if asked, then the text. */
static void log_text(const struct logline *l, char *out, size_t n)
{
	if (M.stamps && l->at) {
		time_t t = (time_t)(l->at / 1000);
		struct tm tm;
		localtime_r(&t, &tm);
		size_t k = strftime(out, n, "%H:%M:%S ", &tm);
		snprintf(out + k, n - k, "%s", l->text);
	} else {
		snprintf(out, n, "%s", l->text);
	}
}

static int wrapped_rows(const char *text, int w)
{
	int len = (int)strlen(text);   /* bytes: a bound on columns */
	return M.wrap && len > w ? (len + w - 1) / w : 1;
}

static void draw_logs(int x, int y, int w, int h)
{
	struct screen *s = &M.scr;
	const struct inst *in = monit_selected();
	char title[96];
	snprintf(title, sizeof title, "%s Logs%s%s", in && in->name ? in->name : "", M.wrap ? " (wrap)" : "",
	         M.log_scroll ? " (scrolled)" : "");
	screen_box(s, x, y, w, h, title, M.focus == P_LOGS);
	if (!in)
		return;
	int inner = w - 2, rows = h - 2;
	/* From the newest line up, as many as fit (minus the scroll). */
	char text[1200];
	int k = in->nlines - 1 - M.log_scroll, row = rows;
	if (k >= in->nlines)
		k = in->nlines - 1;
	for (; k >= 0 && row > 0; k--) {
		const struct logline *l = monit_line(in, k);
		log_text(l, text, sizeof text);
		int need = wrapped_rows(text, inner);
		int fg = l->err ? C_RED : C_DEFAULT;
		for (int part = need - 1; part >= 0 && row > 0; part--) {
			row--;
			const char *p = text;
			for (int skip = part * inner; skip > 0 && *p; skip--)   /* by code point */
				do
					p++;
				while ((*p & 0xc0) == 0x80);
			screen_put(s, x + 1, y + 1 + row, inner, p, fg, 0);
		}
	}
	if (!in->nlines)
		screen_put(s, x + 2, y + 1, inner - 1, "no output yet", C_GREY, 0);
}

static double hist_max(const double *v, int n, double floor)
{
	double m = floor;
	for (int i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

static void spark_row(int x, int y, int w, const char *label, const double *hist, int n, double max,
                      const char *value, int fg)
{
	struct screen *s = &M.scr;
	screen_put(s, x, y, 9, label, C_GREY, A_BOLD);
	int sw = w - 9 - 10;
	if (sw < 4) {
		screen_put(s, x + 9, y, w - 9, value, fg, 0);
		return;
	}
	double scaled[HIST];
	int shown = n < sw ? n : sw;
	for (int i = 0; i < shown; i++)
		scaled[i] = hist[n - shown + i] / max;
	screen_spark(s, x + 9 + (sw - shown), y, scaled, shown, fg);
	screen_put(s, x + 10 + sw, y, 9, value, fg, A_BOLD);
}

static void draw_metrics(int x, int y, int w, int h)
{
	struct screen *s = &M.scr;
	screen_box(s, x, y, w, h, "Metrics", M.focus == P_METRICS);
	const struct inst *in = monit_selected();
	if (!in || w < 20 || h < 3)
		return;
	int cx = x + 2, cw = w - 4, row = y + 1;
	char value[32];
	snprintf(value, sizeof value, "%.1f%%", in->cpu);
	spark_row(cx, row++, cw, "CPU", in->cpu_hist, in->nhist, hist_max(in->cpu_hist, in->nhist, 100),
	          value, load_color(in->cpu));
	format_bytes(value, sizeof value, in->mem);
	if (row < y + h - 1)
		spark_row(cx, row++, cw, "Memory", in->mem_hist, in->nhist,
		          hist_max(in->mem_hist, in->nhist, 1 << 20) * 1.1, value, C_CYAN);
	if (row < y + h - 1)
		screen_putf(s, cx, row++, cw, C_DEFAULT, 0, "Restarts %d   unstable %d", in->restarts, in->unstable);
	if (row < y + h - 1 && in->lb && !strcmp(in->lb, "proxy"))
		screen_putf(s, cx, row++, cw, C_DEFAULT, 0, "Proxy connections %d", in->conns);
	if (row < y + h - 1)
		screen_putf(s, cx, row++, cw, C_GREY, 0, "(the last %d s, whole process tree)",
		            in->nhist * M.delay_ms / 1000);
}

static void meta_row(int x, int *row, int w, int skip, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	static int seen;
	if (*row < 0) {   /* a new pass */
		seen = 0;
		*row = -*row;
	}
	if (seen++ < skip)
		return;
	screen_putf(&M.scr, x, *row, 18, C_GREY, A_BOLD, "%-17s", key);
	screen_put(&M.scr, x + 18, *row, w - 18, value, C_DEFAULT, 0);
	(*row)++;
}

static void draw_meta(int x, int y, int w, int h)
{
	struct screen *s = &M.scr;
	screen_box(s, x, y, w, h, "Metadata", M.focus == P_META);
	const struct inst *in = monit_selected();
	if (!in || w < 24)
		return;
	char id[32], pid[32], up[32], restarts[64], inst[32];
	snprintf(id, sizeof id, "%d", in->id);
	snprintf(pid, sizeof pid, "%d", (int)in->pid);
	uptime_of(in, up, sizeof up);
	snprintf(restarts, sizeof restarts, "%d (unstable %d)", in->restarts, in->unstable);
	snprintf(inst, sizeof inst, "%d", in->instances);
	const char *ready = !in->listen ? NULL : !strcmp(in->status ? in->status : "", "launching")
		? "waiting for readiness" : !strcmp(in->status ? in->status : "", "online") ? "ready" : "-";
	char listen[160];
	if (in->listen)
		snprintf(listen, sizeof listen, "%s (%s, lb %s)", in->listen, ready, in->lb ? in->lb : "fd");
	struct { const char *k, *v; } rows[] = {
		{"App name", in->name}, {"Namespace", in->ns}, {"Id", id}, {"Status", in->status},
		{"Pid", in->pid > 0 ? pid : NULL}, {"Script", in->script}, {"Args", in->args},
		{"Interpreter", in->interp}, {"Exec mode", in->mode}, {"Instances", inst},
		{"Uptime", up}, {"Restarts", restarts}, {"Last restart", in->reason},
		{"Watch", in->watch && *in->watch ? in->watch : "off"}, {"Cwd", in->cwd},
		{"Out log", in->out_path}, {"Err log", in->err_path}, {"User", in->user},
		{"Listen", in->listen ? listen : NULL},
	};
	int row = -(y + 1);
	for (size_t i = 0; i < ARRAY_LEN(rows) && (row < 0 || row < y + h - 1); i++)
		meta_row(x + 2, &row, w - 4, M.meta_scroll, rows[i].k, rows[i].v);
}

static void draw_footer(void)
{
	struct screen *s = &M.scr;
	int y = s->h - 1;
	const struct inst *in = monit_selected();
	if (M.modal == M_FILTER) {
		screen_putf(s, 0, y, s->w, C_DEFAULT, A_BOLD, "filter by name: %s_   (Enter: apply, Esc: clear)", M.filter);
	} else if (M.modal == M_DELETE && in) {
		screen_putf(s, 0, y, s->w, C_RED, A_BOLD, "delete %s[%d]? y/N", in->name, in->id);
	} else if (M.status[0]) {
		screen_put(s, 0, y, s->w, M.status, C_YELLOW, A_BOLD);
	} else {
		screen_put(s, 0, y, s->w,
		           " Tab panes  Up/Down select  s sort  / filter  r restart  R reload  x stop/start"
		           "  k signal  d delete  l logs  p pause  ? help  q quit", C_GREY, 0);
	}
}

static const char *const signals[] = {"SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2",
                                      "SIGQUIT", "SIGKILL", "SIGSTOP", "SIGCONT"};

static void draw_signal_menu(void)
{
	struct screen *s = &M.scr;
	int w = 24, h = (int)ARRAY_LEN(signals) + 2, x = (s->w - w) / 2, y = (s->h - h) / 2;
	screen_fill(s, x, y, w, h, ' ', C_DEFAULT, 0, 0);
	screen_box(s, x, y, w, h, "Send signal", true);
	for (int i = 0; i < (int)ARRAY_LEN(signals); i++)
		screen_putf(s, x + 2, y + 1 + i, w - 4, C_DEFAULT, i == M.menu_sel ? A_REVERSE : 0, " %-18s", signals[i]);
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"Up/Down j PgUp/PgDn Home/End    select (scroll the focused pane)",
		"Left/Right Tab Shift-Tab        focus another pane",
		"s  sort by name, id, cpu, mem, restarts, uptime",
		"I  invert the order          /  filter by name",
		"r  restart    R  reload      x  stop, or start if stopped",
		"k  send a signal             d  delete (asks y/N)",
		"l  logs full screen          w  wrap    t  timestamps",
		"p  pause updates             q Esc Ctrl-C  quit",
		"mouse: click selects or focuses, the wheel scrolls",
		"",
		"any key closes this help",
	};
	struct screen *s = &M.scr;
	int w = 70 < s->w - 2 ? 70 : s->w - 2, h = (int)ARRAY_LEN(lines) + 2;
	int x = (s->w - w) / 2, y = (s->h - h) / 2;
	screen_fill(s, x, y, w, h, ' ', C_DEFAULT, 0, 0);
	screen_box(s, x, y, w, h, "Help", true);
	for (int i = 0; i < (int)ARRAY_LEN(lines); i++)
		screen_put(s, x + 2, y + 1 + i, w - 4, lines[i], C_DEFAULT, 0);
}

void monit_draw(void)
{
	struct screen *s = &M.scr;
	screen_clear(s);
	draw_header();
	struct layout l = layout();
	if (M.zoom && !l.single) {
		draw_logs(0, l.top, s->w, l.mid_h);
	} else if (l.single) {
		draw_list(0, l.top, s->w, l.mid_h);
	} else {
		int right = s->w - l.list_w, down = l.mid_h - l.up_h;
		draw_list(0, l.top, l.list_w, l.up_h);
		draw_logs(l.list_w, l.top, right, l.up_h);
		draw_metrics(0, l.top + l.up_h, l.list_w, down);
		draw_meta(l.list_w, l.top + l.up_h, right, down);
	}
	draw_footer();
	if (M.modal == M_SIGNAL)
		draw_signal_menu();
	if (M.help)
		draw_help();
}

/* ---- keys ----------------------------------------------------------------------------- */

static int selected_row(void)
{
	for (int i = 0; i < M.norder; i++)
		if (M.v[M.order[i]]->id == M.sel_id)
			return i;
	return 0;
}

static void select_row(int row)
{
	if (!M.norder)
		return;
	row = row < 0 ? 0 : row >= M.norder ? M.norder - 1 : row;
	int id = M.v[M.order[row]]->id;
	if (id != M.sel_id)
		M.log_scroll = M.meta_scroll = 0;
	M.sel_id = id;
}

static void scroll(int delta)
{
	if (M.focus == P_LOGS || M.zoom) {
		const struct inst *in = monit_selected();
		int max = in ? in->nlines - 1 : 0;
		M.log_scroll -= delta;
		M.log_scroll = M.log_scroll < 0 ? 0 : M.log_scroll > max ? (max > 0 ? max : 0) : M.log_scroll;
	} else if (M.focus == P_META) {
		M.meta_scroll += delta;
		M.meta_scroll = M.meta_scroll < 0 ? 0 : M.meta_scroll > 15 ? 15 : M.meta_scroll;
	} else {
		select_row(selected_row() + delta);
	}
}

static void modal_key(const struct key *k)
{
	struct inst *in = monit_selected();
	if (M.modal == M_FILTER) {
		size_t n = strlen(M.filter);
		if (k->code == '\r' || k->code == '\n') {
			M.modal = M_NONE;
		} else if (k->code == K_ESC) {
			M.filter[0] = 0;
			M.modal = M_NONE;
		} else if ((k->code == 127 || k->code == 8) && n) {
			M.filter[n - 1] = 0;
		} else if (k->code >= 0x20 && k->code < 0x7f && n + 1 < sizeof M.filter) {
			M.filter[n] = (char)k->code;
			M.filter[n + 1] = 0;
		}
		monit_order();
		return;
	}
	if (M.modal == M_DELETE) {
		M.modal = M_NONE;
		if ((k->code == 'y' || k->code == 'Y') && in)
			monit_act("delete", in, NULL);
		else
			monit_status("delete cancelled");
		return;
	}
	/* the signal menu */
	int n = (int)ARRAY_LEN(signals);
	if (k->code == K_UP)
		M.menu_sel = (M.menu_sel + n - 1) % n;
	else if (k->code == K_DOWN || k->code == 'j')
		M.menu_sel = (M.menu_sel + 1) % n;
	else if (k->code == '\r' || k->code == '\n') {
		M.modal = M_NONE;
		if (in)
			monit_act("signal", in, signals[M.menu_sel]);
	} else if (k->code == K_ESC || k->code == 'q') {
		M.modal = M_NONE;
	}
}

static void mouse(const struct key *k)
{
	if (k->release)
		return;
	if (k->button == 64 || k->button == 65) {
		scroll(k->button == 64 ? -3 : 3);
		return;
	}
	struct layout l = layout();
	if (k->y < l.top || k->y >= l.top + l.mid_h || M.zoom)
		return;
	bool upper = l.single || k->y < l.top + l.up_h, left = l.single || k->x < l.list_w;
	M.focus = upper ? (left ? P_LIST : P_LOGS) : (left ? P_METRICS : P_META);
	if (M.focus == P_LIST) {
		int row = k->y - l.top - 2;
		if (row >= 0 && row < list_rows())
			select_row(M.top + row);
	}
}

static void act(const char *cmd)
{
	struct inst *in = monit_selected();
	if (!in) {
		monit_status("no app selected");
		return;
	}
	if (!strcmp(cmd, "stop") && in->status && (!strcmp(in->status, "stopped") || !strcmp(in->status, "errored")))
		cmd = "restart";   /* x: start what is stopped */
	monit_act(cmd, in, NULL);
}

void monit_key(const struct key *k)
{
	if (M.help) {
		M.help = false;
		return;
	}
	if (M.modal != M_NONE) {
		modal_key(k);
		return;
	}
	int page = list_rows() > 1 ? list_rows() - 1 : 1;
	switch (k->code) {
	case 'q': case K_ESC: case 3: M.quit = true; break;
	case K_UP: scroll(-1); break;
	case K_DOWN: case 'j': scroll(1); break;
	case K_PGUP: scroll(-page); break;
	case K_PGDN: scroll(page); break;
	case K_HOME: scroll(-1000000); break;
	case K_END: scroll(1000000); break;
	case K_RIGHT: case '\t': M.focus = (M.focus + 1) % NPANES; break;
	case K_LEFT: case K_BACKTAB: M.focus = (M.focus + NPANES - 1) % NPANES; break;
	case 's': M.sort = (M.sort + 1) % NSORTS; monit_order(); monit_status("sorted by %s", monit_sort_name(M.sort)); break;
	case 'I': M.desc = !M.desc; monit_order(); break;
	case '/': M.modal = M_FILTER; break;
	case 'r': act("restart"); break;
	case 'R': act("reload"); break;
	case 'x': act("stop"); break;
	case 'k':   /* as in htop */
		if (M.readonly)
			monit_status("read-only (--readonly): no signals");
		else if (monit_selected())
			M.modal = M_SIGNAL;
		break;
	case 'd':
		if (M.readonly)
			monit_status("read-only (--readonly): delete not sent");
		else if (monit_selected())
			M.modal = M_DELETE;
		break;
	case 'l': M.zoom = !M.zoom; break;
	case 'w': M.wrap = !M.wrap; break;
	case 't': M.stamps = !M.stamps; break;
	case 'p':
		M.paused = !M.paused;
		monit_status(M.paused ? "paused: p resumes" : "resumed");
		break;
	case '?': case 'h': M.help = true; break;
	case K_MOUSE: mouse(k); break;
	default: break;
	}
}
