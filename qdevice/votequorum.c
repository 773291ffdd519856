/*
 * qdevice/votequorum.c: the votequorum side: register the device, turn
 * notifications into qdevice_on_*() calls, and run the cast-vote timer
 * that polls votequorum with our vote (docs/protocol.md 4.3, 2.9).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <corosync/corotypes.h>
#include <corosync/votequorum.h>
#include <qb/qblog.h>

#include "common/clock.h"
#include "qdevice.h"

struct qdevice_vq {
	votequorum_handle_t	 handle;
	bool			 initialized;
	bool			 registered;
	bool			 tracking;
	int			 fd;		/* -1: not in the loop */
	struct qdevice_timer	 cast_timer;
	struct qdevice_timer	 guard_timer;	/* checks a held yes */
};

static struct qdevice *
qd_of(votequorum_handle_t h)
{
	void *ctx = NULL;

	if (votequorum_context_get(h, &ctx) != CS_OK)
		return NULL;
	return ctx;
}

static void
quorum_notify(votequorum_handle_t h, uint64_t context, uint32_t quorate,
    uint32_t count, votequorum_node_t nodes[])
{
	struct qdevice *qd = qd_of(h);
	struct node_info *v;

	(void)context;
	if (qd == NULL)
		return;
	v = calloc(count > 0 ? count : 1, sizeof(*v));
	if (v == NULL) {
		qb_log(LOG_CRIT, "Out of memory in the votequorum quorum notification");
		qdevice_exit(qd, EXIT_FAILURE);
		return;
	}
	for (uint32_t i = 0; i < count; i++) {
		v[i].node_id = nodes[i].nodeid;
		v[i].node_state = (uint8_t)nodes[i].state;
	}
	qdevice_on_quorum(qd, quorate != 0, v, count);
	free(v);
}

static void
nodelist_notify(votequorum_handle_t h, uint64_t context, votequorum_ring_id_t ring,
    uint32_t count, uint32_t ids[])
{
	struct qdevice *qd = qd_of(h);
	struct ring_id r = { ring.nodeid, ring.seq };

	(void)context;
	if (qd != NULL)
		qdevice_on_nodelist(qd, &r, ids, count);
}

static void
expected_votes_notify(votequorum_handle_t h, uint64_t context, uint32_t expected_votes)
{
	struct qdevice *qd = qd_of(h);

	(void)context;
	if (qd != NULL)
		qdevice_on_expected_votes(qd, expected_votes);
}

static votequorum_callbacks_t callbacks = {
	.votequorum_quorum_notify_fn = quorum_notify,
	.votequorum_expectedvotes_notify_fn = expected_votes_notify,
	.votequorum_nodelist_notify_fn = nodelist_notify,
};

int
qdevice_vq_init(struct qdevice *qd)
{
	struct qdevice_vq *vq;
	struct votequorum_info info;
	cs_error_t err = CS_OK;

	vq = calloc(1, sizeof(*vq));
	if (vq == NULL)
		return -ENOMEM;
	vq->fd = -1;
	qd->vq = vq;
	for (uint32_t i = 0; i < qd->settings.max_cs_try_again; i++) {
		err = votequorum_initialize(&vq->handle, &callbacks);
		if (err != CS_ERR_TRY_AGAIN)
			break;
		sleep(1);	/* startup only, before the loop runs */
	}
	if (err != CS_OK) {
		qb_log(LOG_CRIT, "Failed to initialize the votequorum API: error %d", err);
		return -EIO;
	}
	vq->initialized = true;
	err = votequorum_qdevice_register(vq->handle, qd->settings.votequorum_device_name);
	if (err != CS_OK) {
		qb_log(LOG_CRIT, "Cannot register votequorum device \"%s\": error %d "
		    "(is a quorum device configured in corosync.conf?)",
		    qd->settings.votequorum_device_name, err);
		return -EIO;
	}
	vq->registered = true;
	if (votequorum_context_set(vq->handle, qd) != CS_OK) {
		qb_log(LOG_CRIT, "Cannot set the votequorum context");
		return -EIO;
	}
	err = votequorum_getinfo(vq->handle, 0, &info);
	if (err != CS_OK) {
		qb_log(LOG_CRIT, "Cannot get votequorum information: error %d", err);
		return -EIO;
	}
	qd->expected_votes = info.node_expected_votes;
	return 0;
}

static int
vq_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct qdevice *qd = data;
	cs_error_t err;

	(void)fd;
	(void)revents;
	err = votequorum_dispatch(qd->vq->handle, CS_DISPATCH_ALL);
	if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
		qb_log(LOG_ERR, "Lost the connection to corosync (votequorum dispatch error %d)",
		    err);
		qd->vq->fd = -1;
		qdevice_exit(qd, EXIT_FAILURE);
		return -1;	/* unregisters the fd */
	}
	return 0;
}

int
qdevice_vq_start(struct qdevice *qd)
{
	struct qdevice_vq *vq = qd->vq;
	unsigned int allow = qd->settings.master_wins == MASTER_WINS_FORCE_ON;
	cs_error_t err;
	int fd;

	err = votequorum_qdevice_master_wins(vq->handle, qd->settings.votequorum_device_name,
	    allow);
	if (err != CS_OK) {
		qb_log(LOG_CRIT, "Cannot set master_wins: error %d", err);
		return -EIO;
	}
	if (votequorum_fd_get(vq->handle, &fd) != CS_OK) {
		qb_log(LOG_CRIT, "Cannot get the votequorum file descriptor");
		return -EIO;
	}
	if (qb_loop_poll_add(qd->loop, QB_LOOP_HIGH, fd, POLLIN, qd, vq_dispatch) != 0) {
		qb_log(LOG_CRIT, "Cannot add the votequorum fd to the main loop");
		return -EIO;
	}
	vq->fd = fd;
	/* CS_TRACK_CHANGES also sends the current nodelist and quorum at once. */
	err = votequorum_trackstart(vq->handle, 0, CS_TRACK_CHANGES);
	if (err != CS_OK) {
		qb_log(LOG_CRIT, "Cannot start votequorum tracking: error %d", err);
		return -EIO;
	}
	vq->tracking = true;
	return 0;
}

void
qdevice_vq_fini(struct qdevice *qd)
{
	struct qdevice_vq *vq = qd->vq;

	if (vq == NULL)
		return;
	qdevice_timer_disarm(qd, &vq->cast_timer);
	qdevice_timer_disarm(qd, &vq->guard_timer);
	if (vq->fd >= 0)
		qb_loop_poll_del(qd->loop, vq->fd);
	if (vq->tracking)
		votequorum_trackstop(vq->handle);
	if (vq->registered)
		votequorum_qdevice_unregister(vq->handle, qd->settings.votequorum_device_name);
	if (vq->initialized)
		votequorum_finalize(vq->handle);
	free(vq);
	qd->vq = NULL;
}

/* ---- cast-vote timer ---- */

#define GUARD_CHECK_MS	100	/* how often a held yes looks at the token counter */

static void	cast_timer_fired(void *data);

/* One votequorum_qdevice_poll with the ring of the latest nodelist notification. */
static void
poll_vq(struct qdevice *qd, bool cast_vote)
{
	votequorum_ring_id_t ring;
	cs_error_t err;

	ring.nodeid = qd->ring_id.node_id;
	ring.seq = qd->ring_id.seq;
	err = votequorum_qdevice_poll(qd->vq->handle, qd->settings.votequorum_device_name,
	    cast_vote, ring);
	if (err == CS_OK) {
		if (qd->last_poll == (time_t)-1 || qd->last_poll_cast_vote != cast_vote)
			qb_log(LOG_DEBUG, "Polled votequorum: cast vote %s, ring id (%" PRIx32
			    ".%" PRIx64 ")", cast_vote ? "yes" : "no", ring.nodeid, ring.seq);
		qd->last_poll = time(NULL);
		qd->last_poll_cast_vote = cast_vote;
		return;
	}
	/* A stale ring (sync in progress) or a busy corosync: the next tick retries. */
	if (err == CS_ERR_MESSAGE_ERROR || err == CS_ERR_TRY_AGAIN) {
		qb_log(LOG_DEBUG, "votequorum_qdevice_poll: %s, ignored",
		    err == CS_ERR_MESSAGE_ERROR ? "stale ring id" : "try again");
		return;
	}
	qb_log(LOG_CRIT, "votequorum_qdevice_poll failed: error %d", err);
	qdevice_exit(qd, EXIT_FAILURE);
}

static void
cast_vote_now(struct qdevice *qd)
{
	bool cast_vote;

	if (vote_timer_tick(&qd->vote, &cast_vote))
		poll_vq(qd, cast_vote);
}

static void
cast_timer_fired(void *data)
{
	struct qdevice *qd = data;

	qd->vq->cast_timer.armed = false;
	if (!vote_timer_running(&qd->vote))
		return;
	if (qdevice_timer_arm(qd, &qd->vq->cast_timer, qd->config.cast_vote_interval_ms,
	    cast_timer_fired, qd) == 0)
		cast_vote_now(qd);
}

/* The vote reaches the timer (docs/protocol.md 2.9); a change is an event. */
static void
apply_vote(struct qdevice *qd, uint8_t vote)
{
	struct vote_timer before = qd->vote;

	switch (vote_timer_update(&qd->vote, vote)) {
	case VOTE_TIMER_START:
		if (before.vote != qd->vote.vote || !qd->vq->cast_timer.armed)
			qb_log(LOG_DEBUG, "Cast vote timer is now scheduled every %" PRIu32
			    "ms voting %s", qd->config.cast_vote_interval_ms, vote_name(vote));
		if (qdevice_timer_arm(qd, &qd->vq->cast_timer, qd->config.cast_vote_interval_ms,
		    cast_timer_fired, qd) == 0)
			cast_vote_now(qd);
		break;
	case VOTE_TIMER_STOP:
		qb_log(LOG_DEBUG, "Cast vote timer is now stopped");
		qdevice_timer_disarm(qd, &qd->vq->cast_timer);
		break;
	case VOTE_TIMER_KEEP:
		break;
	}
	if (before.vote == qd->vote.vote)
		return;
	qb_log(LOG_INFO, "Vote given to votequorum: %s (was %s)", vote_cast_name(&qd->vote),
	    vote_cast_name(&before));
	qdevice_event_vote_changed(qd, vote_cast_name(&qd->vote), vote_cast_name(&before));
}

/* Never calls cmap: corosync may be in a sync that waits for our poll. */
static void
ring_state(struct qdevice *qd, struct vote_ring_state *s)
{
	uint32_t token_ms, consensus_ms;

	*s = (struct vote_ring_state){ .ring = qd->ring_id };
	s->sync_in_progress = qd->sync_in_progress;
	s->now_ms = clock_now_ms();
	s->token_known = qdevice_ringwatch_token(qd, &s->token_rx, &s->token_read_ms);
	qdevice_ringwatch_timeouts(qd, &token_ms, &consensus_ms);
	s->stable_ms = vote_guard_stable_ms(token_ms, consensus_ms);
}

static void	guard_fired(void *data);

static void
guard_arm(struct qdevice *qd)
{
	qdevice_timer_arm(qd, &qd->vq->guard_timer, GUARD_CHECK_MS, guard_fired, qd);
}

static void
guard_fired(void *data)
{
	struct qdevice *qd = data;
	struct vote_guard *g = &qd->guard;
	struct vote_ring_state s;

	qd->vq->guard_timer.armed = false;
	if (!g->held)
		return;
	ring_state(qd, &s);
	if (vote_guard_release(g, &s)) {
		qdevice_ringwatch_want(qd, false);
		if (g->token_known && s.token_known && s.token_rx >= g->token_rx &&
		    s.token_rx - g->token_rx >= VOTE_GUARD_TOKEN_ROUNDS)
			qb_log(LOG_INFO, "Ring (%" PRIx32 ".%" PRIx64 ") proven whole after %"
			    PRIu64 " ms (the token went round): casting qnetd's ACK",
			    g->ring.node_id, g->ring.seq, s.now_ms - g->since_ms);
		else
			qb_log(LOG_INFO, "No membership change for %" PRIu64 " ms: ring (%" PRIx32
			    ".%" PRIx64 ") taken as whole, casting qnetd's ACK",
			    s.now_ms - g->since_ms, g->ring.node_id, g->ring.seq);
		apply_vote(qd, VOTE_ACK);
		return;
	}
	if (!g->held) {
		qd->stats.held_votes_dropped++;
		qdevice_ringwatch_want(qd, false);
		qb_log(LOG_INFO, "Dropped the held ACK: it was for ring (%" PRIx32 ".%" PRIx64
		    "), the ring is now (%" PRIx32 ".%" PRIx64 ")", g->ring.node_id, g->ring.seq,
		    s.ring.node_id, s.ring.seq);
		return;
	}
	guard_arm(qd);
}

void
qdevice_vq_vote(struct qdevice *qd, uint8_t vote, const struct ring_id *ring)
{
	struct vote_guard *g = &qd->guard;
	struct vote_ring_state s;
	bool was_held = g->held;

	if (!qd->settings.vote_guard) {
		apply_vote(qd, vote);
		return;
	}
	ring_state(qd, &s);
	if (vote_guard_offer(g, &qd->vote, vote, ring, &s) == VOTE_GUARD_HOLD) {
		if (!was_held || g->since_ms == s.now_ms) {
			qb_log(LOG_INFO, "Holding qnetd's ACK for ring (%" PRIx32 ".%" PRIx64
			    ") until corosync shows the ring whole (token rotation, at most %"
			    PRIu32 " ms)", g->ring.node_id, g->ring.seq, g->stable_ms);
			qd->stats.votes_held++;
			qdevice_ringwatch_want(qd, true);
			guard_arm(qd);
		}
		return;
	}
	if (was_held && !g->held) {
		qd->stats.held_votes_dropped++;
		qb_log(LOG_INFO, "Dropped the held ACK: qnetd now says %s", vote_name(vote));
		qdevice_ringwatch_want(qd, false);
		qdevice_timer_disarm(qd, &qd->vq->guard_timer);
	}
	apply_vote(qd, vote);
}

void
qdevice_vq_on_membership(struct qdevice *qd)
{
	if (!qd->guard.held)
		return;
	qd->stats.held_votes_dropped++;
	qb_log(LOG_INFO, "Dropped the held ACK for ring (%" PRIx32 ".%" PRIx64 "): the "
	    "membership changed", qd->guard.ring.node_id, qd->guard.ring.seq);
	vote_guard_drop(&qd->guard);
	qdevice_ringwatch_want(qd, false);
	qdevice_timer_disarm(qd, &qd->vq->guard_timer);
}

void
qdevice_vq_on_quorum(struct qdevice *qd)
{
	struct votequorum_info info;

	/* Only a poll of ours that said "no" makes a counted vote wrong. */
	if (qd->vq == NULL || qd->vote.vote == VOTE_ACK || qd->last_poll == (time_t)-1 ||
	    qd->last_poll_cast_vote)
		return;
	if (votequorum_getinfo(qd->vq->handle, VOTEQUORUM_QDEVICE_NODEID, &info) != CS_OK ||
	    (info.flags & VOTEQUORUM_INFO_QDEVICE_CAST_VOTE) == 0)
		return;
	qb_log(LOG_WARNING, "votequorum counts our vote although our last poll withdrew it "
	    "(a message of the previous ring delivered late): withdrawing it again");
	qd->stats.stale_votes_withdrawn++;
	poll_vq(qd, false);
}

int64_t
qdevice_vq_held_ms(const struct qdevice *qd)
{
	uint64_t now = clock_now_ms();

	if (!qd->guard.held)
		return -1;
	return now >= qd->guard.since_ms ? (int64_t)(now - qd->guard.since_ms) : 0;
}

void
qdevice_vq_pause(struct qdevice *qd, bool paused)
{
	if (qd->vote.paused == paused)
		return;
	qd->vote.paused = paused;
	qb_log(LOG_DEBUG, "Cast vote timer is %s", paused ? "now paused" : "no longer paused");
}

bool
qdevice_vq_timer_running(const struct qdevice *qd)
{
	return vote_timer_running(&qd->vote);
}

int
qdevice_vq_node_votes(struct qdevice *qd, uint32_t node_id, uint32_t *node_votes,
    uint32_t *qdevice_votes)
{
	struct votequorum_info info;
	cs_error_t err;

	err = votequorum_getinfo(qd->vq->handle, node_id, &info);
	if (err == CS_ERR_NOT_EXIST)
		return -ENOENT;
	if (err != CS_OK)
		return -EIO;
	*node_votes = info.node_votes;
	*qdevice_votes = info.qdevice_votes;
	return 0;
}
