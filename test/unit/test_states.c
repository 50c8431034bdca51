/* The instance state machine alone: every (state, event) pair of proc.c's table, and
 * the sequences the policy is made of (crash loop, restart delay, restart, stop,
 * reload and its failures), with a fake world: spawning gives a pid no process can
 * have, signals are recorded. Nothing is started or killed. */
#include "unit.h"
#include "daemon/proc.h"
#include "lib/json.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* Above any pid_max Linux allows (2^22): kill(2) on these can only fail. */
enum { FAKE_PID = 5000000 };

static int spawns, signals, last_signal;
static pid_t next_pid = FAKE_PID, last_signalled;
static bool spawn_waits;   /* spawned processes are ready only once they say so */

static bool fake_spawn(struct proc *p, bool *wait)
{
	spawns++;
	p->run.pid = next_pid++;
	p->run.started_mono = mono_ms();
	p->spawn_gen++;
	*wait = spawn_waits;
	return true;
}

static void fake_signal(struct proc *p, struct process *pr, int sig)
{
	(void)p;
	signals++;
	last_signal = sig;
	last_signalled = pr->pid;
}

static struct spec *make_spec(const char *extra)
{
	char text[512];
	snprintf(text, sizeof text,
	         "{\"name\":\"t\",\"script\":\"/bin/true\",\"cwd\":\"/\",\"treekill\":false,"
	         "\"kill_signal\":\"SIGTERM\",\"min_uptime\":1000,\"max_restarts\":2%s}", extra);
	struct jdoc d;
	char err[200];
	if (!json_parse(&d, text, strlen(text)))
		return NULL;
	struct spec *s = spec_from_json(&d, 0, err, sizeof err);
	if (!s)
		fprintf(stderr, "spec: %s\n", err);
	json_free(&d);
	return s;
}

/* A proc put in state st, as the daemon would have it there. */
static struct proc *in_state(struct spec *s, enum pstate st)
{
	struct proc *p = proc_new(s, 0);
	int64_t now = mono_ms();
	bool running = st == ST_LAUNCHING || st == ST_ONLINE || st == ST_STOPPING;
	p->run.pid = running ? next_pid++ : 0;
	p->run.started_mono = now - 5000;   /* a stable run: longer than min_uptime */
	p->state = st;
	if (st == ST_STOPPING) {   /* as a stop leaves it */
		p->want = WANT_DOWN;
		p->run.stopping = true;
		p->run.kill_at = now + 60000;
	}
	if (st == ST_WAITING || st == ST_LAUNCHING)
		p->deadline = now + 60000;
	spawns = signals = last_signal = 0;
	return p;
}

static void exit_with(struct proc *p, int code)
{
	p->exit_code = code;
	p->exit_signal = 0;
	proc_event(p, EV_EXIT);
}

static void timer_due(struct proc *p)
{
	if (p->run.stopping)
		p->run.kill_at = mono_ms();
	else
		p->deadline = mono_ms();
	proc_event(p, EV_TIMER);
}

static void drive(struct proc *p, enum pevent ev)
{
	if (ev == EV_EXIT)
		exit_with(p, 1);
	else if (ev == EV_TIMER)
		timer_due(p);
	else
		proc_event(p, ev);
}

/* Every pair: the state after, whether it spawned, what it signalled, what is wanted
 * of it then. */
static void every_pair(struct spec *s)
{
#define U WANT_UP
#define D WANT_DOWN
#define G WANT_GONE
	static const struct {
		enum pstate from;
		enum pevent ev;
		enum pstate to;
		int spawns, signal;   /* signal: 0 none */
		enum want want;
	} table[] = {
		{ST_STOPPED, EV_START, ST_ONLINE, 1, 0, U},
		{ST_STOPPED, EV_STOP, ST_STOPPED, 0, 0, D},
		{ST_STOPPED, EV_DELETE, ST_STOPPED, 0, 0, G},
		{ST_STOPPED, EV_EXIT, ST_STOPPED, 0, 0, U},
		{ST_STOPPED, EV_TIMER, ST_STOPPED, 0, 0, U},
		{ST_STOPPED, EV_READY, ST_STOPPED, 0, 0, U},
		{ST_STOPPED, EV_RELOAD, ST_STOPPED, 0, 0, U},
		{ST_LAUNCHING, EV_START, ST_STOPPING, 0, SIGTERM, U},
		{ST_LAUNCHING, EV_STOP, ST_STOPPING, 0, SIGTERM, D},
		{ST_LAUNCHING, EV_DELETE, ST_STOPPING, 0, SIGTERM, G},
		{ST_LAUNCHING, EV_EXIT, ST_ONLINE, 1, 0, U},   /* restart_delay 0: at once */
		{ST_LAUNCHING, EV_TIMER, ST_ONLINE, 0, 0, U},  /* listen_timeout: online anyway */
		{ST_LAUNCHING, EV_READY, ST_ONLINE, 0, 0, U},
		{ST_LAUNCHING, EV_RELOAD, ST_LAUNCHING, 0, 0, U},
		{ST_ONLINE, EV_START, ST_STOPPING, 0, SIGTERM, U},
		{ST_ONLINE, EV_STOP, ST_STOPPING, 0, SIGTERM, D},
		{ST_ONLINE, EV_DELETE, ST_STOPPING, 0, SIGTERM, G},
		{ST_ONLINE, EV_EXIT, ST_ONLINE, 1, 0, U},
		{ST_ONLINE, EV_TIMER, ST_ONLINE, 0, 0, U},
		{ST_ONLINE, EV_READY, ST_ONLINE, 0, 0, U},
		{ST_ONLINE, EV_RELOAD, ST_ONLINE, 1, SIGTERM, U},   /* ready at once: the old one stops */
		{ST_STOPPING, EV_START, ST_STOPPING, 0, 0, U},
		{ST_STOPPING, EV_STOP, ST_STOPPING, 0, 0, D},
		{ST_STOPPING, EV_DELETE, ST_STOPPING, 0, 0, G},
		{ST_STOPPING, EV_EXIT, ST_STOPPED, 0, 0, D},
		{ST_STOPPING, EV_TIMER, ST_STOPPING, 0, SIGKILL, D},   /* kill_timeout passed */
		{ST_STOPPING, EV_READY, ST_STOPPING, 0, 0, D},
		{ST_STOPPING, EV_RELOAD, ST_STOPPING, 0, 0, D},
		{ST_WAITING, EV_START, ST_ONLINE, 1, 0, U},
		{ST_WAITING, EV_STOP, ST_STOPPED, 0, 0, D},
		{ST_WAITING, EV_DELETE, ST_STOPPED, 0, 0, G},
		{ST_WAITING, EV_EXIT, ST_WAITING, 0, 0, U},
		{ST_WAITING, EV_TIMER, ST_ONLINE, 1, 0, U},
		{ST_WAITING, EV_READY, ST_WAITING, 0, 0, U},
		{ST_WAITING, EV_RELOAD, ST_WAITING, 0, 0, U},
		{ST_ERRORED, EV_START, ST_ONLINE, 1, 0, U},
		{ST_ERRORED, EV_STOP, ST_STOPPED, 0, 0, D},
		{ST_ERRORED, EV_DELETE, ST_STOPPED, 0, 0, G},
		{ST_ERRORED, EV_EXIT, ST_ERRORED, 0, 0, U},
		{ST_ERRORED, EV_TIMER, ST_ERRORED, 0, 0, U},
		{ST_ERRORED, EV_READY, ST_ERRORED, 0, 0, U},
		{ST_ERRORED, EV_RELOAD, ST_ERRORED, 0, 0, U},
	};
	static const char *const evname[] = {"start", "stop", "delete", "exit", "timer", "ready", "reload"};
	CHECK(ARRAY_LEN(table) == ST_NSTATES * EV_NEVENTS);
	CHECK(ARRAY_LEN(evname) == EV_NEVENTS);
	for (size_t i = 0; i < ARRAY_LEN(table); i++) {
		struct proc *p = in_state(s, table[i].from);
		drive(p, table[i].ev);
		bool ok = p->state == table[i].to && spawns == table[i].spawns &&
		          last_signal == table[i].signal && p->want == table[i].want;
		if (!ok)
			fprintf(stderr, "%s + %s: got %s, %d spawns, signal %d, want %d\n",
			        pstate_name(table[i].from), evname[table[i].ev], pstate_name(p->state), spawns,
			        last_signal, (int)p->want);
		CHECK(ok);
		proc_free(p);
	}
	procs_release_gone();
#undef U
#undef D
#undef G
}

/* A process that keeps exiting before min_uptime: max_restarts restarts, then errored
 * (restart_time counts them, unstable_restarts one more), and it stays down. */
static void crash_loop(struct spec *s)
{
	struct proc *p = in_state(s, ST_STOPPED);
	proc_event(p, EV_START);
	for (int i = 0; i < 10 && p->state == ST_ONLINE; i++)
		exit_with(p, 1);   /* started just now: unstable */
	CHECK(p->state == ST_ERRORED);
	CHECK(p->restarts == 2);
	CHECK(p->unstable_restarts == 3);
	CHECK(p->run.pid == 0);
	timer_due(p);
	CHECK(p->state == ST_ERRORED);
	proc_event(p, EV_START);   /* a start brings it back, with fresh counters */
	CHECK(p->state == ST_ONLINE && p->unstable_restarts == 0);
	proc_free(p);
}

/* restart_delay: the exit waits, the timer restarts; a stop cancels the wait. */
static void restart_delay(void)
{
	struct spec *s = make_spec(",\"restart_delay\":500");
	struct proc *p = in_state(s, ST_ONLINE);
	exit_with(p, 3);
	CHECK(p->state == ST_WAITING && p->run.pid == 0 && p->deadline > mono_ms());
	CHECK(p->restarts == 1 && spawns == 0);
	timer_due(p);
	CHECK(p->state == ST_ONLINE && spawns == 1);
	exit_with(p, 3);
	proc_event(p, EV_STOP);
	CHECK(p->state == ST_STOPPED && p->deadline == 0);
	proc_free(p);
	spec_unref(s);
}

/* A restart: stopping (wanted up), the exit, then a new process; a stop: stopped. */
static void restart_and_stop(struct spec *s)
{
	struct proc *p = in_state(s, ST_ONLINE);
	pid_t old = p->run.pid;
	proc_event(p, EV_START);
	CHECK(p->state == ST_STOPPING && p->want == WANT_UP && p->run.pid == old);
	exit_with(p, 143);
	CHECK(p->state == ST_ONLINE && p->run.pid != old && spawns == 1 && p->restarts == 1);
	proc_event(p, EV_STOP);
	CHECK(p->state == ST_STOPPING && p->want == WANT_DOWN);
	exit_with(p, 0);
	CHECK(p->state == ST_STOPPED && p->run.pid == 0 && spawns == 1);
	proc_free(p);
}

/* stop_exit_codes and autorestart off: an exit is the end. */
static void exits_that_end(void)
{
	struct spec *s = make_spec(",\"stop_exit_codes\":[3]");
	struct proc *p = in_state(s, ST_ONLINE);
	exit_with(p, 3);
	CHECK(p->state == ST_STOPPED && spawns == 0);
	proc_free(p);
	spec_unref(s);
	s = make_spec(",\"autorestart\":false");
	p = in_state(s, ST_ONLINE);
	exit_with(p, 1);
	CHECK(p->state == ST_STOPPED && spawns == 0 && p->restarts == 0);
	proc_free(p);
	spec_unref(s);
}

/* A reload: the instance keeps serving from its old process until the replacement is
 * ready, then the old one stops; a replacement that exits first, or is not ready in
 * time, leaves the old one in place. */
static void reload(struct spec *s)
{
	spawn_waits = true;
	struct proc *p = in_state(s, ST_ONLINE);
	pid_t old = p->run.pid;
	proc_event(p, EV_RELOAD);
	CHECK(p->state == ST_LAUNCHING && spawns == 1 && p->old && p->old->pid == old && !p->old->stopping);
	CHECK(p->run.pid != old && signals == 0);
	proc_event(p, EV_READY);
	CHECK(p->state == ST_ONLINE && p->old && p->old->stopping && last_signalled == old);
	CHECK(p->restarts == 1);
	proc_reaped(old, 0);   /* the old one's exit ends the reload */
	CHECK(p->old == NULL && p->reload.phase == 0 && p->state == ST_ONLINE);

	old = p->run.pid;     /* the replacement exits before it is ready */
	proc_event(p, EV_RELOAD);
	exit_with(p, 1);
	CHECK(p->state == ST_ONLINE && p->run.pid == old && !p->old && p->reload.failed);

	signals = 0;          /* not ready within listen_timeout: killed, the old one stays */
	proc_event(p, EV_RELOAD);
	pid_t replacement = p->run.pid;
	timer_due(p);
	CHECK(last_signal == SIGKILL && last_signalled == replacement && p->old);
	exit_with(p, 137);
	CHECK(p->state == ST_ONLINE && p->run.pid == old && !p->old);

	proc_event(p, EV_RELOAD);   /* a stop during a reload stops both */
	proc_event(p, EV_STOP);
	CHECK(p->state == ST_STOPPING && p->old && p->old->stopping && p->run.stopping);
	proc_free(p);
	procs_release_gone();
	spawn_waits = false;
}

int main(void)
{
	char home[] = "/tmp/tend-unit-states.XXXXXX";
	if (!mkdtemp(home))
		return 1;
	setenv("TEND_HOME", home, 1);
	proc_world.spawn = fake_spawn;
	proc_world.signal = fake_signal;
	struct spec *s = make_spec("");
	CHECK(s != NULL);
	if (s) {
		every_pair(s);
		crash_loop(s);
		restart_and_stop(s);
		reload(s);
		spec_unref(s);
	}
	restart_delay();
	exits_that_end();
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", home);
	return unit_report("states");
}
