/*
 * tests/unit/algo-view.c: see algo-view.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/algo-view.h"

void
algo_view_init(struct algo_view *v)
{
	v->stored = 0;
	algo_cluster_init(&v->cluster);
	v->cluster.clients = v->ptrs;
	v->cluster.count = 0;
}

struct algo_client *
algo_view_add(struct algo_view *v, uint32_t node_id, uint8_t algorithm, struct tie_breaker tb)
{
	struct algo_client *c;

	assert_true(v->stored < ALGO_VIEW_MAX);
	if (v->stored > 0 && node_id <= v->store[v->stored - 1].node_id)
		fail_msg("client %u added after %u: ids must ascend", node_id,
		    v->store[v->stored - 1].node_id);
	c = &v->store[v->stored];
	algo_client_init(c);
	c->node_id = node_id;
	c->algorithm = algorithm;
	c->tie_breaker = tb;
	v->ptrs[v->stored++] = c;
	v->cluster.count = v->stored;
	return c;
}

void
algo_view_fini(struct algo_view *v)
{
	for (size_t i = 0; i < v->stored; i++)
		algo_client_fini(&v->store[i]);
	algo_cluster_fini(&v->cluster);
}

void
algo_view_fill(struct node_list *l, const uint32_t *ids, size_t max)
{
	node_list_clear(l);
	for (size_t i = 0; i < max && ids[i] != 0; i++)
		assert_int_equal(node_list_add_id(l, ids[i]), 0);
}
