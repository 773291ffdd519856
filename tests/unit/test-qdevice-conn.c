/*
 * tests/unit/test-qdevice-conn.c: qdevice's connection layer
 * (qdevice/conn.c) on a real qb_loop against a plain TCP peer on
 * 127.0.0.1: framing across partial reads, the receive cap, the peer
 * going away, that connect attempts against a dead port leave no
 * descriptor behind (qdevice retries forever while qnetd is down), that
 * the socket is not inherited by programs qdevice starts, and the walk
 * over several hosts and addresses (a refused or silent address gives
 * way to the next; the last one waits for the caller's timer).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <qb/qbloop.h>

#include "common/msg.h"
#include "common/nss-sock.h"
#include "common/tlv.h"
#include "qdevice/conn.h"
#include "tests/unit/loop-run.h"
#include "tests/unit/msg-builders.h"
#include "tests/unit/nss-group.h"
#include "test-util.h"

struct fx {
	qb_loop_t	*loop;
	int		 listen_fd;
	uint16_t	 port;
	int		 peer;		/* accepted server side, -1 none */
	struct conn	*conn;
	int		 connected;
	int		 messages;
	uint8_t		 last[256];
	size_t		 last_len;
	int		 failed;
	enum disconnect_reason reason;
	bool		 destroy_on_message;
	int		 tried;
	int		 address_failures;
	char		 why[160];	/* of the last address failure */
};

/*
 * The linker sends conn.c's nss_sock_resolve() here (-Wl,--wrap): the
 * name "two.test" stands for a host with two IPv4 addresses, in this
 * order, which no resolver of the test machine can be relied on to give.
 */
int	__real_nss_sock_resolve(const char *host, uint16_t port, int family,
	    PRNetAddr **addrs, size_t *count);
int	__wrap_nss_sock_resolve(const char *host, uint16_t port, int family,
	    PRNetAddr **addrs, size_t *count);

int
__wrap_nss_sock_resolve(const char *host, uint16_t port, int family, PRNetAddr **addrs,
    size_t *count)
{
	static const char *const two[] = { "127.0.0.2", "127.0.0.1" };

	if (strcmp(host, "two.test") != 0 || family == 6)
		return __real_nss_sock_resolve(host, port, family, addrs, count);
	*addrs = calloc(2, sizeof(**addrs));
	assert_non_null(*addrs);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(PR_StringToNetAddr(two[i], &(*addrs)[i]), PR_SUCCESS);
		(*addrs)[i].inet.port = PR_htons(port);
	}
	*count = 2;
	return 0;
}

static void
on_connected(void *arg)
{
	struct fx *f = arg;

	f->connected++;
}

static void
on_message(void *arg, const uint8_t *msg, size_t len)
{
	struct fx *f = arg;

	f->messages++;
	f->last_len = len;
	memcpy(f->last, msg, len < sizeof(f->last) ? len : sizeof(f->last));
	if (f->destroy_on_message) {
		conn_destroy(f->conn);
		f->conn = NULL;
	}
}

static void
on_sent(void *arg, uint32_t tag)
{
	(void)arg;
	(void)tag;
}

static void
on_failed(void *arg, enum disconnect_reason reason)
{
	struct fx *f = arg;

	f->failed++;
	f->reason = reason;
	conn_destroy(f->conn);
	f->conn = NULL;
}

static void
on_trying(void *arg)
{
	struct fx *f = arg;

	f->tried++;
}

static void
on_address_failed(void *arg, const char *why)
{
	struct fx *f = arg;

	f->address_failures++;
	snprintf(f->why, sizeof(f->why), "%s", why);
}

static const struct conn_callbacks callbacks = {
	on_connected, on_message, on_sent, on_failed, on_trying, on_address_failed,
};

static const char *const only_v4_loopback[] = { "127.0.0.1" };

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->loop = qb_loop_create();
	assert_non_null(f->loop);
	f->listen_fd = listen_on_loopback(SOCK_STREAM | SOCK_CLOEXEC, 16, &f->port);
	f->peer = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	conn_destroy(f->conn);
	if (f->peer >= 0)
		close(f->peer);
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	qb_loop_destroy(f->loop);
	free(f);
	return 0;
}

/* A new f->conn starts towards hosts on f->port; conn_connect()'s result. */
static int
start_connect(struct fx *f, const char *const *hosts, size_t n, int ip_version,
    uint32_t budget_ms)
{
	assert_int_equal(conn_create(&f->conn, f->loop, &callbacks, f), 0);
	return conn_connect(f->conn, hosts, n, f->port, ip_version, budget_ms);
}

/* Connect the client and accept it on the server side. */
static void
connect_pair(struct fx *f)
{
	assert_int_equal(start_connect(f, only_v4_loopback, 1, 4, 0), 0);
	for (int i = 0; i < 100 && f->connected == 0 && f->failed == 0; i++)
		loop_run_ms(f->loop, 10);
	assert_int_equal(f->connected, 1);
	f->peer = accept(f->listen_fd, NULL, NULL);
	assert_true(f->peer >= 0);
}

static size_t
echo_reply_bytes(uint8_t *out, size_t cap, uint32_t seq)
{
	struct tlv_buf b;
	struct msg m;
	size_t len;

	msgb_seq(&m, MSG_TYPE_ECHO_REPLY, seq);
	tlv_buf_init(&b, cap);
	assert_int_equal(msg_encode(&m, &b), 0);
	len = b.len;
	memcpy(out, b.data, len);
	tlv_buf_fini(&b);
	return len;
}

static void
write_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void
byte_by_byte(void **state)
{
	struct fx *f = *state;
	uint8_t msg[64];
	size_t len = echo_reply_bytes(msg, sizeof(msg), 7);

	connect_pair(f);
	for (size_t i = 0; i < len; i++) {
		write_all(f->peer, msg + i, 1);
		loop_run_ms(f->loop, 2);
		assert_int_equal(f->messages, i + 1 == len ? 1 : 0);
	}
	assert_int_equal(f->last_len, len);
	assert_memory_equal(f->last, msg, len);
	assert_int_equal(f->failed, 0);
}

/* Two echo replies arrive in one write; want_messages of them are delivered. */
static void
two_replies_in_one_write(struct fx *f, bool destroy_on_message, int want_messages)
{
	uint8_t msg[128];
	size_t len = echo_reply_bytes(msg, 64, 1);

	len += echo_reply_bytes(msg + len, 64, 2);
	connect_pair(f);
	f->destroy_on_message = destroy_on_message;
	write_all(f->peer, msg, len);
	loop_run_ms(f->loop, 20);
	assert_int_equal(f->messages, want_messages);
	assert_int_equal(f->failed, 0);
}

static void
two_in_one_write(void **state)
{
	two_replies_in_one_write(*state, false, 2);
}

static void
destroy_inside_message(void **state)
{
	two_replies_in_one_write(*state, true, 1);	/* nothing after the destroy */
}

static void
length_caps(void **state)
{
	static const struct {
		const char	*name;
		uint32_t	 body_len;
		bool		 too_long;
	} rows[] = {
		{ "fits exactly",		1024 - MSG_HEADER_LEN,	false },
		{ "one byte over",		1024 - MSG_HEADER_LEN + 1, true },
		{ "would wrap a u32 sum",	UINT32_MAX,		true },
		{ "would wrap minus header",	UINT32_MAX - 3,		true },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t hdr[MSG_HEADER_LEN] = { 0, MSG_TYPE_ECHO_REPLY };

		f->connected = f->messages = f->failed = 0;
		connect_pair(f);
		conn_set_limits(f->conn, 1024, 1024, 10);
		hdr[2] = (uint8_t)(rows[i].body_len >> 24);
		hdr[3] = (uint8_t)(rows[i].body_len >> 16);
		hdr[4] = (uint8_t)(rows[i].body_len >> 8);
		hdr[5] = (uint8_t)rows[i].body_len;
		write_all(f->peer, hdr, sizeof(hdr));
		loop_run_ms(f->loop, 10);
		if (rows[i].too_long &&
		    (f->failed != 1 || f->reason != DISCONNECT_MSG_TOO_LONG))
			fail_msg("%s: failed %d reason %d", rows[i].name, f->failed, f->reason);
		if (!rows[i].too_long && f->failed != 0)
			fail_msg("%s: failed (reason %d)", rows[i].name, f->reason);
		conn_destroy(f->conn);
		f->conn = NULL;
		close(f->peer);
		f->peer = -1;
	}
}

static void
peer_closes_mid_message(void **state)
{
	struct fx *f = *state;
	uint8_t msg[64];
	size_t len = echo_reply_bytes(msg, sizeof(msg), 3);

	connect_pair(f);
	write_all(f->peer, msg, len - 1);
	loop_run_ms(f->loop, 10);
	close(f->peer);
	f->peer = -1;
	loop_run_ms(f->loop, 20);
	assert_int_equal(f->messages, 0);
	assert_int_equal(f->failed, 1);
	assert_int_equal(f->reason, DISCONNECT_SERVER_CLOSED);
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * r from start_connect() towards addresses that all refuse: refused at once
 * (then f->conn is destroyed here), or one `failed` within 100 steps of step_ms.
 */
static void
expect_refused(struct fx *f, int r, unsigned step_ms)
{
	if (r == 0) {
		for (int i = 0; i < 100 && f->failed == 0; i++)
			loop_run_ms(f->loop, step_ms);
		assert_int_equal(f->failed, 1);
		assert_int_equal(f->reason, DISCONNECT_CONNECT_FAILED);
	} else {
		assert_int_equal(r, -ECONNREFUSED);
		conn_destroy(f->conn);
		f->conn = NULL;
	}
}

/* qnetd down: every attempt must give back its socket. */
static void
refused_attempts_leak_nothing(void **state)
{
	struct fx *f = *state;
	int before;

	close(f->listen_fd);		/* nobody listens on that port any more */
	f->listen_fd = -1;
	before = count_fds();
	for (int i = 0; i < 200; i++) {
		int r;

		f->failed = 0;
		r = start_connect(f, only_v4_loopback, 1, 4, 0);
		expect_refused(f, r, 1);
		assert_null(f->conn);
	}
	assert_int_equal(count_fds(), before);
}

/*
 * Event hooks are spawned while connected: a hook (or whatever it leaves
 * running) holding the socket keeps the TCP connection open after qdevice
 * closed it, and qnetd takes the next connection as a duplicate node.
 */
static void
socket_not_inherited(void **state)
{
	struct fx *f = *state;
	DIR *d;
	struct dirent *de;
	int found = 0;

	connect_pair(f);
	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(d) || fd == f->peer ||
		    getpeername(fd, (struct sockaddr *)&sin, &len) != 0 ||
		    sin.sin_family != AF_INET || ntohs(sin.sin_port) != f->port)
			continue;
		found++;
		if ((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0)
			fail_msg("qnetd connection fd %d lacks FD_CLOEXEC", fd);
	}
	closedir(d);
	assert_int_equal(found, 1);
}

/* Run until connected or failed, at most ms. */
static void
wait_outcome(struct fx *f, unsigned ms)
{
	for (unsigned i = 0; i < ms / 10 && f->connected == 0 && f->failed == 0; i++)
		loop_run_ms(f->loop, 10);
}

static void
expect_peer(struct fx *f, const char *addr, const char *host, size_t index, size_t count)
{
	char want[64];

	snprintf(want, sizeof(want), "%s:%u", addr, (unsigned)f->port);
	assert_string_equal(conn_peer(f->conn), want);
	assert_string_equal(conn_peer_host(f->conn), host);
	assert_int_equal(conn_peer_index(f->conn), index);
	assert_int_equal(conn_address_count(f->conn), count);
}

/* Nothing listens on 127.0.0.2 at our port (the listener is 127.0.0.1's). */
static void
host_list_refused_then_listening(void **state)
{
	static const char *const hosts[] = { "127.0.0.2", "127.0.0.1" };
	struct fx *f = *state;

	assert_int_equal(start_connect(f, hosts, 2, 0, 5000), 0);
	wait_outcome(f, 1000);
	assert_int_equal(f->connected, 1);
	assert_int_equal(f->failed, 0);
	assert_int_equal(f->tried, 2);
	assert_int_equal(f->address_failures, 1);
	expect_peer(f, "127.0.0.1", "127.0.0.1", 2, 2);
}

/* The same walk over one name's addresses, in resolver order. */
static void
name_with_two_addresses(void **state)
{
	static const char *const hosts[] = { "two.test" };
	struct fx *f = *state;

	assert_int_equal(start_connect(f, hosts, 1, 0, 5000), 0);
	wait_outcome(f, 1000);
	assert_int_equal(f->connected, 1);
	assert_int_equal(f->tried, 2);
	expect_peer(f, "127.0.0.1", "two.test", 2, 2);
}

/*
 * Hosts that do not resolve (for IPv4 only, "::1" does not) are passed
 * over; the first address that answers wins even when later ones would.
 */
static void
unresolved_hosts_skipped_and_order_kept(void **state)
{
	static const char *const hosts[] = { "::1", "no-such-host.invalid", "127.0.0.1",
	    "two.test" };
	struct fx *f = *state;

	assert_int_equal(start_connect(f, hosts, 4, 4, 5000), 0);
	wait_outcome(f, 1000);
	assert_int_equal(f->connected, 1);
	assert_int_equal(f->tried, 1);
	assert_int_equal(f->address_failures, 2);	/* the two names */
	expect_peer(f, "127.0.0.1", "127.0.0.1", 1, 3);
}

static void
no_host_resolves(void **state)
{
	static const char *const hosts[] = { "no-such-host.invalid", "::1" };
	struct fx *f = *state;

	assert_int_equal(start_connect(f, hosts, 2, 4, 5000), -ENOENT);
}

/*
 * A listener whose accept queue is full drops new SYNs (Linux), so a
 * connect to it neither succeeds nor fails: an arbiter address that does
 * not answer. The queue is filled by connections nobody accepts.
 */
static int
silent_listener(uint16_t port, int fillers[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(0x7f000003);	/* 127.0.0.3 */
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 0), 0);
	for (int i = 0; i < 2; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		assert_true(fillers[i] >= 0);
		(void)connect(fillers[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(50000);	/* let the handshakes of the fillers complete */
	return fd;
}

static void
close_silent(int fd, int fillers[2])
{
	close(fillers[0]);
	close(fillers[1]);
	close(fd);
}

/* 127.0.0.3 never answers: after its share (half of 400 ms) the next one is tried. */
static void
silent_address_gives_way(void **state)
{
	static const char *const hosts[] = { "127.0.0.3", "127.0.0.1" };
	struct fx *f = *state;
	int fillers[2], silent = silent_listener(f->port, fillers);

	assert_int_equal(start_connect(f, hosts, 2, 4, 400), 0);
	loop_run_ms(f->loop, 100);
	assert_int_equal(f->connected, 0);	/* still waiting on the silent one */
	assert_int_equal(f->failed, 0);
	wait_outcome(f, 1000);
	assert_int_equal(f->connected, 1);
	assert_int_equal(f->address_failures, 1);
	assert_non_null(strstr(f->why, "no answer"));
	expect_peer(f, "127.0.0.1", "127.0.0.1", 2, 2);
	close_silent(silent, fillers);
}

/*
 * The last (here: only) address has no share timer: it waits for the
 * caller's overall connect timeout, as a single host always did.
 */
static void
last_address_waits_for_caller(void **state)
{
	static const char *const hosts[] = { "127.0.0.3" };
	struct fx *f = *state;
	int fillers[2], silent = silent_listener(f->port, fillers);

	assert_int_equal(start_connect(f, hosts, 1, 4, 100), 0);
	loop_run_ms(f->loop, 400);
	assert_int_equal(f->connected, 0);
	assert_int_equal(f->failed, 0);
	assert_int_equal(f->address_failures, 0);
	expect_peer(f, "127.0.0.3", "127.0.0.3", 1, 1);
	close_silent(silent, fillers);
}

/* Every address refuses: one `failed`, reported after the last. */
static void
all_refused_fail_once(void **state)
{
	static const char *const hosts[] = { "127.0.0.2", "two.test" };
	struct fx *f = *state;
	int r;

	close(f->listen_fd);
	f->listen_fd = -1;
	r = start_connect(f, hosts, 2, 4, 5000);
	expect_refused(f, r, 10);
	assert_int_equal(f->tried, 3);
	assert_int_equal(f->address_failures, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(two_in_one_write, setup, teardown),
		cmocka_unit_test_setup_teardown(destroy_inside_message, setup, teardown),
		cmocka_unit_test_setup_teardown(length_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(peer_closes_mid_message, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_attempts_leak_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(socket_not_inherited, setup, teardown),
		cmocka_unit_test_setup_teardown(host_list_refused_then_listening, setup, teardown),
		cmocka_unit_test_setup_teardown(name_with_two_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(unresolved_hosts_skipped_and_order_kept, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(no_host_resolves, setup, teardown),
		cmocka_unit_test_setup_teardown(silent_address_gives_way, setup, teardown),
		cmocka_unit_test_setup_teardown(last_address_waits_for_caller, setup, teardown),
		cmocka_unit_test_setup_teardown(all_refused_fail_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, nss_group_setup, nss_group_teardown);
}
