/*
 * tests/bench/worker.c: one bench worker's epoll loop: setup, the timer
 * heap (one entry per client: next echo, retry or handshake deadline),
 * paced connects, heartbeats, phase changes. A loop turn is
 * O(ready fds + due timers * log clients). worker.h says what the other
 * worker-*.c files do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <nss.h>
#include <pk11pub.h>
#include <ssl.h>

#include "worker.h"

#define OUT_BUF_MAX		(4 * QNET_DEFAULT_MAX_MSG_SIZE)
#define EVENT_BATCH		1024
#define ERRORS_PRINTED		5	/* per worker, to stderr */
#define NOT_IN_HEAP		((size_t)-1)

/* ---- small helpers ---- */

static double
own_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t
rnd(struct worker *w)
{
	/* xorshift64*: plenty for jitter and picking clusters */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ULL;
}

bool
measuring(const struct worker *w)
{
	return w->phase == PHASE_MEASURE;
}

bool
failing_over(const struct worker *w)
{
	return w->phase == PHASE_FAILOVER;
}

void
report(struct worker *w, const struct bclient *c, const char *what, const char *detail)
{
	if (w->errors_printed >= ERRORS_PRINTED && !w->o->verbose)
		return;
	w->errors_printed++;
	fprintf(stderr, "qnetd-bench[w%u]: %s node %u: %s%s%s\n", w->index, c->cl->name,
	    (unsigned)c->node_id, what, detail ? ": " : "", detail ? detail : "");
}

/* ---- timer heap (min-heap on timer_ns) ---- */

static void
heap_swap(struct worker *w, size_t a, size_t b)
{
	struct bclient *t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
	w->heap[a]->heap_idx = a;
	w->heap[b]->heap_idx = b;
}

static void
heap_up(struct worker *w, size_t i)
{
	while (i > 0 && w->heap[(i - 1) / 2]->timer_ns > w->heap[i]->timer_ns) {
		heap_swap(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct worker *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->heap_len && w->heap[l]->timer_ns < w->heap[m]->timer_ns)
			m = l;
		if (r < w->heap_len && w->heap[r]->timer_ns < w->heap[m]->timer_ns)
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

void
timer_set(struct worker *w, struct bclient *c, uint64_t when)
{
	if (c->heap_idx == NOT_IN_HEAP) {
		c->timer_ns = when;
		c->heap_idx = w->heap_len;
		w->heap[w->heap_len++] = c;
		heap_up(w, c->heap_idx);
		return;
	}
	c->timer_ns = when;
	heap_up(w, c->heap_idx);
	heap_down(w, c->heap_idx);
}

void
timer_clear(struct worker *w, struct bclient *c)
{
	size_t i = c->heap_idx;

	if (i == NOT_IN_HEAP)
		return;
	c->heap_idx = NOT_IN_HEAP;
	w->heap_len--;
	if (i == w->heap_len)
		return;
	w->heap[i] = w->heap[w->heap_len];
	w->heap[i]->heap_idx = i;
	heap_up(w, i);
	heap_down(w, w->heap[i]->heap_idx);
}


/* ---- timers and the connect queue ---- */

static void
echo_tick(struct worker *w, struct bclient *c, uint64_t now)
{
	uint64_t next = c->timer_ns + w->hb_ns;
	uint64_t jitter = w->hb_ns / 50;

	if (c->echo_outstanding && measuring(w))
		w->st->echo_missed++;
	if (queue_seq_only(c, MSG_TYPE_ECHO_REQUEST, ++c->echo_seq) != 0) {
		client_fail(w, c, &w->st->disconnects, true);
		return;
	}
	c->echo_sent_ns[c->echo_seq % 4] = now;
	c->echo_outstanding = true;
	if (measuring(w))
		w->st->echo_sent++;
	if (pump_out(w, c) != 0) {
		client_fail(w, c, &w->st->disconnects, true);
		return;
	}
	set_events(w, c);
	/* heartbeat period +-1% so clients drift apart like real ones */
	if (jitter > 0)
		next = next - jitter / 2 + rnd(w) % jitter;
	if (next <= now)
		next = now + w->hb_ns;
	timer_set(w, c, next);
}

static void
enqueue_connect(struct worker *w, struct bclient *c)
{
	if (c->queued)
		return;
	c->queued = true;
	c->next_q = NULL;
	if (w->q_tail != NULL)
		w->q_tail->next_q = c;
	else
		w->q_head = c;
	w->q_tail = c;
}

static void
run_timers(struct worker *w, uint64_t now)
{
	unsigned guard = 0;

	while (w->heap_len > 0 && w->heap[0]->timer_ns <= now && guard++ < 8192) {
		struct bclient *c = w->heap[0];

		switch (c->state) {
		case CS_IDLE:
			timer_clear(w, c);
			enqueue_connect(w, c);
			break;
		case CS_CONNECTED:
			echo_tick(w, c, now);
			break;
		case CS_DEAD:
			timer_clear(w, c);
			break;
		default:
			report(w, c, "handshake timed out", NULL);
			if (failing_over(w)) {
				c->fo_timed_out = true;
				w->st->fo_timeouts++;
			}
			client_fail(w, c, &w->st->connect_errors, true);
			break;
		}
	}
}

static void
run_connects(struct worker *w, uint64_t now)
{
	double burst = w->rate / 50.0 > 1.0 ? w->rate / 50.0 : 1.0;

	/* real qdevices do not queue for each other: no pacing in the failover */
	if (failing_over(w)) {
		while (w->q_head != NULL) {
			struct bclient *c = w->q_head;

			w->q_head = c->next_q;
			if (w->q_head == NULL)
				w->q_tail = NULL;
			c->queued = false;
			start_connect(w, c, now);
		}
		return;
	}

	w->tokens += (double)(now - w->tokens_ns) * w->rate / (double)NS_PER_S;
	if (w->tokens > burst)
		w->tokens = burst;
	w->tokens_ns = now;
	while (w->q_head != NULL && w->tokens >= 1.0 && w->inflight < w->inflight_max &&
	    w->phase != PHASE_STOP) {
		struct bclient *c = w->q_head;

		w->q_head = c->next_q;
		if (w->q_head == NULL)
			w->q_tail = NULL;
		c->queued = false;
		w->tokens -= 1.0;
		start_connect(w, c, now);
	}
}

/* ---- setup, phases, main loop ---- */

/* --nssdb with "%u": this worker's own DB (its certificate names only its clusters) */
static char *
worker_nssdb(const char *pattern, unsigned index)
{
	const char *at = strstr(pattern, "%u");
	size_t len = strlen(pattern) + 16;
	char *path = malloc(len);

	if (path == NULL)
		return NULL;
	if (at == NULL)
		snprintf(path, len, "%s", pattern);
	else
		snprintf(path, len, "%.*s%u%s", (int)(at - pattern), pattern, index, at + 2);
	return path;
}

static int
setup(struct worker *w)
{
	const struct bench_opts *o = w->o;
	PRNetAddr *addrs;
	size_t naddr;
	unsigned ci = 0;
	char *db = NULL;
	int r;

	/*
	 * Not nss_sock_init(): NSS_Init() implies NSS_INIT_OPTIMIZESPACE, whose
	 * 32-bucket softoken session table makes every TLS record cost O(sockets)
	 * and would make this load generator, not qnetd, the bottleneck.
	 */
	if (o->tls) {
		db = worker_nssdb(o->nssdb, w->index);
		r = db != NULL &&
		    NSS_Initialize(db, "", "", SECMOD_DB, NSS_INIT_READONLY) == SECSuccess &&
		    NSS_SetDomesticPolicy() == SECSuccess ? 0 : -EIO;
	} else {
		r = nss_sock_init_nodb();
	}
	if (r != 0) {
		fprintf(stderr, "qnetd-bench[w%u]: cannot initialise NSS%s%s: %s\n", w->index,
		    o->tls ? " with " : "", db != NULL ? db : "", nss_sock_error());
		free(db);
		return -1;
	}
	free(db);
	if (o->tls) {
		w->client_cert = PK11_FindCertFromNickname(CLIENT_NICKNAME, NULL);
		w->client_key = w->client_cert != NULL ?
		    PK11_FindKeyByAnyCert(w->client_cert, NULL) : NULL;
		if (w->client_key == NULL) {
			fprintf(stderr, "qnetd-bench[w%u]: no \"%s\" with its key in %s\n", w->index,
			    CLIENT_NICKNAME, o->nssdb);
			return -1;
		}
	}
	if (nss_sock_resolve(o->host, o->port, 0, &addrs, &naddr) != 0) {
		fprintf(stderr, "qnetd-bench[w%u]: cannot resolve %s\n", w->index, o->host);
		return -1;
	}
	w->addr = addrs[0];
	free(addrs);

	/* this worker owns clusters index, index + workers, index + 2 * workers, ... */
	for (unsigned i = w->index; i < o->clusters; i += o->workers)
		w->ncl++;
	w->nclients = w->ncl * o->nodes;
	w->clusters = calloc(w->ncl ? w->ncl : 1, sizeof(*w->clusters));
	w->clients = calloc(w->nclients ? w->nclients : 1, sizeof(*w->clients));
	w->heap = calloc(w->nclients ? w->nclients : 1, sizeof(*w->heap));
	if (w->clusters == NULL || w->clients == NULL || w->heap == NULL) {
		fprintf(stderr, "qnetd-bench[w%u]: out of memory\n", w->index);
		return -1;
	}
	for (unsigned i = w->index; i < o->clusters; i += o->workers, ci++) {
		struct bcluster *cl = &w->clusters[ci];

		cl->w = w;
		snprintf(cl->name, sizeof(cl->name), "c%06u%s", i, o->cluster_suffix);
		cl->name_len = strlen(cl->name);
		cl->n = o->nodes;
		cl->ring_seq = 1;
		cl->nodes = &w->clients[ci * o->nodes];
		for (unsigned k = 0; k < o->nodes; k++) {
			struct bclient *c = &cl->nodes[k];

			c->cl = cl;
			c->node_id = k + 1;
			c->index = i * o->nodes + k;
			c->seq = 1;
			c->heap_idx = NOT_IN_HEAP;
			c->state = CS_IDLE;
			tlv_buf_init(&c->out, OUT_BUF_MAX);
		}
	}
	/* connect cluster by cluster, node by node */
	for (unsigned i = 0; i < w->nclients; i++)
		enqueue_connect(w, &w->clients[i]);
	w->st->clients = w->nclients;
	w->rate = (double)o->rate / o->workers;
	w->inflight_max = o->inflight / o->workers > 0 ? o->inflight / o->workers : 1;
	w->hb_ns = (uint64_t)o->hb_ms * NS_PER_MS;
	w->rng = 0x9e3779b97f4a7c15ULL * (w->index + 1) + (uint64_t)getpid();
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep < 0) {
		perror("qnetd-bench: epoll_create1");
		return -1;
	}
	if (w->nclients == 0)
		atomic_store(&w->st->ramp_done, true);
	return 0;
}

static void
enter_measure(struct worker *w, uint64_t now)
{
	struct worker_stats *st = w->st;
	unsigned eligible = 0, per_period;

	st->echo_sent = st->echo_answered = st->echo_missed = 0;
	st->events_started = st->events_settled = st->events_timed_out = 0;
	st->events_split_brain = st->vote_infos = 0;
	memset(&st->rtt, 0, sizeof(st->rtt));
	memset(&st->decision, 0, sizeof(st->decision));
	memset(&st->node_decision, 0, sizeof(st->node_decision));
	for (unsigned i = 0; i < w->ncl; i++)
		eligible += w->clusters[i].n >= 2;
	if (w->o->partition_every_s == 0 || eligible == 0)
		return;
	/* spread this period's changes evenly over the period */
	per_period = (unsigned)(w->o->partition_frac * eligible + 0.5);
	if (per_period == 0)
		per_period = 1;
	w->event_interval_ns = (uint64_t)w->o->partition_every_s * NS_PER_S / per_period;
	w->next_event_ns = now + rnd(w) % w->event_interval_ns;
	w->next_scan_ns = now;
}

static uint64_t
next_wakeup(const struct worker *w, uint64_t now)
{
	uint64_t t = now + 20 * NS_PER_MS;	/* phase changes are polled */

	if (w->heap_len > 0 && w->heap[0]->timer_ns < t)
		t = w->heap[0]->timer_ns;
	if (w->q_head != NULL && w->inflight < w->inflight_max && now + NS_PER_MS < t)
		t = now + NS_PER_MS;
	if (measuring(w) && w->event_interval_ns > 0 && w->next_event_ns < t)
		t = w->next_event_ns;
	return t;
}

int
bench_worker_run(const struct bench_opts *o, struct bench_shared *sh, unsigned index)
{
	struct epoll_event evs[EVENT_BATCH];
	struct worker w;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.sh = sh;
	w.st = &sh->w[index];
	w.index = index;
	w.phase = PHASE_RAMP;
	if (setup(&w) != 0) {
		atomic_store(&w.st->ramp_done, true);
		atomic_store(&w.st->exited, true);
		return 1;
	}
	w.tokens_ns = clock_now_ns();
	if (o->storm) {
		/* --storm: nobody holds a vote yet and everybody connects now, qdevice-paced */
		w.phase = PHASE_FAILOVER;
		for (unsigned i = 0; i < w.nclients; i++)
			w.clients[i].fo_lost = true;
		w.st->fo_cpu_s = -own_cpu_s();
	}

	while (w.phase != PHASE_STOP) {
		uint64_t now = clock_now_ns(), wake = next_wakeup(&w, now);
		int timeout_ms = wake > now ? (int)((wake - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
		int n = epoll_wait(w.ep, evs, EVENT_BATCH, timeout_ms);
		int phase;

		now = clock_now_ns();
		for (int i = 0; i < n; i++)
			client_io(&w, evs[i].data.ptr, evs[i].events, now);
		run_timers(&w, now);
		run_connects(&w, now);
		run_events(&w, now);

		phase = atomic_load(&sh->phase);
		if (phase != w.phase) {
			if (phase == PHASE_MEASURE) {
				enter_measure(&w, now);
				w.st->cpu_window_s = -own_cpu_s();
			}
			if (phase == PHASE_STOP && w.phase == PHASE_MEASURE)
				w.st->cpu_window_s += own_cpu_s();
			if (phase == PHASE_FAILOVER)
				w.st->fo_cpu_s = -own_cpu_s();
			if (phase == PHASE_STOP && w.phase == PHASE_FAILOVER)
				w.st->fo_cpu_s += own_cpu_s();
			w.phase = phase;
		}
	}

	for (unsigned i = 0; i < w.nclients; i++) {
		struct bclient *c = &w.clients[i];

		client_close(&w, c);
		tlv_buf_fini(&c->out);
		free(c->in);
	}
	close(w.ep);
	free(w.heap);
	free(w.clients);
	free(w.clusters);
	if (w.client_key != NULL)
		SECKEY_DestroyPrivateKey(w.client_key);
	if (w.client_cert != NULL)
		CERT_DestroyCertificate(w.client_cert);
	nss_sock_shutdown();
	atomic_store(&w.st->exited, true);
	return 0;
}
