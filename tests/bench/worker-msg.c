/*
 * tests/bench/worker-msg.c: the messages a bench client sends, built as
 * upstream's client builds them (docs/protocol.md 2.2), and the server's
 * replies: handshake, echoes, votes. No sockets here: this queues bytes
 * and worker-conn.c moves them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/msg-builders.h"
#include "worker.h"

/* ---- sending ---- */

static int
queue_msg(struct bclient *c, const struct msg *m)
{
	return msg_encode(m, &c->out);
}

static void
fill_nodes(const struct bcluster *cl, uint32_t node_id, int kind, struct node_info *arr,
    struct node_list *l)
{
	int side = side_of(cl, node_id);

	l->nodes = arr;
	l->count = 0;
	l->cap = BENCH_MAX_NODES;
	for (uint32_t id = 1; id <= cl->n; id++) {
		struct node_info *ni = &arr[l->count];
		bool member = side_of(cl, id) == side;

		memset(ni, 0, sizeof(*ni));
		ni->node_id = id;
		if (kind == NODE_LIST_MEMBERSHIP && !member)
			continue;
		if (kind == NODE_LIST_QUORUM)
			ni->node_state = member ? NODE_STATE_MEMBER : NODE_STATE_DEAD;
		l->count++;
	}
}

/* A node list as upstream's client builds it (docs/protocol.md 1.8). */
int
queue_node_list(struct bclient *c, uint8_t type)
{
	struct node_info arr[BENCH_MAX_NODES];
	const struct bcluster *cl = c->cl;
	struct msg m;
	int side = side_of(cl, c->node_id);
	unsigned members = 0;

	msgb_seq(&m, MSG_TYPE_NODE_LIST, ++c->seq);
	m.node_list_type_set = true;
	m.node_list_type = type;
	switch (type) {
	case NODE_LIST_INITIAL_CONFIG:
		m.config_version_set = true;
		m.config_version = 1;
		fill_nodes(cl, c->node_id, type, arr, &m.nodes);
		break;
	case NODE_LIST_MEMBERSHIP:
		m.ring_id_set = true;
		m.ring_id = c->ring;
		fill_nodes(cl, c->node_id, type, arr, &m.nodes);
		break;
	default:
		for (uint32_t id = 1; id <= cl->n; id++)
			members += side_of(cl, id) == side;
		m.quorate_set = true;
		m.quorate = 2 * members > cl->n;
		fill_nodes(cl, c->node_id, type, arr, &m.nodes);
		break;
	}
	return queue_msg(c, &m);	/* m.nodes is on our stack: no msg_fini */
}

int
queue_preinit(struct bclient *c)
{
	struct msg m;

	/* PREINIT reuses the current value (docs/protocol.md 2.6) */
	msgb_preinit(&m, c->seq, c->cl->name);
	c->expect_seq = m.seq;
	return queue_msg(c, &m);
}

int
queue_init(struct worker *w, struct bclient *c)
{
	struct msg m;

	msgb_init(&m, ++c->seq, c->node_id, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, w->o->hb_ms);
	msgb_supported_lists(&m);
	m.ring_id = c->ring;
	c->expect_seq = m.seq;
	return queue_msg(c, &m);	/* arrays are static: no msg_fini */
}

static int
queue_set_option_kap(struct bclient *c)
{
	struct msg m;

	msgb_seq(&m, MSG_TYPE_SET_OPTION, ++c->seq);
	m.kap_tie_breaker_set = true;
	m.kap_tie_breaker = 1;	/* upstream client default */
	return queue_msg(c, &m);
}

/* STARTTLS, ECHO_REQUEST, VOTE_INFO_REPLY: messages that carry only their seq. */
int
queue_seq_only(struct bclient *c, uint16_t type, uint32_t seq)
{
	struct msg m;

	msgb_seq(&m, type, seq);
	return queue_msg(c, &m);
}

/* ---- receiving ---- */

static bool
lists_option(const struct msg *m, uint16_t opt)
{
	for (size_t i = 0; i < m->supported_options_count; i++)
		if (m->supported_options[i] == opt)
			return true;
	return false;
}

static int
on_preinit_reply(struct worker *w, struct bclient *c, const struct msg *m)
{
	bool tls;

	if (c->state != CS_WAIT_PREINIT_REPLY || !m->seq_set || m->seq != c->expect_seq ||
	    !m->tls_supported_set || !m->tls_client_cert_required_set) {
		w->st->proto_errors++;
		return -EPROTO;
	}
	/* docs/protocol.md 2.3 table, with the client at "on" (--tls) or "off" */
	if (m->tls_supported == TLS_REQUIRED && !w->o->tls) {
		report(w, c, "server requires TLS", "run with --tls");
		return -EPERM;
	}
	if (m->tls_supported == TLS_UNSUPPORTED && w->o->tls) {
		report(w, c, "server has TLS off", "run with --no-tls");
		return -EPERM;
	}
	tls = w->o->tls;
	if (tls) {
		c->state = CS_STARTTLS_SENDING;
		return queue_seq_only(c, MSG_TYPE_STARTTLS, ++c->seq);
	}
	c->state = CS_WAIT_INIT_REPLY;
	return queue_init(w, c);
}

static int
on_init_reply(struct worker *w, struct bclient *c, const struct msg *m, uint64_t now)
{
	char buf[64];

	if (c->state != CS_WAIT_INIT_REPLY || !m->seq_set || m->seq != c->expect_seq ||
	    !m->reply_error_code_set) {
		w->st->proto_errors++;
		return -EPROTO;
	}
	if (m->reply_error_code != REPLY_NO_ERROR) {
		w->st->server_errors++;
		snprintf(buf, sizeof(buf), "%s", reply_error_code_name(m->reply_error_code));
		report(w, c, "INIT refused", buf);
		return -EPROTO;
	}
	hist_add(&w->st->handshake, now - c->connect_start_ns);
	if (failing_over(w)) {
		w->st->fo_handshakes++;
		w->st->fo_tls_done += c->tls_done;
	}
	if (m->supported_options_set && lists_option(m, OPT_KEEP_ACTIVE_PARTITION_TIE_BREAKER) &&
	    queue_set_option_kap(c) != 0)
		return -EIO;
	if (queue_node_list(c, NODE_LIST_INITIAL_CONFIG) != 0 ||
	    queue_node_list(c, NODE_LIST_MEMBERSHIP) != 0 ||
	    queue_node_list(c, NODE_LIST_QUORUM) != 0)
		return -EIO;
	w->inflight--;
	c->state = CS_CONNECTED;
	c->attempts = 0;
	c->echo_seq = 0;
	c->echo_outstanding = false;
	atomic_fetch_add(&w->st->connected, 1);
	atomic_fetch_add(&w->st->ever_connected, 1);
	w->st->last_connected_ns = now;
	check_ramp_done(w);
	/* heartbeats start at a random phase so the load is even */
	timer_set(w, c, now + rnd(w) % w->hb_ns + 1);
	return 0;
}

static void
on_echo_reply(struct worker *w, struct bclient *c, const struct msg *m, uint64_t now)
{
	uint32_t age;

	if (!m->seq_set)
		return;
	age = c->echo_seq - m->seq;
	if (age >= 4)
		return;		/* older than we remember */
	if (age == 0)
		c->echo_outstanding = false;
	if (measuring(w)) {
		w->st->echo_answered++;
		hist_add(&w->st->rtt, now - c->echo_sent_ns[m->seq % 4]);
	}
}

/* One whole message from the server. 0, or <0 to drop the connection. */
static int
handle_msg(struct worker *w, struct bclient *c, const uint8_t *buf, size_t len, uint64_t now)
{
	struct msg m;
	int r = 0;

	if (msg_decode(buf, len, &m) != 0) {
		msg_fini(&m);
		w->st->proto_errors++;
		report(w, c, "undecodable message from the server", NULL);
		return -EBADMSG;
	}
	switch (m.type) {
	case MSG_TYPE_ECHO_REPLY:
		on_echo_reply(w, c, &m, now);
		break;
	case MSG_TYPE_PREINIT_REPLY:
		r = on_preinit_reply(w, c, &m);
		break;
	case MSG_TYPE_INIT_REPLY:
		r = on_init_reply(w, c, &m, now);
		break;
	case MSG_TYPE_SERVER_ERROR:
		w->st->server_errors++;
		report(w, c, "SERVER_ERROR", m.reply_error_code_set ?
		    reply_error_code_name(m.reply_error_code) : "no code");
		r = -EPROTO;
		break;
	case MSG_TYPE_SET_OPTION_REPLY:
		break;
	case MSG_TYPE_NODE_LIST_REPLY:
		if (c->state != CS_CONNECTED) {
			r = -EPROTO;
			break;
		}
		if (m.vote_set && m.ring_id_set)
			note_vote(w, c, m.vote, &m.ring_id, now);
		break;
	case MSG_TYPE_VOTE_INFO:
		if (c->state != CS_CONNECTED || !m.seq_set || !m.vote_set || !m.ring_id_set) {
			w->st->proto_errors++;
			r = -EPROTO;
			break;
		}
		if (measuring(w))
			w->st->vote_infos++;
		r = queue_seq_only(c, MSG_TYPE_VOTE_INFO_REPLY, m.seq);
		note_vote(w, c, m.vote, &m.ring_id, now);
		break;
	default:
		w->st->proto_errors++;
		report(w, c, "unexpected message", msg_type_name(m.type));
		r = -EPROTO;
		break;
	}
	msg_fini(&m);
	return r;
}

/* Split the input into whole messages. */
int
parse_input(struct worker *w, struct bclient *c, uint64_t now)
{
	size_t off = 0;
	int r = 0;

	while (c->in_len - off >= MSG_HEADER_LEN) {
		uint32_t len = msg_header_length(c->in + off);

		if (len > QNET_DEFAULT_MAX_MSG_SIZE - MSG_HEADER_LEN) {
			w->st->proto_errors++;
			return -EMSGSIZE;
		}
		if (c->in_len - off - MSG_HEADER_LEN < len)
			break;
		r = handle_msg(w, c, c->in + off, MSG_HEADER_LEN + len, now);
		off += MSG_HEADER_LEN + len;
		if (r < 0)
			return r;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return 0;
}
