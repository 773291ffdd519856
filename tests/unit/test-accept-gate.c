/*
 * tests/unit/test-accept-gate.c: the TLS accept gate (qnetd/accept-gate.h)
 * without sockets or a loop: address keys, the per-address share, places
 * yielded to addresses holding fewer, silent peers and long holders giving
 * places up, the count that closes the listener, the workers' counts in
 * the front, and the CPU budget per wakeup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "qnetd/accept-gate.h"

#define MS	1000000ULL
#define MAX_ENTRIES	256

/* A handshake as the tests see it: the entry plus "input waits unread". */
struct fake_hs {
	struct accept_gate_entry	 e;
	bool				 unread;
	int				 lost;	/* lost_place calls */
	enum accept_gate_loss		 why;
};

static struct fake_hs hs[MAX_ENTRIES];
static uint32_t blocking_seen;	/* last blocking_changed "after" */
static int blocking_calls;

static bool
fake_has_input(struct accept_gate_entry *e)
{
	return ((struct fake_hs *)(void *)e)->unread;
}

static void
fake_lost(struct accept_gate_entry *e, enum accept_gate_loss why, uint64_t now_ns)
{
	struct fake_hs *h = (struct fake_hs *)(void *)e;

	(void)now_ns;
	h->lost++;
	h->why = why;
}

static void
fake_blocking(struct accept_gate *g, uint32_t before, uint32_t after)
{
	assert_int_equal(before, blocking_seen);
	assert_int_equal(after, accept_gate_blocking(g));
	blocking_seen = after;
	blocking_calls++;
}

static const struct accept_gate_ops ops = {
	.has_input = fake_has_input,
	.lost_place = fake_lost,
	.blocking_changed = fake_blocking,
};

static struct accept_gate gate;

static int
setup(void **state)
{
	(void)state;
	memset(hs, 0, sizeof(hs));
	blocking_seen = 0;
	blocking_calls = 0;
	accept_gate_init(&gate, NULL, &ops, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	accept_gate_fini(&gate);
	return 0;
}

static struct in6_addr
key_of(const char *addr_str)
{
	struct in6_addr k;

	accept_gate_peer_key(addr_str, &k);
	return k;
}

/* Admit hs[i] from "127.0.0.<host>:<i>" at t ms. */
static bool
admit(int i, int host, uint64_t t_ms)
{
	char addr[64];
	struct in6_addr k;

	snprintf(addr, sizeof(addr), "127.0.0.%d:%d", host, 40000 + i);
	k = key_of(addr);
	return accept_gate_admit(&gate, &hs[i].e, &k, t_ms * MS);
}

/*
 * Handshakes 0, 1, ... from hosts first..last-1, per each, all admitted; the
 * n-th at step_ms * n. Returns how many there are.
 */
static int
admit_from_hosts(int first, int last, int per, uint64_t step_ms)
{
	int n = 0;

	for (int host = first; host < last; host++)
		for (int k = 0; k < per; k++, n++)
			assert_true(admit(n, host, step_ms * (uint64_t)n));
	return n;
}

static unsigned
placed_from(int host)
{
	char addr[32];
	struct in6_addr k;
	unsigned n = 0;

	snprintf(addr, sizeof(addr), "127.0.0.%d:1", host);
	k = key_of(addr);
	for (int i = 0; i < MAX_ENTRIES; i++)
		if (hs[i].e.placed && memcmp(&hs[i].e.peer, &k, sizeof(k)) == 0)
			n++;
	return n;
}

static void
test_peer_key(void **state)
{
	struct in6_addr a, b;

	(void)state;
	/* IPv4, plain or mapped by the dual-stack socket: one key, port ignored */
	a = key_of("192.0.2.7:5403");
	b = key_of("::ffff:192.0.2.7:40000");
	assert_memory_equal(&a, &b, sizeof(a));
	b = key_of("192.0.2.8:5403");
	assert_memory_not_equal(&a, &b, sizeof(a));
	/* IPv6: one /64 is one host */
	a = key_of("2001:db8:1:2::1:5403");
	b = key_of("2001:db8:1:2:ffff:1:2:3:6000");
	assert_memory_equal(&a, &b, sizeof(a));
	b = key_of("2001:db8:1:3::1:5403");
	assert_memory_not_equal(&a, &b, sizeof(a));
	/* garbage: the all-zero key */
	a = key_of("no address");
	memset(&b, 0, sizeof(b));
	assert_memory_equal(&a, &b, sizeof(a));
}

/* Rule 1: four places per address; the fifth goes on without, counted. */
static void
test_per_address_share(void **state)
{
	(void)state;
	for (int i = 0; i < ACCEPT_GATE_PER_ADDRESS; i++)
		assert_true(admit(i, 2, 0));
	assert_false(admit(4, 2, 0));
	assert_false(admit(5, 2, 0));
	assert_int_equal(gate.places_used, ACCEPT_GATE_PER_ADDRESS);
	assert_int_equal(gate.unplaced_total, 2);
	/* one address, however many places: it counts once towards closing */
	assert_int_equal(accept_gate_blocking(&gate), 1);
	assert_int_equal(blocking_seen, 1);
	/* a handshake that ends frees its place for the next from there */
	accept_gate_release(&gate, &hs[0].e);
	accept_gate_release(&gate, &hs[0].e);	/* idempotent */
	assert_int_equal(gate.places_used, ACCEPT_GATE_PER_ADDRESS - 1);
	assert_true(admit(6, 2, 1));
	/* the end of one without a place changes nothing */
	accept_gate_release(&gate, &hs[4].e);
	assert_int_equal(gate.places_used, ACCEPT_GATE_PER_ADDRESS);
	assert_int_equal(gate.released_total, 0);	/* nobody lost a place */
}

/*
 * The finding: 8 addresses x 4 places fill all 32. The listener must stay
 * open (rule 4) and a newcomer from a ninth address gets the place of the
 * busiest address's least recently active handshake (rule 2).
 */
static void
test_newcomer_takes_place_from_busiest(void **state)
{
	int n;

	(void)state;
	n = admit_from_hosts(2, 10, 4, 1);
	assert_int_equal(gate.places_used, ACCEPT_GATE_PLACES);
	assert_int_equal(accept_gate_blocking(&gate), 8);	/* far below the cap */
	/* all spoke lately (none quiet); host 3's first is the least recently active */
	for (int i = 0; i < n; i++)
		accept_gate_progress(&hs[i].e, 150 * MS + (uint64_t)i * MS);
	accept_gate_progress(&hs[4].e, 120 * MS);
	assert_true(admit(n, 1, 200));
	assert_int_equal(hs[4].lost, 1);
	assert_int_equal(hs[4].why, ACCEPT_GATE_LOSS_YIELDED);
	assert_false(hs[4].e.placed);
	assert_true(hs[4].e.admitted);	/* it goes on, without a place */
	assert_int_equal(placed_from(3), 3);
	assert_int_equal(placed_from(1), 1);
	assert_int_equal(gate.places_used, ACCEPT_GATE_PLACES);
	assert_int_equal(gate.released_total, 1);
	assert_int_equal(accept_gate_blocking(&gate), 9);
	/* the one that lost its place ends: nothing more to give back */
	accept_gate_release(&gate, &hs[4].e);
	assert_int_equal(gate.places_used, ACCEPT_GATE_PLACES);
}

/* Rule 2 only moves places to an address holding at least two fewer. */
static void
test_no_swap_between_equals(void **state)
{
	int n;

	(void)state;
	n = admit_from_hosts(2, 18, 2, 0);	/* 16 addresses x 2 places */
	/* an address holding one already: 2 is not 1 + 2, no place */
	assert_true(admit(n, 40, 1));	/* first: takes one (2 >= 0 + 2) */
	n++;
	assert_false(admit(n, 40, 2));	/* second: busiest 2 < 1 + 2 */
	assert_int_equal(gate.unplaced_total, 1);
	/* a busy address never takes from a quieter one */
	n++;
	assert_false(admit(n, 2, 3));
	assert_int_equal(gate.unplaced_total, 2);
}

/* 32 addresses with one place each: nothing to yield, the listener closes. */
static void
test_cap_of_distinct_addresses_closes(void **state)
{
	(void)state;
	for (int i = 0; i < ACCEPT_GATE_PLACES; i++)
		assert_true(admit(i, 2 + i, 0));
	assert_int_equal(accept_gate_blocking(&gate), ACCEPT_GATE_PLACES);
	assert_int_equal(blocking_seen, ACCEPT_GATE_PLACES);
	assert_false(admit(ACCEPT_GATE_PLACES, 200, 1));
	assert_int_equal(gate.unplaced_total, 1);
	/* one ends: below the cap again */
	accept_gate_release(&gate, &hs[7].e);
	assert_int_equal(blocking_seen, ACCEPT_GATE_PLACES - 1);
}

/* Rule 3: silent peers and long holders give their places up; unread input keeps it. */
static void
test_sweep(void **state)
{
	(void)state;
	assert_true(admit(0, 2, 0));	/* silent */
	assert_true(admit(1, 3, 0));	/* silent, but its bytes wait unread */
	assert_true(admit(2, 4, 0));	/* dribbles a byte now and then */
	assert_true(admit(3, 5, 0));	/* makes progress */
	hs[1].unread = true;
	assert_int_equal(accept_gate_sweep(&gate, (ACCEPT_GATE_IDLE_MS - 1) * MS), 0);
	accept_gate_progress(&hs[2].e, 300 * MS);
	accept_gate_progress(&hs[3].e, (ACCEPT_GATE_IDLE_MS - 1) * MS);
	assert_int_equal(accept_gate_sweep(&gate, ACCEPT_GATE_IDLE_MS * MS), 1);
	assert_int_equal(hs[0].lost, 1);
	assert_int_equal(hs[0].why, ACCEPT_GATE_LOSS_SILENT);
	assert_true(hs[1].e.placed);
	assert_true(hs[2].e.placed);
	assert_int_equal(blocking_seen, 3);
	/* the dribbler keeps looking alive, but not past the maximum */
	for (uint64_t t = 400; t < ACCEPT_GATE_MAX_MS; t += 100) {
		accept_gate_progress(&hs[2].e, t * MS);
		accept_gate_progress(&hs[3].e, t * MS);
		assert_int_equal(accept_gate_sweep(&gate, t * MS), 0);
	}
	assert_int_equal(accept_gate_sweep(&gate, ACCEPT_GATE_MAX_MS * MS), 3);
	assert_int_equal(hs[2].why, ACCEPT_GATE_LOSS_TOO_LONG);
	assert_int_equal(hs[1].why, ACCEPT_GATE_LOSS_TOO_LONG);
	assert_int_equal(gate.places_used, 0);
	assert_int_equal(gate.released_total, 4);
	assert_int_equal(blocking_seen, 0);
	/* once lost, a place is not given back by progress */
	accept_gate_progress(&hs[0].e, 6000 * MS);
	assert_false(hs[0].e.placed);
}

/* Rule 3 while every place is held: a peer quiet for a shorter time gives its place up. */
static void
test_sweep_when_full(void **state)
{
	(void)state;
	for (int i = 0; i < ACCEPT_GATE_PLACES; i++)
		assert_true(admit(i, 2 + i, 0));
	assert_int_equal(blocking_seen, ACCEPT_GATE_PLACES);	/* the door is closed */
	hs[3].unread = true;
	accept_gate_progress(&hs[5].e, 50 * MS);
	assert_int_equal(accept_gate_sweep(&gate, (ACCEPT_GATE_IDLE_FULL_MS - 1) * MS), 0);
	assert_int_equal(accept_gate_sweep(&gate, ACCEPT_GATE_IDLE_FULL_MS * MS),
	    ACCEPT_GATE_PLACES - 2);
	assert_true(hs[3].e.placed);	/* we are behind on it, not its peer */
	assert_true(hs[5].e.placed);	/* its peer spoke 50 ms ago */
	assert_int_equal(hs[0].why, ACCEPT_GATE_LOSS_SILENT);
	assert_int_equal(blocking_seen, 2);	/* the door is open again */
	/* not full any more: the longer time applies to the rest */
	assert_int_equal(accept_gate_sweep(&gate, (ACCEPT_GATE_IDLE_MS - 1) * MS), 0);
	assert_true(hs[5].e.placed);
}

/*
 * The flood of the finding, in time: 8 or more addresses open 100 stalled
 * handshakes a second for 10 s (each sends half a ClientHello, then
 * nothing). Whatever their number, the listener never closes, and a
 * newcomer from another address always gets a place at once.
 */
static void
test_flood_of_stalled_peers_never_closes(void **state)
{
	static const int address_counts[] = { 8, 16, 40, 100 };

	(void)state;
	for (size_t a = 0; a < sizeof(address_counts) / sizeof(address_counts[0]); a++) {
		int addresses = address_counts[a];
		int slot = 0;

		setup(NULL);
		for (uint64_t t = 0; t < 10000; t += 10) {
			struct accept_gate_entry *e = &hs[slot].e;

			/* slot reuse: that connection was dropped long ago */
			accept_gate_release(&gate, e);
			memset(&hs[slot], 0, sizeof(hs[slot]));
			admit(slot, 2 + (int)(t / 10) % addresses, t);
			slot = (slot + 1) % (MAX_ENTRIES - 1);
			if (t % ACCEPT_GATE_SWEEP_MS == 0)
				accept_gate_sweep(&gate, t * MS);
			assert_true(accept_gate_blocking(&gate) < ACCEPT_GATE_PLACES);
			if (t % 1000 == 500) {
				struct accept_gate_entry *n = &hs[MAX_ENTRIES - 1].e;
				struct in6_addr k = key_of("127.0.0.1:999");

				assert_true(accept_gate_admit(&gate, n, &k, t * MS));
				accept_gate_release(&gate, n);
			}
		}
		assert_true(gate.places_used <= ACCEPT_GATE_PLACES);
		teardown(NULL);
	}
}

/* The front: the workers' counts close its listener like its own. */
static void
test_remote_counts(void **state)
{
	(void)state;
	accept_gate_remote(&gate, 5);
	assert_int_equal(accept_gate_blocking(&gate), 5);
	assert_true(admit(0, 2, 0));
	assert_int_equal(blocking_seen, 6);
	accept_gate_remote(&gate, -3);
	assert_int_equal(blocking_seen, 3);
	accept_gate_remote(&gate, -10);	/* more ends than begins: clamped */
	assert_int_equal(accept_gate_blocking(&gate), 1);
	assert_int_equal(blocking_calls, 4);
}

static void
test_cpu_budget(void **state)
{
	(void)state;
	assert_false(accept_gate_budget_spent(&gate, 1));
	accept_gate_budget_charge(&gate, ACCEPT_GATE_BATCH_NS - 1);
	assert_false(accept_gate_budget_spent(&gate, 1));
	accept_gate_budget_charge(&gate, 1);
	assert_true(accept_gate_budget_spent(&gate, 1));
	/* the next wakeup starts afresh */
	assert_false(accept_gate_budget_spent(&gate, 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_peer_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_address_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newcomer_takes_place_from_busiest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_swap_between_equals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_of_distinct_addresses_closes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_when_full, setup, teardown),
		cmocka_unit_test(test_flood_of_stalled_peers_never_closes),
		cmocka_unit_test_setup_teardown(test_remote_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_budget, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
