/*
 * common/node-list.c: owned node-id arrays and set comparisons, plain for
 * short lists, sorted (node_id_set) where lists may be long.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node-list.h"

/* Single-threaded by contract (node-list.h); 2^64 changes never wrap. */
static uint64_t last_generation;

static uint64_t
next_generation(void)
{
	return ++last_generation;
}

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
	l->generation = next_generation();
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
	l->generation = next_generation();
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
	dst->generation = src->generation;
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

/*
 * Real lists hold a few dozen nodes (corosync's limit), so O(n*m) is fine
 * here; qnetd's algorithms compare hostile-length lists as node_id_sets.
 */
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

void
node_id_set_init(struct node_id_set *s)
{
	memset(s, 0, sizeof(*s));
}

void
node_id_set_fini(struct node_id_set *s)
{
	free(s->ids);
	free(s->mult);
	memset(s, 0, sizeof(*s));
}

static int
set_reserve(struct node_id_set *s, size_t want)
{
	uint32_t *ids, *mult;

	if (want <= s->cap)
		return 0;
	ids = realloc(s->ids, want * sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	s->ids = ids;
	mult = realloc(s->mult, want * sizeof(*mult));
	if (mult == NULL)
		return -ENOMEM;
	s->mult = mult;
	s->cap = want;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

int
node_id_set_update(struct node_id_set *s, const struct node_list *l)
{
	size_t unique = 0;

	if (s->built && s->generation == l->generation)
		return 0;
	s->built = false;
	s->count = 0;
	s->hash = 0;
	if (set_reserve(s, l->count) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < l->count; i++)
		s->ids[i] = l->nodes[i].node_id;
	if (l->count > 1)
		qsort(s->ids, l->count, sizeof(*s->ids), cmp_u32);
	for (size_t i = 0; i < l->count; i++) {
		if (unique > 0 && s->ids[unique - 1] == s->ids[i]) {
			s->mult[unique - 1]++;
			continue;
		}
		s->ids[unique] = s->ids[i];
		s->mult[unique] = 1;
		s->hash = mix64(s->hash ^ s->ids[unique]);
		unique++;
	}
	s->count = unique;
	s->built = true;
	s->generation = l->generation;
	return 0;
}

bool
node_id_set_equal(const struct node_id_set *a, const struct node_id_set *b)
{
	if (a->count != b->count || a->hash != b->hash)
		return false;
	return a->count == 0 || memcmp(a->ids, b->ids, a->count * sizeof(*a->ids)) == 0;
}

bool
node_id_set_subset(const struct node_id_set *a, const struct node_id_set *b)
{
	size_t j = 0;

	if (a->count > b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		while (j < b->count && b->ids[j] < a->ids[i])
			j++;
		if (j == b->count || b->ids[j] != a->ids[i])
			return false;
		j++;
	}
	return true;
}

uint32_t
node_id_set_multiplicity(const struct node_id_set *s, uint32_t node_id)
{
	size_t lo = 0, hi = s->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ids[mid] < node_id)
			lo = mid + 1;
		else if (s->ids[mid] > node_id)
			hi = mid;
		else
			return s->mult[mid];
	}
	return 0;
}

bool
node_id_set_contains(const struct node_id_set *s, uint32_t node_id)
{
	return node_id_set_multiplicity(s, node_id) > 0;
}

uint32_t
node_id_set_min(const struct node_id_set *s)
{
	return s->count > 0 ? s->ids[0] : 0;
}

uint32_t
node_id_set_max(const struct node_id_set *s)
{
	return s->count > 0 ? s->ids[s->count - 1] : 0;
}
