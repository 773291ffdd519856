/*
 * qnetd/explain.h: why each node holds its vote. Every cluster keeps the
 * algorithms' latest decision records (algorithm.h, struct algo_decision)
 * per node and for the last cluster-wide round, and a bounded journal of
 * its last decisions (-S explain_journal_size); qnetd-tool --explain shows
 * them as text or JSON (schema in qnetd-tool(8)).
 */
#ifndef QNETD_EXPLAIN_H
#define QNETD_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "algorithms/algorithm.h"

struct qnetd_instance;

/*
 * One decision as the server saw it: when, on what, and the algorithm's
 * record with only the partitions it kept (a few hundred bytes). Shared
 * by the journal and the latest slots, freed with its last reference.
 */
struct explain_record {
	unsigned	refs;
	uint64_t	seq;		/* the cluster's decision counter */
	uint64_t	at_ns;		/* clock_now_ns() of the (last) decision */
	uint32_t	repeats;	/* equal decisions folded into this record */
	uint8_t		event;		/* enum algo_event_type */
	uint32_t	trigger;	/* node id of the client whose event it was */
	/* struct algo_decision's fields */
	uint8_t		algorithm;
	uint8_t		rule;
	uint32_t	subject;
	uint8_t		vote;
	uint32_t	config_size;
	uint8_t		tie_breaker_mode;
	uint32_t	tie_breaker_node;
	size_t		partitions_seen;
	size_t		partition_count;
	struct algo_decision_partition	partitions[];
};

struct explain_node {
	uint32_t		 node_id;
	struct explain_record	*latest;	/* its newest record */
	struct explain_record	*decided;	/* its newest record giving ACK or NACK */
};

struct explain_log {
	struct explain_record	**journal;	/* ring of journal_cap, lazily allocated */
	size_t			 journal_cap;
	size_t			 journal_next;	/* slot the next record goes to */
	size_t			 journal_count;
	uint64_t		 decisions;	/* recorded since the cluster was created */
	struct explain_record	*round;		/* newest cluster-wide record (ffsplit) */
	struct explain_record	*round_decided;	/* newest round that selected or refused */
	struct explain_node	*nodes;		/* sorted by node id */
	size_t			 node_count, node_cap;
};

void	explain_log_init(struct explain_log *log, size_t journal_cap);
void	explain_log_fini(struct explain_log *log);
/*
 * Keep a decision made on event `event` of node `trigger`: 0, or -ENOMEM
 * with the log as it was.
 */
int	explain_log_record(struct explain_log *log, uint8_t event, uint32_t trigger,
	    const struct algo_decision *d, uint64_t now_ns);
/* A node left its cluster: its slots go. */
void	explain_log_forget(struct explain_log *log, uint32_t node_id);

/*
 * qnetd-tool --explain: cluster_name NULL or "" for every cluster. The
 * text, the JSON document, or only its comma-separated cluster objects
 * (*first: none came before), for the front of worker processes to join.
 * 0 or -ENOMEM.
 */
int	qnetd_explain_write(const struct qnetd_instance *inst, const char *cluster_name,
	    FILE *out);
int	qnetd_explain_write_json(const struct qnetd_instance *inst, const char *cluster_name,
	    FILE *out);
int	qnetd_explain_write_json_items(const struct qnetd_instance *inst,
	    const char *cluster_name, bool *first, FILE *out);

#endif
