/* qnetd/poll-set.c: an epoll set of client sockets inside the qb_loop. */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "poll-set.h"

/* Events handled per wakeup; the set stays readable if more are pending. */
#define BATCH	256

static int32_t
ready(int32_t fd, int32_t revents, void *data)
{
	struct poll_set *ps = data;
	struct epoll_event ev[BATCH];
	int n = epoll_wait(ps->epfd, ev, BATCH, 0);

	ps->batch++;

	/*
	 * A callback may only schedule a client's teardown, never free it
	 * (qnetd_client_disconnect defers to a job), so every data pointer
	 * of this batch stays valid until the loop ends.
	 */
	for (int i = 0; i < n; i++) {
		int rev = 0;

		if (ev[i].events & EPOLLIN)
			rev |= POLLIN;
		if (ev[i].events & EPOLLOUT)
			rev |= POLLOUT;
		if (ev[i].events & EPOLLHUP)
			rev |= POLLHUP;
		if (ev[i].events & EPOLLERR)
			rev |= POLLERR;
		ps->dispatch(ev[i].data.ptr, rev);
	}
	return 0;
}

int
poll_set_init(struct poll_set *ps, qb_loop_t *loop, poll_set_fn dispatch)
{
	int r;

	ps->loop = loop;
	ps->dispatch = dispatch;
	ps->batch = 0;
	ps->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ps->epfd < 0)
		return -errno;
	r = qb_loop_poll_add(loop, QB_LOOP_MED, ps->epfd, POLLIN, ps, ready);
	if (r != 0) {
		close(ps->epfd);
		ps->epfd = -1;
	}
	return r;
}

void
poll_set_fini(struct poll_set *ps)
{
	if (ps->epfd < 0)
		return;
	qb_loop_poll_del(ps->loop, ps->epfd);
	close(ps->epfd);
	ps->epfd = -1;
}

static int
ctl(struct poll_set *ps, int op, int fd, bool want_read, bool want_write, void *data)
{
	struct epoll_event ev = {
		.events = (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0),
		.data.ptr = data,
	};

	return epoll_ctl(ps->epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

int
poll_set_add(struct poll_set *ps, int fd, bool want_write, void *data)
{
	return ctl(ps, EPOLL_CTL_ADD, fd, true, want_write, data);
}

int
poll_set_mod(struct poll_set *ps, int fd, bool want_write, void *data)
{
	return ctl(ps, EPOLL_CTL_MOD, fd, true, want_write, data);
}

int
poll_set_mod_events(struct poll_set *ps, int fd, bool want_read, bool want_write, void *data)
{
	return ctl(ps, EPOLL_CTL_MOD, fd, want_read, want_write, data);
}

void
poll_set_del(struct poll_set *ps, int fd)
{
	struct epoll_event ev = { 0 };

	(void)epoll_ctl(ps->epfd, EPOLL_CTL_DEL, fd, &ev);
}
