/*
 * tests/unit/test-tool-exit-codes.c: qdevice-tool's and qnetd-tool's exit
 * codes (docs/protocol.md 5.4, their man pages) against a fake daemon socket: the
 * built binaries are run once per row and the fake side answers, hangs up or
 * is absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <spawn.h>
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

extern char **environ;

static char qdevice_tool[PATH_MAX], qnetd_tool[PATH_MAX];

enum peer {
	PEER_ABSENT,		/* no socket file */
	PEER_HANGS_UP,		/* accepts, closes without reading or answering */
	PEER_ANSWERS,		/* reads the line, writes `reply`, closes */
};

static pid_t
spawn_tool(char *tool, const char *sock)
{
	char *argv[] = { tool, "-s", "-p", (char *)sock, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0), 0);
	assert_int_equal(posix_spawn(&pid, tool, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static void
serve_one(int lfd, enum peer peer, const char *reply)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	char line[256];
	size_t got = 0;
	int c;

	assert_int_equal(poll(&p, 1, 5000), 1);
	c = accept(lfd, NULL, NULL);
	assert_true(c >= 0);
	if (peer == PEER_ANSWERS) {
		while (got < sizeof(line) && memchr(line, '\n', got) == NULL) {
			ssize_t n = recv(c, line + got, sizeof(line) - got, 0);

			assert_true(n > 0);
			got += (size_t)n;
		}
		assert_int_equal(send(c, reply, strlen(reply), MSG_NOSIGNAL),
		    (ssize_t)strlen(reply));
	}
	close(c);
}

static int
run_tool(char *tool, enum peer peer, const char *reply)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/test-tool-exit-codes.XXXXXX";
	int lfd = -1, st;
	pid_t pid;

	assert_non_null(mkdtemp(dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", dir);
	if (peer != PEER_ABSENT) {
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(lfd >= 0);
		assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		assert_int_equal(listen(lfd, 4), 0);
	}
	pid = spawn_tool(tool, sun.sun_path);
	if (peer != PEER_ABSENT) {
		serve_one(lfd, peer, reply);
		close(lfd);
		unlink(sun.sun_path);
	}
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	rmdir(dir);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
exit_codes(char *tool)
{
	static const struct {
		const char	*name;
		enum peer	 peer;
		const char	*reply;
		int		 want;
	} rows[] = {
		{ "status answered",		PEER_ANSWERS,	"OK\nStatus\n",	0 },
		{ "daemon says Error",		PEER_ANSWERS,	"Error\nUnknown command\n", 4 },
		{ "answer not understood",	PEER_ANSWERS,	"Hello\n",		3 },
		{ "no daemon socket",		PEER_ABSENT,	NULL,			3 },
		/* Reached, but no answer: internal error, not "not running". */
		{ "daemon hangs up",		PEER_HANGS_UP,	NULL,			2 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = run_tool(tool, rows[i].peer, rows[i].reply);

		if (got != rows[i].want)
			fail_msg("%s: %s: exit %d, want %d", tool, rows[i].name, got,
			    rows[i].want);
	}
}

static void
qdevice_tool_exit_codes(void **state)
{
	(void)state;
	exit_codes(qdevice_tool);
}

static void
qnetd_tool_exit_codes(void **state)
{
	(void)state;
	exit_codes(qnetd_tool);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qdevice_tool_exit_codes),
		cmocka_unit_test(qnetd_tool_exit_codes),
	};
	const char *slash = strrchr(argv[0], '/');
	int dir_len = slash != NULL ? (int)(slash - argv[0]) : 1;

	(void)argc;
	/* tests/unit/<us> -> the tools in the same build tree */
	snprintf(qdevice_tool, sizeof(qdevice_tool), "%.*s/../../qdevice/qdevice-tool", dir_len,
	    slash != NULL ? argv[0] : ".");
	snprintf(qnetd_tool, sizeof(qnetd_tool), "%.*s/../../qnetd/qnetd-tool", dir_len,
	    slash != NULL ? argv[0] : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
