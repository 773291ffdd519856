/* qnetd/tool.c: qnetd-tool, the admin client of a running qnetd. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/utils.h"
#include "settings.h"

#define PROG "qnetd-tool"
#define TOOL_TIMEOUT_MS	10000

static void
usage(void)
{
	printf("usage: %s [-Hhjlsv] [-c cluster_name] [-p qnetd_ipc_socket_path]\n"
	    "       %s --explain [-j] [-c cluster_name] [-p qnetd_ipc_socket_path]\n"
	    "       %s --metrics [-p qnetd_ipc_socket_path]\n", PROG, PROG, PROG);
}

int
main(int argc, char **argv)
{
	const char *path = QNETD_DEFAULT_SOCKET_FILE, *cluster = NULL;
	char op = 0, *line = NULL, *quoted = NULL;
	static const struct option long_opts[] = {
		{ "metrics", no_argument, NULL, 'M' },
		{ "explain", no_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	bool verbose = false, json = false, stop = false, other_op = false;
	int c, code;

	/*
	 * As upstream's tool: of several operations the last one counts, and
	 * -c without -l and -v with -H are ignored. Except that -H beside
	 * another operation is refused: upstream would stop qnetd when -H came
	 * last, which is too costly an outcome for what is likely a typo.
	 */
	while ((c = getopt_long(argc, argv, "Hhjlsvc:p:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			stop = true;
			op = (char)c;
			break;
		case 'E':
		case 'M':
		case 'l':
		case 's':
			other_op = true;
			op = (char)c;
			break;
		case 'v':
			verbose = true;
			break;
		case 'j':
			json = true;
			break;
		case 'c':
			cluster = optarg;
			break;
		case 'p':
			path = optarg;
			break;
		case 'h':
			usage();
			return IPC_TOOL_USAGE;
		default:
			usage();
			return IPC_TOOL_USAGE;
		}
	}
	if (stop && other_op) {
		fprintf(stderr, "%s: -H (shut qnetd down) cannot be combined with -l, -s, "
		    "--explain or --metrics\n", PROG);
		usage();
		return IPC_TOOL_USAGE;
	}
	if (op == 0 || (json && op != 's' && op != 'l' && op != 'E')) {
		usage();
		return IPC_TOOL_USAGE;
	}
	/* Upstream ignores operands; a warning at least, as one may be a forgotten -c. */
	for (int i = optind; i < argc; i++)
		fprintf(stderr, "%s: ignoring extra argument '%s'\n", PROG, argv[i]);
	if (op != 'l' && op != 'E')
		cluster = NULL;
	switch (op) {
	case 'H':
		line = strdup("shutdown");
		break;
	case 's':
		line = strdup(json ? "status json" : verbose ? "status verbose" : "status");
		break;
	case 'M':
		line = strdup("metrics");
		break;
	case 'E':
		if (cluster != NULL && (quoted = utils_quote_word(cluster)) == NULL)
			break;
		if (asprintf(&line, "explain%s%s%s", json ? " json" : "",
		    quoted ? " cluster " : "", quoted ? quoted : "") < 0)
			line = NULL;
		break;
	default:
		if (cluster != NULL && (quoted = utils_quote_word(cluster)) == NULL)
			break;
		if (asprintf(&line, "list%s%s%s", json ? " json" : verbose ? " verbose" : "",
		    quoted ? " cluster " : "", quoted ? quoted : "") < 0)
			line = NULL;
		break;
	}
	free(quoted);
	if (line == NULL) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return IPC_TOOL_INTERNAL;
	}
	code = ipc_client_run(PROG, "QNetd", path, line, TOOL_TIMEOUT_MS);
	free(line);
	return code;
}
