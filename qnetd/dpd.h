/*
 * qnetd/dpd.h: dead-peer detection for all clients with a handful of
 * timers. Clients with the same timeout (coefficient x heartbeat) share a
 * group: a list ordered by the time of their last message, so the head is
 * always the next to expire and a message just moves its sender to the
 * tail, O(1). One qb_loop timer per group is armed for its head.
 *
 * Why not a qb_loop timer per client: libqb finds a free timer slot by
 * scanning its timer array, O(timers) per add; re-arming ten thousand
 * per-client timers that way saturated qnetd (tests/bench).
 */
#ifndef QNETD_DPD_H
#define QNETD_DPD_H

#include <stdbool.h>
#include <stdint.h>

#include <qb/qblist.h>
#include <qb/qbloop.h>

struct qnetd_client;

struct dpd_group {
	struct dpd_group	*next;
	struct qnetd_dpd	*dpd;
	uint64_t		 timeout_ns;
	struct qb_list_head	 clients;	/* oldest last message first */
	qb_loop_timer_handle	 timer;
	bool			 armed;
};

/*
 * c has been silent for idle_ns. Returns true when it is being dropped,
 * false to keep it (it has input we have not read yet): it then counts as
 * having sent a message now.
 */
typedef bool (*dpd_expired_fn)(struct qnetd_client *c, uint64_t idle_ns);

struct qnetd_dpd {
	qb_loop_t		*loop;
	struct dpd_group	*groups;
	dpd_expired_fn		 expired;
};

void	qnetd_dpd_init(struct qnetd_dpd *d, qb_loop_t *loop, dpd_expired_fn expired);
void	qnetd_dpd_fini(struct qnetd_dpd *d);
/* (Re)track c with a new timeout, as if it had just sent a message. 0 or -ENOMEM. */
int	qnetd_dpd_track(struct qnetd_dpd *d, struct qnetd_client *c, uint64_t timeout_ns);
/* c sent a message now. */
void	qnetd_dpd_touch(struct qnetd_client *c, uint64_t now_ns);
void	qnetd_dpd_untrack(struct qnetd_client *c);

#endif
