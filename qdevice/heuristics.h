/*
 * qdevice/heuristics.h: run the exec_ heuristics (docs/protocol.md 4.4) in a
 * forked worker process and report each run's result in the daemon's loop.
 * Never blocks the loop and never logs by itself; it only forwards the
 * worker's own log lines to qb_log. The worker side is heuristics-exec.c.
 */
#ifndef QNET_HEURISTICS_H
#define QNET_HEURISTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <qb/qbloop.h>

struct heuristics;			/* opaque */

enum heuristics_result {
	HEURISTICS_RESULT_DISABLED = 0,	/* empty exec list; UNDEFINED on the wire */
	HEURISTICS_RESULT_PASS = 1,
	HEURISTICS_RESULT_FAIL = 2,
};
const char	*heuristics_result_name(enum heuristics_result r);

/*
 * Called in the daemon's loop when a run finishes; `seq` is the run's id.
 * seq 0 (with FAIL) means the worker died or broke the protocol: no run
 * will ever finish again, the daemon should log, destroy the handle and exit.
 * The callback may call any function here, heuristics_destroy() included.
 */
typedef void (*heuristics_done_fn)(uint32_t seq, enum heuristics_result result, void *arg);

struct heuristics_limits {
	uint32_t	max_execs;		/* 32 */
	uint32_t	max_processes;		/* 160: running + being killed */
	uint32_t	kill_list_interval_ms;	/* 5000 */
	bool		use_execvp;		/* false */
};
#define HEURISTICS_LIMITS_DEFAULT	{ 32, 160, 5000, false }

/*
 * Fork the worker process now (before daemonizing / before creating threads).
 * limits NULL = defaults; a zero limit is -EINVAL. 0 or -errno. When
 * daemonizing forks later, the exiting parent must not call heuristics_destroy().
 */
int	heuristics_create(struct heuristics **out, const struct heuristics_limits *limits);
/* Attach the worker's pipes to the loop (call once the loop exists). */
int	heuristics_attach(struct heuristics *h, qb_loop_t *loop, heuristics_done_fn done,
	    void *arg);
/*
 * Replace the list of exec_ commands: names[i] is the key suffix, cmds[i]
 * the command line. n == 0 -> runs report DISABLED. n > max_execs -> -E2BIG
 * (caller disables heuristics). A name with whitespace or a command with a
 * newline is -EINVAL; a line over HEURISTICS_LINE_MAX is -EMSGSIZE; a worker
 * that stopped reading is -ENOBUFS; a dead one -EPIPE.
 */
int	heuristics_set_execs(struct heuristics *h, const char *const *names,
	    const char *const *cmds, size_t n);
/*
 * Start a run with a timeout; returns its seq (> 0) or -errno. A new run
 * supersedes an outstanding one (its result is never reported). The result
 * always arrives later through the done callback, never from inside this call.
 */
int64_t	heuristics_run(struct heuristics *h, uint32_t timeout_ms);
bool	heuristics_running(const struct heuristics *h);
/* The worker's pid (for logs), or -1. The daemon must not reap it with waitpid(-1). */
pid_t	heuristics_worker_pid(const struct heuristics *h);
/* Kill the worker (and its children), close pipes, free. NULL-safe. */
void	heuristics_destroy(struct heuristics *h);

#endif
