/*
 * qdevice/status.h: the text of `qdevice-tool -s [-v]` (docs/protocol.md 5.5)
 * and our JSON (`-s -j`) and Prometheus (`--metrics`) forms of it, rendered
 * from a snapshot so all can be tested without a running daemon. Pure
 * code: no loop, no logging.
 */
#ifndef QDEVICE_STATUS_H
#define QDEVICE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/msg.h"
#include "common/node-list.h"

enum status_state {
	STATUS_STATE_DISCONNECTED = 0,
	STATUS_STATE_CONNECTING,
	STATUS_STATE_CONNECT_FAILED,
	STATUS_STATE_CONNECTED,
};
const char	*status_state_name(enum status_state s);

/* Counters since startup (ours; `qdevice-tool --metrics`). */
struct qdevice_stats {
	uint64_t	connects;		/* connections that reached Connected */
	uint64_t	disconnects;		/* of those, ended */
	uint64_t	acks_received;		/* for the ring last reported */
	uint64_t	nacks_received;
	uint64_t	votes_held;		/* yes votes held by the vote guard */
	uint64_t	held_votes_dropped;	/* of those, never cast */
	uint64_t	stale_votes_withdrawn;	/* votes counted by a late message, withdrawn */
};

struct status_view {
	/* Qdevice information */
	uint32_t		 node_id;
	uint32_t		 timeout_ms;		/* "HB interval": quorum.device.timeout */
	uint32_t		 sync_timeout_ms;
	bool			 config_version_set;
	uint64_t		 config_version;
	const struct node_list	*config_nodes;
	const char		*heuristics_mode;	/* heuristics_mode_name() */
	struct ring_id		 ring_id;
	const struct node_list	*membership;
	bool			 quorate;
	const struct node_list	*quorum_nodes;		/* node id 0 entries are skipped */
	uint32_t		 expected_votes;
	time_t			 last_poll;		/* (time_t)-1: never */
	bool			 last_poll_cast_vote;

	/* Qdevice-net information */
	const char		*cluster_name;
	const char		*host;
	uint16_t		 port;
	int			 force_ip_version;
	uint32_t		 connect_timeout_ms;
	uint32_t		 heartbeat_interval_ms;
	uint32_t		 cast_vote_interval_ms;
	uint8_t			 tls;			/* configured: 0 off, 1 on, 2 required */
	uint8_t			 algorithm;
	struct tie_breaker	 tie_breaker;
	bool			 kap_tie_breaker;
	bool			 server_supports_kap;
	bool			 poll_timer_running;
	bool			 poll_cast_vote;
	enum status_state	 state;
	bool			 heuristics_enabled;	/* mode on or sync */
	uint8_t			 heuristics_latest;	/* enum heuristics_value */
	uint8_t			 heuristics_regular;
	uint8_t			 heuristics_membership;
	uint8_t			 heuristics_connect;
	bool			 tls_active;
	bool			 client_cert_sent;
	time_t			 connected_since;	/* (time_t)-1: unknown */
	time_t			 echo_reply_received;	/* (time_t)-1: never */

	/* Ours, JSON only (the text stays byte-compatible with upstream). */
	int64_t			 vote_held_ms;		/* -1: no yes is held */
	bool			 cert_days_known;
	long			 cert_days_left;	/* negative once expired */
	uint32_t		 hooks_running;
	uint64_t		 hooks_dropped;
	uint64_t		 hooks_timed_out;
	const struct qdevice_stats *stats;	/* metrics only; NULL: all 0 */

	/*
	 * Ours, in -v text and JSON: the qnetd address this attempt reached
	 * over TCP, the configured host it came from, and its place among all
	 * addresses of all hosts. NULL: none (not connected).
	 */
	const char		*address;
	const char		*address_host;
	size_t			 address_index;		/* 1-based */
	size_t			 address_count;
};

/* Write the status body. 0, or -EIO if out failed. */
int	status_write(FILE *out, const struct status_view *v, bool verbose);

/*
 * The same facts as one JSON object on one line (schema: qdevice-tool(8)).
 * Field names are stable; fields may be added. 0, or -EIO.
 */
int	status_write_json(FILE *out, const struct status_view *v);

/* Prometheus text exposition (metric names: qdevice-tool(8)). 0, or -EIO. */
int	status_write_metrics(FILE *out, const struct status_view *v);

#endif
