/*
 * qnetd/dpd.h: dead-peer detection for all clients with a handful of
 * timers. dpd knows nothing of clients: each watched peer embeds a
 * struct dpd_entry, and the expiry callback gets that entry back
 * (DPD_OWNER finds the embedding struct).
 *
 * Entries with the same timeout share a group: a list ordered by the time
 * of their last message, so the head is always the next to expire and a
 * message just moves its sender to the tail, O(1). One qb_loop timer per
 * group is armed for its head.
 *
 * Why not a qb_loop timer per client: libqb finds a free timer slot by
 * scanning its timer array, O(timers) per add; re-arming ten thousand
 * per-client timers that way saturated qnetd (tests/bench). Its array
 * also holds at most 65536 timers, and libqb aborts past that.
 *
 * Bound: a timeout is rounded UP to the next of DPD_STEPS_PER_DOUBLING
 * steps between two powers of two (a peer may be dropped up to 1/16 late,
 * never early), so however many distinct timeouts peers ask for there are
 * at most DPD_GROUP_SLOTS groups, hence timers. A group is freed as soon
 * as it is empty. Finding a timeout's group is an array index.
 */
#ifndef QNETD_DPD_H
#define QNETD_DPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qblist.h>
#include <qb/qbloop.h>

#define DPD_STEPS_LOG2		4
#define DPD_STEPS_PER_DOUBLING	(1u << DPD_STEPS_LOG2)
/* Longer timeouts count as this (about 36 years). */
#define DPD_MAX_TIMEOUT_NS	(1ULL << 60)
/* Timeouts below 16 ns exactly, then 16 steps per doubling up to 2^60. */
#define DPD_GROUP_SLOTS		(DPD_STEPS_PER_DOUBLING * (60 - DPD_STEPS_LOG2 + 1) + \
				 DPD_STEPS_PER_DOUBLING)

struct dpd_group;
struct qnetd_dpd;

/* What dpd keeps of one watched peer; the peer's struct embeds it. */
struct dpd_entry {
	struct qb_list_head	 link;		/* in its group, oldest message first */
	struct dpd_group	*group;		/* NULL: not tracked */
	uint64_t		 last_msg_ns;
};

/* The struct of type `type` whose member `member` is the entry e. */
#define DPD_OWNER(e, type, member) \
	((type *)(void *)((char *)(e) - offsetof(type, member)))

/*
 * e has been silent for idle_ns (at least its timeout). dpd has already
 * stopped tracking it, so the callback may free its owner. Return true
 * when it is being dropped; false to keep it (it has input we have not
 * read yet): it is then tracked again as having sent a message now
 * (unless the callback tracked it itself). The callback may track,
 * touch and untrack any entry.
 */
typedef bool (*dpd_expired_fn)(struct dpd_entry *e, uint64_t idle_ns);
/* The monotonic clock in ns, the one the rest of the daemon uses. */
typedef uint64_t (*dpd_clock_fn)(void);

struct qnetd_dpd {
	qb_loop_t		*loop;
	dpd_clock_fn		 now;
	dpd_expired_fn		 expired;
	size_t			 group_count;
	struct dpd_group	*groups[DPD_GROUP_SLOTS];	/* by rounded timeout */
};

void	qnetd_dpd_init(struct qnetd_dpd *d, qb_loop_t *loop, dpd_clock_fn now,
	    dpd_expired_fn expired);
/* Frees every group; entries still tracked are left untracked. */
void	qnetd_dpd_fini(struct qnetd_dpd *d);
void	dpd_entry_init(struct dpd_entry *e);
/*
 * (Re)track e with a new timeout (rounded up, see above), as if it had
 * just sent a message. 0, or -ENOMEM (e is then untracked).
 */
int	qnetd_dpd_track(struct qnetd_dpd *d, struct dpd_entry *e, uint64_t timeout_ns);
/* e's peer sent a message at now_ns. */
void	qnetd_dpd_touch(struct dpd_entry *e, uint64_t now_ns);
void	qnetd_dpd_untrack(struct dpd_entry *e);
/* The timeout a group uses for timeout_ns: the next step up. */
uint64_t	qnetd_dpd_rounded_timeout(uint64_t timeout_ns);
/* Groups (each with at most one timer) now allocated. */
size_t	qnetd_dpd_group_count(const struct qnetd_dpd *d);

#endif
