/* qnetd/status.c: status and list text for the admin socket. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qb/qbmap.h>

#include "client.h"
#include "cluster.h"
#include "instance.h"
#include "status.h"

void
qnetd_status_write(const struct qnetd_instance *inst, bool verbose, FILE *out)
{
	const struct qnetd_settings *s = inst->settings;

	if (s->listen_addr != NULL)
		fprintf(out, "QNetd address:\t\t\t%s:%u\n", s->listen_addr, (unsigned)s->port);
	else
		fprintf(out, "QNetd address:\t\t\t*:%u\n", (unsigned)s->port);
	fprintf(out, "TLS:\t\t\t\t%s%s\n", tls_supported_name((uint8_t)s->tls),
	    s->tls != QNETD_TLS_OFF && s->client_cert_required ?
	    " (client certificate required)" : "");
	fprintf(out, "Connected clients:\t\t%u\n", (unsigned)inst->client_count);
	fprintf(out, "Connected clusters:\t\t%u\n", (unsigned)inst->cluster_count);
	if (verbose) {
		if (s->max_clients != 0)
			fprintf(out, "Maximum allowed clients:\t%u\n", (unsigned)s->max_clients);
		fprintf(out, "Maximum send/receive size:\t%u/%u bytes\n",
		    (unsigned)s->max_client_send_size, (unsigned)s->max_client_receive_size);
	}
}

static void
write_node_list(FILE *out, const struct node_list *l, bool with_dc)
{
	for (size_t i = 0; i < l->count; i++) {
		fprintf(out, "%s%" PRIu32, i > 0 ? ", " : "", l->nodes[i].node_id);
		if (with_dc && l->nodes[i].data_center_id != 0)
			fprintf(out, " (%" PRIu32 ")", l->nodes[i].data_center_id);
	}
	fputc('\n', out);
}

static const char *
heuristics_text(uint8_t h)
{
	return h == HEURISTICS_PASS ? "Pass" : h == HEURISTICS_FAIL ? "Fail" : "Undefined";
}

static void
write_tie_breaker(FILE *out, const struct tie_breaker *tb)
{
	switch (tb->mode) {
	case TIE_BREAKER_LOWEST:
		fputs("Node with lowest node ID\n", out);
		break;
	case TIE_BREAKER_HIGHEST:
		fputs("Node with highest node ID\n", out);
		break;
	default:
		fprintf(out, "Node with node ID %" PRIu32 "\n", tb->node_id);
		break;
	}
}

static void
write_client(FILE *out, const struct qnetd_client *c, bool verbose)
{
	const struct algo_client *a = &c->algo;

	fprintf(out, "    Node ID %" PRIu32 ":\n", a->node_id);
	fprintf(out, "        Client address:\t\t%s\n", c->addr_str);
	if (verbose)
		fprintf(out, "        HB interval:\t\t%" PRIu32 "ms\n", a->heartbeat_interval_ms);
	if (a->config_version_set)
		fprintf(out, "        Configuration version:\t%" PRIu64 "\n", a->config_version);
	if (a->config_set) {
		fputs("        Configured node list:\t", out);
		write_node_list(out, &a->config, true);
	}
	if (verbose)
		fprintf(out, "        Ring ID:\t\t%" PRIx32 ".%" PRIx64 "\n",
		    a->ring_id.node_id, a->ring_id.seq);
	if (a->membership_set) {
		fputs("        Membership node list:\t", out);
		write_node_list(out, &a->membership, false);
	}
	if (a->last_heuristics != HEURISTICS_UNDEFINED || verbose) {
		fprintf(out, "        Heuristics:\t\t%s", heuristics_text(a->last_heuristics));
		if (verbose)
			fprintf(out, " (membership: %s, regular: %s)",
			    heuristics_text(a->last_membership_heuristics),
			    heuristics_text(a->last_regular_heuristics));
		fputc('\n', out);
	}
	if (verbose)
		fprintf(out, "        TLS active:\t\t%s%s\n", c->tls_started ? "Yes" : "No",
		    c->tls_peer_verified ? " (client certificate verified)" : "");
	fprintf(out, "        Vote:\t\t\t%s (%s)\n", vote_name(c->last_sent_vote),
	    vote_name(c->last_sent_ack_nack_vote));
}

static bool
all_kap(const struct qnetd_cluster *cl)
{
	for (size_t i = 0; i < cl->view.count; i++)
		if (cl->view.clients[i]->algorithm != ALGORITHM_FFSPLIT ||
		    !cl->view.clients[i]->kap_enabled)
			return false;
	return cl->view.count > 0;
}

static void
write_cluster(FILE *out, const struct qnetd_cluster *cl, bool verbose)
{
	const struct algo_client *first;

	if (cl->view.count == 0)
		return;
	first = cl->view.clients[0];
	fprintf(out, "Cluster \"%s\":\n", cl->name);
	fprintf(out, "    Algorithm:\t\t%s%s\n", decision_algorithm_name(first->algorithm),
	    all_kap(cl) ? " (KAP Tie-breaker)" : "");
	fputs("    Tie-breaker:\t", out);
	write_tie_breaker(out, &first->tie_breaker);
	for (size_t i = 0; i < cl->view.count; i++)
		write_client(out, qnetd_client_of(cl->view.clients[i]), verbose);
}

void
qnetd_list_write(const struct qnetd_instance *inst, bool verbose, const char *cluster_name,
    FILE *out)
{
	qb_map_iter_t *it;
	void *value;

	if (cluster_name != NULL) {
		const struct qnetd_cluster *cl = qb_map_get(inst->clusters, cluster_name);

		if (cl != NULL)
			write_cluster(out, cl, verbose);
		return;
	}
	it = qb_map_iter_create(inst->clusters);
	if (it == NULL)
		return;
	while (qb_map_iter_next(it, &value) != NULL)
		write_cluster(out, value, verbose);
	qb_map_iter_free(it);
}
