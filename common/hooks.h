/*
 * common/hooks.h: run the operator's event hook program asynchronously.
 * Each event starts `program EVENT` with the details in QNET_* environment
 * variables; the daemon never waits for it. A hook still running after
 * the timeout is killed; when too many run at once, new events are
 * dropped (and counted) rather than queued without bound.
 */
#ifndef QNET_HOOKS_H
#define QNET_HOOKS_H

#include <stdint.h>

#include <qb/qbloop.h>

struct hooks;

/* program NULL or "": hooks disabled (hooks_run does nothing). 0 or -errno. */
int	hooks_create(struct hooks **out, qb_loop_t *loop, const char *program,
	    uint32_t timeout_ms, uint32_t max_running);
/*
 * NULL-safe. Waits for hooks still running, each until its time limit,
 * then kills (with what they started) those still running.
 */
void	hooks_destroy(struct hooks *h);

/*
 * Start the hook for `event`; vars is a NULL-terminated list of
 * "NAME=value" strings added to the environment (QNET_EVENT is added).
 * Returns 0, or -EBUSY (too many running), -errno on spawn failure.
 */
int	hooks_run(struct hooks *h, const char *event, const char *const *vars);

uint32_t	hooks_running(const struct hooks *h);
uint64_t	hooks_dropped(const struct hooks *h);
uint64_t	hooks_timed_out(const struct hooks *h);

#endif
