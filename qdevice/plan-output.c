/*
 * qdevice/plan-output.c: the text and JSON forms of `qdevice-tool --plan`.
 * The JSON is schema 1 of qdevice-tool(8): fields are only ever added.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/json.h"
#include "common/msg.h"
#include "corosync-config.h"
#include "plan-output.h"

#define SCENARIO_WIDTH_MAX	80

bool
plan_row_is_bad(const struct plan_row *row)
{
	return row->verdict == PLAN_NOBODY || row->race;
}

int
plan_report_exit_status(const struct plan_report *r)
{
	int status = 0;

	for (size_t i = 0; i < r->check_count; i++) {
		if (r->checks[i].level == PLAN_REPORT_FAIL)
			status = 2;
		else if (r->checks[i].level == PLAN_REPORT_WARN && status < 1)
			status = 1;
	}
	return status;
}

static const char *
level_name(enum plan_report_level l)
{
	return l == PLAN_REPORT_FAIL ? "FAIL" : l == PLAN_REPORT_WARN ? "WARN" : "OK";
}

static const char *
algorithm_word(uint8_t a)
{
	switch (a) {
	case ALGORITHM_TEST:		return "test";
	case ALGORITHM_FFSPLIT:		return "ffsplit";
	case ALGORITHM_2NODELMS:	return "2nodelms";
	case ALGORITHM_LMS:		return "lms";
	}
	return "unknown";
}

static const char *
heuristics_mode_word(uint8_t m)
{
	return m == HEURISTICS_MODE_ON ? "on" : m == HEURISTICS_MODE_SYNC ? "sync" : "off";
}

static const char *
tls_word(uint8_t t)
{
	return t == TLS_MODE_REQUIRED ? "required" : t == TLS_MODE_ON ? "on" : "off";
}

/* ---- text ---- */

/* The ids of the nodes in mask, space-separated; "-" for none. */
static void
text_ids(FILE *out, const struct plan_cluster *c, uint64_t mask, int width)
{
	int n = 0;

	for (size_t i = 0; i < c->node_count; i++)
		if (mask & (UINT64_C(1) << i))
			n += fprintf(out, "%s%" PRIu32, n > 0 ? " " : "", c->nodes[i].id);
	if (n == 0)
		n = fprintf(out, "-");
	if (n < width)
		fprintf(out, "%*s", width - n, "");
}

static void
text_header(FILE *out, const struct plan_report *r)
{
	const struct plan_cluster *c = r->cluster;
	const struct plan_env *e = r->env;

	fprintf(out, "Cluster:\t\t%s (%zu node%s, transport %s, %zu link%s)",
	    e->cluster_name != NULL ? e->cluster_name : "(name unknown)", c->node_count,
	    c->node_count == 1 ? "" : "s", e->transport != NULL ? e->transport : "unknown",
	    c->link_count, c->link_count == 1 ? "" : "s");
	if (e->local_node_id != 0)
		fprintf(out, ", this is node %" PRIu32, e->local_node_id);
	fprintf(out, "\nNodes:\t\t\t");
	for (size_t i = 0; i < c->node_count; i++)
		fprintf(out, "%s%" PRIu32 " (%s, %" PRIu32 " vote%s)", i > 0 ? ", " : "",
		    c->nodes[i].id, c->nodes[i].name != NULL ? c->nodes[i].name : "no name",
		    c->nodes[i].votes, c->nodes[i].votes == 1 ? "" : "s");
	fprintf(out, "\n");
	if (!c->has_device) {
		fprintf(out, "Quorum device:\t\tnone\n");
		return;
	}
	fprintf(out, "Quorum device:\t\tnet, %s, tie-breaker ", algorithm_word(c->algorithm));
	if (c->tie_breaker.mode == TIE_BREAKER_NODE_ID)
		fprintf(out, "node %" PRIu32, c->tie_breaker.node_id);
	else
		fprintf(out, "%s", c->tie_breaker.mode == TIE_BREAKER_HIGHEST ? "highest" :
		    "lowest");
	fprintf(out, ", heuristics %s, arbiter %s:%u\n", heuristics_mode_word(c->heuristics_mode),
	    e->arbiter_host != NULL ? e->arbiter_host : "(unknown)", (unsigned)e->arbiter_port);
	if (e->qdevice_known)
		fprintf(out, "qdevice:\t\t%s, vote %s\n",
		    e->qdevice_state != NULL ? e->qdevice_state : "?",
		    e->qdevice_vote != NULL ? e->qdevice_vote : "?");
	else
		fprintf(out, "qdevice:\t\tunknown (%s)\n",
		    e->qdevice_error != NULL ? e->qdevice_error : "not asked");
}

static void
text_arithmetic(FILE *out, const struct plan_report *r)
{
	const struct plan_arithmetic *a = r->arithmetic;

	fprintf(out, "\nQuorum arithmetic\n-----------------\n");
	fprintf(out, "Nodes:\t\t\t%zu\n", r->cluster->node_count);
	fprintf(out, "Node votes:\t\t%" PRIu32 "\n", a->node_votes);
	fprintf(out, "Device votes:\t\t%" PRIu32 "\n", a->device_votes);
	fprintf(out, "Expected votes:\t\t%" PRIu32 "\n", a->expected_votes);
	fprintf(out, "Quorum:\t\t\t%" PRIu32 "\n", a->quorum);
	if (r->cluster->has_device)
		fprintf(out, "Node failures tolerated: %" PRIu32 " with the arbiter reachable, %"
		    PRIu32 " with it gone\n", a->node_failures_with_arbiter,
		    a->node_failures_without_arbiter);
	else
		fprintf(out, "Node failures tolerated: %" PRIu32 " (no arbiter)\n",
		    a->node_failures_without_arbiter);
}

static void
text_matrix(FILE *out, const struct plan_report *r)
{
	const struct plan_matrix *m = r->matrix;
	const struct plan_cluster *c = r->cluster;
	int width = (int)strlen("SCENARIO"), qwidth = (int)strlen("QUORATE");
	size_t bad = 0;

	for (size_t i = 0; i < m->count; i++) {
		int w = (int)strlen(m->rows[i].scenario);

		width = w > width ? w : width;
	}
	width = width > SCENARIO_WIDTH_MAX ? SCENARIO_WIDTH_MAX : width;
	qwidth = (int)(c->node_count * 3) > qwidth ? (int)(c->node_count * 3) : qwidth;
	qwidth = qwidth > 30 ? 30 : qwidth;

	fprintf(out, "\nSurvivability\n-------------\n");
	fprintf(out, "   %-*s  %-*s  VERDICT\n", width, "SCENARIO", qwidth, "QUORATE");
	for (size_t i = 0; i < m->count; i++) {
		const struct plan_row *row = &m->rows[i];

		bad += plan_row_is_bad(row);
		fprintf(out, "%s %-*s  ", plan_row_is_bad(row) ? "!!" : "  ", width,
		    row->scenario);
		text_ids(out, c, row->quorate, qwidth);
		fprintf(out, "  %s", plan_verdict_name(row->verdict));
		if (row->race) {
			fprintf(out, " (race: or ");
			text_ids(out, c, row->quorate_alt, 0);
			fprintf(out, ")");
		}
		fprintf(out, "\n");
	}
	fprintf(out, "%zu scenario%s, %zu marked !! (nobody quorate, or decided by a race)\n",
	    m->count, m->count == 1 ? "" : "s", bad);
	if (!m->partitions_complete || m->limits_note != NULL)
		fprintf(out, "Note: %s\n", m->limits_note != NULL ? m->limits_note :
		    "the partitions listed are a subset");
}

static void
text_checks(FILE *out, const struct plan_report *r)
{
	fprintf(out, "\nReadiness\n---------\n");
	if (!r->checks_run) {
		fprintf(out, "(readiness checks are not available in this build)\n");
		return;
	}
	for (size_t i = 0; i < r->check_count; i++)
		fprintf(out, "%-4s  %-20s %s\n", level_name(r->checks[i].level), r->checks[i].id,
		    r->checks[i].text);
}

int
plan_write_text(FILE *out, const struct plan_report *r)
{
	text_header(out, r);
	text_arithmetic(out, r);
	text_matrix(out, r);
	text_checks(out, r);
	return ferror(out) ? -EIO : 0;
}

/* ---- JSON ---- */

static void
j_key(FILE *out, bool *first, const char *name)
{
	if (!*first)
		fputc(',', out);
	*first = false;
	json_write_string(out, name);
	fputc(':', out);
}

static void
j_str(FILE *out, bool *first, const char *name, const char *v)
{
	j_key(out, first, name);
	if (v == NULL)
		fputs("null", out);
	else
		json_write_string(out, v);
}

static void
j_u64(FILE *out, bool *first, const char *name, uint64_t v)
{
	j_key(out, first, name);
	fprintf(out, "%" PRIu64, v);
}

/* 0 means unknown for the timeouts and ids read from cmap. */
static void
j_u64_or_null(FILE *out, bool *first, const char *name, uint64_t v)
{
	j_key(out, first, name);
	if (v == 0)
		fputs("null", out);
	else
		fprintf(out, "%" PRIu64, v);
}

static void
j_bool(FILE *out, bool *first, const char *name, bool v)
{
	j_key(out, first, name);
	fputs(v ? "true" : "false", out);
}

/* The node ids of mask as a JSON array, ascending (nodes[] is sorted). */
static void
j_ids(FILE *out, const struct plan_cluster *c, uint64_t mask)
{
	bool first = true;

	fputc('[', out);
	for (size_t i = 0; i < c->node_count; i++) {
		if (!(mask & (UINT64_C(1) << i)))
			continue;
		fprintf(out, "%s%" PRIu32, first ? "" : ",", c->nodes[i].id);
		first = false;
	}
	fputc(']', out);
}

static uint64_t
all_nodes(const struct plan_cluster *c)
{
	return c->node_count >= 64 ? UINT64_MAX : (UINT64_C(1) << c->node_count) - 1;
}

static void
json_device(FILE *out, const struct plan_report *r)
{
	const struct plan_cluster *c = r->cluster;
	const struct plan_env *e = r->env;
	bool f = true;

	if (!c->has_device) {
		fputs("null", out);
		return;
	}
	fputc('{', out);
	j_str(out, &f, "model", "net");
	j_u64_or_null(out, &f, "votes", c->device_votes);
	j_str(out, &f, "algorithm", algorithm_word(c->algorithm));
	j_key(out, &f, "tie_breaker");
	fprintf(out, "{\"mode\":\"%s\",\"node_id\":%" PRIu32 "}",
	    c->tie_breaker.mode == TIE_BREAKER_NODE_ID ? "node_id" :
	    c->tie_breaker.mode == TIE_BREAKER_HIGHEST ? "highest" : "lowest",
	    c->tie_breaker.mode == TIE_BREAKER_NODE_ID ? c->tie_breaker.node_id : 0);
	j_bool(out, &f, "keep_active_partition_tie_breaker", c->kap_tie_breaker);
	j_str(out, &f, "heuristics_mode", heuristics_mode_word(c->heuristics_mode));
	j_str(out, &f, "host", e->arbiter_host);
	j_u64_or_null(out, &f, "port", e->arbiter_port);
	j_str(out, &f, "tls", tls_word(e->tls));
	j_u64_or_null(out, &f, "connect_timeout_ms", e->connect_timeout_ms);
	j_u64_or_null(out, &f, "timeout_ms", e->device_timeout_ms);
	j_u64_or_null(out, &f, "sync_timeout_ms", e->device_sync_timeout_ms);
	j_u64_or_null(out, &f, "heuristics_timeout_ms", e->heuristics_timeout_ms);
	j_u64_or_null(out, &f, "heuristics_sync_timeout_ms", e->heuristics_sync_timeout_ms);
	fputc('}', out);
}

static void
json_nodes(FILE *out, const struct plan_cluster *c)
{
	fputc('[', out);
	for (size_t i = 0; i < c->node_count; i++) {
		const struct plan_node *n = &c->nodes[i];
		bool f = true, first_addr = true;

		fprintf(out, "%s{", i > 0 ? "," : "");
		j_u64(out, &f, "id", n->id);
		j_str(out, &f, "name", n->name);
		j_u64(out, &f, "votes", n->votes);
		j_key(out, &f, "addrs");
		fputc('[', out);
		for (unsigned l = 0; l < PLAN_MAX_LINKS; l++) {
			if (n->addrs[l] == NULL)
				continue;
			fprintf(out, "%s{\"link\":%u,\"addr\":", first_addr ? "" : ",", l);
			json_write_string(out, n->addrs[l]);
			fputc('}', out);
			first_addr = false;
		}
		fputc(']', out);
		j_str(out, &f, "heuristics", heuristics_name(n->heuristics));
		fputc('}', out);
	}
	fputc(']', out);
}

static void
json_knet(FILE *out, const struct plan_report *r)
{
	const struct plan_cluster *c = r->cluster;
	bool first = true;

	fputc('[', out);
	for (size_t i = 0; r->env->links != NULL && i < c->node_count; i++) {
		for (unsigned l = 0; l < PLAN_MAX_LINKS; l++) {
			const struct plan_link_state *ls = &r->env->links[i][l];
			bool f = true;

			if (!ls->known)
				continue;
			fprintf(out, "%s{", first ? "" : ",");
			first = false;
			j_u64(out, &f, "node_id", c->nodes[i].id);
			j_u64(out, &f, "link", l);
			j_bool(out, &f, "connected", ls->connected);
			j_key(out, &f, "latency_avg_us");
			if (ls->latency_known)
				fprintf(out, "%" PRIu64 ",\"latency_max_us\":%" PRIu64,
				    ls->latency_avg_us, ls->latency_max_us);
			else
				fputs("null,\"latency_max_us\":null", out);
			fputc('}', out);
		}
	}
	fputc(']', out);
}

static void
json_cluster(FILE *out, const struct plan_report *r)
{
	const struct plan_cluster *c = r->cluster;
	const struct plan_env *e = r->env;
	bool f = true;

	fputc('{', out);
	j_str(out, &f, "name", e->cluster_name);
	j_u64_or_null(out, &f, "local_node_id", e->local_node_id);
	j_str(out, &f, "transport", e->transport);
	j_u64(out, &f, "link_count", c->link_count);
	j_key(out, &f, "nodes");
	json_nodes(out, c);
	j_u64_or_null(out, &f, "expected_votes", c->expected_votes);
	j_bool(out, &f, "two_node", c->two_node);
	j_bool(out, &f, "wait_for_all", c->wait_for_all);
	j_bool(out, &f, "last_man_standing", c->last_man_standing);
	j_bool(out, &f, "auto_tie_breaker", c->auto_tie_breaker);
	j_key(out, &f, "auto_tie_breaker_node");
	if (c->atb_mode == PLAN_ATB_LIST) {
		fputc('[', out);
		for (size_t i = 0; i < c->atb_node_count; i++)
			fprintf(out, "%s%" PRIu32, i > 0 ? "," : "", c->atb_nodes[i]);
		fputc(']', out);
	} else {
		fputs(c->atb_mode == PLAN_ATB_HIGHEST ? "\"highest\"" : "\"lowest\"", out);
	}
	j_u64_or_null(out, &f, "token_ms", e->token_ms);
	j_u64_or_null(out, &f, "consensus_ms", e->consensus_ms);
	j_key(out, &f, "device");
	json_device(out, r);
	j_key(out, &f, "knet");
	json_knet(out, r);
	fputc('}', out);
}

static void
json_arithmetic(FILE *out, const struct plan_arithmetic *a)
{
	bool f = true;

	fputc('{', out);
	j_u64(out, &f, "node_votes", a->node_votes);
	j_u64(out, &f, "device_votes", a->device_votes);
	j_u64(out, &f, "expected_votes", a->expected_votes);
	j_u64(out, &f, "quorum", a->quorum);
	j_u64(out, &f, "node_failures_with_arbiter", a->node_failures_with_arbiter);
	j_u64(out, &f, "node_failures_without_arbiter", a->node_failures_without_arbiter);
	fputc('}', out);
}

static void
json_failure(FILE *out, const struct plan_cluster *c, const struct plan_failure *fl)
{
	bool f = true, first = true;

	fputc('{', out);
	j_key(out, &f, "nodes_down");
	j_ids(out, c, fl->nodes_down);
	j_key(out, &f, "links_down");
	fputc('[', out);
	for (unsigned l = 0; l < PLAN_MAX_LINKS; l++) {
		if (!(fl->links_down & (1U << l)))
			continue;
		fprintf(out, "%s%u", first ? "" : ",", l);
		first = false;
	}
	fputc(']', out);
	j_bool(out, &f, "arbiter_down", fl->arbiter_down);
	j_key(out, &f, "arbiter_path_down");
	j_ids(out, c, fl->arbiter_path_down);
	j_bool(out, &f, "partitioned", fl->partitioned);
	j_key(out, &f, "side_a");
	j_ids(out, c, fl->partitioned ? fl->side_a : 0);
	j_key(out, &f, "side_b");
	j_ids(out, c, fl->partitioned ? all_nodes(c) & ~fl->side_a : 0);
	fputc('}', out);
}

static void
json_matrix(FILE *out, const struct plan_report *r)
{
	const struct plan_matrix *m = r->matrix;
	const struct plan_cluster *c = r->cluster;
	size_t bad = 0;
	bool f = true;

	fputc('{', out);
	j_bool(out, &f, "complete", m->partitions_complete);
	j_str(out, &f, "note", m->limits_note);
	j_key(out, &f, "rows");
	fputc('[', out);
	for (size_t i = 0; i < m->count; i++) {
		const struct plan_row *row = &m->rows[i];
		bool rf = true;

		bad += plan_row_is_bad(row);
		fprintf(out, "%s{", i > 0 ? "," : "");
		j_str(out, &rf, "scenario", row->scenario);
		j_str(out, &rf, "kind", row->kind == PLAN_KIND_NONE ? "none" :
		    plan_kind_name(row->kind));
		j_key(out, &rf, "quorate");
		j_ids(out, c, row->quorate);
		j_str(out, &rf, "verdict", plan_verdict_name(row->verdict));
		j_bool(out, &rf, "race", row->race);
		j_key(out, &rf, "quorate_alt");
		j_ids(out, c, row->race ? row->quorate_alt : 0);
		j_bool(out, &rf, "stands_out", plan_row_is_bad(row));
		j_key(out, &rf, "failure");
		json_failure(out, c, &row->failure);
		fputc('}', out);
	}
	fputc(']', out);
	j_u64(out, &f, "stand_out_count", bad);
	fputc('}', out);
}

static void
json_checks(FILE *out, const struct plan_report *r)
{
	if (!r->checks_run) {
		fputs("null", out);
		return;
	}
	fputc('[', out);
	for (size_t i = 0; i < r->check_count; i++) {
		bool f = true;

		fprintf(out, "%s{", i > 0 ? "," : "");
		j_str(out, &f, "id", r->checks[i].id);
		j_str(out, &f, "level", level_name(r->checks[i].level));
		j_str(out, &f, "text", r->checks[i].text);
		fputc('}', out);
	}
	fputc(']', out);
}

static void
json_qdevice(FILE *out, const struct plan_env *e)
{
	bool f = true;

	fputc('{', out);
	j_bool(out, &f, "known", e->qdevice_known);
	j_str(out, &f, "state", e->qdevice_known ? e->qdevice_state : NULL);
	j_key(out, &f, "connected");
	fputs(!e->qdevice_known ? "null" : e->qdevice_connected ? "true" : "false", out);
	j_str(out, &f, "vote", e->qdevice_known ? e->qdevice_vote : NULL);
	j_str(out, &f, "error", e->qdevice_known ? NULL : e->qdevice_error);
	fputc('}', out);
}

int
plan_write_json(FILE *out, const struct plan_report *r)
{
	bool f = true;

	fputc('{', out);
	j_u64(out, &f, "schema", PLAN_JSON_SCHEMA);
	j_key(out, &f, "cluster");
	json_cluster(out, r);
	j_key(out, &f, "arithmetic");
	json_arithmetic(out, r->arithmetic);
	j_key(out, &f, "matrix");
	json_matrix(out, r);
	j_key(out, &f, "checks");
	json_checks(out, r);
	j_key(out, &f, "qdevice");
	json_qdevice(out, r->env);
	j_u64(out, &f, "exit_status", (uint64_t)plan_report_exit_status(r));
	fputs("}\n", out);
	return ferror(out) ? -EIO : 0;
}
