/* tests/unit/test-qnetd-settings.c: qnetd's command line and -S settings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qnetd/settings.h"

#define MAX_ARGS 8

static const struct {
	const char	*name;
	const char	*argv[MAX_ARGS];
	int		 want;
	enum qnetd_settings_action want_action;
} rows[] = {
	{ "no arguments", { NULL }, 0, QNETD_RUN },
	{ "-h", { "-h", NULL }, 0, QNETD_SHOW_HELP },
	{ "-v", { "-v", NULL }, 0, QNETD_SHOW_VERSION },
	{ "-s req", { "-s", "req", NULL }, 0, QNETD_RUN },
	{ "-s required is refused like upstream", { "-s", "required", NULL }, -EINVAL, QNETD_RUN },
	{ "-s maybe", { "-s", "maybe", NULL }, -EINVAL, QNETD_RUN },
	{ "-c off", { "-c", "off", NULL }, 0, QNETD_RUN },
	{ "-c nope", { "-c", "nope", NULL }, -EINVAL, QNETD_RUN },
	{ "-p 0", { "-p", "0", NULL }, -EINVAL, QNETD_RUN },
	{ "-p 65536", { "-p", "65536", NULL }, -EINVAL, QNETD_RUN },
	{ "-p abc", { "-p", "abc", NULL }, -EINVAL, QNETD_RUN },
	{ "-m -1", { "-m", "-1", NULL }, -EINVAL, QNETD_RUN },
	{ "-p without value", { "-p", NULL }, -EINVAL, QNETD_RUN },
	{ "unknown option", { "-x", NULL }, -EINVAL, QNETD_RUN },
	{ "stray argument", { "foo", NULL }, -EINVAL, QNETD_RUN },
	{ "-S unknown name", { "-S", "nonsense=1", NULL }, -EINVAL, QNETD_RUN },
	{ "-S item without =", { "-S", "dpd_enabled", NULL }, -EINVAL, QNETD_RUN },
	{ "-S coefficient 0.5", { "-S", "dpd_interval_coefficient=0.5", NULL }, -EINVAL, QNETD_RUN },
	{ "-S backlog 0", { "-S", "listen_backlog=0", NULL }, -EINVAL, QNETD_RUN },
	{ "-S send buffers 1", { "-S", "max_client_send_buffers=1", NULL }, -EINVAL, QNETD_RUN },
	{ "-S receive size under 32768", { "-S", "max_client_receive_size=16384", NULL },
	    -EINVAL, QNETD_RUN },
	{ "-S send size over 16 MiB", { "-S", "max_client_send_size=16777217", NULL },
	    -EINVAL, QNETD_RUN },
	{ "-S hb min above max", { "-S", "heartbeat_interval_min=5000,heartbeat_interval_max=4000",
	    NULL }, -EINVAL, QNETD_RUN },
	{ "-S ipc_max_receive_size 1023", { "-S", "ipc_max_receive_size=1023", NULL },
	    -EINVAL, QNETD_RUN },
	{ "-S deprecated dpd_interval accepted", { "-S", "dpd_interval=1000", NULL }, 0, QNETD_RUN },
	{ "-S umask 0778", { "-S", "local_socket_umask=0778", NULL }, -EINVAL, QNETD_RUN },
	{ "-S worker_processes 0", { "-S", "worker_processes=0", NULL }, -EINVAL, QNETD_RUN },
	{ "-S worker_processes 64", { "-S", "worker_processes=64", NULL }, 0, QNETD_RUN },
	{ "-S worker_processes 65", { "-S", "worker_processes=65", NULL }, -EINVAL, QNETD_RUN },
};

static int
parse(struct qnetd_settings *s, const char *const *args, enum qnetd_settings_action *action,
    char *err, size_t err_len)
{
	char *argv[MAX_ARGS + 2] = { (char *)"qnetd" };
	int argc = 1;

	for (int i = 0; args[i] != NULL; i++)
		argv[argc++] = (char *)args[i];
	return qnetd_settings_parse_args(s, argc, argv, action, err, err_len);
}

static void
argument_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct qnetd_settings s;
		enum qnetd_settings_action action = QNETD_RUN;
		char err[256] = "";
		int got;

		qnetd_settings_defaults(&s);
		got = parse(&s, rows[i].argv, &action, err, sizeof(err));
		if (got != rows[i].want || (got == 0 && action != rows[i].want_action))
			fail_msg("%s: got %d action %d (%s), want %d action %d", rows[i].name,
			    got, action, err, rows[i].want, rows[i].want_action);
		if (got != 0 && err[0] == '\0')
			fail_msg("%s: refused without a message", rows[i].name);
		qnetd_settings_fini(&s);
	}
}

static void
defaults_are_upstreams(void **state)
{
	struct qnetd_settings s;
	enum qnetd_settings_action action;
	char err[256];
	const char *none[] = { NULL };

	(void)state;
	qnetd_settings_defaults(&s);
	assert_int_equal(parse(&s, none, &action, err, sizeof(err)), 0);
	assert_int_equal(s.port, 5403);
	assert_int_equal(s.tls, QNETD_TLS_ON);
	assert_true(s.client_cert_required);
	assert_int_equal(s.max_clients, 0);
	assert_int_equal(s.listen_backlog, 4096);	/* ours; upstream's is 10 */
	assert_int_equal(s.max_client_send_buffers, 32);
	assert_int_equal(s.max_client_send_size, 32768);
	assert_int_equal(s.max_client_receive_size, 32768);
	assert_int_equal(s.heartbeat_interval_min, 1000);
	assert_int_equal(s.heartbeat_interval_max, 120000);
	assert_true(s.dpd_enabled);
	assert_true(s.dpd_interval_coefficient == 1.5);
	assert_false(s.keep_active_partition_tie_breaker);
	assert_string_equal(s.nss_db_dir, "/etc/corosync/qnetd/nssdb");
	assert_string_equal(s.cert_nickname, "QNetd Cert");
	assert_string_equal(s.lock_file, "/var/run/corosync-qnetd/corosync-qnetd.pid");
	assert_string_equal(s.local_socket_file, "/var/run/corosync-qnetd/corosync-qnetd.sock");
	assert_int_equal(s.ipc_max_send_size, 1073741824);
	qnetd_settings_fini(&s);
}

static void
values_are_applied(void **state)
{
	const char *args[] = {
		"-4", "-d", "-d", "-f", "-l", "198.18.0.100", "-S",
		"NSS_DB_DIR=/tmp/db,lock_file=/tmp/l,dpd_enabled=off,"
		"keep_active_partition_tie_breaker=on,dpd_interval_coefficient=2.5,"
		"cert_nickname=My Cert,max_client_send_buffers=5", NULL,
	};
	struct qnetd_settings s;
	enum qnetd_settings_action action;
	char err[256];

	(void)state;
	qnetd_settings_defaults(&s);
	assert_int_equal(parse(&s, args, &action, err, sizeof(err)), 0);
	assert_int_equal(s.ip_version, 4);
	assert_int_equal(s.debug, 2);
	assert_true(s.foreground);
	assert_string_equal(s.listen_addr, "198.18.0.100");
	assert_string_equal(s.nss_db_dir, "/tmp/db");	/* names are case-insensitive */
	assert_string_equal(s.lock_file, "/tmp/l");
	assert_string_equal(s.cert_nickname, "My Cert");
	assert_false(s.dpd_enabled);
	assert_true(s.keep_active_partition_tie_breaker);
	assert_true(s.dpd_interval_coefficient == 2.5);
	assert_int_equal(s.max_client_send_buffers, 5);
	qnetd_settings_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(argument_rows),
		cmocka_unit_test(defaults_are_upstreams),
		cmocka_unit_test(values_are_applied),
	};

	return cmocka_run_group_tests_name("qnetd-settings", tests, NULL, NULL);
}
