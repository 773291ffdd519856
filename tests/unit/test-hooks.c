/* tests/unit/test-hooks.c: event hook processes run, time out and are bounded. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <qb/qbloop.h>

#include "common/hooks.h"
#include "tests/unit/loop-run.h"

static char dir[] = "/tmp/test-hooks.XXXXXX";
static char script[256], out_file[256];

static int
setup(void **state)
{
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/hook.sh", dir);
	snprintf(out_file, sizeof(out_file), "%s/out", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n"
	    "if [ \"$1\" = slow ]; then exec sleep 30; fi\n"
	    "if [ \"$1\" = late ]; then sleep 0.3; fi\n"
	    "if [ \"$1\" = spawner ]; then sleep 30 & echo $! > %s.pid; wait; fi\n"
	    "if [ \"$1\" = sigpipe ]; then grep SigIgn /proc/self/status >> %s; exit; fi\n"
	    "echo \"$1 $QNET_EVENT $QNET_NODE_ID $QNET_CLUSTER\" >> %s\n", out_file, out_file,
	    out_file);
	fclose(f);
	assert_int_equal(chmod(script, 0755), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(script);
	unlink(out_file);
	rmdir(dir);
	return 0;
}

/* The first line the hook wrote to out_file. */
static void
first_line(char *line, size_t len)
{
	FILE *f = fopen(out_file, "r");

	assert_non_null(f);
	assert_non_null(fgets(line, (int)len, f));
	fclose(f);
}

/*
 * Run the loop until every hook has ended and none waits, or max_ms passed:
 * a hook is a process, and under valgrind on a busy machine starting a few
 * of them takes longer than any fixed wait.
 */
static void
run_until_idle(qb_loop_t *loop, const struct hooks *h, unsigned max_ms)
{
	for (unsigned waited = 0; waited < max_ms && (hooks_running(h) > 0 || hooks_queued(h) > 0);
	    waited += 50)
		loop_run_ms(loop, 50);
}

/* A fresh loop and hooks over the test script, with out_file emptied. */
static struct hooks *
start_hooks(qb_loop_t **loop, const char *program, unsigned timeout_ms, unsigned max_running)
{
	struct hooks *h;

	*loop = qb_loop_create();
	assert_non_null(*loop);
	unlink(out_file);
	assert_int_equal(hooks_create(&h, *loop, program, timeout_ms, max_running), 0);
	return h;
}

static void
stop_hooks(qb_loop_t *loop, struct hooks *h)
{
	hooks_destroy(h);
	qb_loop_destroy(loop);
}

static void
hook_gets_event_and_vars(void **state)
{
	const char *vars[] = { "QNET_NODE_ID=2", "QNET_CLUSTER=pve", NULL };
	qb_loop_t *loop;
	struct hooks *h;
	char line[256] = "";

	(void)state;
	h = start_hooks(&loop, script, 5000, 4);
	assert_int_equal(hooks_run(h, "pve", 1, false, "vote_changed", vars), 0);
	assert_int_equal(hooks_running(h), 1);
	run_until_idle(loop, h, 20000);
	assert_int_equal(hooks_running(h), 0);	/* reaped */
	first_line(line, sizeof(line));
	assert_string_equal(line, "vote_changed vote_changed 2 pve\n");
	stop_hooks(loop, h);
}

static void
slow_hooks_are_killed(void **state)
{
	qb_loop_t *loop;
	struct hooks *h;

	(void)state;
	h = start_hooks(&loop, script, 200, 2);
	assert_int_equal(hooks_run(h, NULL, 0, false, "slow", NULL), 0);
	assert_int_equal(hooks_run(h, NULL, 0, false, "slow", NULL), 0);
	assert_int_equal(hooks_running(h), 2);
	run_until_idle(loop, h, 20000);
	assert_int_equal(hooks_timed_out(h), 2);
	assert_int_equal(hooks_running(h), 0);
	stop_hooks(loop, h);
}

/* The lines the hooks wrote to out_file, at most max; returns the count. */
static size_t
read_lines(char lines[][64], size_t max)
{
	FILE *f = fopen(out_file, "r");
	size_t n = 0;

	if (f == NULL)
		return 0;
	while (n < max && fgets(lines[n], 64, f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* Event "e<i>" for key, whose owner was born at `born` and lives on. */
static int
queue_event(struct hooks *h, const char *key, uint64_t born, unsigned i)
{
	char event[16], cluster[64];
	const char *vars[] = { cluster, NULL };

	snprintf(event, sizeof(event), "e%u", i);
	snprintf(cluster, sizeof(cluster), "QNET_CLUSTER=%s", key);
	return hooks_run(h, key, born, false, event, vars);
}

/* key's "slow" hook holds the one slot; events e0.. of key fill the queue behind it. */
static void
hold_slot_and_fill_queue(struct hooks *h, const char *key, uint64_t born)
{
	assert_int_equal(hooks_run(h, key, born, false, "slow", NULL), 0);
	for (unsigned i = 0; i < HOOKS_QUEUE_PER_SLOT; i++)
		assert_int_equal(queue_event(h, key, born, i), 0);
	assert_int_equal(hooks_queued(h), HOOKS_QUEUE_PER_SLOT);
}

/* With every slot busy, events wait (bounded), then run in order; none is lost below the bound. */
static void
events_wait_for_a_slot(void **state)
{
	qb_loop_t *loop;
	char lines[16][64], want[64];
	struct hooks *h;
	unsigned i;

	(void)state;
	h = start_hooks(&loop, script, 300, 1);
	hold_slot_and_fill_queue(h, "a", 1);
	/* never queued without bound */
	assert_int_equal(queue_event(h, "a", 1, HOOKS_QUEUE_PER_SLOT), -EBUSY);
	assert_int_equal(hooks_dropped(h), 1);
	assert_int_equal(hooks_queued(h), HOOKS_QUEUE_PER_SLOT);
	run_until_idle(loop, h, 20000);
	assert_int_equal(hooks_timed_out(h), 1);
	assert_int_equal(hooks_running(h), 0);
	assert_int_equal(hooks_queued(h), 0);
	assert_int_equal(read_lines(lines, 16), HOOKS_QUEUE_PER_SLOT);
	for (i = 0; i < HOOKS_QUEUE_PER_SLOT; i++) {
		snprintf(want, sizeof(want), "e%u e%u  a\n", i, i);
		assert_string_equal(lines[i], want);
	}
	stop_hooks(loop, h);
}

/*
 * One key flooding the queue (a cluster's connect/disconnect churn) gives
 * up its newest events to another key's, and the keys take turns; having
 * lived longer does not save its flood.
 */
static void
a_flooding_key_cannot_crowd_out_another(void **state)
{
	qb_loop_t *loop;
	char lines[16][64];
	struct hooks *h;
	size_t n, real_seen = 0;

	(void)state;
	h = start_hooks(&loop, script, 300, 1);
	hold_slot_and_fill_queue(h, "churn", 1);
	/* full: the churn key's newest event makes room for the real one */
	assert_int_equal(queue_event(h, "real", 2, 100), 0);
	assert_int_equal(hooks_dropped(h), 1);
	/* the churn key, still the longest, loses its own new event */
	assert_int_equal(queue_event(h, "churn", 1, 50), -EBUSY);
	assert_int_equal(queue_event(h, "real", 2, 101), 0);
	assert_int_equal(hooks_dropped(h), 3);
	assert_int_equal(hooks_queued(h), HOOKS_QUEUE_PER_SLOT);
	run_until_idle(loop, h, 20000);
	n = read_lines(lines, 16);
	assert_int_equal(n, HOOKS_QUEUE_PER_SLOT);
	/* turns: churn, real, churn, real, then the rest of churn */
	assert_string_equal(lines[0], "e0 e0  churn\n");
	assert_string_equal(lines[1], "e100 e100  real\n");
	assert_string_equal(lines[2], "e1 e1  churn\n");
	assert_string_equal(lines[3], "e101 e101  real\n");
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], " real\n") != NULL)
			real_seen++;
	assert_int_equal(real_seen, 2);
	stop_hooks(loop, h);
}

/* A short-lived key: its owner is born (one event) and ends (another). */
static void
queue_short_life(struct hooks *h, unsigned born)
{
	char key[16];

	snprintf(key, sizeof(key), "s%u", born);
	queue_event(h, key, born, born);
	hooks_run(h, key, born, true, "gone", NULL);
}

/*
 * A churn of short-lived keys (cluster names made at will: born, 1-2
 * events, ended), some born before a lasting key and some after, fills the
 * queue; the lasting key's burst (vote_changed and partition_changed come
 * together), and later its last event as it ends, all run: the
 * short-lived keys give up theirs, however early they were born.
 */
static void
a_lasting_keys_burst_outlives_a_churn_of_short_lived_keys(void **state)
{
	const char *real_vars[] = { "QNET_CLUSTER=real", NULL };
	qb_loop_t *loop;
	char lines[16][64], want[64];
	struct hooks *h;
	unsigned born = 1;
	size_t n;

	(void)state;
	h = start_hooks(&loop, script, 300, 1);
	assert_int_equal(hooks_run(h, "start", 0, false, "slow", NULL), 0);	/* holds the slot */
	for (; born <= HOOKS_QUEUE_PER_SLOT; born++)
		queue_short_life(h, born);
	assert_int_equal(hooks_queued(h), HOOKS_QUEUE_PER_SLOT);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(queue_event(h, "real", 100, 100 + i), 0);
	for (born = 101; born < 101 + 2 * HOOKS_QUEUE_PER_SLOT; born++)
		queue_short_life(h, born);
	assert_int_equal(hooks_run(h, "real", 100, true, "e103", real_vars), 0);	/* it ends */
	for (; born < 101 + 4 * HOOKS_QUEUE_PER_SLOT; born++)
		queue_short_life(h, born);
	assert_int_equal(hooks_queued(h), HOOKS_QUEUE_PER_SLOT);
	assert_int_equal(hooks_dropped(h), 2 * (HOOKS_QUEUE_PER_SLOT + 4 * HOOKS_QUEUE_PER_SLOT) + 4 -
	    HOOKS_QUEUE_PER_SLOT);
	run_until_idle(loop, h, 20000);
	n = read_lines(lines, 16);
	assert_int_equal(n, HOOKS_QUEUE_PER_SLOT);
	for (unsigned i = 0; i < 4; i++) {
		bool ran = false;

		snprintf(want, sizeof(want), "e%u e%u  real\n", 100 + i, 100 + i);
		for (size_t j = 0; j < n; j++)
			ran = ran || strcmp(lines[j], want) == 0;
		assert_true(ran);
	}
	stop_hooks(loop, h);
}

/* Events still waiting when the daemon stops get their turn too (within a hook timeout). */
static void
destroy_runs_waiting_events(void **state)
{
	qb_loop_t *loop;
	char lines[4][64];
	struct hooks *h;

	(void)state;
	h = start_hooks(&loop, script, 5000, 1);
	assert_int_equal(hooks_run(h, NULL, 0, false, "late", NULL), 0);
	assert_int_equal(queue_event(h, "", 0, 7), 0);
	assert_int_equal(hooks_queued(h), 1);
	hooks_destroy(h);
	assert_int_equal(read_lines(lines, 4), 2);
	assert_int_equal(strncmp(lines[0], "late late", 9), 0);
	assert_string_equal(lines[1], "e7 e7  \n");
	qb_loop_destroy(loop);
}

/* The last events of a daemon that exits are the ones an admin needs most. */
static void
destroy_lets_running_hooks_finish(void **state)
{
	qb_loop_t *loop;
	struct hooks *h;
	char line[256] = "";

	(void)state;
	h = start_hooks(&loop, script, 5000, 4);
	assert_int_equal(hooks_run(h, NULL, 0, false, "late", NULL), 0);
	hooks_destroy(h);	/* at once, while the hook sleeps */
	first_line(line, sizeof(line));
	assert_int_equal(strncmp(line, "late late", 9), 0);
	qb_loop_destroy(loop);
}

/* A hook over its time is killed with what it started in the background. */
static void
timeout_kills_what_the_hook_started(void **state)
{
	qb_loop_t *loop;
	char pid_file[300];
	struct hooks *h;
	long child = 0;
	bool gone = false;
	FILE *f;

	(void)state;
	snprintf(pid_file, sizeof(pid_file), "%s.pid", out_file);
	unlink(pid_file);
	h = start_hooks(&loop, script, 300, 1);
	assert_int_equal(hooks_run(h, NULL, 0, false, "spawner", NULL), 0);
	run_until_idle(loop, h, 20000);
	assert_int_equal(hooks_timed_out(h), 1);
	f = fopen(pid_file, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &child), 1);
	fclose(f);
	unlink(pid_file);
	/* Killed, then reaped by init: gone within a moment. */
	for (int i = 0; i < 100 && !gone; i++) {
		char path[64], state_line[256] = "";
		FILE *st;

		snprintf(path, sizeof(path), "/proc/%ld/stat", child);
		st = fopen(path, "r");
		if (st == NULL) {
			gone = true;
			break;
		}
		if (fgets(state_line, sizeof(state_line), st) != NULL &&
		    strstr(state_line, ") Z ") != NULL)
			gone = true;	/* a zombie: dead, init has not reaped it yet */
		fclose(st);
		usleep(10000);
	}
	assert_true(gone);
	stop_hooks(loop, h);
}

/* The daemons ignore SIGPIPE; a hook's shell pipelines must not. */
static void
hooks_get_sigpipe_by_default(void **state)
{
	qb_loop_t *loop;
	unsigned long long ignored = ~0ULL;
	struct hooks *h;
	char line[256] = "";

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	h = start_hooks(&loop, script, 5000, 1);
	assert_int_equal(hooks_run(h, NULL, 0, false, "sigpipe", NULL), 0);
	run_until_idle(loop, h, 20000);
	first_line(line, sizeof(line));
	assert_int_equal(sscanf(line, "SigIgn: %llx", &ignored), 1);
	assert_int_equal(ignored & (1ULL << (SIGPIPE - 1)), 0);
	signal(SIGPIPE, SIG_DFL);
	stop_hooks(loop, h);
}

static void
no_program_means_disabled(void **state)
{
	qb_loop_t *loop;
	struct hooks *h;

	(void)state;
	h = start_hooks(&loop, NULL, 1000, 1);
	assert_int_equal(hooks_run(h, NULL, 0, false, "anything", NULL), 0);
	assert_int_equal(hooks_running(h), 0);
	stop_hooks(loop, h);
	h = start_hooks(&loop, "/nonexistent/hook", 1000, 1);
	assert_true(hooks_run(h, NULL, 0, false, "x", NULL) < 0);	/* spawn failure is reported */
	stop_hooks(loop, h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hook_gets_event_and_vars),
		cmocka_unit_test(slow_hooks_are_killed),
		cmocka_unit_test(events_wait_for_a_slot),
		cmocka_unit_test(a_flooding_key_cannot_crowd_out_another),
		cmocka_unit_test(a_lasting_keys_burst_outlives_a_churn_of_short_lived_keys),
		cmocka_unit_test(destroy_runs_waiting_events),
		cmocka_unit_test(destroy_lets_running_hooks_finish),
		cmocka_unit_test(timeout_kills_what_the_hook_started),
		cmocka_unit_test(hooks_get_sigpipe_by_default),
		cmocka_unit_test(no_program_means_disabled),
	};

	return cmocka_run_group_tests_name("hooks", tests, setup, teardown);
}
