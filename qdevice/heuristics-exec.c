/*
 * qdevice/heuristics-exec.c: the heuristics worker (docs/protocol.md 4.4) and the
 * pure helpers it shares with heuristics.c. The worker reads exec-list-clear,
 * exec-list-add NAME CMD and exec TIMEOUT SEQ; it starts every command at once
 * and writes one exec-result per run that was not superseded. It logs only
 * by writing "PRIO text" lines to its log pipe, and leaves with _exit().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "qdevice/heuristics-exec.h"

int
heuristics_exec_split(const char *line, char ***argv_out)
{
	size_t len = strlen(line);
	/* Words need a separator between them: at most len / 2 + 1 of them, and
	 * their text plus one NUL each never exceeds len + 1 bytes. */
	size_t max_words = len / 2 + 1;
	char **argv, *out;
	size_t argc = 0;
	bool in_word = false, quoted = false, dangling = false;

	if (len >= HEURISTICS_LINE_MAX)
		return -EMSGSIZE;
	argv = malloc((max_words + 1) * sizeof(*argv) + len + 1);
	if (argv == NULL)
		return -ENOMEM;
	out = (char *)(argv + max_words + 1);
	for (const char *p = line; *p != '\0'; p++) {
		if (!quoted && isspace((unsigned char)*p)) {
			if (in_word)
				*out++ = '\0';
			in_word = false;
			continue;
		}
		if (!in_word) {
			argv[argc++] = out;
			in_word = true;
		}
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (*p == '\\' && *++p == '\0') {
			dangling = true;	/* trailing backslash */
			break;
		}
		*out++ = *p;
	}
	if (quoted || dangling) {
		free(argv);
		return -EINVAL;
	}
	if (in_word)
		*out = '\0';
	argv[argc] = NULL;
	*argv_out = argv;
	return (int)argc;
}

static bool
parse_u32(const char **s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)**s))
		return false;
	errno = 0;
	v = strtoul(*s, &end, 10);
	if (errno != 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	*s = end;
	return true;
}

int
heuristics_exec_parse_pair(const char *line, const char *verb, uint32_t *a, uint32_t *b)
{
	size_t vlen = strlen(verb);
	const char *p = line + vlen + 1;

	if (strncmp(line, verb, vlen) != 0 || line[vlen] != ' ')
		return -EBADMSG;
	if (!parse_u32(&p, a) || *p++ != ' ' || !parse_u32(&p, b) || *p != '\0')
		return -EBADMSG;
	return 0;
}

int
heuristics_exec_read_lines(int fd, struct heuristics_linebuf *lb, heuristics_line_fn fn,
    void *arg)
{
	for (;;) {
		ssize_t n = read(fd, lb->buf + lb->len, sizeof(lb->buf) - lb->len);
		char *start = lb->buf, *nl;
		size_t rest;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
		if (n == 0)
			return -EPIPE;
		lb->len += (size_t)n;
		while ((nl = memchr(start, '\n', lb->len - (size_t)(start - lb->buf))) != NULL) {
			int rc;

			*nl = '\0';
			if ((rc = fn(start, arg)) < 0)
				return rc;
			start = nl + 1;
		}
		rest = lb->len - (size_t)(start - lb->buf);
		if (rest == sizeof(lb->buf))
			return -EMSGSIZE;
		memmove(lb->buf, start, rest);
		lb->len = rest;
	}
}

/* ---- the worker process ---- */

struct exec_entry {
	char	 *name;
	char	**argv;		/* NULL if the command did not split */
	int	  argc;		/* or the split error */
};

struct proc {
	pid_t	pid;
	size_t	exec;		/* index into execs of list generation `gen` */
};

struct worker {
	int			 cmd_fd, result_fd, log_fd;
	struct heuristics_limits lim;
	struct exec_entry	*execs;		/* max_execs slots */
	size_t			 nexecs;
	uint64_t		 gen;		/* bumped by every exec-list-clear */
	bool			 active;	/* a run is outstanding */
	uint32_t		 seq;
	uint64_t		 run_gen, deadline_ms;
	struct proc		*procs;		/* the run's live children, max_execs */
	size_t			 nprocs;
	pid_t			*kill;		/* SIGTERMed, SIGKILLed each pass */
	size_t			 nkill;		/* nprocs + nkill <= max_processes */
	uint64_t		 next_pass_ms;
	bool			 quit;
	struct heuristics_linebuf in;
};

static void wlog(struct worker *w, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Best effort: a full log pipe drops the line rather than stall the worker. */
static void
wlog(struct worker *w, int prio, const char *fmt, ...)
{
	char line[HEURISTICS_LINE_MAX];
	int head = snprintf(line, sizeof(line), "%d ", prio);
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	va_end(ap);
	for (char *p = line; (p = strchr(p, '\n')) != NULL; )
		*p = ' ';
	len = strlen(line);
	line[len++] = '\n';
	if (write(w->log_fd, line, len) < 0 && errno == EPIPE)
		w->quit = true;
}

static void
send_result(struct worker *w, uint32_t seq, enum heuristics_result r)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "exec-result %u %d\n", seq, (int)r);
	ssize_t n;

	/* Blocking, and far below PIPE_BUF: written whole or not at all. */
	while ((n = write(w->result_fd, line, (size_t)len)) < 0 && errno == EINTR)
		;
	if (n != len)
		w->quit = true;
}

/* End the run's bookkeeping; its live children go to the kill list. */
static void
abandon_run(struct worker *w)
{
	if (w->nprocs > 0 && w->nkill == 0)
		w->next_pass_ms = clock_now_ms() + w->lim.kill_list_interval_ms;
	for (size_t i = 0; i < w->nprocs; i++) {
		kill(w->procs[i].pid, SIGTERM);
		if (w->nkill < w->lim.max_processes)
			w->kill[w->nkill++] = w->procs[i].pid;
		else
			kill(w->procs[i].pid, SIGKILL);	/* untracked; still reaped */
	}
	w->nprocs = 0;
	w->active = false;
}

static void
finish_run(struct worker *w, enum heuristics_result r)
{
	wlog(w, LOG_DEBUG, "run %u: %s", w->seq, heuristics_result_name(r));
	send_result(w, w->seq, r);
	abandon_run(w);
}

static const char *
proc_name(const struct worker *w, const struct proc *p)
{
	return w->run_gen == w->gen && p->exec < w->nexecs ? w->execs[p->exec].name : "?";
}

static int
null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
	return 0;
}

static void
child_exec(const struct worker *w, char *const argv[])
{
	sigset_t none;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);	/* ignored by the worker only: the timeout sends it */
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (null_stdio() < 0)
		_exit(1);
	if (w->lim.use_execvp)
		execvp(argv[0], argv);
	else
		execv(argv[0], argv);
	_exit(1);
}

static void
start_run(struct worker *w, uint32_t timeout_ms, uint32_t seq)
{
	if (w->active) {
		wlog(w, LOG_DEBUG, "run %u superseded by run %u", w->seq, seq);
		abandon_run(w);
	}
	w->seq = seq;
	w->active = true;
	w->run_gen = w->gen;
	w->deadline_ms = clock_now_ms() + timeout_ms;
	if (w->nexecs == 0) {
		finish_run(w, HEURISTICS_RESULT_DISABLED);
		return;
	}
	if (w->nexecs + w->nkill > w->lim.max_processes) {
		wlog(w, LOG_WARNING, "%zu processes still being killed, cannot start %zu more",
		    w->nkill, w->nexecs);
		finish_run(w, HEURISTICS_RESULT_FAIL);
		return;
	}
	for (size_t i = 0; i < w->nexecs; i++) {
		const struct exec_entry *e = &w->execs[i];
		pid_t pid;

		if (e->argc <= 0) {
			wlog(w, LOG_ERR, "exec_%s: %s command line", e->name,
			    e->argc == 0 ? "empty" : "unusable");
			finish_run(w, HEURISTICS_RESULT_FAIL);
			return;
		}
		if ((pid = fork()) < 0) {
			wlog(w, LOG_ERR, "exec_%s: fork: %s", e->name, strerror(errno));
			finish_run(w, HEURISTICS_RESULT_FAIL);
			return;
		}
		if (pid == 0)
			child_exec(w, e->argv);
		w->procs[w->nprocs++] = (struct proc){ pid, i };
	}
}

static void
reap(struct worker *w)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		size_t i;

		for (i = 0; i < w->nkill && w->kill[i] != pid; i++)
			;
		if (i < w->nkill) {
			w->kill[i] = w->kill[--w->nkill];
			continue;
		}
		for (i = 0; i < w->nprocs && w->procs[i].pid != pid; i++)
			;
		if (i == w->nprocs)
			continue;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			w->procs[i] = w->procs[--w->nprocs];
			if (w->nprocs == 0)
				finish_run(w, HEURISTICS_RESULT_PASS);
			continue;
		}
		if (WIFEXITED(st))
			wlog(w, LOG_INFO, "exec_%s exited with status %d",
			    proc_name(w, &w->procs[i]), WEXITSTATUS(st));
		else
			wlog(w, LOG_INFO, "exec_%s killed by signal %d",
			    proc_name(w, &w->procs[i]), WTERMSIG(st));
		w->procs[i] = w->procs[--w->nprocs];
		finish_run(w, HEURISTICS_RESULT_FAIL);
	}
}

static void
clear_execs(struct worker *w)
{
	for (size_t i = 0; i < w->nexecs; i++) {
		free(w->execs[i].name);
		free(w->execs[i].argv);
	}
	w->nexecs = 0;
	w->gen++;
}

static int
on_command(char *line, void *arg)
{
	struct worker *w = arg;
	uint32_t timeout_ms, seq;

	if (strcmp(line, "exec-list-clear") == 0) {
		clear_execs(w);
	} else if (strncmp(line, "exec-list-add ", 14) == 0) {
		char *name = line + 14, *cmd = strchr(name, ' ');
		struct exec_entry *e;

		if (cmd == NULL || w->nexecs == w->lim.max_execs) {
			wlog(w, LOG_ERR, "exec-list-add ignored: %s",
			    cmd == NULL ? "no command" : "list full");
			return 0;
		}
		*cmd++ = '\0';
		e = &w->execs[w->nexecs];
		if ((e->name = strdup(name)) == NULL)
			return -ENOMEM;
		e->argv = NULL;
		e->argc = heuristics_exec_split(cmd, &e->argv);
		if (e->argc < 0)
			wlog(w, LOG_ERR, "exec_%s: cannot split command line: %s",
			    name, strerror(-e->argc));
		w->nexecs++;
	} else if (heuristics_exec_parse_pair(line, "exec", &timeout_ms, &seq) == 0) {
		start_run(w, timeout_ms, seq);
	} else {
		wlog(w, LOG_ERR, "unknown command ignored: %.64s", line);
	}
	return 0;
}

static void
on_sigchld(int sig)
{
	(void)sig;			/* only to interrupt ppoll() */
}

/* Keep stdio (as /dev/null) and our pipes; drop what the daemon had open. */
static void
close_inherited(const struct worker *w)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fd;

	null_stdio();
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		fd = atoi(de->d_name);
		if (fd > 2 && fd != dirfd(d) && fd != w->cmd_fd && fd != w->result_fd &&
		    fd != w->log_fd)
			close(fd);
	}
	closedir(d);
}

void
heuristics_exec_worker_main(int cmd_fd, int result_fd, int log_fd,
    const struct heuristics_limits *lim)
{
	static const int reset[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM };
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_NOCLDSTOP };
	struct worker w = { .cmd_fd = cmd_fd, .result_fd = result_fd, .log_fd = log_fd,
	    .lim = *lim };
	sigset_t chld, none;

	close_inherited(&w);
	fcntl(cmd_fd, F_SETFL, fcntl(cmd_fd, F_GETFL) | O_NONBLOCK);
	fcntl(log_fd, F_SETFL, fcntl(log_fd, F_GETFL) | O_NONBLOCK);
	for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		signal(reset[i], SIG_DFL);
	/*
	 * A stop signal meant for the daemon reaches us too (systemd signals
	 * the whole unit, pkill matches our name): dying first would look to
	 * the daemon like a crashed worker and make its exit a failure. We end
	 * when the daemon closes our command pipe, or by its SIGKILL.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/*
	 * SIGTERM and SIGINT are also blocked outside ppoll() (where they are
	 * ignored all the same): a child inherits the mask with the SIG_IGN,
	 * and Linux discards an ignored signal unless it is blocked. Unblocked,
	 * the SIGTERM of a timeout or supersede that reached a child before
	 * child_exec() restored SIG_DFL was lost, and the command ran on until
	 * the next kill-list pass (5 s); blocked, it waits and ends the child
	 * as soon as child_exec() unblocks it.
	 */
	sigaddset(&chld, SIGTERM);
	sigaddset(&chld, SIGINT);
	sigprocmask(SIG_SETMASK, &chld, NULL);	/* delivered only inside ppoll() */
	sigaction(SIGCHLD, &sa, NULL);
	w.execs = calloc(lim->max_execs, sizeof(*w.execs));
	w.procs = calloc(lim->max_execs, sizeof(*w.procs));
	w.kill = calloc(lim->max_processes, sizeof(*w.kill));
	if (w.execs == NULL || w.procs == NULL || w.kill == NULL)
		_exit(1);

	while (!w.quit) {
		struct pollfd pfd = { .fd = cmd_fd, .events = POLLIN };
		struct timespec ts, *tsp = NULL;
		uint64_t now, wait_ms = UINT64_MAX;
		int n;

		reap(&w);
		now = clock_now_ms();
		if (w.active && now >= w.deadline_ms) {
			wlog(&w, LOG_INFO, "run %u timed out", w.seq);
			finish_run(&w, HEURISTICS_RESULT_FAIL);
		}
		if (w.nkill > 0 && now >= w.next_pass_ms) {
			for (size_t i = 0; i < w.nkill; i++)
				kill(w.kill[i], SIGKILL);
			w.next_pass_ms = now + w.lim.kill_list_interval_ms;
		}
		if (w.active)
			wait_ms = w.deadline_ms - now;
		if (w.nkill > 0 && w.next_pass_ms - now < wait_ms)
			wait_ms = w.next_pass_ms - now;
		if (wait_ms != UINT64_MAX) {
			ts.tv_sec = (time_t)(wait_ms / 1000);
			ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
			tsp = &ts;
		}
		n = ppoll(&pfd, 1, tsp, &none);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && heuristics_exec_read_lines(cmd_fd, &w.in, on_command, &w) < 0)
			break;
	}
	/* The daemon is gone (or told us to go): take every child down with us. */
	for (size_t i = 0; i < w.nprocs; i++)
		kill(w.procs[i].pid, SIGKILL);
	for (size_t i = 0; i < w.nkill; i++)
		kill(w.kill[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	_exit(0);
}
