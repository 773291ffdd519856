/*
 * tests/unit/test-names.c: how names that peers choose are shown
 * (common/utils.c utils_name_*, common/json.c) and the memory stream the
 * admin replies are built in (utils_open_memstream).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/utils.h"
#include "test-util.h"

/* The shown form of the first n bytes of s, in a static buffer. */
static const char *
shown_n(const char *s, size_t n)
{
	static char buf[512];

	assert_true(utils_name_shown(buf, sizeof(buf), s, n) < sizeof(buf));
	return buf;
}

static const char *
shown(const char *s)
{
	return shown_n(s, strlen(s));
}

static void
expect_json(const char *in, const char *want)
{
	struct capture c;
	char *got;

	json_write_string(capture_start(&c), in);
	got = capture_end(&c);

	assert_string_equal(got, want);
	free(got);
}

/* A name as pcs or crmsh parse it today prints exactly as it is. */
static void
plain_names_unchanged(void **state)
{
	(void)state;
	assert_string_equal(shown("plain-ascii"), "plain-ascii");
	assert_string_equal(shown("a \"quoted\" name\\ with ~ and {}"),
	    "a \"quoted\" name\\ with ~ and {}");
	assert_string_equal(shown("cl\xc3\xbcster \xe6\x97\xa5\xf0\x9f\x90\xa7"),
	    "cl\xc3\xbcster \xe6\x97\xa5\xf0\x9f\x90\xa7");
	expect_json("plain-ascii", "\"plain-ascii\"");
	expect_json("a \"q\" \\ b", "\"a \\\"q\\\" \\\\ b\"");
	expect_json("cl\xc3\xbcster", "\"cl\xc3\xbcster\"");
}

/* One name, one line: control bytes, C1 controls, line separators, bidi. */
static void
line_breakers_escaped(void **state)
{
	(void)state;
	assert_string_equal(shown("evil\nCluster name: forged"),
	    "evil\\x0aCluster name: forged");
	assert_string_equal(shown("a\rb\tc\x1b[2Jd\x7f"), "a\\x0db\\x09c\\x1b[2Jd\\x7f");
	assert_string_equal(shown("a\xc2\x85" "b"), "a\\xc2\\x85b");		/* U+0085 NEL */
	assert_string_equal(shown("a\xe2\x80\xa8" "b"), "a\\xe2\\x80\\xa8b");	/* U+2028 */
	assert_string_equal(shown("a\xe2\x80\xae" "b"), "a\\xe2\\x80\\xaeb");	/* U+202E RLO */
	assert_string_equal(shown("a\xe2\x81\xa6" "b"), "a\\xe2\\x81\\xa6b");	/* U+2066 LRI */
	expect_json("evil\nname", "\"evil\\nname\"");
	expect_json("a\x01\x1f\x7f" "b", "\"a\\u0001\\u001f\\u007fb\"");
	expect_json("a\xc2\x85" "b", "\"a\\u0085b\"");
	expect_json("a\xe2\x80\xa8" "b", "\"a\\u2028b\"");
}

/* Not UTF-8: every offending byte as \xHH; valid neighbours stay as they are. */
static void
invalid_utf8_escaped(void **state)
{
	(void)state;
	assert_string_equal(shown("al\xffpha"), "al\\xffpha");
	assert_string_equal(shown("\xc3"), "\\xc3");				/* cut short */
	assert_string_equal(shown("\xc0\xaf"), "\\xc0\\xaf");			/* overlong */
	assert_string_equal(shown("\xed\xa0\x80"), "\\xed\\xa0\\x80");		/* surrogate */
	assert_string_equal(shown("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");	/* > U+10FFFF */
	assert_string_equal(shown("\xe6\x97" "a\xe6\x97\xa5"), "\\xe6\\x97a\xe6\x97\xa5");
	/* JSON holds the same text, so the value is valid UTF-8. */
	expect_json("al\xffpha", "\"al\\\\xffpha\"");
	expect_json("\xc0\xaf", "\"\\\\xc0\\\\xaf\"");
}

/*
 * A name that itself holds the text of an escape shows its backslash as
 * \x5c, so it never looks like the name with that byte.
 */
static void
distinct_names_stay_distinct(void **state)
{
	static const char *names[] = {
		"al\xffpha", "al\\xffpha", "al\\x5cxffpha", "al\\\xffpha", "al\\xf", "al\\xfg",
		"\\", "\\\\", "\\x", "\\x4", "\\x41", "A", "\\xAB", "\xab",
	};
	size_t n = sizeof(names) / sizeof(names[0]);
	char *seen[sizeof(names) / sizeof(names[0])];

	(void)state;
	assert_string_equal(shown("al\\xffpha"), "al\\x5cxffpha");
	assert_string_equal(shown("al\\xfg"), "al\\xfg");	/* not an escape: as it is */
	assert_string_equal(shown("\\xAB"), "\\x5cxAB");
	expect_json("al\\xffpha", "\"al\\\\x5cxffpha\"");
	for (size_t i = 0; i < n; i++) {
		seen[i] = strdup(shown(names[i]));
		assert_non_null(seen[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(seen[i], seen[j]) == 0)
				fail_msg("'%s' and '%s' both show as '%s'", names[i], names[j],
				    seen[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(seen[i]);
}

/* Cut between pieces only; the length of the whole form tells it was cut. */
static void
cut_to_fit(void **state)
{
	char buf[8], log[12];

	(void)state;
	assert_int_equal(utils_name_shown(buf, sizeof(buf), "ab\xff\xfe", 4), 10);
	assert_string_equal(buf, "ab\\xff");
	assert_int_equal(utils_name_shown(buf, sizeof(buf), "abcdefg", 7), 7);
	assert_string_equal(buf, "abcdefg");
	assert_string_equal(utils_name_for_log(log, sizeof(log), "abc", 3), "abc");
	assert_string_equal(utils_name_for_log(log, sizeof(log), "abcdefgh", 8), "abcdefgh");
	assert_string_equal(utils_name_for_log(log, sizeof(log), "abcdefghi", 9),
	    "abcdefgh...");
	assert_string_equal(utils_name_for_log(log, sizeof(log), "abcdefghij", 10),
	    "abcdefgh...");
	assert_string_equal(utils_name_for_log(log, sizeof(log), "abcdef\n", 7), "abcdef...");
	/* A NUL inside is just another control byte. */
	assert_string_equal(shown_n("a\0b", 3), "a\\x00b");
}

/* The stream a reply is composed in: grows past many doublings, ends NUL-terminated. */
static void
memstream_grows(void **state)
{
	char *buf = NULL;
	size_t len = 1, total = 0;
	FILE *out = utils_open_memstream(&buf, &len);

	(void)state;
	assert_non_null(out);
	for (unsigned i = 0; i < 300000; i++)
		total += (size_t)fprintf(out, "%u,", i);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(len, total);
	assert_int_equal(strlen(buf), total);
	assert_memory_equal(buf, "0,1,2,", 6);
	assert_memory_equal(buf + total - 7, "299999,", 7);
	free(buf);

	out = utils_open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_names_unchanged),
		cmocka_unit_test(line_breakers_escaped),
		cmocka_unit_test(invalid_utf8_escaped),
		cmocka_unit_test(distinct_names_stay_distinct),
		cmocka_unit_test(cut_to_fit),
		cmocka_unit_test(memstream_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
