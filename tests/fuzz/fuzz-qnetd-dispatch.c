/*
 * tests/fuzz/fuzz-qnetd-dispatch.c: qnetd's session handling under a
 * scripted, hostile session, without sockets (as tests/unit/
 * test-qnetd-dispatch.c drives it). The input is a settings prelude and a
 * list of operations on 3 client slots: raw messages, well-formed
 * messages built from a few bytes (so the fuzzer reaches INIT, node lists
 * and votes quickly), draining send queues, disconnects and turns of the
 * qb loop (deferred teardown, and timers when enabled).
 *
 * Checked after every operation: clusters, views and clients agree; send
 * queues stay within their cap; everything the server queued decodes and
 * fits the reply size. At the end every client leaves, all clusters must
 * be gone, and ASan/LSan see no leak (or, with the shutdown bit, the
 * instance is torn down as it stands).
 *
 * Input layout (all big-endian):
 *   byte 0	bits 0-1 tls (off, on, req, on), bit 2 client cert required,
 *		bit 3 keep-active-partition default, bits 4-5 send buffers
 *		(2, 3, 8, 32), bit 6 timers (heartbeat_interval_min = 1), bit 7
 *		dpd off
 *   byte 1	bits 0-1 max send size (32768, 16, 64, 200), bits 2-3 max
 *		receive size (32768, 16, 100, 1000), bit 4 end like a server
 *		shutdown (qnetd_instance_fini with clients, clusters and pending
 *		teardown jobs still there, as main() does on SIGTERM)
 *   then records: op (u8: bits 0-1 slot mod 3, bits 4-7 action), len (u16),
 *		len bytes of payload (cut short at the end of the input)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <qb/qblist.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>
#include <qb/qbmap.h>

#include "common/clock.h"
#include "qnetd/client.h"
#include "qnetd/cluster.h"
#include "qnetd/dispatch.h"
#include "qnetd/instance.h"
#include "fuzz.h"

#define SLOTS		3
#define MAX_OPS		256	/* bounds the work per input */
#define MAX_TIMER_MS	4

enum op_action {
	OP_RAW = 0,		/* payload = u16 type + option area; header built here */
	OP_PREINIT,
	OP_STARTTLS,
	OP_INIT,
	OP_NODE_LIST,
	OP_HEURISTICS_CHANGE,
	OP_ASK_FOR_VOTE,
	OP_VOTE_INFO_REPLY,
	OP_SET_OPTION,
	OP_ECHO,
	OP_DRAIN,		/* pop and check the queue; optionally answer VOTE_INFO */
	OP_DISCONNECT,
	OP_RUN_JOBS,
	OP_RUN_TIMERS,
	OP_COUNT
};

struct fuzz_ctx {
	qb_loop_t		*loop;
	struct qnetd_settings	 settings;
	struct qnetd_instance	 inst;
	uint64_t		 slot_id[SLOTS];	/* client id in each slot, 0 = none */
	uint32_t		 last_vote_info_seq[SLOTS];
	bool			 timers;
	bool			 shutdown;	/* end with qnetd_instance_fini() as is */
	int			 rounds;
	uint64_t		 deadline_ns;
};

static const char *const cluster_names[] = { "alpha", "beta", "Alpha" };

/* ---- logging: format every line, so bad format arguments show up ---- */

static void
log_sink(int32_t t, struct qb_log_callsite *cs, struct timespec *ts, const char *msg)
{
	volatile size_t n = strlen(msg);

	(void)t;
	(void)cs;
	(void)ts;
	(void)n;
}

static void
log_setup_once(void)
{
	static bool done;
	int32_t t;

	if (done)
		return;
	done = true;
	qb_log_init("fuzz-qnetd-dispatch", LOG_DAEMON, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	/* FUZZ_LOG=1 shows the daemon's log while reproducing an input. */
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED,
	    getenv("FUZZ_LOG") != NULL ? QB_TRUE : QB_FALSE);
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	t = qb_log_custom_open(log_sink, NULL, NULL, NULL);
	if (t >= 0) {
		qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
		qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
}

/* ---- clients in slots ---- */

static struct qnetd_client *
client_by_id(struct fuzz_ctx *x, uint64_t id)
{
	struct qnetd_client *c;

	if (id == 0)
		return NULL;
	qb_list_for_each_entry(c, &x->inst.conns.clients, list)
		if (c->id == id)
			return c;
	return NULL;
}

/* The slot's client, or a fresh connection when it is gone or closing. */
static struct qnetd_client *
slot_client(struct fuzz_ctx *x, unsigned slot)
{
	struct qnetd_client *c = client_by_id(x, x->slot_id[slot]);
	char addr[32];

	if (c != NULL && !c->closing)
		return c;
	snprintf(addr, sizeof(addr), "fuzz:%u", slot);
	c = qnetd_client_create(&x->inst.conns, NULL, addr);
	if (c == NULL)
		fuzz_fail("qnetd_client_create failed");
	x->slot_id[slot] = c->id;
	x->last_vote_info_seq[slot] = 0;
	return c;
}

/* ---- invariants ---- */

static void
check_queue(const struct qnetd_client *c, const struct qnetd_settings *s)
{
	const struct qnetd_send_item *item;
	size_t n = 0;

	qb_list_for_each_entry(item, &c->send_queue, list) {
		n++;
		if (item->len > s->max_client_send_size)
			fuzz_fail("%s: queued %zu bytes, over the reply limit %u", c->ident,
			    item->len, (unsigned)s->max_client_send_size);
		if (item->sent != 0)
			fuzz_fail("%s: nothing can have been sent without a socket", c->ident);
	}
	if (n != c->send_queue_len)
		fuzz_fail("%s: send_queue_len %zu, list holds %zu", c->ident,
		    c->send_queue_len, n);
	if (n > s->max_client_send_buffers)
		fuzz_fail("%s: %zu queued messages, over the cap %u", c->ident, n,
		    (unsigned)s->max_client_send_buffers);
}

static void
check_cluster(struct fuzz_ctx *x, const struct qnetd_cluster *cl)
{
	for (size_t i = 0; i < cl->view.count; i++) {
		const struct qnetd_client *o = qnetd_client_of(cl->view.clients[i]);

		if (o->cluster != cl)
			fuzz_fail("cluster %s lists %s, which points elsewhere", cl->name, o->ident);
		if (client_by_id(x, o->id) != o)
			fuzz_fail("cluster %s lists a client that is gone", cl->name);
		if (i > 0 && cl->view.clients[i - 1]->node_id >= cl->view.clients[i]->node_id)
			fuzz_fail("cluster %s: view not sorted or node id %u twice", cl->name,
			    (unsigned)cl->view.clients[i]->node_id);
	}
	if (cl->view.count == 0)
		fuzz_fail("cluster %s is empty but still exists", cl->name);
}

static void
check_invariants(struct fuzz_ctx *x)
{
	struct qnetd_client *c;
	qb_map_iter_t *it;
	const char *key;
	void *value;
	uint32_t clients = 0, clusters = 0;

	qb_list_for_each_entry(c, &x->inst.conns.clients, list) {
		clients++;
		check_queue(c, &x->settings);
		if (c->cluster == NULL)
			continue;
		if (!c->init_received)
			fuzz_fail("%s: in a cluster without a successful INIT", c->ident);
		if (qnetd_cluster_find(&x->inst, c->cluster_name) != c->cluster)
			fuzz_fail("%s: cluster pointer and name disagree", c->ident);
		if (c->cluster_name_len != strlen(c->cluster_name))
			fuzz_fail("%s: cluster name length is wrong", c->ident);
	}
	if (clients != x->inst.conns.count)
		fuzz_fail("client_count %u, list holds %u", (unsigned)x->inst.conns.count,
		    (unsigned)clients);
	it = qb_map_iter_create(x->inst.clusters);
	if (it == NULL)
		fuzz_fail("qb_map_iter_create failed");
	while ((key = qb_map_iter_next(it, &value)) != NULL) {
		const struct qnetd_cluster *cl = value;

		clusters++;
		if (strcmp(key, cl->name) != 0)
			fuzz_fail("cluster map key %s holds cluster %s", key, cl->name);
		check_cluster(x, cl);
	}
	qb_map_iter_free(it);
	if (clusters != x->inst.cluster_count)
		fuzz_fail("cluster_count %u, map holds %u", (unsigned)x->inst.cluster_count,
		    (unsigned)clusters);
}

/* ---- feeding messages ---- */

/*
 * What client.c hands to dispatch: the header as announced and exactly
 * that many bytes. Types and sizes that client.c refuses before dispatch
 * (docs/protocol.md 2.4 first rows) never get here.
 */
static void
feed_raw(struct fuzz_ctx *x, struct qnetd_client *c, uint16_t type, const uint8_t *body,
    size_t body_len)
{
	uint8_t *buf;

	if (!msg_type_valid(type) || x->settings.max_client_receive_size < MSG_HEADER_LEN ||
	    body_len > x->settings.max_client_receive_size - MSG_HEADER_LEN)
		return;
	buf = malloc(MSG_HEADER_LEN + body_len + 1);
	if (buf == NULL)
		fuzz_fail("out of memory");
	store_be16(buf, type);
	store_be32(buf + 2, (uint32_t)body_len);
	if (body_len > 0)
		memcpy(buf + MSG_HEADER_LEN, body, body_len);
	qnetd_dispatch(c, buf, MSG_HEADER_LEN + body_len);
	free(buf);
}

static void
feed_msg(struct fuzz_ctx *x, struct qnetd_client *c, const struct msg *m)
{
	struct tlv_buf b;

	tlv_buf_init(&b, 1 << 20);
	if (msg_encode(m, &b) != 0)
		fuzz_fail("the harness built an unencodable %s", msg_type_name(m->type));
	feed_raw(x, c, m->type, b.data + MSG_HEADER_LEN, b.len - MSG_HEADER_LEN);
	tlv_buf_fini(&b);
}

/* Payload reader: missing bytes read as zero. */
struct reader {
	const uint8_t	*p;
	size_t		 left;
};

static uint8_t
rd8(struct reader *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

static uint32_t
rd32(struct reader *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = (v << 8) | rd8(r);
	return v;
}

/* Heartbeats around the edges of [1000, 120000], and tiny ones for timer runs. */
static uint32_t
pick_heartbeat(uint8_t sel)
{
	static const uint32_t hb[] = { 8000, 1000, 120000, 999, 120001, 0, 4, 1 };

	return hb[sel % (sizeof(hb) / sizeof(hb[0]))];
}

static void
op_preinit(struct fuzz_ctx *x, struct qnetd_client *c, struct reader *r)
{
	uint8_t sel = rd8(r);
	struct msg m;

	msg_init(&m, MSG_TYPE_PREINIT);
	m.seq_set = !(sel & 0x80);
	m.seq = rd32(r);
	m.cluster_name_set = true;
	if ((sel & 0x40) && r->left > 0) {
		/* any name the fuzzer likes: NULs, empty, very long */
		m.cluster_name = r->p;
		m.cluster_name_len = r->left;
		r->left = 0;
	} else {
		const char *name = cluster_names[sel % 3];

		m.cluster_name = (const uint8_t *)name;
		m.cluster_name_len = strlen(name);
	}
	feed_msg(x, c, &m);
}

static void
op_init(struct fuzz_ctx *x, struct qnetd_client *c, struct reader *r)
{
	uint8_t node = rd8(r), algo = rd8(r), tb = rd8(r), hb = rd8(r), drop = rd8(r);
	static const uint16_t some_lists[] = { 0, 1, 2, 3, 99 };
	struct msg m;

	msg_init(&m, MSG_TYPE_INIT);
	m.seq_set = !(drop & 0x01);
	m.seq = rd32(r);
	m.node_id_set = !(drop & 0x02);
	m.node_id = (node & 0x80) ? rd32(r) : 1u + node % 4;
	m.ring_id_set = !(drop & 0x04);
	m.ring_id.node_id = 1u + (node >> 2) % 4;
	m.ring_id.seq = (node >> 4) % 4;
	m.heartbeat_interval_set = !(drop & 0x08);
	m.heartbeat_interval = x->timers && (hb & 0x80) ? 1u + hb % 8 : pick_heartbeat(hb);
	m.tie_breaker_set = !(drop & 0x10);
	m.tie_breaker.mode = (uint8_t)(TIE_BREAKER_LOWEST + tb % 3);
	m.tie_breaker.node_id = 1u + (tb >> 2) % 4;
	m.algorithm_set = !(drop & 0x20);
	m.algorithm = (algo & 0x80) ? (uint16_t)(algo << 8 | algo) : (uint16_t)(algo % 5);
	if (drop & 0x40) {
		m.supported_messages_set = true;
		m.supported_messages = (uint16_t *)some_lists;
		m.supported_messages_count = 5;
	}
	if (drop & 0x80) {
		m.supported_options_set = true;
		m.supported_options = (uint16_t *)some_lists;
		m.supported_options_count = 3;
	}
	feed_msg(x, c, &m);
}

static void
op_node_list(struct fuzz_ctx *x, struct qnetd_client *c, struct reader *r)
{
	uint8_t type = rd8(r), ring = rd8(r), flags = rd8(r);
	struct msg m;

	msg_init(&m, MSG_TYPE_NODE_LIST);
	m.seq_set = !(flags & 0x01);
	m.seq = rd32(r);
	m.node_list_type_set = !(flags & 0x02);
	m.node_list_type = type % 4;
	/* the upstream client's variants (docs/protocol.md 1.8), give or take an option */
	m.ring_id_set = (m.node_list_type == NODE_LIST_MEMBERSHIP) != !!(flags & 0x04);
	m.ring_id.node_id = 1u + ring % 4;
	m.ring_id.seq = ring >> 2;
	m.config_version_set = (flags & 0x08) != 0;
	m.config_version = ring;
	m.quorate_set = (m.node_list_type == NODE_LIST_QUORUM) != !!(flags & 0x10);
	m.quorate = (flags >> 5) & 1;
	m.heuristics_set = (flags & 0x40) != 0;
	m.heuristics = (flags & 0x80) ? HEURISTICS_FAIL : HEURISTICS_PASS;
	/* one byte per node: id 1..4 (or a large one), data center, state */
	while (r->left > 0 && m.nodes.count < 64) {
		uint8_t b = rd8(r);
		struct node_info n = {
			.node_id = (b & 0x80) ? 0x10000u + b : 1u + (b & 3),
			.data_center_id = (b >> 2) & 1,
			.node_state = m.node_list_type == NODE_LIST_QUORUM ? 1 + (b >> 3) % 3 : 0,
		};

		if (node_list_add(&m.nodes, &n) != 0)
			fuzz_fail("out of memory");
	}
	feed_msg(x, c, &m);
	node_list_fini(&m.nodes);
}

static void
op_small(struct fuzz_ctx *x, unsigned slot, struct qnetd_client *c, enum op_action a,
    struct reader *r)
{
	uint8_t flags = rd8(r);
	struct msg m;

	switch (a) {
	case OP_STARTTLS:
		msg_init(&m, MSG_TYPE_STARTTLS);
		break;
	case OP_HEURISTICS_CHANGE:
		msg_init(&m, MSG_TYPE_HEURISTICS_CHANGE);
		m.heuristics_set = !(flags & 0x02);
		m.heuristics = (flags & 0x04) ? HEURISTICS_FAIL : HEURISTICS_PASS;
		break;
	case OP_ASK_FOR_VOTE:
		msg_init(&m, MSG_TYPE_ASK_FOR_VOTE);
		break;
	case OP_VOTE_INFO_REPLY:
		msg_init(&m, MSG_TYPE_VOTE_INFO_REPLY);
		break;
	case OP_SET_OPTION:
		msg_init(&m, MSG_TYPE_SET_OPTION);
		m.heartbeat_interval_set = (flags & 0x02) != 0;
		m.heartbeat_interval = pick_heartbeat(flags >> 4);
		m.kap_tie_breaker_set = (flags & 0x04) != 0;
		m.kap_tie_breaker = (flags >> 3) & 1;
		break;
	default:
		msg_init(&m, MSG_TYPE_ECHO_REQUEST);
		break;
	}
	m.seq_set = !(flags & 0x01);
	m.seq = rd32(r);
	if (a == OP_VOTE_INFO_REPLY && (flags & 0x08))
		m.seq = x->last_vote_info_seq[slot];
	feed_msg(x, c, &m);
}

/* Pop everything queued for the slot; each message must decode. */
static void
op_drain(struct fuzz_ctx *x, unsigned slot, bool answer)
{
	struct qnetd_client *c = client_by_id(x, x->slot_id[slot]);
	uint32_t acks[64];
	size_t nacks = 0;

	if (c == NULL)
		return;
	while (!qb_list_empty(&c->send_queue)) {
		struct qnetd_send_item *item =
		    qb_list_first_entry(&c->send_queue, struct qnetd_send_item, list);
		struct msg m;
		int r = msg_decode(item->data, item->len, &m);

		if (r != 0)
			fuzz_fail("%s: the server queued an undecodable %s (%zu bytes): %s",
			    c->ident, msg_type_name(msg_header_type(item->data)), item->len,
			    msg_decode_error_name(r));
		if (m.type == MSG_TYPE_VOTE_INFO) {
			if (!m.seq_set || !m.vote_set || !m.ring_id_set)
				fuzz_fail("%s: VOTE_INFO without seq, vote or ring id", c->ident);
			x->last_vote_info_seq[slot] = m.seq;
			if (nacks < sizeof(acks) / sizeof(acks[0]))
				acks[nacks++] = m.seq;
		}
		if (m.type == MSG_TYPE_SERVER_ERROR && !m.reply_error_code_set)
			fuzz_fail("%s: SERVER_ERROR without a code", c->ident);
		msg_fini(&m);
		qb_list_del(&item->list);
		c->send_queue_len--;
		free(item);
	}
	/* An upstream client answers every VOTE_INFO (docs/protocol.md 2.9). */
	for (size_t i = 0; answer && i < nacks && !c->closing; i++) {
		struct msg m;

		msg_init(&m, MSG_TYPE_VOTE_INFO_REPLY);
		m.seq_set = true;
		m.seq = acks[i];
		feed_msg(x, c, &m);
	}
}

/* ---- the loop ---- */

static bool
any_closing(struct fuzz_ctx *x)
{
	struct qnetd_client *c;

	qb_list_for_each_entry(c, &x->inst.conns.clients, list)
		if (c->closing)
			return true;
	return false;
}

/*
 * A zero-delay timer, not a job: libqb waits 50 ms in epoll when only jobs
 * are pending, while an expired timer makes it poll without waiting.
 */
static void
jobs_check(void *data)
{
	struct fuzz_ctx *x = data;
	qb_loop_timer_handle t;

	if (any_closing(x) && ++x->rounds < 1000 &&
	    qb_loop_timer_add(x->loop, QB_LOOP_LOW, 0, x, jobs_check, &t) == 0)
		return;
	qb_loop_stop(x->loop);
}

/* Run the loop until every scheduled teardown has happened. */
static void
run_jobs(struct fuzz_ctx *x)
{
	qb_loop_timer_handle t;

	x->rounds = 0;
	if (qb_loop_timer_add(x->loop, QB_LOOP_LOW, 0, x, jobs_check, &t) != 0)
		fuzz_fail("qb_loop_timer_add failed");
	qb_loop_run(x->loop);
	if (any_closing(x))
		fuzz_fail("teardown jobs did not run");
}

/*
 * Spin the loop with zero-delay ticks until the deadline: a plain
 * stop timer would let libqb sleep 50 ms whenever only a teardown job
 * is pending.
 */
static void
timers_tick(void *data)
{
	struct fuzz_ctx *x = data;
	qb_loop_timer_handle t;

	if (clock_now_ns() < x->deadline_ns &&
	    qb_loop_timer_add(x->loop, QB_LOOP_LOW, 0, x, timers_tick, &t) == 0)
		return;
	qb_loop_stop(x->loop);
}

/* Let real time pass so tiny dead-peer and lms timers fire (timers mode only). */
static void
run_timers(struct fuzz_ctx *x, uint8_t ms)
{
	qb_loop_timer_handle t;

	if (!x->timers)
		return;
	x->deadline_ns = clock_now_ns() + (uint64_t)(ms % (MAX_TIMER_MS + 1)) * NS_PER_MS;
	if (qb_loop_timer_add(x->loop, QB_LOOP_LOW, 0, x, timers_tick, &t) != 0)
		fuzz_fail("qb_loop_timer_add failed");
	qb_loop_run(x->loop);
	run_jobs(x);
}

/* ---- one input ---- */

static void
ctx_setup(struct fuzz_ctx *x, uint8_t cfg0, uint8_t cfg1)
{
	static const uint32_t send_bufs[] = { 2, 3, 8, 32 };
	static const uint32_t send_size[] = { 32768, 16, 64, 200 };
	static const uint32_t recv_size[] = { 32768, 16, 100, 1000 };
	static const enum qnetd_tls tls[] = {
		QNETD_TLS_OFF, QNETD_TLS_ON, QNETD_TLS_REQUIRED, QNETD_TLS_ON,
	};

	memset(x, 0, sizeof(*x));
	x->loop = qb_loop_create();
	if (x->loop == NULL)
		fuzz_fail("qb_loop_create failed");
	qnetd_settings_defaults(&x->settings);
	x->settings.tls = tls[cfg0 & 3];
	x->settings.client_cert_required = (cfg0 & 0x04) != 0;
	x->settings.keep_active_partition_tie_breaker = (cfg0 & 0x08) != 0;
	x->settings.max_client_send_buffers = send_bufs[(cfg0 >> 4) & 3];
	x->timers = (cfg0 & 0x40) != 0;
	if (x->timers)
		x->settings.heartbeat_interval_min = 1;
	x->settings.dpd_enabled = !(cfg0 & 0x80);
	x->settings.max_client_send_size = send_size[cfg1 & 3];
	x->settings.max_client_receive_size = recv_size[(cfg1 >> 2) & 3];
	x->shutdown = (cfg1 & 0x10) != 0;
	if (qnetd_instance_init(&x->inst, &x->settings, x->loop) != 0)
		fuzz_fail("qnetd_instance_init failed");
}

static void
ctx_teardown(struct fuzz_ctx *x)
{
	struct qnetd_client *c, *next;

	for (unsigned i = 0; i < SLOTS; i++)
		op_drain(x, i, false);
	if (x->shutdown)
		goto fini;
	/* Every client leaves the way a dropped connection does. */
	qb_list_for_each_entry_safe(c, next, &x->inst.conns.clients, list)
		qnetd_client_disconnect(c, "fuzz input done");
	run_jobs(x);
	check_invariants(x);
	if (x->inst.conns.count != 0 || x->inst.cluster_count != 0)
		fuzz_fail("%u clients and %u clusters left after everyone left",
		    (unsigned)x->inst.conns.count, (unsigned)x->inst.cluster_count);
fini:
	qnetd_instance_fini(&x->inst);
	qb_loop_destroy(x->loop);
	qnetd_settings_fini(&x->settings);
}

int
fuzz_qnetd_dispatch_one(const uint8_t *data, size_t size)
{
	struct fuzz_ctx x;
	size_t pos = 2;
	int ops = 0;

	if (size < 2)
		return 0;
	log_setup_once();
	ctx_setup(&x, data[0], data[1]);
	while (pos + 3 <= size && ops++ < MAX_OPS) {
		uint8_t op = data[pos];
		size_t len = load_be16(data + pos + 1);
		unsigned slot = (op & 3) % SLOTS;
		enum op_action a = (enum op_action)((op >> 4) % OP_COUNT);
		struct reader r;
		struct qnetd_client *c = NULL;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		r.p = data + pos;
		r.left = len;
		pos += len;
		if (a < OP_DRAIN)
			c = slot_client(&x, slot);
		switch (a) {
		case OP_RAW:
			if (len >= 2)
				feed_raw(&x, c, load_be16(r.p), r.p + 2, len - 2);
			break;
		case OP_PREINIT:
			op_preinit(&x, c, &r);
			break;
		case OP_INIT:
			op_init(&x, c, &r);
			break;
		case OP_NODE_LIST:
			op_node_list(&x, c, &r);
			break;
		case OP_STARTTLS:
		case OP_HEURISTICS_CHANGE:
		case OP_ASK_FOR_VOTE:
		case OP_VOTE_INFO_REPLY:
		case OP_SET_OPTION:
		case OP_ECHO:
			op_small(&x, slot, c, a, &r);
			break;
		case OP_DRAIN:
			op_drain(&x, slot, len > 0 && (r.p[0] & 1));
			break;
		case OP_DISCONNECT:
			c = client_by_id(&x, x.slot_id[slot]);
			if (c != NULL)
				qnetd_client_disconnect(c, "fuzz disconnect");
			break;
		case OP_RUN_JOBS:
			run_jobs(&x);
			break;
		case OP_RUN_TIMERS:
			run_timers(&x, len > 0 ? r.p[0] : 0);
			break;
		default:
			break;
		}
		check_invariants(&x);
	}
	ctx_teardown(&x);
	return 0;
}
