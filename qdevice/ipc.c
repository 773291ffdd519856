/*
 * qdevice/ipc.c: qdevice's admin socket commands (docs/protocol.md 5.4):
 * `status [verbose|json]`, `metrics` and `shutdown` ("json" and "metrics"
 * are ours, not upstream's).
 * The socket itself is common/ipc.c; the text comes from qdevice/status.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <qb/qblog.h>

#include "common/hooks.h"
#include "common/ipc.h"
#include "qdevice.h"
#include "status.h"

static void
fill_view(const struct qdevice *qd, struct status_view *v)
{
	const struct qdevice_config *c = &qd->config;

	*v = (struct status_view){ 0 };
	v->node_id = c->node_id;
	v->timeout_ms = c->timeout_ms;
	v->sync_timeout_ms = c->sync_timeout_ms;
	v->config_version_set = c->nodes.config_version_set;
	v->config_version = c->nodes.config_version;
	v->config_nodes = &c->nodes.nodes;
	v->heuristics_mode = heuristics_mode_name(c->heuristics.mode);
	v->ring_id = qd->ring_id;
	v->membership = &qd->membership;
	v->quorate = qd->quorate;
	v->quorum_nodes = &qd->quorum_nodes;
	v->expected_votes = qd->expected_votes;
	v->last_poll = qd->last_poll;
	v->last_poll_cast_vote = qd->last_poll_cast_vote;

	v->cluster_name = c->cluster_name != NULL ? c->cluster_name : "";
	v->host = c->host != NULL ? c->host : "";
	v->port = c->port;
	v->force_ip_version = c->force_ip_version;
	v->connect_timeout_ms = c->connect_timeout_ms;
	v->heartbeat_interval_ms = c->heartbeat_interval_ms;
	v->cast_vote_interval_ms = c->cast_vote_interval_ms;
	v->tls = (uint8_t)c->tls;
	v->algorithm = c->algorithm;
	v->tie_breaker = c->tie_breaker;
	v->kap_tie_breaker = c->kap_tie_breaker;
	v->vote_held_ms = qdevice_vq_held_ms(qd);
	v->hooks_running = hooks_running(qd->hooks);
	v->hooks_dropped = hooks_dropped(qd->hooks);
	v->hooks_timed_out = hooks_timed_out(qd->hooks);
	v->stats = &qd->stats;
	qdevice_net_status(qd, v);
}

static enum ipc_reply
command(char **words, int count, FILE *out, void *arg)
{
	struct qdevice *qd = arg;
	struct status_view v;
	bool verbose = false, json = false;
	int r;

	/*
	 * Requests are read as upstream's daemon reads them, since upstream's
	 * corosync-qdevice-tool may talk to us: it sends "shutdown verbose"
	 * for -H -v, and the daemon takes the first word after "status" and
	 * ignores the rest.
	 */
	if (strcasecmp(words[0], "shutdown") == 0) {
		qb_log(LOG_DEBUG, "IPC shutdown request received");
		return IPC_REPLY_OK_THEN_SHUTDOWN;
	}
	if (strcasecmp(words[0], "metrics") == 0 && count == 1) {
		fill_view(qd, &v);
		if (status_write_metrics(out, &v) != 0) {
			fprintf(out, "Internal error");
			return IPC_REPLY_ERROR;
		}
		return IPC_REPLY_OK;
	}
	if (strcasecmp(words[0], "status") == 0) {
		if (count >= 2) {
			verbose = strcasecmp(words[1], "verbose") == 0;
			json = strcasecmp(words[1], "json") == 0;	/* ours */
		}
		fill_view(qd, &v);
		r = json ? status_write_json(out, &v) : status_write(out, &v, verbose);
		if (r != 0) {
			fprintf(out, "Internal error");
			return IPC_REPLY_ERROR;
		}
		return IPC_REPLY_OK;
	}
	fprintf(out, "Unknown command \"%s\"", words[0]);
	return IPC_REPLY_ERROR;
}

static void
shutdown_requested(void *arg)
{
	struct qdevice *qd = arg;

	qb_log(LOG_INFO, "Shutdown requested through the admin socket");
	qdevice_exit(qd, EXIT_SUCCESS);
}

int
qdevice_ipc_init(struct qdevice *qd)
{
	struct ipc_server_config cfg = {
		.path = qd->settings.local_socket_file,
		.backlog = (int)qd->settings.local_socket_backlog,
		.max_clients = qd->settings.ipc_max_clients,
		.max_receive = qd->settings.ipc_max_receive_size,
		.max_send = qd->settings.ipc_max_send_size,
		.umask = -1,
		.gid = -1,
		.command = command,
		.shutdown = shutdown_requested,
		.arg = qd,
	};
	int r;

	r = ipc_server_create(&qd->ipc, qd->loop, &cfg);
	if (r != 0)
		qb_log(LOG_CRIT, "Cannot create the local socket %s: %s",
		    qd->settings.local_socket_file, strerror(-r));
	return r;
}

void
qdevice_ipc_fini(struct qdevice *qd)
{
	ipc_server_destroy(qd->ipc);
	qd->ipc = NULL;
}
