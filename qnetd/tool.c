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
	    "       %s --metrics [-p qnetd_ipc_socket_path]\n", PROG, PROG);
}

int
main(int argc, char **argv)
{
	const char *path = QNETD_DEFAULT_SOCKET_FILE, *cluster = NULL;
	char op = 0, *line = NULL, *quoted = NULL;
	static const struct option long_opts[] = {
		{ "metrics", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	bool verbose = false, json = false;
	int c, code;

	while ((c = getopt_long(argc, argv, "Hhjlsvc:p:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'M':
		case 'H':
		case 'l':
		case 's':
			if (op != 0 && op != c) {
				fprintf(stderr, "%s: only one of -H, -l, -s and --metrics may be given\n",
				    PROG);
				usage();
				return IPC_TOOL_USAGE;
			}
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
	if (op == 0 || optind < argc || (cluster != NULL && op != 'l') ||
	    (json && op != 's' && op != 'l')) {
		usage();
		return IPC_TOOL_USAGE;
	}
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
