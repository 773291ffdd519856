/*
 * qdevice/plan-checks-int.h: what the files of the readiness checks share
 * (plan-checks.c, plan-checks-arbiter.c, plan-checks-timeouts.c): the
 * facts one check sees, the line it writes, and the checks themselves.
 * Not for use outside them.
 */
#ifndef QDEVICE_PLAN_CHECKS_INT_H
#define QDEVICE_PLAN_CHECKS_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "plan-checks.h"

#define MAX_FINDINGS_SHOWN	4
/* qdevice's heartbeat limits (net_heartbeat_interval_min/_max defaults, docs/protocol.md 4.2). */
#define HB_MIN_MS		1000u
#define HB_MAX_MS		120000u

struct ctx {
	const struct plan_cluster	*c;
	const struct plan_env		*env;
	const struct plan_probe		*p;		/* NULL: nothing probed */
	bool				 probe_nodes;	/* p->nodes matches c->nodes */
	long				 local;		/* index of this node in c->nodes, -1 unknown */
};

/* One check's line under construction. */
struct line {
	char			*s;
	size_t			 len, cap;
	bool			 oom;
	enum plan_check_level	 level;
	unsigned		 findings;	/* counted, shown up to MAX_FINDINGS_SHOWN */
};

void	pc_line_add(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A finding raises the line's level; only the first few are written out. */
void	pc_finding(struct line *l, enum plan_check_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Closes the list of findings ("and N more"). */
void	pc_findings_end(struct line *l);
const char	*pc_node_name(const struct plan_node *n);	/* "?" when unknown */
bool	pc_is_local(const struct ctx *x, size_t i);
/* What node i's address on link l resolved to; NULL when not probed. */
const struct plan_resolved *pc_ring_resolved(const struct ctx *x, size_t i, size_t l);
/* The first address of node i on link l: numeric as configured, else as resolved. */
bool	pc_ring_ip(const struct ctx *x, size_t i, size_t l, struct plan_ip *out);
/* This host's interface address equal to ip, or NULL (also when unknown). */
const struct plan_iface_addr *pc_iface_holding(const struct ctx *x, const struct plan_ip *ip);
bool	pc_has_arbiter(const struct ctx *x);

/* One check each: the rule is stated at its definition. */
void	pc_check_links_count(const struct ctx *x, struct line *t);
void	pc_check_links_status(const struct ctx *x, struct line *t);
void	pc_check_links_latency(const struct ctx *x, struct line *t);
void	pc_check_links_subnet(const struct ctx *x, struct line *t);
void	pc_check_names_resolve(const struct ctx *x, struct line *t);
void	pc_check_clock_sync(const struct ctx *x, struct line *t);
void	pc_check_arbiter_reachable(const struct ctx *x, struct line *t);
void	pc_check_arbiter_not_member(const struct ctx *x, struct line *t);
void	pc_check_arbiter_path(const struct ctx *x, struct line *t);
void	pc_check_qdevice_state(const struct ctx *x, struct line *t);
void	pc_check_timeouts_device(const struct ctx *x, struct line *t);
void	pc_check_timeouts_heartbeat(const struct ctx *x, struct line *t);
void	pc_check_timeouts_sbd(const struct ctx *x, struct line *t);
void	pc_check_cert_expiry(const struct ctx *x, struct line *t);
void	pc_check_votes_even(const struct ctx *x, struct line *t);

#endif
