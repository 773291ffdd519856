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
 * The decision record: why the algorithm voted as it did, in its own
 * terms, for qnetd-tool --explain (qnetd/explain.h). Filled by decide()
 * only when the caller hands one in (algo_plan.decision); it changes no
 * vote. Bounded: at most ALGO_DECISION_MAX_PARTITIONS partitions and
 * ALGO_DECISION_MAX_IDS node ids each are kept, the sizes stay exact.
 */
enum algo_rule {
	ALGO_RULE_NONE = 0,		/* nothing decided on this event */
	ALGO_RULE_TEST_ALWAYS_ACK,	/* test: every vote is ACK */
	ALGO_RULE_NO_LISTS_YET,		/* a config or membership list is missing: ask later */
	ALGO_RULE_WAITING_FOR_STABLE_MEMBERSHIP,	/* ffsplit: clients disagree */
	ALGO_RULE_RING_DISAGREEMENT,	/* lms: a partition member reports another ring */
	ALGO_RULE_NO_RING_YET,		/* lms: no client reported a ring */
	ALGO_RULE_MAJORITY,		/* ffsplit: more than half the configured nodes */
	ALGO_RULE_NO_QUORATE_PARTITION,	/* ffsplit: no partition can be quorate */
	ALGO_RULE_ONLY_PARTITION,	/* the one partition qnetd sees */
	ALGO_RULE_HEURISTICS_SCORE,	/* equal size, heuristics score decided */
	ALGO_RULE_ACTIVE_CLIENTS,	/* ffsplit: equal score, more connected clients */
	ALGO_RULE_KEEP_ACTIVE_PARTITION,	/* ffsplit: KAP kept the previous partition */
	ALGO_RULE_TIE_BREAKER,		/* tie_breaker (mode in the record) */
	ALGO_RULE_LARGEST_PARTITION,	/* lms: unique largest partition */
	ALGO_RULE_NEWCOMER,		/* another partition already holds an ACK */
	ALGO_RULE_BOTH_NODES_MEMBERS,	/* 2nodelms: both nodes in the membership */
	ALGO_RULE_ONLY_CLIENT,		/* 2nodelms: the only connected client */
	ALGO_RULE_REPEAT_LAST,		/* 2nodelms: ask-for-vote repeats the last result */
	ALGO_RULE_HIGHEST_SCORE,	/* lms: unique highest score (nodes + heuristics) */
	ALGO_RULE_COUNT
};

#define ALGO_DECISION_MAX_PARTITIONS	8
#define ALGO_DECISION_MAX_IDS		16

struct algo_decision_partition {
	uint32_t	node_ids[ALGO_DECISION_MAX_IDS];	/* the first ids, as listed */
	uint32_t	size;		/* nodes in the partition (ids_kept may be fewer) */
	uint32_t	ids_kept;
	uint32_t	representative;	/* the client whose view this is */
	struct ring_id	ring_id;
	int64_t		active;		/* connected clients in it (ffsplit, lms) */
	/* ffsplit/lms: active + pass - fail; 2nodelms: heuristics rank 2/1/0 */
	int64_t		score;
	bool		score_known;	/* ffsplit counts only sides it compared by score */
	uint8_t		heuristics;	/* the representative's, enum heuristics */
	bool		won;
};

struct algo_decision {
	bool		made;		/* a decision was recorded for this event */
	uint8_t		algorithm;	/* enum decision_algorithm */
	uint8_t		rule;		/* enum algo_rule */
	uint32_t	subject;	/* node whose vote this is; 0: every client (ffsplit round) */
	uint8_t		vote;		/* subject's vote; VOTE_NO_CHANGE for a round */
	uint32_t	config_size;	/* ffsplit: configured nodes the sides count against */
	uint8_t		tie_breaker_mode;	/* ALGO_RULE_TIE_BREAKER: enum tie_breaker_mode */
	uint32_t	tie_breaker_node;	/* ... the node it prefers, 0 unknown */
	size_t		partition_count;	/* kept in partitions[] */
	size_t		partitions_seen;	/* >= partition_count */
	struct algo_decision_partition	partitions[ALGO_DECISION_MAX_PARTITIONS];
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
	struct algo_decision	*decision;	/* NULL: no record wanted; else filled */
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

/* View helpers shared by the algorithms. */

/*
 * Index of the connected client with this node id (leaving one included),
 * or cluster->count: a binary search, the view being sorted by node id
 * (struct algo_cluster) with one client per node id (docs/protocol.md 2.5).
 */
size_t	algo_view_find(const struct algo_cluster *cluster, uint32_t node_id);

/*
 * Walks the connected clients whose node id is in a set, in node id
 * order, each with the number of times the list names it. Scans whichever
 * is shorter, the clients or the set, and searches the other:
 * O(min(clients, |set|) * log max(clients, |set|)).
 */
struct algo_member_walk {
	const struct algo_cluster	*cluster;
	const struct node_id_set	*set;
	bool				 by_client;
	size_t				 pos;
};

void	algo_member_walk_start(struct algo_member_walk *w, const struct algo_cluster *cluster,
	    const struct node_id_set *set);
/* The next member's index in the view, or SIZE_MAX at the end. */
size_t	algo_member_walk_next(struct algo_member_walk *w, uint32_t *mult);

/*
 * Decision record helpers, all no-ops when plan->decision is NULL.
 * algo_decision_set() marks the record made with its rule, subject and
 * vote. algo_decision_add() keeps a partition (its first ids taken from
 * `ids`, a node_list, or `set` when ids is NULL) and returns it, or NULL
 * when no record is wanted or the record is full (counted in
 * partitions_seen). algo_decision_find() returns the kept partition whose
 * ids include node_id (only the ids kept are searched).
 */
void	algo_decision_set(struct algo_plan *plan, uint8_t rule, uint32_t subject,
	    uint8_t vote);
struct algo_decision_partition	*algo_decision_add(struct algo_plan *plan,
	    uint32_t representative, const struct node_list *ids,
	    const struct node_id_set *set, uint32_t size);
struct algo_decision_partition	*algo_decision_find(struct algo_plan *plan,
	    uint32_t node_id);
const char	*algo_rule_name(uint8_t rule);	/* stable word, e.g. "tie_breaker" */

extern const struct algorithm	algorithm_test;
extern const struct algorithm	algorithm_ffsplit;
extern const struct algorithm	algorithm_2nodelms;
extern const struct algorithm	algorithm_lms;

#endif
