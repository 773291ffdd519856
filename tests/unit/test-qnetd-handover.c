/*
 * tests/unit/test-qnetd-handover.c: the front's hand-over of clients to a
 * worker process when the worker's control socket is full. A socketpair
 * stands in for the worker, which reads nothing at first: every client
 * must still reach it, in order, once it reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <qb/qblog.h>

#include "qnetd/client.h"
#include "qnetd/instance.h"
#include "qnetd/shard.h"
#include "tests/unit/qnetd-fixture.h"

#define CLIENTS		300
#define MS		1000000ULL

struct fixture {
	struct qnetd_fixture	 q;
	struct shard_front	 front;
	int			 worker_end;	/* what the worker would read */
	int			 client_sock[2];	/* every client's socket, for SCM_RIGHTS */
	unsigned		 received;
	bool			 in_order;
	unsigned		 ticks;
};

/* Everything that waits at the worker's end: CONN messages, their fds closed. */
static void
worker_reads(struct fixture *f)
{
	for (;;) {
		uint8_t buf[256];
		union {
			struct cmsghdr	align;
			char		buf[CMSG_SPACE(sizeof(int))];
		} control;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
		};
		struct cmsghdr *cm;
		ssize_t n = recvmsg(f->worker_end, &mh, MSG_DONTWAIT);
		size_t addr_len;
		unsigned index;
		int fd;

		if (n < 0)
			return;
		assert_true(n > 3);
		assert_int_equal(buf[0], SHARD_MSG_CONN);
		cm = CMSG_FIRSTHDR(&mh);
		assert_non_null(cm);
		memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		close(fd);
		addr_len = (size_t)buf[1] << 8 | buf[2];
		assert_true(3 + addr_len + sizeof(index) <= (size_t)n);
		memcpy(&index, buf + 3 + addr_len, sizeof(index));
		if (index != f->received)
			f->in_order = false;
		f->received++;
	}
}

static void
tick(void *data)
{
	struct fixture *f = data;
	qb_loop_timer_handle t;

	worker_reads(f);
	if (f->received == CLIENTS || ++f->ticks > 5000) {
		qb_loop_stop(f->q.loop);
		return;
	}
	assert_int_equal(qb_loop_timer_add(f->q.loop, QB_LOOP_LOW, MS, f, tick, &t), 0);
}

static void
busy_worker_gets_every_client_in_order(void **state)
{
	struct fixture f = { .in_order = true };
	struct shard_worker_proc *w = &f.front.workers[0];
	int ctl[2], small = 4096;
	struct rlimit rl;
	qb_loop_timer_handle t;
	uint32_t most_waiting = 0;

	(void)state;
	/* In-flight descriptors count against the open file limit. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);

	qnetd_fixture_init(&f.q);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl), 0);
	assert_int_equal(setsockopt(ctl[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f.client_sock), 0);
	f.worker_end = ctl[1];
	f.front.count = 1;
	w->fd = ctl[0];
	assert_int_equal(shard_front_attach(&f.front, &f.q.inst), 0);

	for (unsigned i = 0; i < CLIENTS; i++) {
		struct qnetd_client *c = qnetd_client_create(&f.q.inst.conns, NULL, "192.0.2.7:5403");
		uint8_t preinit[16] = { 0 };

		assert_non_null(c);
		c->native_fd = f.client_sock[0];
		c->cluster_name = strdup("busy");
		assert_non_null(c->cluster_name);
		c->cluster_name_len = 4;
		memcpy(preinit, &i, sizeof(i));
		shard_front_route(&f.front, c, preinit, sizeof(preinit));
		assert_true(c->closing);	/* forgotten by the front, handed over or waiting */
		if (w->pending_count > most_waiting)
			most_waiting = w->pending_count;
	}
	/* The socket filled up: hand-overs waited instead of being dropped. */
	assert_true(most_waiting > 0);
	assert_int_equal(w->clients, CLIENTS);

	/* The worker reads now; what waits goes out as its socket drains. */
	assert_int_equal(qb_loop_timer_add(f.q.loop, QB_LOOP_LOW, MS, &f, tick, &t), 0);
	qb_loop_run(f.q.loop);
	assert_int_equal(f.received, CLIENTS);
	assert_true(f.in_order);
	assert_int_equal(w->pending_count, 0);
	assert_null(w->pending_head);
	assert_int_equal(w->clients, CLIENTS);

	w->pid = 0;
	shard_front_stop(&f.front);	/* closes the front's end */
	qnetd_fixture_fini(&f.q);
	close(f.worker_end);
	close(f.client_sock[0]);
	close(f.client_sock[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(busy_worker_gets_every_client_in_order),
	};

	/* Keep the daemon's log lines out of the test output. */
	qb_log_init("test-qnetd-handover", LOG_DAEMON, LOG_CRIT);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	return cmocka_run_group_tests_name("qnetd-handover", tests, NULL, NULL);
}
