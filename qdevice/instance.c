/*
 * qdevice/instance.c: the instance's event routing (docs/protocol.md 2.8):
 * votequorum notifications update qdevice's view, start heuristics and
 * reach the qnetd connection; configuration reloads are applied here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "common/daemon.h"
#include "qdevice.h"

static void
log_ids(const char *what, const uint32_t *ids, uint32_t count)
{
	char buf[512];
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < count && off < sizeof(buf) - 16; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%" PRIu32,
		    i == 0 ? "" : ", ", ids[i]);
	qb_log(LOG_DEBUG, "%s: %s", what, buf);
}

void
qdevice_on_nodelist(struct qdevice *qd, const struct ring_id *ring, const uint32_t *ids,
    uint32_t count)
{
	qb_log(LOG_DEBUG, "Votequorum nodelist notify: ring id (%" PRIx32 ".%" PRIx64 ")",
	    ring->node_id, ring->seq);
	log_ids("  Membership", ids, count);
	qd->ring_id = *ring;
	qd->ring_id_set = true;
	node_list_clear(&qd->membership);
	for (uint32_t i = 0; i < count; i++)
		if (node_list_add_id(&qd->membership, ids[i]) != 0) {
			qb_log(LOG_CRIT, "Out of memory storing the membership");
			qdevice_exit(qd, EXIT_FAILURE);
			return;
		}
	qd->sync_in_progress = true;
	qdevice_vq_on_membership(qd);

	/* Until this membership's heuristics are known: no regular runs, no polls. */
	qdevice_heur_regular_stop(qd);
	qdevice_vq_pause(qd, true);
	if (!qdevice_net_connected(qd))
		qdevice_vq_vote(qd, vote_while_disconnected(&qd->vote), NULL);
	qdevice_heur_run(qd, HEUR_KIND_MEMBERSHIP);
}

void
qdevice_on_membership_heuristics(struct qdevice *qd, uint8_t heuristics)
{
	qdevice_net_on_membership(qd, heuristics);
	qdevice_heur_regular_start(qd);
	qdevice_ready(qd);
}

void
qdevice_on_quorum(struct qdevice *qd, bool quorate, const struct node_info *nodes,
    uint32_t count)
{
	qb_log(LOG_DEBUG, "Votequorum quorum notify: quorate = %d, %" PRIu32 " node(s)",
	    quorate, count);
	node_list_clear(&qd->quorum_nodes);
	for (uint32_t i = 0; i < count; i++) {
		qb_log(LOG_DEBUG, "  node %" PRIu32 ": %s", nodes[i].node_id,
		    node_state_name(nodes[i].node_state));
		if (node_list_add(&qd->quorum_nodes, &nodes[i]) != 0) {
			qb_log(LOG_CRIT, "Out of memory storing the quorum list");
			qdevice_exit(qd, EXIT_FAILURE);
			return;
		}
	}
	qd->quorate = quorate;
	qd->quorum_set = true;
	qd->sync_in_progress = false;
	qdevice_vq_on_quorum(qd);
	qdevice_net_on_quorum(qd);
	qdevice_cmap_sync_done(qd);
}

void
qdevice_on_expected_votes(struct qdevice *qd, uint32_t expected_votes)
{
	qb_log(LOG_DEBUG, "Votequorum expected votes notify: %" PRIu32 " (was %" PRIu32 ")",
	    expected_votes, qd->expected_votes);
	qd->expected_votes = expected_votes;
	if (qdevice_check_votes(qd) != 0)
		qdevice_exit(qd, EXIT_FAILURE);
}

/* ffsplit needs exactly one vote per node and for the device (docs/protocol.md 3.2). */
int
qdevice_check_votes(struct qdevice *qd)
{
	const struct node_list *nodes = &qd->config.nodes.nodes;

	if (qd->config.algorithm != ALGORITHM_FFSPLIT)
		return 0;
	for (size_t i = 0; i < nodes->count; i++) {
		uint32_t node_votes, qdevice_votes;
		int r = qdevice_vq_node_votes(qd, nodes->nodes[i].node_id, &node_votes,
		    &qdevice_votes);

		if (r == -ENOENT)
			continue;
		if (r != 0) {
			qb_log(LOG_CRIT, "Cannot get votequorum information for node %" PRIu32,
			    nodes->nodes[i].node_id);
			return r;
		}
		if (node_votes != 1) {
			qb_log(LOG_CRIT, "The ffsplit algorithm needs exactly 1 vote per node; "
			    "node %" PRIu32 " has %" PRIu32, nodes->nodes[i].node_id, node_votes);
			return -EINVAL;
		}
		if (qdevice_votes != 1) {
			qb_log(LOG_CRIT, "The ffsplit algorithm needs exactly 1 vote for the "
			    "quorum device (quorum.device.votes); it has %" PRIu32, qdevice_votes);
			return -EINVAL;
		}
	}
	return 0;
}

void
qdevice_apply_log_level(struct qdevice *qd)
{
	int debug = qd->cli_debug;

	if (qd->cmap != NULL) {
		switch (config_read_log_debug(&qd->src)) {
		case LOG_DEBUG_TRACE:
		case LOG_DEBUG_ON:
			if (debug < 1)
				debug = 1;
			break;
		case LOG_DEBUG_OFF:
			break;
		}
	}
	daemon_log_set_debug(debug);
}

static void
reload_nodes(struct qdevice *qd)
{
	struct config_nodes fresh;
	char err[256];
	bool changed;
	int r;

	r = config_read_nodes(&qd->src, &fresh, err, sizeof(err));
	if (r != 0) {
		qb_log(LOG_ERR, "Cannot reload the node list: %s", err);
		qdevice_exit(qd, EXIT_FAILURE);
		return;
	}
	/* Only a different node set is news for qnetd (docs/protocol.md 2.8). */
	changed = !node_list_equal(&fresh.nodes, &qd->config.nodes.nodes);
	config_nodes_fini(&qd->config.nodes);
	qd->config.nodes = fresh;
	if (!changed)
		return;
	qb_log(LOG_INFO, "Configured node list changed (%zu nodes)", fresh.nodes.count);
	if (qdevice_check_votes(qd) != 0) {
		qdevice_exit(qd, EXIT_FAILURE);
		return;
	}
	qdevice_net_on_config_nodes(qd);
}

static void
reload_heuristics(struct qdevice *qd)
{
	struct config_heuristics fresh;
	char err[256];
	int r;

	r = config_read_heuristics(&qd->src, &qd->settings, qd->config.timeout_ms,
	    qd->config.sync_timeout_ms, &fresh, err, sizeof(err));
	if (r != 0) {
		qb_log(LOG_ERR, "Cannot reload the heuristics configuration, keeping the "
		    "old one: %s", err);
		return;
	}
	if (config_heuristics_equal(&fresh, &qd->config.heuristics)) {
		config_heuristics_fini(&fresh);
		return;
	}
	qb_log(LOG_INFO, "Heuristics configuration changed: %s, %zu command(s)",
	    heuristics_mode_name(fresh.mode), fresh.exec_count);
	config_heuristics_fini(&qd->config.heuristics);
	qd->config.heuristics = fresh;
	qdevice_heur_reconfigure(qd);
}

void
qdevice_on_config_changed(struct qdevice *qd, bool nodes, bool logging, bool heuristics)
{
	if (logging)
		qdevice_apply_log_level(qd);
	if (nodes)
		reload_nodes(qd);
	if (heuristics)
		reload_heuristics(qd);
}

int
qdevice_timer_arm(struct qdevice *qd, struct qdevice_timer *t, uint32_t ms,
    qb_loop_timer_dispatch_fn fn, void *data)
{
	qdevice_timer_disarm(qd, t);
	if (qb_loop_timer_add(qd->loop, QB_LOOP_MED, (uint64_t)ms * 1000000ULL, data, fn,
	    &t->handle) != 0) {
		qb_log(LOG_CRIT, "Cannot schedule a timer");
		qdevice_exit(qd, EXIT_FAILURE);
		return -EIO;
	}
	t->armed = true;
	return 0;
}

void
qdevice_timer_disarm(struct qdevice *qd, struct qdevice_timer *t)
{
	if (t->armed)
		qb_loop_timer_del(qd->loop, t->handle);
	t->armed = false;
}

static void
ready_timeout(void *data)
{
	struct qdevice *qd = data;

	qd->ready_timer.armed = false;
	if (!qd->ready) {
		qb_log(LOG_WARNING, "No heuristics result after %" PRIu32 "ms, starting anyway",
		    2 * qd->config.heuristics.sync_timeout_ms);
		qdevice_ready(qd);
	}
}

/*
 * Armed once the loop runs: bounds the wait for the first membership
 * heuristics (docs/protocol.md 4.3).
 */
int
qdevice_arm_ready_timer(struct qdevice *qd)
{
	uint64_t ms = (uint64_t)2 * qd->config.heuristics.sync_timeout_ms;

	return qdevice_timer_arm(qd, &qd->ready_timer, ms > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)ms, ready_timeout, qd);
}

void
qdevice_ready(struct qdevice *qd)
{
	if (qd->ready)
		return;
	qd->ready = true;
	qdevice_timer_disarm(qd, &qd->ready_timer);
	qb_log(LOG_DEBUG, "QDevice ready to provide service");
	daemon_notify("READY=1");
	qdevice_net_start(qd);
}

void
qdevice_exit(struct qdevice *qd, int code)
{
	if (code != 0 || qd->exit_code == 0)
		qd->exit_code = code;
	qb_loop_stop(qd->loop);
}
