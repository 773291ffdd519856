/* tests/unit/test-node-list.c: node list ownership and set comparisons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/node-list.h"

static void
make(struct node_list *l, const uint32_t *ids, size_t n)
{
	node_list_init(l);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(node_list_add_id(l, ids[i]), 0);
}

static void
set_relations(void **state)
{
	static const uint32_t a_ids[] = { 3, 1, 2 };
	static const uint32_t b_ids[] = { 1, 2, 3, 4 };
	static const uint32_t c_ids[] = { 2, 1, 3, 3 };
	struct node_list a, b, c, empty;

	(void)state;
	make(&a, a_ids, 3);
	make(&b, b_ids, 4);
	make(&c, c_ids, 4);
	node_list_init(&empty);
	assert_true(node_list_ids_subset(&a, &b));
	assert_false(node_list_ids_subset(&b, &a));
	assert_true(node_list_ids_equal(&a, &c));
	assert_false(node_list_ids_equal(&a, &b));
	assert_true(node_list_ids_subset(&empty, &a));
	assert_true(node_list_contains(&b, 4));
	assert_false(node_list_contains(&a, 4));
	assert_int_equal(node_list_min_id(&a), 1);
	assert_int_equal(node_list_max_id(&b), 4);
	assert_int_equal(node_list_min_id(&empty), 0);
	node_list_fini(&a);
	node_list_fini(&b);
	node_list_fini(&c);
}

static void
equal_compares_attributes(void **state)
{
	struct node_list a, b;
	struct node_info n1 = { 1, 10, 1 }, n2 = { 2, 0, 1 }, n2_dead = { 2, 0, 2 };

	(void)state;
	node_list_init(&a);
	node_list_init(&b);
	node_list_add(&a, &n1);
	node_list_add(&a, &n2);
	node_list_add(&b, &n2);
	node_list_add(&b, &n1);
	assert_true(node_list_equal(&a, &b));
	b.nodes[0] = n2_dead;
	assert_false(node_list_equal(&a, &b));
	assert_true(node_list_ids_equal(&a, &b));
	node_list_fini(&a);
	node_list_fini(&b);
}

static void
copy_grows_and_replaces(void **state)
{
	struct node_list src, dst;

	(void)state;
	node_list_init(&src);
	node_list_init(&dst);
	for (uint32_t i = 1; i <= 100; i++)
		assert_int_equal(node_list_add_id(&src, i), 0);
	node_list_add_id(&dst, 500);
	assert_int_equal(node_list_copy(&dst, &src), 0);
	assert_int_equal(dst.count, 100);
	assert_false(node_list_contains(&dst, 500));
	assert_true(node_list_contains(&dst, 100));
	node_list_fini(&src);
	node_list_fini(&dst);
	node_list_fini(&dst);	/* fini is idempotent */
}

/* node_id_set: sorted unique ids with counts, rebuilt only on change. */
static void
id_sets_compare_as_sets(void **state)
{
	const uint32_t a_ids[] = { 5, 3, 9, 3, 1 }, b_ids[] = { 1, 9, 5, 3 };
	struct node_list a, b;
	struct node_id_set sa, sb;
	uint64_t gen;

	(void)state;
	node_list_init(&a);
	node_list_init(&b);
	node_id_set_init(&sa);
	node_id_set_init(&sb);
	for (size_t i = 0; i < sizeof(a_ids) / sizeof(a_ids[0]); i++)
		assert_int_equal(node_list_add_id(&a, a_ids[i]), 0);
	for (size_t i = 0; i < sizeof(b_ids) / sizeof(b_ids[0]); i++)
		assert_int_equal(node_list_add_id(&b, b_ids[i]), 0);
	assert_int_equal(node_id_set_update(&sa, &a), 0);
	assert_int_equal(node_id_set_update(&sb, &b), 0);
	assert_int_equal(sa.count, 4);
	assert_int_equal(node_id_set_multiplicity(&sa, 3), 2);
	assert_int_equal(node_id_set_multiplicity(&sa, 9), 1);
	assert_int_equal(node_id_set_multiplicity(&sa, 4), 0);
	assert_int_equal(node_id_set_min(&sa), 1);
	assert_int_equal(node_id_set_max(&sa), 9);
	assert_true(node_id_set_equal(&sa, &sb));
	assert_true(node_id_set_subset(&sa, &sb));

	/* A change is seen through the generation; a copy keeps it valid. */
	gen = a.generation;
	assert_int_equal(node_list_add_id(&a, 7), 0);
	assert_true(a.generation != gen);
	assert_int_equal(node_id_set_update(&sa, &a), 0);
	assert_false(node_id_set_equal(&sa, &sb));
	assert_true(node_id_set_subset(&sb, &sa));
	assert_false(node_id_set_subset(&sa, &sb));
	assert_true(node_id_set_contains(&sa, 7));
	assert_int_equal(node_list_copy(&b, &a), 0);
	assert_int_equal(b.generation, a.generation);
	assert_int_equal(node_id_set_update(&sb, &b), 0);
	assert_true(node_id_set_equal(&sa, &sb));

	/* Emptied: the empty set, a subset of anything, min/max 0. */
	node_list_clear(&a);
	assert_int_equal(node_id_set_update(&sa, &a), 0);
	assert_int_equal(sa.count, 0);
	assert_true(node_id_set_subset(&sa, &sb));
	assert_false(node_id_set_subset(&sb, &sa));
	assert_int_equal(node_id_set_min(&sa), 0);
	assert_int_equal(node_id_set_max(&sa), 0);

	node_id_set_fini(&sa);
	node_id_set_fini(&sb);
	node_list_fini(&a);
	node_list_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_relations),
		cmocka_unit_test(equal_compares_attributes),
		cmocka_unit_test(copy_grows_and_replaces),
		cmocka_unit_test(id_sets_compare_as_sets),
	};

	return cmocka_run_group_tests_name("node-list", tests, NULL, NULL);
}
