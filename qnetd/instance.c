/* qnetd/instance.c: the listening socket and the server's lifetime. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "common/clock.h"
#include "client.h"
#include "cluster.h"
#include "instance.h"
#include "session.h"
#include "shard.h"

static const struct accept_gate_ops gate_ops;

const uint32_t qnetd_latency_bounds_ms[QNETD_LATENCY_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000,
};

void
qnetd_stats_observe_latency(struct qnetd_instance *inst, uint64_t ns)
{
	struct qnetd_stats *st = &inst->stats;
	size_t i;

	for (i = 0; i < QNETD_LATENCY_BUCKETS; i++)
		if (ns <= (uint64_t)qnetd_latency_bounds_ms[i] * NS_PER_MS)
			break;
	st->latency_buckets[i]++;
	st->latency_count++;
	st->latency_sum_s += (double)ns / (double)NS_PER_S;
}

int
qnetd_instance_init(struct qnetd_instance *inst, struct qnetd_settings *s, qb_loop_t *loop)
{
	int r;

	memset(inst, 0, sizeof(*inst));
	inst->settings = s;
	inst->loop = loop;
	inst->started_ns = clock_now_ns();
	inst->shard_fd = -1;
	accept_gate_init(&inst->conns.gate, loop, &gate_ops, inst);
	r = qnetd_conns_init(&inst->conns, s, loop, &qnetd_session_ops, &inst->stats.conn);
	if (r != 0)
		return r;
	return qnetd_clusters_init(inst);
}

uint32_t
qnetd_instance_total_clients(const struct qnetd_instance *inst)
{
	return inst->conns.count + (inst->front != NULL ? shard_front_clients(inst->front) : 0);
}

#define ACCEPT_PAUSE_MS	200

static int	accept_ready(int fd, int revents, void *data);

/* The listener is watched unless accept() failed recently or handshakes are capped. */
static bool
listener_watched(const struct qnetd_instance *inst)
{
	return !inst->accept_paused && !inst->accept_gated;
}

static void
watch_listener(struct qnetd_instance *inst)
{
	if (qb_loop_poll_add(inst->loop, QB_LOOP_HIGH, nss_sock_native_fd(inst->listener),
	    POLLIN, inst, accept_ready) != 0)
		qb_log(LOG_ERR, "cannot watch the listening socket again");
}

static void
resume_accepting(void *data)
{
	struct qnetd_instance *inst = data;

	inst->accept_paused = false;
	if (listener_watched(inst))
		watch_listener(inst);
}

/*
 * A TLS handshake costs milliseconds of CPU (and more with every TLS
 * connection NSS holds), all on the one thread that also answers every
 * heartbeat. After a restart thousands of qdevices reconnect at once: with
 * no cap their handshakes would starve the heartbeats of the clients
 * already connected until those are dropped and reconnect too. At the cap
 * new connections wait in the kernel's listen queue instead.
 */
uint32_t
qnetd_instance_gate_cap(const struct qnetd_instance *inst)
{
	return ACCEPT_GATE_PLACES * (inst->front != NULL ? inst->front->count : 1);
}

/* The gate's count moved: tell the front (worker), or open/close the listener. */
static void
gate_blocking_changed(struct accept_gate *g, uint32_t before, uint32_t after)
{
	struct qnetd_instance *inst = g->owner;
	uint32_t cap = qnetd_instance_gate_cap(inst);

	/* A worker's count closes the front's listener. */
	for (uint32_t n = before; n < after; n++)
		shard_worker_notify(inst, SHARD_MSG_HS_BEGIN);
	for (uint32_t n = after; n < before; n++)
		shard_worker_notify(inst, SHARD_MSG_HS_END);
	if (inst->listener == NULL || inst->shutting_down)
		return;
	if (after >= cap && !inst->accept_gated) {
		qb_log(LOG_DEBUG, "TLS handshakes from %u addresses hold places: not accepting "
		    "until one ends", (unsigned)after);
		if (listener_watched(inst))
			qb_loop_poll_del(inst->loop, nss_sock_native_fd(inst->listener));
		inst->accept_gated = true;
	} else if (after < cap && inst->accept_gated) {
		inst->accept_gated = false;
		if (listener_watched(inst))
			watch_listener(inst);
	}
}

static const struct accept_gate_ops gate_ops = {
	.has_input = qnetd_client_gate_has_input,
	.lost_place = qnetd_client_gate_lost_place,
	.blocking_changed = gate_blocking_changed,
};

/*
 * accept() failed (typically EMFILE): the connection stays pending, so the
 * level-triggered listener would wake us again at once. Stop watching it
 * for a while instead of spinning and flooding the log.
 */
static void
pause_accepting(struct qnetd_instance *inst, int fd)
{
	qb_log(LOG_WARNING, "accept failed: %s; not accepting for %d ms", nss_sock_error(),
	    ACCEPT_PAUSE_MS);
	qb_loop_poll_del(inst->loop, fd);
	if (qb_loop_timer_add(inst->loop, QB_LOOP_HIGH, ACCEPT_PAUSE_MS * 1000000ULL, inst,
	    resume_accepting, &inst->accept_timer) == 0)
		inst->accept_paused = true;
	else
		resume_accepting(inst);
}

static int
accept_ready(int fd, int revents, void *data)
{
	struct qnetd_instance *inst = data;
	const struct qnetd_settings *s = inst->settings;

	/* Accept everything pending: one wakeup may stand for many connections. */
	for (;;) {
		struct qnetd_client *c;
		PRFileDesc *cfd;
		char addr[80];
		int r = nss_sock_accept(inst->listener, &cfd, addr, sizeof(addr));

		if (r == -EAGAIN)
			break;
		if (r != 0) {
			pause_accepting(inst, fd);
			break;
		}
		if (s->max_clients != 0 && qnetd_instance_total_clients(inst) >= s->max_clients) {
			qb_log(LOG_WARNING, "client %s refused: maximum of %u clients reached",
			    addr, (unsigned)s->max_clients);
			inst->stats.clients_refused++;
			nss_sock_close(cfd);
			continue;
		}
		c = qnetd_client_start(&inst->conns, cfd, addr);
		if (c == NULL)
			continue;
		inst->stats.clients_accepted++;
		qb_log(LOG_INFO, "%s: connected", c->ident);
	}
	return 0;
}

int
qnetd_instance_listen(struct qnetd_instance *inst)
{
	const struct qnetd_settings *s = inst->settings;
	int r;

	r = nss_sock_listen(s->listen_addr, s->port, s->ip_version, (int)s->listen_backlog,
	    &inst->listener);
	if (r != 0)
		return r;
	r = qb_loop_poll_add(inst->loop, QB_LOOP_HIGH, nss_sock_native_fd(inst->listener),
	    POLLIN, inst, accept_ready);
	if (r != 0) {
		nss_sock_close(inst->listener);
		inst->listener = NULL;
	}
	return r;
}

void
qnetd_instance_fini(struct qnetd_instance *inst)
{
	struct qnetd_client *c, *next;
	bool paused;

	inst->shutting_down = true;
	qb_list_for_each_entry_safe(c, next, &inst->conns.clients, list) {
		qnetd_cluster_leave(c, true);
		qnetd_client_destroy(c);
	}
	qnetd_clusters_fini(inst);
	qnetd_conns_fini(&inst->conns);
	paused = !listener_watched(inst);
	if (inst->accept_paused) {
		qb_loop_timer_del(inst->loop, inst->accept_timer);
		inst->accept_paused = false;
	}
	accept_gate_fini(&inst->conns.gate);
	inst->accept_gated = false;
	if (inst->listener != NULL) {
		if (inst->loop != NULL && !paused)
			qb_loop_poll_del(inst->loop, nss_sock_native_fd(inst->listener));
		nss_sock_close(inst->listener);
		inst->listener = NULL;
	}
	if (inst->conns.tls_loaded) {
		nss_server_tls_fini(&inst->tls);
		inst->conns.tls_loaded = false;
	}
	if (inst->shard_retry_armed) {
		qb_loop_timer_del(inst->loop, inst->shard_retry);
		inst->shard_retry_armed = false;
	}
	if (inst->shard_fd >= 0) {
		if (inst->loop != NULL)
			qb_loop_poll_del(inst->loop, inst->shard_fd);
		close(inst->shard_fd);
		inst->shard_fd = -1;
	}
	free(inst->shard_buf);
	inst->shard_buf = NULL;
}
