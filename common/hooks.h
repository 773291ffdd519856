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
 * standing place is largest, of equals the later placed. Keys stand by how
 * long their owner has lived (or lived, once ended), the longest first. So
 * any number of short-lived keys (names made at will) lose before a lasting
 * key's burst, while a key's flood, however old, loses before others' few
 * events. Cost: O(keys waiting) per event.
 */
#ifndef QNET_HOOKS_H
#define QNET_HOOKS_H

#include <stdbool.h>
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
 * picks its turn in the queue. key_born is when the key's owner began on
 * the caller's clock, which is read as the largest key_born passed so far
 * (qnetd: the cluster's creation number), and key_ending says the owner
 * ends with this event; the values given with a key's newest event hold.
 * vars is a NULL-terminated list of "NAME=value" strings added to the
 * environment (QNET_EVENT is added); both are copied. Returns 0 (started or queued), -EBUSY (this event was
 * dropped: the queue is full), or -errno when starting it failed. A queued
 * event that fails to start later is logged here.
 */
int	hooks_run(struct hooks *h, const char *key, uint64_t key_born, bool key_ending,
	    const char *event, const char *const *vars);

uint32_t	hooks_running(const struct hooks *h);
uint32_t	hooks_queued(const struct hooks *h);
uint64_t	hooks_dropped(const struct hooks *h);
uint64_t	hooks_timed_out(const struct hooks *h);

#endif
