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
#include "fuzz.h"

/* No message can be longer than a u32 length allows; our inputs are far smaller. */
#define ENCODE_CAP	((size_t)1 << 24)

static bool
arrays_equal(bool set_a, const uint16_t *a, size_t na, bool set_b, const uint16_t *b,
    size_t nb)
{
	if (set_a != set_b || na != nb)
		return false;
	return na == 0 || memcmp(a, b, na * sizeof(*a)) == 0;
}

/* Field-by-field comparison; returns the name of the first difference or NULL. */
static const char *
msg_diff(const struct msg *a, const struct msg *b)
{
#define SCALAR(flag, field) \
	do { \
		if (a->flag != b->flag || (a->flag && a->field != b->field)) \
			return #field; \
	} while (0)

	if (a->type != b->type)
		return "type";
	SCALAR(seq_set, seq);
	if (a->cluster_name_set != b->cluster_name_set ||
	    a->cluster_name_len != b->cluster_name_len ||
	    (a->cluster_name_len > 0 &&
	    memcmp(a->cluster_name, b->cluster_name, a->cluster_name_len) != 0))
		return "cluster_name";
	SCALAR(tls_supported_set, tls_supported);
	SCALAR(tls_client_cert_required_set, tls_client_cert_required);
	if (!arrays_equal(a->supported_messages_set, a->supported_messages,
	    a->supported_messages_count, b->supported_messages_set, b->supported_messages,
	    b->supported_messages_count))
		return "supported_messages";
	if (!arrays_equal(a->supported_options_set, a->supported_options,
	    a->supported_options_count, b->supported_options_set, b->supported_options,
	    b->supported_options_count))
		return "supported_options";
	SCALAR(reply_error_code_set, reply_error_code);
	SCALAR(server_max_request_size_set, server_max_request_size);
	SCALAR(server_max_reply_size_set, server_max_reply_size);
	SCALAR(node_id_set, node_id);
	if (!arrays_equal(a->supported_algorithms_set, a->supported_algorithms,
	    a->supported_algorithms_count, b->supported_algorithms_set,
	    b->supported_algorithms, b->supported_algorithms_count))
		return "supported_algorithms";
	SCALAR(algorithm_set, algorithm);
	SCALAR(heartbeat_interval_set, heartbeat_interval);
	SCALAR(ring_id_set, ring_id.node_id);
	SCALAR(ring_id_set, ring_id.seq);
	SCALAR(config_version_set, config_version);
	SCALAR(data_center_id_set, data_center_id);
	SCALAR(node_state_set, node_state);
	if (a->nodes.count != b->nodes.count)
		return "nodes.count";
	for (size_t i = 0; i < a->nodes.count; i++) {
		const struct node_info *x = &a->nodes.nodes[i], *y = &b->nodes.nodes[i];

		if (x->node_id != y->node_id || x->data_center_id != y->data_center_id ||
		    x->node_state != y->node_state)
			return "nodes[]";
	}
	SCALAR(node_list_type_set, node_list_type);
	SCALAR(vote_set, vote);
	SCALAR(quorate_set, quorate);
	SCALAR(tie_breaker_set, tie_breaker.mode);
	SCALAR(tie_breaker_set, tie_breaker.node_id);
	SCALAR(heuristics_set, heuristics);
	SCALAR(kap_tie_breaker_set, kap_tie_breaker);
	return NULL;
#undef SCALAR
}

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
	diff = msg_diff(&m1, &m2);
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

#ifndef FUZZ_REPLAY
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_msg_decode_one(data, size);
}
#endif
