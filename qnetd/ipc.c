/* qnetd/ipc.c: commands of qnetd's admin socket. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <qb/qblog.h>

#include "common/ipc.h"
#include "instance.h"
#include "ipc.h"
#include "status.h"

/*
 * Commands: shutdown; status [verbose|json]; list [verbose|json]
 * [cluster NAME]; metrics. "json" and "metrics" are ours, not upstream's.
 */
static enum ipc_reply
command(char **words, int count, FILE *out, void *arg)
{
	struct qnetd_instance *inst = arg;
	bool verbose = false, json = false;
	const char *cluster = NULL;
	bool is_status = strcasecmp(words[0], "status") == 0;
	bool is_list = strcasecmp(words[0], "list") == 0;

	if (strcasecmp(words[0], "shutdown") == 0 && count == 1) {
		qb_log(LOG_INFO, "shutdown requested over the admin socket");
		return IPC_REPLY_OK_THEN_SHUTDOWN;
	}
	if (strcasecmp(words[0], "metrics") == 0 && count == 1) {
		qnetd_metrics_write(inst, out);
		return IPC_REPLY_OK;
	}
	if (!is_status && !is_list) {
		fprintf(out, "Unknown command '%s'", words[0]);
		return IPC_REPLY_ERROR;
	}
	for (int i = 1; i < count; i++) {
		if (strcasecmp(words[i], "verbose") == 0) {
			verbose = true;
		} else if (strcasecmp(words[i], "json") == 0) {
			json = true;
		} else if (is_list && strcasecmp(words[i], "cluster") == 0 && i + 1 < count) {
			cluster = words[++i];
		} else {
			fprintf(out, "Unknown %s option '%s'", words[0], words[i]);
			return IPC_REPLY_ERROR;
		}
	}
	if (is_status && json)
		qnetd_status_write_json(inst, out);
	else if (is_status)
		qnetd_status_write(inst, verbose, out);
	else if (json)
		qnetd_list_write_json(inst, cluster, out);
	else
		qnetd_list_write(inst, verbose, cluster, out);
	return IPC_REPLY_OK;
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
