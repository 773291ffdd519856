/* qdevice/settings.c: table-driven parsing of the `-S` advanced settings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utils.h"
#include "settings.h"

enum setting_kind { KIND_STRING, KIND_U32, KIND_BOOL, KIND_MASTER_WINS };

struct setting {
	const char		*name;
	enum setting_kind	 kind;
	size_t			 offset;
	const char		*def_str;	/* KIND_STRING; NULL: unset */
	uint32_t		 def;		/* the other kinds */
	uint32_t		 min;
	uint32_t		 max;
};

#define OFF(f)	offsetof(struct qdevice_settings, f)
#define STR(n, f, d)		{ n, KIND_STRING, OFF(f), d, 0, 0, 0 }
#define U32(n, f, d, lo)	{ n, KIND_U32, OFF(f), NULL, d, lo, UINT32_MAX }
#define BOOL(n, f, d)		{ n, KIND_BOOL, OFF(f), NULL, d, 0, 1 }

/* docs/protocol.md 5.3; the ranges are upstream's lower bounds. */
static const struct setting table[] = {
	STR("lock_file", lock_file, QDEVICE_DEFAULT_LOCK_FILE),
	STR("local_socket_file", local_socket_file, QDEVICE_DEFAULT_SOCKET_FILE),
	U32("local_socket_backlog", local_socket_backlog, 10, 1),
	U32("max_cs_try_again", max_cs_try_again, 10, 1),
	STR("votequorum_device_name", votequorum_device_name, "Qdevice"),
	U32("ipc_max_clients", ipc_max_clients, 10, 0),
	U32("ipc_max_receive_size", ipc_max_receive_size, 4096, 1024),
	U32("ipc_max_send_size", ipc_max_send_size, 65536, 1024),
	{ "master_wins", KIND_MASTER_WINS, OFF(master_wins), NULL, MASTER_WINS_MODEL, 0, 0 },
	U32("heuristics_ipc_max_send_buffers", heuristics_ipc_max_send_buffers, 128, 10),
	U32("heuristics_ipc_max_send_receive_size", heuristics_ipc_max_send_receive_size,
	    4096, 1024),
	U32("heuristics_min_timeout", heuristics_min_timeout_ms, 1000, 250),
	U32("heuristics_max_timeout", heuristics_max_timeout_ms, 120000, 250),
	U32("heuristics_min_interval", heuristics_min_interval_ms, 1000, 250),
	U32("heuristics_max_interval", heuristics_max_interval_ms, 3600000, 250),
	U32("heuristics_max_execs", heuristics_max_execs, 32, 1),
	BOOL("heuristics_use_execvp", heuristics_use_execvp, 0),
	U32("heuristics_max_processes", heuristics_max_processes, 160, 1),
	U32("heuristics_kill_list_interval", heuristics_kill_list_interval_ms, 5000, 250),
	STR("net_nss_db_dir", net_nss_db_dir, QDEVICE_DEFAULT_NSS_DB_DIR),
	U32("net_initial_msg_receive_size", net_initial_msg_receive_size, 32768, 16),
	U32("net_initial_msg_send_size", net_initial_msg_send_size, 32768, 16),
	U32("net_min_msg_send_size", net_min_msg_send_size, 32768, 16),
	U32("net_max_msg_receive_size", net_max_msg_receive_size, 16777216, 16),
	U32("net_max_send_buffers", net_max_send_buffers, 10, 2),
	STR("net_nss_qnetd_cn", net_nss_qnetd_cn, "Qnetd Server"),
	STR("net_nss_client_cert_nickname", net_nss_client_cert_nickname, "Cluster Cert"),
	U32("net_heartbeat_interval_min", net_heartbeat_interval_min_ms, 1000, 1),
	U32("net_heartbeat_interval_max", net_heartbeat_interval_max_ms, 120000, 1),
	U32("net_min_connect_timeout", net_min_connect_timeout_ms, 1000, 1),
	U32("net_max_connect_timeout", net_max_connect_timeout_ms, 120000, 1),
	BOOL("net_test_algorithm_enabled", net_test_algorithm_enabled, 0),
	BOOL("net_allow_expired_server_cert", net_allow_expired_server_cert, 0),
	BOOL("vote_guard", vote_guard, 1),
	STR("event_hook", event_hook, NULL),
	U32("event_hook_timeout", event_hook_timeout_ms, 5000, 100),
	U32("event_hook_max_running", event_hook_max_running, 16, 1),
};
#define TABLE_LEN	(sizeof(table) / sizeof(table[0]))

static char **
str_field(struct qdevice_settings *s, const struct setting *d)
{
	return (char **)(void *)((char *)s + d->offset);
}

static uint32_t *
u32_field(struct qdevice_settings *s, const struct setting *d)
{
	return (uint32_t *)(void *)((char *)s + d->offset);
}

static bool *
bool_field(struct qdevice_settings *s, const struct setting *d)
{
	return (bool *)(void *)((char *)s + d->offset);
}

int
settings_init(struct qdevice_settings *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < TABLE_LEN; i++) {
		const struct setting *d = &table[i];

		switch (d->kind) {
		case KIND_STRING:
			if (d->def_str == NULL)		/* unset by default */
				break;
			*str_field(s, d) = strdup(d->def_str);
			if (*str_field(s, d) == NULL) {
				settings_fini(s);
				return -ENOMEM;
			}
			break;
		case KIND_U32:
		case KIND_MASTER_WINS:
			*u32_field(s, d) = d->def;
			break;
		case KIND_BOOL:
			*bool_field(s, d) = d->def != 0;
			break;
		}
	}
	return 0;
}

void
settings_fini(struct qdevice_settings *s)
{
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (table[i].kind == KIND_STRING) {
			free(*str_field(s, &table[i]));
			*str_field(s, &table[i]) = NULL;
		}
}

struct parse_ctx {
	struct qdevice_settings	*s;
	char			*err;
	size_t			 err_len;
};

static int
apply_one(const char *name, const char *value, void *arg)
{
	struct parse_ctx *ctx = arg;
	const struct setting *d = NULL;
	long long v;
	char *copy;
	int r;

	for (size_t i = 0; i < TABLE_LEN; i++)
		if (strcasecmp(table[i].name, name) == 0) {
			d = &table[i];
			break;
		}
	if (d == NULL) {
		snprintf(ctx->err, ctx->err_len, "unknown advanced setting \"%s\"", name);
		return -EINVAL;
	}
	switch (d->kind) {
	case KIND_STRING:
		if (*value == '\0') {
			snprintf(ctx->err, ctx->err_len, "%s must not be empty", d->name);
			return -EINVAL;
		}
		copy = strdup(value);
		if (copy == NULL)
			return -ENOMEM;
		free(*str_field(ctx->s, d));
		*str_field(ctx->s, d) = copy;
		return 0;
	case KIND_U32:
		r = utils_parse_long(value, d->min, d->max, &v);
		if (r != 0) {
			snprintf(ctx->err, ctx->err_len,
			    "%s must be a number in [%u, %u], not \"%s\"", d->name,
			    (unsigned)d->min, (unsigned)d->max, value);
			return r;
		}
		*u32_field(ctx->s, d) = (uint32_t)v;
		return 0;
	case KIND_BOOL:
		r = utils_parse_bool(value);
		if (r < 0) {
			snprintf(ctx->err, ctx->err_len,
			    "%s must be on or off, not \"%s\"", d->name, value);
			return r;
		}
		*bool_field(ctx->s, d) = r == 1;
		return 0;
	case KIND_MASTER_WINS:
		if (strcasecmp(value, "model") == 0) {
			*u32_field(ctx->s, d) = MASTER_WINS_MODEL;
			return 0;
		}
		r = utils_parse_bool(value);
		if (r < 0) {
			snprintf(ctx->err, ctx->err_len,
			    "master_wins must be on, off or model, not \"%s\"", value);
			return r;
		}
		*u32_field(ctx->s, d) = r == 1 ? MASTER_WINS_FORCE_ON : MASTER_WINS_FORCE_OFF;
		return 0;
	}
	return -EINVAL;
}

int
settings_parse(struct qdevice_settings *s, const char *list, char *err, size_t err_len)
{
	struct parse_ctx ctx = { s, err, err_len };
	const char *bad = NULL;
	int r;

	r = utils_parse_kv_list(list, apply_one, &ctx, &bad);
	if (r == -EINVAL && bad != NULL)
		snprintf(err, err_len, "advanced setting \"%.*s\" is not name=value",
		    (int)strcspn(bad, ","), bad);
	else if (r == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	return r;
}

int
settings_check(const struct qdevice_settings *s, char *err, size_t err_len)
{
	static const struct {
		const char	*min_name, *max_name;
		size_t		 min_off, max_off;
	} pairs[] = {
		{ "heuristics_min_timeout", "heuristics_max_timeout",
		    OFF(heuristics_min_timeout_ms), OFF(heuristics_max_timeout_ms) },
		{ "heuristics_min_interval", "heuristics_max_interval",
		    OFF(heuristics_min_interval_ms), OFF(heuristics_max_interval_ms) },
		{ "net_heartbeat_interval_min", "net_heartbeat_interval_max",
		    OFF(net_heartbeat_interval_min_ms), OFF(net_heartbeat_interval_max_ms) },
		{ "net_min_connect_timeout", "net_max_connect_timeout",
		    OFF(net_min_connect_timeout_ms), OFF(net_max_connect_timeout_ms) },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		uint32_t lo = *(const uint32_t *)(const void *)((const char *)s + pairs[i].min_off);
		uint32_t hi = *(const uint32_t *)(const void *)((const char *)s + pairs[i].max_off);

		if (lo > hi) {
			snprintf(err, err_len, "%s (%u) is greater than %s (%u)",
			    pairs[i].min_name, (unsigned)lo, pairs[i].max_name, (unsigned)hi);
			return -EINVAL;
		}
	}
	return 0;
}
