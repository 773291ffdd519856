/*
 * tests/unit/test-qnetd-totals.c: the counters a worker process sends its
 * front (qnetd/shard-totals.h): text round trip, sums, refusal of broken text;
 * and its client/handshake notices (qnetd/shard.h), none lost to a busy front.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "qnetd/instance.h"
#include "qnetd/shard.h"
#include "qnetd/shard-totals.h"
#include "tests/unit/loop-run.h"
#include "tests/unit/qnetd-fixture.h"

static void
fill(struct qnetd_totals *t, uint64_t base)
{
	memset(t, 0, sizeof(*t));
	t->clients = (uint32_t)base;
	t->clusters = (uint32_t)base / 2;
	t->tls_loaded = true;
	t->cert_days_left = (long)base;
	t->stats.clients_accepted = base + 1;
	t->stats.clients_refused = base + 2;
	t->stats.acks_sent = base + 3;
	t->stats.nacks_sent = base + 4;
	t->stats.conn.dpd_expiries = base + 5;
	t->stats.conn.dpd_reprieves = base + 6;
	t->stats.conn.tls_handshake_failures = base + 7;
	t->stats.cert_check_failures = base + 8;
	t->stats.decode_errors = base + 9;
	for (size_t i = 0; i <= QNETD_LATENCY_BUCKETS; i++)
		t->stats.latency_buckets[i] = base * 100 + i;
	t->stats.latency_count = base + 10;
	t->stats.latency_sum_s = (double)base / 8;
}

static char *
write_text(const struct qnetd_totals *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	shard_totals_write(t, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
round_trip(void **state)
{
	struct qnetd_totals a, b;
	char *text;

	(void)state;
	fill(&a, 4000000000ULL);
	a.stats.latency_count = UINT64_MAX;	/* the full width survives */
	text = write_text(&a);
	assert_int_equal(shard_totals_parse(text, &b), 0);
	free(text);
	assert_int_equal(b.clients, a.clients);
	assert_int_equal(b.clusters, a.clusters);
	assert_true(b.tls_loaded);
	assert_int_equal(b.cert_days_left, a.cert_days_left);
	assert_memory_equal(&b.stats, &a.stats, offsetof(struct qnetd_stats, latency_sum_s));
	assert_true(b.stats.latency_sum_s > a.stats.latency_sum_s - 1e-6 &&
	    b.stats.latency_sum_s < a.stats.latency_sum_s + 1e-6);
}

static void
sums(void **state)
{
	struct qnetd_totals sum, part;

	(void)state;
	memset(&sum, 0, sizeof(sum));	/* a front: no TLS of its own */
	sum.clients = 3;
	fill(&part, 10);
	shard_totals_add(&sum, &part);
	fill(&part, 20);
	part.cert_days_left = 7;	/* the soonest expiry wins */
	shard_totals_add(&sum, &part);
	assert_int_equal(sum.clients, 3 + 10 + 20);
	assert_int_equal(sum.clusters, 5 + 10);
	assert_true(sum.tls_loaded);
	assert_int_equal(sum.cert_days_left, 7);
	assert_int_equal(sum.stats.acks_sent, 13 + 23);
	assert_int_equal(sum.stats.decode_errors, 19 + 29);
	assert_int_equal(sum.stats.latency_buckets[QNETD_LATENCY_BUCKETS],
	    1000 + QNETD_LATENCY_BUCKETS + 2000 + QNETD_LATENCY_BUCKETS);
	assert_int_equal(sum.stats.latency_count, 20 + 30);
	assert_true(sum.stats.latency_sum_s > 3.74 && sum.stats.latency_sum_s < 3.76);
}

static void
broken_text_refused(void **state)
{
	struct qnetd_totals a, b;
	char *text, *cut;

	(void)state;
	fill(&a, 5);
	text = write_text(&a);
	assert_int_equal(shard_totals_parse("", &b), -EINVAL);
	assert_int_equal(shard_totals_parse("Error\nUnknown command 'shard'", &b), -EINVAL);
	assert_int_equal(shard_totals_parse("99999999999 1 1 1 0", &b), -EINVAL);
	/* Cut before the last counter: too few numbers. */
	cut = strrchr(text, ' ');
	assert_non_null(cut);
	*cut = '\0';
	cut = strrchr(text, ' ');
	*cut = '\0';
	assert_int_equal(shard_totals_parse(text, &b), -EINVAL);
	free(text);
}

/* What the front takes from the control socket now: counts per notice type. */
static void
drain_notices(int fd, uint64_t got[3])
{
	uint8_t b[16];
	ssize_t n;

	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		uint32_t count = 1;

		if (n >= SHARD_NOTICE_LEN)
			memcpy(&count, b + 1, sizeof(count));
		assert_in_range(b[0], SHARD_MSG_HS_BEGIN, SHARD_MSG_CLOSED);
		got[b[0] - SHARD_MSG_HS_BEGIN] += count;
		/* The front ignores an end it has not seen begin. */
		assert_true(got[1] <= got[0]);
	}
}

/* A front too busy to read: the notices wait in the worker, none is lost. */
static void
notices_survive_a_full_control_socket(void **state)
{
	struct qnetd_fixture f;
	uint64_t got[3] = { 0, 0, 0 };
	int sv[2], tiny = 1;

	(void)state;
	qnetd_fixture_init(&f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* The kernel's smallest buffer: room for a handful of messages. */
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &tiny, sizeof(tiny)), 0);
	f.inst.shard_fd = sv[0];
	for (int i = 0; i < 300; i++) {
		shard_worker_notify(&f.inst, SHARD_MSG_HS_BEGIN);
		if (i % 2 == 0)
			shard_worker_notify(&f.inst, SHARD_MSG_HS_END);
		shard_worker_notify(&f.inst, SHARD_MSG_CLOSED);
	}
	for (int round = 0; round < 20; round++) {
		drain_notices(sv[1], got);
		if (got[0] == 300 && got[1] == 150 && got[2] == 300)
			break;
		loop_run_ms(f.loop, 50);
	}
	assert_int_equal(got[0], 300);
	assert_int_equal(got[1], 150);
	assert_int_equal(got[2], 300);
	qnetd_fixture_fini(&f);	/* closes sv[0] */
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(sums),
		cmocka_unit_test(broken_text_refused),
		cmocka_unit_test(notices_survive_a_full_control_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
