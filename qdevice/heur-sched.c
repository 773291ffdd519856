/*
 * qdevice/heur-sched.c: when the heuristics run (docs/protocol.md 4.4) and
 * where each result goes. The worker (qdevice/heuristics.c) runs one
 * execution at a time and a new run supersedes the outstanding one, so
 * every kind still waiting gets the result of the latest run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "heuristics.h"
#include "qdevice.h"

struct qdevice_heur {
	struct heuristics	*h;
	bool			 attached;
	unsigned		 waiting;	/* bit per enum heur_kind */
	int64_t			 seq;		/* of the latest run */
	struct qdevice_timer	 regular_timer;
};

static const char *const kind_names[] = { "membership", "connect", "regular" };

int
qdevice_heur_create(struct qdevice *qd)
{
	struct heuristics_limits limits = {
		.max_execs = qd->settings.heuristics_max_execs,
		.max_processes = qd->settings.heuristics_max_processes,
		.kill_list_interval_ms = qd->settings.heuristics_kill_list_interval_ms,
		.use_execvp = qd->settings.heuristics_use_execvp,
	};
	struct qdevice_heur *hs;
	int r;

	hs = calloc(1, sizeof(*hs));
	if (hs == NULL)
		return -ENOMEM;
	r = heuristics_create(&hs->h, &limits);
	if (r != 0) {
		free(hs);
		return r;
	}
	qd->heur = hs;
	return 0;
}

static uint8_t
to_wire(enum heuristics_result r)
{
	switch (r) {
	case HEURISTICS_RESULT_PASS:	return HEURISTICS_PASS;
	case HEURISTICS_RESULT_FAIL:	return HEURISTICS_FAIL;
	default:			return HEURISTICS_UNDEFINED;
	}
}

static void
deliver(struct qdevice *qd, enum heur_kind kind, uint8_t result)
{
	switch (kind) {
	case HEUR_KIND_MEMBERSHIP:
		qdevice_on_membership_heuristics(qd, result);
		break;
	case HEUR_KIND_CONNECT:
		qdevice_net_on_heuristics(qd, kind, result);
		break;
	case HEUR_KIND_REGULAR:
		qdevice_net_on_heuristics(qd, kind, result);
		qdevice_heur_regular_start(qd);
		break;
	}
}

static void
run_done(uint32_t seq, enum heuristics_result result, void *arg)
{
	struct qdevice *qd = arg;
	struct qdevice_heur *hs = qd->heur;
	unsigned waiting;
	uint8_t wire;

	if (seq == 0) {
		qb_log(LOG_CRIT, "The heuristics worker died");
		qdevice_exit(qd, EXIT_FAILURE);
		return;
	}
	if ((int64_t)seq != hs->seq || hs->waiting == 0) {
		qb_log(LOG_DEBUG, "Ignoring result of superseded heuristics run %" PRIu32, seq);
		return;
	}
	wire = qdevice_heur_mode(qd) == HEURISTICS_MODE_OFF ? HEURISTICS_UNDEFINED :
	    to_wire(result);
	qb_log(LOG_DEBUG, "Heuristics run %" PRIu32 " result: %s", seq, heuristics_name(wire));
	qdevice_event_heuristics(qd, wire);
	waiting = hs->waiting;
	hs->waiting = 0;
	/* Membership first: a connect result then reports the new ring at once. */
	for (int k = HEUR_KIND_MEMBERSHIP; k <= HEUR_KIND_REGULAR; k++)
		if (waiting & (1U << k))
			deliver(qd, (enum heur_kind)k, wire);
}

static int
load_execs(struct qdevice *qd)
{
	const struct config_heuristics *c = &qd->config.heuristics;
	int r;

	r = heuristics_set_execs(qd->heur->h, (const char *const *)c->exec_names,
	    (const char *const *)c->exec_cmds, c->exec_count);
	if (r != 0)
		qb_log(LOG_ERR, "Cannot hand the heuristics commands to the worker: %s",
		    strerror(-r));
	return r;
}

int
qdevice_heur_start(struct qdevice *qd)
{
	struct qdevice_heur *hs = qd->heur;
	int r;

	r = heuristics_attach(hs->h, qd->loop, run_done, qd);
	if (r != 0) {
		qb_log(LOG_CRIT, "Cannot attach the heuristics worker: %s", strerror(-r));
		return r;
	}
	hs->attached = true;
	if (qd->config.heuristics.execs_dropped > 0)
		qb_log(LOG_ERR, "Too many heuristics exec_ commands (%zu, at most %" PRIu32
		    "): heuristics disabled", qd->config.heuristics.execs_dropped,
		    qd->settings.heuristics_max_execs);
	return load_execs(qd);
}

void
qdevice_heur_destroy(struct qdevice *qd)
{
	struct qdevice_heur *hs = qd->heur;

	if (hs == NULL)
		return;
	qdevice_timer_disarm(qd, &hs->regular_timer);
	heuristics_destroy(hs->h);
	free(hs);
	qd->heur = NULL;
}

enum heuristics_mode
qdevice_heur_mode(const struct qdevice *qd)
{
	return qd->config.heuristics.mode;
}

void
qdevice_heur_run(struct qdevice *qd, enum heur_kind kind)
{
	struct qdevice_heur *hs = qd->heur;
	const struct config_heuristics *c = &qd->config.heuristics;
	uint32_t timeout_ms;
	int64_t seq;

	if (c->mode == HEURISTICS_MODE_OFF) {
		deliver(qd, kind, HEURISTICS_UNDEFINED);
		return;
	}
	switch (kind) {
	case HEUR_KIND_MEMBERSHIP:
		timeout_ms = c->sync_timeout_ms;
		break;
	case HEUR_KIND_CONNECT:
		timeout_ms = qd->sync_in_progress ? c->sync_timeout_ms : c->timeout_ms;
		break;
	default:
		timeout_ms = c->timeout_ms;
		break;
	}
	seq = heuristics_run(hs->h, timeout_ms);
	if (seq < 0) {
		qb_log(LOG_CRIT, "Cannot start %s heuristics: %s", kind_names[kind],
		    strerror((int)-seq));
		qdevice_exit(qd, EXIT_FAILURE);
		return;
	}
	qb_log(LOG_DEBUG, "Executing %s heuristics (run %" PRId64 ", timeout %" PRIu32 "ms)",
	    kind_names[kind], seq, timeout_ms);
	hs->seq = seq;
	hs->waiting |= 1U << kind;
}

bool
qdevice_heur_pending(const struct qdevice *qd)
{
	return qd->heur != NULL && qd->heur->waiting != 0;
}

static void
regular_fired(void *data)
{
	struct qdevice *qd = data;
	struct qdevice_heur *hs = qd->heur;

	hs->regular_timer.armed = false;
	if (qdevice_heur_mode(qd) != HEURISTICS_MODE_ON)
		return;
	if (hs->waiting != 0) {		/* another run is out: try again next interval */
		qdevice_heur_regular_start(qd);
		return;
	}
	qdevice_heur_run(qd, HEUR_KIND_REGULAR);
}

void
qdevice_heur_regular_stop(struct qdevice *qd)
{
	struct qdevice_heur *hs = qd->heur;

	if (hs == NULL || !hs->regular_timer.armed)
		return;
	qdevice_timer_disarm(qd, &hs->regular_timer);
	qb_log(LOG_DEBUG, "Regular heuristics timer stopped");
}

void
qdevice_heur_regular_start(struct qdevice *qd)
{
	struct qdevice_heur *hs = qd->heur;
	uint32_t interval_ms = qd->config.heuristics.interval_ms;

	if (hs == NULL || qdevice_heur_mode(qd) != HEURISTICS_MODE_ON)
		return;
	if (qdevice_timer_arm(qd, &hs->regular_timer, interval_ms, regular_fired, qd) != 0)
		return;
	qb_log(LOG_DEBUG, "Scheduling next regular heuristics in %" PRIu32 "ms", interval_ms);
}

void
qdevice_heur_reconfigure(struct qdevice *qd)
{
	if (qd->heur == NULL || !qd->heur->attached)
		return;
	if (qd->config.heuristics.execs_dropped > 0)
		qb_log(LOG_ERR, "Too many heuristics exec_ commands (%zu, at most %" PRIu32
		    "): heuristics disabled", qd->config.heuristics.execs_dropped,
		    qd->settings.heuristics_max_execs);
	if (load_execs(qd) != 0) {
		qdevice_exit(qd, EXIT_FAILURE);
		return;
	}
	/*
	 * A run still out uses the old commands, and may be stuck on the very
	 * one just fixed: run again with the new ones (as upstream); the
	 * kinds waiting get the new run's result.
	 */
	if (qd->heur->waiting != 0 && qdevice_heur_mode(qd) != HEURISTICS_MODE_OFF) {
		int kind = HEUR_KIND_MEMBERSHIP;	/* the first kind waiting sets the timeout */

		while (!(qd->heur->waiting & (1U << kind)))
			kind++;
		qb_log(LOG_DEBUG, "Heuristics commands changed during a run: running again");
		qdevice_heur_run(qd, (enum heur_kind)kind);
	}
	if (qdevice_heur_mode(qd) == HEURISTICS_MODE_ON) {
		if (!qd->heur->regular_timer.armed && !qd->sync_in_progress)
			qdevice_heur_regular_start(qd);
	} else {
		qdevice_heur_regular_stop(qd);
	}
}
