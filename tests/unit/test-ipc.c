/*
 * tests/unit/test-ipc.c: the admin socket server of common/ipc.c on a real
 * qb_loop. The client side runs from timers of the same loop, on
 * nonblocking sockets, so each step happens at a known point of the loop.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <qb/qbloop.h>

#include "common/ipc.h"
#include "tests/unit/loop-run.h"

#define MS	1000000ULL

struct fixture {
	qb_loop_t		*loop;
	struct ipc_server	*srv;
	char			 dir[64];
	char			 path[128];
	int			 idle[2];	/* connect and never send */
	int			 late;		/* over max_clients while idle[] hold the slots */
	int			 tool;		/* a real request once the idle ones expired */
	char			 reply[256];
	int			 step_failed;
};

static enum ipc_reply
answer(char **words, int count, FILE *out, void *arg)
{
	(void)arg;
	fprintf(out, "%d word(s), first %s\n", count, words[0]);
	return IPC_REPLY_OK;
}

/* What both tests' servers share; each adds its command and limits. */
static const struct ipc_server_config base_cfg = {
	.backlog = 8,
	.max_receive = 1024,
	.max_send = 4096,
	.umask = -1,
	.gid = -1,
};

/* cfg's server on dir/sock, dir a fresh temporary directory; returns its new loop. */
static qb_loop_t *
start_server(struct ipc_server_config *cfg, char dir[64], char path[128],
    struct ipc_server **srv)
{
	qb_loop_t *loop;

	snprintf(dir, 64, "/tmp/test-ipc.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, 128, "%s/sock", dir);
	cfg->path = path;
	loop = qb_loop_create();
	assert_non_null(loop);
	assert_int_equal(ipc_server_create(srv, loop, cfg), 0);
	return loop;
}

static void
stop_server(struct ipc_server *srv, qb_loop_t *loop, const char *dir)
{
	ipc_server_destroy(srv);
	qb_loop_destroy(loop);
	rmdir(dir);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* 1: the server closed fd (EOF), 0: open and silent, -1: it sent data. */
static int
closed_by_server(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	return -1;
}

static void
connect_idle(void *data)
{
	struct fixture *f = data;

	f->idle[0] = connect_to(f->path);
	f->idle[1] = connect_to(f->path);
}

/* Both slots are held: a third connection is closed at once. */
static void
connect_late(void *data)
{
	struct fixture *f = data;

	f->late = connect_to(f->path);
}

/* Well before the lifetime: the idle ones are still open. */
static void
check_still_open(void *data)
{
	struct fixture *f = data;

	if (closed_by_server(f->idle[0]) != 0 || closed_by_server(f->idle[1]) != 0)
		f->step_failed = 1;
}

/*
 * The steps below wait for something the server must do; they look again
 * every RETRY ms (a loaded machine may run the loop late) up to GIVE_UP.
 */
#define RETRY_NS	(20 * MS)
#define GIVE_UP		250

static void	ask(void *data);
static void	read_answer(void *data);

static void
again(struct fixture *f, int *tries, void (*next)(void *), int failure)
{
	qb_loop_timer_handle t;

	if (++*tries > GIVE_UP) {
		f->step_failed = failure;
		qb_loop_stop(f->loop);
		return;
	}
	assert_int_equal(qb_loop_timer_add(f->loop, QB_LOOP_LOW, RETRY_NS, f, next, &t), 0);
}

/* The lifetime is over: both closed (and the late one refused), then a tool asks. */
static void
ask(void *data)
{
	static int tries;
	struct fixture *f = data;
	qb_loop_timer_handle t;

	if (closed_by_server(f->late) != 1 || closed_by_server(f->idle[0]) != 1 ||
	    closed_by_server(f->idle[1]) != 1) {
		again(f, &tries, ask, 2);
		return;
	}
	f->tool = connect_to(f->path);
	if (send(f->tool, "status verbose\n", 15, MSG_NOSIGNAL) != 15)
		f->step_failed = 3;
	assert_int_equal(qb_loop_timer_add(f->loop, QB_LOOP_LOW, RETRY_NS, f, read_answer, &t),
	    0);
}

static void
read_answer(void *data)
{
	static int tries;
	static size_t got;
	struct fixture *f = data;
	ssize_t n = recv(f->tool, f->reply + got, sizeof(f->reply) - 1 - got, MSG_DONTWAIT);

	if (n > 0) {
		got += (size_t)n;
		f->reply[got] = '\0';
	}
	if (n != 0) {	/* the reply ends when the server closes */
		again(f, &tries, read_answer, 4);
		return;
	}
	qb_loop_stop(f->loop);
}

static void
idle_clients_expire(void **state)
{
	struct fixture f = { .idle = { -1, -1 }, .late = -1, .tool = -1 };
	struct ipc_server_config cfg = base_cfg;
	qb_loop_timer_handle t;

	(void)state;
	cfg.max_clients = 2;
	cfg.conn_timeout_ms = 300;
	cfg.command = answer;
	f.loop = start_server(&cfg, f.dir, f.path, &f.srv);

	assert_int_equal(qb_loop_timer_add(f.loop, QB_LOOP_LOW, 1 * MS, &f, connect_idle, &t), 0);
	assert_int_equal(qb_loop_timer_add(f.loop, QB_LOOP_LOW, 50 * MS, &f, connect_late, &t), 0);
	assert_int_equal(qb_loop_timer_add(f.loop, QB_LOOP_LOW, 150 * MS, &f, check_still_open,
	    &t), 0);
	assert_int_equal(qb_loop_timer_add(f.loop, QB_LOOP_LOW, 300 * MS, &f, ask, &t), 0);
	qb_loop_run(f.loop);

	assert_int_equal(f.step_failed, 0);
	assert_string_equal(f.reply, "OK\n2 word(s), first status\n");
	close(f.idle[0]);
	close(f.idle[1]);
	close(f.late);
	close(f.tool);
	stop_server(f.srv, f.loop, f.dir);
}

/* The command asked to be answered apart: says which process composed the reply. */
static enum ipc_reply
answer_with_pid(char **words, int count, FILE *out, void *arg)
{
	(void)words;
	(void)count;
	(void)arg;
	fprintf(out, "pid %ld\n", (long)getpid());
	return IPC_REPLY_OK;
}

static bool
apart_if_list(char **words, int count, void *arg)
{
	(void)count;
	(void)arg;
	return strcmp(words[0], "list") == 0;
}

struct apart_fixture {
	qb_loop_t	*loop;
	const char	*path;
	int		 tool;
};

static void
send_list(void *data)
{
	struct apart_fixture *a = data;

	a->tool = connect_to(a->path);
	assert_int_equal(send(a->tool, "list\n", 5, MSG_NOSIGNAL), 5);
}

/*
 * A command the daemon wants answered apart is composed by another process
 * (its reply names another pid), which writes the whole reply and closes;
 * the server's loop has nothing left of the connection.
 */
static void
slow_commands_are_answered_apart(void **state)
{
	struct ipc_server_config cfg = base_cfg;
	char dir[64], path[128], reply[256], want[64];
	struct apart_fixture a = { .tool = -1 };
	struct ipc_server *srv;
	qb_loop_timer_handle t;
	size_t got = 0;

	(void)state;
	cfg.command = answer_with_pid;
	cfg.answer_apart = apart_if_list;
	a.path = path;
	a.loop = start_server(&cfg, dir, path, &srv);
	assert_int_equal(qb_loop_timer_add(a.loop, QB_LOOP_LOW, 1 * MS, &a, send_list, &t), 0);
	loop_run_ms(a.loop, 200);
	/* The answering process writes on its own: read to its end, loop stopped. */
	for (;;) {
		struct pollfd p = { .fd = a.tool, .events = POLLIN };
		ssize_t n;

		assert_int_equal(poll(&p, 1, 10000), 1);
		n = recv(a.tool, reply + got, sizeof(reply) - 1 - got, 0);
		if (n < 0 && errno == EAGAIN)
			continue;
		assert_true(n >= 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	reply[got] = '\0';
	snprintf(want, sizeof(want), "OK\npid %ld\n", (long)getpid());
	assert_true(strncmp(reply, "OK\npid ", 7) == 0);
	assert_string_not_equal(reply, want);
	close(a.tool);
	stop_server(srv, a.loop, dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idle_clients_expire),
		cmocka_unit_test(slow_commands_are_answered_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
