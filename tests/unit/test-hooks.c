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

static void
stop(void *data)
{
	qb_loop_stop(data);
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

static void
run_loop_ms(qb_loop_t *loop, unsigned ms)
{
	qb_loop_timer_handle t;

	assert_int_equal(qb_loop_timer_add(loop, QB_LOOP_LOW, ms * 1000000ULL, loop, stop, &t), 0);
	qb_loop_run(loop);
}

static void
hook_gets_event_and_vars(void **state)
{
	const char *vars[] = { "QNET_NODE_ID=2", "QNET_CLUSTER=pve", NULL };
	qb_loop_t *loop = qb_loop_create();
	struct hooks *h;
	char line[256] = "";

	(void)state;
	unlink(out_file);
	assert_int_equal(hooks_create(&h, loop, script, 5000, 4), 0);
	assert_int_equal(hooks_run(h, "vote_changed", vars), 0);
	assert_int_equal(hooks_running(h), 1);
	run_loop_ms(loop, 500);
	assert_int_equal(hooks_running(h), 0);	/* reaped */
	first_line(line, sizeof(line));
	assert_string_equal(line, "vote_changed vote_changed 2 pve\n");
	hooks_destroy(h);
	qb_loop_destroy(loop);
}

static void
slow_hook_is_killed_and_extra_events_dropped(void **state)
{
	qb_loop_t *loop = qb_loop_create();
	struct hooks *h;

	(void)state;
	assert_int_equal(hooks_create(&h, loop, script, 200, 2), 0);
	assert_int_equal(hooks_run(h, "slow", NULL), 0);
	assert_int_equal(hooks_run(h, "slow", NULL), 0);
	assert_int_equal(hooks_run(h, "slow", NULL), -EBUSY);	/* never queued without bound */
	assert_int_equal(hooks_dropped(h), 1);
	run_loop_ms(loop, 800);
	assert_int_equal(hooks_timed_out(h), 2);
	assert_int_equal(hooks_running(h), 0);
	hooks_destroy(h);
	qb_loop_destroy(loop);
}

/* The last events of a daemon that exits are the ones an admin needs most. */
static void
destroy_lets_running_hooks_finish(void **state)
{
	qb_loop_t *loop = qb_loop_create();
	struct hooks *h;
	char line[256] = "";

	(void)state;
	unlink(out_file);
	assert_int_equal(hooks_create(&h, loop, script, 5000, 4), 0);
	assert_int_equal(hooks_run(h, "late", NULL), 0);
	hooks_destroy(h);	/* at once, while the hook sleeps */
	first_line(line, sizeof(line));
	assert_int_equal(strncmp(line, "late late", 9), 0);
	qb_loop_destroy(loop);
}

/* A hook over its time is killed with what it started in the background. */
static void
timeout_kills_what_the_hook_started(void **state)
{
	qb_loop_t *loop = qb_loop_create();
	char pid_file[300];
	struct hooks *h;
	long child = 0;
	bool gone = false;
	FILE *f;

	(void)state;
	snprintf(pid_file, sizeof(pid_file), "%s.pid", out_file);
	unlink(pid_file);
	assert_int_equal(hooks_create(&h, loop, script, 300, 1), 0);
	assert_int_equal(hooks_run(h, "spawner", NULL), 0);
	run_loop_ms(loop, 900);
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
	hooks_destroy(h);
	qb_loop_destroy(loop);
}

/* The daemons ignore SIGPIPE; a hook's shell pipelines must not. */
static void
hooks_get_sigpipe_by_default(void **state)
{
	qb_loop_t *loop = qb_loop_create();
	unsigned long long ignored = ~0ULL;
	struct hooks *h;
	char line[256] = "";

	(void)state;
	unlink(out_file);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(hooks_create(&h, loop, script, 5000, 1), 0);
	assert_int_equal(hooks_run(h, "sigpipe", NULL), 0);
	run_loop_ms(loop, 500);
	first_line(line, sizeof(line));
	assert_int_equal(sscanf(line, "SigIgn: %llx", &ignored), 1);
	assert_int_equal(ignored & (1ULL << (SIGPIPE - 1)), 0);
	signal(SIGPIPE, SIG_DFL);
	hooks_destroy(h);
	qb_loop_destroy(loop);
}

static void
no_program_means_disabled(void **state)
{
	qb_loop_t *loop = qb_loop_create();
	struct hooks *h;

	(void)state;
	assert_int_equal(hooks_create(&h, loop, NULL, 1000, 1), 0);
	assert_int_equal(hooks_run(h, "anything", NULL), 0);
	assert_int_equal(hooks_running(h), 0);
	hooks_destroy(h);
	assert_int_equal(hooks_create(&h, loop, "/nonexistent/hook", 1000, 1), 0);
	assert_true(hooks_run(h, "x", NULL) < 0);	/* spawn failure is reported */
	hooks_destroy(h);
	qb_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hook_gets_event_and_vars),
		cmocka_unit_test(slow_hook_is_killed_and_extra_events_dropped),
		cmocka_unit_test(destroy_lets_running_hooks_finish),
		cmocka_unit_test(timeout_kills_what_the_hook_started),
		cmocka_unit_test(hooks_get_sigpipe_by_default),
		cmocka_unit_test(no_program_means_disabled),
	};

	return cmocka_run_group_tests_name("hooks", tests, setup, teardown);
}
