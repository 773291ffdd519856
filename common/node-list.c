/* common/node-list.c: owned node-id arrays and set comparisons. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node-list.h"

void
node_list_init(struct node_list *l)
{
	memset(l, 0, sizeof(*l));
}

void
node_list_fini(struct node_list *l)
{
	free(l->nodes);
	memset(l, 0, sizeof(*l));
}

void
node_list_clear(struct node_list *l)
{
	l->count = 0;
}

static int
reserve(struct node_list *l, size_t want)
{
	struct node_info *p;
	size_t cap;

	if (want <= l->cap)
		return 0;
	cap = l->cap ? l->cap : 8;
	while (cap < want)
		cap *= 2;
	p = realloc(l->nodes, cap * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	l->nodes = p;
	l->cap = cap;
	return 0;
}

int
node_list_add(struct node_list *l, const struct node_info *n)
{
	int r = reserve(l, l->count + 1);

	if (r < 0)
		return r;
	l->nodes[l->count++] = *n;
	return 0;
}

int
node_list_add_id(struct node_list *l, uint32_t node_id)
{
	struct node_info n = { .node_id = node_id };

	return node_list_add(l, &n);
}

int
node_list_copy(struct node_list *dst, const struct node_list *src)
{
	int r;

	if (dst == src)
		return 0;
	r = reserve(dst, src->count);
	if (r < 0)
		return r;
	if (src->count > 0)
		memcpy(dst->nodes, src->nodes, src->count * sizeof(*src->nodes));
	dst->count = src->count;
	return 0;
}

const struct node_info *
node_list_find(const struct node_list *l, uint32_t node_id)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->nodes[i].node_id == node_id)
			return &l->nodes[i];
	return NULL;
}

bool
node_list_contains(const struct node_list *l, uint32_t node_id)
{
	return node_list_find(l, node_id) != NULL;
}

/* Lists hold a few dozen nodes at most (corosync's limit), so O(n*m) is fine. */
bool
node_list_ids_subset(const struct node_list *a, const struct node_list *b)
{
	for (size_t i = 0; i < a->count; i++)
		if (!node_list_contains(b, a->nodes[i].node_id))
			return false;
	return true;
}

bool
node_list_ids_equal(const struct node_list *a, const struct node_list *b)
{
	return node_list_ids_subset(a, b) && node_list_ids_subset(b, a);
}

static bool
entries_in(const struct node_list *a, const struct node_list *b)
{
	for (size_t i = 0; i < a->count; i++) {
		const struct node_info *n = node_list_find(b, a->nodes[i].node_id);

		if (n == NULL || n->data_center_id != a->nodes[i].data_center_id ||
		    n->node_state != a->nodes[i].node_state)
			return false;
	}
	return true;
}

bool
node_list_equal(const struct node_list *a, const struct node_list *b)
{
	return entries_in(a, b) && entries_in(b, a);
}

uint32_t
node_list_min_id(const struct node_list *l)
{
	uint32_t m = 0;

	for (size_t i = 0; i < l->count; i++)
		if (i == 0 || l->nodes[i].node_id < m)
			m = l->nodes[i].node_id;
	return m;
}

uint32_t
node_list_max_id(const struct node_list *l)
{
	uint32_t m = 0;

	for (size_t i = 0; i < l->count; i++)
		if (l->nodes[i].node_id > m)
			m = l->nodes[i].node_id;
	return m;
}
