/* qnetd/settings.c: command line and advanced settings of qnetd. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/msg.h"
#include "common/utils.h"
#include "settings.h"

void
qnetd_settings_defaults(struct qnetd_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->port = QNET_DEFAULT_PORT;
	s->tls = QNETD_TLS_ON;
	s->client_cert_required = true;
	/*
	 * Upstream's 10 drops the SYNs of a reconnect storm: after a restart or
	 * failover every qdevice connects within a second or two, and a client
	 * whose SYN was dropped waits out TCP's retransmission backoff (1, 3,
	 * 7 s...). tests/bench failover, 1,000 TLS clients: every vote back
	 * 64.9 s after the new qnetd listened with 10, 5.9 s with 4096. The
	 * kernel caps it at net.core.somaxconn.
	 */
	s->listen_backlog = 4096;
	s->max_client_send_buffers = 32;
	s->max_client_send_size = QNET_DEFAULT_MAX_MSG_SIZE;
	s->max_client_receive_size = QNET_DEFAULT_MAX_MSG_SIZE;
	s->heartbeat_interval_min = 1000;
	s->heartbeat_interval_max = 120000;
	s->dpd_enabled = true;
	s->dpd_interval_coefficient = 1.5;
	s->local_socket_backlog = 10;
	s->ipc_max_clients = 10;
	s->ipc_max_receive_size = 4096;
	/*
	 * Upstream's 10 MiB cut off qnetd-tool -l of a big but legitimate qnetd
	 * (400 clients with 2727-node lists: 12 MB of text, 44 MB of JSON); a
	 * reply is only a bound on memory, which the client limit bounds better.
	 */
	s->ipc_max_send_size = 1073741824;
	s->local_socket_umask = -1;
	s->local_socket_gid = -1;
	s->event_hook_timeout = 5000;
	s->event_hook_max_running = 16;
	s->worker_processes = 1;
	s->explain_journal_size = 32;
	s->client_cert_cache_size = 4096;
}

static char **
string_slot(struct qnetd_settings *s, const char *name)
{
	if (strcasecmp(name, "nss_db_dir") == 0)
		return &s->nss_db_dir;
	if (strcasecmp(name, "cert_nickname") == 0)
		return &s->cert_nickname;
	if (strcasecmp(name, "lock_file") == 0)
		return &s->lock_file;
	if (strcasecmp(name, "local_socket_file") == 0)
		return &s->local_socket_file;
	if (strcasecmp(name, "event_hook") == 0)
		return &s->event_hook;
	return NULL;
}

void
qnetd_settings_fini(struct qnetd_settings *s)
{
	static const char *const names[] = {
		"nss_db_dir", "cert_nickname", "lock_file", "local_socket_file", "event_hook",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char **slot = string_slot(s, names[i]);

		free(*slot);
		*slot = NULL;
	}
}

struct u32_setting {
	const char	*name;
	size_t		 offset;
	uint32_t	 min;
	uint32_t	 max;		/* 0: UINT32_MAX */
};

static const struct u32_setting u32_settings[] = {
	{ "listen_backlog", offsetof(struct qnetd_settings, listen_backlog), 1, 0 },
	{ "max_client_send_buffers", offsetof(struct qnetd_settings, max_client_send_buffers),
	    2, 0 },
	{ "max_client_send_size", offsetof(struct qnetd_settings, max_client_send_size), 16, 0 },
	{ "max_client_receive_size", offsetof(struct qnetd_settings, max_client_receive_size),
	    16, 0 },
	{ "heartbeat_interval_min", offsetof(struct qnetd_settings, heartbeat_interval_min), 1, 0 },
	{ "heartbeat_interval_max", offsetof(struct qnetd_settings, heartbeat_interval_max), 1, 0 },
	{ "local_socket_backlog", offsetof(struct qnetd_settings, local_socket_backlog), 1, 0 },
	{ "ipc_max_clients", offsetof(struct qnetd_settings, ipc_max_clients), 0, 0 },
	{ "ipc_max_receive_size", offsetof(struct qnetd_settings, ipc_max_receive_size), 1024, 0 },
	{ "ipc_max_send_size", offsetof(struct qnetd_settings, ipc_max_send_size), 1024, 0 },
	{ "event_hook_timeout", offsetof(struct qnetd_settings, event_hook_timeout), 100, 0 },
	{ "event_hook_max_running", offsetof(struct qnetd_settings, event_hook_max_running), 1, 0 },
	{ "worker_processes", offsetof(struct qnetd_settings, worker_processes), 1,
	    QNETD_MAX_WORKER_PROCESSES },
	{ "explain_journal_size", offsetof(struct qnetd_settings, explain_journal_size), 0,
	    QNETD_MAX_EXPLAIN_JOURNAL },
	{ "client_cert_cache_size", offsetof(struct qnetd_settings, client_cert_cache_size), 0,
	    QNETD_MAX_CLIENT_CERT_CACHE },
};

int
qnetd_settings_apply_advanced(struct qnetd_settings *s, const char *name,
    const char *value, char *err, size_t err_len)
{
	long long v;
	double d;
	char **slot;
	int b;

	for (size_t i = 0; i < sizeof(u32_settings) / sizeof(u32_settings[0]); i++) {
		const struct u32_setting *u = &u32_settings[i];

		if (strcasecmp(name, u->name) != 0)
			continue;
		if (u->max != 0 && utils_parse_long(value, u->min, u->max, &v) != 0) {
			snprintf(err, err_len,
			    "advanced setting %s: '%s' is not a number in %u..%u",
			    u->name, value, (unsigned)u->min, (unsigned)u->max);
			return -EINVAL;
		}
		if (utils_parse_long(value, u->min, UINT32_MAX, &v) != 0) {
			snprintf(err, err_len,
			    "advanced setting %s: '%s' is not a number >= %u",
			    u->name, value, (unsigned)u->min);
			return -EINVAL;
		}
		*(uint32_t *)((char *)s + u->offset) = (uint32_t)v;
		return 0;
	}
	if ((slot = string_slot(s, name)) != NULL) {
		char *copy = strdup(value);

		if (copy == NULL) {
			snprintf(err, err_len, "out of memory");
			return -ENOMEM;
		}
		free(*slot);
		*slot = copy;
		return 0;
	}
	if (strcasecmp(name, "dpd_enabled") == 0 ||
	    strcasecmp(name, "keep_active_partition_tie_breaker") == 0) {
		if ((b = utils_parse_bool(value)) < 0) {
			snprintf(err, err_len, "advanced setting %s: '%s' is not on/off",
			    name, value);
			return -EINVAL;
		}
		if (strcasecmp(name, "dpd_enabled") == 0)
			s->dpd_enabled = b;
		else
			s->keep_active_partition_tie_breaker = b;
		return 0;
	}
	if (strcasecmp(name, "dpd_interval_coefficient") == 0) {
		if (utils_parse_double(value, 1, 1000, &d) != 0) {
			snprintf(err, err_len,
			    "advanced setting dpd_interval_coefficient: '%s' is not in 1..1000",
			    value);
			return -EINVAL;
		}
		s->dpd_interval_coefficient = d;
		return 0;
	}
	if (strcasecmp(name, "dpd_interval") == 0) {
		/* Deprecated since 3.0.1: accepted, ignored, warned about by main(). */
		s->dpd_interval_deprecated_seen = true;
		return 0;
	}
	if (strcasecmp(name, "local_socket_umask") == 0) {
		char *end;
		long m = strtol(value, &end, 8);

		if (*value == '\0' || *end != '\0' || m < 0 || m > 0777) {
			snprintf(err, err_len, "advanced setting local_socket_umask: '%s' is not an octal mode",
			    value);
			return -EINVAL;
		}
		s->local_socket_umask = (int)m;
		return 0;
	}
	if (strcasecmp(name, "local_socket_gid") == 0) {
		if (utils_parse_long(value, -1, UINT32_MAX, &v) != 0) {
			snprintf(err, err_len, "advanced setting local_socket_gid: '%s' is not a gid",
			    value);
			return -EINVAL;
		}
		s->local_socket_gid = (long)v;
		return 0;
	}
	snprintf(err, err_len, "unknown advanced setting '%s'", name);
	return -EINVAL;
}

struct kv_ctx {
	struct qnetd_settings	*s;
	char			*err;
	size_t			 err_len;
};

static int
apply_kv(const char *name, const char *value, void *arg)
{
	struct kv_ctx *ctx = arg;

	return qnetd_settings_apply_advanced(ctx->s, name, value, ctx->err, ctx->err_len);
}

static int
finish(struct qnetd_settings *s, char *err, size_t err_len)
{
	static const struct { const char *name; const char *def; } defaults[] = {
		{ "nss_db_dir", QNETD_DEFAULT_NSS_DB_DIR },
		{ "cert_nickname", QNETD_DEFAULT_CERT_NICKNAME },
		{ "lock_file", QNETD_DEFAULT_LOCK_FILE },
		{ "local_socket_file", QNETD_DEFAULT_SOCKET_FILE },
	};

	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		char **slot = string_slot(s, defaults[i].name);

		if (*slot == NULL && (*slot = strdup(defaults[i].def)) == NULL) {
			snprintf(err, err_len, "out of memory");
			return -ENOMEM;
		}
	}
	if (s->heartbeat_interval_min > s->heartbeat_interval_max) {
		snprintf(err, err_len, "heartbeat_interval_min (%u) is above heartbeat_interval_max (%u)",
		    (unsigned)s->heartbeat_interval_min, (unsigned)s->heartbeat_interval_max);
		return -EINVAL;
	}
	/* qdevice refuses a server whose request limit is below 32768 (docs/protocol.md 1.9). */
	if (s->max_client_receive_size < QNET_DEFAULT_MAX_MSG_SIZE) {
		snprintf(err, err_len, "max_client_receive_size must be at least %u: qdevice refuses smaller servers",
		    (unsigned)QNET_DEFAULT_MAX_MSG_SIZE);
		return -EINVAL;
	}
	if (s->max_client_send_size > QNET_CLIENT_MAX_REPLY_SIZE) {
		snprintf(err, err_len, "max_client_send_size must be at most %u: qdevice refuses larger servers",
		    (unsigned)QNET_CLIENT_MAX_REPLY_SIZE);
		return -EINVAL;
	}
	return 0;
}

int
qnetd_settings_parse_args(struct qnetd_settings *s, int argc, char **argv,
    enum qnetd_settings_action *action, char *err, size_t err_len)
{
	struct kv_ctx ctx = { s, err, err_len };
	long long v;
	int c, b, r;
	const char *bad = NULL;

	*action = QNETD_RUN;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, ":46c:dfhl:m:p:S:s:v")) != -1) {
		switch (c) {
		case '4':
			s->ip_version = 4;
			break;
		case '6':
			s->ip_version = 6;
			break;
		case 'c':
			if ((b = utils_parse_bool(optarg)) < 0) {
				snprintf(err, err_len, "-c: '%s' is not on/off", optarg);
				return -EINVAL;
			}
			s->client_cert_required = b;
			break;
		case 'd':
			s->debug++;
			break;
		case 'f':
			s->foreground = true;
			break;
		case 'h':
			*action = QNETD_SHOW_HELP;
			return 0;
		case 'l':
			s->listen_addr = optarg;
			break;
		case 'm':
			if (utils_parse_long(optarg, 0, UINT32_MAX, &v) != 0) {
				snprintf(err, err_len, "-m: '%s' is not a client count", optarg);
				return -EINVAL;
			}
			s->max_clients = (uint32_t)v;
			break;
		case 'p':
			if (utils_parse_long(optarg, 1, 65535, &v) != 0) {
				snprintf(err, err_len, "-p: '%s' is not a port (1..65535)", optarg);
				return -EINVAL;
			}
			s->port = (uint16_t)v;
			break;
		case 'S':
			r = utils_parse_kv_list(optarg, apply_kv, &ctx, &bad);
			if (r != 0) {
				if (bad != NULL)
					snprintf(err, err_len, "-S: '%s' is not name=value", bad);
				return -EINVAL;
			}
			break;
		case 's':
			/* Upstream accepts only "req" for required, not "required". */
			if (strcasecmp(optarg, "req") == 0) {
				s->tls = QNETD_TLS_REQUIRED;
			} else if ((b = utils_parse_bool(optarg)) >= 0) {
				s->tls = b ? QNETD_TLS_ON : QNETD_TLS_OFF;
			} else {
				snprintf(err, err_len, "-s: '%s' is not on, off or req", optarg);
				return -EINVAL;
			}
			break;
		case 'v':
			*action = QNETD_SHOW_VERSION;
			return 0;
		case ':':
			snprintf(err, err_len, "option -%c needs a value", optopt);
			return -EINVAL;
		default:
			snprintf(err, err_len, "unknown option -%c", optopt);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, err_len, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return finish(s, err, err_len);
}
