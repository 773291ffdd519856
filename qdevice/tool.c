/* qdevice/tool.c: qdevice-tool, the admin client of a running qdevice (PROTOCOL.md 5.4). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "settings.h"

#define PROG		"qdevice-tool"
#define TOOL_TIMEOUT_MS	10000

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_INTERNAL = 2, EXIT_NO_DAEMON = 3 };

static void
usage(void)
{
	printf("usage: %s [-Hhsv] [-p qdevice_ipc_socket_path]\n", PROG);
}

int
main(int argc, char **argv)
{
	const char *path = QDEVICE_DEFAULT_SOCKET_FILE, *line;
	bool verbose = false;
	char op = 0, *reply = NULL;
	int c, r, code;

	while ((c = getopt(argc, argv, "Hhsvp:")) != -1) {
		switch (c) {
		case 'H':
		case 's':
			if (op != 0 && op != c) {
				fprintf(stderr, "%s: only one of -H and -s may be given\n", PROG);
				usage();
				return EXIT_USAGE;
			}
			op = (char)c;
			break;
		case 'v':
			verbose = true;
			break;
		case 'p':
			path = optarg;
			break;
		case 'h':
		default:
			usage();
			return EXIT_USAGE;
		}
	}
	if (op == 0 || optind < argc) {
		usage();
		return EXIT_USAGE;
	}
	if (op == 'H')
		line = "shutdown";
	else
		line = verbose ? "status verbose" : "status";
	r = ipc_client_call(path, line, TOOL_TIMEOUT_MS, &reply, NULL);
	if (r != 0) {
		fprintf(stderr, "%s: Can't connect to QDevice socket (is QDevice running?): %s\n",
		    PROG, strerror(-r));
		return EXIT_NO_DAEMON;
	}
	code = ipc_client_print_reply(reply);
	free(reply);
	return code;
}
