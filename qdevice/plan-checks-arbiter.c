/*
 * qdevice/plan-checks-arbiter.c: the readiness checks about the arbiter:
 * reachable now, not one of the cluster's own addresses, not behind the
 * only corosync interface, and the client certificate it will ask for.
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

/* arbiter.reachable: a TCP connect to the arbiter's port succeeds now. */
void
pc_check_arbiter_reachable(const struct ctx *x, struct line *t)
{
	const struct plan_env *e = x->env;
	const struct plan_probe *p = x->p;
	char a[64] = "?";

	if (!pc_has_arbiter(x)) {
		pc_line_add(t, "no quorum device configured: no arbiter to reach");
		return;
	}
	t->level = PLAN_CHECK_WARN;
	if (e->arbiter_host == NULL) {
		pc_line_add(t, "a quorum device is configured but its host is unknown: cannot "
		    "check the arbiter; set quorum.device.net.host");
		return;
	}
	if (p == NULL || !p->arbiter.tried) {
		pc_line_add(t, "arbiter %s:%u was not probed: reachability unknown",
		    e->arbiter_host, e->arbiter_port);
		return;
	}
	if (!p->arbiter.ok) {
		t->level = PLAN_CHECK_FAIL;
		pc_line_add(t, "arbiter host %s does not resolve (%s): qdevice cannot connect and "
		    "the device's vote is lost; fix the name or use an address", e->arbiter_host,
		    p->arbiter.error);
		return;
	}
	plan_ip_str(&p->connect_addr, a, sizeof(a));
	switch (p->connect) {
	case PLAN_CONNECT_OK:
		t->level = PLAN_CHECK_OK;
		pc_line_add(t, "arbiter %s (%s) port %u answered in %" PRIu32 " ms", e->arbiter_host,
		    a, e->arbiter_port, p->connect_ms);
		if (e->qdevice_known && !e->qdevice_connected) {
			t->level = PLAN_CHECK_WARN;
			pc_line_add(t, ", but qdevice is not connected (state %s): the device's vote "
			    "is missing; see qdevice-tool -s and its log", e->qdevice_state != NULL ?
			    e->qdevice_state : "unknown");
		} else if (!e->qdevice_known) {
			pc_line_add(t, "; qdevice's own connection unknown (%s)",
			    e->qdevice_error != NULL ? e->qdevice_error : "not asked");
		}
		return;
	case PLAN_CONNECT_UNKNOWN:
		pc_line_add(t, "arbiter %s:%u: no connect was tried", e->arbiter_host, e->arbiter_port);
		return;
	default:
		t->level = PLAN_CHECK_FAIL;
		pc_line_add(t, "arbiter %s (%s) port %u not reachable now (%s): without it the "
		    "device's vote is lost and a split or a further node loss loses quorum; "
		    "start qnetd or open port %u", e->arbiter_host, a, e->arbiter_port,
		    p->connect_error, e->arbiter_port);
		return;
	}
}

/* arbiter.not-member: the arbiter is on none of the cluster's own addresses. */
void
pc_check_arbiter_not_member(const struct ctx *x, struct line *t)
{
	const struct plan_probe *p = x->p;
	size_t unknown = 0;
	char a[64];

	if (!pc_has_arbiter(x)) {
		pc_line_add(t, "no quorum device configured");
		return;
	}
	if (p == NULL || !p->arbiter.ok) {
		pc_line_add(t, "arbiter address unknown (not resolved): cannot tell whether it is "
		    "one of the cluster's own");
		t->level = PLAN_CHECK_WARN;
		return;
	}
	for (size_t k = 0; k < p->arbiter.count; k++) {
		const struct plan_ip *ip = &p->arbiter.addrs[k];
		const struct plan_iface_addr *ifa = pc_iface_holding(x, ip);

		plan_ip_str(ip, a, sizeof(a));
		if (ifa != NULL)
			pc_finding(t, PLAN_CHECK_FAIL, "arbiter address %s is on this node (%s)", a,
			    ifa->name);
		for (size_t i = 0; i < x->c->node_count; i++)
			for (size_t l = 0; l < PLAN_MAX_LINKS; l++) {
				const struct plan_resolved *rr = pc_ring_resolved(x, i, l);
				struct plan_ip r;
				bool same = false;

				if (x->c->nodes[i].addrs[l] == NULL)
					continue;
				if (plan_ip_parse(x->c->nodes[i].addrs[l], &r))
					same = plan_ip_equal(&r, ip);
				else if (rr != NULL && rr->ok)
					for (size_t m = 0; m < rr->count && !same; m++)
						same = plan_ip_equal(&rr->addrs[m], ip);
				else if (k == 0)
					unknown++;
				if (same)
					pc_finding(t, PLAN_CHECK_FAIL, "arbiter address %s is node %" PRIu32
					    "'s ring%zu address", a, x->c->nodes[i].id, l);
			}
	}
	pc_findings_end(t);
	if (t->level == PLAN_CHECK_FAIL) {
		pc_line_add(t, ": an arbiter on a cluster node fails with that node, so the failure "
		    "it is there to survive takes its vote too; run qnetd on a host outside the "
		    "cluster");
	} else if (unknown > 0) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "%zu ring address(es) did not resolve: cannot tell whether the "
		    "arbiter is one of them", unknown);
	} else {
		plan_ip_str(&p->arbiter.addrs[0], a, sizeof(a));
		pc_line_add(t, "arbiter %s is none of the %zu nodes' addresses%s", a,
		    x->c->node_count, p->ifaces_known ? " nor this host's" : "");
		if (!p->ifaces_known) {
			t->level = PLAN_CHECK_WARN;
			pc_line_add(t, "; this host's interfaces unknown (%s)", p->ifaces_error);
		}
	}
}

/*
 * arbiter.path: the route to the arbiter must not leave through the only
 * interface corosync uses (the interfaces holding this node's ring
 * addresses), or one NIC failure cuts the node off from both.
 */
void
pc_check_arbiter_path(const struct ctx *x, struct line *t)
{
	const struct plan_probe *p = x->p;
	const char *ifs[PLAN_MAX_LINKS];
	size_t n_ifs = 0;
	bool shared = false;

	if (!pc_has_arbiter(x)) {
		pc_line_add(t, "no quorum device configured");
		return;
	}
	t->level = PLAN_CHECK_WARN;
	if (p == NULL || !p->route_known) {
		pc_line_add(t, "route to the arbiter unknown (%s): witness-path independence not "
		    "judged", p != NULL && p->route_error[0] ? p->route_error : "not probed");
		return;
	}
	if (x->local < 0) {
		pc_line_add(t, "route to the arbiter leaves via %s; this node's id is unknown, so "
		    "corosync's interfaces are not known", p->route_iface);
		return;
	}
	for (size_t l = 0; l < PLAN_MAX_LINKS; l++) {
		const struct plan_iface_addr *ifa;
		struct plan_ip ip;
		bool dup = false;

		if (!pc_ring_ip(x, (size_t)x->local, l, &ip))
			continue;
		if ((ifa = pc_iface_holding(x, &ip)) == NULL)
			continue;
		for (size_t k = 0; k < n_ifs && !dup; k++)
			dup = strcmp(ifs[k], ifa->name) == 0;
		if (!dup)
			ifs[n_ifs++] = ifa->name;
		if (strcmp(ifa->name, p->route_iface) == 0)
			shared = true;
	}
	if (n_ifs == 0) {
		pc_line_add(t, "route to the arbiter leaves via %s; none of this node's ring "
		    "addresses is on a local interface, so corosync's interfaces are unknown",
		    p->route_iface);
	} else if (shared && n_ifs == 1) {
		pc_line_add(t, "the route to the arbiter leaves through %s, the only corosync "
		    "interface: one NIC or cable failure cuts this node off from its peers and "
		    "the arbiter at once; reach the arbiter through another interface or add a "
		    "second corosync link on another NIC", p->route_iface);
	} else {
		t->level = PLAN_CHECK_OK;
		pc_line_add(t, "route to the arbiter leaves via %s, %s of %zu corosync "
		    "interface(s)", p->route_iface, shared ? "one" : "none", n_ifs);
	}
}

/* cert.expiry: the client certificate exists and is valid for 30 more days. */
void
pc_check_cert_expiry(const struct ctx *x, struct line *t)
{
	const struct plan_env *e = x->env;
	const struct plan_probe *p = x->p;
	const char *nick = e->client_cert_nickname != NULL ? e->client_cert_nickname : "?";

	if (!pc_has_arbiter(x)) {
		pc_line_add(t, "no quorum device configured: no certificate needed");
		return;
	}
	if (e->tls == TLS_MODE_OFF) {
		pc_line_add(t, "TLS off: no client certificate needed");
		return;
	}
	if (p == NULL || !p->cert_known) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "client certificate \"%s\" not checked (%s): expiry unknown; run "
		    "as root or check with certutil -L -d %s", nick, p != NULL && p->cert_error[0] ?
		    p->cert_error : "not probed", e->nss_db_dir != NULL ? e->nss_db_dir : "DB");
	} else if (!p->cert_found) {
		t->level = PLAN_CHECK_FAIL;
		pc_line_add(t, "client certificate \"%s\" not found in %s while TLS is %s: qnetd "
		    "refuses the connection; run qdevice-net-certutil to import it", nick,
		    e->nss_db_dir, e->tls == TLS_MODE_REQUIRED ? "required" : "on");
	} else if (p->cert_days_left < 0) {
		t->level = PLAN_CHECK_FAIL;
		pc_line_add(t, "client certificate \"%s\" expired %ld day(s) ago: qnetd refuses it; "
		    "issue a new one with qdevice-net-certutil", nick, -p->cert_days_left);
	} else if (p->cert_days_left < PLAN_CHECK_CERT_WARN_DAYS) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "client certificate \"%s\" expires in %ld day(s) (under %d): renew it "
		    "before qnetd starts refusing it", nick, p->cert_days_left,
		    PLAN_CHECK_CERT_WARN_DAYS);
	} else {
		pc_line_add(t, "client certificate \"%s\" valid for %ld more days", nick,
		    p->cert_days_left);
	}
}

/*
 * qdevice.state: the device's vote exists only while this node's qdevice
 * runs and holds a connection; the matrix assumes it does, so say so when
 * it does not (WARN: the plan's rows describe the cluster as configured).
 */
void
pc_check_qdevice_state(const struct ctx *x, struct line *t)
{
	const struct plan_env *e = x->env;

	if (!x->c->has_device) {
		pc_line_add(t, "no quorum device configured: nothing to run");
		return;
	}
	t->level = PLAN_CHECK_WARN;
	if (!e->qdevice_known) {
		pc_line_add(t, "qdevice does not answer on its socket (%s): this node casts no "
		    "device vote, so the rows that count the arbiter's vote do not hold for it; "
		    "start corosync-qdevice", e->qdevice_error != NULL ? e->qdevice_error :
		    "not asked");
		return;
	}
	if (!e->qdevice_connected) {
		pc_line_add(t, "qdevice runs but is not connected to the arbiter (state %s): no "
		    "device vote now; see qdevice-tool -s and its log", e->qdevice_state != NULL ?
		    e->qdevice_state : "unknown");
		return;
	}
	t->level = PLAN_CHECK_OK;
	pc_line_add(t, "qdevice connected, vote %s", e->qdevice_vote != NULL ? e->qdevice_vote :
	    "unknown");
}
