/*
 * qnetd/poll-set.h: the clients' sockets in one epoll set of our own,
 * nested in the qb_loop as a single descriptor.
 *
 * Why not qb_loop_poll_add() per client: libqb keeps poll entries (and
 * timers) in an array that it scans on every add to find a free slot and
 * check descriptor usage, so each accept costs O(clients); measured with
 * tests/bench at 10,000 clients that dominated qnetd's CPU. epoll_ctl is
 * O(1), and one qb_loop entry dispatches the whole set.
 */
#ifndef QNETD_POLL_SET_H
#define QNETD_POLL_SET_H

#include <stdbool.h>
#include <stdint.h>

#include <qb/qbloop.h>

/* Called with poll(2)-style revents (POLLIN, POLLOUT, POLLHUP, POLLERR). */
typedef void (*poll_set_fn)(void *data, int revents);

struct poll_set {
	int		 epfd;
	qb_loop_t	*loop;
	poll_set_fn	 dispatch;
	uint64_t	 batch;		/* counts wakeups: callbacks tell batches apart */
};

/* 0 or -errno. */
int	poll_set_init(struct poll_set *ps, qb_loop_t *loop, poll_set_fn dispatch);
void	poll_set_fini(struct poll_set *ps);
int	poll_set_add(struct poll_set *ps, int fd, bool want_write, void *data);
int	poll_set_mod(struct poll_set *ps, int fd, bool want_write, void *data);
/* As poll_set_mod; want_read false: no POLLIN (POLLHUP and POLLERR still come). */
int	poll_set_mod_events(struct poll_set *ps, int fd, bool want_read, bool want_write,
	    void *data);
void	poll_set_del(struct poll_set *ps, int fd);

#endif
