/*
 * tests/unit/qnetd-fixture.c: see qnetd-fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "qnetd/dispatch.h"
#include "tests/unit/msg-builders.h"
#include "tests/unit/qnetd-fixture.h"

void
qnetd_fixture_init(struct qnetd_fixture *f)
{
	f->loop = qb_loop_create();
	assert_non_null(f->loop);
	qnetd_settings_defaults(&f->settings);
	assert_int_equal(qnetd_instance_init(&f->inst, &f->settings, f->loop), 0);
}

void
qnetd_fixture_fini(struct qnetd_fixture *f)
{
	qnetd_instance_fini(&f->inst);
	qb_loop_destroy(f->loop);
	qnetd_settings_fini(&f->settings);
}

int
qnetd_fixture_setup(void **state)
{
	struct qnetd_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	qnetd_fixture_init(f);
	*state = f;
	return 0;
}

int
qnetd_fixture_teardown(void **state)
{
	qnetd_fixture_fini(*state);
	free(*state);
	return 0;
}

struct qnetd_client *
qnetd_fixture_client(struct qnetd_fixture *f, const char *addr)
{
	struct qnetd_client *c = qnetd_client_create(&f->inst.conns, NULL, addr);

	assert_non_null(c);
	return c;
}

void
qnetd_fixture_feed(struct qnetd_client *c, const struct msg *m)
{
	struct tlv_buf b;

	tlv_buf_init(&b, 1 << 16);
	assert_int_equal(msg_encode(m, &b), 0);
	qnetd_dispatch(c, b.data, b.len);
	tlv_buf_fini(&b);
}

bool
qnetd_fixture_pop(struct qnetd_client *c, struct msg *m)
{
	struct qnetd_send_item *item;

	if (qb_list_empty(&c->send_queue))
		return false;
	item = qb_list_first_entry(&c->send_queue, struct qnetd_send_item, list);
	assert_int_equal(msg_decode(item->data, item->len, m), 0);
	/* the decoded name would point into the item freed below */
	qb_list_del(&item->list);
	c->send_queue_len--;
	m->cluster_name = NULL;
	free(item);
	return true;
}

static void
expect_reply(struct qnetd_client *c, uint16_t type)
{
	struct msg r;

	assert_true(qnetd_fixture_pop(c, &r));
	if (r.type != type || r.reply_error_code != REPLY_NO_ERROR)
		fail_msg("want %s, got %s code %u", msg_type_name(type), msg_type_name(r.type),
		    r.reply_error_code);
	msg_fini(&r);
}

struct qnetd_client *
qnetd_fixture_join(struct qnetd_fixture *f, const char *cluster, uint32_t node,
    uint16_t algorithm)
{
	struct qnetd_client *c = qnetd_fixture_client(f, "192.0.2.1:5403");
	struct msg m;

	msgb_preinit(&m, 1, cluster);
	qnetd_fixture_feed(c, &m);
	expect_reply(c, MSG_TYPE_PREINIT_REPLY);
	msgb_init(&m, 10 + node, node, algorithm, TIE_BREAKER_LOWEST, 8000);
	qnetd_fixture_feed(c, &m);
	expect_reply(c, MSG_TYPE_INIT_REPLY);
	assert_true(c->init_received);
	assert_non_null(c->cluster);
	return c;
}
