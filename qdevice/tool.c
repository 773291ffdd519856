/*
 * qdevice/tool.c: qdevice-tool, the admin client of a running qdevice
 * (docs/protocol.md 5.4); -j (status as JSON), --metrics and --plan (the
 * failure planner, qdevice-tool(8) PLAN) are ours.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "plan-checks.h"
#include "plan-input.h"
#include "plan-output.h"
#include "plan-probe.h"
#include "settings.h"

#define PROG		"qdevice-tool"
#define TOOL_TIMEOUT_MS	10000
/* --plan: could not read the cluster (0-2 are the readiness verdict). */
#define PLAN_EXIT_UNREADABLE	3
/* Bound of the one TCP connect to the arbiter when its own is longer or unknown. */
#define PLAN_PROBE_CONNECT_MS	3000

static void
usage(void)
{
	printf("usage: %s [-Hhjsv] [-p qdevice_ipc_socket_path]\n"
	    "       %s --metrics [-p qdevice_ipc_socket_path]\n"
	    "       %s --plan [-j] [-p qdevice_ipc_socket_path]\n", PROG, PROG, PROG);
}

static enum plan_report_level
report_level(enum plan_check_level l)
{
	return l == PLAN_CHECK_FAIL ? PLAN_REPORT_FAIL : l == PLAN_CHECK_WARN ?
	    PLAN_REPORT_WARN : PLAN_REPORT_OK;
}

/* The readiness checks of plan-checks.c, as the report shows them. 0 or -errno. */
static int
run_checks(const struct plan_cluster *c, const struct plan_env *e, struct plan_checks *checks,
    struct plan_report_check **items)
{
	struct plan_probe probe;
	uint32_t connect_ms = e->connect_timeout_ms;
	int r;

	if (connect_ms == 0 || connect_ms > PLAN_PROBE_CONNECT_MS)
		connect_ms = PLAN_PROBE_CONNECT_MS;
	memset(&probe, 0, sizeof(probe));
	r = plan_probe_gather(c, e, connect_ms, &probe);
	if (r == 0)
		r = plan_checks_run(c, e, &probe, checks);
	plan_probe_fini(&probe);
	if (r != 0)
		return r;
	*items = calloc(checks->count + 1, sizeof(**items));
	if (*items == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < checks->count; i++) {
		(*items)[i].id = checks->items[i].id;
		(*items)[i].level = report_level(checks->items[i].level);
		(*items)[i].text = checks->items[i].text;
	}
	return 0;
}

/*
 * --plan: read the cluster, compute, judge, print. Exit 0/1/2 by the worst
 * readiness check, 3 when the cluster could not be read or modelled.
 */
static int
plan(const char *path, bool json)
{
	struct plan_cluster c;
	struct plan_env e;
	struct plan_arithmetic a;
	struct plan_matrix m;
	struct plan_checks checks = { NULL, 0 };
	struct plan_report_check *items = NULL;
	struct plan_report rep;
	char err[256] = "";
	int r, status = PLAN_EXIT_UNREADABLE;

	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	plan_env_init(&e);
	r = plan_input_live(path, &c, &e, err, sizeof(err));
	if (r == 0)
		r = plan_arithmetic(&c, &a, err, sizeof(err));
	if (r == 0)
		r = plan_matrix_build(&c, &m, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "%s: cannot read the cluster: %s\n", PROG,
		    err[0] != '\0' ? err : strerror(-r));
		goto out;
	}
	r = run_checks(&c, &e, &checks, &items);
	if (r != 0) {
		fprintf(stderr, "%s: readiness checks failed: %s\n", PROG, strerror(-r));
		status = IPC_TOOL_INTERNAL;
		goto out;
	}
	rep = (struct plan_report){ .cluster = &c, .env = &e, .arithmetic = &a, .matrix = &m,
	    .checks = items, .check_count = checks.count, .checks_run = true };
	r = json ? plan_write_json(stdout, &rep) : plan_write_text(stdout, &rep);
	if (r != 0 || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the plan\n", PROG);
		status = IPC_TOOL_INTERNAL;
		goto out;
	}
	status = plan_report_exit_status(&rep);
out:
	free(items);
	plan_checks_fini(&checks);
	plan_matrix_fini(&m);
	plan_env_fini(&e, c.node_count);
	plan_cluster_fini(&c);
	return status;
}

int
main(int argc, char **argv)
{
	const char *path = QDEVICE_DEFAULT_SOCKET_FILE, *line;
	static const struct option long_opts[] = {
		{ "metrics", no_argument, NULL, 'M' },
		{ "plan", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	bool verbose = false, json = false;
	char op = 0;
	int c;

	while ((c = getopt_long(argc, argv, "Hhjsvp:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'H':
		case 's':
		case 'M':
		case 'P':
			if (op != 0 && op != c) {
				fprintf(stderr, "%s: only one of -H, -s, --metrics and --plan may "
				    "be given\n", PROG);
				usage();
				return IPC_TOOL_USAGE;
			}
			op = (char)c;
			break;
		case 'v':
			verbose = true;
			break;
		case 'j':	/* ours: the status as JSON */
			json = true;
			break;
		case 'p':
			path = optarg;
			break;
		case 'h':
		default:
			usage();
			return IPC_TOOL_USAGE;
		}
	}
	if (op == 0 || optind < argc || (json && op != 's' && op != 'P')) {
		usage();
		return IPC_TOOL_USAGE;
	}
	if (op == 'P')
		return plan(path, json);
	if (op == 'H')
		line = "shutdown";
	else if (op == 'M')
		line = "metrics";
	else
		line = json ? "status json" : verbose ? "status verbose" : "status";
	return ipc_client_run(PROG, "QDevice", path, line, TOOL_TIMEOUT_MS);
}
