/*
 * tests/unit/test-qdevice-settings.c: `qdevice -S` advanced settings
 * (docs/protocol.md 5.3): defaults, each kind of value, ranges, errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qdevice/settings.h"

static void
defaults(void **state)
{
	struct qdevice_settings s;

	(void)state;
	assert_int_equal(settings_init(&s), 0);
	assert_string_equal(s.lock_file, "/var/run/corosync-qdevice/corosync-qdevice.pid");
	assert_string_equal(s.local_socket_file, "/var/run/corosync-qdevice/corosync-qdevice.sock");
	assert_int_equal(s.local_socket_backlog, 10);
	assert_int_equal(s.max_cs_try_again, 10);
	assert_string_equal(s.votequorum_device_name, "Qdevice");
	assert_int_equal(s.ipc_max_clients, 10);
	assert_int_equal(s.ipc_max_receive_size, 4096);
	assert_int_equal(s.ipc_max_send_size, 65536);
	assert_int_equal(s.master_wins, MASTER_WINS_MODEL);
	assert_int_equal(s.heuristics_ipc_max_send_buffers, 128);
	assert_int_equal(s.heuristics_ipc_max_send_receive_size, 4096);
	assert_int_equal(s.heuristics_min_timeout_ms, 1000);
	assert_int_equal(s.heuristics_max_timeout_ms, 120000);
	assert_int_equal(s.heuristics_min_interval_ms, 1000);
	assert_int_equal(s.heuristics_max_interval_ms, 3600000);
	assert_int_equal(s.heuristics_max_execs, 32);
	assert_false(s.heuristics_use_execvp);
	assert_int_equal(s.heuristics_max_processes, 160);
	assert_int_equal(s.heuristics_kill_list_interval_ms, 5000);
	assert_string_equal(s.net_nss_db_dir, "/etc/corosync/qdevice/net/nssdb");
	assert_int_equal(s.net_initial_msg_receive_size, 32768);
	assert_int_equal(s.net_initial_msg_send_size, 32768);
	assert_int_equal(s.net_min_msg_send_size, 32768);
	assert_int_equal(s.net_max_msg_receive_size, 16777216);
	assert_int_equal(s.net_max_send_buffers, 10);
	assert_string_equal(s.net_nss_qnetd_cn, "Qnetd Server");
	assert_string_equal(s.net_nss_client_cert_nickname, "Cluster Cert");
	assert_int_equal(s.net_heartbeat_interval_min_ms, 1000);
	assert_int_equal(s.net_heartbeat_interval_max_ms, 120000);
	assert_int_equal(s.net_min_connect_timeout_ms, 1000);
	assert_int_equal(s.net_max_connect_timeout_ms, 120000);
	assert_false(s.net_test_algorithm_enabled);
	assert_false(s.net_allow_expired_server_cert);
	/* Ours. */
	assert_true(s.vote_guard);
	assert_null(s.event_hook);
	assert_int_equal(s.event_hook_timeout_ms, 5000);
	assert_int_equal(s.event_hook_max_running, 16);
	settings_fini(&s);
	assert_null(s.event_hook);
}

/* list parses without error into s. */
static void
parse_ok(struct qdevice_settings *s, const char *list)
{
	char err[256] = "";
	int r = settings_parse(s, list, err, sizeof(err));

	if (r != 0)
		fail_msg("%s: got %d (%s)", list, r, err);
}

/* s holds the defaults, then list. */
static void
settings_from(struct qdevice_settings *s, const char *list)
{
	assert_int_equal(settings_init(s), 0);
	parse_ok(s, list);
}

static void
accepted(void **state)
{
	struct qdevice_settings s;
	char err[256];

	(void)state;
	settings_from(&s, "lock_file=/tmp/q.pid,LOCAL_SOCKET_FILE=/tmp/q.sock,"
	    "net_nss_db_dir=/tmp/db");
	assert_string_equal(s.lock_file, "/tmp/q.pid");
	assert_string_equal(s.local_socket_file, "/tmp/q.sock");
	assert_string_equal(s.net_nss_db_dir, "/tmp/db");
	parse_ok(&s, "max_cs_try_again=1,ipc_max_clients=0,"
	    "net_max_send_buffers=2,heuristics_min_timeout=250");
	assert_int_equal(s.max_cs_try_again, 1);
	assert_int_equal(s.ipc_max_clients, 0);
	assert_int_equal(s.net_max_send_buffers, 2);
	assert_int_equal(s.heuristics_min_timeout_ms, 250);
	parse_ok(&s, "heuristics_use_execvp=YES,"
	    "net_test_algorithm_enabled=1,net_allow_expired_server_cert=on");
	assert_true(s.heuristics_use_execvp);
	assert_true(s.net_test_algorithm_enabled);
	assert_true(s.net_allow_expired_server_cert);
	parse_ok(&s, "master_wins=on");
	assert_int_equal(s.master_wins, MASTER_WINS_FORCE_ON);
	parse_ok(&s, "master_wins=off");
	assert_int_equal(s.master_wins, MASTER_WINS_FORCE_OFF);
	parse_ok(&s, "master_wins=Model");
	assert_int_equal(s.master_wins, MASTER_WINS_MODEL);
	parse_ok(&s, "votequorum_device_name=Other,"
	    "net_nss_qnetd_cn=My Server,net_nss_client_cert_nickname=My Cert");
	assert_string_equal(s.votequorum_device_name, "Other");
	assert_string_equal(s.net_nss_qnetd_cn, "My Server");
	parse_ok(&s, "vote_guard=off,event_hook=/usr/local/bin/hook,"
	    "event_hook_timeout=100,event_hook_max_running=1");
	assert_false(s.vote_guard);
	assert_string_equal(s.event_hook, "/usr/local/bin/hook");
	assert_int_equal(s.event_hook_timeout_ms, 100);
	assert_int_equal(s.event_hook_max_running, 1);
	parse_ok(&s, "event_hook=/bin/other");
	assert_string_equal(s.event_hook, "/bin/other");
	assert_int_equal(settings_check(&s, err, sizeof(err)), 0);
	settings_fini(&s);
}

static const struct {
	const char	*list;
	int		 want;
	const char	*err_has;
} bad[] = {
	{ "no_such_setting=1", -EINVAL, "no_such_setting" },
	{ "lock_file", -EINVAL, "lock_file" },
	{ "=5", -EINVAL, "=5" },
	{ "lock_file=", -EINVAL, "lock_file" },
	{ "local_socket_backlog=0", -ERANGE, "local_socket_backlog" },
	{ "max_cs_try_again=0", -ERANGE, "max_cs_try_again" },
	{ "ipc_max_receive_size=1023", -ERANGE, "ipc_max_receive_size" },
	{ "ipc_max_send_size=1023", -ERANGE, "ipc_max_send_size" },
	{ "heuristics_ipc_max_send_buffers=9", -ERANGE, "heuristics_ipc_max_send_buffers" },
	{ "heuristics_min_timeout=249", -ERANGE, "heuristics_min_timeout" },
	{ "heuristics_max_interval=249", -ERANGE, "heuristics_max_interval" },
	{ "heuristics_max_execs=0", -ERANGE, "heuristics_max_execs" },
	{ "heuristics_kill_list_interval=100", -ERANGE, "heuristics_kill_list_interval" },
	{ "net_initial_msg_send_size=15", -ERANGE, "net_initial_msg_send_size" },
	{ "net_max_send_buffers=1", -ERANGE, "net_max_send_buffers" },
	{ "net_heartbeat_interval_min=0", -ERANGE, "net_heartbeat_interval_min" },
	{ "net_min_connect_timeout=abc", -EINVAL, "net_min_connect_timeout" },
	{ "net_max_connect_timeout=4294967296", -ERANGE, "net_max_connect_timeout" },
	{ "heuristics_use_execvp=maybe", -EINVAL, "heuristics_use_execvp" },
	{ "net_allow_expired_server_cert=2", -EINVAL, "net_allow_expired_server_cert" },
	{ "master_wins=sometimes", -EINVAL, "master_wins" },
	{ "vote_guard=perhaps", -EINVAL, "vote_guard" },
	{ "event_hook=", -EINVAL, "event_hook" },
	{ "event_hook_timeout=99", -ERANGE, "event_hook_timeout" },
	{ "event_hook_max_running=0", -ERANGE, "event_hook_max_running" },
};

static void
rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct qdevice_settings s;
		char err[256] = "";
		int r;

		assert_int_equal(settings_init(&s), 0);
		r = settings_parse(&s, bad[i].list, err, sizeof(err));
		if (r != bad[i].want)
			fail_msg("%s: got %d, want %d (%s)", bad[i].list, r, bad[i].want, err);
		if (strstr(err, bad[i].err_has) == NULL)
			fail_msg("%s: error \"%s\" does not name %s", bad[i].list, err,
			    bad[i].err_has);
		settings_fini(&s);
	}
}

static void
min_above_max(void **state)
{
	struct qdevice_settings s;
	char err[256];

	(void)state;
	settings_from(&s, "net_min_connect_timeout=5000,net_max_connect_timeout=4000");
	assert_int_equal(settings_check(&s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "net_min_connect_timeout"));
	settings_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(accepted),
		cmocka_unit_test(rejected),
		cmocka_unit_test(min_above_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
