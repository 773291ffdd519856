/*
 * tests/unit/nss-group.c: see nss-group.h.
 */
#include "common/nss-sock.h"
#include "tests/unit/nss-group.h"

int
nss_group_setup(void **state)
{
	(void)state;
	return nss_sock_init_nodb() == 0 ? 0 : -1;
}

int
nss_group_teardown(void **state)
{
	(void)state;
	nss_sock_shutdown();
	return 0;
}
