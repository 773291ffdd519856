/*
 * tests/unit/nss-group.h: cmocka group setup and teardown for the unit
 * tests that wrap real sockets in NSPR (test-qdevice-conn.c,
 * test-qnetd-dispatch.c): NSS is brought up once, without a certificate
 * database, for the whole group.
 */
#ifndef TESTS_UNIT_NSS_GROUP_H
#define TESTS_UNIT_NSS_GROUP_H

/* 0, or -1 when NSS cannot start (cmocka then fails the group). */
int	nss_group_setup(void **state);
int	nss_group_teardown(void **state);

#endif
