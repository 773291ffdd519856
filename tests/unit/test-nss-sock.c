/*
 * tests/unit/test-nss-sock.c: asking how much input waits on a socket,
 * or about its certificates (common/nss-sock.h), is safe for sockets
 * without the TLS layer, before and after the process first imported one
 * (qnetd -s off, the worker processes' front), and still counts the
 * kernel's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/nss-sock.h"

/* A connected pair: *fd wraps one end in NSPR; the other end's descriptor is returned. */
static int
plain_pair(PRFileDesc **fd)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(nss_sock_adopt(sv[0], fd), 0);
	return sv[1];
}

/*
 * The `unread` bytes read back, then closing fd really closes the socket:
 * the peer reads end of file. (NSS asked about a plain socket used to
 * write into NSPR's state of it, and NSPR then left the descriptor open.)
 */
static void
close_reaches_peer(PRFileDesc *fd, int peer, size_t unread)
{
	struct pollfd p = { .fd = peer, .events = POLLIN };
	char buf[64], c;

	if (unread > 0)
		assert_int_equal(nss_sock_recv(fd, buf, sizeof(buf)), unread);
	assert_int_equal(nss_sock_recv(fd, buf, sizeof(buf)), -EAGAIN);
	nss_sock_close(fd);
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(read(peer, &c, 1), 0);
	close(peer);
}

/* fd has `unread` bytes waiting; 5 more come. */
static void
expect_plain(PRFileDesc *fd, int peer, size_t unread)
{
	assert_int_equal(nss_sock_tls_buffered(fd), 0);
	assert_int_equal(nss_sock_pending(fd), unread);
	assert_int_equal(write(peer, "hello", 5), 5);
	assert_int_equal(nss_sock_tls_buffered(fd), 0);
	assert_int_equal(nss_sock_pending(fd), unread + 5);
	assert_false(nss_sock_has_peer_cert(fd));
	assert_false(nss_sock_local_cert_sent(fd));
}

static void
pending_input_on_plain_and_tls_sockets(void **state)
{
	PRFileDesc *before, *tls, *after;
	int peer_before, peer_tls, peer_after;

	(void)state;
	assert_int_equal(nss_sock_init_nodb(), 0);
	/* No socket has had the TLS layer yet in this process. */
	peer_before = plain_pair(&before);
	expect_plain(before, peer_before, 0);

	peer_tls = plain_pair(&tls);
	assert_int_equal(nss_sock_start_tls_client(&tls, "qnetd", "none", false), 0);
	assert_int_equal(nss_sock_tls_buffered(tls), 0);

	/* Plain sockets stay plain once another one has the layer. */
	peer_after = plain_pair(&after);
	expect_plain(after, peer_after, 0);
	expect_plain(before, peer_before, 5);

	close_reaches_peer(before, peer_before, 10);
	close_reaches_peer(after, peer_after, 5);
	nss_sock_close(tls);
	close(peer_tls);
	nss_sock_shutdown();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pending_input_on_plain_and_tls_sockets),
	};

	return cmocka_run_group_tests_name("nss-sock", tests, NULL, NULL);
}
