/* tests/unit/test-util.c: libc-and-cmocka helpers shared by the unit tests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "test-util.h"

FILE *
capture_start(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->out = open_memstream(&c->text, &c->len);
	assert_non_null(c->out);
	return c->out;
}

char *
capture_end(struct capture *c)
{
	assert_int_equal(fclose(c->out), 0);
	c->out = NULL;
	return c->text;
}

int
listen_on_loopback(int type, int backlog, uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

void
assert_text_has_all(const char *text, const char *const *needles)
{
	assert_non_null(text);
	for (; needles != NULL && *needles != NULL; needles++)
		if (strstr(text, *needles) == NULL)
			fail_msg("missing \"%s\" in:\n%s", *needles, text);
}

void
assert_text_has_none(const char *text, const char *const *needles)
{
	assert_non_null(text);
	for (; needles != NULL && *needles != NULL; needles++)
		if (strstr(text, *needles) != NULL)
			fail_msg("unwanted \"%s\" in:\n%s", *needles, text);
}
