/* qdevice/status.c: render qdevice's status as text (docs/protocol.md 5.5), JSON or metrics. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <time.h>

#include "common/json.h"
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

/* "YYYY-MM-DDTHH:MM:SS" in local time (buf >= 20 bytes); the number if that fails. */
static const char *
time_str(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
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
	/* Ours, verbose only, so the default text stays upstream's. */
	if (verbose && v->address != NULL)
		fprintf(out, "QNetd address:\t\t%s (%zu of %zu)\n", v->address, v->address_index,
		    v->address_count);
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

/* ---- JSON ---- */

static const char *
tie_breaker_word(uint8_t mode)
{
	return mode == TIE_BREAKER_LOWEST ? "lowest" : mode == TIE_BREAKER_HIGHEST ?
	    "highest" : "node_id";
}

static void
json_time(FILE *out, const char *name, time_t t)
{
	if (t == (time_t)-1)
		fprintf(out, ",\"%s\":null", name);
	else
		fprintf(out, ",\"%s\":%lld", name, (long long)t);
}

static void
json_bool(FILE *out, const char *name, bool b)
{
	fprintf(out, ",\"%s\":%s", name, b ? "true" : "false");
}

static void
json_str(FILE *out, const char *name, const char *value)
{
	fprintf(out, ",\"%s\":", name);
	json_write_string(out, value);
}

static void
json_generic(FILE *out, const struct status_view *v)
{
	size_t n;

	fprintf(out, "{\"model\":\"Net\",\"node_id\":%" PRIu32, v->node_id);
	fprintf(out, ",\"timeout_ms\":%" PRIu32 ",\"sync_timeout_ms\":%" PRIu32,
	    v->timeout_ms, v->sync_timeout_ms);
	if (v->config_version_set)
		fprintf(out, ",\"config_version\":%" PRIu64, v->config_version);
	else
		fputs(",\"config_version\":null", out);
	fputs(",\"config_node_list\":[", out);
	for (size_t i = 0; i < v->config_nodes->count; i++)
		fprintf(out, "%s{\"node_id\":%" PRIu32 ",\"data_center_id\":%" PRIu32 "}",
		    i > 0 ? "," : "", v->config_nodes->nodes[i].node_id,
		    v->config_nodes->nodes[i].data_center_id);
	fputc(']', out);
	json_str(out, "heuristics_mode", v->heuristics_mode);
	fprintf(out, ",\"ring_id\":\"%" PRIx32 ".%" PRIx64 "\",\"membership_node_list\":[",
	    v->ring_id.node_id, v->ring_id.seq);
	for (size_t i = 0; i < v->membership->count; i++)
		fprintf(out, "%s%" PRIu32, i > 0 ? "," : "", v->membership->nodes[i].node_id);
	fputc(']', out);
	json_bool(out, "quorate", v->quorate);
	fputs(",\"quorum_node_list\":[", out);
	n = 0;
	for (size_t i = 0; i < v->quorum_nodes->count; i++) {
		const struct node_info *q = &v->quorum_nodes->nodes[i];

		if (q->node_id == 0)
			continue;
		fprintf(out, "%s{\"node_id\":%" PRIu32 ",\"state\":\"%s\"}", n++ > 0 ? "," : "",
		    q->node_id, node_state_name(q->node_state));
	}
	fputc(']', out);
	fprintf(out, ",\"expected_votes\":%" PRIu32, v->expected_votes);
	json_time(out, "last_poll", v->last_poll);
	json_bool(out, "last_poll_cast_vote", v->last_poll != (time_t)-1 &&
	    v->last_poll_cast_vote);
}

static void
json_net(FILE *out, const struct status_view *v)
{
	json_str(out, "cluster_name", v->cluster_name);
	json_str(out, "qnetd_host", v->host);
	fprintf(out, ",\"qnetd_port\":%u,\"force_ip_version\":%d", (unsigned)v->port,
	    v->force_ip_version);
	fprintf(out, ",\"connect_timeout_ms\":%" PRIu32 ",\"heartbeat_interval_ms\":%" PRIu32
	    ",\"vote_timer_interval_ms\":%" PRIu32, v->connect_timeout_ms,
	    v->heartbeat_interval_ms, v->cast_vote_interval_ms);
	json_str(out, "tls", tls_supported_name(v->tls));
	json_str(out, "algorithm", decision_algorithm_name(v->algorithm));
	fprintf(out, ",\"tie_breaker\":{\"mode\":\"%s\",\"node_id\":%" PRIu32 "}",
	    tie_breaker_word(v->tie_breaker.mode),
	    v->tie_breaker.mode == TIE_BREAKER_NODE_ID ? v->tie_breaker.node_id : 0);
	json_str(out, "kap_tie_breaker", kap_str(v));
	json_bool(out, "poll_timer_running", v->poll_timer_running);
	json_str(out, "vote", !v->poll_timer_running ? "none" : v->poll_cast_vote ? "ACK" :
	    "NACK");
	if (v->vote_held_ms >= 0)
		fprintf(out, ",\"vote_held_ms\":%lld", (long long)v->vote_held_ms);
	else
		fputs(",\"vote_held_ms\":null", out);
	json_str(out, "state", status_state_name(v->state));
	json_bool(out, "heuristics_enabled", v->heuristics_enabled);
	json_str(out, "heuristics", heuristics_name(v->heuristics_latest));
	json_str(out, "regular_heuristics", heuristics_name(v->heuristics_regular));
	json_str(out, "membership_heuristics", heuristics_name(v->heuristics_membership));
	json_str(out, "connect_heuristics", heuristics_name(v->heuristics_connect));
	json_bool(out, "tls_active", v->state == STATUS_STATE_CONNECTED && v->tls_active);
	json_bool(out, "client_certificate_sent", v->state == STATUS_STATE_CONNECTED &&
	    v->tls_active && v->client_cert_sent);
	json_time(out, "connected_since", v->state == STATUS_STATE_CONNECTED ?
	    v->connected_since : (time_t)-1);
	json_time(out, "echo_reply_received", v->state == STATUS_STATE_CONNECTED ?
	    v->echo_reply_received : (time_t)-1);
	if (v->address != NULL) {
		json_str(out, "qnetd_address", v->address);
		json_str(out, "qnetd_address_host", v->address_host);
		fprintf(out, ",\"qnetd_address_index\":%zu,\"qnetd_address_count\":%zu",
		    v->address_index, v->address_count);
	} else {
		fputs(",\"qnetd_address\":null,\"qnetd_address_host\":null"
		    ",\"qnetd_address_index\":null,\"qnetd_address_count\":null", out);
	}
	if (v->cert_days_known)
		fprintf(out, ",\"certificate_days_left\":%ld", v->cert_days_left);
	else
		fputs(",\"certificate_days_left\":null", out);
	fprintf(out, ",\"event_hooks_running\":%" PRIu32 ",\"event_hooks_dropped\":%" PRIu64
	    ",\"event_hooks_timed_out\":%" PRIu64 "}\n", v->hooks_running, v->hooks_dropped,
	    v->hooks_timed_out);
}

int
status_write_json(FILE *out, const struct status_view *v)
{
	json_generic(out, v);
	json_net(out, v);
	return ferror(out) ? -EIO : 0;
}

/* ---- Prometheus ---- */

static void
gauge(FILE *out, const char *name, const char *help, long long value)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, value);
}

static int
heuristics_gauge(uint8_t h)
{
	return h == HEURISTICS_PASS ? 1 : h == HEURISTICS_FAIL ? 0 : -1;
}

int
status_write_metrics(FILE *out, const struct status_view *v)
{
	static const struct qdevice_stats zero;
	static const struct { const char *name, *help; size_t off; } counters[] = {
		{ "qdevice_connects_total", "Connections to qnetd that were established.",
		    offsetof(struct qdevice_stats, connects) },
		{ "qdevice_disconnects_total", "Established connections to qnetd that ended.",
		    offsetof(struct qdevice_stats, disconnects) },
		{ "qdevice_acks_received_total", "ACK votes received from qnetd.",
		    offsetof(struct qdevice_stats, acks_received) },
		{ "qdevice_nacks_received_total", "NACK votes received from qnetd.",
		    offsetof(struct qdevice_stats, nacks_received) },
		{ "qdevice_votes_held_total",
		    "Yes votes held until their ring was shown whole (vote guard).",
		    offsetof(struct qdevice_stats, votes_held) },
		{ "qdevice_held_votes_dropped_total",
		    "Held yes votes dropped because the membership or qnetd's decision changed.",
		    offsetof(struct qdevice_stats, held_votes_dropped) },
		{ "qdevice_stale_votes_withdrawn_total",
		    "Votes counted again by a late message of a dead ring, withdrawn at once.",
		    offsetof(struct qdevice_stats, stale_votes_withdrawn) },
	};
	const struct qdevice_stats *st = v->stats != NULL ? v->stats : &zero;

	gauge(out, "qdevice_up", "1 while qdevice answers.", 1);
	gauge(out, "qdevice_connected", "1 while connected to qnetd.",
	    v->state == STATUS_STATE_CONNECTED);
	gauge(out, "qdevice_quorate", "1 while votequorum says this node is quorate.", v->quorate);
	gauge(out, "qdevice_vote_cast",
	    "1 while votequorum is polled with the vote, 0 without it, -1 not polled.",
	    !v->poll_timer_running ? -1 : v->poll_cast_vote ? 1 : 0);
	gauge(out, "qdevice_vote_held_seconds",
	    "Seconds the current yes vote has been held by the vote guard (0: none).",
	    v->vote_held_ms > 0 ? v->vote_held_ms / 1000 : 0);
	gauge(out, "qdevice_expected_votes", "Expected votes as votequorum last said.",
	    v->expected_votes);
	gauge(out, "qdevice_membership_nodes", "Nodes in the current membership.",
	    (long long)v->membership->count);
	gauge(out, "qdevice_heuristics_result",
	    "Latest heuristics result: 1 pass, 0 fail, -1 undefined.",
	    heuristics_gauge(v->heuristics_latest));
	if (v->last_poll != (time_t)-1)
		gauge(out, "qdevice_last_poll_timestamp_seconds",
		    "When votequorum was last polled (UNIX time).", (long long)v->last_poll);
	if (v->cert_days_known)
		gauge(out, "qdevice_certificate_days_left",
		    "Days until the client certificate expires.", v->cert_days_left);
	gauge(out, "qdevice_event_hooks_running", "Event hooks running now.", v->hooks_running);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		fprintf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", counters[i].name,
		    counters[i].help, counters[i].name, counters[i].name, (unsigned long long)
		    *(const uint64_t *)(const void *)((const char *)st + counters[i].off));
	fprintf(out, "# HELP qdevice_event_hooks_dropped_total Events dropped: too many hooks "
	    "running.\n# TYPE qdevice_event_hooks_dropped_total counter\n"
	    "qdevice_event_hooks_dropped_total %llu\n", (unsigned long long)v->hooks_dropped);
	fprintf(out, "# HELP qdevice_event_hooks_timed_out_total Hooks killed at their "
	    "timeout.\n# TYPE qdevice_event_hooks_timed_out_total counter\n"
	    "qdevice_event_hooks_timed_out_total %llu\n", (unsigned long long)v->hooks_timed_out);
	return ferror(out) ? -EIO : 0;
}
