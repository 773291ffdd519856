/*
 * qdevice/plan-checks-timeouts.c: the readiness checks about time: this
 * node's clock, and the timeout budget of qdevice, qnetd, corosync and sbd
 * (each rule stated at its check, with its source).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "corosync-config.h"
#include "plan-checks-int.h"

/* clock.sync: the kernel's NTP state on this node; other nodes are not measured. */
void
pc_check_clock_sync(const struct ctx *x, struct line *t)
{
	const struct plan_probe *p = x->p;

	if (p == NULL || !p->ntp_known) {
		pc_line_add(t, "clock state unknown (%s); offsets between nodes not measured: "
		    "check chronyc tracking or timedatectl",
		    p != NULL && p->ntp_error[0] ? p->ntp_error : "not probed");
		t->level = PLAN_CHECK_WARN;
	} else if (!p->ntp_synced) {
		pc_line_add(t, "this node's clock is not synchronised (kernel NTP state); offsets "
		    "between nodes not measured: unsynchronised clocks misorder logs across nodes "
		    "and can make certificates look not yet valid or expired; run chronyd or ntpd");
		t->level = PLAN_CHECK_WARN;
	} else {
		pc_line_add(t, "this node's clock is synchronised (kernel NTP state: offset %.3f ms, "
		    "max error %.3f ms); offsets between nodes not measured",
		    (double)p->ntp_offset_us / 1000, (double)p->ntp_maxerror_us / 1000);
	}
}

static uint32_t
heartbeat_ms(uint32_t timeout_ms)
{
	uint64_t hb = (uint64_t)timeout_ms * 8 / 10;

	return hb < HB_MIN_MS ? HB_MIN_MS : hb > HB_MAX_MS ? HB_MAX_MS : (uint32_t)hb;
}

static bool
heuristics_on(const struct ctx *x)
{
	return x->c->heuristics_mode == HEURISTICS_MODE_ON ||
	    x->c->heuristics_mode == HEURISTICS_MODE_SYNC;
}

/* The timeouts a timeout check needs; false (and a WARN naming them) if unknown. */
static bool
timeouts_known(const struct ctx *x, struct line *t, bool need_sync)
{
	const struct plan_env *e = x->env;

	if (e->token_ms && e->consensus_ms && e->device_timeout_ms &&
	    (!need_sync || e->device_sync_timeout_ms))
		return true;
	t->level = PLAN_CHECK_WARN;
	pc_line_add(t, "unknown:%s%s%s%s; the timeout budget is not judged",
	    e->token_ms ? "" : " totem token", e->consensus_ms ? "" : " totem consensus",
	    e->device_timeout_ms ? "" : " quorum.device.timeout",
	    need_sync && !e->device_sync_timeout_ms ? " quorum.device.sync_timeout" : "");
	return false;
}

/*
 * timeouts.device. After a node dies without closing its connection,
 * ffsplit answers the survivors only once every connected client agrees
 * (docs/protocol.md 3.2), i.e. once qnetd's dead-peer timer, 1.5 x HB
 * with HB = 0.8 x quorum.device.timeout clamped to [1000, 120000]
 * (docs/protocol.md 2.7, 4.2), has dropped the dead one. The survivors
 * form their membership token + consensus after the death and corosync
 * waits sync_timeout for the device's vote (docs/protocol.md 4.3). So:
 *   1. 1.5 x HB < token + consensus + sync_timeout, else FAIL;
 *   2. with heuristics on, the membership heuristics (heuristics
 *      sync_timeout) must end within sync_timeout: MEMBERSHIP is sent
 *      only with their result (docs/protocol.md 2.8), else FAIL.
 */
void
pc_check_timeouts_device(const struct ctx *x, struct line *t)
{
	const struct plan_env *e = x->env;
	uint64_t dpd, window;
	uint32_t hb;

	if (!x->c->has_device) {
		pc_line_add(t, "no quorum device configured: no device timeouts to budget");
		return;
	}
	if (!timeouts_known(x, t, true))
		return;
	hb = heartbeat_ms(e->device_timeout_ms);
	dpd = (uint64_t)hb * 3 / 2;
	window = (uint64_t)e->token_ms + e->consensus_ms + e->device_sync_timeout_ms;
	if (dpd >= window)
		pc_finding(t, PLAN_CHECK_FAIL, "qnetd drops a dead node after %" PRIu64 " ms (1.5 x "
		    "HB %" PRIu32 " ms, HB = 0.8 x timeout %" PRIu32 ") but the survivors' vote "
		    "window closes after token %" PRIu32 " + consensus %" PRIu32 " + "
		    "sync_timeout %" PRIu32 " = %" PRIu64 " ms", dpd, hb, e->device_timeout_ms,
		    e->token_ms, e->consensus_ms, e->device_sync_timeout_ms, window);
	if (heuristics_on(x) && e->heuristics_sync_timeout_ms == 0)
		pc_finding(t, PLAN_CHECK_WARN, "heuristics sync_timeout unknown");
	else if (heuristics_on(x) && e->heuristics_sync_timeout_ms >= e->device_sync_timeout_ms)
		pc_finding(t, PLAN_CHECK_FAIL, "heuristics sync_timeout %" PRIu32 " ms is not below "
		    "sync_timeout %" PRIu32 " ms", e->heuristics_sync_timeout_ms,
		    e->device_sync_timeout_ms);
	pc_findings_end(t);
	if (t->level == PLAN_CHECK_OK)
		pc_line_add(t, "a dead node is dropped by qnetd after %" PRIu64 " ms (1.5 x HB), "
		    "within the survivors' vote window of token + consensus + sync_timeout = %"
		    PRIu64 " ms%s", dpd, window, heuristics_on(x) ?
		    ", and membership heuristics end within sync_timeout" : "");
	else
		pc_line_add(t, ": the survivors' sync ends without the device's vote, so a node "
		    "loss the device should carry drops quorum until the next poll; raise "
		    "quorum.device.sync_timeout or lower quorum.device.timeout "
		    "(rule: 1.5 x 0.8 x timeout < token + consensus + sync_timeout, heuristics "
		    "sync_timeout < sync_timeout)");
}

/*
 * timeouts.heartbeat: qnetd's dead-peer detection of this node's client
 * (1.5 x HB, docs/protocol.md 2.7) against corosync's (token): a stall
 * corosync rides out must not cost the device's vote, so 1.5 x HB >=
 * token (WARN otherwise). HB follows 0.8 x timeout only inside [1000,
 * 120000]; outside, the clamp changes it (WARN: the timeout does not do
 * what it says).
 */
void
pc_check_timeouts_heartbeat(const struct ctx *x, struct line *t)
{
	const struct plan_env *e = x->env;
	uint64_t raw, dpd;
	uint32_t hb;

	if (!x->c->has_device) {
		pc_line_add(t, "no quorum device configured: no heartbeat");
		return;
	}
	if (!timeouts_known(x, t, false))
		return;
	raw = (uint64_t)e->device_timeout_ms * 8 / 10;
	hb = heartbeat_ms(e->device_timeout_ms);
	dpd = (uint64_t)hb * 3 / 2;
	if (raw != hb)
		pc_finding(t, PLAN_CHECK_WARN, "0.8 x timeout %" PRIu32 " = %" PRIu64 " ms is clamped "
		    "to a heartbeat of %" PRIu32 " ms", e->device_timeout_ms, raw, hb);
	if (dpd < e->token_ms)
		pc_finding(t, PLAN_CHECK_WARN, "qnetd's dead-peer timeout %" PRIu64 " ms (1.5 x HB %"
		    PRIu32 ") is shorter than token %" PRIu32 " ms", dpd, hb, e->token_ms);
	pc_findings_end(t);
	if (t->level == PLAN_CHECK_OK)
		pc_line_add(t, "heartbeat %" PRIu32 " ms (0.8 x timeout), qnetd's dead-peer timeout %"
		    PRIu64 " ms (1.5 x HB) is not shorter than token %" PRIu32 " ms", hb, dpd,
		    e->token_ms);
	else
		pc_line_add(t, ": a network stall corosync survives (shorter than token) makes qnetd "
		    "drop the node and the device's vote; keep quorum.device.timeout within "
		    "[1250, 150000] ms and 1.5 x 0.8 x timeout >= token");
}

/*
 * timeouts.sbd: with sbd, SBD_WATCHDOG_TIMEOUT must exceed
 * quorum.device.sync_timeout: a sync may wait that long for the device's
 * vote, and a watchdog that fires first resets a node while the arbiter is
 * still deciding. FAIL when not above it; WARN within the 5 s margin crmsh
 * applies (sync_timeout + 5 s).
 */
void
pc_check_timeouts_sbd(const struct ctx *x, struct line *t)
{
	const struct plan_probe *p = x->p;
	uint32_t wd, sync = x->env->device_sync_timeout_ms;
	const char *from;

	if (x->env->sbd_watchdog_timeout_ms == 0 && (p == NULL || !p->sbd_known)) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "whether sbd is in use is unknown%s%s", p != NULL && p->sbd_source[0] ?
		    ": cannot read " : "", p != NULL ? p->sbd_source : "");
		return;
	}
	if (x->env->sbd_watchdog_timeout_ms == 0 && !p->sbd_configured) {
		pc_line_add(t, "sbd not in use (not enabled): no watchdog to budget");
		return;
	}
	if (!x->c->has_device) {
		pc_line_add(t, "sbd in use, no quorum device: no sync_timeout to budget");
		return;
	}
	if (x->env->sbd_watchdog_timeout_ms != 0) {
		wd = x->env->sbd_watchdog_timeout_ms;
		from = "configured";
	} else if (p->sbd_timeout_set) {
		wd = p->sbd_watchdog_timeout_ms;
		from = p->sbd_source[0] ? p->sbd_source : "sbd's config";
	} else {
		wd = PLAN_CHECK_SBD_DEFAULT_MS;
		from = "sbd's default";
	}
	if (sync == 0) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "SBD_WATCHDOG_TIMEOUT %" PRIu32 " ms (%s), quorum.device.sync_timeout "
		    "unknown: not judged", wd, from);
		return;
	}
	pc_line_add(t, "SBD_WATCHDOG_TIMEOUT %" PRIu32 " ms (%s) vs sync_timeout %" PRIu32 " ms",
	    wd, from, sync);
	if (wd <= sync)
		t->level = PLAN_CHECK_FAIL;
	else if ((uint64_t)wd < (uint64_t)sync + PLAN_CHECK_SBD_MARGIN_MS)
		t->level = PLAN_CHECK_WARN;
	if (t->level != PLAN_CHECK_OK)
		pc_line_add(t, ": a sync waits up to sync_timeout for the device's vote and the "
		    "watchdog must outlast it, or nodes are reset while the arbiter decides; set "
		    "SBD_WATCHDOG_TIMEOUT to at least sync_timeout + %d s (and stonith-watchdog-"
		    "timeout to twice that)", PLAN_CHECK_SBD_MARGIN_MS / 1000);
	else
		pc_line_add(t, ": the watchdog outlasts a sync by %d s or more",
		    PLAN_CHECK_SBD_MARGIN_MS / 1000);
}
