/*
 * common/hooks.h: run the operator's event hook program asynchronously.
 * Each event starts `program EVENT` with the details in QNET_* environment
 * variables; the daemon never waits for it. A hook still running after
 * the timeout is killed.
 *
 * At most max_running hooks run at once. Further events wait in a queue
 * bounded to HOOKS_QUEUE_PER_SLOT x max_running events, and start in turn
 * per key (qnetd: the cluster name). When the queue is full, one key drops
 * its newest event (counted, and warned about in one summary line per
 * HOOKS_DROP_LOG_S seconds at most): the key whose waiting count times its
 * age place (1 for the oldest key waiting, by key_seq) is largest; of
 * equals the younger. So any number of new keys (names made at will) lose
 * before an old key's burst, and a key's flood, old or not, loses before
 * others' few events. Cost: O(keys waiting) per event.
 */
#ifndef QNET_HOOKS_H
#define QNET_HOOKS_H

#include <stdint.h>

#include <qb/qbloop.h>

#define HOOKS_QUEUE_PER_SLOT	8
#define HOOKS_DROP_LOG_S	10

struct hooks;

/* program NULL or "": hooks disabled (hooks_run does nothing). 0 or -errno. */
int	hooks_create(struct hooks **out, qb_loop_t *loop, const char *program,
	    uint32_t timeout_ms, uint32_t max_running);
/*
 * NULL-safe. Hooks still running, and events still waiting, get one hook
 * timeout from now to start; then those still running are killed (with
 * what they started) and those still waiting dropped.
 */
void	hooks_destroy(struct hooks *h);

/*
 * Start the hook for `event` now, or queue it; key (NULL: one shared key)
 * picks its turn in the queue, and key_seq is the key's age for the drop
 * rule above, the smaller the older (qnetd: the cluster's creation number;
 * the one given with the key's newest event counts). vars is a
 * NULL-terminated list of "NAME=value" strings added to the environment
 * (QNET_EVENT is added); both are copied. Returns 0 (started or queued), -EBUSY (this event was
 * dropped: the queue is full), or -errno when starting it failed. A queued
 * event that fails to start later is logged here.
 */
int	hooks_run(struct hooks *h, const char *key, uint64_t key_seq, const char *event,
	    const char *const *vars);

uint32_t	hooks_running(const struct hooks *h);
uint32_t	hooks_queued(const struct hooks *h);
uint64_t	hooks_dropped(const struct hooks *h);
uint64_t	hooks_timed_out(const struct hooks *h);

#endif
