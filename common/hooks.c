/* common/hooks.c: asynchronous event hook processes and their fair queue. */
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

#include <qb/qblog.h>

#include "clock.h"
#include "hooks.h"
#include "utils.h"

extern char **environ;

#define REAP_INTERVAL_NS	(50ULL * NS_PER_MS)
/* While events wait, a slot freed is noticed sooner. */
#define REAP_BUSY_INTERVAL_NS	(10ULL * NS_PER_MS)
#define DROP_LOG_NS		((uint64_t)HOOKS_DROP_LOG_S * 1000ULL * NS_PER_MS)

struct hook_proc {
	pid_t		pid;
	uint64_t	deadline_ns;
	bool		killed;
};

/* A waiting event: one allocation holding the strings it points to. */
struct hook_event {
	struct hook_event	*next;
	const char		*event;
	const char		**vars;		/* NULL-terminated */
};

/* The events of one key, while it has some waiting. */
struct hook_key {
	struct hook_key		*next;		/* turn order */
	struct hook_key		*junior;	/* standing order, in h->live or h->ended */
	struct hook_event	*head, *tail;
	uint32_t		 queued;
	uint64_t		 born;		/* hooks_run's key_born */
	bool			 ended;
	uint64_t		 life;		/* ended: how long it lasted */
	char			 name[];
};

struct hooks {
	qb_loop_t		*loop;
	char			*program;
	uint64_t		 timeout_ns;
	uint32_t		 max_running;
	struct hook_proc	*procs;		/* max_running slots; pid 0 = free */
	uint32_t		 running;
	/* keys with waiting events, the next to start first */
	struct hook_key		*keys_head, *keys_tail;
	/*
	 * The same keys in standing order (the drop rule in hooks.h): those
	 * whose owner lives, the earliest born first, and those whose owner
	 * ended, the longest lived first; clock is the largest key_born seen.
	 */
	struct hook_key		*live, *ended;
	uint64_t		 clock;
	uint32_t		 queued;
	uint32_t		 queue_cap;
	uint64_t		 dropped;
	uint64_t		 timed_out;
	/* the drop warning: at most one line per DROP_LOG_NS */
	uint64_t		 drops_unlogged;
	uint64_t		 drop_logged_ns;	/* 0: never */
	char			*last_drop;	/* "EVENT (key)" */
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

int
hooks_create(struct hooks **out, qb_loop_t *loop, const char *program,
    uint32_t timeout_ms, uint32_t max_running)
{
	struct hooks *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (h == NULL)
		return -ENOMEM;
	h->loop = loop;
	h->timeout_ns = (uint64_t)timeout_ms * NS_PER_MS;
	h->max_running = max_running ? max_running : 1;
	h->queue_cap = h->max_running * HOOKS_QUEUE_PER_SLOT;
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
 * The drop warning. The daemons share this module, and a queued event is
 * dropped long after its caller returned, so the summary is logged here:
 * the first drop at once, then at most one line per DROP_LOG_NS (force:
 * now, for the last drops before the queue went idle).
 */
static void
log_drops(struct hooks *h, bool force)
{
	uint64_t now = clock_now_ns();

	if (h->drops_unlogged == 0)
		return;
	if (!force && h->drop_logged_ns != 0 && now - h->drop_logged_ns < DROP_LOG_NS)
		return;
	qb_log(LOG_WARNING, "event hooks: %llu event(s) dropped since the last report, the "
	    "last %s: %u running, %u waiting (the limit); %llu dropped in all",
	    (unsigned long long)h->drops_unlogged, h->last_drop ? h->last_drop : "?",
	    h->running, h->queued, (unsigned long long)h->dropped);
	h->drops_unlogged = 0;
	h->drop_logged_ns = now;
}

static void
note_drop(struct hooks *h, const char *key, const char *event)
{
	char shown[UTILS_NAME_LOG_SIZE], *what = NULL;

	h->dropped++;
	h->drops_unlogged++;
	/* The key may be a peer's choice (a cluster name): escaped for the log. */
	if (*key != '\0')
		utils_name_for_log(shown, sizeof(shown), key, strlen(key));
	if (asprintf(&what, "%s (%s)", event, *key != '\0' ? shown : "-") >= 0) {
		free(h->last_drop);
		h->last_drop = what;
	}
	log_drops(h, false);
}

static struct hook_event *
event_copy(const char *event, const char *const *vars)
{
	size_t n = 0, size;
	struct hook_event *e;
	char *p;

	size = sizeof(*e) + strlen(event) + 1;
	for (; vars != NULL && vars[n] != NULL; n++)
		size += strlen(vars[n]) + 1;
	size += (n + 1) * sizeof(char *);
	e = malloc(size);
	if (e == NULL)
		return NULL;
	e->next = NULL;
	e->vars = (const char **)(e + 1);
	p = (char *)(e->vars + n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(vars[i]) + 1;

		memcpy(p, vars[i], len);
		e->vars[i] = p;
		p += len;
	}
	e->vars[n] = NULL;
	memcpy(p, event, strlen(event) + 1);
	e->event = p;
	return e;
}

static struct hook_key *
key_find(const struct hooks *h, const char *name)
{
	for (struct hook_key *k = h->keys_head; k != NULL; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static void
key_append(struct hooks *h, struct hook_key *k)
{
	k->next = NULL;
	if (h->keys_tail != NULL)
		h->keys_tail->next = k;
	else
		h->keys_head = k;
	h->keys_tail = k;
}

static void
key_unlink_head(struct hooks *h)
{
	struct hook_key *k = h->keys_head;

	h->keys_head = k->next;
	if (h->keys_head == NULL)
		h->keys_tail = NULL;
	k->next = NULL;
}

static struct hook_key **
standing_list(struct hooks *h, const struct hook_key *k)
{
	return k->ended ? &h->ended : &h->live;
}

static void
standing_unlink(struct hooks *h, struct hook_key *k)
{
	struct hook_key **pp = standing_list(h, k);

	while (*pp != k)
		pp = &(*pp)->junior;
	*pp = k->junior;
	k->junior = NULL;
}

/* After every key standing as high or higher (of equals, the newcomer is junior). */
static void
standing_insert(struct hooks *h, struct hook_key *k)
{
	struct hook_key **pp = standing_list(h, k);

	if (k->ended)
		while (*pp != NULL && (*pp)->life >= k->life)
			pp = &(*pp)->junior;
	else
		while (*pp != NULL && (*pp)->born <= k->born)
			pp = &(*pp)->junior;
	k->junior = *pp;
	*pp = k;
}

/* The key's owner as the caller reports it now: born anew, or ended. */
static void
standing_update(struct hooks *h, struct hook_key *k, uint64_t born, bool ending)
{
	if (k->born == born && k->ended == ending)
		return;
	standing_unlink(h, k);
	k->born = born;
	k->ended = ending;
	k->life = h->clock - born;
	standing_insert(h, k);
}

static uint64_t
key_life(const struct hooks *h, const struct hook_key *k)
{
	return k->ended ? k->life : h->clock - k->born;
}

/* A key without waiting events leaves both orders. */
static void
key_remove(struct hooks *h, struct hook_key *k)
{
	struct hook_key **pp = &h->keys_head, *prev = NULL;

	while (*pp != k) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = k->next;
	if (h->keys_tail == k)
		h->keys_tail = prev;
	standing_unlink(h, k);
	free(k);
}

/*
 * The key that gives up an event when the queue is full (hooks.h): the
 * largest waiting count times standing place (1: the longest lived key
 * waiting, live or ended); of equals the junior. Walks the two standing
 * lists merged, by life now: many short-lived keys of a few events each
 * rank above a lasting key's burst, and a key's flood ranks above them
 * all once it holds more than its place's share.
 */
static struct hook_key *
key_victim(const struct hooks *h)
{
	struct hook_key *live = h->live, *ended = h->ended, *k, *victim = NULL;
	uint64_t place = 0, worst = 0;

	while (live != NULL || ended != NULL) {
		uint64_t claim;

		if (ended == NULL || (live != NULL && key_life(h, live) >= ended->life)) {
			k = live;
			live = live->junior;
		} else {
			k = ended;
			ended = ended->junior;
		}
		claim = (uint64_t)k->queued * ++place;
		if (victim == NULL || claim >= worst) {
			victim = k;
			worst = claim;
		}
	}
	return victim;
}

/* Drop the newest waiting event of k (queue full: see hooks.h). */
static void
drop_newest(struct hooks *h, struct hook_key *k)
{
	struct hook_event *e = k->tail, **pp = &k->head, *prev = NULL;

	while (*pp != e) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = NULL;
	k->tail = prev;
	k->queued--;
	h->queued--;
	note_drop(h, k->name, e->event);
	free(e);
	if (k->queued == 0)
		key_remove(h, k);
}

/*
 * Queue the event; when that overfills the queue, the victim key (maybe
 * this one: then it is this event) gives up its newest. 0 or -EBUSY/-ENOMEM.
 */
static int
enqueue(struct hooks *h, const char *key, uint64_t key_born, bool key_ending,
    const char *event, const char *const *vars)
{
	struct hook_key *k = key_find(h, key), *victim;
	struct hook_event *e = event_copy(event, vars);
	bool mine;

	if (e == NULL)
		return -ENOMEM;
	if (k == NULL) {
		size_t len = strlen(key) + 1;

		k = malloc(sizeof(*k) + len);
		if (k == NULL) {
			free(e);
			return -ENOMEM;
		}
		memcpy(k->name, key, len);
		k->head = k->tail = NULL;
		k->queued = 0;
		k->born = key_born;
		k->ended = key_ending;
		k->life = h->clock - key_born;
		key_append(h, k);
		standing_insert(h, k);
	} else {
		standing_update(h, k, key_born, key_ending);
	}
	if (k->tail != NULL)
		k->tail->next = e;
	else
		k->head = e;
	k->tail = e;
	k->queued++;
	h->queued++;
	if (h->queued <= h->queue_cap)
		return 0;
	victim = key_victim(h);
	mine = victim == k;
	drop_newest(h, victim);		/* may free k */
	return mine ? -EBUSY : 0;
}

/* The oldest event of the key whose turn it is; that key goes to the back. */
static struct hook_event *
dequeue(struct hooks *h)
{
	struct hook_key *k = h->keys_head;
	struct hook_event *e;

	if (k == NULL)
		return NULL;
	e = k->head;
	k->head = e->next;
	if (k->head == NULL)
		k->tail = NULL;
	k->queued--;
	h->queued--;
	key_unlink_head(h);
	if (k->queued > 0) {
		key_append(h, k);
	} else {
		standing_unlink(h, k);
		free(k);
	}
	return e;
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

/* Start the program in a free slot (there is one). 0 or -errno. */
static int
spawn(struct hooks *h, const char *event, const char *const *vars)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t defaults;
	char *argv[3];
	char **env;
	uint32_t slot;
	pid_t pid;
	int r;

	/* posix_spawn reports a missing program only from the child on some
	 * platforms (and under valgrind): check here, so the failure is seen. */
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
	h->procs[slot].deadline_ns = clock_now_ns() + h->timeout_ns;
	h->procs[slot].killed = false;
	h->running++;
	return 0;
}

/* Waiting events into the free slots, in turn per key. */
static void
start_waiting(struct hooks *h)
{
	while (h->running < h->max_running && h->queued > 0) {
		struct hook_event *e = dequeue(h);
		int r = spawn(h, e->event, e->vars);

		if (r < 0)
			qb_log(LOG_WARNING, "cannot start the event hook for %s: %s", e->event,
			    strerror(-r));
		free(e);
	}
}

/*
 * One look at every hook: reap those gone, kill those past their time.
 * Children are reaped by pid only, never with waitpid(-1): other parts of
 * the daemon (the heuristics worker) own children of their own.
 */
static void
sweep(struct hooks *h)
{
	uint64_t now = clock_now_ns();
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

static void	reap(void *data);

static void
arm_reap(struct hooks *h)
{
	uint64_t interval = h->queued > 0 ? REAP_BUSY_INTERVAL_NS : REAP_INTERVAL_NS;

	if (h->timer_armed || h->running == 0)
		return;
	if (qb_loop_timer_add(h->loop, QB_LOOP_LOW, interval, h, reap, &h->timer) == 0)
		h->timer_armed = true;
}

static void
reap(void *data)
{
	struct hooks *h = data;

	h->timer_armed = false;
	sweep(h);
	start_waiting(h);
	arm_reap(h);
	/* Idle again: the last drops are reported now, not with the next burst. */
	log_drops(h, !h->timer_armed);
}

int
hooks_run(struct hooks *h, const char *key, uint64_t key_born, bool key_ending,
    const char *event, const char *const *vars)
{
	int r;

	if (h == NULL || h->program == NULL)
		return 0;
	if (key == NULL)
		key = "";
	if (key_born > h->clock)
		h->clock = key_born;
	if (h->running >= h->max_running || h->queued > 0) {
		/* Behind those already waiting, never past them. */
		r = enqueue(h, key, key_born, key_ending, event, vars);
		arm_reap(h);
		return r;
	}
	r = spawn(h, event, vars);
	if (r == 0)
		arm_reap(h);
	return r;
}

void
hooks_destroy(struct hooks *h)
{
	uint64_t start_by;

	if (h == NULL)
		return;
	if (h->timer_armed)
		qb_loop_timer_del(h->loop, h->timer);
	/*
	 * The last events (a daemon that gives up and exits) are those an
	 * admin needs most: hooks running get the rest of their time, and
	 * events waiting one hook timeout to get a slot.
	 */
	start_by = clock_now_ns() + h->timeout_ns;
	while (h->running > 0 || h->queued > 0) {
		sweep(h);
		if (clock_now_ns() < start_by) {
			start_waiting(h);
		} else {
			struct hook_event *e;

			while ((e = dequeue(h)) != NULL) {
				note_drop(h, "", e->event);
				free(e);
			}
		}
		if (h->running > 0)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000L }, NULL);
	}
	log_drops(h, true);
	free(h->last_drop);
	free(h->procs);
	free(h->program);
	free(h);
}

uint32_t
hooks_running(const struct hooks *h)
{
	return h != NULL ? h->running : 0;
}

uint32_t
hooks_queued(const struct hooks *h)
{
	return h != NULL ? h->queued : 0;
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
