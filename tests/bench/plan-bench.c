/*
 * tests/bench/plan-bench.c: how long the failure planner takes to build
 * its matrix for 10 nodes (every partition) and 16 nodes (the bounded
 * subset), each with two links and an ffsplit and an lms device. Prints
 * one line per case; it asserts nothing about time (issue 14: a benchmark
 * line, not a timed test). Usage: plan-bench [repeats]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "qdevice/plan.h"

/* The tree's one clock (common/clock.h), in ms with fractions. */
static double
now_ms(void)
{
	return (double)clock_now_ns() / (double)NS_PER_MS;
}

static char *
dup_or_die(const char *s)
{
	char *d = strdup(s);

	if (d == NULL) {
		fprintf(stderr, "plan-bench: out of memory\n");
		exit(2);
	}
	return d;
}

static void
make_cluster(struct plan_cluster *c, size_t n, uint8_t algorithm)
{
	char buf[64];

	memset(c, 0, sizeof(*c));
	c->nodes = calloc(n, sizeof(*c->nodes));
	if (c->nodes == NULL) {
		fprintf(stderr, "plan-bench: out of memory\n");
		exit(2);
	}
	c->node_count = n;
	c->link_count = 2;
	for (size_t i = 0; i < n; i++) {
		c->nodes[i].id = (uint32_t)i + 1;
		c->nodes[i].votes = 1;
		snprintf(buf, sizeof(buf), "n%zu", i + 1);
		c->nodes[i].name = dup_or_die(buf);
		snprintf(buf, sizeof(buf), "198.18.0.%zu", i + 1);
		c->nodes[i].addrs[0] = dup_or_die(buf);
		snprintf(buf, sizeof(buf), "198.19.0.%zu", i + 1);
		c->nodes[i].addrs[1] = dup_or_die(buf);
	}
	c->has_device = true;
	c->algorithm = algorithm;
	c->device_votes = algorithm == ALGORITHM_FFSPLIT ? 1 : 0;
	c->tie_breaker.mode = TIE_BREAKER_LOWEST;
	c->kap_tie_breaker = true;
}

static int
bench(size_t n, uint8_t algorithm, const char *name, int repeats)
{
	struct plan_cluster c;
	struct plan_matrix m;
	char err[256];
	double best = -1.0;
	size_t rows = 0, races = 0, nobody = 0;
	bool complete = true;
	int rc = 0;

	make_cluster(&c, n, algorithm);
	for (int r = 0; r < repeats && rc == 0; r++) {
		double t0 = now_ms(), t;

		rc = plan_matrix_build(&c, &m, err, sizeof(err));
		t = now_ms() - t0;
		if (rc != 0) {
			fprintf(stderr, "plan-bench: %zu nodes %s: %s (%s)\n", n, name, err,
			    strerror(-rc));
			break;
		}
		if (best < 0 || t < best)
			best = t;
		rows = m.count;
		complete = m.partitions_complete;
		races = nobody = 0;
		for (size_t i = 0; i < m.count; i++) {
			races += m.rows[i].race;
			nobody += m.rows[i].verdict == PLAN_NOBODY;
		}
		plan_matrix_fini(&m);
	}
	if (rc == 0)
		printf("plan matrix: %zu nodes, %s, %zu rows (partitions: %s), %zu nobody "
		    "quorate, %zu races, %.1f ms (best of %d)\n", n, name, rows,
		    complete ? "all" : "subset", nobody, races, best, repeats);
	plan_cluster_fini(&c);
	return rc;
}

int
main(int argc, char **argv)
{
	int repeats = argc > 1 ? atoi(argv[1]) : 3;

	if (repeats < 1)
		repeats = 1;
	if (bench(10, ALGORITHM_FFSPLIT, "ffsplit", repeats) != 0 ||
	    bench(10, ALGORITHM_LMS, "lms", repeats) != 0 ||
	    bench(16, ALGORITHM_FFSPLIT, "ffsplit", repeats) != 0 ||
	    bench(16, ALGORITHM_LMS, "lms", repeats) != 0)
		return 1;
	return 0;
}
