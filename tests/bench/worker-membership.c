/*
 * tests/bench/worker-membership.c: cluster membership as the bench plays
 * it: which side of a split a node is on, its ring, and the membership
 * changes (split / heal) this worker schedules, timed until every node
 * has its vote, with a check that both sides never hold ACK.
 */
#include "worker.h"

/* ---- cluster membership as this bench plays it ---- */

/* 0 = one partition; 1 = nodes 1..n/2, 2 = the others (while split). */
int
side_of(const struct bcluster *cl, uint32_t node_id)
{
	if (!cl->split)
		return 0;
	return node_id <= cl->n / 2 ? 1 : 2;
}

struct ring_id
ring_of(const struct bcluster *cl, uint32_t node_id)
{
	struct ring_id r = { .node_id = 1, .seq = cl->ring_seq };

	/* corosync names a ring after its lowest member */
	if (side_of(cl, node_id) == 2)
		r.node_id = cl->n / 2 + 1;
	return r;
}

/* ---- membership changes ---- */

void
event_abort(struct worker *w, struct bcluster *cl)
{
	cl->event_active = false;
	for (unsigned i = 0; i < cl->n; i++)
		cl->nodes[i].waiting_vote = false;
	if (measuring(w))
		w->st->events_timed_out++;
}

static void
event_done(struct worker *w, struct bcluster *cl, uint64_t now)
{
	bool acked[3] = { false, false, false };

	cl->event_active = false;
	if (!measuring(w))
		return;
	w->st->events_settled++;
	hist_add(&w->st->decision, now - cl->event_t0);
	for (unsigned i = 0; i < cl->n; i++)
		if (cl->nodes[i].vote == VOTE_ACK)
			acked[side_of(cl, cl->nodes[i].node_id)] = true;
	/*
	 * Both sides ACKed. If qnetd had dropped one of the nodes (dead peer)
	 * before ACKing the other side, that is correct, and we will read the
	 * EOF shortly: only a double ACK that outlives the grace period counts.
	 */
	if (acked[1] && acked[2])
		cl->both_acked_ns = now;
}

/* A vote arrived (VOTE_INFO or a reply): does it settle this node? */
void
note_vote(struct worker *w, struct bclient *c, uint8_t vote, const struct ring_id *ring,
    uint64_t now)
{
	struct bcluster *cl = c->cl;

	if ((vote != VOTE_ACK && vote != VOTE_NACK) || !ring_id_equal(ring, &c->ring))
		return;
	if (vote == VOTE_ACK && c->vote != VOTE_ACK)
		atomic_fetch_add(&w->st->acked, 1);
	else if (vote != VOTE_ACK && c->vote == VOTE_ACK)
		atomic_fetch_sub(&w->st->acked, 1);
	if (vote == VOTE_ACK && c->fo_lost) {
		c->fo_lost = false;
		w->sh->revote_ns[c->index] = now;
		atomic_fetch_add(&w->st->revoted, 1);
	}
	c->vote = vote;
	if (!c->waiting_vote)
		return;
	c->waiting_vote = false;
	if (measuring(w))
		hist_add(&w->st->node_decision, now - c->list_sent_ns);
	if (cl->event_active && --cl->pending == 0)
		event_done(w, cl, now);
}

static bool
cluster_ready(const struct bcluster *cl)
{
	if (cl->event_active || cl->n < 2)
		return false;
	for (unsigned i = 0; i < cl->n; i++)
		if (cl->nodes[i].state != CS_CONNECTED)
			return false;
	return true;
}

/*
 * Split the cluster into nodes 1..n/2 and the rest, or heal it: every
 * node reports its new membership with a new ring, then its quorum list,
 * as corosync + qdevice do at the end of a sync.
 */
static void
event_start(struct worker *w, struct bcluster *cl, uint64_t now)
{
	cl->split = !cl->split;
	cl->ring_seq++;
	cl->event_active = true;
	cl->event_t0 = now;
	cl->pending = cl->n;
	cl->both_acked_ns = 0;
	w->st->events_started++;
	for (unsigned i = 0; i < cl->n; i++) {
		struct bclient *c = &cl->nodes[i];

		c->ring = ring_of(cl, c->node_id);
		c->waiting_vote = true;
		c->vote = 0;
		c->list_sent_ns = now;
	}
	for (unsigned i = 0; i < cl->n && cl->event_active; i++) {
		struct bclient *c = &cl->nodes[i];

		if (c->state != CS_CONNECTED)
			continue;
		if (queue_node_list(c, NODE_LIST_MEMBERSHIP) != 0 ||
		    queue_node_list(c, NODE_LIST_QUORUM) != 0 || pump_out(w, c) != 0) {
			client_fail(w, c, &w->st->disconnects, true);
			continue;
		}
		set_events(w, c);
	}
}

void
run_events(struct worker *w, uint64_t now)
{
	unsigned guard = 0;

	if (w->event_interval_ns == 0 || !measuring(w))
		return;
	while (w->next_event_ns <= now && guard++ < 64) {
		w->next_event_ns += w->event_interval_ns;
		for (unsigned k = 0; k < w->ncl; k++) {
			struct bcluster *cl = &w->clusters[w->event_cursor];

			w->event_cursor = (w->event_cursor + 1) % w->ncl;
			if (cluster_ready(cl)) {
				event_start(w, cl, now);
				break;
			}
		}
	}
	if (now >= w->next_scan_ns) {
		w->next_scan_ns = now + 100 * NS_PER_MS;
		for (unsigned i = 0; i < w->ncl; i++) {
			struct bcluster *cl = &w->clusters[i];

			if (cl->event_active &&
			    now - cl->event_t0 > w->o->settle_timeout_ms * NS_PER_MS)
				event_abort(w, cl);
			if (cl->both_acked_ns != 0 && now - cl->both_acked_ns > 2 * w->hb_ns) {
				cl->both_acked_ns = 0;
				w->st->events_split_brain++;
				report(w, &cl->nodes[0], "both partitions hold ACK", NULL);
			}
		}
	}
}
