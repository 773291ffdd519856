/*
 * qdevice/events.c: qdevice's events for the operator's hook program
 * (common/hooks.h, -S event_hook=...): the vote given to votequorum
 * flipping, heuristics results changing, the qnetd connection coming and
 * going. Hooks run asynchronously; nothing here ever waits for one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "common/hooks.h"
#include "qdevice.h"

/* "QNET_X=value" strings are built in a fixed set of small buffers per event. */
#define VAR_LEN		256
#define VAR_COMMON	2	/* QNET_CLUSTER, QNET_NODE_ID */

int
qdevice_events_init(struct qdevice *qd)
{
	const struct qdevice_settings *s = &qd->settings;
	int r;

	qd->heur_reported = HEURISTICS_UNDEFINED;
	r = hooks_create(&qd->hooks, qd->loop, s->event_hook, s->event_hook_timeout_ms,
	    s->event_hook_max_running);
	if (r != 0) {
		qb_log(LOG_CRIT, "Cannot set up the event hook: %s", strerror(-r));
		return r;
	}
	if (s->event_hook != NULL) {
		if (access(s->event_hook, X_OK) != 0)
			qb_log(LOG_WARNING, "Event hook %s is not executable: %s", s->event_hook,
			    strerror(errno));
		else
			qb_log(LOG_DEBUG, "Event hook: %s (timeout %" PRIu32 " ms, at most %"
			    PRIu32 " at once)", s->event_hook, s->event_hook_timeout_ms,
			    s->event_hook_max_running);
	}
	return 0;
}

void
qdevice_events_fini(struct qdevice *qd)
{
	hooks_destroy(qd->hooks);
	qd->hooks = NULL;
}

/* vars[0], vars[1]: the variables every event carries. */
static void
common_vars(const struct qdevice *qd, char vars[][VAR_LEN])
{
	snprintf(vars[0], VAR_LEN, "QNET_CLUSTER=%s",
	    qd->config.cluster_name != NULL ? qd->config.cluster_name : "");
	snprintf(vars[1], VAR_LEN, "QNET_NODE_ID=%" PRIu32, qd->config.node_id);
}

static void
run(struct qdevice *qd, const char *event, const char *const *vars)
{
	int r;

	if (qd->hooks == NULL)
		return;
	/* Drops (-EBUSY) are counted and warned about in common/hooks.c, rate-limited. */
	r = hooks_run(qd->hooks, NULL, 0, false, event, vars);
	if (r < 0 && r != -EBUSY)
		qb_log(LOG_WARNING, "Cannot start the event hook for %s: %s", event,
		    strerror(-r));
}

void
qdevice_event_vote_changed(struct qdevice *qd, const char *vote, const char *previous)
{
	char vars[VAR_COMMON + 2][VAR_LEN];
	const char *list[] = { vars[0], vars[1], vars[2], vars[3], NULL };

	common_vars(qd, vars);
	snprintf(vars[2], VAR_LEN, "QNET_VOTE=%s", vote);
	snprintf(vars[3], VAR_LEN, "QNET_PREVIOUS_VOTE=%s", previous);
	run(qd, "vote_changed", list);
}

/* Pass and Fail results that differ from the last one reported. */
void
qdevice_event_heuristics(struct qdevice *qd, uint8_t result)
{
	char vars[VAR_COMMON + 2][VAR_LEN];
	const char *list[] = { vars[0], vars[1], vars[2], vars[3], NULL };
	uint8_t previous = qd->heur_reported;

	if ((result != HEURISTICS_PASS && result != HEURISTICS_FAIL) || result == previous)
		return;
	qd->heur_reported = result;
	common_vars(qd, vars);
	snprintf(vars[2], VAR_LEN, "QNET_HEURISTICS=%s", heuristics_name(result));
	snprintf(vars[3], VAR_LEN, "QNET_PREVIOUS_HEURISTICS=%s", heuristics_name(previous));
	run(qd, result == HEURISTICS_PASS ? "heuristics_passed" : "heuristics_failed", list);
}

void
qdevice_event_connected(struct qdevice *qd, const char *qnetd_host)
{
	char vars[VAR_COMMON + 1][VAR_LEN];
	const char *list[] = { vars[0], vars[1], vars[2], NULL };

	common_vars(qd, vars);
	snprintf(vars[2], VAR_LEN, "QNET_QNETD_HOST=%s", qnetd_host);
	run(qd, "connected", list);
}

void
qdevice_event_disconnected(struct qdevice *qd, const char *qnetd_host, const char *reason)
{
	char vars[VAR_COMMON + 2][VAR_LEN];
	const char *list[] = { vars[0], vars[1], vars[2], vars[3], NULL };

	common_vars(qd, vars);
	snprintf(vars[2], VAR_LEN, "QNET_QNETD_HOST=%s", qnetd_host);
	snprintf(vars[3], VAR_LEN, "QNET_REASON=%s", reason);
	run(qd, "disconnected", list);
}
