/*
 * tests/unit/test-util.h: small helpers the unit tests share that need
 * nothing but libc and cmocka: text written to a FILE caught in memory,
 * a loopback listener on a port the kernel picks, and "all / none of
 * these in that text" checks.
 */
#ifndef TESTS_UNIT_TEST_UTIL_H
#define TESTS_UNIT_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Text a writer prints to out, kept in memory until capture_end(). */
struct capture {
	FILE	*out;
	char	*text;
	size_t	 len;
};

/* Opens c->out (fails the test if it cannot) and returns it. */
FILE	*capture_start(struct capture *c);
/* Closes c->out and returns what was written, NUL-terminated; free() it. */
char	*capture_end(struct capture *c);

/*
 * A TCP socket (type is SOCK_STREAM, maybe with SOCK_CLOEXEC) listening on
 * 127.0.0.1 with the given backlog; *port is the port the kernel chose.
 */
int	listen_on_loopback(int type, int backlog, uint16_t *port);

/*
 * needles is a NULL-ended list (NULL: an empty one). Fail the test, naming
 * the first needle missing from text / the first one found in it.
 */
void	assert_text_has_all(const char *text, const char *const *needles);
void	assert_text_has_none(const char *text, const char *const *needles);

#endif
