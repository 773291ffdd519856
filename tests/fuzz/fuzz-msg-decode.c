/*
 * tests/fuzz/fuzz-msg-decode.c: msg_decode() on arbitrary bytes.
 * Whatever decodes must encode again, the encoding must decode to the
 * same message, and encoding that copy must give the same bytes: the
 * codec's round trip is stable (docs/protocol.md 1.3, 1.4, 1.8).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/msg.h"
#include "tests/unit/msg-builders.h"
#include "fuzz.h"

/* No message can be longer than a u32 length allows; our inputs are far smaller. */
#define ENCODE_CAP	((size_t)1 << 24)

/* The name tables must answer for any value a peer can send. */
static void
touch_names(const struct msg *m)
{
	volatile size_t n = 0;

	n += strlen(msg_type_name(m->type));
	n += strlen(reply_error_code_name(m->reply_error_code));
	n += strlen(decision_algorithm_name(m->algorithm));
	n += strlen(tls_supported_name(m->tls_supported));
	n += strlen(node_list_type_name(m->node_list_type));
	n += strlen(vote_name(m->vote));
	n += strlen(tie_breaker_mode_name(m->tie_breaker.mode));
	n += strlen(heuristics_name(m->heuristics));
	n += strlen(node_state_name(m->node_state));
	for (size_t i = 0; i < m->supported_options_count; i++)
		n += strlen(opt_type_name(m->supported_options[i]));
	(void)n;
}

int
fuzz_msg_decode_one(const uint8_t *data, size_t size)
{
	struct tlv_buf b1, b2;
	struct msg m1, m2;
	const char *diff;
	int r;

	r = msg_decode(data, size, &m1);
	if (r != 0) {
		if (r > 0)
			fuzz_fail("msg_decode returned %d", r);
		/* The failure must have a name, and *m must still be freeable. */
		(void)msg_decode_error_name(r);
		msg_fini(&m1);
		return 0;
	}
	if (size < MSG_HEADER_LEN || size - MSG_HEADER_LEN != msg_header_length(data) ||
	    !msg_type_valid(m1.type))
		fuzz_fail("decoded a message with a bad header (size %zu)", size);
	touch_names(&m1);

	msg_init(&m2, 0);
	tlv_buf_init(&b1, ENCODE_CAP);
	tlv_buf_init(&b2, ENCODE_CAP);
	r = msg_encode(&m1, &b1);
	if (r != 0)
		fuzz_fail("a decoded %s message does not encode: %d", msg_type_name(m1.type), r);
	if (b1.len == MSG_HEADER_LEN) {
		/*
		 * Only unknown options: they are skipped, so nothing is left to
		 * encode, and an empty option area does not decode (docs/protocol.md
		 * 1.4 rule 2). Senders must never build such a message.
		 */
		goto out;
	}
	r = msg_decode(b1.data, b1.len, &m2);
	if (r != 0)
		fuzz_fail("our own encoding of %s does not decode: %s", msg_type_name(m1.type),
		    msg_decode_error_name(r));
	diff = msgb_diff(&m1, &m2);
	if (diff != NULL)
		fuzz_fail("%s changed in the round trip: %s", msg_type_name(m1.type), diff);
	r = msg_encode(&m2, &b2);
	if (r != 0)
		fuzz_fail("re-encoding %s failed: %d", msg_type_name(m2.type), r);
	if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
		fuzz_fail("%s: the second encoding differs from the first (%zu vs %zu bytes)",
		    msg_type_name(m1.type), b1.len, b2.len);
	/* Nothing is lost but unknown and repeated options: never longer than the input. */
	if (b1.len > size)
		fuzz_fail("%s: encoding (%zu bytes) is longer than the input (%zu)",
		    msg_type_name(m1.type), b1.len, size);
out:
	msg_fini(&m2);	/* m2's views borrow b1 */
	msg_fini(&m1);
	tlv_buf_fini(&b1);
	tlv_buf_fini(&b2);
	return 0;
}
