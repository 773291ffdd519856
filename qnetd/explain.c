/*
 * qnetd/explain.c: the decision records a cluster keeps (latest per node,
 * latest cluster-wide round, bounded journal) and their text and JSON for
 * qnetd-tool --explain. Nothing here decides: the words come from the
 * rule the algorithm recorded (qnetd/algorithms/algorithm.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/msg.h"
#include "common/utils.h"
#include "client.h"
#include "cluster.h"
#include "explain.h"
#include "instance.h"
#include "status.h"

void
explain_log_init(struct explain_log *log, size_t journal_cap)
{
	memset(log, 0, sizeof(*log));
	log->journal_cap = journal_cap;
}

static void
hold(struct explain_record *r)
{
	if (r != NULL)
		r->refs++;
}

static void
release(struct explain_record *r)
{
	if (r != NULL && --r->refs == 0)
		free(r);
}

/* *slot := r, the references counted. */
static void
put(struct explain_record **slot, struct explain_record *r)
{
	hold(r);
	release(*slot);
	*slot = r;
}

void
explain_log_fini(struct explain_log *log)
{
	for (size_t i = 0; i < log->journal_count; i++)
		release(log->journal[i]);
	for (size_t i = 0; i < log->node_count; i++) {
		release(log->nodes[i].latest);
		release(log->nodes[i].decided);
	}
	release(log->round);
	release(log->round_decided);
	free(log->journal);
	free(log->nodes);
	memset(log, 0, sizeof(*log));
}

static bool
gives_vote(const struct explain_record *d)
{
	return d->vote == VOTE_ACK || d->vote == VOTE_NACK;
}

/* A round (subject 0) that selected a partition or found none could be. */
static bool
round_decided(const struct explain_record *d)
{
	return d->rule != ALGO_RULE_WAITING_FOR_STABLE_MEMBERSHIP;
}

/* Index of node_id's slot, or where it would go (*found false). */
static size_t
node_index(const struct explain_log *log, uint32_t node_id, bool *found)
{
	size_t lo = 0, hi = log->node_count;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (log->nodes[mid].node_id == node_id) {
			*found = true;
			return mid;
		}
		if (log->nodes[mid].node_id < node_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct explain_node *
node_find(const struct explain_log *log, uint32_t node_id)
{
	bool found;
	size_t i = node_index(log, node_id, &found);

	return found ? &log->nodes[i] : NULL;
}

/* node_id's slot, added when missing; NULL when out of memory. */
static struct explain_node *
node_slot(struct explain_log *log, uint32_t node_id)
{
	bool found;
	size_t at = node_index(log, node_id, &found);
	struct explain_node *n;

	if (found)
		return &log->nodes[at];
	if (log->node_count == log->node_cap) {
		size_t cap = log->node_cap ? log->node_cap * 2 : 4;

		n = realloc(log->nodes, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		log->nodes = n;
		log->node_cap = cap;
	}
	memmove(&log->nodes[at + 1], &log->nodes[at],
	    (log->node_count - at) * sizeof(*log->nodes));
	log->node_count++;
	n = &log->nodes[at];
	memset(n, 0, sizeof(*n));
	n->node_id = node_id;
	return n;
}

void
explain_log_forget(struct explain_log *log, uint32_t node_id)
{
	bool found;
	size_t i = node_index(log, node_id, &found);
	struct explain_node *n;

	if (!found)
		return;
	n = &log->nodes[i];
	release(n->latest);
	release(n->decided);
	memmove(n, n + 1, (size_t)(&log->nodes[log->node_count] - (n + 1)) * sizeof(*n));
	log->node_count--;
}

static struct explain_record *
newest(const struct explain_log *log)
{
	if (log->journal_count == 0)
		return NULL;
	return log->journal[(log->journal_next + log->journal_cap - 1) % log->journal_cap];
}

/* Same event of the same node, same outcome, same inputs as recorded. */
static bool
same_decision(const struct explain_record *r, uint8_t event, uint32_t trigger,
    const struct algo_decision *d)
{
	return r->event == event && r->trigger == trigger && r->algorithm == d->algorithm &&
	    r->rule == d->rule && r->subject == d->subject && r->vote == d->vote &&
	    r->config_size == d->config_size && r->tie_breaker_mode == d->tie_breaker_mode &&
	    r->tie_breaker_node == d->tie_breaker_node &&
	    r->partitions_seen == d->partitions_seen &&
	    r->partition_count == d->partition_count &&
	    memcmp(r->partitions, d->partitions,
	    d->partition_count * sizeof(d->partitions[0])) == 0;
}

static struct explain_record *
record_new(uint8_t event, uint32_t trigger, const struct algo_decision *d)
{
	size_t n = d->partition_count <= ALGO_DECISION_MAX_PARTITIONS ? d->partition_count : 0;
	struct explain_record *r = malloc(sizeof(*r) + n * sizeof(r->partitions[0]));

	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->repeats = 1;
	r->event = event;
	r->trigger = trigger;
	r->algorithm = d->algorithm;
	r->rule = d->rule;
	r->subject = d->subject;
	r->vote = d->vote;
	r->config_size = d->config_size;
	r->tie_breaker_mode = d->tie_breaker_mode;
	r->tie_breaker_node = d->tie_breaker_node;
	r->partitions_seen = d->partitions_seen;
	r->partition_count = n;
	memcpy(r->partitions, d->partitions, n * sizeof(r->partitions[0]));
	return r;
}

int
explain_log_record(struct explain_log *log, uint8_t event, uint32_t trigger,
    const struct algo_decision *d, uint64_t now_ns)
{
	struct explain_record *r = newest(log);
	struct explain_node *n = NULL;
	bool folded;

	if (!d->made)
		return 0;
	if (d->subject != 0 && (n = node_slot(log, d->subject)) == NULL)
		return -ENOMEM;
	/*
	 * The same decision again (lms re-deciding on its timer while a ring
	 * is unsettled, each ask-for-vote of 2nodelms) is folded into the
	 * newest record, so repetition does not push the decisions that
	 * mattered out of a small journal.
	 */
	folded = r != NULL && same_decision(r, event, trigger, d);
	if (folded) {
		r->repeats++;
		hold(r);
	} else {
		if (log->journal_cap > 0 && log->journal == NULL &&
		    (log->journal = calloc(log->journal_cap, sizeof(*log->journal))) == NULL)
			return -ENOMEM;
		if ((r = record_new(event, trigger, d)) == NULL)
			return -ENOMEM;
		r->refs = 1;	/* ours until the end of this function */
	}
	r->at_ns = now_ns;
	r->seq = ++log->decisions;
	if (n != NULL) {
		put(&n->latest, r);
		if (gives_vote(r))
			put(&n->decided, r);
	} else {
		put(&log->round, r);
		if (round_decided(r))
			put(&log->round_decided, r);
	}
	if (!folded && log->journal_cap > 0) {
		if (log->journal_count == log->journal_cap)
			release(log->journal[log->journal_next]);
		else
			log->journal_count++;
		log->journal[log->journal_next] = r;
		hold(r);
		log->journal_next = (log->journal_next + 1) % log->journal_cap;
	}
	release(r);
	return 0;
}

/* ---- words ---- */

static const char *
event_word(uint8_t event)
{
	static const char *const words[] = {
		[ALGO_EV_CONFIG_LIST] = "config_list",
		[ALGO_EV_MEMBERSHIP_LIST] = "membership_list",
		[ALGO_EV_QUORUM_LIST] = "quorum_list",
		[ALGO_EV_HEURISTICS_CHANGE] = "heuristics_change",
		[ALGO_EV_ASK_FOR_VOTE] = "ask_for_vote",
		[ALGO_EV_VOTE_INFO_REPLY] = "vote_info_reply",
		[ALGO_EV_DISCONNECT] = "disconnect",
		[ALGO_EV_TIMER] = "timer",
	};

	return event < sizeof(words) / sizeof(words[0]) && words[event] != NULL ?
	    words[event] : "unknown";
}

/* The algorithm's short name, as -S and corosync.conf spell it. */
static const char *
algorithm_word(uint8_t id)
{
	const struct algorithm *a = algorithm_get(id);

	return a != NULL ? a->name : decision_algorithm_name(id);
}

static const char *
tie_breaker_word(uint8_t mode)
{
	return mode == TIE_BREAKER_LOWEST ? "lowest" : mode == TIE_BREAKER_HIGHEST ?
	    "highest" : mode == TIE_BREAKER_NODE_ID ? "node_id" : "none";
}

static const char *
heuristics_word(uint8_t h)
{
	return h == HEURISTICS_PASS ? "Pass" : h == HEURISTICS_FAIL ? "Fail" : "Undefined";
}

/* The rules whose words need no figures from the record. */
static const char *const rule_words[ALGO_RULE_COUNT] = {
	[ALGO_RULE_TEST_ALWAYS_ACK] = "test algorithm: always ACK",
	[ALGO_RULE_NO_LISTS_YET] = "no config or membership list yet: ask later",
	[ALGO_RULE_WAITING_FOR_STABLE_MEMBERSHIP] =
	    "waiting for stable membership: the clients' lists or ring ids disagree",
	[ALGO_RULE_RING_DISAGREEMENT] =
	    "waiting for stable membership: a partition member reports another ring id",
	[ALGO_RULE_NO_RING_YET] = "waiting: no client has reported a ring id yet",
	[ALGO_RULE_ONLY_PARTITION] = "the only partition",
	[ALGO_RULE_HEURISTICS_SCORE] = "heuristics result",
	[ALGO_RULE_HIGHEST_SCORE] = "highest score (nodes + heuristics)",
	[ALGO_RULE_ACTIVE_CLIENTS] = "equal size and score: more connected clients",
	[ALGO_RULE_KEEP_ACTIVE_PARTITION] = "equal size and score: keep active partition",
	[ALGO_RULE_LARGEST_PARTITION] = "largest partition",
	[ALGO_RULE_NEWCOMER] = "another partition already holds ACK",
	[ALGO_RULE_BOTH_NODES_MEMBERS] = "both nodes in the membership",
	[ALGO_RULE_ONLY_CLIENT] = "the only connected client",
	[ALGO_RULE_REPEAT_LAST] = "repeats its last decision",
};

/* The rule in words, as an admin reads it; the JSON has the stable word too. */
static void
write_reason(FILE *out, const struct explain_record *d)
{
	bool ffsplit = d->algorithm == ALGORITHM_FFSPLIT;

	switch (d->rule) {
	case ALGO_RULE_MAJORITY:
		fprintf(out, "largest partition: more than half of the %" PRIu32
		    " configured nodes", d->config_size);
		return;
	case ALGO_RULE_NO_QUORATE_PARTITION:
		fprintf(out, "no partition holds half of the %" PRIu32 " configured nodes",
		    d->config_size);
		return;
	case ALGO_RULE_ONLY_PARTITION:
		if (ffsplit) {
			fputs("equal size: the other half is not connected", out);
			return;
		}
		break;
	case ALGO_RULE_HEURISTICS_SCORE:
		if (ffsplit) {
			fputs("equal size: heuristics score", out);
			return;
		}
		break;
	case ALGO_RULE_TIE_BREAKER:
		fprintf(out, "tie_breaker %s", tie_breaker_word(d->tie_breaker_mode));
		if (d->tie_breaker_node != 0)
			fprintf(out, " (node %" PRIu32 ")", d->tie_breaker_node);
		return;
	}
	fputs(d->rule < ALGO_RULE_COUNT && rule_words[d->rule] != NULL ? rule_words[d->rule] :
	    algo_rule_name(d->rule), out);
}

static void
write_ids(FILE *out, const struct algo_decision_partition *p)
{
	fputc('{', out);
	for (uint32_t i = 0; i < p->ids_kept; i++)
		fprintf(out, i > 0 ? " %" PRIu32 : "%" PRIu32, p->node_ids[i]);
	if (p->size > p->ids_kept)
		fprintf(out, " +%" PRIu32 " more", p->size - p->ids_kept);
	fputc('}', out);
}

static void
write_partition(FILE *out, const struct algo_decision_partition *p)
{
	write_ids(out, p);
	fprintf(out, " (%" PRIu32 " node%s", p->size, p->size == 1 ? "" : "s");
	if (p->score_known)
		fprintf(out, ", score %" PRId64, p->score);
	fputc(')', out);
}

static const struct algo_decision_partition *
partition_of(const struct explain_record *d, uint32_t node_id)
{
	for (size_t i = 0; i < d->partition_count; i++)
		for (uint32_t k = 0; k < d->partitions[i].ids_kept; k++)
			if (d->partitions[i].node_ids[k] == node_id)
				return &d->partitions[i];
	return NULL;
}

static const struct algo_decision_partition *
winner_of(const struct explain_record *d)
{
	for (size_t i = 0; i < d->partition_count; i++)
		if (d->partitions[i].won)
			return &d->partitions[i];
	return NULL;
}

/* "partition {1 2} (2 nodes, score 2) won: <reason>" for node_id. */
static void
write_node_reason(FILE *out, const struct explain_record *d, uint32_t node_id)
{
	const struct algo_decision_partition *p = partition_of(d, node_id);
	const struct algo_decision_partition *w = winner_of(d);

	if (p == NULL || d->partition_count == 0) {
		write_reason(out, d);
		return;
	}
	fputs("partition ", out);
	write_partition(out, p);
	if (p->won) {
		fputs(" won", out);
	} else if (w != NULL) {
		fputs(" lost to ", out);
		write_ids(out, w);
	} else {
		fputs(" lost", out);
	}
	fputs(": ", out);
	write_reason(out, d);
}

static void
write_age(FILE *out, const struct explain_record *e, uint64_t now)
{
	uint64_t ms = (uint64_t)(now > e->at_ns ? (now - e->at_ns) / NS_PER_MS : 0);

	fprintf(out, "%" PRIu64 ".%03" PRIu64 " s ago", ms / 1000, ms % 1000);
}

/* ---- text ---- */

static void
text_entry(FILE *out, const struct explain_record *e, uint64_t now)
{
	fputs("        ", out);
	write_age(out, e, now);
	fprintf(out, ", %s of node %" PRIu32, event_word(e->event), e->trigger);
	if (e->repeats > 1)
		fprintf(out, " (x%" PRIu32 ")", e->repeats);
	if (e->subject != 0)
		fprintf(out, ": node %" PRIu32 " %s", e->subject, vote_name(e->vote));
	else
		fputs(": round", out);
	for (size_t i = 0; i < e->partition_count; i++) {
		fputs(i == 0 ? "; " : ", ", out);
		write_partition(out, &e->partitions[i]);
		if (e->partitions[i].won)
			fputs(" won", out);
	}
	if (e->partitions_seen > e->partition_count)
		fprintf(out, ", %zu more partitions", e->partitions_seen - e->partition_count);
	fputs("; ", out);
	write_reason(out, e);
	fputc('\n', out);
}

/*
 * The record that says why node_id holds its vote: its own newest one or
 * the newest round, whichever came last; and, when that one gave no vote
 * (waiting), the newest that did.
 */
static void
records_of(const struct explain_log *log, uint32_t node_id, const struct explain_record **now_e,
    const struct explain_record **decided_e)
{
	const struct explain_node *n = node_find(log, node_id);
	const struct explain_record *own = n != NULL ? n->latest : NULL;
	const struct explain_record *own_d = n != NULL ? n->decided : NULL;
	const struct explain_record *round = log->round, *round_d = log->round_decided;

	*now_e = own == NULL || (round != NULL && round->seq > own->seq) ? round : own;
	*decided_e = own_d == NULL || (round_d != NULL && round_d->seq > own_d->seq) ?
	    round_d : own_d;
	if (*decided_e == *now_e)
		*decided_e = NULL;
}

static bool
is_waiting(const struct explain_record *d)
{
	return d->subject == 0 ? !round_decided(d) : !gives_vote(d);
}

static void
text_cluster(const struct qnetd_cluster *cl, void *arg)
{
	FILE *out = arg;
	const struct explain_log *log = &cl->explain;
	uint64_t now = clock_now_ns();

	fputs("Cluster \"", out);
	utils_name_write(out, cl->name, cl->name_len);
	fprintf(out, "\" (%s):\n", algorithm_word(cl->view.clients[0]->algorithm));
	for (size_t i = 0; i < cl->view.count; i++) {
		const struct qnetd_client *c = qnetd_client_of(cl->view.clients[i]);
		const struct explain_record *e, *decided;

		records_of(log, c->algo.node_id, &e, &decided);
		fprintf(out, "    Node ID %" PRIu32 ": %s", c->algo.node_id,
		    c->last_sent_ack_nack_vote != VOTE_UNDEFINED ?
		    vote_name(c->last_sent_ack_nack_vote) : "no vote yet");
		if (e == NULL) {
			fputs(", no decision recorded\n", out);
			continue;
		}
		fputs(is_waiting(e) ? ", now " : ", ", out);
		write_node_reason(out, e, c->algo.node_id);
		if (decided != NULL && is_waiting(e)) {
			fputs("; last decided ", out);
			write_age(out, decided, now);
			fputs(": ", out);
			write_node_reason(out, decided, c->algo.node_id);
		}
		fputc('\n', out);
	}
	if (log->journal_cap == 0) {
		fputs("    Recent decisions: journal disabled (explain_journal_size=0)\n", out);
		return;
	}
	fprintf(out, "    Recent decisions (newest first, %zu kept of at most %zu):\n",
	    log->journal_count, log->journal_cap);
	for (size_t k = 0; k < log->journal_count; k++)
		text_entry(out, log->journal[(log->journal_next + log->journal_cap - 1 - k) %
		    log->journal_cap], now);
}

int
qnetd_explain_write(const struct qnetd_instance *inst, const char *cluster_name, FILE *out)
{
	return qnetd_for_each_cluster(inst, cluster_name, text_cluster, out, "", out);
}

/* ---- JSON ---- */

static void
json_partition(FILE *out, const struct algo_decision_partition *p)
{
	fputs("{\"node_ids\":[", out);
	for (uint32_t i = 0; i < p->ids_kept; i++)
		fprintf(out, i > 0 ? ",%" PRIu32 : "%" PRIu32, p->node_ids[i]);
	fprintf(out, "],\"size\":%" PRIu32 ",\"node_ids_complete\":%s,\"representative\":%"
	    PRIu32 ",\"ring_id\":\"%" PRIx32 ".%" PRIx64 "\",\"active\":%" PRId64,
	    p->size, p->ids_kept == p->size ? "true" : "false", p->representative,
	    p->ring_id.node_id, p->ring_id.seq, p->active);
	if (p->score_known)
		fprintf(out, ",\"score\":%" PRId64, p->score);
	else
		fputs(",\"score\":null", out);
	fprintf(out, ",\"heuristics\":\"%s\",\"won\":%s}", heuristics_word(p->heuristics),
	    p->won ? "true" : "false");
}

static void
json_reason(FILE *out, const struct explain_record *d)
{
	char *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);

	if (mem == NULL) {
		fputs("null", out);
		return;
	}
	write_reason(mem, d);
	if (fclose(mem) != 0 || text == NULL) {
		free(text);
		fputs("null", out);
		return;
	}
	json_write_string(out, text);
	free(text);
}

static void
json_entry(FILE *out, const struct explain_record *e, uint64_t now)
{
	fprintf(out, "{\"age_ms\":%" PRIu64 ",\"event\":\"%s\",\"trigger_node_id\":%" PRIu32
	    ",\"repeats\":%" PRIu32 ",\"algorithm\":\"%s\",\"subject_node_id\":",
	    (uint64_t)(now > e->at_ns ? (now - e->at_ns) / NS_PER_MS : 0), event_word(e->event),
	    e->trigger, e->repeats, algorithm_word(e->algorithm));
	if (e->subject != 0)
		fprintf(out, "%" PRIu32 ",\"vote\":\"%s\"", e->subject, vote_name(e->vote));
	else
		fputs("null,\"vote\":null", out);
	fprintf(out, ",\"rule\":\"%s\",\"reason\":", algo_rule_name(e->rule));
	json_reason(out, e);
	fprintf(out, ",\"config_size\":%" PRIu32 ",\"tie_breaker\":", e->config_size);
	if (e->rule == ALGO_RULE_TIE_BREAKER)
		fprintf(out, "{\"mode\":\"%s\",\"node_id\":%" PRIu32 "}",
		    tie_breaker_word(e->tie_breaker_mode), e->tie_breaker_node);
	else
		fputs("null", out);
	fprintf(out, ",\"partitions_seen\":%zu,\"partitions\":[", e->partitions_seen);
	for (size_t i = 0; i < e->partition_count; i++) {
		if (i > 0)
			fputc(',', out);
		json_partition(out, &e->partitions[i]);
	}
	fputs("]}", out);
}

static void
json_node(FILE *out, const struct qnetd_cluster *cl, const struct qnetd_client *c,
    uint64_t now)
{
	const struct explain_record *e, *decided;
	const struct algo_decision_partition *p;
	uint32_t id = c->algo.node_id;

	records_of(&cl->explain, id, &e, &decided);
	fprintf(out, "{\"node_id\":%" PRIu32 ",\"vote\":", id);
	if (c->last_sent_ack_nack_vote != VOTE_UNDEFINED)
		fprintf(out, "\"%s\"", vote_name(c->last_sent_ack_nack_vote));
	else
		fputs("null", out);
	if (e == NULL) {
		fputs(",\"waiting\":false,\"rule\":null,\"partition\":null,\"decision\":null,"
		    "\"last_decided\":null}", out);
		return;
	}
	fprintf(out, ",\"waiting\":%s,\"rule\":\"%s\",\"partition\":",
	    is_waiting(e) ? "true" : "false", algo_rule_name(e->rule));
	p = partition_of(e, id);
	if (p != NULL)
		fprintf(out, "%td", p - e->partitions);
	else
		fputs("null", out);
	fputs(",\"decision\":", out);
	json_entry(out, e, now);
	fputs(",\"last_decided\":", out);
	if (decided != NULL && is_waiting(e))
		json_entry(out, decided, now);
	else
		fputs("null", out);
	fputc('}', out);
}

static void
json_cluster(FILE *out, const struct qnetd_cluster *cl)
{
	const struct explain_log *log = &cl->explain;
	uint64_t now = clock_now_ns();

	fputs("{\"name\":", out);
	json_write_string_n(out, cl->name, cl->name_len);
	fprintf(out, ",\"algorithm\":\"%s\",\"journal_size\":%zu,\"decisions_total\":%" PRIu64
	    ",\"nodes\":[", algorithm_word(cl->view.clients[0]->algorithm),
	    log->journal_cap, log->decisions);
	for (size_t i = 0; i < cl->view.count; i++) {
		if (i > 0)
			fputc(',', out);
		json_node(out, cl, qnetd_client_of(cl->view.clients[i]), now);
	}
	fputs("],\"journal\":[", out);
	for (size_t k = 0; k < log->journal_count; k++) {
		if (k > 0)
			fputc(',', out);
		json_entry(out, log->journal[(log->journal_next + log->journal_cap - 1 - k) %
		    log->journal_cap], now);
	}
	fputs("]}", out);
}

int
qnetd_explain_write_json_items(const struct qnetd_instance *inst, const char *cluster_name,
    bool *first, FILE *out)
{
	return qnetd_for_each_cluster_json(inst, cluster_name, json_cluster, first, out);
}

int
qnetd_explain_write_json(const struct qnetd_instance *inst, const char *cluster_name,
    FILE *out)
{
	return qnetd_for_each_cluster_json(inst, cluster_name, json_cluster, NULL, out);
}
