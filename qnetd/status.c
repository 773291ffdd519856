/* qnetd/status.c: status and list text for the admin socket. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qbmap.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/utils.h"
#include "client.h"
#include "cluster.h"
#include "instance.h"
#include "status.h"

void
qnetd_status_write(const struct qnetd_instance *inst, const struct qnetd_totals *t,
    bool verbose, FILE *out)
{
	const struct qnetd_settings *s = inst->settings;

	if (s->listen_addr != NULL)
		fprintf(out, "QNetd address:\t\t\t%s:%u\n", s->listen_addr, (unsigned)s->port);
	else
		fprintf(out, "QNetd address:\t\t\t*:%u\n", (unsigned)s->port);
	fprintf(out, "TLS:\t\t\t\t%s%s\n", tls_supported_name((uint8_t)s->tls),
	    s->tls != QNETD_TLS_OFF && s->client_cert_required ?
	    " (client certificate required)" : "");
	fprintf(out, "Connected clients:\t\t%u\n", (unsigned)t->clients);
	fprintf(out, "Connected clusters:\t\t%u\n", (unsigned)t->clusters);
	if (verbose) {
		if (s->max_clients != 0)
			fprintf(out, "Maximum allowed clients:\t%u\n", (unsigned)s->max_clients);
		fprintf(out, "Maximum send/receive size:\t%u/%u bytes\n",
		    (unsigned)s->max_client_send_size, (unsigned)s->max_client_receive_size);
	}
}

/*
 * Node lists are most of a list reply (thousands of ids a client), so
 * their entries are put together by hand: fprintf per id was a good part
 * of the time qnetd-tool -l took on a big qnetd.
 */
static char *
put_text(char *p, const char *text)
{
	size_t n = strlen(text);

	memcpy(p, text, n);
	return p + n;
}

static char *
put_u32(char *p, uint32_t v)
{
	char digits[10];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/*
 * One "<label>\t1, 2 (5)" line; none for an empty list. A data center id
 * is shown wherever the client sent one, membership list included.
 */
static void
write_node_list(FILE *out, const char *label, const struct node_list *l)
{
	if (l->count == 0)
		return;
	fputs(label, out);
	for (size_t i = 0; i < l->count; i++) {
		char entry[40], *p = entry;

		if (i > 0)
			p = put_text(p, ", ");
		p = put_u32(p, l->nodes[i].node_id);
		if (l->nodes[i].data_center_id != 0) {
			p = put_text(p, " (");
			p = put_u32(p, l->nodes[i].data_center_id);
			p = put_text(p, ")");
		}
		fwrite(entry, 1, (size_t)(p - entry), out);
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
	write_node_list(out, "        Configured node list:\t", &a->config);
	if (verbose)
		fprintf(out, "        Ring ID:\t\t%" PRIx32 ".%" PRIx64 "\n",
		    a->ring_id.node_id, a->ring_id.seq);
	write_node_list(out, "        Membership node list:\t", &a->membership);
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
		    c->tls_started && c->tls_peer_verified ? " (client certificate verified)" : "");
	/* No line before the first vote; the ACK/NACK only once one was sent. */
	if (c->last_sent_vote != VOTE_UNDEFINED) {
		fprintf(out, "        Vote:\t\t\t%s", vote_name(c->last_sent_vote));
		if (c->last_sent_ack_nack_vote != VOTE_UNDEFINED)
			fprintf(out, " (%s)", vote_name(c->last_sent_ack_nack_vote));
		fputc('\n', out);
	}
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
	/* Whatever bytes the peer sent, shown on one line (utils.h). */
	fputs("Cluster \"", out);
	utils_name_write(out, cl->name, cl->name_len);
	fputs("\":\n", out);
	fprintf(out, "    Algorithm:\t\t%s%s\n", decision_algorithm_name(first->algorithm),
	    all_kap(cl) ? " (KAP Tie-breaker)" : "");
	fputs("    Tie-breaker:\t", out);
	write_tie_breaker(out, &first->tie_breaker);
	for (size_t i = 0; i < cl->view.count; i++)
		write_client(out, qnetd_client_of(cl->view.clients[i]), verbose);
}

/* Upstream lists clusters in the order they were created; our map has none. */
struct aged_cluster {
	uint64_t			 age;
	const struct qnetd_cluster	*cl;
};

static int
aged_cluster_cmp(const void *a, const void *b)
{
	const struct aged_cluster *x = a, *y = b;

	return x->age < y->age ? -1 : x->age > y->age;
}

/*
 * fn for every cluster with clients, oldest first; for one only when
 * cluster_name is set and not "" (upstream takes "" as no filter).
 * `prefix` goes to out first, once nothing can fail: 0, or -ENOMEM with
 * nothing written. Sorting costs O(clusters log clusters) a call: an
 * admin command, not a hot path.
 */
int
qnetd_for_each_cluster(const struct qnetd_instance *inst, const char *cluster_name,
    qnetd_cluster_fn *fn, void *arg, const char *prefix, FILE *out)
{
	struct aged_cluster *all;
	qb_map_iter_t *it;
	size_t n = 0;
	void *value;

	if (cluster_name != NULL && cluster_name[0] != '\0') {
		const struct qnetd_cluster *cl = qb_map_get(inst->clusters, cluster_name);

		fputs(prefix, out);
		if (cl != NULL && cl->view.count > 0)
			fn(cl, arg);
		return 0;
	}
	if (inst->cluster_count == 0) {
		fputs(prefix, out);
		return 0;
	}
	all = calloc(inst->cluster_count, sizeof(*all));
	if (all == NULL || (it = qb_map_iter_create(inst->clusters)) == NULL) {
		free(all);
		return -ENOMEM;
	}
	while (qb_map_iter_next(it, &value) != NULL && n < inst->cluster_count) {
		const struct qnetd_cluster *cl = value;

		if (cl->view.count == 0)
			continue;
		all[n].cl = cl;
		all[n].age = cl->created_seq;
		n++;
	}
	qb_map_iter_free(it);
	qsort(all, n, sizeof(*all), aged_cluster_cmp);
	fputs(prefix, out);
	for (size_t i = 0; i < n; i++)
		fn(all[i].cl, arg);
	free(all);
	return 0;
}

struct text_walk {
	FILE	*out;
	bool	 verbose;
};

static void
text_cluster(const struct qnetd_cluster *cl, void *arg)
{
	struct text_walk *w = arg;

	write_cluster(w->out, cl, w->verbose);
}

int
qnetd_list_write(const struct qnetd_instance *inst, bool verbose, const char *cluster_name,
    FILE *out)
{
	struct text_walk w = { .out = out, .verbose = verbose };

	return qnetd_for_each_cluster(inst, cluster_name, text_cluster, &w, "", out);
}

/* ---- JSON ---- */

static const char *
tie_breaker_word(uint8_t mode)
{
	return mode == TIE_BREAKER_LOWEST ? "lowest" : mode == TIE_BREAKER_HIGHEST ?
	    "highest" : "node_id";
}

void
qnetd_status_write_json(const struct qnetd_instance *inst, const struct qnetd_totals *t,
    FILE *out)
{
	const struct qnetd_settings *s = inst->settings;

	fputs("{\"address\":", out);
	json_write_string(out, s->listen_addr != NULL ? s->listen_addr : "*");
	fprintf(out, ",\"port\":%u,\"tls\":", (unsigned)s->port);
	json_write_string(out, tls_supported_name((uint8_t)s->tls));
	fprintf(out, ",\"client_certificate_required\":%s",
	    s->tls != QNETD_TLS_OFF && s->client_cert_required ? "true" : "false");
	fprintf(out, ",\"connected_clients\":%u,\"connected_clusters\":%u",
	    (unsigned)t->clients, (unsigned)t->clusters);
	fprintf(out, ",\"max_clients\":%u,\"max_send_size\":%u,\"max_receive_size\":%u",
	    (unsigned)s->max_clients, (unsigned)s->max_client_send_size,
	    (unsigned)s->max_client_receive_size);
	fprintf(out, ",\"uptime_seconds\":%llu",
	    (unsigned long long)((clock_now_ns() - inst->started_ns) / NS_PER_S));
	if (t->tls_loaded)
		fprintf(out, ",\"certificate_days_left\":%ld", t->cert_days_left);
	else
		fputs(",\"certificate_days_left\":null", out);
	fputs("}\n", out);
}

static void
write_client_json(FILE *out, const struct qnetd_client *c)
{
	const struct algo_client *a = &c->algo;

	fprintf(out, "{\"node_id\":%" PRIu32 ",\"client_address\":", a->node_id);
	json_write_string(out, c->addr_str);
	fprintf(out, ",\"heartbeat_interval_ms\":%" PRIu32, a->heartbeat_interval_ms);
	if (a->config_version_set)
		fprintf(out, ",\"config_version\":%" PRIu64, a->config_version);
	else
		fputs(",\"config_version\":null", out);
	fputs(",\"config_node_list\":[", out);
	for (size_t i = 0; i < a->config.count; i++) {
		char entry[64], *p = entry;

		p = put_text(p, i > 0 ? ",{\"node_id\":" : "{\"node_id\":");
		p = put_u32(p, a->config.nodes[i].node_id);
		p = put_text(p, ",\"data_center_id\":");
		p = put_u32(p, a->config.nodes[i].data_center_id);
		p = put_text(p, "}");
		fwrite(entry, 1, (size_t)(p - entry), out);
	}
	fprintf(out, "],\"ring_id\":\"%" PRIx32 ".%" PRIx64 "\",\"membership_node_list\":[",
	    a->ring_id.node_id, a->ring_id.seq);
	for (size_t i = 0; i < a->membership.count; i++) {
		char entry[16], *p = entry;

		if (i > 0)
			*p++ = ',';
		p = put_u32(p, a->membership.nodes[i].node_id);
		fwrite(entry, 1, (size_t)(p - entry), out);
	}
	fprintf(out, "],\"heuristics\":\"%s\",\"membership_heuristics\":\"%s\","
	    "\"regular_heuristics\":\"%s\"", heuristics_text(a->last_heuristics),
	    heuristics_text(a->last_membership_heuristics),
	    heuristics_text(a->last_regular_heuristics));
	fprintf(out, ",\"tls_active\":%s,\"client_certificate_verified\":%s",
	    c->tls_started ? "true" : "false", c->tls_peer_verified ? "true" : "false");
	fprintf(out, ",\"vote\":\"%s\",\"last_ack_nack_vote\":\"%s\"}",
	    vote_name(c->last_sent_vote), vote_name(c->last_sent_ack_nack_vote));
}

static void
write_cluster_json(FILE *out, const struct qnetd_cluster *cl)
{
	const struct algo_client *first = cl->view.clients[0];

	fputs("{\"name\":", out);
	json_write_string_n(out, cl->name, cl->name_len);
	fprintf(out, ",\"algorithm\":\"%s\",\"kap_tie_breaker\":%s",
	    decision_algorithm_name(first->algorithm), all_kap(cl) ? "true" : "false");
	fprintf(out, ",\"tie_breaker\":{\"mode\":\"%s\",\"node_id\":%" PRIu32 "},\"nodes\":[",
	    tie_breaker_word(first->tie_breaker.mode), first->tie_breaker.node_id);
	for (size_t i = 0; i < cl->view.count; i++) {
		if (i > 0)
			fputc(',', out);
		write_client_json(out, qnetd_client_of(cl->view.clients[i]));
	}
	fputs("]}", out);
}

struct json_walk {
	FILE			*out;
	bool			*first;
	qnetd_cluster_json_fn	*fn;
};

static void
json_cluster(const struct qnetd_cluster *cl, void *arg)
{
	struct json_walk *w = arg;

	if (!*w->first)
		fputc(',', w->out);
	*w->first = false;
	w->fn(w->out, cl);
}

int
qnetd_for_each_cluster_json(const struct qnetd_instance *inst, const char *cluster_name,
    qnetd_cluster_json_fn *fn, bool *first, FILE *out)
{
	bool none_yet = true;
	struct json_walk w = { .out = out, .first = first != NULL ? first : &none_yet, .fn = fn };
	int r;

	/* Straight to out, no copy: with many clients the list runs to tens of MB. */
	r = qnetd_for_each_cluster(inst, cluster_name, json_cluster, &w,
	    first != NULL ? "" : "{\"clusters\":[", out);
	if (r == 0 && first == NULL)
		fputs("]}\n", out);
	return r;
}

int
qnetd_list_write_json_items(const struct qnetd_instance *inst, const char *cluster_name,
    bool *first, FILE *out)
{
	return qnetd_for_each_cluster_json(inst, cluster_name, write_cluster_json, first, out);
}

int
qnetd_list_write_json(const struct qnetd_instance *inst, const char *cluster_name, FILE *out)
{
	return qnetd_for_each_cluster_json(inst, cluster_name, write_cluster_json, NULL, out);
}

/* ---- Prometheus ---- */

static void
metric_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * A label value is UTF-8 where backslash, double quote and newline are
 * escaped. The value given is the name's shown form (utils.h), so it is
 * UTF-8 and holds no newline: only its backslashes and quotes need it,
 * the backslash of each \xHH included.
 */
static void
write_label_value(FILE *out, const char *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len;
		uint32_t cp;

		if (utils_name_piece(v, n, i, &len, &cp) != UTILS_PIECE_PLAIN) {
			for (size_t k = 0; k < len; k++)
				fprintf(out, "\\\\x%02x", (unsigned char)v[i + k]);
		} else {
			if (v[i] == '\\' || v[i] == '"')
				fputc('\\', out);
			fwrite(v + i, 1, len, out);
		}
		i += len;
	}
}

void
qnetd_metrics_write_clusters(const struct qnetd_instance *inst, FILE *out)
{
	qb_map_iter_t *it;
	void *value;

	if ((it = qb_map_iter_create(inst->clusters)) == NULL)
		return;
	while (qb_map_iter_next(it, &value) != NULL) {
		const struct qnetd_cluster *cl = value;
		unsigned acked = 0;

		for (size_t i = 0; i < cl->view.count; i++) {
			const struct qnetd_client *c = qnetd_client_of(cl->view.clients[i]);

			if (c->last_sent_ack_nack_vote == VOTE_ACK)
				acked++;
		}
		fputs("qnetd_cluster_nodes{cluster=\"", out);
		write_label_value(out, cl->name, cl->name_len);
		fprintf(out, "\"} %zu\n", cl->view.count);
		fputs("qnetd_cluster_acked_nodes{cluster=\"", out);
		write_label_value(out, cl->name, cl->name_len);
		fprintf(out, "\"} %u\n", acked);
	}
	qb_map_iter_free(it);
}

void
qnetd_metrics_write(const struct qnetd_instance *inst, const struct qnetd_totals *t,
    const char *cluster_lines, FILE *out)
{
	const struct qnetd_stats *st = &t->stats;
	static const struct { const char *name, *help; size_t off; } counters[] = {
		{ "qnetd_clients_accepted_total", "Connections accepted.",
		    offsetof(struct qnetd_stats, clients_accepted) },
		{ "qnetd_clients_refused_total", "Connections refused over the client limit.",
		    offsetof(struct qnetd_stats, clients_refused) },
		{ "qnetd_acks_sent_total", "ACK votes sent.",
		    offsetof(struct qnetd_stats, acks_sent) },
		{ "qnetd_nacks_sent_total", "NACK votes sent.",
		    offsetof(struct qnetd_stats, nacks_sent) },
		{ "qnetd_dead_peer_expiries_total", "Clients dropped by the dead-peer timer.",
		    offsetof(struct qnetd_stats, conn.dpd_expiries) },
		{ "qnetd_dead_peer_reprieves_total",
		    "Clients silent past the dead-peer timeout kept because input was waiting.",
		    offsetof(struct qnetd_stats, conn.dpd_reprieves) },
		{ "qnetd_tls_handshake_failures_total", "TLS handshakes that failed.",
		    offsetof(struct qnetd_stats, conn.tls_handshake_failures) },
		{ "qnetd_client_cert_failures_total",
		    "Clients dropped for a missing or mismatched certificate.",
		    offsetof(struct qnetd_stats, cert_check_failures) },
		{ "qnetd_client_chains_verified_total",
		    "Client certificate chains verified in full (and passed).",
		    offsetof(struct qnetd_stats, client_chains_verified) },
		{ "qnetd_client_cert_cache_hits_total",
		    "TLS handshakes whose client certificate had passed verification within "
		    "the last minute (client_cert_cache_size).",
		    offsetof(struct qnetd_stats, client_cert_cache_hits) },
		{ "qnetd_decode_errors_total", "Messages that could not be decoded.",
		    offsetof(struct qnetd_stats, decode_errors) },
		{ "qnetd_tls_handshakes_without_place_total",
		    "TLS handshakes started without an accept place (address over its share).",
		    offsetof(struct qnetd_stats, tls_handshakes_unplaced) },
		{ "qnetd_tls_places_released_total",
		    "Accept places given up by TLS handshakes (peer silent, held too long, or "
		    "taken by an address holding fewer).",
		    offsetof(struct qnetd_stats, tls_places_released) },
		{ "qnetd_event_hooks_dropped_total",
		    "Events whose hook never ran: the hook queue was full.",
		    offsetof(struct qnetd_stats, hooks_dropped) },
		{ "qnetd_event_hooks_timed_out_total", "Hooks killed at their timeout.",
		    offsetof(struct qnetd_stats, hooks_timed_out) },
	};
	uint64_t cumulative = 0;

	metric_header(out, "qnetd_up", "gauge", "1 while qnetd answers.");
	fputs("qnetd_up 1\n", out);
	metric_header(out, "qnetd_uptime_seconds", "gauge", "Seconds since qnetd started.");
	fprintf(out, "qnetd_uptime_seconds %llu\n",
	    (unsigned long long)((clock_now_ns() - inst->started_ns) / NS_PER_S));
	metric_header(out, "qnetd_clients", "gauge", "Connected clients.");
	fprintf(out, "qnetd_clients %u\n", (unsigned)t->clients);
	metric_header(out, "qnetd_clusters", "gauge", "Clusters with at least one client.");
	fprintf(out, "qnetd_clusters %u\n", (unsigned)t->clusters);
	metric_header(out, "qnetd_tls_handshake_places_used", "gauge",
	    "TLS handshakes holding an accept place; while every place is held by a "
	    "different address no connection is accepted.");
	fprintf(out, "qnetd_tls_handshake_places_used %llu\n",
	    (unsigned long long)st->tls_places_used);
	metric_header(out, "qnetd_event_hooks_running", "gauge", "Event hooks running now.");
	fprintf(out, "qnetd_event_hooks_running %llu\n", (unsigned long long)st->hooks_running);
	metric_header(out, "qnetd_event_hooks_queued", "gauge",
	    "Events waiting for a free hook slot.");
	fprintf(out, "qnetd_event_hooks_queued %llu\n", (unsigned long long)st->hooks_queued);
	if (t->tls_loaded) {
		metric_header(out, "qnetd_certificate_days_left", "gauge",
		    "Days until the server certificate expires.");
		fprintf(out, "qnetd_certificate_days_left %ld\n", t->cert_days_left);
	}
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		metric_header(out, counters[i].name, "counter", counters[i].help);
		fprintf(out, "%s %llu\n", counters[i].name, (unsigned long long)
		    *(const uint64_t *)((const char *)st + counters[i].off));
	}

	metric_header(out, "qnetd_cluster_nodes", "gauge", "Connected nodes per cluster.");
	metric_header(out, "qnetd_cluster_acked_nodes", "gauge",
	    "Nodes per cluster whose last ACK/NACK vote is ACK.");
	if (cluster_lines != NULL)
		fputs(cluster_lines, out);
	else
		qnetd_metrics_write_clusters(inst, out);

	metric_header(out, "qnetd_decision_latency_seconds", "histogram",
	    "Time from a membership node list to the ACK/NACK sent to that node.");
	for (size_t i = 0; i < QNETD_LATENCY_BUCKETS; i++) {
		cumulative += st->latency_buckets[i];
		fprintf(out, "qnetd_decision_latency_seconds_bucket{le=\"%g\"} %llu\n",
		    qnetd_latency_bounds_ms[i] / 1000.0, (unsigned long long)cumulative);
	}
	cumulative += st->latency_buckets[QNETD_LATENCY_BUCKETS];
	fprintf(out, "qnetd_decision_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)cumulative);
	fprintf(out, "qnetd_decision_latency_seconds_sum %.6f\n", st->latency_sum_s);
	fprintf(out, "qnetd_decision_latency_seconds_count %llu\n",
	    (unsigned long long)st->latency_count);
}
