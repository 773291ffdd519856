/*
 * qdevice/net.c: the "net" model: the connection to qnetd as one state
 * machine (docs/protocol.md 2.1-2.3, 2.6-2.10). Connect with a timeout,
 * PREINIT, optional STARTTLS, INIT, after-connect heuristics, then the
 * node lists; votes from qnetd drive the cast-vote timer. Lost
 * connections are retried after a random delay on a loop timer, or end
 * the daemon when the reason is fatal.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qblog.h>

#include "common/nss-sock.h"
#include "net-internal.h"
#include "status.h"

#define TAG_STARTTLS		1
#define CERT_WARN_DAYS		30
#define CERT_CHECK_MS		(24U * 3600U * 1000U)	/* daily */

static const char *const state_names[] = {
	"idle", "waiting for connect", "waiting for preinit reply",
	"waiting for starttls being sent", "waiting for init reply", "connected",
};


static void	connect_now(struct qdevice_net *n);

/* "host:port" of qnetd as configured, for logs and hooks. */
static const char *
qnetd_host(const struct qdevice *qd, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", qd->config.host != NULL ? qd->config.host : "",
	    (unsigned)qd->config.port);
	return buf;
}

/* ---- connection setup ---- */

static void
connect_timeout(void *data)
{
	struct qdevice_net *n = data;

	n->connect_timer.armed = false;
	qb_log(LOG_DEBUG, "Connect timeout (%s)", state_names[n->state]);
	net_disconnect(n, DISCONNECT_CONNECT_TIMEOUT);
}

static void
reconnect_fired(void *data)
{
	struct qdevice_net *n = data;

	n->reconnect_timer.armed = false;
	connect_now(n);
}

static void
on_connected(void *arg)
{
	struct qdevice_net *n = arg;
	struct qdevice *qd = n->qd;
	struct msg m;

	n->tcp_connected = true;
	n->failed_connects = 0;
	snprintf(n->peer, sizeof(n->peer), "%s", conn_peer(n->conn));
	snprintf(n->peer_host, sizeof(n->peer_host), "%s", conn_peer_host(n->conn));
	n->peer_index = conn_peer_index(n->conn);
	n->peer_count = conn_address_count(n->conn);
	qb_log(LOG_DEBUG, "Connected to %s, sending preinit", conn_peer(n->conn));
	/* PREINIT carries the current number, not a new one (2.6). */
	msg_init(&m, MSG_TYPE_PREINIT);
	m.seq_set = true;
	m.seq = n->last_seq;
	m.cluster_name_set = true;
	m.cluster_name = (const uint8_t *)qd->config.cluster_name;
	m.cluster_name_len = strlen(qd->config.cluster_name);
	n->expected_seq = m.seq;
	n->state = NET_STATE_WAITING_PREINIT_REPLY;
	net_send_msg(n, &m, 0);
}

static void
send_init(struct qdevice_net *n)
{
	struct qdevice *qd = n->qd;
	struct msg m;

	net_init_seq_msg(n, &m, MSG_TYPE_INIT);
	m.supported_messages_set = true;
	m.supported_messages = (uint16_t *)msg_all_message_types;
	m.supported_messages_count = MSG_TYPE_COUNT;
	m.supported_options_set = true;
	m.supported_options = (uint16_t *)msg_all_option_types;
	m.supported_options_count = OPT_TYPE_COUNT;
	m.node_id_set = true;
	m.node_id = qd->config.node_id;
	m.algorithm_set = true;
	m.algorithm = qd->config.algorithm;
	m.heartbeat_interval_set = true;
	m.heartbeat_interval = qd->config.heartbeat_interval_ms;
	m.tie_breaker_set = true;
	m.tie_breaker = qd->config.tie_breaker;
	m.ring_id_set = true;
	m.ring_id = qd->ring_id;
	n->expected_seq = m.seq;
	n->state = NET_STATE_WAITING_INIT_REPLY;
	if (net_send_msg(n, &m, 0) == 0)
		n->last_sent_ring = qd->ring_id;
}

static void
on_sent(void *arg, uint32_t tag)
{
	struct qdevice_net *n = arg;
	struct qdevice_settings *s = &n->qd->settings;

	if (tag != TAG_STARTTLS || n->state != NET_STATE_WAITING_STARTTLS_SENT)
		return;
	/* The server switched to TLS on reading STARTTLS; so do we now. */
	if (conn_start_tls(n->conn, s->net_nss_qnetd_cn, s->net_nss_client_cert_nickname,
	    s->net_allow_expired_server_cert) != 0) {
		qb_log(LOG_ERR, "Cannot start TLS: %s", nss_sock_error());
		net_disconnect(n, DISCONNECT_SEND_ERROR);
		return;
	}
	n->tls_active = true;
	send_init(n);
}

static void
got_preinit_reply(struct qdevice_net *n, const struct msg *m)
{
	enum disconnect_reason r = handshake_check_preinit_reply(m, n->expected_seq);
	struct msg st;

	if (r != DISCONNECT_NONE) {
		qb_log(LOG_ERR, "Preinit reply lacks a required option or has a wrong seq");
		net_disconnect(n, r);
		return;
	}
	qb_log(LOG_DEBUG, "Received preinit reply: server TLS %s, client certificate %s",
	    tls_supported_name(m->tls_supported),
	    m->tls_client_cert_required ? "required" : "not required");
	switch (handshake_tls_decision(m->tls_supported, (uint8_t)n->qd->config.tls)) {
	case TLS_DECISION_INCOMPATIBLE:
		qb_log(LOG_ERR, "Server TLS setting (%s) is incompatible with ours "
		    "(quorum.device.net.tls)", tls_supported_name(m->tls_supported));
		net_disconnect(n, DISCONNECT_TLS_INCOMPATIBLE);
		break;
	case TLS_DECISION_STARTTLS:
		net_init_seq_msg(n, &st, MSG_TYPE_STARTTLS);
		n->state = NET_STATE_WAITING_STARTTLS_SENT;
		net_send_msg(n, &st, TAG_STARTTLS);
		break;
	case TLS_DECISION_PLAIN:
		send_init(n);
		break;
	}
}

static void
echo_fired(void *data)
{
	struct qdevice_net *n = data;
	struct qdevice *qd = n->qd;
	struct msg m;

	n->echo_timer.armed = false;
	if (n->echo_sent != n->echo_received) {
		if (vote_echo_missing_disconnects(qd->config.algorithm, qd->quorate,
		    qd->config.wait_for_all != 0)) {
			qb_log(LOG_ERR, "Server didn't send echo reply message on time");
			net_disconnect(n, DISCONNECT_ECHO_REPLY_NOT_RECEIVED);
			return;
		}
		qb_log(LOG_WARNING, "Server didn't send echo reply message on time, "
		    "keeping the connection (quorate, wait_for_all)");
	} else {
		msg_init(&m, MSG_TYPE_ECHO_REQUEST);
		m.seq_set = true;
		m.seq = ++n->echo_sent;
		if (net_send_msg(n, &m, 0) != 0)
			return;
	}
	qdevice_timer_arm(qd, &n->echo_timer, qd->config.heartbeat_interval_ms, echo_fired, n);
}

static void
start_echo(struct qdevice_net *n)
{
	n->echo_sent = n->echo_received = 0;
	qb_log(LOG_DEBUG, "Scheduling send of heartbeat every %" PRIu32 "ms",
	    n->qd->config.heartbeat_interval_ms);
	qdevice_timer_arm(n->qd, &n->echo_timer, n->qd->config.heartbeat_interval_ms,
	    echo_fired, n);
}

static void
got_init_reply(struct qdevice_net *n, const struct msg *m)
{
	struct qdevice *qd = n->qd;
	struct init_requirements req = {
		.expected_seq = n->expected_seq,
		.min_send_size = qd->settings.net_min_msg_send_size,
		.max_receive_size = qd->settings.net_max_msg_receive_size,
		.algorithm = qd->config.algorithm,
		.need_heuristics = qdevice_heur_mode(qd) != HEURISTICS_MODE_OFF,
	};
	enum disconnect_reason r = handshake_check_init_reply(m, &req, &n->caps);

	switch (r) {
	case DISCONNECT_NONE:
		break;
	case DISCONNECT_INIT_REPLY_RETRYABLE:
	case DISCONNECT_INIT_REPLY_ERROR:
		qb_log(LOG_ERR, "Server refused init: %s (%u)",
		    reply_error_code_name(n->caps.error_code), (unsigned)n->caps.error_code);
		net_disconnect(n, r);
		return;
	case DISCONNECT_SIZES_INCOMPATIBLE:
		qb_log(LOG_ERR, "Server message sizes (request %" PRIu32 ", reply %" PRIu32
		    ") are incompatible with ours", m->server_max_request_size,
		    m->server_max_reply_size);
		net_disconnect(n, r);
		return;
	case DISCONNECT_ALGORITHM_UNSUPPORTED:
		qb_log(LOG_ERR, "Server doesn't support the %s algorithm",
		    decision_algorithm_name(qd->config.algorithm));
		net_disconnect(n, r);
		return;
	case DISCONNECT_OPTION_UNSUPPORTED:
		qb_log(LOG_ERR, "Heuristics are enabled but the server doesn't support them");
		net_disconnect(n, r);
		return;
	default:
		qb_log(LOG_ERR, "Init reply is incomplete: %s", disconnect_reason_name(r));
		net_disconnect(n, r);
		return;
	}
	if (n->tls_active)
		n->cert_sent = conn_client_cert_sent(n->conn);
	qb_log(LOG_DEBUG, "Received init reply: server sizes %" PRIu32 "/%" PRIu32
	    ", heuristics %s, KAP tie-breaker %s", n->caps.max_request_size,
	    n->caps.max_reply_size, n->caps.heuristics ? "supported" : "unsupported",
	    n->caps.kap_tie_breaker ? "supported" : "unsupported");
	conn_set_limits(n->conn, n->caps.max_reply_size, n->caps.max_request_size,
	    qd->settings.net_max_send_buffers);
	qdevice_timer_disarm(n->qd, &n->connect_timer);
	start_echo(n);
	n->init_replied = true;
	qdevice_heur_run(qd, HEUR_KIND_CONNECT);
}

/* After-connect heuristics are known: report everything (2.2, 2.8). */
static void
finish_connect(struct qdevice_net *n, uint8_t heuristics)
{
	struct qdevice *qd = n->qd;
	char host[300];
	struct msg m;

	if (n->caps.kap_tie_breaker) {
		net_init_seq_msg(n, &m, MSG_TYPE_SET_OPTION);
		m.kap_tie_breaker_set = true;
		m.kap_tie_breaker = qd->config.kap_tie_breaker ? 1 : 0;
		if (net_send_msg(n, &m, 0) != 0)
			return;
		n->set_option_pending = true;
		n->set_option_seq = m.seq;
	}
	if (net_send_config_list(n, NODE_LIST_INITIAL_CONFIG) != 0 ||
	    net_send_membership_list(n, heuristics) != 0 || net_send_quorum_list(n) != 0)
		return;
	n->state = NET_STATE_CONNECTED;
	n->connected_since = time(NULL);
	if (n->peer_count > 1)
		qb_log(LOG_INFO, "Connected to qnetd %s%s (host %s, address %zu of %zu)",
		    conn_peer(n->conn), n->tls_active ? " (TLS)" : "", n->peer_host,
		    n->peer_index, n->peer_count);
	else
		qb_log(LOG_INFO, "Connected to qnetd %s%s", conn_peer(n->conn),
		    n->tls_active ? " (TLS)" : "");
	qdevice_vq_vote(qd, VOTE_WAIT_FOR_REPLY, NULL);
	qd->stats.connects++;
	qdevice_event_connected(qd, qnetd_host(qd, host, sizeof(host)));
}

/* ---- messages once connected ---- */

static void
apply_vote(struct qdevice_net *n, const struct msg *m)
{
	uint8_t vote = vote_for_ring(m->vote, &m->ring_id, &n->last_sent_ring);

	qb_log(LOG_DEBUG, "Received %s: seq %" PRIu32 ", vote %s, ring id (%" PRIx32 ".%"
	    PRIx64 ")%s", msg_type_name(m->type), m->seq, vote_name(m->vote),
	    m->ring_id.node_id, m->ring_id.seq,
	    vote != m->vote ? ": old ring, taken as No change" : "");
	if (vote == VOTE_ACK || vote == VOTE_NACK) {
		qb_log(LOG_INFO, "qnetd votes %s for ring (%" PRIx32 ".%" PRIx64 ")",
		    vote_name(vote), m->ring_id.node_id, m->ring_id.seq);
		if (vote == VOTE_ACK)
			n->qd->stats.acks_received++;
		else
			n->qd->stats.nacks_received++;
	}
	qdevice_vq_vote(n->qd, vote, &m->ring_id);
}

static void
got_echo_reply(struct qdevice_net *n, const struct msg *m)
{
	if (m->seq != n->echo_sent) {
		qb_log(LOG_ERR, "Received echo reply with seq %" PRIu32 ", expected %" PRIu32,
		    m->seq, n->echo_sent);
		net_disconnect(n, DISCONNECT_ECHO_REPLY_WRONG_SEQ);
		return;
	}
	n->echo_received = m->seq;
	n->echo_time = time(NULL);
}

static void
got_connected_msg(struct qdevice_net *n, const struct msg *m)
{
	struct msg reply;

	switch (m->type) {
	case MSG_TYPE_SET_OPTION_REPLY:
		/*
		 * Only the reply to our own SET_OPTION counts: an unsolicited one
		 * carrying a heartbeat interval would re-arm the echo timer, and a
		 * server repeating it could keep a stale ACK alive without ever
		 * answering an echo (tests/hostile/test-hostile-qdevice.sh, case
		 * ack-keepalive-set-option).
		 */
		if (!n->set_option_pending || !m->seq_set || m->seq != n->set_option_seq) {
			qb_log(LOG_WARNING, "Ignoring a set option reply (seq %" PRIu32
			    ") we did not ask for", m->seq_set ? m->seq : 0);
			break;
		}
		n->set_option_pending = false;
		qb_log(LOG_DEBUG, "Received set option reply");
		if (m->heartbeat_interval_set)
			start_echo(n);
		break;
	case MSG_TYPE_NODE_LIST_REPLY:
	case MSG_TYPE_ASK_FOR_VOTE_REPLY:
	case MSG_TYPE_HEURISTICS_CHANGE_REPLY:
		apply_vote(n, m);
		break;
	case MSG_TYPE_VOTE_INFO:
		apply_vote(n, m);
		if (n->conn == NULL)
			break;
		/* Always answered, even when the vote was for an old ring (2.9). */
		msg_init(&reply, MSG_TYPE_VOTE_INFO_REPLY);
		reply.seq_set = true;
		reply.seq = m->seq;
		net_send_msg(n, &reply, 0);
		break;
	default:
		break;
	}
}

static void
on_message(void *arg, const uint8_t *buf, size_t len)
{
	struct qdevice_net *n = arg;
	enum disconnect_reason r;
	struct msg m;
	int err;

	err = msg_decode(buf, len, &m);
	if (err < 0) {
		qb_log(LOG_ERR, "Cannot decode a message from qnetd: %s",
		    msg_decode_error_name(err));
		msg_fini(&m);
		net_disconnect(n, DISCONNECT_DECODE_ERROR);
		return;
	}
	r = handshake_check_required(&m);
	if (r != DISCONNECT_NONE) {
		qb_log(LOG_ERR, "%s from qnetd lacks a required option", msg_type_name(m.type));
		net_disconnect(n, r);
		goto out;
	}
	switch (m.type) {
	case MSG_TYPE_SERVER_ERROR:
		qb_log(LOG_ERR, "Server sent error: %s (%u)",
		    m.reply_error_code_set ? reply_error_code_name(m.reply_error_code) : "none",
		    m.reply_error_code_set ? (unsigned)m.reply_error_code : 0U);
		net_disconnect(n, DISCONNECT_SERVER_ERROR);
		goto out;
	case MSG_TYPE_ECHO_REPLY:
		got_echo_reply(n, &m);
		goto out;
	case MSG_TYPE_PREINIT_REPLY:
		if (n->state == NET_STATE_WAITING_PREINIT_REPLY) {
			got_preinit_reply(n, &m);
			goto out;
		}
		break;
	case MSG_TYPE_INIT_REPLY:
		if (n->state == NET_STATE_WAITING_INIT_REPLY && !n->init_replied) {
			got_init_reply(n, &m);
			goto out;
		}
		break;
	case MSG_TYPE_SET_OPTION_REPLY:
	case MSG_TYPE_NODE_LIST_REPLY:
	case MSG_TYPE_ASK_FOR_VOTE_REPLY:
	case MSG_TYPE_VOTE_INFO:
	case MSG_TYPE_HEURISTICS_CHANGE_REPLY:
		if (n->state == NET_STATE_CONNECTED) {
			got_connected_msg(n, &m);
			goto out;
		}
		break;
	default:
		break;
	}
	qb_log(LOG_ERR, "Received unexpected %s in state %s", msg_type_name(m.type),
	    state_names[n->state]);
	net_disconnect(n, DISCONNECT_UNEXPECTED_MESSAGE);
out:
	msg_fini(&m);
}

static void
on_failed(void *arg, enum disconnect_reason reason)
{
	struct qdevice_net *n = arg;


	if (n->state == NET_STATE_WAITING_CONNECT) {
		/*
		 * Every address refused (or was unreachable) at once: the connect
		 * timer paces the next attempt, brought forward to about a second
		 * so that a qnetd starting on a standby host is found soon.
		 */
		uint32_t retry_ms = disconnect_refused_retry_ms((unsigned long)random());

		/* Retried about every second now: warn on the first and then every 8th. */
		n->failed_connects++;
		qb_log(n->failed_connects % 8 == 1 ? LOG_WARNING : LOG_DEBUG,
		    "Cannot connect to qnetd %s:%u: %s (attempt %" PRIu32 ")", n->qd->config.host,
		    (unsigned)n->qd->config.port, conn_error(n->conn), n->failed_connects);
		conn_destroy(n->conn);
		n->conn = NULL;
		n->connect_failed = true;
		if (n->connect_timer.armed && (uint64_t)retry_ms * 1000000ULL <
		    qb_loop_timer_expire_time_remaining(n->qd->loop, n->connect_timer.handle)) {
			qb_log(LOG_DEBUG, "Trying again in %" PRIu32 " ms", retry_ms);
			qdevice_timer_arm(n->qd, &n->connect_timer, retry_ms, connect_timeout, n);
		}
		return;
	}
	net_disconnect(n, reason);
}

static void
on_trying(void *arg)
{
	struct qdevice_net *n = arg;

	qb_log(LOG_DEBUG, "Trying qnetd address %s (host %s, address %zu of %zu)",
	    conn_peer(n->conn), conn_peer_host(n->conn), conn_peer_index(n->conn),
	    conn_address_count(n->conn));
}

static void
on_address_failed(void *arg, const char *why)
{
	struct qdevice_net *n = arg;

	qb_log(LOG_DEBUG, "Qnetd address %s failed (%s): trying the next one",
	    conn_peer(n->conn), why);
}

static const struct conn_callbacks callbacks = {
	.connected = on_connected,
	.message = on_message,
	.sent = on_sent,
	.failed = on_failed,
	.trying = on_trying,
	.address_failed = on_address_failed,
};

static void
connect_now(struct qdevice_net *n)
{
	struct qdevice *qd = n->qd;
	int r;

	n->state = NET_STATE_WAITING_CONNECT;
	n->connect_failed = false;
	n->tcp_connected = false;
	n->init_replied = false;
	n->set_option_pending = false;
	n->tls_active = n->cert_sent = false;
	n->connected_since = n->echo_time = (time_t)-1;
	n->peer[0] = n->peer_host[0] = '\0';
	n->peer_index = n->peer_count = 0;
	memset(&n->caps, 0, sizeof(n->caps));
	if (qdevice_timer_arm(qd, &n->connect_timer, qd->config.connect_timeout_ms,
	    connect_timeout, n) != 0)
		return;
	qb_log(LOG_DEBUG, "Trying connect to qnetd server %s:%u (timeout = %" PRIu32 "ms)",
	    qd->config.host, (unsigned)qd->config.port, qd->config.connect_timeout_ms);
	r = conn_create(&n->conn, qd->loop, &callbacks, n);
	if (r != 0) {
		qb_log(LOG_CRIT, "Cannot create a connection: %s", strerror(-r));
		qdevice_exit(qd, EXIT_FAILURE);
		return;
	}
	conn_set_limits(n->conn, qd->settings.net_initial_msg_receive_size,
	    qd->settings.net_initial_msg_send_size, qd->settings.net_max_send_buffers);
	/*
	 * Every round starts again from the first address: the list is an
	 * order of preference, and a rule that depends only on what answers
	 * now (not on which address worked last time) keeps every node of
	 * the cluster converging on the same arbiter (docs/protocol.md 4.5).
	 */
	r = conn_connect(n->conn, (const char *const *)qd->config.hosts, qd->config.host_count,
	    qd->config.port, qd->config.force_ip_version, qd->config.connect_timeout_ms);
	if (r != 0) {
		qb_log(LOG_WARNING, "Cannot connect to qnetd %s:%u: %s", qd->config.host,
		    (unsigned)qd->config.port,
		    r == -ENOENT ? "cannot resolve the host name" : strerror(-r));
		conn_destroy(n->conn);
		n->conn = NULL;
		n->connect_failed = true;
	}
}

void
net_disconnect(struct qdevice_net *n, enum disconnect_reason reason)
{
	struct qdevice *qd = n->qd;
	bool was_past_connect = n->tcp_connected;
	bool was_connected = n->state == NET_STATE_CONNECTED;
	bool retry = disconnect_reason_retry(reason, qd->config.algorithm);
	const char *detail = n->conn != NULL ? conn_error(n->conn) : "";
	char host[300];
	uint32_t delay_ms;

	/* A timed out attempt that never reached qnetd is routine while it is away. */
	qb_log(!retry ? LOG_ERR : n->tcp_connected ? LOG_WARNING : LOG_DEBUG,
	    "Disconnected from qnetd: %s%s%s%s", disconnect_reason_name(reason),
	    *detail != '\0' ? " (" : "", detail, *detail != '\0' ? ")" : "");
	conn_destroy(n->conn);
	n->conn = NULL;
	qdevice_timer_disarm(n->qd, &n->connect_timer);
	qdevice_timer_disarm(n->qd, &n->echo_timer);
	n->state = NET_STATE_IDLE;
	n->tls_active = n->cert_sent = false;
	n->init_replied = false;
	n->peer[0] = n->peer_host[0] = '\0';
	n->peer_index = n->peer_count = 0;

	qdevice_vq_pause(qd, false);
	qdevice_vq_vote(qd, vote_on_disconnect(qd->config.algorithm, qd->quorate,
	    qd->config.wait_for_all != 0), NULL);
	/* Only a connection that reached "Connected" ends with an event. */
	if (was_connected) {
		qd->stats.disconnects++;
		qdevice_event_disconnected(qd, qnetd_host(qd, host, sizeof(host)),
		    disconnect_reason_name(reason));
	}
	if (!retry) {
		qb_log(LOG_ERR, "Not reconnecting (%s): exiting", disconnect_reason_name(reason));
		qdevice_exit(qd, EXIT_FAILURE);
		return;
	}
	delay_ms = disconnect_reconnect_delay_ms(was_past_connect, qd->config.cast_vote_interval_ms,
	    (unsigned long)random());
	if (delay_ms > 0)
		qb_log(LOG_DEBUG, "Reconnecting in %" PRIu32 " ms", delay_ms);
	qdevice_timer_arm(qd, &n->reconnect_timer, delay_ms, reconnect_fired, n);
}

/* ---- the instance side ---- */

/*
 * Our client certificate's remaining validity: a warning when it is
 * short, at start and then daily (a loop timer); the days go to status.
 */
static void
check_own_cert(void *data)
{
	struct qdevice_net *n = data;
	struct qdevice *qd = n->qd;
	const char *nick = qd->settings.net_nss_client_cert_nickname;
	long days;

	n->cert_timer.armed = false;
	if (nss_cert_days_left_by_nickname(nick, &days) != 0) {
		if (n->cert_days_known || !n->cert_checked)	/* first time, or news */
			qb_log(LOG_WARNING, "Client certificate \"%s\" not found in %s: qnetd may "
			    "refuse us", nick, qd->settings.net_nss_db_dir);
		n->cert_days_known = false;
	} else {
		if (!n->cert_days_known && n->cert_checked)
			qb_log(LOG_INFO, "Client certificate \"%s\" found again", nick);
		n->cert_days_known = true;
		n->cert_days_left = days;
		if (days < 0)
			qb_log(LOG_WARNING, "Client certificate \"%s\" expired %ld day(s) ago",
			    nick, -days);
		else if (days <= CERT_WARN_DAYS)
			qb_log(LOG_WARNING, "Client certificate \"%s\" expires in %ld day(s)",
			    nick, days);
		else
			qb_log(LOG_DEBUG, "Client certificate \"%s\" expires in %ld day(s)",
			    nick, days);
	}
	n->cert_checked = true;
	qdevice_timer_arm(qd, &n->cert_timer, CERT_CHECK_MS, check_own_cert, n);
}

int
qdevice_net_init(struct qdevice *qd)
{
	struct qdevice_net *n;
	int r;

	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	n->qd = qd;
	n->last_seq = 1;
	n->connected_since = n->echo_time = (time_t)-1;
	qd->net = n;
	if (qd->config.tls != TLS_MODE_OFF)
		r = nss_sock_init(qd->settings.net_nss_db_dir);
	else
		r = nss_sock_init_nodb();
	if (r != 0) {
		qb_log(LOG_CRIT, "Cannot initialize NSS (database %s): %s",
		    qd->settings.net_nss_db_dir, nss_sock_error());
		return r;
	}
	n->nss_ready = true;
	if (qd->config.tls != TLS_MODE_OFF)
		check_own_cert(n);
	/* The timer stays stopped until qnetd votes (upstream starts with Ask later). */
	qdevice_vq_vote(qd, VOTE_ASK_LATER, NULL);
	return 0;
}

void
qdevice_net_start(struct qdevice *qd)
{
	if (qd->net != NULL && qd->net->state == NET_STATE_IDLE && !qd->net->reconnect_timer.armed)
		connect_now(qd->net);
}

void
qdevice_net_fini(struct qdevice *qd)
{
	struct qdevice_net *n = qd->net;

	if (n == NULL)
		return;
	conn_destroy(n->conn);
	qdevice_timer_disarm(n->qd, &n->connect_timer);
	qdevice_timer_disarm(n->qd, &n->echo_timer);
	qdevice_timer_disarm(n->qd, &n->reconnect_timer);
	qdevice_timer_disarm(n->qd, &n->cert_timer);
	if (n->nss_ready)
		nss_sock_shutdown();
	free(n);
	qd->net = NULL;
}

bool
qdevice_net_connected(const struct qdevice *qd)
{
	return qd->net != NULL && qd->net->state == NET_STATE_CONNECTED;
}

void
qdevice_net_on_membership(struct qdevice *qd, uint8_t heuristics)
{
	struct qdevice_net *n = qd->net;
	uint8_t vote;

	n->heur_membership = n->heur_latest = heuristics;
	if (n->state == NET_STATE_CONNECTED) {
		if (net_send_membership_list(n, heuristics) != 0)
			return;
		vote = VOTE_WAIT_FOR_REPLY;
	} else {
		vote = vote_while_disconnected(&qd->vote);
	}
	qdevice_vq_pause(qd, false);
	qdevice_vq_vote(qd, vote, NULL);
}

void
qdevice_net_on_quorum(struct qdevice *qd)
{
	struct qdevice_net *n = qd->net;

	if (n->state == NET_STATE_CONNECTED)
		net_send_quorum_list(n);
	else
		qdevice_vq_vote(qd, vote_while_disconnected(&qd->vote), NULL);
}

void
qdevice_net_on_config_nodes(struct qdevice *qd)
{
	struct qdevice_net *n = qd->net;

	if (n->state == NET_STATE_CONNECTED)
		net_send_config_list(n, NODE_LIST_CHANGED_CONFIG);
	else
		qdevice_vq_vote(qd, vote_while_disconnected(&qd->vote), NULL);
}

void
qdevice_net_on_heuristics(struct qdevice *qd, enum heur_kind kind, uint8_t result)
{
	struct qdevice_net *n = qd->net;
	struct msg m;
	bool changed;

	switch (kind) {
	case HEUR_KIND_CONNECT:
		n->heur_connect = n->heur_latest = result;
		if (n->state == NET_STATE_WAITING_INIT_REPLY && n->init_replied)
			finish_connect(n, result);
		break;
	case HEUR_KIND_REGULAR:
		changed = result != n->heur_latest;
		n->heur_regular = n->heur_latest = result;
		if (!changed || n->state != NET_STATE_CONNECTED || result == HEURISTICS_UNDEFINED)
			break;
		qb_log(LOG_INFO, "Heuristics result changed to %s", heuristics_name(result));
		net_init_seq_msg(n, &m, MSG_TYPE_HEURISTICS_CHANGE);
		m.heuristics_set = true;
		m.heuristics = result;
		net_send_msg(n, &m, 0);
		break;
	case HEUR_KIND_MEMBERSHIP:	/* routed through qdevice_on_membership_heuristics() */
		break;
	}
}

void
qdevice_net_status(const struct qdevice *qd, struct status_view *v)
{
	const struct qdevice_net *n = qd->net;
	enum heuristics_mode mode = qdevice_heur_mode(qd);

	v->poll_timer_running = vote_timer_running(&qd->vote);
	v->poll_cast_vote = qd->vote.vote == VOTE_ACK;
	v->heuristics_enabled = mode == HEURISTICS_MODE_ON || mode == HEURISTICS_MODE_SYNC;
	v->state = STATUS_STATE_DISCONNECTED;
	v->connected_since = v->echo_reply_received = (time_t)-1;
	if (n == NULL)
		return;
	switch (n->state) {
	case NET_STATE_IDLE:
		v->state = STATUS_STATE_DISCONNECTED;
		break;
	case NET_STATE_WAITING_CONNECT:
		v->state = n->connect_failed ? STATUS_STATE_CONNECT_FAILED :
		    STATUS_STATE_CONNECTING;
		break;
	case NET_STATE_CONNECTED:
		v->state = STATUS_STATE_CONNECTED;
		break;
	default:
		v->state = STATUS_STATE_CONNECTING;
		break;
	}
	v->server_supports_kap = n->caps.kap_tie_breaker;
	v->heuristics_latest = n->heur_latest;
	v->heuristics_regular = n->heur_regular;
	v->heuristics_membership = n->heur_membership;
	v->heuristics_connect = n->heur_connect;
	v->tls_active = n->tls_active;
	v->client_cert_sent = n->cert_sent;
	v->connected_since = n->connected_since;
	v->echo_reply_received = n->echo_time;
	if (n->peer_index > 0) {
		v->address = n->peer;
		v->address_host = n->peer_host;
		v->address_index = n->peer_index;
		v->address_count = n->peer_count;
	}
	v->cert_days_known = n->cert_days_known;
	v->cert_days_left = n->cert_days_left;
}
