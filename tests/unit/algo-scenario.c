/*
 * tests/unit/algo-scenario.c: see algo-scenario.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/algo-scenario.h"
#include "tests/unit/algo-view.h"

static void
fill_list(struct node_list *l, const uint32_t *ids)
{
	algo_view_fill(l, ids, MAXN);
}

/*
 * The scenario's clients, in rows[] (MAXN of them, id 0 ending them): its
 * own, or with a base (a named client set of the test file, such as
 * test-algo-ffsplit.c's split_clients), the base's with sc's replacing
 * those of the same node.
 */
static void
scenario_clients(const struct scenario *sc, const struct client_row *base,
    struct client_row *rows)
{
	size_t n = 0;

	memset(rows, 0, MAXN * sizeof(*rows));
	if (base == NULL) {
		memcpy(rows, sc->c, MAXN * sizeof(*rows));
		return;
	}
	while (n < MAXN && base[n].id != 0) {
		rows[n] = base[n];
		n++;
	}
	for (size_t i = 0; i < MAXN && sc->c[i].id != 0; i++) {
		size_t k = 0;

		while (k < n && rows[k].id != sc->c[i].id)
			k++;
		if (k == n)
			fail_msg("%s: node %u is not in the base", sc->name, sc->c[i].id);
		rows[k] = sc->c[i];
	}
}

static void
world_init(struct algo_view *w, const struct scenario *sc, const struct client_row *base,
    uint8_t algo_id)
{
	struct client_row rows[MAXN];

	scenario_clients(sc, base, rows);
	algo_view_init(w);
	fill_list(&w->cluster.quorate_partition, sc->prev);
	for (size_t i = 0; i < MAXN && rows[i].id != 0; i++) {
		const struct client_row *row = &rows[i];
		struct algo_client *c = algo_view_add(w, row->id, algo_id, sc->tb);

		c->kap_enabled = row->kap;
		c->heartbeat_interval_ms = sc->hb_ms != 0 ? sc->hb_ms : 1000;
		fill_list(&c->config, row->cfg);
		c->config_set = c->config.count > 0;
		fill_list(&c->membership, row->mem);
		c->membership_set = c->membership.count > 0;
		c->ring_id = row->ring;
		c->last_heuristics = row->heur;
		c->last_membership_heuristics = row->heur;
		c->last_result = row->last;
		c->ffsplit_vote_seq = row->vseq;
		c->timer_vote_seq = row->tseq;
	}
}

static struct algo_client *
world_find(struct algo_view *w, uint32_t node_id)
{
	for (size_t i = 0; i < w->cluster.count; i++)
		if (w->ptrs[i]->node_id == node_id)
			return w->ptrs[i];
	return NULL;
}

/* What the server stores once decide() succeeded (docs/protocol.md 2.4). */
static void
world_apply(struct algo_view *w, const struct algo_event *ev)
{
	struct algo_client *c = ev->client;

	switch (ev->type) {
	case ALGO_EV_CONFIG_LIST:
		assert_int_equal(node_list_copy(&c->config, ev->nodes), 0);
		c->config_set = true;
		break;
	case ALGO_EV_MEMBERSHIP_LIST:
		assert_int_equal(node_list_copy(&c->membership, ev->nodes), 0);
		c->membership_set = true;
		c->ring_id = *ev->ring_id;
		c->last_membership_heuristics = ev->heuristics;
		c->last_heuristics = ev->heuristics;
		break;
	case ALGO_EV_QUORUM_LIST:
		assert_int_equal(node_list_copy(&c->quorum, ev->nodes), 0);
		c->quorum_set = true;
		c->quorate = ev->quorate;
		break;
	case ALGO_EV_HEURISTICS_CHANGE:
		c->last_regular_heuristics = ev->heuristics;
		c->last_heuristics = ev->heuristics;
		break;
	case ALGO_EV_DISCONNECT:
		for (size_t i = 0, j = 0; i < w->cluster.count; i++)
			if (w->ptrs[i] != c)
				w->ptrs[j++] = w->ptrs[i];
		w->cluster.count--;
		break;
	default:
		break;
	}
}

static const char *
timer_name(enum algo_timer_action t)
{
	switch (t) {
	case ALGO_TIMER_KEEP:
		return "keep";
	case ALGO_TIMER_ARM:
		return "arm";
	case ALGO_TIMER_CANCEL:
		return "cancel";
	}
	return "?";
}

static void
check_step(const struct scenario *sc, size_t k, const struct step *st,
    int rc, const struct algo_plan *plan, const struct algo_cluster *cl)
{
	size_t want_pushes = 0;

	if (rc != st->rc)
		fail_msg("%s, step %zu: decide returned %d, want %d", sc->name,
		    k + 1, rc, st->rc);
	if (rc < 0)
		return;
	if (plan->error != st->error)
		fail_msg("%s, step %zu: error %u (%s), want %u (%s)", sc->name,
		    k + 1, plan->error, reply_error_code_name(plan->error),
		    st->error, reply_error_code_name(st->error));
	if (st->vote != VOTE_UNDEFINED && plan->vote != st->vote)
		fail_msg("%s, step %zu: vote %s, want %s", sc->name, k + 1,
		    vote_name(plan->vote), vote_name(st->vote));
	while (want_pushes < MAXN && st->push[want_pushes].node != 0)
		want_pushes++;
	if (plan->push_count != want_pushes)
		fail_msg("%s, step %zu: %zu pushes, want %zu (first to node %u)",
		    sc->name, k + 1, plan->push_count, want_pushes,
		    plan->push_count > 0 ? plan->pushes[0].client->node_id : 0);
	for (size_t i = 0; i < want_pushes; i++) {
		const struct algo_push *got = &plan->pushes[i];
		const struct want_push *want = &st->push[i];

		if (got->client->node_id != want->node || got->vote != want->vote ||
		    got->seq != want->seq ||
		    !ring_id_equal(&got->ring_id, &want->ring))
			fail_msg("%s, step %zu, push %zu: node %u %s ring %u.%llu "
			    "seq %u, want node %u %s ring %u.%llu seq %u",
			    sc->name, k + 1, i + 1, got->client->node_id,
			    vote_name(got->vote), got->ring_id.node_id,
			    (unsigned long long)got->ring_id.seq, got->seq,
			    want->node, vote_name(want->vote), want->ring.node_id,
			    (unsigned long long)want->ring.seq, want->seq);
	}
	if (plan->timer != st->timer ||
	    (st->timer == ALGO_TIMER_ARM && plan->timer_ms != st->timer_ms))
		fail_msg("%s, step %zu: timer %s %u ms, want %s %u ms", sc->name,
		    k + 1, timer_name(plan->timer), plan->timer_ms,
		    timer_name(st->timer), st->timer_ms);
	if (st->check_cs && cl->ffsplit_state != st->cs)
		fail_msg("%s, step %zu: cluster state %u, want %u", sc->name,
		    k + 1, cl->ffsplit_state, st->cs);
	if (st->check_qp) {
		struct node_list want;

		node_list_init(&want);
		fill_list(&want, st->qp);
		if (!node_list_ids_equal(&want, &cl->quorate_partition) ||
		    want.count != cl->quorate_partition.count)
			fail_msg("%s, step %zu: quorate partition has %zu nodes "
			    "(first %u), want %zu", sc->name, k + 1,
			    cl->quorate_partition.count,
			    node_list_min_id(&cl->quorate_partition), want.count);
		node_list_fini(&want);
	}
}

void
run_scenario(const struct scenario *sc, const struct client_row *base,
    const struct algorithm *algo)
{
	struct algo_view w;

	world_init(&w, sc, base, algo->id);
	for (size_t k = 0; k < MAXN && sc->s[k].node != 0; k++) {
		const struct step *st = &sc->s[k];
		struct algo_push pushes[MAXN];
		struct algo_plan plan = {
			.pushes = pushes,
			.push_cap = w.cluster.count,	/* the documented minimum */
		};
		struct node_list nodes;
		struct algo_event ev = {
			.type = st->type,
			.list_type = st->list_type,
			.heuristics = st->heur,
			.seq = st->seq,
			.server_shutdown = st->shutdown,
		};
		int rc;

		ev.client = world_find(&w, st->node);
		if (ev.client == NULL)
			fail_msg("%s, step %zu: node %u is not connected", sc->name,
			    k + 1, st->node);
		node_list_init(&nodes);
		fill_list(&nodes, st->nodes);
		if (st->type == ALGO_EV_CONFIG_LIST ||
		    st->type == ALGO_EV_MEMBERSHIP_LIST ||
		    st->type == ALGO_EV_QUORUM_LIST)
			ev.nodes = &nodes;
		if (st->type == ALGO_EV_MEMBERSHIP_LIST)
			ev.ring_id = &st->ring;

		rc = algo->decide(&w.cluster, &ev, &plan);
		check_step(sc, k, st, rc, &plan, &w.cluster);
		if (rc == 0 && plan.error == REPLY_NO_ERROR)
			world_apply(&w, &ev);
		node_list_fini(&nodes);
	}
	algo_view_fini(&w);
}
