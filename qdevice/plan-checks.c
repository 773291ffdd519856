/*
 * qdevice/plan-checks.c: the readiness checks of plan-checks.h: the
 * runner, the line builder the checks share (plan-checks-int.h), and the
 * checks of the links, the names and the vote count. Each check collects
 * its findings, takes the worst level among them and writes one line: the
 * findings (the first few), then the rule and what to do.
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

static void pc_line_vadd(struct line *l, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
pc_line_vadd(struct line *l, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	if (l->oom)
		return;
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0) {
		l->oom = true;
		return;
	}
	if (l->len + (size_t)n + 1 > l->cap) {
		size_t cap = (l->len + (size_t)n + 1) * 2;
		char *g = realloc(l->s, cap);

		if (g == NULL) {
			l->oom = true;
			return;
		}
		l->s = g;
		l->cap = cap;
	}
	vsnprintf(l->s + l->len, l->cap - l->len, fmt, ap);
	l->len += (size_t)n;
}

void
pc_line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_line_vadd(l, fmt, ap);
	va_end(ap);
}

void
pc_finding(struct line *l, enum plan_check_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > l->level)
		l->level = level;
	if (++l->findings > MAX_FINDINGS_SHOWN)
		return;
	if (l->findings > 1)
		pc_line_add(l, "; ");
	va_start(ap, fmt);
	pc_line_vadd(l, fmt, ap);
	va_end(ap);
}

void
pc_findings_end(struct line *l)
{
	if (l->findings > MAX_FINDINGS_SHOWN)
		pc_line_add(l, "; and %u more", l->findings - MAX_FINDINGS_SHOWN);
}

const char *
pc_node_name(const struct plan_node *n)
{
	return n->name != NULL ? n->name : "?";
}

bool
pc_is_local(const struct ctx *x, size_t i)
{
	return x->local >= 0 && (size_t)x->local == i;
}

const struct plan_resolved *
pc_ring_resolved(const struct ctx *x, size_t i, size_t l)
{
	if (!x->probe_nodes || !x->p->nodes[i].ring[l].tried)
		return NULL;
	return &x->p->nodes[i].ring[l];
}

/* The first address of node i on link l: numeric as configured, else as resolved. */
bool
pc_ring_ip(const struct ctx *x, size_t i, size_t l, struct plan_ip *out)
{
	const struct plan_resolved *r;

	if (x->c->nodes[i].addrs[l] == NULL)
		return false;
	if (plan_ip_parse(x->c->nodes[i].addrs[l], out))
		return true;
	r = pc_ring_resolved(x, i, l);
	if (r == NULL || !r->ok)
		return false;
	*out = r->addrs[0];
	return true;
}

const struct plan_iface_addr *
pc_iface_holding(const struct ctx *x, const struct plan_ip *ip)
{
	if (x->p == NULL || !x->p->ifaces_known)
		return NULL;
	for (size_t i = 0; i < x->p->iface_count; i++)
		if (plan_ip_equal(&x->p->ifaces[i].addr, ip))
			return &x->p->ifaces[i];
	return NULL;
}

static size_t
pc_node_link_count(const struct plan_node *n)
{
	size_t k = 0;

	for (size_t l = 0; l < PLAN_MAX_LINKS; l++)
		k += n->addrs[l] != NULL;
	return k;
}

bool
pc_has_arbiter(const struct ctx *x)
{
	return x->c->has_device || x->env->arbiter_host != NULL;
}

/*
 * links.count: every node needs PLAN_CHECK_MIN_LINKS knet links so that
 * one NIC, cable or switch failure does not cut it off (issue 14).
 */
void
pc_check_links_count(const struct ctx *x, struct line *t)
{
	const char *tr = x->env->transport;
	size_t min = SIZE_MAX;

	if (tr != NULL && strcmp(tr, "knet") != 0)
		pc_finding(t, PLAN_CHECK_WARN, "transport %s carries one link only", tr);
	else if (tr == NULL)
		pc_finding(t, PLAN_CHECK_WARN, "transport unknown");
	for (size_t i = 0; i < x->c->node_count; i++) {
		const struct plan_node *n = &x->c->nodes[i];
		size_t k = pc_node_link_count(n);

		if (k < min)
			min = k;
		if (k == 0)
			pc_finding(t, PLAN_CHECK_WARN, "node %" PRIu32 " (%s) has no ring address known",
			    n->id, pc_node_name(n));
		else if (k < PLAN_CHECK_MIN_LINKS)
			pc_finding(t, PLAN_CHECK_WARN, "node %" PRIu32 " (%s) has %zu link", n->id,
			    pc_node_name(n), k);
	}
	pc_findings_end(t);
	if (t->level == PLAN_CHECK_OK)
		pc_line_add(t, "every node has %zu or more knet links", min);
	else
		pc_line_add(t, ": with fewer than %d knet links one NIC, cable or switch failure "
		    "cuts a node off; use knet with a second link (ring1_addr) on a separate "
		    "network", PLAN_CHECK_MIN_LINKS);
}

/* links.status: knet's view from this node of every link to every peer, now. */
void
pc_check_links_status(const struct ctx *x, struct line *t)
{
	size_t peers = 0, up = 0;

	if (x->env->links == NULL || x->local < 0) {
		pc_line_add(t, "knet link state unknown (%s): cannot tell whether every link is up "
		    "now; check corosync-cfgtool -s", x->local < 0 ? "this node's id unknown" :
		    "no knet statistics read");
		t->level = PLAN_CHECK_WARN;
		return;
	}
	const struct plan_node *me = &x->c->nodes[x->local];

	for (size_t i = 0; i < x->c->node_count; i++) {
		const struct plan_node *n = &x->c->nodes[i];
		size_t configured = 0, connected = 0, unknown = 0;

		if (pc_is_local(x, i))
			continue;
		peers++;
		for (size_t l = 0; l < PLAN_MAX_LINKS; l++) {
			const struct plan_link_state *s = &x->env->links[i][l];

			if (me->addrs[l] == NULL || n->addrs[l] == NULL)
				continue;
			configured++;
			if (!s->known) {
				unknown++;
				pc_finding(t, PLAN_CHECK_WARN, "node %" PRIu32 " link %zu state unknown",
				    n->id, l);
			} else if (s->connected) {
				connected++;
				up++;
			} else {
				pc_finding(t, PLAN_CHECK_WARN, "node %" PRIu32 " (%s) link %zu down",
				    n->id, pc_node_name(n), l);
			}
		}
		if (configured == 0)
			pc_finding(t, PLAN_CHECK_WARN, "node %" PRIu32 " shares no link with this node",
			    n->id);
		else if (connected == 0 && unknown == 0)
			pc_finding(t, PLAN_CHECK_FAIL, "node %" PRIu32 " (%s) unreachable on every link",
			    n->id, pc_node_name(n));
	}
	pc_findings_end(t);
	if (t->level == PLAN_CHECK_OK && peers == 0)
		pc_line_add(t, "no peers: nothing to connect to");
	else if (t->level == PLAN_CHECK_OK)
		pc_line_add(t, "%zu link(s) to %zu peer(s), all connected now", up, peers);
	else
		pc_line_add(t, ": a down link leaves its peer one failure from being cut off, a "
		    "peer with no link up is down or partitioned now; fix the link (corosync-cfgtool -s)");
}

/* links.latency: knet's average latency per link, WARN above 2 ms (issue 14). */
void
pc_check_links_latency(const struct ctx *x, struct line *t)
{
	uint64_t worst = 0;
	size_t measured = 0;

	if (x->env->links == NULL || x->local < 0) {
		pc_line_add(t, "knet latency unknown (no link statistics): cannot judge the "
		    "%d ms limit", PLAN_CHECK_LATENCY_WARN_US / 1000);
		t->level = PLAN_CHECK_WARN;
		return;
	}
	for (size_t i = 0; i < x->c->node_count; i++) {
		const struct plan_node *n = &x->c->nodes[i];

		if (pc_is_local(x, i))
			continue;
		for (size_t l = 0; l < PLAN_MAX_LINKS; l++) {
			const struct plan_link_state *s = &x->env->links[i][l];

			if (!s->known || !s->connected)
				continue;	/* links.status speaks for these */
			if (!s->latency_known) {
				pc_finding(t, PLAN_CHECK_WARN, "node %" PRIu32 " link %zu latency not known",
				    n->id, l);
				continue;
			}
			measured++;
			if (s->latency_avg_us > worst)
				worst = s->latency_avg_us;
			if (s->latency_avg_us > PLAN_CHECK_LATENCY_WARN_US)
				pc_finding(t, PLAN_CHECK_WARN, "node %" PRIu32 " (%s) link %zu average "
				    "%.3f ms", n->id, pc_node_name(n), l, (double)s->latency_avg_us / 1000);
		}
	}
	pc_findings_end(t);
	if (t->level == PLAN_CHECK_OK && measured == 0) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "no connected link has a latency figure: the %d ms limit is not judged",
		    PLAN_CHECK_LATENCY_WARN_US / 1000);
	} else if (t->level == PLAN_CHECK_OK) {
		pc_line_add(t, "%zu link(s) measured, worst average %.3f ms (limit %d ms)", measured,
		    (double)worst / 1000, PLAN_CHECK_LATENCY_WARN_US / 1000);
	} else {
		pc_line_add(t, ": above %d ms average the token rotation slows and a loaded link "
		    "nears token loss; keep cluster links local and unloaded",
		    PLAN_CHECK_LATENCY_WARN_US / 1000);
	}
}

/*
 * links.subnet: the nodes' addresses on one link in one subnet. The
 * prefix comes from this node's interface holding its address on that
 * link; otherwise /24 (IPv4) or /64 (IPv6) is assumed and said so.
 */
void
pc_check_links_subnet(const struct ctx *x, struct line *t)
{
	struct line ok = { 0 };

	for (size_t l = 0; l < PLAN_MAX_LINKS; l++) {
		struct plan_ip ref, ip, net;
		const struct plan_iface_addr *ifa = NULL;
		size_t ref_i = SIZE_MAX, with_addr = 0;
		unsigned prefix;
		bool bad = false;
		char a[64], b[64];

		for (size_t i = 0; i < x->c->node_count; i++)
			with_addr += x->c->nodes[i].addrs[l] != NULL;
		if (with_addr < 2)
			continue;
		/* Reference: this node's address when known, else the first resolvable. */
		if (x->local >= 0 && pc_ring_ip(x, (size_t)x->local, l, &ref))
			ref_i = (size_t)x->local;
		for (size_t i = 0; i < x->c->node_count && ref_i == SIZE_MAX; i++)
			if (pc_ring_ip(x, i, l, &ref))
				ref_i = i;
		if (ref_i == SIZE_MAX) {
			pc_finding(t, PLAN_CHECK_WARN, "link %zu: no address resolved", l);
			continue;
		}
		if (pc_is_local(x, ref_i))
			ifa = pc_iface_holding(x, &ref);
		prefix = ifa != NULL ? ifa->prefix_len : ref.family == AF_INET ? 24 : 64;
		net = ref;
		for (size_t k = 0; k < sizeof(net.bytes); k++) {
			unsigned bit = (unsigned)k * 8;

			net.bytes[k] &= bit >= prefix ? 0 : prefix - bit >= 8 ? 0xff :
			    (uint8_t)(0xff << (8 - (prefix - bit)));
		}
		plan_ip_str(&net, a, sizeof(a));
		for (size_t i = 0; i < x->c->node_count; i++) {
			const struct plan_node *n = &x->c->nodes[i];

			if (n->addrs[l] == NULL || i == ref_i)
				continue;
			if (!pc_ring_ip(x, i, l, &ip)) {
				pc_finding(t, PLAN_CHECK_WARN, "link %zu: node %" PRIu32 " address %s not "
				    "resolved", l, n->id, n->addrs[l]);
				bad = true;
			} else if (ip.family != ref.family) {
				pc_finding(t, PLAN_CHECK_FAIL, "link %zu mixes IPv4 and IPv6 (node %" PRIu32
				    " %s): knet cannot connect them", l, n->id, n->addrs[l]);
				bad = true;
			} else if (!plan_ip_same_prefix(&ip, &ref, prefix)) {
				plan_ip_str(&ip, b, sizeof(b));
				pc_finding(t, PLAN_CHECK_WARN, "link %zu: node %" PRIu32 " %s is outside "
				    "%s/%u (%s)", l, n->id, b, a, prefix,
				    ifa != NULL ? ifa->name : "assumed");
				bad = true;
			}
		}
		if (!bad)
			pc_line_add(&ok, "%slink %zu in %s/%u (%s%s)", ok.len ? ", " : "", l, a,
			    prefix, ifa != NULL ? "netmask of " : "assumed, ",
			    ifa != NULL ? ifa->name : "this node's interface unknown");
	}
	pc_findings_end(t);
	if (t->level == PLAN_CHECK_OK && ok.len == 0) {
		pc_line_add(t, "no link has addresses on two nodes: nothing to compare");
	} else if (t->level == PLAN_CHECK_OK) {
		pc_line_add(t, "%s", ok.s);
	} else {
		pc_line_add(t, ": a link's addresses must be of one family, and a link that spans "
		    "subnets is routed, adding hops and failure points to corosync's path; put "
		    "each link's addresses in one subnet");
		if (ok.len)
			pc_line_add(t, " (fine: %s)", ok.s);
	}
	t->oom |= ok.oom;
	free(ok.s);
}

/* Does the address set r contain one of node i's ring addresses? */
static bool
name_matches_ring(const struct ctx *x, size_t i, const struct plan_resolved *r)
{
	for (size_t l = 0; l < PLAN_MAX_LINKS; l++) {
		const struct plan_resolved *rr = pc_ring_resolved(x, i, l);
		struct plan_ip ip;

		if (plan_ip_parse(x->c->nodes[i].addrs[l], &ip)) {
			for (size_t k = 0; k < r->count; k++)
				if (plan_ip_equal(&r->addrs[k], &ip))
					return true;
		} else if (rr != NULL && rr->ok) {
			for (size_t k = 0; k < r->count; k++)
				for (size_t m = 0; m < rr->count; m++)
					if (plan_ip_equal(&r->addrs[k], &rr->addrs[m]))
						return true;
		}
	}
	return false;
}

/* names.resolve: every node name resolves to one of its configured addresses. */
void
pc_check_names_resolve(const struct ctx *x, struct line *t)
{
	size_t named = 0;

	if (!x->probe_nodes) {
		pc_line_add(t, "node names were not resolved (no probe): unknown whether they "
		    "match the ring addresses");
		t->level = PLAN_CHECK_WARN;
		return;
	}
	for (size_t i = 0; i < x->c->node_count; i++) {
		const struct plan_node *n = &x->c->nodes[i];
		const struct plan_resolved *r = &x->p->nodes[i].name;
		char a[64];

		for (size_t l = 0; l < PLAN_MAX_LINKS; l++) {
			const struct plan_resolved *rr = pc_ring_resolved(x, i, l);

			if (n->addrs[l] != NULL && (rr == NULL || !rr->ok))
				pc_finding(t, PLAN_CHECK_FAIL, "node %" PRIu32 " ring%zu_addr %s does not "
				    "resolve (%s)", n->id, l, n->addrs[l],
				    rr != NULL ? rr->error : "not tried");
		}
		if (n->name == NULL)
			continue;
		named++;
		if (!r->tried || !r->ok) {
			pc_finding(t, PLAN_CHECK_WARN, "name %s of node %" PRIu32 " does not resolve (%s)",
			    n->name, n->id, r->tried ? r->error : "not tried");
		} else if (!name_matches_ring(x, i, r)) {
			plan_ip_str(&r->addrs[0], a, sizeof(a));
			pc_finding(t, PLAN_CHECK_WARN, "name %s of node %" PRIu32 " resolves to %s, none "
			    "of its ring addresses", n->name, n->id, a);
		}
	}
	pc_findings_end(t);
	if (t->level == PLAN_CHECK_OK)
		pc_line_add(t, "%zu node name(s) resolve to their ring addresses, every ring address "
		    "resolves", named);
	else
		pc_line_add(t, ": corosync needs every ring address resolved at start, and "
		    "tools that reach a node by name reach the wrong host or none; fix DNS or "
		    "/etc/hosts on every node to give each name its ring0 address");
}

/*
 * votes.even: an even node count without a device has no tie-break for a
 * half/half split; ffsplit is built for even counts (a 50:50 split), so on
 * an odd count lms fits better (WARN both, issue 14).
 */
void
pc_check_votes_even(const struct ctx *x, struct line *t)
{
	size_t n = x->c->node_count;

	if (n == 0) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "node count unknown");
	} else if (!x->c->has_device && n % 2 == 0) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "%zu nodes and no quorum device: a %zu|%zu split leaves no side "
		    "quorate%s; add a qdevice (ffsplit) or a node", n, n / 2, n / 2,
		    x->c->two_node ? " (two_node makes it a fencing race instead)" : "");
	} else if (x->c->has_device && x->c->algorithm == ALGORITHM_FFSPLIT && n % 2 == 1) {
		t->level = PLAN_CHECK_WARN;
		pc_line_add(t, "ffsplit on %zu nodes (odd): ffsplit breaks 50:50 ties, which an odd "
		    "count cannot have, so its vote rarely helps; use lms (with votes = nodes - 1) "
		    "to survive down to one node", n);
	} else {
		pc_line_add(t, "%zu node(s)%s%s", n, x->c->has_device ? " with a quorum device" :
		    ", odd count", x->c->has_device ? "" : ": no half/half split possible");
	}
}

typedef void (*check_fn)(const struct ctx *x, struct line *t);

static const struct {
	const char	*id;
	check_fn	 fn;
} check_table[] = {
	{ "links.count", pc_check_links_count },
	{ "links.status", pc_check_links_status },
	{ "links.latency", pc_check_links_latency },
	{ "links.subnet", pc_check_links_subnet },
	{ "names.resolve", pc_check_names_resolve },
	{ "clock.sync", pc_check_clock_sync },
	{ "arbiter.reachable", pc_check_arbiter_reachable },
	{ "arbiter.not-member", pc_check_arbiter_not_member },
	{ "arbiter.path", pc_check_arbiter_path },
	{ "qdevice.state", pc_check_qdevice_state },
	{ "timeouts.device", pc_check_timeouts_device },
	{ "timeouts.heartbeat", pc_check_timeouts_heartbeat },
	{ "timeouts.sbd", pc_check_timeouts_sbd },
	{ "cert.expiry", pc_check_cert_expiry },
	{ "votes.even", pc_check_votes_even },
};
#define CHECK_COUNT	(sizeof(check_table) / sizeof(check_table[0]))

int
plan_checks_run(const struct plan_cluster *c, const struct plan_env *env,
    const struct plan_probe *probe, struct plan_checks *out)
{
	struct ctx x = { .c = c, .env = env, .p = probe, .local = -1 };

	out->items = NULL;
	out->count = 0;
	if (c == NULL || env == NULL || (c->node_count > 0 && c->nodes == NULL))
		return -EINVAL;
	x.probe_nodes = probe != NULL && probe->nodes != NULL &&
	    probe->node_count == c->node_count;
	for (size_t i = 0; i < c->node_count && env->local_node_id != 0; i++)
		if (c->nodes[i].id == env->local_node_id)
			x.local = (long)i;
	out->items = calloc(CHECK_COUNT, sizeof(*out->items));
	if (out->items == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < CHECK_COUNT; i++) {
		struct line t = { 0 };
		struct plan_check *item = &out->items[out->count];

		check_table[i].fn(&x, &t);
		item->id = strdup(check_table[i].id);
		if (t.oom || t.s == NULL || item->id == NULL) {
			free(item->id);
			free(t.s);
			plan_checks_fini(out);
			return -ENOMEM;
		}
		item->level = t.level;
		item->text = t.s;
		out->count++;
	}
	return 0;
}

void
plan_checks_fini(struct plan_checks *checks)
{
	for (size_t i = 0; i < checks->count; i++) {
		free(checks->items[i].id);
		free(checks->items[i].text);
	}
	free(checks->items);
	checks->items = NULL;
	checks->count = 0;
}

int
plan_checks_worst(const struct plan_checks *checks)
{
	int worst = PLAN_CHECK_OK;

	for (size_t i = 0; i < checks->count; i++)
		if ((int)checks->items[i].level > worst)
			worst = (int)checks->items[i].level;
	return worst;
}

const char *
plan_check_level_name(enum plan_check_level l)
{
	switch (l) {
	case PLAN_CHECK_OK:
		return "OK";
	case PLAN_CHECK_WARN:
		return "WARN";
	case PLAN_CHECK_FAIL:
		return "FAIL";
	}
	return "?";
}

const struct plan_check *
plan_checks_find(const struct plan_checks *checks, const char *id)
{
	for (size_t i = 0; i < checks->count; i++)
		if (strcmp(checks->items[i].id, id) == 0)
			return &checks->items[i];
	return NULL;
}
