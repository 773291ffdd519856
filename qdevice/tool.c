/*
 * qdevice/tool.c: qdevice-tool, the admin client of a running qdevice
 * (docs/protocol.md 5.4); -j (status as JSON) and --metrics are ours.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "settings.h"

#define PROG		"qdevice-tool"
#define TOOL_TIMEOUT_MS	10000

static void
usage(void)
{
	printf("usage: %s [-Hhjsv] [-p qdevice_ipc_socket_path]\n"
	    "       %s --metrics [-p qdevice_ipc_socket_path]\n", PROG, PROG);
}

int
main(int argc, char **argv)
{
	const char *path = QDEVICE_DEFAULT_SOCKET_FILE, *line;
	static const struct option long_opts[] = {
		{ "metrics", no_argument, NULL, 'M' },
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
			if (op != 0 && op != c) {
				fprintf(stderr, "%s: only one of -H, -s and --metrics may be given\n",
				    PROG);
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
	if (op == 0 || optind < argc || (json && op != 's')) {
		usage();
		return IPC_TOOL_USAGE;
	}
	if (op == 'H')
		line = "shutdown";
	else if (op == 'M')
		line = "metrics";
	else
		line = json ? "status json" : verbose ? "status verbose" : "status";
	return ipc_client_run(PROG, "QDevice", path, line, TOOL_TIMEOUT_MS);
}
