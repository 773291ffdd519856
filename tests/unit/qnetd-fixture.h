/*
 * tests/unit/qnetd-fixture.h: one qnetd instance without sockets for the
 * unit tests (default settings, its own loop), clients made on it, and
 * messages fed through the real dispatch and read back from the clients'
 * send queues. Uses cmocka's asserts: a failure ends the test.
 */
#ifndef TESTS_UNIT_QNETD_FIXTURE_H
#define TESTS_UNIT_QNETD_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "common/msg.h"
#include "qnetd/client.h"
#include "qnetd/instance.h"
#include "qnetd/settings.h"

struct qnetd_fixture {
	qb_loop_t		*loop;
	struct qnetd_settings	 settings;
	struct qnetd_instance	 inst;
};

void	qnetd_fixture_init(struct qnetd_fixture *f);
void	qnetd_fixture_fini(struct qnetd_fixture *f);
/* cmocka setup/teardown: *state is a calloc'd struct qnetd_fixture. */
int	qnetd_fixture_setup(void **state);
int	qnetd_fixture_teardown(void **state);
#define QNETD_FIXTURE_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, qnetd_fixture_setup, qnetd_fixture_teardown)

struct qnetd_client *qnetd_fixture_client(struct qnetd_fixture *f, const char *addr);
/* Encode m and hand the bytes to the dispatch as if read from c. */
void	qnetd_fixture_feed(struct qnetd_client *c, const struct msg *m);
/* The oldest message queued to c, decoded into *m (msg_fini it); false if none. */
bool	qnetd_fixture_pop(struct qnetd_client *c, struct msg *m);
/*
 * A client of cluster that sent PREINIT (seq 1) and INIT (seq 10 + node,
 * tie-breaker lowest) and got both replies without error.
 */
struct qnetd_client *qnetd_fixture_join(struct qnetd_fixture *f, const char *cluster,
	    uint32_t node, uint16_t algorithm);

#endif
