/*
 * tests/unit/test-qdevice-ringwatch.c: the ring watch thread never enters
 * qb_log. libqb drops a line logged while another thread is inside qb_log,
 * and cmap's connect/disconnect log through libqb, so the thread may only
 * read: these fake cmap calls note which thread made them.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <corosync/cmap.h>

#include "qdevice/qdevice.h"

static pthread_t main_thread;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned opens_off_main, closes_off_main, opens, closes, reads;
static uint64_t token_rx = 41;

static bool
on_main(void)
{
	return pthread_equal(pthread_self(), main_thread) != 0;
}

static void
note(unsigned *count, unsigned *off_main)
{
	pthread_mutex_lock(&seen_lock);
	(*count)++;
	if (off_main != NULL && !on_main())
		(*off_main)++;
	pthread_mutex_unlock(&seen_lock);
}

cs_error_t
cmap_initialize(cmap_handle_t *handle)
{
	note(&opens, &opens_off_main);
	*handle = 1;
	return CS_OK;
}

cs_error_t
cmap_initialize_map(cmap_handle_t *handle, cmap_map_t map)
{
	(void)map;
	note(&opens, &opens_off_main);
	*handle = 2;
	return CS_OK;
}

cs_error_t
cmap_finalize(cmap_handle_t handle)
{
	(void)handle;
	note(&closes, &closes_off_main);
	return CS_OK;
}

cs_error_t
cmap_get_uint64(cmap_handle_t handle, const char *key, uint64_t *value)
{
	(void)handle;
	(void)key;
	note(&reads, NULL);
	pthread_mutex_lock(&seen_lock);
	*value = ++token_rx;
	pthread_mutex_unlock(&seen_lock);
	return CS_OK;
}

cs_error_t
cmap_get_uint32(cmap_handle_t handle, const char *key, uint32_t *value)
{
	(void)handle;
	*value = strcmp(key, "runtime.config.totem.token") == 0 ? 1000 : 1200;
	return CS_OK;
}

static void
test_thread_only_reads(void **state)
{
	static struct qdevice qd;
	struct timespec pause = { 0, 10 * 1000000L };
	uint64_t rx = 0, read_ms = 0;
	uint32_t token_ms, consensus_ms;
	unsigned waited;

	(void)state;
	main_thread = pthread_self();
	assert_int_equal(qdevice_ringwatch_start(&qd), 0);
	qdevice_ringwatch_want(&qd, true);
	/* bounded wait for a reading */
	for (waited = 0; waited < 500 && !qdevice_ringwatch_token(&qd, &rx, &read_ms); waited++)
		nanosleep(&pause, NULL);
	assert_true(qdevice_ringwatch_token(&qd, &rx, &read_ms));
	assert_true(rx > 41);
	qdevice_ringwatch_timeouts(&qd, &token_ms, &consensus_ms);
	assert_int_equal(token_ms, 1000);
	assert_int_equal(consensus_ms, 1200);
	qdevice_ringwatch_stop(&qd);

	assert_int_equal(opens, 2);
	assert_int_equal(closes, 2);
	assert_true(reads > 0);
	/* connect and disconnect log through libqb: the main thread's job */
	assert_int_equal(opens_off_main, 0);
	assert_int_equal(closes_off_main, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_only_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
