/* qnetd/events.c: turn qnetd state changes into hook runs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "common/hooks.h"
#include "common/utils.h"
#include "client.h"
#include "cluster.h"
#include "events.h"
#include "instance.h"

/* "QNET_X=value" strings are built in a fixed set of small buffers per event. */
#define VAR_LEN	256

/*
 * Whether c's cluster outlasts this event: a client not closing stays in
 * it (leaving: other than c). The hook queue ranks clusters by how long
 * they live (common/hooks.h), so one that ends must say so: the churn of
 * short-lived names then ranks below any cluster that lasts.
 */
static bool
cluster_ends(struct qnetd_client *c, bool leaving)
{
	struct qnetd_cluster *cl = c->cluster;

	for (size_t i = 0; cl != NULL && i < cl->view.count; i++) {
		struct qnetd_client *other = qnetd_client_of(cl->view.clients[i]);

		if (!other->closing && !(leaving && other == c))
			return false;
	}
	return true;
}

static void
run(struct qnetd_client *c, bool leaving, const char *event, const char *const *vars)
{
	struct qnetd_instance *inst = qnetd_instance_of(c);
	uint64_t born;
	int r;

	if (inst->hooks == NULL)
		return;
	/*
	 * Per cluster, born at its creation number: neither one cluster's
	 * flood nor a churn of other names can crowd out a lasting cluster's
	 * events. Drops (-EBUSY) are counted and warned about in
	 * common/hooks.c, in one line per interval, not one per event.
	 */
	born = c->cluster != NULL ? c->cluster->created_seq : inst->next_cluster_seq;
	r = hooks_run(inst->hooks, c->cluster_name, born, cluster_ends(c, leaving),
	    event, vars);
	if (r < 0 && r != -EBUSY)
		qb_log(LOG_WARNING, "%s: cannot start the event hook for %s: %s", c->ident,
		    event, strerror(-r));
}

static void
client_vars(struct qnetd_client *c, char vars[][VAR_LEN])
{
	snprintf(vars[0], VAR_LEN, "QNET_CLUSTER=%s", c->cluster_name ? c->cluster_name : "");
	snprintf(vars[1], VAR_LEN, "QNET_NODE_ID=%" PRIu32, c->algo.node_id);
	snprintf(vars[2], VAR_LEN, "QNET_CLIENT_ADDRESS=%s", c->addr_str);
}

void
qnetd_event_client_connected(struct qnetd_client *c)
{
	char vars[3][VAR_LEN];
	const char *list[] = { vars[0], vars[1], vars[2], NULL };

	client_vars(c, vars);
	run(c, false, "client_connected", list);
}

void
qnetd_event_client_disconnected(struct qnetd_client *c, const char *reason)
{
	char vars[4][VAR_LEN];
	const char *list[] = { vars[0], vars[1], vars[2], vars[3], NULL };

	client_vars(c, vars);
	snprintf(vars[3], VAR_LEN, "QNET_REASON=%s", reason);
	run(c, true, "client_disconnected", list);
}

/* The cluster's ACKed node ids as "1 2 3" (sorted: the view is). */
static char *
acked_nodes(const struct qnetd_cluster *cl)
{
	char *s = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&s, &len);

	if (out == NULL)
		return NULL;
	for (size_t i = 0, n = 0; i < cl->view.count; i++)
		if (qnetd_client_of(cl->view.clients[i])->last_sent_ack_nack_vote == VOTE_ACK)
			fprintf(out, "%s%" PRIu32, n++ ? " " : "", cl->view.clients[i]->node_id);
	if (fclose(out) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

void
qnetd_event_vote_changed(struct qnetd_client *c, uint8_t previous)
{
	char vars[6][VAR_LEN], shown[UTILS_NAME_LOG_SIZE];
	const char *list[] = { vars[0], vars[1], vars[2], vars[3], vars[4], NULL };
	struct qnetd_cluster *cl = c->cluster;
	char *acked;

	client_vars(c, vars);
	snprintf(vars[3], VAR_LEN, "QNET_VOTE=%s", vote_name(c->last_sent_ack_nack_vote));
	snprintf(vars[4], VAR_LEN, "QNET_PREVIOUS_VOTE=%s",
	    previous ? vote_name(previous) : "none");
	run(c, false, "vote_changed", list);

	if (cl == NULL || (acked = acked_nodes(cl)) == NULL)
		return;
	if (cl->acked_nodes == NULL || strcmp(cl->acked_nodes, acked) != 0) {
		snprintf(vars[3], VAR_LEN, "QNET_ACKED_NODES=%s", acked);
		snprintf(vars[4], VAR_LEN, "QNET_PREVIOUS_ACKED_NODES=%s",
		    cl->acked_nodes ? cl->acked_nodes : "");
		qb_log(LOG_INFO, "cluster %s: nodes holding qnetd's vote: [%s]",
		    utils_name_for_log(shown, sizeof(shown), cl->name, cl->name_len), acked);
		run(c, false, "partition_changed", (const char *const []){ vars[0], vars[3], vars[4],
		    NULL });
		free(cl->acked_nodes);
		cl->acked_nodes = acked;
	} else {
		free(acked);
	}
}
