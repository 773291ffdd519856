/*
 * qdevice/plan.c: the failure planner's core (plan.h): which nodes a
 * failure leaves able to reach each other, the quorum each of them ends
 * with (votequorum's arithmetic from plan-votequorum.c, the device's vote
 * from the simulated arbiter in plan-sim.c), the matrix of every failure
 * the planner enumerates, and the words for each.
 *
 * A failure is a sudden event from the steady running state; the two
 * failures of a double happen together. Connectivity: two running nodes
 * reach each other when a link that is not down has an address on both
 * and no partition cut lies between them; the arbiter stays reachable
 * from both sides of a partition unless the arbiter or a node's path to
 * it is down. When more than one group of nodes reports a new membership
 * the run is repeated with each group reaching the arbiter first; a
 * different outcome is a race and both outcomes are kept.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "plan-sim.h"
#include "plan-votequorum.h"

struct plan_ctx {
	const struct plan_cluster	*c;
	struct plan_vq			 vq;
	struct plan_sim			*sim;
	uint64_t			 all;
};

static void
ctx_fini(struct plan_ctx *x)
{
	plan_sim_free(x->sim);
	x->sim = NULL;
}

static int
ctx_init(struct plan_ctx *x, const struct plan_cluster *c, char *err, size_t err_len)
{
	int rc;

	memset(x, 0, sizeof(*x));
	x->c = c;
	if ((rc = plan_vq_init(c, &x->vq, err, err_len)) != 0)
		return rc;
	x->all = c->node_count >= 64 ? ~0ULL : (1ULL << c->node_count) - 1;
	rc = plan_sim_new(c, &x->vq, &x->sim);
	if (rc == -ELOOP && err != NULL && err_len > 0)
		snprintf(err, err_len, "the arbiter simulation of the running cluster did "
		    "not settle");
	else if (rc == -EINVAL && err != NULL && err_len > 0)
		snprintf(err, err_len, "the decision algorithm failed on the running cluster");
	return rc;
}

static bool
reach(const struct plan_ctx *x, const struct plan_failure *f, size_t i, size_t j)
{
	if (f->partitioned && ((f->side_a >> i) & 1) != ((f->side_a >> j) & 1))
		return false;
	return (x->vq.link_mask[i] & x->vq.link_mask[j] & ~(uint64_t)f->links_down) != 0;
}

/* Running nodes grouped by reachability, each group's lowest node first in order. */
static size_t
components_of(const struct plan_ctx *x, const struct plan_failure *f, uint64_t *comps)
{
	uint64_t left = x->all & ~f->nodes_down;
	size_t count = 0, n = x->c->node_count;

	while (left != 0) {
		uint64_t comp = left & (~left + 1);	/* lowest remaining node */
		bool grew = true;

		while (grew) {
			grew = false;
			for (size_t i = 0; i < n; i++) {
				if (!(left & (1ULL << i)) || (comp & (1ULL << i)))
					continue;
				for (size_t j = 0; j < n; j++)
					if ((comp & (1ULL << j)) && reach(x, f, i, j)) {
						comp |= 1ULL << i;
						grew = true;
						break;
					}
			}
		}
		comps[count++] = comp;
		left &= ~comp;
	}
	return count;
}

static uint64_t
quorate_nodes(const struct plan_ctx *x, const uint64_t *comps, size_t count, uint64_t votes)
{
	uint64_t q = 0;

	for (size_t k = 0; k < count; k++)
		for (size_t i = 0; i < x->c->node_count; i++)
			if ((comps[k] & (1ULL << i)) &&
			    plan_vq_quorate(x->c, &x->vq, comps[k], (votes >> i) & 1))
				q |= 1ULL << i;
	return q;
}

static int
ctx_evaluate(struct plan_ctx *x, const struct plan_failure *f, uint64_t *quorate,
    bool *race, uint64_t *quorate_alt)
{
	uint64_t comps[PLAN_MAX_NODES], votes, q;
	size_t count, runs;
	int rc;

	*quorate = 0;
	*race = false;
	*quorate_alt = 0;
	if ((f->nodes_down | f->arbiter_path_down | f->side_a) & ~x->all ||
	    f->links_down >> PLAN_MAX_LINKS != 0)
		return -EINVAL;
	count = components_of(x, f, comps);
	runs = x->vq.device_operative && !f->arbiter_down && count > 1 ? count : 1;
	for (size_t first = 0; first < runs; first++) {
		if ((rc = plan_sim_failure(x->sim, f, comps, count, first, &votes)) != 0)
			return rc;
		q = quorate_nodes(x, comps, count, votes);
		if (first == 0) {
			*quorate = q;
		} else if (q != *quorate && !*race) {
			*race = true;
			*quorate_alt = q;
		}
	}
	return 0;
}

int
plan_evaluate(const struct plan_cluster *c, const struct plan_failure *f,
    uint64_t *quorate, bool *race, uint64_t *quorate_alt)
{
	struct plan_ctx x;
	int rc;

	*quorate = 0;
	*race = false;
	*quorate_alt = 0;
	if ((rc = ctx_init(&x, c, NULL, 0)) == 0)
		rc = ctx_evaluate(&x, f, quorate, race, quorate_alt);
	ctx_fini(&x);
	return rc;
}

static enum plan_verdict
verdict_of(uint64_t running, uint64_t quorate)
{
	quorate &= running;
	if (quorate == 0)
		return PLAN_NOBODY;
	return quorate == running ? PLAN_SURVIVES : PLAN_DEGRADED;
}

/* ---- arithmetic ---- */

/* Worst first: most votes, the ATB node before its equals, then by id. */
static void
worst_order(const struct plan_ctx *x, size_t *order)
{
	size_t n = x->c->node_count;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			size_t a = order[j - 1], b = order[j];
			uint32_t va = x->c->nodes[a].votes, vb = x->c->nodes[b].votes;
			bool swap = vb > va || (vb == va && b == x->vq.atb_node);

			if (!swap)
				break;
			order[j - 1] = b;
			order[j] = a;
		}
}

/* Largest k such that losing the k worst nodes (plus the arbiter) keeps every survivor quorate. */
static int
failures_tolerated(struct plan_ctx *x, const size_t *order, bool arbiter_down,
    uint32_t *tolerated, bool *none_ok)
{
	struct plan_failure f = { .arbiter_down = arbiter_down };
	uint64_t q, alt;
	bool race;
	int rc;

	*tolerated = 0;
	*none_ok = false;
	for (size_t k = 0; k < x->c->node_count; k++) {
		if (k > 0)
			f.nodes_down |= 1ULL << order[k - 1];
		if ((rc = ctx_evaluate(x, &f, &q, &race, &alt)) != 0)
			return rc;
		if (verdict_of(x->all & ~f.nodes_down, q) != PLAN_SURVIVES || race)
			break;
		if (k == 0)
			*none_ok = true;
		else
			*tolerated = (uint32_t)k;
	}
	return 0;
}

int
plan_arithmetic(const struct plan_cluster *c, struct plan_arithmetic *out,
    char *err, size_t err_len)
{
	size_t order[PLAN_MAX_NODES];
	struct plan_ctx x;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ctx_init(&x, c, err, err_len)) != 0) {
		ctx_fini(&x);
		return rc;
	}
	out->node_votes = x.vq.node_votes;
	out->device_votes = x.vq.device_votes;
	out->expected_votes = x.vq.expected;
	out->quorum = x.vq.two_node ? 1 : x.vq.quorum;	/* votequorum(5) two_node */
	out->device_operative = x.vq.device_operative;
	out->device_note = x.vq.device_note;
	out->two_node = x.vq.two_node;
	out->wait_for_all = x.vq.wait_for_all;
	out->auto_tie_breaker = x.vq.atb;
	if (x.vq.atb_node != PLAN_VQ_NO_NODE)
		out->atb_node_id = c->nodes[x.vq.atb_node].id;
	worst_order(&x, order);
	rc = failures_tolerated(&x, order, false, &out->node_failures_with_arbiter,
	    &out->baseline_quorate);
	if (rc == 0 && c->has_device)
		rc = failures_tolerated(&x, order, true, &out->node_failures_without_arbiter,
		    &out->survives_arbiter_loss);
	else if (rc == 0) {
		out->node_failures_without_arbiter = out->node_failures_with_arbiter;
		out->survives_arbiter_loss = out->baseline_quorate;
	}
	if (rc != 0 && err != NULL && err_len > 0)
		snprintf(err, err_len, rc == -ELOOP ? "the arbiter simulation did not settle" :
		    "cannot compute the quorum arithmetic");
	ctx_fini(&x);
	return rc;
}

/* ---- words ---- */

struct words {
	char	*s;
	size_t	 len, cap;
	bool	 failed;
};

static void __attribute__((format(printf, 2, 3)))
say(struct words *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(w->s != NULL ? w->s + w->len : NULL,
		    w->s != NULL ? w->cap - w->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			w->failed = true;
			return;
		}
		if (w->s != NULL && w->len + (size_t)n < w->cap) {
			w->len += (size_t)n;
			return;
		}
		size_t cap = (w->cap + (size_t)n + 1) * 2;
		char *s = realloc(w->s, cap);

		if (s == NULL) {
			w->failed = true;
			return;
		}
		w->s = s;
		w->cap = cap;
	}
}

static void
say_node(struct words *w, const struct plan_cluster *c, size_t i)
{
	if (c->nodes[i].name != NULL && c->nodes[i].name[0] != '\0')
		say(w, "node %u (%s)", (unsigned)c->nodes[i].id, c->nodes[i].name);
	else
		say(w, "node %u", (unsigned)c->nodes[i].id);
}

struct single {
	enum plan_kind		kind;
	struct plan_failure	f;
	size_t			what;	/* node index or link id */
};

static void
say_single(struct words *w, const struct plan_cluster *c, const struct single *s)
{
	switch (s->kind) {
	case PLAN_KIND_NODE:
		say_node(w, c, s->what);
		say(w, " down");
		break;
	case PLAN_KIND_LINK:
		say(w, "link %zu down", s->what);
		break;
	case PLAN_KIND_ARBITER:
		say(w, "arbiter down");
		break;
	default:
		say_node(w, c, s->what);
		say(w, " cannot reach the arbiter");
		break;
	}
}

static void
say_partition(struct words *w, const struct plan_cluster *c, uint64_t side_a)
{
	say(w, "partition");
	for (int side = 1; side >= 0; side--) {
		if (side == 0)
			say(w, " |");
		for (size_t i = 0; i < c->node_count; i++)
			if ((int)((side_a >> i) & 1) == side)
				say(w, " %u", (unsigned)c->nodes[i].id);
	}
}

/* ---- the matrix ---- */

static size_t
singles_of(const struct plan_ctx *x, struct single *out)
{
	const struct plan_cluster *c = x->c;
	uint64_t links = 0;
	size_t n = 0;

	for (size_t i = 0; i < c->node_count; i++) {
		links |= x->vq.link_mask[i];
		out[n++] = (struct single){ .kind = PLAN_KIND_NODE, .what = i,
		    .f = { .nodes_down = 1ULL << i } };
	}
	for (size_t l = 0; l < PLAN_MAX_LINKS; l++)
		if (links & (1ULL << l))
			out[n++] = (struct single){ .kind = PLAN_KIND_LINK, .what = l,
			    .f = { .links_down = 1U << l } };
	if (!c->has_device)
		return n;
	out[n++] = (struct single){ .kind = PLAN_KIND_ARBITER, .f = { .arbiter_down = true } };
	for (size_t i = 0; i < c->node_count; i++)
		out[n++] = (struct single){ .kind = PLAN_KIND_ARBITER_PATH, .what = i,
		    .f = { .arbiter_path_down = 1ULL << i } };
	return n;
}

/* A node that is down has no path to lose: that pair is the single failure again. */
static bool
redundant_pair(const struct single *a, const struct single *b)
{
	return (a->f.nodes_down & b->f.arbiter_path_down) ||
	    (b->f.nodes_down & a->f.arbiter_path_down);
}

/* A partition and the size of its smaller side, the order the matrix lists them in. */
struct side_key {
	unsigned	smaller;
	uint64_t	side_a;
};

static int
cmp_sides(const void *pa, const void *pb)
{
	const struct side_key *a = pa, *b = pb;

	if (a->smaller != b->smaller)
		return a->smaller < b->smaller ? -1 : 1;
	return a->side_a < b->side_a ? -1 : a->side_a > b->side_a;
}

/*
 * side_a of every two-way partition the matrix lists (always holding the
 * first node): all of them up to PLAN_FULL_PARTITION_NODES nodes, else the
 * splits with a side of 1 or 2 nodes and the splits into two runs of
 * consecutive nodes (by id, wrapping around). Sorted by the smaller side.
 */
static int
partitions_of(const struct plan_ctx *x, uint64_t **out, size_t *count)
{
	size_t n = x->c->node_count, cap, k = 0;
	struct side_key *s;
	uint64_t *sides;

	*out = NULL;
	*count = 0;
	if (n < 2)
		return 0;
	cap = n <= PLAN_FULL_PARTITION_NODES ? ((size_t)1 << (n - 1)) :
	    n + n * (n - 1) / 2 + n * (n / 2);
	if ((s = calloc(cap, sizeof(*s))) == NULL)
		return -ENOMEM;
	if (n <= PLAN_FULL_PARTITION_NODES) {
		for (uint64_t m = 0; m + 1 < ((uint64_t)1 << (n - 1)); m++)
			s[k++].side_a = 1 | (m << 1);
	} else {
		for (size_t i = 0; i < n; i++) {
			s[k++].side_a = 1ULL << i;
			for (size_t j = i + 1; j < n; j++)
				s[k++].side_a = (1ULL << i) | (1ULL << j);
		}
		for (size_t len = 3; len <= n / 2; len++)
			for (size_t start = 0; start < n; start++) {
				uint64_t w = 0;

				for (size_t t = 0; t < len; t++)
					w |= 1ULL << ((start + t) % n);
				s[k++].side_a = w;
			}
	}
	for (size_t i = 0; i < k; i++) {
		unsigned a;

		if (!(s[i].side_a & 1))
			s[i].side_a = x->all & ~s[i].side_a;
		a = (unsigned)__builtin_popcountll(s[i].side_a);
		s[i].smaller = a < n - a ? a : (unsigned)(n - a);
	}
	qsort(s, k, sizeof(*s), cmp_sides);
	if ((sides = calloc(k, sizeof(*sides))) == NULL) {
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k; i++)
		if (*count == 0 || sides[*count - 1] != s[i].side_a)
			sides[(*count)++] = s[i].side_a;
	free(s);
	*out = sides;
	return 0;
}

void
plan_matrix_fini(struct plan_matrix *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->count; i++)
		free(m->rows[i].scenario);
	free(m->rows);
	free(m->limits_note);
	memset(m, 0, sizeof(*m));
}

static int
add_row(struct plan_ctx *x, struct plan_matrix *m, enum plan_kind kind,
    const struct plan_failure *f, struct words *w, char *err, size_t err_len)
{
	struct plan_row *row = &m->rows[m->count];
	enum plan_verdict v;
	int rc;

	if (w->failed || w->s == NULL) {
		free(w->s);
		return -ENOMEM;
	}
	memset(row, 0, sizeof(*row));
	row->kind = kind;
	row->failure = *f;
	row->scenario = w->s;
	m->count++;
	rc = ctx_evaluate(x, f, &row->quorate, &row->race, &row->quorate_alt);
	if (rc != 0) {
		if (err != NULL && err_len > 0)
			snprintf(err, err_len, "%s: %s", row->scenario, rc == -ELOOP ?
			    "the arbiter simulation did not settle" : "cannot evaluate");
		return rc;
	}
	row->verdict = verdict_of(x->all & ~f->nodes_down, row->quorate);
	if (row->race) {
		v = verdict_of(x->all & ~f->nodes_down, row->quorate_alt);
		if (v > row->verdict)
			row->verdict = v;	/* never show the better of two outcomes */
	}
	return 0;
}

static int
build_rows(struct plan_ctx *x, struct plan_matrix *m, const struct single *singles,
    size_t ns, const uint64_t *sides, size_t np, char *err, size_t err_len)
{
	struct plan_failure none = { 0 };
	struct words w = { 0 };
	int rc;

	say(&w, "no failure");
	if ((rc = add_row(x, m, PLAN_KIND_NONE, &none, &w, err, err_len)) != 0)
		return rc;
	for (size_t i = 0; i < ns; i++) {
		memset(&w, 0, sizeof(w));
		say_single(&w, x->c, &singles[i]);
		if ((rc = add_row(x, m, singles[i].kind, &singles[i].f, &w, err, err_len)) != 0)
			return rc;
	}
	for (size_t i = 0; i < ns; i++)
		for (size_t j = i + 1; j < ns; j++) {
			struct plan_failure f = singles[i].f;

			if (redundant_pair(&singles[i], &singles[j]))
				continue;
			f.nodes_down |= singles[j].f.nodes_down;
			f.arbiter_path_down |= singles[j].f.arbiter_path_down;
			f.links_down |= singles[j].f.links_down;
			f.arbiter_down |= singles[j].f.arbiter_down;
			memset(&w, 0, sizeof(w));
			say_single(&w, x->c, &singles[i]);
			say(&w, " + ");
			say_single(&w, x->c, &singles[j]);
			if ((rc = add_row(x, m, PLAN_KIND_DOUBLE, &f, &w, err, err_len)) != 0)
				return rc;
		}
	for (size_t p = 0; p < np; p++) {
		struct plan_failure f = { .partitioned = true, .side_a = sides[p] };

		memset(&w, 0, sizeof(w));
		say_partition(&w, x->c, sides[p]);
		if ((rc = add_row(x, m, PLAN_KIND_PARTITION, &f, &w, err, err_len)) != 0)
			return rc;
	}
	return 0;
}

static int
note_limits(const struct plan_ctx *x, struct plan_matrix *m, size_t np)
{
	size_t n = x->c->node_count;
	struct words w = { 0 };

	m->partitions_complete = n <= PLAN_FULL_PARTITION_NODES;
	if (m->partitions_complete)
		return 0;
	say(&w, "partitions: %zu of the %llu two-way splits of %zu nodes: every split "
	    "with a side of 1 or 2 nodes, and every split into two runs of consecutive "
	    "node ids (wrapping around) of 3 to %zu nodes", np,
	    (unsigned long long)((1ULL << (n - 1)) - 1), n, n / 2);
	if (w.failed)
		return -ENOMEM;
	m->limits_note = w.s;
	return 0;
}

int
plan_matrix_build(const struct plan_cluster *c, struct plan_matrix *out,
    char *err, size_t err_len)
{
	struct single singles[PLAN_MAX_NODES * 2 + PLAN_MAX_LINKS + 1];
	uint64_t *sides = NULL;
	size_t ns, np, cap;
	struct plan_ctx x;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ctx_init(&x, c, err, err_len)) != 0)
		goto done;
	ns = singles_of(&x, singles);
	if ((rc = partitions_of(&x, &sides, &np)) != 0)
		goto done;
	cap = 1 + ns + ns * (ns - 1) / 2 + np;
	if ((out->rows = calloc(cap, sizeof(*out->rows))) == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	if ((rc = build_rows(&x, out, singles, ns, sides, np, err, err_len)) == 0)
		rc = note_limits(&x, out, np);
done:
	if (rc != 0) {
		plan_matrix_fini(out);
		if (rc == -ENOMEM && err != NULL && err_len > 0)
			snprintf(err, err_len, "out of memory");
	}
	free(sides);
	ctx_fini(&x);
	return rc;
}

void
plan_cluster_fini(struct plan_cluster *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->nodes != NULL && i < c->node_count; i++) {
		free(c->nodes[i].name);
		for (int l = 0; l < PLAN_MAX_LINKS; l++)
			free(c->nodes[i].addrs[l]);
	}
	free(c->nodes);
	free(c->atb_nodes);
	memset(c, 0, sizeof(*c));
}

const char *
plan_kind_name(enum plan_kind k)
{
	switch (k) {
	case PLAN_KIND_NONE:
		return "none";
	case PLAN_KIND_NODE:
		return "node";
	case PLAN_KIND_LINK:
		return "link";
	case PLAN_KIND_ARBITER:
		return "arbiter";
	case PLAN_KIND_ARBITER_PATH:
		return "arbiter-path";
	case PLAN_KIND_DOUBLE:
		return "double";
	case PLAN_KIND_PARTITION:
		return "partition";
	}
	return "unknown";
}

const char *
plan_verdict_name(enum plan_verdict v)
{
	switch (v) {
	case PLAN_SURVIVES:
		return "survives";
	case PLAN_DEGRADED:
		return "degraded";
	case PLAN_NOBODY:
		return "nobody quorate";
	}
	return "unknown";
}
