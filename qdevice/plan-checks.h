/*
 * qdevice/plan-checks.h: the planner's readiness checks. Pure judgement:
 * the cluster view (plan.h), the environment read from cmap and qdevice
 * (plan-env.h) and the probed system facts (plan-probe.h) go in, one line
 * per check comes out, each OK, WARN or FAIL with what was found, why it
 * matters and what to do. A fact that is not known gives a WARN saying
 * so, never an OK. The ids are stable (they are part of the JSON schema):
 *
 *   links.count links.status links.latency links.subnet names.resolve
 *   clock.sync arbiter.reachable arbiter.not-member arbiter.path
 *   timeouts.device timeouts.heartbeat timeouts.sbd cert.expiry votes.even
 */
#ifndef QDEVICE_PLAN_CHECKS_H
#define QDEVICE_PLAN_CHECKS_H

#include <stddef.h>

#include "plan.h"
#include "plan-env.h"
#include "plan-probe.h"

enum plan_check_level {
	PLAN_CHECK_OK = 0,
	PLAN_CHECK_WARN,
	PLAN_CHECK_FAIL,
};

struct plan_check {
	char			*id;		/* e.g. "links.count" */
	enum plan_check_level	 level;
	char			*text;		/* one line: found, why it matters, what to do */
};

struct plan_checks {
	struct plan_check	*items;		/* in the order of the list above */
	size_t			 count;
};

/* Thresholds the checks apply (the and the sources' numbers). */
#define PLAN_CHECK_MIN_LINKS		2
#define PLAN_CHECK_LATENCY_WARN_US	2000	/* knet average above 2 ms */
#define PLAN_CHECK_CERT_WARN_DAYS	30
#define PLAN_CHECK_SBD_MARGIN_MS	5000	/* above sync_timeout, as crmsh sets it */
#define PLAN_CHECK_SBD_DEFAULT_MS	5000	/* sbd's own default watchdog timeout */

/*
 * Runs every check. probe may be NULL (nothing probed: those checks say
 * so). 0, -EINVAL (c or env NULL) or -ENOMEM; out is empty on error.
 */
int	plan_checks_run(const struct plan_cluster *c, const struct plan_env *env,
	    const struct plan_probe *probe, struct plan_checks *out);
void	plan_checks_fini(struct plan_checks *checks);
/* The worst level in the list (PLAN_CHECK_OK for an empty one). */
int	plan_checks_worst(const struct plan_checks *checks);
const char	*plan_check_level_name(enum plan_check_level l);	/* "OK", "WARN", "FAIL" */
/* The item with this id, or NULL. */
const struct plan_check	*plan_checks_find(const struct plan_checks *checks, const char *id);

#endif
