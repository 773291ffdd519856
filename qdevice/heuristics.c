/*
 * qdevice/heuristics.c: the daemon's end of the heuristics worker. Forks the
 * worker, queues its commands on a non-blocking pipe, reads exec-result lines
 * and reports the current run's result from the loop. Its only logging is
 * forwarding the worker's log lines; its own failures are return values and
 * the seq-0 report (worker gone). The worker itself is heuristics-exec.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/wait.h>
#include <qb/qblog.h>

#include "qdevice/corosync-config.h"
#include "qdevice/heuristics-exec.h"

/* Every command the configuration accepts fits in one "exec-list-add NAME CMD" line. */
_Static_assert(sizeof("exec-list-add ") - 1 + CONFIG_HEURISTICS_EXEC_MAX + 2 <=
    HEURISTICS_LINE_MAX, "CONFIG_HEURISTICS_EXEC_MAX too large for the worker's lines");

struct heuristics {
	pid_t			 pid;
	int			 cmd_fd, result_fd, log_fd;	/* our ends; -1 closed */
	struct heuristics_limits lim;
	qb_loop_t		*loop;
	heuristics_done_fn	 done;
	void			*arg;
	uint32_t		 last_seq;	/* the run whose result we want */
	bool			 running;
	bool			 dead;		/* seq 0 reported, nothing polled */
	bool			 cmd_polled;	/* POLLOUT registered: out is not empty */
	bool			 in_done;	/* inside the done callback */
	bool			 free_pending;	/* destroyed from inside it */
	bool			 have_report;	/* set by a result line, used by on_result() */
	uint32_t		 report_seq;
	enum heuristics_result	 report;
	char			*out;		/* commands not yet written, out_cap bytes */
	size_t			 out_len, out_cap;
	struct heuristics_linebuf result_in, log_in;
};

const char *
heuristics_result_name(enum heuristics_result r)
{
	switch (r) {
	case HEURISTICS_RESULT_DISABLED:	return "disabled";
	case HEURISTICS_RESULT_PASS:		return "pass";
	case HEURISTICS_RESULT_FAIL:		return "fail";
	}
	return "?";
}

int
heuristics_create(struct heuristics **out, const struct heuristics_limits *limits)
{
	static const struct heuristics_limits defaults = HEURISTICS_LIMITS_DEFAULT;
	const struct heuristics_limits *lim = limits != NULL ? limits : &defaults;
	int cmd[2] = { -1, -1 }, res[2] = { -1, -1 }, log[2] = { -1, -1 };
	struct heuristics *h;
	int rc;

	if (lim->max_execs == 0 || lim->max_processes == 0 || lim->kill_list_interval_ms == 0)
		return -EINVAL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->lim = *lim;
	/* Room for a whole list plus many runs: 136 KiB with the defaults. */
	h->out_cap = ((size_t)lim->max_execs + 2) * HEURISTICS_LINE_MAX;
	if ((h->out = malloc(h->out_cap)) == NULL) {
		free(h);
		return -ENOMEM;
	}
	if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0 || pipe2(log, O_CLOEXEC) < 0)
		goto fail_errno;
	if ((h->pid = fork()) < 0)
		goto fail_errno;
	if (h->pid == 0) {
		close(cmd[1]);
		close(res[0]);
		close(log[0]);
		setsid();
		heuristics_exec_worker_main(cmd[0], res[1], log[1], &h->lim);
	}
	close(cmd[0]);
	close(res[1]);
	close(log[1]);
	h->cmd_fd = cmd[1];
	h->result_fd = res[0];
	h->log_fd = log[0];
	fcntl(h->cmd_fd, F_SETFL, fcntl(h->cmd_fd, F_GETFL) | O_NONBLOCK);
	fcntl(h->result_fd, F_SETFL, fcntl(h->result_fd, F_GETFL) | O_NONBLOCK);
	fcntl(h->log_fd, F_SETFL, fcntl(h->log_fd, F_GETFL) | O_NONBLOCK);
	*out = h;
	return 0;

fail_errno:
	rc = -errno;
	for (int i = 0; i < 2; i++) {
		if (cmd[i] >= 0)
			close(cmd[i]);
		if (res[i] >= 0)
			close(res[i]);
		if (log[i] >= 0)
			close(log[i]);
	}
	free(h->out);
	free(h);
	return rc;
}

/*
 * write() that cannot raise SIGPIPE, whatever the daemon did with it: block
 * it, and if the write broke the pipe, consume the signal it left pending.
 */
static ssize_t
write_nosigpipe(int fd, const void *buf, size_t len)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old, pending;
	ssize_t n;
	int err;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	err = errno;
	if (n < 0 && err == EPIPE && !sigismember(&old, SIGPIPE) &&
	    sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
		sigtimedwait(&pipe_set, NULL, &zero);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

/* Write what the pipe takes now. 0 or -errno (then the queue is dropped). */
static int
write_out(struct heuristics *h)
{
	size_t done = 0;
	int rc = 0;

	while (done < h->out_len) {
		ssize_t n = write_nosigpipe(h->cmd_fd, h->out + done, h->out_len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			rc = -errno;
			done = h->out_len;
			break;
		}
		done += (size_t)n;
	}
	memmove(h->out, h->out + done, h->out_len - done);
	h->out_len -= done;
	return rc;
}

static int32_t
on_writable(int32_t fd, int32_t revents, void *data)
{
	struct heuristics *h = data;

	if (write_out(h) < 0 || h->out_len == 0) {
		qb_loop_poll_del(h->loop, fd);
		h->cmd_polled = false;
		return -1;
	}
	return 0;
}

/* Outside any callback: write now, and wait for POLLOUT if something is left. */
static int
flush(struct heuristics *h)
{
	int rc = write_out(h);

	if (rc < 0)
		return rc;
	if (h->out_len > 0 && h->loop != NULL && !h->cmd_polled) {
		rc = qb_loop_poll_add(h->loop, QB_LOOP_MED, h->cmd_fd, POLLOUT, h, on_writable);
		h->cmd_polled = rc == 0;
	}
	return rc;
}

static int
reserve(struct heuristics *h, size_t need)
{
	return need > h->out_cap - h->out_len ? -ENOBUFS : 0;
}

static void
append(struct heuristics *h, const char *s, size_t len)
{
	memcpy(h->out + h->out_len, s, len);
	h->out_len += len;
}

int
heuristics_set_execs(struct heuristics *h, const char *const *names, const char *const *cmds,
    size_t n)
{
	static const char clear[] = "exec-list-clear\n", add[] = "exec-list-add ";
	size_t need = sizeof(clear) - 1;
	int rc;

	if (h == NULL || (n > 0 && (names == NULL || cmds == NULL)))
		return -EINVAL;
	if (n > h->lim.max_execs)
		return -E2BIG;
	if (h->dead)
		return -EPIPE;
	for (size_t i = 0; i < n; i++) {
		size_t line_len = sizeof(add) - 1 + strlen(names[i]) + 1 + strlen(cmds[i]) + 1;

		if (names[i][0] == '\0' || strpbrk(names[i], " \t\r\n") != NULL ||
		    strpbrk(cmds[i], "\r\n") != NULL)
			return -EINVAL;
		if (line_len > HEURISTICS_LINE_MAX)
			return -EMSGSIZE;
		need += line_len;
	}
	if ((rc = reserve(h, need)) < 0)
		return rc;
	append(h, clear, sizeof(clear) - 1);
	for (size_t i = 0; i < n; i++) {
		append(h, add, sizeof(add) - 1);
		append(h, names[i], strlen(names[i]));
		append(h, " ", 1);
		append(h, cmds[i], strlen(cmds[i]));
		append(h, "\n", 1);
	}
	return flush(h);
}

int64_t
heuristics_run(struct heuristics *h, uint32_t timeout_ms)
{
	uint32_t seq;
	char line[64];
	int len, rc;

	if (h == NULL || timeout_ms == 0)
		return -EINVAL;
	if (h->dead)
		return -EPIPE;
	seq = h->last_seq + 1 != 0 ? h->last_seq + 1 : 1;
	len = snprintf(line, sizeof(line), "exec %" PRIu32 " %" PRIu32 "\n", timeout_ms, seq);
	if ((rc = reserve(h, (size_t)len)) < 0)
		return rc;
	append(h, line, (size_t)len);
	if ((rc = flush(h)) < 0)
		return rc;
	h->last_seq = seq;
	h->running = true;
	return seq;
}

static void
stop_polling(struct heuristics *h)
{
	if (h->loop == NULL)
		return;
	if (!h->dead) {
		qb_loop_poll_del(h->loop, h->result_fd);
		qb_loop_poll_del(h->loop, h->log_fd);
	}
	if (h->cmd_polled)
		qb_loop_poll_del(h->loop, h->cmd_fd);
	h->cmd_polled = false;
}

/*
 * Call done as the last thing a dispatch does. It may destroy h, which then
 * leaves the free to us. The return value is the dispatch's: -1 once the
 * entry was deleted (destroy or death), so libqb keeps it deleted.
 */
static int32_t
report(struct heuristics *h, uint32_t seq, enum heuristics_result r)
{
	bool gone;

	h->in_done = true;
	h->done(seq, r, h->arg);
	h->in_done = false;
	gone = h->free_pending || h->dead;
	if (h->free_pending)
		free(h);
	return gone ? -1 : 0;
}

static int32_t
worker_failed(struct heuristics *h)
{
	stop_polling(h);
	h->dead = true;
	h->running = false;
	h->out_len = 0;
	kill(-h->pid, SIGKILL);		/* its process group: it and its children */
	kill(h->pid, SIGKILL);		/* in case it had not reached setsid() */
	return report(h, 0, HEURISTICS_RESULT_FAIL);
}

static int
on_result_line(char *line, void *arg)
{
	struct heuristics *h = arg;
	uint32_t seq, r;

	if (heuristics_exec_parse_pair(line, "exec-result", &seq, &r) < 0 ||
	    r > HEURISTICS_RESULT_FAIL)
		return -EBADMSG;
	if (h->running && seq == h->last_seq) {	/* superseded runs end here */
		h->running = false;
		h->have_report = true;
		h->report_seq = seq;
		h->report = (enum heuristics_result)r;
	}
	return 0;
}

static int32_t
on_result(int32_t fd, int32_t revents, void *data)
{
	struct heuristics *h = data;
	int rc = heuristics_exec_read_lines(fd, &h->result_in, on_result_line, h);

	if (rc < 0 && rc != -EPIPE)
		return worker_failed(h);
	if (h->have_report) {		/* an end of file is still there next turn */
		h->have_report = false;
		return report(h, h->report_seq, h->report);
	}
	return rc < 0 ? worker_failed(h) : 0;
}

static int
on_log_line(char *line, void *arg)
{
	int prio = LOG_INFO;

	if (line[0] >= '0' && line[0] <= '7' && line[1] == ' ') {
		prio = line[0] - '0';
		line += 2;
	}
	qb_log_from_external_source(__func__, __FILE__, "heuristics worker: %s",
	    (uint8_t)prio, __LINE__, 0, line);
	return 0;
}

static int32_t
on_log(int32_t fd, int32_t revents, void *data)
{
	struct heuristics *h = data;

	if (heuristics_exec_read_lines(fd, &h->log_in, on_log_line, h) < 0)
		return worker_failed(h);
	return 0;
}

int
heuristics_attach(struct heuristics *h, qb_loop_t *loop, heuristics_done_fn done, void *arg)
{
	int rc;

	if (h == NULL || loop == NULL || done == NULL)
		return -EINVAL;
	if (h->loop != NULL)
		return -EALREADY;
	if (h->dead)
		return -EPIPE;
	if ((rc = qb_loop_poll_add(loop, QB_LOOP_MED, h->result_fd, POLLIN, h, on_result)) < 0)
		return rc;
	if ((rc = qb_loop_poll_add(loop, QB_LOOP_MED, h->log_fd, POLLIN, h, on_log)) < 0) {
		qb_loop_poll_del(loop, h->result_fd);
		return rc;
	}
	h->loop = loop;
	h->done = done;
	h->arg = arg;
	flush(h);	/* a dead worker shows up as end of file on result_fd */
	return 0;
}

bool
heuristics_running(const struct heuristics *h)
{
	return h != NULL && h->running;
}

pid_t
heuristics_worker_pid(const struct heuristics *h)
{
	return h != NULL ? h->pid : -1;
}

void
heuristics_destroy(struct heuristics *h)
{
	if (h == NULL)
		return;
	stop_polling(h);
	h->dead = true;
	close(h->cmd_fd);
	close(h->result_fd);
	close(h->log_fd);
	kill(-h->pid, SIGKILL);
	kill(h->pid, SIGKILL);
	/* ECHILD once we daemonized: the worker's parent was the process that exited. */
	while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(h->out);
	h->out = NULL;
	h->out_len = 0;
	if (h->in_done)
		h->free_pending = true;
	else
		free(h);
}
