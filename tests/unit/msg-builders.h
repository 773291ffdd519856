/*
 * tests/unit/msg-builders.h: the client and server messages the tests,
 * the load generator (tests/bench) and the fuzz seed writer
 * (tests/fuzz/gen-corpus.c) send, built one way, and the comparison the
 * codec's round-trip checks share. Each builder msg_init()s
 * *m and sets the options upstream's peers send; callers change single
 * fields afterwards. Arrays point at static tables: only node lists need
 * node_list_fini().
 */
#ifndef TESTS_UNIT_MSG_BUILDERS_H
#define TESTS_UNIT_MSG_BUILDERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"

/*
 * Set the cluster name option of a message being filled in, to len bytes
 * that may hold NULs; they are pointed at, not copied.
 */
void	msgb_set_cluster_name(struct msg *m, const void *name, size_t len);

/* A message of type that carries only its sequence number. */
void	msgb_seq(struct msg *m, uint16_t type, uint32_t seq);
void	msgb_preinit(struct msg *m, uint32_t seq, const char *cluster);
void	msgb_preinit_reply(struct msg *m, uint32_t seq, uint8_t tls_supported,
	    uint8_t cert_required);
/*
 * INIT without the supported lists (add them with msgb_supported_lists);
 * ring id 1.0x1c, tie-breaker node 2 when mode is TIE_BREAKER_NODE_ID.
 */
void	msgb_init(struct msg *m, uint32_t seq, uint32_t node, uint16_t algorithm,
	    uint8_t tb_mode, uint32_t heartbeat_ms);
/* Every message and option type this code knows, as upstream lists them. */
void	msgb_supported_lists(struct msg *m);
/* INIT_REPLY as upstream qnetd sends it: no error, every algorithm. */
void	msgb_init_reply(struct msg *m, uint32_t seq, uint32_t max_size);
/*
 * NODE_LIST of type with ids: a membership list carries ring id
 * ids[0].ring_seq, a quorum list quorate=1 and member states, a changed
 * config list config version 3. 0, or -ENOMEM (m.nodes then freed).
 */
int	msgb_node_list(struct msg *m, uint32_t seq, uint8_t type, const uint32_t *ids,
	    size_t n, uint64_t ring_seq);
void	msgb_vote(struct msg *m, uint16_t type, uint32_t seq, uint8_t vote);
/*
 * Compare two messages field by field, _set flags included: the name of the
 * first field that differs, or NULL when they are the same message.
 */
const char *msgb_diff(const struct msg *a, const struct msg *b);

#endif
