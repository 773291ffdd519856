/*
 * qdevice/ringwatch.c: a thread that reads corosync's token counter and
 * ring timeouts from cmap for the yes guard (qdevice/vote.h). corosync
 * answers no cmap request while it synchronises a new membership, and
 * that sync may be waiting for our votequorum poll: a cmap call from the
 * main loop at that moment would stall both until votequorum gives up
 * (sync_timeout). So the main loop never calls cmap for the guard; this
 * thread does, on its own handles, and a read that blocks only means "no
 * evidence yet". The main loop reads its results under a mutex and never
 * waits for it.
 *
 * The thread must not log, not even through libqb's own IPC debug lines:
 * qb_log guards against re-entry with one process-wide flag, so a line
 * logged by the main thread while another thread is inside qb_log is
 * dropped (seen: a qdevice exiting 1 under load with none of its last
 * lines written). cmap_initialize/cmap_finalize log, so the main thread
 * opens and closes the thread's handles; the thread only reads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <qb/qblog.h>

#include "common/clock.h"
#include "qdevice.h"

#define READ_INTERVAL_MS	50	/* between two reads while wanted */
#define TIMEOUTS_EVERY		100	/* re-read the ring timeouts every that many reads */
#define TOKEN_STATS_KEY		"stats.srp.orf_token_rx"
/* corosync 2 keeps the counter in the main map. */
#define TOKEN_OLD_KEY		"runtime.totem.pg.mrp.srp.orf_token_rx"
#define TOKEN_KEY		"runtime.config.totem.token"
#define CONSENSUS_KEY		"runtime.config.totem.consensus"
#define TOKEN_DEFAULT_MS	3000

struct qdevice_ringwatch {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	bool		 stop;		/* main -> thread */
	bool		 want;		/* main -> thread: read the counter */
	/* thread -> main */
	bool		 have_token;
	uint64_t	 token_rx;
	uint64_t	 token_read_ms;
	uint32_t	 token_ms;
	uint32_t	 consensus_ms;
	/* opened and closed by the main thread (see above) */
	cmap_handle_t	 stats;
	cmap_handle_t	 main_map;
	bool		 stats_ok;
	bool		 main_ok;
};

static void
read_timeouts(struct qdevice_ringwatch *w, cmap_handle_t main_map, bool main_ok)
{
	uint32_t token = TOKEN_DEFAULT_MS, consensus, v;

	if (main_ok && cmap_get_uint32(main_map, TOKEN_KEY, &v) == CS_OK)
		token = v;
	consensus = (uint32_t)((uint64_t)token * 12 / 10);	/* corosync's default */
	if (main_ok && cmap_get_uint32(main_map, CONSENSUS_KEY, &v) == CS_OK)
		consensus = v;
	pthread_mutex_lock(&w->lock);
	w->token_ms = token;
	w->consensus_ms = consensus;
	pthread_mutex_unlock(&w->lock);
}

static void *
watch(void *arg)
{
	struct qdevice_ringwatch *w = arg;
	cmap_handle_t stats = w->stats, main_map = w->main_map;
	bool stats_ok = w->stats_ok, main_ok = w->main_ok;
	unsigned reads = 0;

	read_timeouts(w, main_map, main_ok);
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec until;
		uint64_t rx, asked_ms;
		bool ok;

		if (!w->want) {
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		pthread_mutex_unlock(&w->lock);
		/* Stamped before asking: the value is at least that recent. */
		asked_ms = clock_now_ms();
		ok = (stats_ok && cmap_get_uint64(stats, TOKEN_STATS_KEY, &rx) == CS_OK) ||
		    (main_ok && cmap_get_uint64(main_map, TOKEN_OLD_KEY, &rx) == CS_OK);
		if (++reads % TIMEOUTS_EVERY == 0)
			read_timeouts(w, main_map, main_ok);
		pthread_mutex_lock(&w->lock);
		w->have_token = ok;
		if (ok) {
			w->token_rx = rx;
			w->token_read_ms = asked_ms;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += READ_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!w->stop)
			pthread_cond_timedwait(&w->cond, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void
close_handles(struct qdevice_ringwatch *w)
{
	if (w->stats_ok)
		cmap_finalize(w->stats);
	if (w->main_ok)
		cmap_finalize(w->main_map);
}

int
qdevice_ringwatch_start(struct qdevice *qd)
{
	struct qdevice_ringwatch *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->token_ms = TOKEN_DEFAULT_MS;
	w->consensus_ms = TOKEN_DEFAULT_MS * 12 / 10;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->stats_ok = cmap_initialize_map(&w->stats, CMAP_MAP_STATS) == CS_OK;
	w->main_ok = cmap_initialize(&w->main_map) == CS_OK;
	r = pthread_create(&w->thread, NULL, watch, w);
	if (r != 0) {
		close_handles(w);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		qb_log(LOG_CRIT, "Cannot start the ring watch thread: %s", strerror(r));
		return -r;
	}
	qd->ringwatch = w;
	return 0;
}

/*
 * Joins the thread. A read blocked in corosync (a sync at shutdown) ends
 * when the sync does, or when corosync closes the connection.
 */
void
qdevice_ringwatch_stop(struct qdevice *qd)
{
	struct qdevice_ringwatch *w = qd->ringwatch;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	close_handles(w);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	qd->ringwatch = NULL;
}

void
qdevice_ringwatch_want(struct qdevice *qd, bool on)
{
	struct qdevice_ringwatch *w = qd->ringwatch;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->want != on) {
		w->want = on;
		w->have_token = false;	/* readings from before do not count */
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
}

bool
qdevice_ringwatch_token(struct qdevice *qd, uint64_t *rx, uint64_t *read_ms)
{
	struct qdevice_ringwatch *w = qd->ringwatch;
	bool ok;

	if (w == NULL)
		return false;
	pthread_mutex_lock(&w->lock);
	ok = w->have_token;
	*rx = w->token_rx;
	*read_ms = w->token_read_ms;
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void
qdevice_ringwatch_timeouts(struct qdevice *qd, uint32_t *token_ms, uint32_t *consensus_ms)
{
	struct qdevice_ringwatch *w = qd->ringwatch;

	*token_ms = TOKEN_DEFAULT_MS;
	*consensus_ms = TOKEN_DEFAULT_MS * 12 / 10;
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	*token_ms = w->token_ms;
	*consensus_ms = w->consensus_ms;
	pthread_mutex_unlock(&w->lock);
}
