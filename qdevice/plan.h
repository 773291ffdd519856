/*
 * qdevice/plan.h: the failure planner's model. A plan_cluster is what the
 * planner knows of a cluster (read from cmap and qdevice by plan-input.c,
 * or built by hand in tests); plan_matrix() answers, for every failure it
 * enumerates, which nodes keep quorum. Tie-breaks are decided by running
 * qnetd's own algorithms (qnetd/algorithms) on a simulated arbiter view,
 * never by a second copy of their rules. Pure: no I/O, no clock.
 */
#ifndef QDEVICE_PLAN_H
#define QDEVICE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"

#define PLAN_MAX_NODES		64	/* node sets are 64-bit masks over nodes[] */
#define PLAN_MAX_LINKS		8	/* knet's link ids 0..7 */
#define PLAN_FULL_PARTITION_NODES 10	/* every 2-way partition up to this size */

enum plan_atb_mode {
	PLAN_ATB_LOWEST = 0,
	PLAN_ATB_HIGHEST,
	PLAN_ATB_LIST,
};

struct plan_node {
	uint32_t	 id;
	char		*name;			/* NULL when unknown */
	uint32_t	 votes;			/* quorum_votes, default 1 */
	char		*addrs[PLAN_MAX_LINKS];	/* ringN_addr; NULL: no address on link N */
	uint8_t		 heuristics;		/* enum heuristics: last result, UNDEFINED if unknown */
};

struct plan_cluster {
	struct plan_node *nodes;		/* sorted by ascending id */
	size_t		  node_count;
	size_t		  link_count;		/* links with an address on some node */

	/* votequorum */
	uint32_t	 expected_votes;	/* 0: not configured (sum of votes) */
	bool		 two_node;
	bool		 wait_for_all;
	bool		 last_man_standing;
	bool		 auto_tie_breaker;
	enum plan_atb_mode atb_mode;
	uint32_t	*atb_nodes;		/* PLAN_ATB_LIST, in configured order */
	size_t		 atb_node_count;

	/* quorum.device (has_device false: no device configured) */
	bool		 has_device;
	uint32_t	 device_votes;		/* 0: votequorum's default for the algorithm */
	uint8_t		 algorithm;		/* enum decision_algorithm */
	struct tie_breaker tie_breaker;
	bool		 kap_tie_breaker;	/* keep_active_partition_tie_breaker */
	uint8_t		 heuristics_mode;	/* enum heuristics_mode */
};

enum plan_kind {
	PLAN_KIND_NONE = 0,		/* no failure: the baseline row */
	PLAN_KIND_NODE,
	PLAN_KIND_LINK,
	PLAN_KIND_ARBITER,
	PLAN_KIND_ARBITER_PATH,
	PLAN_KIND_DOUBLE,
	PLAN_KIND_PARTITION,
};

enum plan_verdict {
	PLAN_SURVIVES = 0,	/* every node still running is quorate */
	PLAN_DEGRADED,		/* some running nodes are quorate, others not */
	PLAN_NOBODY,		/* no node is quorate */
};

/*
 * One failure. Nodes are bits over plan_cluster.nodes[] (bit i = nodes[i]),
 * links are bits over link ids.
 */
struct plan_failure {
	uint64_t	nodes_down;
	uint64_t	arbiter_path_down;	/* running, but cannot reach the arbiter */
	uint32_t	links_down;		/* down on every node */
	bool		arbiter_down;
	uint64_t	side_a;			/* partition: side_a | rest, cut on every link */
	bool		partitioned;
};

struct plan_row {
	enum plan_kind	 kind;
	struct plan_failure failure;
	char		*scenario;	/* in words: "node 2 (n2) down", "partition 1 2 | 3 4" */
	uint64_t	 quorate;	/* nodes predicted quorate */
	enum plan_verdict verdict;
	bool		 race;		/* outcome depends on event order: more than one possible */
	uint64_t	 quorate_alt;	/* race: the other possible quorate set */
};

struct plan_matrix {
	struct plan_row	*rows;
	size_t		 count;
	bool		 partitions_complete;	/* false: a bounded subset (stated in limits_note) */
	char		*limits_note;		/* NULL, or why the matrix is a subset */
};

/* Quorum arithmetic for the cluster as configured, all nodes up. */
struct plan_arithmetic {
	uint32_t	node_votes;		/* sum of the nodes' votes */
	uint32_t	device_votes;		/* effective qdevice votes (0 without device) */
	uint32_t	expected_votes;		/* as votequorum computes it */
	uint32_t	quorum;			/* votes needed */
	uint32_t	node_failures_with_arbiter;	/* nodes that may fail, arbiter reachable */
	uint32_t	node_failures_without_arbiter;	/* ... with the arbiter gone */

	/*
	 * Added by the planner's core. The failure counts are for nodes failing
	 * at once, the worst nodes first (most votes, the ATB node before its
	 * equals); 0 also when even the cluster as it runs is not quorate.
	 */
	bool		baseline_quorate;	/* every node quorate with nothing failed */
	bool		survives_arbiter_loss;	/* every node still quorate with only the arbiter gone */
	bool		device_operative;	/* the device can vote at all */
	const char	*device_note;		/* static text: why it cannot, else NULL */
	bool		two_node;		/* votequorum flags in force (after its own rules) */
	bool		wait_for_all;		/* matters only when the cluster starts */
	bool		auto_tie_breaker;
	uint32_t	atb_node_id;		/* the node ATB keeps, 0: none */
};

/*
 * 0, -EINVAL (a view the planner cannot model: no nodes, more than
 * PLAN_MAX_NODES, unsorted or duplicate ids, a node without an address,
 * a configuration corosync refuses to start with; err says which),
 * -ENOMEM, or -ELOOP (the arbiter simulation did not settle: a bug, never
 * a guess). tie_breaker.mode 0 means lowest (qdevice's default).
 */
int	plan_arithmetic(const struct plan_cluster *c, struct plan_arithmetic *out,
	    char *err, size_t err_len);
int	plan_matrix_build(const struct plan_cluster *c, struct plan_matrix *out,
	    char *err, size_t err_len);
void	plan_matrix_fini(struct plan_matrix *m);

/*
 * The nodes quorate after failure f (and whether the result is a race).
 * Exposed for the matrix, the tests and the drills. Errors as above;
 * -EINVAL also for a failure naming nodes or links the cluster lacks.
 */
int	plan_evaluate(const struct plan_cluster *c, const struct plan_failure *f,
	    uint64_t *quorate, bool *race, uint64_t *quorate_alt);

void	plan_cluster_fini(struct plan_cluster *c);

const char	*plan_kind_name(enum plan_kind k);	/* "node", "link", ..., "partition" */
const char	*plan_verdict_name(enum plan_verdict v);	/* "survives", "degraded", "nobody quorate" */

#endif
