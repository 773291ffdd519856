/*
 * tests/unit/algo-view.h: the cluster view the decision-algorithm tests
 * (algo-scenario.c, test-algo-decision.c, test-ffsplit-scale.c) hand to
 * decide(): the clients stored in place and the cluster pointing at them,
 * in node id order as the server keeps them.
 */
#ifndef TESTS_UNIT_ALGO_VIEW_H
#define TESTS_UNIT_ALGO_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "qnetd/algorithms/algorithm.h"

#define ALGO_VIEW_MAX	16	/* clients in a view */

struct algo_view {
	struct algo_client	 store[ALGO_VIEW_MAX];
	struct algo_client	*ptrs[ALGO_VIEW_MAX];	/* cluster.clients */
	size_t			 stored;		/* clients to fini */
	struct algo_cluster	 cluster;
};

/* An empty view. */
void	algo_view_init(struct algo_view *v);
/*
 * A new client at the end of the view (ids ascending), of algorithm and
 * tie-breaker, otherwise as algo_client_init() leaves it.
 */
struct algo_client *algo_view_add(struct algo_view *v, uint32_t node_id, uint8_t algorithm,
	    struct tie_breaker tb);
/* Frees every client ever added, including those since dropped from the cluster. */
void	algo_view_fini(struct algo_view *v);
/* l := the first ids up to a 0 or max of them, in their order. */
void	algo_view_fill(struct node_list *l, const uint32_t *ids, size_t max);

#endif
