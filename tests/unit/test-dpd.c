/*
 * tests/unit/test-dpd.c: dead-peer detection (qnetd/dpd.h) on its own,
 * without clients or sockets: a real qb_loop with real timers for the
 * wakeups, and a clock the tests move, so which entries are silent long
 * enough is exact whatever the machine's load. Covers expiry order, a
 * message moving its sender to the tail, the keep-alive answer, groups
 * freed when empty (also from inside the expiry callback, and while a
 * group's expired timer waits in the loop), the rounding of timeouts,
 * and the bound on groups for many distinct timeouts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "qnetd/dpd.h"

#define MS		1000000ULL
#define MAX_ORDER	64

/* A watched peer as the tests see it; the entry is not the first member. */
struct peer {
	int			 id;
	struct dpd_entry	 e;
	uint64_t		 timeout_ns;	/* as asked, before rounding */
	int			 keep;		/* answer "keep" this many times */
	int			 offered;	/* expiry callbacks */
	uint64_t		 last_idle;
	void			(*on_expire)(struct peer *p);
};

static qb_loop_t *loop;
static struct qnetd_dpd dpd;
static uint64_t fake_now;
static int expiries, want_expiries;
static int order[MAX_ORDER];
static bool timed_out;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static bool
expired(struct dpd_entry *e, uint64_t idle_ns)
{
	struct peer *p = DPD_OWNER(e, struct peer, e);
	bool keep = p->keep > 0;

	assert_null(e->group);
	/* Never early, however the timeout was rounded. */
	assert_true(idle_ns >= p->timeout_ns);
	p->offered++;
	p->last_idle = idle_ns;
	if (expiries < MAX_ORDER)
		order[expiries] = p->id;
	if (keep)
		p->keep--;
	expiries++;
	if (p->on_expire != NULL)
		p->on_expire(p);	/* may free p */
	if (expiries == want_expiries)
		qb_loop_stop(loop);
	return !keep;
}

static void
stop_loop(void *data)
{
	(void)data;
	timed_out = true;
	qb_loop_stop(loop);
}

/* Run the loop until `want` expiries happened (-1: none expected) or max_ms passed. */
static void
run_until(int want, unsigned max_ms)
{
	qb_loop_timer_handle t;

	want_expiries = want;
	timed_out = false;
	assert_int_equal(qb_loop_timer_add(loop, QB_LOOP_LOW, max_ms * MS, NULL, stop_loop, &t),
	    0);
	qb_loop_run(loop);
	if (!timed_out)
		qb_loop_timer_del(loop, t);
}

static void
peer_init(struct peer *p, int id, uint64_t timeout_ns)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->timeout_ns = timeout_ns;
	dpd_entry_init(&p->e);
}

static void
track(struct peer *p)
{
	assert_int_equal(qnetd_dpd_track(&dpd, &p->e, p->timeout_ns), 0);
	assert_non_null(p->e.group);
}

/* p answered "keep" to its only offer: still tracked, fresh as of now. */
static void
assert_kept_after_one_offer(const struct peer *p)
{
	assert_int_equal(p->offered, 1);
	assert_non_null(p->e.group);
	assert_int_equal(p->e.last_msg_ns, fake_now);
}

/* A peer set up and tracked at once, when nothing else needs setting first. */
static void
peer_start(struct peer *p, int id, uint64_t timeout_ns)
{
	peer_init(p, id, timeout_ns);
	track(p);
}

static int
setup(void **state)
{
	(void)state;
	loop = qb_loop_create();
	assert_non_null(loop);
	fake_now = 1000 * MS;
	expiries = 0;
	memset(order, 0, sizeof(order));
	qnetd_dpd_init(&dpd, loop, fake_clock, expired);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	qnetd_dpd_fini(&dpd);
	qb_loop_destroy(loop);
	return 0;
}

/* Rounded up, by less than a sixteenth, to a fixed point of the rounding. */
static void
timeouts_round_up_a_little(void **state)
{
	uint64_t t, r;

	(void)state;
	assert_int_equal(qnetd_dpd_rounded_timeout(0), 1);
	for (t = 1; t < 100000; t++) {
		r = qnetd_dpd_rounded_timeout(t);
		assert_true(r >= t);
		assert_true((r - t) * DPD_STEPS_PER_DOUBLING <= t);
		assert_int_equal(qnetd_dpd_rounded_timeout(r), r);
	}
	for (t = 1000 * MS; t <= 180000 * MS; t += 997 * MS + 13) {
		r = qnetd_dpd_rounded_timeout(t);
		assert_true(r >= t && (r - t) * DPD_STEPS_PER_DOUBLING <= t);
	}
	assert_int_equal(qnetd_dpd_rounded_timeout(UINT64_MAX), DPD_MAX_TIMEOUT_NS);
}

/* Oldest first; a touched entry goes behind the others. */
static void
expiry_order_follows_last_message(void **state)
{
	struct peer a, b, c;

	(void)state;
	peer_start(&a, 1, 10 * MS);
	peer_start(&b, 2, 10 * MS);
	peer_start(&c, 3, 10 * MS);
	assert_ptr_equal(a.e.group, c.e.group);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 1);
	fake_now += 1 * MS;
	qnetd_dpd_touch(&a.e, fake_now);
	fake_now += 20 * MS;
	run_until(3, 2000);
	assert_false(timed_out);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 1);
	assert_int_equal(b.last_idle, 21 * MS);
	assert_int_equal(a.last_idle, 20 * MS);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 0);
}

/* A touch keeps its sender; the untouched one alone expires, exactly at its rounded timeout. */
static void
touch_moves_to_the_tail(void **state)
{
	struct peer a, b;
	uint64_t start = fake_now, rounded = qnetd_dpd_rounded_timeout(10 * MS);

	(void)state;
	peer_start(&a, 1, 10 * MS);
	peer_start(&b, 2, 10 * MS);
	fake_now = start + 6 * MS;
	qnetd_dpd_touch(&a.e, fake_now);
	assert_int_equal(a.e.last_msg_ns, fake_now);
	/* One ns short of b's timeout: nothing goes. */
	fake_now = start + rounded - 1;
	run_until(-1, 40);
	assert_int_equal(expiries, 0);
	fake_now = start + rounded;
	run_until(1, 2000);
	assert_false(timed_out);
	assert_int_equal(order[0], 2);
	assert_int_equal(b.offered, 1);
	assert_int_equal(a.offered, 0);
	assert_non_null(a.e.group);
	assert_null(b.e.group);
	fake_now = start + 6 * MS + rounded;
	run_until(2, 2000);
	assert_int_equal(order[1], 1);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 0);
}

/* "Keep" (input waits unread) counts as a message now; the next silence drops it. */
static void
keep_alive_answer_retracks_as_fresh(void **state)
{
	struct peer a;

	(void)state;
	peer_init(&a, 1, 10 * MS);
	a.keep = 1;
	track(&a);
	fake_now += 15 * MS;
	run_until(1, 2000);
	assert_kept_after_one_offer(&a);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 1);
	/* The clock stands still: the re-armed timer finds it fresh every time. */
	run_until(-1, 40);
	assert_int_equal(a.offered, 1);
	fake_now += 15 * MS;
	run_until(2, 2000);
	assert_int_equal(a.offered, 2);
	assert_null(a.e.group);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 0);
}

static struct peer *victims[4];

/* The expiry callback of one peer untracks others, emptying their groups. */
static void
untrack_the_victims(struct peer *p)
{
	size_t i;

	(void)p;
	for (i = 0; i < sizeof(victims) / sizeof(victims[0]); i++)
		if (victims[i] != NULL)
			qnetd_dpd_untrack(&victims[i]->e);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(ms * MS) };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * A's callback empties its own group (B) while that group is walked, and
 * another group (C) whose timer has expired too and waits in the loop:
 * both are freed, and C's timer never runs on freed memory (ASan and
 * valgrind watch this).
 */
static void
groups_freed_from_inside_the_callback(void **state)
{
	struct peer a, b, c;

	(void)state;
	peer_init(&a, 1, 10 * MS);
	a.on_expire = untrack_the_victims;
	victims[0] = &b;
	victims[1] = &c;
	track(&a);
	qnetd_dpd_touch(&a.e, fake_now - 1);	/* a first */
	peer_start(&b, 2, 10 * MS);
	peer_start(&c, 3, 12 * MS);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 2);
	/* Both timers are due before the loop turns: they fire in the same turn. */
	sleep_ms(30);
	fake_now += 30 * MS;
	run_until(-1, 60);
	victims[0] = victims[1] = NULL;
	assert_int_equal(a.offered, 1);
	assert_int_equal(b.offered, 0);
	assert_int_equal(c.offered, 0);
	assert_null(b.e.group);
	assert_null(c.e.group);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 0);
}

static void
move_to_a_longer_timeout(struct peer *p)
{
	p->timeout_ns = 50 * MS;
	assert_int_equal(qnetd_dpd_track(&dpd, &p->e, p->timeout_ns), 0);
}

static void
free_the_peer(struct peer *p)
{
	free(p);
}

/*
 * The callback re-tracks its entry elsewhere (a SET_OPTION read just then)
 * or frees its owner: dpd leaves the one alone and never touches the other.
 */
static void
callback_may_retrack_or_free(void **state)
{
	struct peer a, *gone = malloc(sizeof(*gone));

	(void)state;
	assert_non_null(gone);
	peer_init(&a, 1, 10 * MS);
	peer_init(gone, 2, 10 * MS);
	a.on_expire = move_to_a_longer_timeout;
	a.keep = 1;
	gone->on_expire = free_the_peer;
	track(&a);
	track(gone);
	fake_now += 15 * MS;
	run_until(2, 2000);
	assert_kept_after_one_offer(&a);
	/* The 10 ms group emptied and went; a's 50 ms group stays. */
	assert_int_equal(qnetd_dpd_group_count(&dpd), 1);
	qnetd_dpd_untrack(&a.e);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 0);
}

/* The attack: one client, 65,000 heartbeats from 120 s down, x 1.5. */
static void
distinct_timeouts_through_one_entry_stay_bounded(void **state)
{
	struct peer a;
	uint32_t hb;

	(void)state;
	peer_init(&a, 1, 0);
	for (hb = 120000; hb > 120000 - 65000; hb--) {
		a.timeout_ns = (uint64_t)hb * MS * 3 / 2;
		track(&a);
		assert_int_equal(qnetd_dpd_group_count(&dpd), 1);
		assert_true(a.e.group != NULL);
	}
	qnetd_dpd_untrack(&a.e);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 0);
}

#define MANY	65000

/* Groups timeouts in [lo, hi] can fall into: 16 per power of two they span, plus its top. */
static size_t
groups_bound(uint64_t lo, uint64_t hi)
{
	unsigned lo_bit = 63u - (unsigned)__builtin_clzll(lo);
	unsigned hi_bit = 63u - (unsigned)__builtin_clzll(hi);

	return DPD_STEPS_PER_DOUBLING * (hi_bit - lo_bit + 1) + 1;
}

/*
 * Many entries, each with its own timeout. Over the attack's range
 * (82.5..180 s) there are at most 16 groups per power of two it touches,
 * well inside DPD_GROUP_SLOTS. Over 10..42.5 ms (the loop can run through
 * that): each entry goes exactly when its rounded timeout has passed,
 * never before its own.
 */
static void
distinct_timeouts_of_many_entries_stay_bounded(void **state)
{
	struct peer *p = calloc(MANY, sizeof(*p));
	size_t i;
	int dropped = 0;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < MANY; i++) {
		peer_init(&p[i], (int)i, (120000 - i) * MS * 3 / 2);
		track(&p[i]);
	}
	assert_true(qnetd_dpd_group_count(&dpd) <= groups_bound(p[MANY - 1].timeout_ns,
	    p[0].timeout_ns));
	assert_true(qnetd_dpd_group_count(&dpd) >= 2);
	qnetd_dpd_fini(&dpd);
	for (i = 0; i < MANY; i++)
		assert_null(p[i].e.group);

	qnetd_dpd_init(&dpd, loop, fake_clock, expired);
	for (i = 0; i < MANY; i++) {
		peer_init(&p[i], (int)i, 10 * MS + i * 500);
		track(&p[i]);
	}
	assert_true(qnetd_dpd_group_count(&dpd) <= groups_bound(p[0].timeout_ns,
	    p[MANY - 1].timeout_ns));
	fake_now += 25 * MS;
	sleep_ms(50);	/* every group's timer is due */
	run_until(-1, 100);
	for (i = 0; i < MANY; i++) {
		bool due = qnetd_dpd_rounded_timeout(p[i].timeout_ns) <= 25 * MS;

		assert_int_equal(p[i].offered, due ? 1 : 0);
		assert_true(due ? p[i].e.group == NULL : p[i].e.group != NULL);
		dropped += p[i].offered;
	}
	assert_true(dropped > 0 && dropped < MANY);
	qnetd_dpd_fini(&dpd);	/* before the entries go */
	free(p);
}

/* fini frees the groups and leaves the entries untracked. */
static void
fini_leaves_entries_untracked(void **state)
{
	struct peer a, b;

	(void)state;
	peer_init(&a, 1, 10 * MS);
	peer_init(&b, 2, 2000 * MS);
	track(&a);
	track(&b);
	qnetd_dpd_fini(&dpd);
	assert_null(a.e.group);
	assert_null(b.e.group);
	assert_int_equal(qnetd_dpd_group_count(&dpd), 0);
	qnetd_dpd_untrack(&a.e);	/* harmless afterwards */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timeouts_round_up_a_little),
		cmocka_unit_test_setup_teardown(expiry_order_follows_last_message, setup, teardown),
		cmocka_unit_test_setup_teardown(touch_moves_to_the_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_alive_answer_retracks_as_fresh, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(groups_freed_from_inside_the_callback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(callback_may_retrack_or_free, setup, teardown),
		cmocka_unit_test_setup_teardown(distinct_timeouts_through_one_entry_stay_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(distinct_timeouts_of_many_entries_stay_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(fini_leaves_entries_untracked, setup, teardown),
	};
	int rc;

	qb_log_init("test-dpd", LOG_DAEMON, LOG_CRIT);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	rc = cmocka_run_group_tests_name("dpd", tests, NULL, NULL);
	qb_log_fini();
	return rc;
}
