/* qnetd/ipc.c: commands of qnetd's admin socket. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <qb/qblog.h>

#include "common/ipc.h"
#include "common/utils.h"
#include "explain.h"
#include "instance.h"
#include "ipc.h"
#include "shard.h"
#include "shard-totals.h"
#include "status.h"

struct parsed_command {
	bool		 is_status, is_list, is_explain, verbose, json;
	const char	*cluster;
};

/*
 * Arguments of status and list, read the way upstream's daemon reads them,
 * because upstream's tool may talk to us: "verbose", "json" (ours) and
 * "cluster NAME" in any order; the first other word ends the arguments
 * and it and the rest are ignored, not refused. Upstream's tool sends
 * every option it was given whatever the operation ("status cluster
 * \"x\"" for -s -c x), so status takes "cluster NAME" too and ignores it.
 * "cluster" without a NAME, like NAME "", means every cluster.
 */
static void
parse_options(char **words, int count, struct parsed_command *pc)
{
	for (int i = 1; i < count; i++) {
		if (strcasecmp(words[i], "verbose") == 0) {
			pc->verbose = true;
		} else if (strcasecmp(words[i], "json") == 0) {
			pc->json = true;
		} else if (strcasecmp(words[i], "cluster") == 0) {
			pc->cluster = i + 1 < count ? words[++i] : NULL;
		} else {
			break;
		}
	}
	if (pc->cluster != NULL && pc->cluster[0] == '\0')
		pc->cluster = NULL;
}

/*
 * Front process: the totals of status and metrics, and the text of list,
 * come from the workers. Any worker not answering fails the command
 * rather than giving a count that silently misses a shard.
 */
struct worker_answers {
	unsigned	 count;
	char		*text[QNETD_MAX_WORKER_PROCESSES];
	int		 result[QNETD_MAX_WORKER_PROCESSES];
};

static bool
ask_workers(struct qnetd_instance *inst, const char *line, struct worker_answers *a, FILE *out)
{
	a->count = inst->front->count;
	if (shard_front_ask(inst->front, line, a->text, a->result) == 0)
		return true;
	fputs("A worker process did not answer; see the log", out);
	for (unsigned i = 0; i < a->count; i++)
		free(a->text[i]);
	return false;
}

static void
free_answers(struct worker_answers *a)
{
	for (unsigned i = 0; i < a->count; i++)
		free(a->text[i]);
}

static bool
totals(struct qnetd_instance *inst, struct qnetd_totals *t, FILE *out)
{
	struct worker_answers a;
	bool ok = true;

	shard_totals_of(inst, t);
	if (inst->front == NULL)
		return true;
	if (!ask_workers(inst, "shard totals", &a, out))
		return false;
	for (unsigned i = 0; i < a.count && ok; i++) {
		struct qnetd_totals part;

		if (shard_totals_parse(a.text[i], &part) != 0) {
			fputs("A worker process sent unreadable counters; see the log", out);
			qb_log(LOG_ERR, "worker %u sent unreadable counters", i);
			ok = false;
		} else {
			shard_totals_add(t, &part);
		}
	}
	free_answers(&a);
	return ok;
}

/*
 * Join the workers' answers to the same command, separator between the
 * non-empty ones, inside prefix and suffix; those only when every worker
 * answered OK, else out holds the first error alone. Written straight to
 * out: a list can run to tens of MB.
 */
static enum ipc_reply
gather(struct qnetd_instance *inst, const char *line, const char *separator,
    const char *prefix, const char *suffix, FILE *out)
{
	struct worker_answers a;
	enum ipc_reply result = IPC_REPLY_OK;
	bool any = false;

	if (!ask_workers(inst, line, &a, out))
		return IPC_REPLY_ERROR;
	for (unsigned i = 0; i < a.count; i++)
		if (a.result[i] != IPC_REPLY_OK) {
			fputs(a.text[i], out);
			result = IPC_REPLY_ERROR;
			break;
		}
	if (result == IPC_REPLY_OK)
		fputs(prefix, out);
	for (unsigned i = 0; i < a.count && result == IPC_REPLY_OK; i++) {
		if (a.text[i][0] == '\0')
			continue;
		if (any && separator != NULL)
			fputs(separator, out);
		fputs(a.text[i], out);
		any = true;
	}
	if (result == IPC_REPLY_OK)
		fputs(suffix, out);
	free_answers(&a);
	return result;
}

static enum ipc_reply
metrics(struct qnetd_instance *inst, FILE *out)
{
	struct qnetd_totals t;
	struct worker_answers a;
	char *lines = NULL;
	size_t size = 0;
	FILE *joined;

	if (!totals(inst, &t, out))
		return IPC_REPLY_ERROR;
	if (inst->front == NULL) {
		qnetd_metrics_write(inst, &t, NULL, out);
		return IPC_REPLY_OK;
	}
	if (!ask_workers(inst, "shard metrics-clusters", &a, out))
		return IPC_REPLY_ERROR;
	joined = open_memstream(&lines, &size);
	if (joined != NULL) {
		for (unsigned i = 0; i < a.count; i++)
			fputs(a.text[i], joined);
		if (fclose(joined) != 0)
			lines = NULL;
	}
	free_answers(&a);
	if (lines == NULL) {
		fputs("Out of memory", out);
		return IPC_REPLY_ERROR;
	}
	qnetd_metrics_write(inst, &t, lines, out);
	free(lines);
	return IPC_REPLY_OK;
}

static enum ipc_reply	gather_clusters(struct qnetd_instance *inst,
			    const struct parsed_command *pc, const char *text_cmd, FILE *out);

static enum ipc_reply
list(struct qnetd_instance *inst, const struct parsed_command *pc, FILE *out)
{
	if (inst->front == NULL) {
		if ((pc->json ? qnetd_list_write_json(inst, pc->cluster, out) :
		    qnetd_list_write(inst, pc->verbose, pc->cluster, out)) == 0)
			return IPC_REPLY_OK;
		fputs("Out of memory", out);
		return IPC_REPLY_ERROR;
	}
	return gather_clusters(inst, pc, "list", out);
}

/* qnetd-tool --explain: why each node holds its vote (explain.h). */
static enum ipc_reply
explain(struct qnetd_instance *inst, const struct parsed_command *pc, FILE *out)
{
	if (inst->front == NULL) {
		if ((pc->json ? qnetd_explain_write_json(inst, pc->cluster, out) :
		    qnetd_explain_write(inst, pc->cluster, out)) == 0)
			return IPC_REPLY_OK;
		fputs("Out of memory", out);
		return IPC_REPLY_ERROR;
	}
	return gather_clusters(inst, pc, "explain", out);
}

/*
 * Front: the per-cluster answer of text_cmd ("list" or "explain") from
 * every worker, joined; JSON as "shard <text_cmd>-json" cluster objects.
 */
static enum ipc_reply
gather_clusters(struct qnetd_instance *inst, const struct parsed_command *pc,
    const char *text_cmd, FILE *out)
{
	char line[512], *quoted = NULL;

	/* The worker splits the line again: a name with blanks or quotes must stay one word. */
	if (pc->cluster != NULL && (quoted = utils_quote_word(pc->cluster)) == NULL) {
		fputs("Out of memory", out);
		return IPC_REPLY_ERROR;
	}
	if (quoted != NULL && strlen(quoted) > sizeof(line) - 64) {
		free(quoted);
		fputs("Cluster name too long", out);
		return IPC_REPLY_ERROR;
	}
	snprintf(line, sizeof(line), "%s%s%s%s%s%s", pc->json ? "shard " : "", text_cmd,
	    pc->json ? "-json" : "", pc->verbose && !pc->json ? " verbose" : "",
	    quoted != NULL ? " cluster " : "", quoted != NULL ? quoted : "");
	free(quoted);
	if (!pc->json)
		return gather(inst, line, NULL, "", "", out);
	return gather(inst, line, ",", "{\"clusters\":[", "]}\n", out);
}

/* Only between front and workers: the parts the front sums or joins. */
static enum ipc_reply
shard_command(struct qnetd_instance *inst, char **words, int count, FILE *out)
{
	struct qnetd_totals t;
	bool first = true;

	if (count == 2 && strcmp(words[1], "ping") == 0) {
		/* the front's liveness check: the answer is all it needs */
	} else if (count == 2 && strcmp(words[1], "totals") == 0) {
		shard_totals_of(inst, &t);
		shard_totals_write(&t, out);
	} else if (count == 2 && strcmp(words[1], "metrics-clusters") == 0) {
		qnetd_metrics_write_clusters(inst, out);
	} else if (strcmp(words[1], "list-json") == 0 &&
	    (count == 2 || (count == 4 && strcmp(words[2], "cluster") == 0))) {
		if (qnetd_list_write_json_items(inst, count == 4 ? words[3] : NULL, &first,
		    out) != 0) {
			fputs("Out of memory", out);
			return IPC_REPLY_ERROR;
		}
	} else if (strcmp(words[1], "explain-json") == 0 &&
	    (count == 2 || (count == 4 && strcmp(words[2], "cluster") == 0))) {
		if (qnetd_explain_write_json_items(inst, count == 4 ? words[3] : NULL, &first,
		    out) != 0) {
			fputs("Out of memory", out);
			return IPC_REPLY_ERROR;
		}
	} else {
		fprintf(out, "Unknown command '%s'", words[0]);
		return IPC_REPLY_ERROR;
	}
	return IPC_REPLY_OK;
}

/*
 * Commands: shutdown; status [verbose|json]; list [verbose|json]
 * [cluster NAME]; explain [json] [cluster NAME]; metrics. "json",
 * "explain" and "metrics" are ours, not upstream's.
 * Like upstream, shutdown ignores any words after it (its tool sends
 * "shutdown verbose" for -H -v) and status and list ignore unknown ones.
 */
static enum ipc_reply
command(char **words, int count, FILE *out, void *arg)
{
	struct qnetd_instance *inst = arg;
	struct parsed_command pc = {
		.is_status = strcasecmp(words[0], "status") == 0,
		.is_list = strcasecmp(words[0], "list") == 0,
		.is_explain = strcasecmp(words[0], "explain") == 0,
	};
	struct qnetd_totals t;

	if (strcasecmp(words[0], "shutdown") == 0) {
		qb_log(LOG_INFO, "shutdown requested over the admin socket");
		return IPC_REPLY_OK_THEN_SHUTDOWN;
	}
	if (strcasecmp(words[0], "metrics") == 0 && count == 1)
		return metrics(inst, out);
	if (inst->shard_fd >= 0 && strcmp(words[0], "shard") == 0 && count >= 2)
		return shard_command(inst, words, count, out);
	if (!pc.is_status && !pc.is_list && !pc.is_explain) {
		fprintf(out, "Unknown command '%s'", words[0]);
		return IPC_REPLY_ERROR;
	}
	parse_options(words, count, &pc);
	if (pc.is_list)
		return list(inst, &pc, out);
	if (pc.is_explain)
		return explain(inst, &pc, out);
	if (!totals(inst, &t, out))
		return IPC_REPLY_ERROR;
	if (pc.json)
		qnetd_status_write_json(inst, &t, out);
	else
		qnetd_status_write(inst, &t, pc.verbose, out);
	return IPC_REPLY_OK;
}

enum ipc_reply
qnetd_ipc_execute(struct qnetd_instance *inst, const char *line, FILE *out)
{
	char **words = NULL;
	enum ipc_reply r;
	int count = utils_split_words(line, &words);

	if (count <= 0) {
		fputs(count == 0 ? "Empty command" : "Out of memory", out);
		return IPC_REPLY_ERROR;
	}
	r = command(words, count, out, inst);
	utils_free_words(words, count);
	/* A worker never shuts down on its own: the front stops everything. */
	return r == IPC_REPLY_OK_THEN_SHUTDOWN ? IPC_REPLY_OK : r;
}

/*
 * A list of a large server (400 clients with 2,727-node lists: 44 MB of
 * JSON) takes about a second to compose, during which no heartbeat would
 * be answered: answered by a process of its own, on a copy of the server
 * taken when the request came. A front with worker processes only joins
 * their parts, which it asks for over its own sockets: answered in place.
 */
static bool
answer_apart(char **words, int count, void *arg)
{
	struct qnetd_instance *inst = arg;

	(void)count;
	/* explain: a journal line per decision of every cluster runs to MBs as well. */
	return inst->front == NULL && inst->shard_fd < 0 && (strcasecmp(words[0], "list") == 0 ||
	    strcasecmp(words[0], "explain") == 0);
}

static void
shutdown_now(void *arg)
{
	struct qnetd_instance *inst = arg;

	qb_loop_stop(inst->loop);
}

int
qnetd_ipc_start(struct qnetd_instance *inst)
{
	const struct qnetd_settings *s = inst->settings;
	struct ipc_server_config cfg = {
		.path = s->local_socket_file,
		.backlog = (int)s->local_socket_backlog,
		.max_clients = s->ipc_max_clients,
		.max_receive = s->ipc_max_receive_size,
		.max_send = s->ipc_max_send_size,
		.umask = s->local_socket_umask,
		.gid = s->local_socket_gid,
		.command = command,
		.shutdown = shutdown_now,
		.answer_apart = answer_apart,
		.arg = inst,
	};

	return ipc_server_create(&inst->ipc, inst->loop, &cfg);
}

void
qnetd_ipc_stop(struct qnetd_instance *inst)
{
	ipc_server_destroy(inst->ipc);
	inst->ipc = NULL;
}
