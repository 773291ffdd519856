/*
 * qnetd/cluster.h: clusters by name. A cluster exists while at least one
 * initialised client belongs to it; it keeps its clients sorted by node
 * id, runs the cluster's algorithm on events and applies the plan
 * (VOTE_INFO pushes, lms timers). Lookup is a hash map, not a list walk.
 */
#ifndef QNETD_CLUSTER_H
#define QNETD_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "algorithms/algorithm.h"
#include "explain.h"

struct qnetd_instance;
struct qnetd_client;

struct qnetd_cluster {
	char			*name;		/* map key lives here */
	size_t			 name_len;
	struct qnetd_instance	*instance;	/* borrowed */
	struct algo_cluster	 view;		/* clients[] point into qnetd_client.algo */
	size_t			 view_cap;
	char			*acked_nodes;	/* last reported ACKed set, "1 2" (events) */
	uint64_t		 created_seq;	/* creation order: qnetd-tool -l lists by it */
	struct explain_log	 explain;	/* decision records: qnetd-tool --explain */
};

int	qnetd_clusters_init(struct qnetd_instance *inst);
void	qnetd_clusters_fini(struct qnetd_instance *inst);
struct qnetd_cluster	*qnetd_cluster_find(struct qnetd_instance *inst, const char *name);

/* Add an initialised client (creates the cluster on first use). 0 or -ENOMEM. */
int	qnetd_cluster_join(struct qnetd_instance *inst, struct qnetd_client *c);
/*
 * Remove a client: runs the algorithm's disconnect event first (unless the
 * server is shutting down), then frees the cluster if it became empty.
 */
void	qnetd_cluster_leave(struct qnetd_client *c, bool server_shutdown);

/*
 * Run the client's algorithm for ev. Pushes are queued before returning;
 * *plan gets the reply vote or error. 0 or -errno (internal error).
 */
int	qnetd_cluster_decide(struct qnetd_client *c, struct algo_event *ev,
	    struct algo_plan *plan);

/* Record a vote sent to a client (shown by qnetd-tool -l). */
void	qnetd_client_note_vote(struct qnetd_client *c, uint8_t vote);

#endif
