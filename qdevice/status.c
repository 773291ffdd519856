/* qdevice/status.c: render qdevice's status text (PROTOCOL.md 5.5). */
#include <errno.h>
#include <inttypes.h>

#include "common/utils.h"
#include "status.h"

const char *
status_state_name(enum status_state s)
{
	switch (s) {
	case STATUS_STATE_DISCONNECTED:		return "Disconnected";
	case STATUS_STATE_CONNECTING:		return "Connecting";
	case STATUS_STATE_CONNECT_FAILED:	return "Connect failed";
	case STATUS_STATE_CONNECTED:		return "Connected";
	}
	return "Unknown";
}

static const char *
time_str(time_t t, char *buf, size_t len)
{
	utils_format_time((long long)t, buf, len);
	return buf;
}

static void
write_generic(FILE *out, const struct status_view *v, bool verbose)
{
	char tbuf[32];

	fprintf(out, "Qdevice information\n-------------------\n");
	fprintf(out, "Model:\t\t\tNet\n");
	fprintf(out, "Node ID:\t\t%" PRIu32 "\n", v->node_id);
	if (verbose) {
		fprintf(out, "HB interval:\t\t%" PRIu32 "ms\n", v->timeout_ms);
		fprintf(out, "Sync HB interval:\t%" PRIu32 "ms\n", v->sync_timeout_ms);
	}
	if (v->config_version_set)
		fprintf(out, "Configuration version:\t%" PRIu64 "\n", v->config_version);
	fprintf(out, "Configured node list:\n");
	for (size_t i = 0; i < v->config_nodes->count; i++) {
		const struct node_info *n = &v->config_nodes->nodes[i];

		fprintf(out, "    %zu\tNode ID = %" PRIu32, i, n->node_id);
		if (n->data_center_id != 0)
			fprintf(out, ", Data center ID = %" PRIu32, n->data_center_id);
		fprintf(out, "\n");
	}
	if (verbose) {
		fprintf(out, "Heuristics:\t\t%s\n", v->heuristics_mode);
		fprintf(out, "Ring ID:\t\t%" PRIx32 ".%" PRIx64 "\n", v->ring_id.node_id,
		    v->ring_id.seq);
	}
	fprintf(out, "Membership node list:\t");
	for (size_t i = 0; i < v->membership->count; i++)
		fprintf(out, "%s%" PRIu32, i == 0 ? "" : ", ", v->membership->nodes[i].node_id);
	fprintf(out, "\n");
	if (verbose) {
		fprintf(out, "Quorate:\t\t%s\n", v->quorate ? "Yes" : "No");
		fprintf(out, "Quorum node list:\n");
		for (size_t i = 0; i < v->quorum_nodes->count; i++) {
			const struct node_info *n = &v->quorum_nodes->nodes[i];

			if (n->node_id == 0)
				continue;
			fprintf(out, "    %zu\tNode ID = %" PRIu32 ", State = %s\n", i,
			    n->node_id, node_state_name(n->node_state));
		}
		fprintf(out, "Expected votes:\t\t%" PRIu32 "\n", v->expected_votes);
		if (v->last_poll == (time_t)-1)
			fprintf(out, "Last poll call:\t\tNever\n");
		else
			fprintf(out, "Last poll call:\t\t%s%s\n",
			    time_str(v->last_poll, tbuf, sizeof(tbuf)),
			    v->last_poll_cast_vote ? " (cast vote)" : "");
	}
	fprintf(out, "\n");
}

static const char *
kap_str(const struct status_view *v)
{
	switch (v->algorithm) {
	case ALGORITHM_TEST:
		return "Unsupported by algorithm";
	case ALGORITHM_2NODELMS:
	case ALGORITHM_LMS:
		return "Algorithm hard-coded";
	default:
		if (!v->kap_tie_breaker)
			return "Disabled";
		if (v->state != STATUS_STATE_CONNECTED || v->server_supports_kap)
			return "Enabled";
		return "Unsupported by QNetd";
	}
}

static void
write_net(FILE *out, const struct status_view *v, bool verbose)
{
	char tbuf[32];

	fprintf(out, "Qdevice-net information\n----------------------\n");
	fprintf(out, "Cluster name:\t\t%s\n", v->cluster_name);
	fprintf(out, "QNetd host:\t\t%s:%u\n", v->host, (unsigned)v->port);
	if (verbose) {
		if (v->force_ip_version != 0)
			fprintf(out, "Force IP version:\t%d\n", v->force_ip_version);
		fprintf(out, "Connect timeout:\t%" PRIu32 "ms\n", v->connect_timeout_ms);
		fprintf(out, "HB interval:\t\t%" PRIu32 "ms\n", v->heartbeat_interval_ms);
		fprintf(out, "VQ vote timer interval:\t%" PRIu32 "ms\n", v->cast_vote_interval_ms);
		fprintf(out, "TLS:\t\t\t%s\n", tls_supported_name(v->tls));
	}
	fprintf(out, "Algorithm:\t\t%s\n", decision_algorithm_name(v->algorithm));
	switch (v->tie_breaker.mode) {
	case TIE_BREAKER_HIGHEST:
		fprintf(out, "Tie-breaker:\t\tNode with highest node ID\n");
		break;
	case TIE_BREAKER_NODE_ID:
		fprintf(out, "Tie-breaker:\t\tNode with node ID %" PRIu32 "\n",
		    v->tie_breaker.node_id);
		break;
	default:
		fprintf(out, "Tie-breaker:\t\tNode with lowest node ID\n");
		break;
	}
	if (verbose) {
		fprintf(out, "KAP Tie-breaker:\t%s\n", kap_str(v));
		fprintf(out, "Poll timer running:\t%s%s\n", v->poll_timer_running ? "Yes" : "No",
		    v->poll_timer_running && v->poll_cast_vote ? " (cast vote)" : "");
	}
	fprintf(out, "State:\t\t\t%s\n", status_state_name(v->state));
	if (v->heuristics_enabled) {
		fprintf(out, "Heuristics result:\t%s", heuristics_name(v->heuristics_latest));
		if (verbose)
			fprintf(out, " (regular: %s, membership: %s, connect: %s)",
			    heuristics_name(v->heuristics_regular),
			    heuristics_name(v->heuristics_membership),
			    heuristics_name(v->heuristics_connect));
		fprintf(out, "\n");
	}
	if (!verbose || v->state != STATUS_STATE_CONNECTED)
		return;
	fprintf(out, "TLS active:\t\t%s%s\n", v->tls_active ? "Yes" : "No",
	    v->tls_active && v->client_cert_sent ? " (client certificate sent)" : "");
	if (v->connected_since != (time_t)-1)
		fprintf(out, "Connected since:\t%s\n",
		    time_str(v->connected_since, tbuf, sizeof(tbuf)));
	if (v->echo_reply_received != (time_t)-1)
		fprintf(out, "Echo reply received:\t%s\n",
		    time_str(v->echo_reply_received, tbuf, sizeof(tbuf)));
}

int
status_write(FILE *out, const struct status_view *v, bool verbose)
{
	write_generic(out, v, verbose);
	write_net(out, v, verbose);
	return ferror(out) ? -EIO : 0;
}
