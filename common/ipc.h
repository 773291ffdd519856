/*
 * common/ipc.h: the admin unix socket both daemons offer to their tools
 * (docs/protocol.md 5.4). The server side reads one line per connection,
 * hands its words to the daemon, writes "OK\n<body>" or
 * "Error\n<message>\n" and closes. The client side sends one line and
 * reads the whole reply. Neither side logs.
 */
#ifndef QNET_IPC_H
#define QNET_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <qb/qbloop.h>

enum ipc_reply {
	IPC_REPLY_OK = 0,
	IPC_REPLY_ERROR,		/* out holds the error message */
	IPC_REPLY_OK_THEN_SHUTDOWN,	/* shutdown_fn runs once the reply is out */
};

/* Write the reply body (or error message) to out. */
typedef enum ipc_reply (*ipc_command_fn)(char **words, int count, FILE *out, void *arg);
typedef void (*ipc_shutdown_fn)(void *arg);

/* Default per-connection lifetime: three times a tool's own wait for a reply. */
#define IPC_CONN_TIMEOUT_MS	30000

struct ipc_server_config {
	const char	*path;
	int		 backlog;
	uint32_t	 max_clients;	/* 0: unlimited */
	/*
	 * A connection still open this long after it was accepted is closed, so
	 * that clients which connect and never send cannot hold every slot of
	 * max_clients (0: IPC_CONN_TIMEOUT_MS).
	 */
	uint32_t	 conn_timeout_ms;
	size_t		 max_receive;	/* longest command line accepted */
	size_t		 max_send;	/* longest reply; longer ones become an error */
	int		 umask;		/* -1: process umask */
	long		 gid;		/* -1: keep */
	ipc_command_fn	 command;
	ipc_shutdown_fn	 shutdown;
	/*
	 * NULL, or true for a command to be answered by a child process (on a
	 * copy of the daemon's memory, taken when it arrives) rather than in the
	 * event loop: for replies that take long to compose. A command that
	 * shuts the daemon down must not be one.
	 */
	bool		(*answer_apart)(char **words, int count, void *arg);
	void		*arg;
};

struct ipc_server;

/* Unlinks a stale socket file first. 0 or -errno. */
int	ipc_server_create(struct ipc_server **out, qb_loop_t *loop,
	    const struct ipc_server_config *cfg);
/* Closes every connection and removes the socket file. NULL-safe. */
void	ipc_server_destroy(struct ipc_server *srv);

/* The tools' exit codes (docs/protocol.md 5.4), the same for both. */
enum ipc_tool_exit {
	IPC_TOOL_OK = 0,
	IPC_TOOL_USAGE = 1,
	IPC_TOOL_INTERNAL = 2,		/* reached but no answer, or out of memory */
	IPC_TOOL_NO_DAEMON = 3,		/* cannot connect, or an answer not understood */
	IPC_TOOL_DAEMON_ERROR = 4,	/* the daemon answered Error */
};

/*
 * A tool's whole exchange: send `line`, print the reply's body (stdout) or
 * its error (stderr), and return the exit code: a daemon that was reached
 * but did not answer (hang-up, timeout) is IPC_TOOL_INTERNAL, so that a
 * stuck daemon is not reported as a stopped one. `daemon` names it in
 * messages ("QNetd").
 */
int	ipc_client_run(const char *prog, const char *daemon, const char *path,
	    const char *line, int timeout_ms);

/*
 * The exchange without printing, for tools that read a daemon's answer:
 * 0 with *reply (malloc'd, NUL-terminated, "OK\n..." or "Error\n...") or
 * -errno; *reached as in ipc_client_run.
 */
int	ipc_client_call(const char *path, const char *line, int timeout_ms, char **reply,
	    bool *reached);

#endif
