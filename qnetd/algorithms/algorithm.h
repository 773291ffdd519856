/*
 * qnetd/algorithms/algorithm.h: the decision algorithms' common interface.
 * An algorithm is pure: it reads a cluster view (the clients of one
 * cluster with what they last reported), updates only the algorithm-owned
 * state in that view, and fills a plan: the vote for the reply to the
 * triggering message, VOTE_INFO pushes, and timer requests. The server
 * (qnetd/cluster.c) applies the plan; no algorithm touches a socket.
 */
#ifndef QNETD_ALGORITHM_H
#define QNETD_ALGORITHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/msg.h"
#include "../../common/node-list.h"

/* ffsplit per-client and per-cluster phases (docs/protocol.md 3.2). */
enum ffsplit_client_state {
	FFSPLIT_CLIENT_WAITING_FOR_CHANGE = 0,
	FFSPLIT_CLIENT_SENDING_NACK,
	FFSPLIT_CLIENT_SENDING_ACK,
};

enum ffsplit_cluster_state {
	FFSPLIT_CLUSTER_WAITING_FOR_CHANGE = 0,
	FFSPLIT_CLUSTER_WAITING_FOR_STABLE_MEMBERSHIP,
	FFSPLIT_CLUSTER_SENDING_NACKS,
	FFSPLIT_CLUSTER_SENDING_ACKS,
};

/* What the server knows of one initialised client; the view's unit. */
struct algo_client {
	uint32_t		node_id;
	uint8_t			algorithm;	/* enum decision_algorithm */
	struct tie_breaker	tie_breaker;
	bool			kap_enabled;	/* keep-active-partition tie-breaker */
	uint32_t		heartbeat_interval_ms;

	bool			config_set;	/* a config list was received */
	struct node_list	config;
	bool			config_version_set;
	uint64_t		config_version;
	bool			membership_set;
	struct node_list	membership;
	bool			quorum_set;
	struct node_list	quorum;
	bool			quorate;
	struct ring_id		ring_id;	/* from INIT, then each membership list */
	uint8_t			last_heuristics;		/* enum heuristics */
	uint8_t			last_membership_heuristics;
	uint8_t			last_regular_heuristics;

	/* Algorithm-owned state below: only algorithms write it. */
	uint8_t			ffsplit_state;	/* enum ffsplit_client_state */
	uint32_t		ffsplit_vote_seq;	/* last VOTE_INFO seq sent by ffsplit */
	uint8_t			last_result;	/* lms/2nodelms: last ACK/NACK/WAIT, 0 = never */
	uint32_t		timer_vote_seq;	/* lms timer's VOTE_INFO seq counter */
	bool			received_wait_for_reply;	/* lms: disables the newcomer rule */
	/*
	 * ffsplit: the config and membership it last used for this client,
	 * sorted; rebuilt only when the list changed (node_list generation).
	 */
	struct node_id_set	ffsplit_config_ids;
	struct node_id_set	ffsplit_membership_ids;
};

/* One cluster: its clients sorted by ascending node id (docs/protocol.md 3). */
struct algo_cluster {
	struct algo_client	**clients;	/* borrowed; sorted by node_id */
	size_t			 count;
	uint8_t			 ffsplit_state;	/* enum ffsplit_cluster_state */
	struct node_list	 quorate_partition;	/* ffsplit: last selected partition */
};

enum algo_event_type {
	ALGO_EV_CONFIG_LIST,		/* initial or changed config node list */
	ALGO_EV_MEMBERSHIP_LIST,
	ALGO_EV_QUORUM_LIST,
	ALGO_EV_HEURISTICS_CHANGE,
	ALGO_EV_ASK_FOR_VOTE,
	ALGO_EV_VOTE_INFO_REPLY,
	ALGO_EV_DISCONNECT,		/* client is leaving; still in the view */
	ALGO_EV_TIMER,			/* the client's algorithm timer fired (lms) */
};

/*
 * The triggering message. The algorithm runs BEFORE the server stores the
 * new values (docs/protocol.md 2.4), so `client` still holds the previous ones
 * and the new ones are here.
 */
struct algo_event {
	enum algo_event_type	 type;
	struct algo_client	*client;
	uint8_t			 list_type;	/* enum node_list_type, list events */
	const struct node_list	*nodes;		/* list events */
	bool			 config_version_set;
	uint64_t		 config_version;
	const struct ring_id	*ring_id;	/* membership list */
	uint8_t			 heuristics;	/* membership list / heuristics change */
	bool			 quorate;	/* quorum list */
	uint32_t		 seq;		/* vote info reply */
	bool			 server_shutdown;	/* disconnect caused by qnetd exiting */
};

struct algo_push {
	struct algo_client	*client;
	uint8_t			 vote;
	struct ring_id		 ring_id;
	uint32_t		 seq;
};

enum algo_timer_action {
	ALGO_TIMER_KEEP = 0,	/* leave the triggering client's timer as it is */
	ALGO_TIMER_ARM,		/* (re)arm it with timer_ms */
	ALGO_TIMER_CANCEL,
};

/*
 * The plan. `pushes` has room for `push_cap` entries, at least the
 * cluster's client count; pushes are sent in order, and before the reply
 * to the triggering message (docs/protocol.md 7: ffsplit's order).
 */
struct algo_plan {
	uint16_t		 error;		/* enum reply_error_code; != 0: SERVER_ERROR, nothing stored */
	uint8_t			 vote;		/* vote of the reply; ignored for events without reply */
	struct algo_push	*pushes;
	size_t			 push_count;
	size_t			 push_cap;
	enum algo_timer_action	 timer;
	uint32_t		 timer_ms;
};

struct algorithm {
	uint8_t		 id;		/* enum decision_algorithm */
	const char	*name;
	/* Fills plan; returns 0, or -ENOMEM / -EINVAL (internal error). */
	int	(*decide)(struct algo_cluster *cluster, const struct algo_event *ev,
		    struct algo_plan *plan);
};

/* NULL for an unknown id. */
const struct algorithm	*algorithm_get(uint8_t id);

/* Helpers for the algorithms and the server. */
void	algo_client_init(struct algo_client *c);
void	algo_client_fini(struct algo_client *c);
void	algo_cluster_init(struct algo_cluster *c);
void	algo_cluster_fini(struct algo_cluster *c);
/*
 * Start a decision: reset *plan to "no change, no pushes, timer kept" and
 * check that ev->client belongs to the view. 0 or -EINVAL.
 */
int	algo_plan_begin(const struct algo_cluster *cluster, const struct algo_event *ev,
	    struct algo_plan *plan);
/* Append a push; -ENOMEM if push_cap is exhausted (a server bug). */
int	algo_plan_push(struct algo_plan *plan, struct algo_client *client,
	    uint8_t vote, const struct ring_id *ring_id, uint32_t seq);

extern const struct algorithm	algorithm_test;
extern const struct algorithm	algorithm_ffsplit;
extern const struct algorithm	algorithm_2nodelms;
extern const struct algorithm	algorithm_lms;

#endif
