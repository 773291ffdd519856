/*
 * tests/unit/test-fuzz-regressions.c: replay every file of the fuzz
 * corpora (tests/fuzz/corpus/<target>/: the seeds and every input that
 * once crashed a target) through the same entry points libFuzzer calls.
 * A broken invariant aborts; the abort handler names the file first.
 * Under --enable-sanitizers this is the fuzzers' ASan/UBSan check too.
 */
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
#include <unistd.h>
#include <cmocka.h>

#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_CORPUS_DIR
#error "FUZZ_CORPUS_DIR must name tests/fuzz/corpus"
#endif

#define REPLAY_MAX_INPUT	(1 << 20)

static char current[4096];

static void
on_abort(int sig)
{
	static const char msg[] = "test-fuzz-regressions: aborted while replaying ";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)!write(STDERR_FILENO, current, strlen(current));
	(void)!write(STDERR_FILENO, "\n", 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file of DIR/target in name order; returns how many. */
static size_t
replay_dir(const char *target, int (*one)(const uint8_t *, size_t))
{
	char dir[2048], **names = NULL;
	size_t count = 0, cap = 0;
	uint8_t *buf = malloc(REPLAY_MAX_INPUT);
	struct dirent *e;
	DIR *d;

	assert_non_null(buf);
	snprintf(dir, sizeof(dir), "%s/%s", FUZZ_CORPUS_DIR, target);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("cannot open %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			assert_non_null(names);
		}
		names[count] = strdup(e->d_name);
		assert_non_null(names[count]);
		count++;
	}
	closedir(d);
	qsort(names, count, sizeof(*names), name_cmp);
	for (size_t i = 0; i < count; i++) {
		FILE *f;
		size_t len;

		snprintf(current, sizeof(current), "%s/%s", dir, names[i]);
		f = fopen(current, "rb");
		if (f == NULL)
			fail_msg("cannot open %s: %s", current, strerror(errno));
		len = fread(buf, 1, REPLAY_MAX_INPUT, f);
		fclose(f);
		one(buf, len);
		free(names[i]);
	}
	current[0] = '\0';
	free(names);
	free(buf);
	return count;
}

static void
replay_msg_decode(void **state)
{
	(void)state;
	assert_true(replay_dir("fuzz-msg-decode", fuzz_msg_decode_one) > 0);
}

static void
replay_qnetd_dispatch(void **state)
{
	(void)state;
	assert_true(replay_dir("fuzz-qnetd-dispatch", fuzz_qnetd_dispatch_one) > 0);
}

/* Inputs that are not in any corpus but must never hurt: empty, tiny, all-ones. */
static void
edge_inputs(void **state)
{
	static uint8_t ones[64 * 1024];

	(void)state;
	memset(ones, 0xff, sizeof(ones));
	for (size_t len = 0; len < 16; len++) {
		fuzz_msg_decode_one(ones, len);
		fuzz_qnetd_dispatch_one(ones, len);
	}
	fuzz_msg_decode_one(ones, sizeof(ones));
	fuzz_qnetd_dispatch_one(ones, sizeof(ones));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replay_msg_decode),
		cmocka_unit_test(replay_qnetd_dispatch),
		cmocka_unit_test(edge_inputs),
	};

	signal(SIGABRT, on_abort);
	return cmocka_run_group_tests_name("fuzz-regressions", tests, NULL, NULL);
}
