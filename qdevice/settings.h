/*
 * qdevice/settings.h: the advanced settings given with `qdevice -S
 * name=value,...` (docs/protocol.md 5.3), with upstream's defaults and ranges.
 * Pure code: parsing reports the offending item in a caller buffer and
 * never logs or exits.
 */
#ifndef QDEVICE_SETTINGS_H
#define QDEVICE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QDEVICE_DEFAULT_LOCK_FILE	"/var/run/corosync-qdevice/corosync-qdevice.pid"
#define QDEVICE_DEFAULT_SOCKET_FILE	"/var/run/corosync-qdevice/corosync-qdevice.sock"
#define QDEVICE_DEFAULT_NSS_DB_DIR	"/etc/corosync/qdevice/net/nssdb"

enum master_wins_mode {
	MASTER_WINS_MODEL = 0,	/* let the model decide: net never enables it */
	MASTER_WINS_FORCE_OFF,
	MASTER_WINS_FORCE_ON,
};

struct qdevice_settings {
	char		*lock_file;
	char		*local_socket_file;
	uint32_t	 local_socket_backlog;
	uint32_t	 max_cs_try_again;
	char		*votequorum_device_name;
	uint32_t	 ipc_max_clients;
	uint32_t	 ipc_max_receive_size;
	uint32_t	 ipc_max_send_size;
	uint32_t	 master_wins;		/* enum master_wins_mode */

	uint32_t	 heuristics_ipc_max_send_buffers;
	uint32_t	 heuristics_ipc_max_send_receive_size;
	uint32_t	 heuristics_min_timeout_ms;
	uint32_t	 heuristics_max_timeout_ms;
	uint32_t	 heuristics_min_interval_ms;
	uint32_t	 heuristics_max_interval_ms;
	uint32_t	 heuristics_max_execs;
	bool		 heuristics_use_execvp;
	uint32_t	 heuristics_max_processes;
	uint32_t	 heuristics_kill_list_interval_ms;

	char		*net_nss_db_dir;
	uint32_t	 net_initial_msg_receive_size;
	uint32_t	 net_initial_msg_send_size;
	uint32_t	 net_min_msg_send_size;
	uint32_t	 net_max_msg_receive_size;
	uint32_t	 net_max_send_buffers;
	char		*net_nss_qnetd_cn;
	char		*net_nss_client_cert_nickname;
	uint32_t	 net_heartbeat_interval_min_ms;
	uint32_t	 net_heartbeat_interval_max_ms;
	uint32_t	 net_min_connect_timeout_ms;
	uint32_t	 net_max_connect_timeout_ms;
	bool		 net_test_algorithm_enabled;
	/* Ours: accept a qnetd certificate that has expired (upstream always does). */
	bool		 net_allow_expired_server_cert;
	/* Ours: hold a flip to yes until the ring is proven whole (qdevice/vote.h). */
	bool		 vote_guard;
	/* Ours: the event hook (common/hooks.h); NULL: none. */
	char		*event_hook;
	uint32_t	 event_hook_timeout_ms;
	uint32_t	 event_hook_max_running;
};

/* Fill in the defaults. 0 or -ENOMEM. */
int	settings_init(struct qdevice_settings *s);
void	settings_fini(struct qdevice_settings *s);

/*
 * Apply one `-S` list. Names are case-insensitive. On failure (-EINVAL:
 * unknown name, bad syntax or value; -ERANGE: out of range) err gets a
 * message naming the setting; settings applied before it stay applied.
 */
int	settings_parse(struct qdevice_settings *s, const char *list, char *err,
	    size_t err_len);

/* Cross-setting checks (a minimum above its maximum). 0 or -EINVAL + err. */
int	settings_check(const struct qdevice_settings *s, char *err, size_t err_len);

#endif
