/* common/hooks.c: asynchronous event hook processes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"

extern char **environ;

#define REAP_INTERVAL_NS	(50ULL * 1000000ULL)

struct hook_proc {
	pid_t		pid;
	uint64_t	deadline_ns;
	bool		killed;
};

struct hooks {
	qb_loop_t		*loop;
	char			*program;
	uint64_t		 timeout_ns;
	uint32_t		 max_running;
	struct hook_proc	*procs;		/* max_running slots; pid 0 = free */
	uint32_t		 running;
	uint64_t		 dropped;
	uint64_t		 timed_out;
	qb_loop_timer_handle	 timer;
	bool			 timer_armed;
};

/*
 * A hook runs in a process group of its own, so a timeout also ends what
 * it started (a pipeline, a background command). Its pid stays the group
 * id while it is unreaped, so the group cannot be someone else's.
 */
static void
kill_hook(pid_t pid)
{
	if (kill(-pid, SIGKILL) != 0)
		kill(pid, SIGKILL);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int
hooks_create(struct hooks **out, qb_loop_t *loop, const char *program,
    uint32_t timeout_ms, uint32_t max_running)
{
	struct hooks *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (h == NULL)
		return -ENOMEM;
	h->loop = loop;
	h->timeout_ns = (uint64_t)timeout_ms * 1000000ULL;
	h->max_running = max_running ? max_running : 1;
	if (program != NULL && *program != '\0') {
		h->program = strdup(program);
		h->procs = calloc(h->max_running, sizeof(*h->procs));
		if (h->program == NULL || h->procs == NULL) {
			hooks_destroy(h);
			return -ENOMEM;
		}
	}
	*out = h;
	return 0;
}

/*
 * One look at every hook: reap those gone, kill those past their time.
 * Children are reaped by pid only, never with waitpid(-1): other parts of
 * the daemon (the heuristics worker) own children of their own.
 */
static void
sweep(struct hooks *h)
{
	uint64_t now = now_ns();
	pid_t r;

	for (uint32_t i = 0; i < h->max_running; i++) {
		struct hook_proc *p = &h->procs[i];

		if (p->pid == 0)
			continue;
		r = waitpid(p->pid, NULL, WNOHANG);
		if (r == p->pid || r < 0) {	/* r < 0: not ours to wait for any more */
			p->pid = 0;
			h->running--;
			continue;
		}
		if (!p->killed && now >= p->deadline_ns) {
			kill_hook(p->pid);
			p->killed = true;
			h->timed_out++;
		}
	}
}

static void
reap(void *data)
{
	struct hooks *h = data;

	h->timer_armed = false;
	sweep(h);
	if (h->running > 0 && qb_loop_timer_add(h->loop, QB_LOOP_LOW, REAP_INTERVAL_NS, h,
	    reap, &h->timer) == 0)
		h->timer_armed = true;
}

static char **
build_env(const char *event, const char *const *vars)
{
	size_t n_env = 0, n_vars = 0, k = 0;
	char **env;

	while (environ[n_env] != NULL)
		n_env++;
	while (vars != NULL && vars[n_vars] != NULL)
		n_vars++;
	env = calloc(n_env + n_vars + 2, sizeof(*env));
	if (env == NULL)
		return NULL;
	if (asprintf(&env[k++], "QNET_EVENT=%s", event) < 0) {
		free(env);
		return NULL;
	}
	for (size_t i = 0; i < n_vars; i++)
		env[k++] = (char *)vars[i];
	for (size_t i = 0; i < n_env; i++)
		if (strncmp(environ[i], "QNET_", 5) != 0)
			env[k++] = environ[i];
	return env;
}

int
hooks_run(struct hooks *h, const char *event, const char *const *vars)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t defaults;
	char *argv[3];
	char **env;
	uint32_t slot;
	pid_t pid;
	int r;

	if (h == NULL || h->program == NULL)
		return 0;
	if (h->running >= h->max_running) {
		h->dropped++;
		return -EBUSY;
	}
	/* posix_spawn reports a missing program only from the child on some
	 * platforms (and under valgrind): check here, so the caller can log it. */
	if (access(h->program, X_OK) != 0)
		return -errno;
	for (slot = 0; h->procs[slot].pid != 0; slot++)
		;
	env = build_env(event, vars);
	if (env == NULL)
		return -ENOMEM;
	argv[0] = h->program;
	argv[1] = (char *)event;
	argv[2] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	/* Its own process group (see kill_hook); SIGPIPE as a shell expects, not ignored as here. */
	posix_spawnattr_init(&attr);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, h->program, &fa, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(env[0]);
	free(env);
	if (r != 0)
		return -r;
	h->procs[slot].pid = pid;
	h->procs[slot].deadline_ns = now_ns() + h->timeout_ns;
	h->procs[slot].killed = false;
	h->running++;
	if (!h->timer_armed && qb_loop_timer_add(h->loop, QB_LOOP_LOW, REAP_INTERVAL_NS, h,
	    reap, &h->timer) == 0)
		h->timer_armed = true;
	return 0;
}

void
hooks_destroy(struct hooks *h)
{
	if (h == NULL)
		return;
	if (h->timer_armed)
		qb_loop_timer_del(h->loop, h->timer);
	/*
	 * Hooks still running get the rest of their time: the last events
	 * (a daemon that gives up and exits) are those an admin needs most.
	 */
	while (h->running > 0) {
		sweep(h);
		if (h->running > 0)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000L }, NULL);
	}
	free(h->procs);
	free(h->program);
	free(h);
}

uint32_t
hooks_running(const struct hooks *h)
{
	return h != NULL ? h->running : 0;
}

uint64_t
hooks_dropped(const struct hooks *h)
{
	return h != NULL ? h->dropped : 0;
}

uint64_t
hooks_timed_out(const struct hooks *h)
{
	return h != NULL ? h->timed_out : 0;
}
