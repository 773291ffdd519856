/* tests/unit/test-heuristics.c: the command splitter, then real runs of the worker through a qb_loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <qb/qbdefs.h>

#include "common/clock.h"
#include "qdevice/heuristics.h"
#include "qdevice/heuristics-exec.h"

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))

static const struct {
	const char	*name;
	const char	*in;
	int		 want;		/* argc or -errno */
	const char	*args[4];
} split_rows[] = {
	{ "one word",            "/bin/true",               1, { "/bin/true" } },
	{ "spaces and tabs",     "  a \t b  c ",            3, { "a", "b", "c" } },
	{ "quotes group",        "/bin/echo \"a b\" c",     3, { "/bin/echo", "a b", "c" } },
	{ "quotes inside word",  "x\"y z\"w",               1, { "xy zw" } },
	{ "escaped space",       "a\\ b",                   1, { "a b" } },
	{ "escaped quote",       "\"a\\\"b\"",              1, { "a\"b" } },
	{ "escaped backslash",   "a\\\\",                   1, { "a\\" } },
	{ "empty quotes",        "\"\" x",                  2, { "", "x" } },
	{ "empty line",          "",                        0, { NULL } },
	{ "blank line",          " \t ",                    0, { NULL } },
	{ "unterminated quote",  "/bin/sh -c \"exit 0",     -EINVAL, { NULL } },
	{ "trailing backslash",  "a b\\",                   -EINVAL, { NULL } },
};

static void
split_table(void **state)
{
	for (size_t i = 0; i < NROWS(split_rows); i++) {
		char **argv = NULL;
		int got = heuristics_exec_split(split_rows[i].in, &argv);

		if (got != split_rows[i].want)
			fail_msg("%s: got %d, want %d", split_rows[i].name, got, split_rows[i].want);
		for (int j = 0; j < got; j++)
			if (strcmp(argv[j], split_rows[i].args[j]) != 0)
				fail_msg("%s: word %d is '%s', want '%s'", split_rows[i].name, j,
				    argv[j], split_rows[i].args[j]);
		if (got >= 0 && argv[got] != NULL)
			fail_msg("%s: argv not NULL-terminated", split_rows[i].name);
		free(argv);
	}
}

static const struct {
	const char	*in;
	int		 want;
	uint32_t	 a, b;
} pair_rows[] = {
	{ "exec 300 7",             0,        300, 7 },
	{ "exec 4294967295 1",      0,        UINT32_MAX, 1 },
	{ "exec 4294967296 1",      -EBADMSG, 0, 0 },
	{ "exec 300",               -EBADMSG, 0, 0 },
	{ "exec 300 7 ",            -EBADMSG, 0, 0 },
	{ "exec -1 7",              -EBADMSG, 0, 0 },
	{ "execx 300 7",            -EBADMSG, 0, 0 },
	{ "exec-result 3 2",        -EBADMSG, 0, 0 },	/* verb is "exec" */
};

static void
parse_pair_table(void **state)
{
	for (size_t i = 0; i < NROWS(pair_rows); i++) {
		uint32_t a = 0, b = 0;
		int got = heuristics_exec_parse_pair(pair_rows[i].in, "exec", &a, &b);

		if (got != pair_rows[i].want || (got == 0 && (a != pair_rows[i].a || b != pair_rows[i].b)))
			fail_msg("'%s': got %d %u %u", pair_rows[i].in, got, a, b);
	}
}

/* ---- runs through a loop ---- */

struct fx {
	qb_loop_t		*loop;
	struct heuristics	*h;
	size_t			 n;		/* reports seen */
	uint32_t		 seq;		/* the last one */
	enum heuristics_result	 result;
	bool			 destroy_in_done;
};

static void
on_done(uint32_t seq, enum heuristics_result r, void *arg)
{
	struct fx *f = arg;

	f->n++;
	f->seq = seq;
	f->result = r;
	if (f->destroy_in_done) {
		heuristics_destroy(f->h);
		f->h = NULL;
	}
	qb_loop_stop(f->loop);
}

static void
on_guard(void *arg)
{
	qb_loop_stop(((struct fx *)arg)->loop);
}

/* Run the loop until a report arrives or ms pass; true if a report arrived. */
static bool
spin(struct fx *f, uint32_t ms)
{
	size_t before = f->n;
	qb_loop_timer_handle t;

	assert_int_equal(qb_loop_timer_add(f->loop, QB_LOOP_HIGH, ms * QB_TIME_NS_IN_MSEC, f,
	    on_guard, &t), 0);
	qb_loop_run(f->loop);
	qb_loop_timer_del(f->loop, t);
	return f->n > before;
}

/* State letter of a process from /proc, 0 if it is gone; ppid too. */
static char
proc_state(pid_t pid, pid_t *ppid)
{
	char path[64], buf[512], state = 0, *rp;
	FILE *fp;
	size_t len;
	int pp = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	if ((rp = strrchr(buf, ')')) == NULL || sscanf(rp + 2, "%c %d", &state, &pp) != 2)
		return 0;
	if (ppid != NULL)
		*ppid = pp;
	return state;
}

static bool
alive(pid_t pid)
{
	char s = proc_state(pid, NULL);

	return s != 0 && s != 'Z' && s != 'X';
}

/* Children of parent (zombies included), up to max pids stored. */
static size_t
children_of(pid_t parent, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		pid_t pid = atoi(de->d_name), pp = 0;

		if (pid > 0 && proc_state(pid, &pp) != 0 && pp == parent) {
			if (n < max)
				out[n] = pid;
			n++;
		}
	}
	closedir(d);
	return n;
}

/*
 * Poll until parent has want children or ms pass; the last count. Under
 * valgrind (QNET_VALGRIND=1, tests/unit/run-test) ms counts 4 times: there
 * the worker's ppoll() is emulated and a child's exit can wait for the
 * poll's timeout (the kill-list pass, 5 s) before it is reaped. The plain
 * and sanitizer runs keep the strict times, which is where a lost SIGTERM
 * shows.
 */
static size_t
wait_children(pid_t parent, size_t want, uint32_t ms)
{
	const char *vg = getenv("QNET_VALGRIND");
	uint64_t end = clock_now_ms() + (vg != NULL && strcmp(vg, "1") == 0 ? 4ULL : 1ULL) * ms;
	pid_t dummy[8];
	size_t n;

	while ((n = children_of(parent, dummy, 8)) != want && clock_now_ms() < end)
		usleep(20 * 1000);
	return n;
}

static int
fx_setup_limits(void **state, const struct heuristics_limits *lim)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(heuristics_create(&f->h, lim), 0);
	assert_non_null(f->loop = qb_loop_create());
	assert_int_equal(heuristics_attach(f->h, f->loop, on_done, f), 0);
	*state = f;
	return 0;
}

static int
fx_setup(void **state)
{
	struct heuristics_limits lim = HEURISTICS_LIMITS_DEFAULT;

	lim.kill_list_interval_ms = 250;
	return fx_setup_limits(state, &lim);
}

/* Kill-list pass every 5 s: a child gone sooner went by SIGTERM. */
static int
fx_setup_slow_kill(void **state)
{
	return fx_setup_limits(state, NULL);
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	heuristics_destroy(f->h);
	qb_loop_destroy(f->loop);
	free(f);
	return 0;
}

static void
set_cmds(struct fx *f, const char *const *cmds, size_t n)
{
	static const char *const names[] = { "a", "b", "c", "d" };

	assert_true(n <= NROWS(names));
	assert_int_equal(heuristics_set_execs(f->h, names, cmds, n), 0);
}

/* One run, expect exactly one report for it. */
static enum heuristics_result
run_once(struct fx *f, uint32_t timeout_ms)
{
	int64_t seq = heuristics_run(f->h, timeout_ms);

	assert_true(seq > 0);
	assert_true(heuristics_running(f->h));
	assert_true(spin(f, 3000));
	assert_int_equal(f->seq, (uint32_t)seq);
	assert_false(heuristics_running(f->h));
	return f->result;
}

static void
empty_list_disabled(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run_once(f, 1000), HEURISTICS_RESULT_DISABLED);	/* never set */
	set_cmds(f, (const char *const[]){ "/bin/true" }, 1);
	assert_int_equal(run_once(f, 1000), HEURISTICS_RESULT_PASS);
	assert_int_equal(heuristics_set_execs(f->h, NULL, NULL, 0), 0);
	assert_int_equal(run_once(f, 1000), HEURISTICS_RESULT_DISABLED);
}

/* A command list, run twice on a fresh worker: both runs must give want. */
static const struct {
	const char		*cmds[4];	/* NULL-ended */
	bool			 execvp;
	enum heuristics_result	 want;
} cmd_rows[] = {
	{ { "/bin/true", "/bin/true", "/bin/true" },  false, HEURISTICS_RESULT_PASS },
	{ { "/bin/true", "/bin/false", "/bin/true" }, false, HEURISTICS_RESULT_FAIL },
	{ { "true" },                           false, HEURISTICS_RESULT_FAIL },	/* exec fails */
	{ { "true" },                           true,  HEURISTICS_RESULT_PASS },
	{ { "/nonexistent/x" },                 true,  HEURISTICS_RESULT_FAIL },
	{ { "/bin/sh -c \"exit 0\"" },          false, HEURISTICS_RESULT_PASS },
	{ { "/bin/sh -c \"exit 3\"" },          false, HEURISTICS_RESULT_FAIL },
	{ { "/bin/sh -c \"kill -9 $$\"" },      false, HEURISTICS_RESULT_FAIL },	/* signal */
	{ { "/bin/sh -c \"test \\\"a b\\\" = 'a b'\"" }, false, HEURISTICS_RESULT_PASS },
	{ { "/bin/sh -c \"exit 0" },            false, HEURISTICS_RESULT_FAIL },	/* unterminated */
	{ { "" },                               false, HEURISTICS_RESULT_FAIL },	/* empty */
};

static void
command_table(void **state)
{
	for (size_t i = 0; i < NROWS(cmd_rows); i++) {
		struct heuristics_limits lim = HEURISTICS_LIMITS_DEFAULT;
		size_t n = 0;
		void *st;
		struct fx *f;

		while (n < NROWS(cmd_rows[i].cmds) && cmd_rows[i].cmds[n] != NULL)
			n++;
		lim.use_execvp = cmd_rows[i].execvp;
		fx_setup_limits(&st, &lim);
		f = st;
		set_cmds(f, cmd_rows[i].cmds, n);
		for (int run = 1; run <= 2; run++) {
			enum heuristics_result got = run_once(f, 2000);

			if (got != cmd_rows[i].want)
				fail_msg("row %zu ('%s', %zu commands, execvp %d), run %d: got %s, "
				    "want %s", i, cmd_rows[i].cmds[0], n, cmd_rows[i].execvp, run,
				    heuristics_result_name(got),
				    heuristics_result_name(cmd_rows[i].want));
		}
		assert_int_equal(f->n, 2);	/* one report a run */
		fx_teardown(&st);
	}
}

static void
timeout_fails_and_kills(void **state)
{
	static const char *const cmds[] = { "/bin/true", "/bin/sleep 5" };
	struct fx *f = *state;
	pid_t worker = heuristics_worker_pid(f->h);
	uint64_t start = clock_now_ms(), took;

	set_cmds(f, cmds, 2);
	assert_int_equal(run_once(f, 300), HEURISTICS_RESULT_FAIL);
	took = clock_now_ms() - start;
	if (took < 250 || took > 2000)
		fail_msg("run took %llu ms, want about 300", (unsigned long long)took);
	assert_int_equal(wait_children(worker, 0, 2000), 0);	/* sleeper killed, reaped */
}

static void
sigterm_ignored_gets_sigkill(void **state)
{
	static const char *const cmds[] = { "/bin/sh -c \"trap '' TERM; exec /bin/sleep 5\"" };
	struct fx *f = *state;
	pid_t worker = heuristics_worker_pid(f->h);

	set_cmds(f, cmds, 1);
	/*
	 * The timeout must come after the shell set its trap: a SIGTERM
	 * before that ends the child, as it should (heuristics-exec.c keeps
	 * it pending across fork), and a child running under valgrind until
	 * its exec needs more than 300 ms to get there.
	 */
	assert_int_equal(run_once(f, 1500), HEURISTICS_RESULT_FAIL);
	usleep(100 * 1000);
	assert_int_equal(children_of(worker, NULL, 0), 1);	/* SIGTERM ignored */
	assert_int_equal(wait_children(worker, 0, 2000), 0);	/* the kill-list pass */
}

/*
 * SIGTERM for the whole unit (systemctl stop, pkill) must not kill the
 * worker before the daemon has stopped it; the commands it starts still
 * die of SIGTERM at their timeout (sleep below has no handler of its own).
 */
static void
worker_outlives_a_stray_sigterm(void **state)
{
	static const char *const cmds[] = { "/bin/sleep 5" };
	struct fx *f = *state;
	pid_t worker = heuristics_worker_pid(f->h);

	set_cmds(f, (const char *const[]){ "/bin/true" }, 1);
	assert_int_equal(run_once(f, 1000), HEURISTICS_RESULT_PASS);	/* the worker is up */
	assert_int_equal(kill(worker, SIGTERM), 0);
	assert_int_equal(kill(worker, SIGINT), 0);
	assert_int_equal(run_once(f, 1000), HEURISTICS_RESULT_PASS);
	assert_int_equal(heuristics_worker_pid(f->h), worker);
	set_cmds(f, cmds, 1);
	assert_int_equal(run_once(f, 300), HEURISTICS_RESULT_FAIL);
	/* gone well before the next kill-list pass (5 s): by the SIGTERM */
	assert_int_equal(wait_children(worker, 0, 1500), 0);
}

/* Run s1 is superseded by one of /bin/true: that one's PASS is what is reported. */
static void
supersede_with_true(struct fx *f, int64_t s1, uint32_t timeout_ms)
{
	int64_t s2;

	set_cmds(f, (const char *const[]){ "/bin/true" }, 1);
	s2 = heuristics_run(f->h, timeout_ms);
	assert_true(s1 > 0 && s2 > s1);
	assert_true(spin(f, 3000));
	assert_int_equal(f->seq, (uint32_t)s2);
	assert_int_equal(f->result, HEURISTICS_RESULT_PASS);
}

static void
superseded_result_not_reported(void **state)
{
	struct fx *f = *state;
	int64_t s1;

	set_cmds(f, (const char *const[]){ "/bin/false" }, 1);
	s1 = heuristics_run(f->h, 1000);
	usleep(300 * 1000);	/* s1's FAIL now waits in the pipe, unread */
	supersede_with_true(f, s1, 1000);
	assert_false(spin(f, 300));
	assert_int_equal(f->n, 1);
}

static void
superseded_run_killed(void **state)
{
	struct fx *f = *state;
	pid_t worker = heuristics_worker_pid(f->h);
	uint64_t start = clock_now_ms();
	int64_t s1;

	set_cmds(f, (const char *const[]){ "/bin/sleep 5" }, 1);
	s1 = heuristics_run(f->h, 5000);
	assert_int_equal(wait_children(worker, 1, 2000), 1);
	supersede_with_true(f, s1, 5000);
	assert_true(clock_now_ms() - start < 2500);
	assert_int_equal(wait_children(worker, 0, 2000), 0);
	assert_int_equal(f->n, 1);
}

static void
bad_arguments(void **state)
{
	static const char *const names[] = { "a", "b", "c" }, *const cmds[] = { "/bin/true",
	    "/bin/true", "/bin/true" };
	struct heuristics_limits lim = HEURISTICS_LIMITS_DEFAULT, zero = { 0, 160, 5000, false };
	struct heuristics *h;
	char big[HEURISTICS_LINE_MAX];

	assert_int_equal(heuristics_create(&h, &zero), -EINVAL);
	lim.max_execs = 2;
	assert_int_equal(heuristics_create(&h, &lim), 0);
	assert_int_equal(heuristics_set_execs(h, names, cmds, 3), -E2BIG);
	assert_int_equal(heuristics_set_execs(h, names, cmds, 2), 0);
	assert_int_equal(heuristics_set_execs(h, (const char *const[]){ "a b" }, cmds, 1), -EINVAL);
	assert_int_equal(heuristics_set_execs(h, (const char *const[]){ "" }, cmds, 1), -EINVAL);
	assert_int_equal(heuristics_set_execs(h, names, (const char *const[]){ "/bin/true\n" }, 1),
	    -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(heuristics_set_execs(h, names, (const char *const[]){ big }, 1), -EMSGSIZE);
	assert_int_equal(heuristics_run(h, 0), -EINVAL);
	heuristics_destroy(h);
	heuristics_destroy(NULL);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
destroy_leaves_no_children(void **state)
{
	static const char *const cmds[] = { "/bin/sleep 5", "/bin/sleep 5" };
	struct fx *f = *state;
	pid_t worker = heuristics_worker_pid(f->h), kids[2];

	set_cmds(f, cmds, 2);
	assert_true(heuristics_run(f->h, 5000) > 0);
	assert_int_equal(wait_children(worker, 2, 2000), 2);
	assert_int_equal(children_of(worker, kids, 2), 2);
	heuristics_destroy(f->h);
	f->h = NULL;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);	/* worker reaped, no other child */
	assert_int_equal(errno, ECHILD);
	assert_false(alive(worker));
	for (uint64_t end = clock_now_ms() + 2000;
	    (alive(kids[0]) || alive(kids[1])) && clock_now_ms() < end; )
		usleep(20 * 1000);
	assert_false(alive(kids[0]));
	assert_false(alive(kids[1]));
}

static void
worker_death_reported(void **state)
{
	struct fx *f = *state;

	set_cmds(f, (const char *const[]){ "/bin/sleep 5" }, 1);
	assert_true(heuristics_run(f->h, 5000) > 0);
	assert_int_equal(kill(heuristics_worker_pid(f->h), SIGKILL), 0);
	assert_true(spin(f, 3000));
	assert_int_equal(f->seq, 0);
	assert_int_equal(f->result, HEURISTICS_RESULT_FAIL);
	assert_false(heuristics_running(f->h));
	assert_int_equal(heuristics_run(f->h, 1000), -EPIPE);
	assert_false(spin(f, 200));			/* reported once */
	assert_int_equal(f->n, 1);
}

static void
destroy_inside_done(void **state)
{
	struct fx *f = *state;

	f->destroy_in_done = true;
	set_cmds(f, (const char *const[]){ "/bin/true" }, 1);
	assert_true(heuristics_run(f->h, 1000) > 0);
	assert_true(spin(f, 3000));
	assert_null(f->h);
	assert_false(spin(f, 200));	/* the loop runs on without the freed handle */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_table),
		cmocka_unit_test(parse_pair_table),
		cmocka_unit_test(command_table),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test_setup_teardown(empty_list_disabled, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(timeout_fails_and_kills, fx_setup_slow_kill,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(sigterm_ignored_gets_sigkill, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(worker_outlives_a_stray_sigterm, fx_setup_slow_kill,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(superseded_result_not_reported, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(superseded_run_killed, fx_setup_slow_kill,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(destroy_leaves_no_children, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(worker_death_reported, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(destroy_inside_done, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
