/* tests/unit/test-tlv.c: the option cursor and the bounded output buffer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/tlv.h"

static const struct {
	const char	*name;
	uint8_t		 in[8];
	size_t		 len;
	int		 want;		/* result of the first tlv_next() */
	uint16_t	 want_len;
} next_rows[] = {
	{ "empty area",             { 0 },                            0, 0,        0 },
	{ "header cut at 1 byte",   { 0x00 },                         1, -EBADMSG, 0 },
	{ "header cut at 3 bytes",  { 0x00, 0x01, 0x00 },             3, -EBADMSG, 0 },
	{ "value shorter than len", { 0x00, 0x01, 0x00, 0x04, 0xaa }, 5, -EBADMSG, 0 },
	{ "length 0xffff, 4 bytes", { 0x00, 0x01, 0xff, 0xff },       4, -EBADMSG, 0 },
	{ "zero-length option",     { 0x00, 0x01, 0x00, 0x00 },       4, 1,        0 },
	{ "one-byte option",        { 0x00, 0x01, 0x00, 0x01, 0x07 }, 5, 1,        1 },
};

static void
tlv_next_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(next_rows) / sizeof(next_rows[0]); i++) {
		struct tlv_cursor cur = { next_rows[i].in, next_rows[i].len };
		struct tlv_option opt = { 0 };
		int got = tlv_next(&cur, &opt);

		if (got != next_rows[i].want ||
		    (got == 1 && opt.len != next_rows[i].want_len))
			fail_msg("%s: got %d len %u, want %d len %u", next_rows[i].name,
			    got, (unsigned)opt.len, next_rows[i].want,
			    (unsigned)next_rows[i].want_len);
	}
}

static void
tlv_next_walks_and_stops(void **state)
{
	static const uint8_t area[] = {
		0x00, 0x05, 0x00, 0x02, 0xab, 0xcd,
		0x00, 0x06, 0x00, 0x00,
		0x00, 0x07,	/* trailing half header */
	};
	struct tlv_cursor cur = { area, sizeof(area) };
	struct tlv_option opt;

	(void)state;
	assert_int_equal(tlv_next(&cur, &opt), 1);
	assert_int_equal(opt.type, 5);
	assert_int_equal(opt.len, 2);
	assert_ptr_equal(opt.value, area + 4);
	assert_int_equal(tlv_next(&cur, &opt), 1);
	assert_int_equal(opt.type, 6);
	assert_int_equal(tlv_next(&cur, &opt), -EBADMSG);
}

static void
be_load_store(void **state)
{
	uint8_t b[8];

	(void)state;
	store_be16(b, 0x1234);
	assert_memory_equal(b, "\x12\x34", 2);
	assert_int_equal(load_be16(b), 0x1234);
	store_be32(b, 0xdeadbeef);
	assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
	assert_int_equal(load_be32(b), 0xdeadbeef);
	store_be64(b, 0x0102030405060708ULL);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(load_be64(b) == 0x0102030405060708ULL);
}

static void
buf_cap_is_sticky(void **state)
{
	struct tlv_buf b;

	(void)state;
	tlv_buf_init(&b, 10);
	tlv_put_u32(&b, 1, 7);			/* 8 bytes: fits */
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 8);
	tlv_put_u8(&b, 2, 1);			/* 5 more: over the cap */
	assert_int_equal(b.err, -EMSGSIZE);
	assert_int_equal(b.len, 8);
	tlv_put_u8(&b, 2, 1);			/* still refused */
	assert_int_equal(b.len, 8);
	tlv_buf_reset(&b);
	assert_int_equal(b.err, 0);
	tlv_put_u8(&b, 2, 1);
	assert_int_equal(b.len, 5);
	tlv_buf_fini(&b);
}

static void
buf_grows_and_nests(void **state)
{
	struct tlv_buf b;
	uint16_t arr[3] = { 1, 2, 0x0304 };
	size_t off;

	(void)state;
	tlv_buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		tlv_put_u64(&b, 14, (uint64_t)i);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 12000);
	tlv_buf_reset(&b);
	tlv_put_u16_array(&b, 4, arr, 3);
	assert_memory_equal(b.data, "\x00\x04\x00\x06\x00\x01\x00\x02\x03\x04", 10);
	tlv_buf_reset(&b);
	off = tlv_open(&b, 17);
	tlv_put_u32(&b, 9, 2);
	tlv_close(&b, off);
	assert_memory_equal(b.data,
	    "\x00\x11\x00\x08\x00\x09\x00\x04\x00\x00\x00\x02", 12);
	tlv_buf_fini(&b);
}

static void
oversized_option_refused(void **state)
{
	static uint8_t big[70000];
	struct tlv_buf b;

	(void)state;
	tlv_buf_init(&b, 1 << 20);
	tlv_put_bytes(&b, 1, big, sizeof(big));
	assert_int_equal(b.err, -EMSGSIZE);
	assert_int_equal(b.len, 0);
	tlv_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tlv_next_rows),
		cmocka_unit_test(tlv_next_walks_and_stops),
		cmocka_unit_test(be_load_store),
		cmocka_unit_test(buf_cap_is_sticky),
		cmocka_unit_test(buf_grows_and_nests),
		cmocka_unit_test(oversized_option_refused),
	};

	return cmocka_run_group_tests_name("tlv", tests, NULL, NULL);
}
