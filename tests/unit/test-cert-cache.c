/*
 * tests/unit/test-cert-cache.c: the verified-certificate cache
 * (common/cert-cache.h) answers only for digests it was told, forgets them
 * at their expiry, and never holds more than its capacity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/cert-cache.h"

static const uint8_t *
digest_of(uint8_t seed, uint8_t *d)
{
	memset(d, seed, CERT_CACHE_DIGEST_LEN);
	d[CERT_CACHE_DIGEST_LEN - 1] = (uint8_t)(seed ^ 0x5a);
	return d;
}

static void
only_remembered_digests_are_held(void **state)
{
	struct cert_cache *c = cert_cache_create(8);
	uint8_t a[CERT_CACHE_DIGEST_LEN], b[CERT_CACHE_DIGEST_LEN];

	(void)state;
	assert_non_null(c);
	assert_false(cert_cache_holds(c, digest_of(1, a), 0));
	assert_int_equal(cert_cache_remember(c, a, 1000), 0);
	assert_true(cert_cache_holds(c, a, 999));
	/* one bit away is another certificate */
	memcpy(b, a, sizeof(b));
	b[0] ^= 1;
	assert_false(cert_cache_holds(c, b, 999));
	assert_int_equal(cert_cache_hits(c), 1);
	cert_cache_destroy(c);
}

static void
an_entry_expires(void **state)
{
	struct cert_cache *c = cert_cache_create(8);
	uint8_t a[CERT_CACHE_DIGEST_LEN];

	(void)state;
	assert_int_equal(cert_cache_remember(c, digest_of(2, a), 5000), 0);
	assert_true(cert_cache_holds(c, a, 4999));
	assert_false(cert_cache_holds(c, a, 5000));
	assert_int_equal(cert_cache_count(c), 0);
	/* verified again: held again, with the new expiry */
	assert_int_equal(cert_cache_remember(c, a, 9000), 0);
	assert_true(cert_cache_holds(c, a, 8000));
	assert_int_equal(cert_cache_count(c), 1);
	cert_cache_destroy(c);
}

static void
capacity_bounds_the_entries_first_expiring_goes(void **state)
{
	struct cert_cache *c = cert_cache_create(4);
	uint8_t d[10][CERT_CACHE_DIGEST_LEN];

	(void)state;
	for (uint8_t i = 0; i < 10; i++) {
		assert_int_equal(cert_cache_remember(c, digest_of(i, d[i]), 100 + i), 0);
		assert_true(cert_cache_count(c) <= 4);
	}
	for (uint8_t i = 0; i < 6; i++)
		assert_false(cert_cache_holds(c, d[i], 0));
	for (uint8_t i = 6; i < 10; i++)
		assert_true(cert_cache_holds(c, d[i], 0));
	cert_cache_destroy(c);
}

static void
remembering_twice_keeps_one_entry(void **state)
{
	struct cert_cache *c = cert_cache_create(2);
	uint8_t a[CERT_CACHE_DIGEST_LEN], b[CERT_CACHE_DIGEST_LEN];

	(void)state;
	assert_int_equal(cert_cache_remember(c, digest_of(3, a), 100), 0);
	assert_int_equal(cert_cache_remember(c, a, 200), 0);
	assert_int_equal(cert_cache_count(c), 1);
	/* a second certificate still fits beside it */
	assert_int_equal(cert_cache_remember(c, digest_of(4, b), 100), 0);
	assert_true(cert_cache_holds(c, a, 150));
	assert_true(cert_cache_holds(c, b, 50));
	cert_cache_destroy(c);
}

static void
no_cache_holds_nothing(void **state)
{
	uint8_t a[CERT_CACHE_DIGEST_LEN];

	(void)state;
	assert_null(cert_cache_create(0));
	assert_int_equal(cert_cache_remember(NULL, digest_of(5, a), 100), 0);
	assert_false(cert_cache_holds(NULL, a, 0));
	assert_int_equal(cert_cache_hits(NULL), 0);
	cert_cache_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_remembered_digests_are_held),
		cmocka_unit_test(an_entry_expires),
		cmocka_unit_test(capacity_bounds_the_entries_first_expiring_goes),
		cmocka_unit_test(remembering_twice_keeps_one_entry),
		cmocka_unit_test(no_cache_holds_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
