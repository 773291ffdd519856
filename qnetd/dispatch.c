/* qnetd/dispatch.c: the server side of the protocol state machine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "common/clock.h"
#include "common/utils.h"
#include "client.h"
#include "cluster.h"
#include "dispatch.h"
#include "events.h"
#include "instance.h"
#include "shard.h"

/* Queue a reply; a full queue or oversize reply costs the client its connection. */
static void
send_msg(struct qnetd_client *c, const struct msg *m)
{
	int r = qnetd_client_queue(c, m);

	if (r != 0)
		qnetd_client_disconnect(c, r == -ENOBUFS ? "send queue full" :
		    r == -EMSGSIZE ? "reply over the size limit" : "cannot queue reply");
}

static void
send_error(struct qnetd_client *c, const struct msg *req, uint16_t code)
{
	struct msg m;

	qb_log(LOG_WARNING, "%s: %s: replying with error %u (%s)", c->ident,
	    msg_type_name(req->type), code, reply_error_code_name(code));
	msg_init(&m, MSG_TYPE_SERVER_ERROR);
	m.seq_set = req->seq_set;
	m.seq = req->seq;
	m.reply_error_code_set = true;
	m.reply_error_code = code;
	send_msg(c, &m);
}

static void
send_vote_reply(struct qnetd_client *c, struct msg *m, uint8_t vote)
{
	m->vote_set = true;
	m->vote = vote;
	send_msg(c, m);
	qnetd_client_note_vote(c, vote);
}

/*
 * The TLS gate of docs/protocol.md 2.3. Returns 0 to go on; -1 when the
 * message must be dropped (error sent or client disconnected).
 */
static int
check_tls(struct qnetd_client *c, const struct msg *m)
{
	const struct qnetd_settings *s = c->conns->settings;
	char shown[UTILS_NAME_LOG_SIZE];

	if (!c->tls_started) {
		if (s->tls == QNETD_TLS_REQUIRED) {
			send_error(c, m, REPLY_TLS_REQUIRED);
			return -1;
		}
		return 0;
	}
	if (!s->client_cert_required || c->tls_peer_verified)
		return 0;
	if (c->fd == NULL || !nss_sock_has_peer_cert(c->fd)) {
		qb_log(LOG_WARNING, "%s: no client certificate", c->ident);
		qnetd_instance_of(c)->stats.cert_check_failures++;
		qnetd_client_disconnect(c, "client certificate missing");
		return -1;
	}
	if (!nss_sock_peer_cert_matches(c->fd, c->cluster_name)) {
		qb_log(LOG_WARNING, "%s: client certificate is not for cluster \"%s\"",
		    c->ident, utils_name_for_log(shown, sizeof(shown), c->cluster_name,
		    c->cluster_name_len));
		qnetd_instance_of(c)->stats.cert_check_failures++;
		qnetd_client_disconnect(c, "client certificate name does not match the cluster name");
		return -1;
	}
	c->tls_peer_verified = true;
	qb_log(LOG_DEBUG, "%s: client certificate verified", c->ident);
	return 0;
}

/* check_tls, then "INIT done" (docs/protocol.md 2.4); 0 to go on. */
static int
check_initialised(struct qnetd_client *c, const struct msg *m)
{
	if (check_tls(c, m) != 0)
		return -1;
	if (!c->init_received) {
		send_error(c, m, REPLY_INIT_REQUIRED);
		return -1;
	}
	return 0;
}

static void
handle_preinit(struct qnetd_client *c, const struct msg *m, const uint8_t *buf, size_t len)
{
	struct msg r;
	char *name;

	if (!m->cluster_name_set) {
		send_error(c, m, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION);
		return;
	}
	/* Cluster names are map keys and log text: refuse empty ones and NUL bytes. */
	if (m->cluster_name_len == 0 || memchr(m->cluster_name, '\0', m->cluster_name_len)) {
		send_error(c, m, REPLY_ERROR_DECODING_MSG);
		return;
	}
	if (c->init_received) {
		/* The cluster name keys our cluster membership: it cannot change now. */
		send_error(c, m, REPLY_UNEXPECTED_MESSAGE);
		return;
	}
	/*
	 * The client certificate is checked once, against the name announced
	 * before STARTTLS: a new name afterwards would let one cluster's
	 * certificate into another cluster. A worker process serves only the
	 * clusters routed to it: another name there would split that cluster
	 * between two processes, each deciding on its own.
	 */
	if (c->preinit_received && (c->tls_started || qnetd_instance_of(c)->shard_fd >= 0) &&
	    (m->cluster_name_len != c->cluster_name_len ||
	    memcmp(m->cluster_name, c->cluster_name, c->cluster_name_len) != 0)) {
		qb_log(LOG_WARNING, "%s: PREINIT names another cluster %s", c->ident,
		    c->tls_started ? "over TLS" : "after its hand-over to this worker");
		if (c->tls_started)
			qnetd_instance_of(c)->stats.cert_check_failures++;
		qnetd_client_disconnect(c, "cluster name changed");
		return;
	}
	name = strndup((const char *)m->cluster_name, m->cluster_name_len);
	if (name == NULL) {
		send_error(c, m, REPLY_INTERNAL_ERROR);
		return;
	}
	free(c->cluster_name);
	c->cluster_name = name;
	c->cluster_name_len = m->cluster_name_len;
	c->preinit_received = true;
	qnetd_client_update_ident(c);
	if (qnetd_instance_of(c)->front != NULL) {
		/* The worker owning the cluster replies to this same PREINIT. */
		shard_front_route(qnetd_instance_of(c)->front, c, buf, len);
		return;
	}

	msg_init(&r, MSG_TYPE_PREINIT_REPLY);
	r.seq_set = m->seq_set;
	r.seq = m->seq;
	r.tls_supported_set = true;
	r.tls_supported = (uint8_t)c->conns->settings->tls;
	r.tls_client_cert_required_set = true;
	r.tls_client_cert_required = c->conns->settings->client_cert_required;
	send_msg(c, &r);
}

static void
handle_starttls(struct qnetd_client *c, const struct msg *m)
{
	if (!c->preinit_received) {
		send_error(c, m, REPLY_PREINIT_REQUIRED);
		return;
	}
	if (c->tls_started) {
		send_error(c, m, REPLY_UNEXPECTED_MESSAGE);
		return;
	}
	/* Replies queued before STARTTLS must leave in plaintext first. */
	qnetd_client_flush(c);
	if (c->closing)
		return;
	if (c->fd == NULL) {
		c->tls_started = true;	/* unit tests: no socket to wrap */
		return;
	}
	if (!c->conns->tls_loaded) {
		qb_log(LOG_WARNING, "%s: STARTTLS while TLS is disabled", c->ident);
		qnetd_client_disconnect(c, "TLS is disabled on this server");
		return;
	}
	if (nss_sock_start_tls_server(&c->fd, &qnetd_instance_of(c)->tls) != 0) {
		qb_log(LOG_ERR, "%s: cannot start TLS: %s", c->ident, nss_sock_error());
		qnetd_client_disconnect(c, "TLS setup failed");
		return;
	}
	c->tls_started = true;
	qnetd_client_handshake_begin(c);
	qb_log(LOG_DEBUG, "%s: TLS started", c->ident);
}

static bool
tie_breakers_equal(const struct tie_breaker *a, const struct tie_breaker *b)
{
	return a->mode == b->mode &&
	    (a->mode != TIE_BREAKER_NODE_ID || a->node_id == b->node_id);
}

/* Step 8 of docs/protocol.md 2.5: consistency with the cluster's other clients. */
static uint16_t
check_against_cluster(struct qnetd_client *c, const struct msg *m)
{
	struct qnetd_cluster *cl = qnetd_cluster_find(qnetd_instance_of(c), c->cluster_name);

	if (cl == NULL)
		return REPLY_NO_ERROR;
	for (size_t i = 0; i < cl->view.count; i++) {
		const struct algo_client *o = cl->view.clients[i];

		if (!tie_breakers_equal(&o->tie_breaker, &m->tie_breaker))
			return REPLY_TIE_BREAKER_DIFFERS_FROM_OTHER_NODES;
		if (o->algorithm != m->algorithm)
			return REPLY_ALGORITHM_DIFFERS_FROM_OTHER_NODES;
		if (o->node_id == m->node_id)
			return REPLY_DUPLICATE_NODE_ID;
	}
	return REPLY_NO_ERROR;
}

static void
handle_init(struct qnetd_client *c, const struct msg *m)
{
	const struct qnetd_settings *s = c->conns->settings;
	uint16_t code = REPLY_NO_ERROR;
	struct msg r;

	if (check_tls(c, m) != 0)
		return;
	if (c->init_received) {
		send_error(c, m, REPLY_UNEXPECTED_MESSAGE);
		return;
	}
	/* Upstream's order, including its quirk: the value checks of the
	 * heartbeat and the algorithm overwrite an earlier error code. */
	if (!c->preinit_received)
		code = REPLY_PREINIT_REQUIRED;
	if (code == REPLY_NO_ERROR && (!m->node_id_set || !m->ring_id_set ||
	    !m->heartbeat_interval_set))
		code = REPLY_DOESNT_CONTAIN_REQUIRED_OPTION;
	if (m->heartbeat_interval_set &&
	    (m->heartbeat_interval < s->heartbeat_interval_min ||
	    m->heartbeat_interval > s->heartbeat_interval_max))
		code = REPLY_INVALID_HEARTBEAT_INTERVAL;
	if (code == REPLY_NO_ERROR && !m->tie_breaker_set)
		code = REPLY_DOESNT_CONTAIN_REQUIRED_OPTION;
	if (code == REPLY_NO_ERROR && !m->algorithm_set)
		code = REPLY_DOESNT_CONTAIN_REQUIRED_OPTION;
	if (m->algorithm_set &&
	    (m->algorithm > UINT8_MAX || algorithm_get((uint8_t)m->algorithm) == NULL))
		code = REPLY_UNSUPPORTED_DECISION_ALGORITHM;
	if (code == REPLY_NO_ERROR)
		code = check_against_cluster(c, m);
	if (code == REPLY_NO_ERROR) {
		c->algo.node_id = m->node_id;
		c->algo.ring_id = m->ring_id;
		c->algo.heartbeat_interval_ms = m->heartbeat_interval;
		c->algo.tie_breaker = m->tie_breaker;
		c->algo.algorithm = (uint8_t)m->algorithm;
		c->algo.kap_enabled = s->keep_active_partition_tie_breaker;
		if (qnetd_cluster_join(qnetd_instance_of(c), c) != 0)
			code = REPLY_INTERNAL_ERROR;
	}
	if (code == REPLY_NO_ERROR) {
		c->init_received = true;
		qnetd_client_dpd_set_interval(c, m->heartbeat_interval);
		qnetd_client_update_ident(c);
		qb_log(LOG_INFO, "%s: initialised: algorithm %s, tie-breaker %s, heartbeat %u ms",
		    c->ident, decision_algorithm_name(m->algorithm),
		    tie_breaker_mode_name(m->tie_breaker.mode), (unsigned)m->heartbeat_interval);
		qnetd_event_client_connected(c);
	} else {
		qb_log(LOG_WARNING, "%s: INIT refused: %s", c->ident,
		    reply_error_code_name(code));
	}

	msg_init(&r, MSG_TYPE_INIT_REPLY);
	r.reply_error_code_set = true;
	r.reply_error_code = code;
	if (m->supported_messages_set) {
		r.supported_messages_set = true;
		r.supported_messages = (uint16_t *)msg_all_message_types;
		r.supported_messages_count = MSG_TYPE_COUNT;
	}
	if (m->supported_options_set) {
		r.supported_options_set = true;
		r.supported_options = (uint16_t *)msg_all_option_types;
		r.supported_options_count = OPT_TYPE_COUNT;
	}
	r.seq_set = m->seq_set;
	r.seq = m->seq;
	r.server_max_request_size_set = true;
	r.server_max_request_size = s->max_client_receive_size;
	r.server_max_reply_size_set = true;
	r.server_max_reply_size = s->max_client_send_size;
	r.supported_algorithms_set = true;
	r.supported_algorithms = (uint16_t *)msg_all_algorithms;
	r.supported_algorithms_count = ALGORITHM_COUNT;
	send_msg(c, &r);
}

static void
handle_set_option(struct qnetd_client *c, const struct msg *m)
{
	const struct qnetd_settings *s = c->conns->settings;
	struct msg r;

	if (check_initialised(c, m) != 0)
		return;
	if (m->heartbeat_interval_set &&
	    (m->heartbeat_interval < s->heartbeat_interval_min ||
	    m->heartbeat_interval > s->heartbeat_interval_max)) {
		send_error(c, m, REPLY_INVALID_HEARTBEAT_INTERVAL);
		return;
	}
	if (m->heartbeat_interval_set) {
		c->algo.heartbeat_interval_ms = m->heartbeat_interval;
		qnetd_client_dpd_set_interval(c, m->heartbeat_interval);
	}
	if (m->kap_tie_breaker_set)
		c->algo.kap_enabled = m->kap_tie_breaker != 0;

	msg_init(&r, MSG_TYPE_SET_OPTION_REPLY);
	r.seq_set = m->seq_set;
	r.seq = m->seq;
	/*
	 * The heartbeat goes back only if it was asked for (3.0.1 and later),
	 * except when the reply would otherwise carry no option at all: a
	 * message without options cannot be decoded (docs/protocol.md 1.4).
	 */
	r.heartbeat_interval_set = m->heartbeat_interval_set ||
	    (!m->seq_set && !m->kap_tie_breaker_set);
	r.heartbeat_interval = c->algo.heartbeat_interval_ms;
	r.kap_tie_breaker_set = m->kap_tie_breaker_set;
	r.kap_tie_breaker = c->algo.kap_enabled;
	send_msg(c, &r);
}

static void
handle_echo(struct qnetd_client *c, const struct msg *m, const uint8_t *buf, size_t len)
{
	uint8_t *copy;
	int r;

	if (check_initialised(c, m) != 0)
		return;
	/* The reply is the request byte for byte, only the type changed. */
	copy = malloc(len);
	if (copy == NULL) {
		send_error(c, m, REPLY_INTERNAL_ERROR);
		return;
	}
	memcpy(copy, buf, len);
	store_be16(copy, MSG_TYPE_ECHO_REPLY);
	r = qnetd_client_queue_raw(c, copy, len);
	free(copy);
	if (r != 0)
		qnetd_client_disconnect(c, "send queue full");
}

/* Store what a node list reported, after the algorithm has seen it. */
static int
store_node_list(struct qnetd_client *c, const struct msg *m)
{
	struct algo_client *a = &c->algo;

	switch (m->node_list_type) {
	case NODE_LIST_INITIAL_CONFIG:
	case NODE_LIST_CHANGED_CONFIG:
		if (node_list_copy(&a->config, &m->nodes) != 0)
			return -ENOMEM;
		a->config_set = true;
		a->config_version_set = m->config_version_set;
		a->config_version = m->config_version;
		break;
	case NODE_LIST_MEMBERSHIP:
		if (node_list_copy(&a->membership, &m->nodes) != 0)
			return -ENOMEM;
		a->membership_set = true;
		a->ring_id = m->ring_id;
		a->last_membership_heuristics = m->heuristics_set ? m->heuristics :
		    HEURISTICS_UNDEFINED;
		a->last_heuristics = a->last_membership_heuristics;
		break;
	case NODE_LIST_QUORUM:
		if (node_list_copy(&a->quorum, &m->nodes) != 0)
			return -ENOMEM;
		a->quorum_set = true;
		a->quorate = m->quorate != 0;
		break;
	}
	return 0;
}

/* Run the algorithm; 0 with *plan filled, or -1 when an error reply was sent. */
static int
decide(struct qnetd_client *c, const struct msg *m, struct algo_event *ev,
    struct algo_plan *plan)
{
	if (qnetd_cluster_decide(c, ev, plan) != 0) {
		send_error(c, m, REPLY_INTERNAL_ERROR);
		return -1;
	}
	if (plan->error != REPLY_NO_ERROR) {
		send_error(c, m, plan->error);
		return -1;
	}
	return 0;
}

static void
handle_node_list(struct qnetd_client *c, const struct msg *m)
{
	struct algo_event ev = { 0 };
	struct algo_plan plan;
	struct msg r;

	if (check_initialised(c, m) != 0)
		return;
	if (!m->node_list_type_set || !m->seq_set ||
	    (m->node_list_type == NODE_LIST_MEMBERSHIP && !m->ring_id_set) ||
	    (m->node_list_type == NODE_LIST_QUORUM && !m->quorate_set)) {
		send_error(c, m, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION);
		return;
	}
	ev.client = &c->algo;
	ev.list_type = m->node_list_type;
	ev.nodes = &m->nodes;
	switch (m->node_list_type) {
	case NODE_LIST_INITIAL_CONFIG:
	case NODE_LIST_CHANGED_CONFIG:
		ev.type = ALGO_EV_CONFIG_LIST;
		ev.config_version_set = m->config_version_set;
		ev.config_version = m->config_version;
		break;
	case NODE_LIST_MEMBERSHIP:
		ev.type = ALGO_EV_MEMBERSHIP_LIST;
		ev.ring_id = &m->ring_id;
		ev.heuristics = m->heuristics_set ? m->heuristics : HEURISTICS_UNDEFINED;
		break;
	default:
		ev.type = ALGO_EV_QUORUM_LIST;
		ev.quorate = m->quorate != 0;
		break;
	}
	qb_log(LOG_DEBUG, "%s: %s node list with %zu nodes", c->ident,
	    node_list_type_name(m->node_list_type), m->nodes.count);
	/* A membership change starts a decision; its ACK/NACK ends it (metrics). */
	if (m->node_list_type == NODE_LIST_MEMBERSHIP && c->decision_wait_ns == 0)
		c->decision_wait_ns = clock_now_ns();
	if (decide(c, m, &ev, &plan) != 0)
		return;
	if (store_node_list(c, m) != 0) {
		send_error(c, m, REPLY_INTERNAL_ERROR);
		return;
	}
	msg_init(&r, MSG_TYPE_NODE_LIST_REPLY);
	r.seq_set = true;
	r.seq = m->seq;
	r.node_list_type_set = true;
	r.node_list_type = m->node_list_type;
	r.ring_id_set = true;
	r.ring_id = c->algo.ring_id;
	send_vote_reply(c, &r, plan.vote);
}

static void
handle_ask_for_vote(struct qnetd_client *c, const struct msg *m)
{
	struct algo_event ev = { .type = ALGO_EV_ASK_FOR_VOTE, .client = &c->algo };
	struct algo_plan plan;
	struct msg r;

	if (check_initialised(c, m) != 0)
		return;
	if (!m->seq_set) {
		send_error(c, m, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION);
		return;
	}
	if (decide(c, m, &ev, &plan) != 0)
		return;
	msg_init(&r, MSG_TYPE_ASK_FOR_VOTE_REPLY);
	r.seq_set = true;
	r.seq = m->seq;
	r.ring_id_set = true;
	r.ring_id = c->algo.ring_id;
	send_vote_reply(c, &r, plan.vote);
}

static void
handle_vote_info_reply(struct qnetd_client *c, const struct msg *m)
{
	struct algo_event ev = { .type = ALGO_EV_VOTE_INFO_REPLY, .client = &c->algo };
	struct algo_plan plan;

	if (check_initialised(c, m) != 0)
		return;
	if (!m->seq_set) {
		send_error(c, m, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION);
		return;
	}
	ev.seq = m->seq;
	(void)decide(c, m, &ev, &plan);	/* bookkeeping only: no reply */
}

static void
handle_heuristics_change(struct qnetd_client *c, const struct msg *m)
{
	struct algo_event ev = { .type = ALGO_EV_HEURISTICS_CHANGE, .client = &c->algo };
	struct algo_plan plan;
	struct msg r;

	if (check_initialised(c, m) != 0)
		return;
	if (!m->seq_set || !m->heuristics_set) {
		send_error(c, m, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION);
		return;
	}
	ev.heuristics = m->heuristics;
	if (decide(c, m, &ev, &plan) != 0)
		return;
	c->algo.last_regular_heuristics = m->heuristics;
	c->algo.last_heuristics = m->heuristics;
	msg_init(&r, MSG_TYPE_HEURISTICS_CHANGE_REPLY);
	r.seq_set = true;
	r.seq = m->seq;
	r.ring_id_set = true;
	r.ring_id = c->algo.ring_id;
	r.heuristics_set = true;
	r.heuristics = m->heuristics;
	send_vote_reply(c, &r, plan.vote);
}

void
qnetd_dispatch(struct qnetd_client *c, const uint8_t *buf, size_t len)
{
	struct msg m;
	int r;

	r = msg_decode(buf, len, &m);
	if (r != 0) {
		qb_log(LOG_WARNING, "%s: cannot decode %s message: %s", c->ident,
		    msg_type_name(m.type), msg_decode_error_name(r));
		qnetd_instance_of(c)->stats.decode_errors++;
		send_error(c, &m, REPLY_ERROR_DECODING_MSG);
		msg_fini(&m);
		return;
	}
	qb_log(LOG_DEBUG, "%s: received %s", c->ident, msg_type_name(m.type));
	switch (m.type) {
	case MSG_TYPE_PREINIT:
		handle_preinit(c, &m, buf, len);
		break;
	case MSG_TYPE_STARTTLS:
		handle_starttls(c, &m);
		break;
	case MSG_TYPE_INIT:
		handle_init(c, &m);
		break;
	case MSG_TYPE_SET_OPTION:
		handle_set_option(c, &m);
		break;
	case MSG_TYPE_ECHO_REQUEST:
		handle_echo(c, &m, buf, len);
		break;
	case MSG_TYPE_NODE_LIST:
		handle_node_list(c, &m);
		break;
	case MSG_TYPE_ASK_FOR_VOTE:
		handle_ask_for_vote(c, &m);
		break;
	case MSG_TYPE_VOTE_INFO_REPLY:
		handle_vote_info_reply(c, &m);
		break;
	case MSG_TYPE_HEURISTICS_CHANGE:
		handle_heuristics_change(c, &m);
		break;
	default:
		/* A server-to-client message type sent to the server. */
		send_error(c, &m, REPLY_UNEXPECTED_MESSAGE);
		break;
	}
	msg_fini(&m);
}
