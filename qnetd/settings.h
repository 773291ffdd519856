/*
 * qnetd/settings.h: qnetd's command line and `-S` advanced settings
 * (docs/protocol.md 5.2) with upstream's names, defaults and ranges.
 * Pure parsing: errors come back as a message for main() to print.
 */
#ifndef QNETD_SETTINGS_H
#define QNETD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QNETD_DEFAULT_NSS_DB_DIR	"/etc/corosync/qnetd/nssdb"
#define QNETD_DEFAULT_CERT_NICKNAME	"QNetd Cert"
#define QNETD_DEFAULT_LOCK_FILE		"/var/run/corosync-qnetd/corosync-qnetd.pid"
#define QNETD_DEFAULT_SOCKET_FILE	"/var/run/corosync-qnetd/corosync-qnetd.sock"
#define QNETD_MAX_WORKER_PROCESSES	64
#define QNETD_MAX_EXPLAIN_JOURNAL	1024
#define QNETD_MAX_CLIENT_CERT_CACHE	1048576

enum qnetd_tls { QNETD_TLS_OFF = 0, QNETD_TLS_ON = 1, QNETD_TLS_REQUIRED = 2 };

struct qnetd_settings {
	/* command line */
	const char	*listen_addr;		/* NULL: wildcard */
	uint16_t	 port;
	int		 ip_version;		/* 0, 4 or 6 */
	enum qnetd_tls	 tls;
	bool		 client_cert_required;
	uint32_t	 max_clients;		/* 0: unlimited */
	int		 debug;			/* -d count */
	bool		 foreground;

	/* -S advanced settings; strings point into the -S argument copy */
	uint32_t	 listen_backlog;
	uint32_t	 max_client_send_buffers;
	uint32_t	 max_client_send_size;
	uint32_t	 max_client_receive_size;
	char		*nss_db_dir;
	char		*cert_nickname;
	uint32_t	 heartbeat_interval_min;
	uint32_t	 heartbeat_interval_max;
	bool		 dpd_enabled;
	double		 dpd_interval_coefficient;
	char		*lock_file;
	char		*local_socket_file;
	uint32_t	 local_socket_backlog;
	uint32_t	 ipc_max_clients;
	uint32_t	 ipc_max_receive_size;
	uint32_t	 ipc_max_send_size;
	bool		 keep_active_partition_tie_breaker;
	int		 local_socket_umask;	/* -1: unset */
	long		 local_socket_gid;	/* -1: unset */
	bool		 dpd_interval_deprecated_seen;
	/* ours, not upstream's: the event hook (see common/hooks.h) */
	char		*event_hook;
	uint32_t	 event_hook_timeout;		/* ms */
	uint32_t	 event_hook_max_running;
	/* ours: processes sharing the clients (qnetd/shard.h); 1: no workers */
	uint32_t	 worker_processes;
	/* ours: decisions each cluster keeps for qnetd-tool --explain; 0: none */
	uint32_t	 explain_journal_size;
	/* ours: verified client certificates remembered (common/cert-cache.h); 0: none */
	uint32_t	 client_cert_cache_size;
};

enum qnetd_settings_action {
	QNETD_RUN = 0,
	QNETD_SHOW_HELP,
	QNETD_SHOW_VERSION,
};

/* Fill in upstream's defaults. */
void	qnetd_settings_defaults(struct qnetd_settings *s);
void	qnetd_settings_fini(struct qnetd_settings *s);

/*
 * Parse argv. Returns 0 with *action set, or -EINVAL with a message in
 * err (NUL-terminated, at most err_len bytes).
 */
int	qnetd_settings_parse_args(struct qnetd_settings *s, int argc, char **argv,
	    enum qnetd_settings_action *action, char *err, size_t err_len);

/* Apply one "name=value" advanced setting; 0 or -EINVAL with err. */
int	qnetd_settings_apply_advanced(struct qnetd_settings *s, const char *name,
	    const char *value, char *err, size_t err_len);

#endif
