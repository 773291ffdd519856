/* qdevice/corosync-config.c: read and check corosync's keys (docs/protocol.md 4.1, 4.2). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utils.h"
#include "corosync-config.h"

#define NODELIST_PREFIX		"nodelist.node."
#define EXEC_PREFIX		"quorum.device.heuristics.exec_"

const char *
heuristics_mode_name(enum heuristics_mode m)
{
	switch (m) {
	case HEURISTICS_MODE_OFF:	return "Disabled";
	case HEURISTICS_MODE_ON:	return "Enabled";
	case HEURISTICS_MODE_SYNC:	return "Enabled only on sync";
	}
	return "Unknown";
}

int
config_fail(char *err, size_t err_len, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return r;
}

int
config_opt_string(const struct config_source *src, const char *key, char **out, char *err,
    size_t err_len)
{
	int r = src->get_string(src->ctx, key, out);

	*out = r == 0 ? *out : NULL;
	if (r == 0 || r == -ENOENT)
		return 0;
	return config_fail(err, err_len, r, "%s: cannot read it as a string (%s)", key,
	    strerror(-r));
}

static int
req_string(const struct config_source *src, const char *key, char **out, char *err,
    size_t err_len)
{
	int r = config_opt_string(src, key, out, err, err_len);

	if (r == 0 && *out == NULL)
		return config_fail(err, err_len, -ENOENT, "%s is not set", key);
	return r;
}

/*
 * A u32 key corosync may store typed or as a string (keys it does not
 * know stay strings). 0, -ENOENT or an error with err filled.
 */
static int
get_u32_any(const struct config_source *src, const char *key, uint32_t *out, char *err,
    size_t err_len)
{
	long long v;
	char *s;
	int r;

	r = src->get_u32(src->ctx, key, out);
	if (r == 0 || r == -ENOENT)
		return r;
	if (src->get_string(src->ctx, key, &s) != 0)
		return config_fail(err, err_len, r, "%s: cannot read it as a number", key);
	r = utils_parse_long(s, 0, UINT32_MAX, &v);
	if (r != 0) {
		config_fail(err, err_len, r, "%s: \"%s\" is not a number in [0, %u]", key, s,
		    (unsigned)UINT32_MAX);
		free(s);
		return r;
	}
	free(s);
	*out = (uint32_t)v;
	return 0;
}

/* An optional numeric string key in [min, max], def when absent. */
static int
ranged(const struct config_source *src, const char *key, uint32_t def, uint32_t min,
    uint32_t max, uint32_t *out, char *err, size_t err_len)
{
	long long v;
	char *s;
	int r;

	r = config_opt_string(src, key, &s, err, err_len);
	if (r != 0)
		return r;
	if (s == NULL) {
		*out = def;
		return 0;
	}
	r = utils_parse_long(s, min, max, &v);
	if (r != 0)
		config_fail(err, err_len, r, "%s: \"%s\" is not a number in [%u, %u]", key, s,
		    (unsigned)min, (unsigned)max);
	else
		*out = (uint32_t)v;
	free(s);
	return r;
}

static uint32_t
clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

void
config_init(struct qdevice_config *c)
{
	memset(c, 0, sizeof(*c));
	node_list_init(&c->nodes.nodes);
}

void
config_heuristics_fini(struct config_heuristics *h)
{
	for (size_t i = 0; i < h->exec_count; i++) {
		free(h->exec_names[i]);
		free(h->exec_cmds[i]);
	}
	free(h->exec_names);
	free(h->exec_cmds);
	memset(h, 0, sizeof(*h));
}

void
config_nodes_fini(struct config_nodes *n)
{
	node_list_fini(&n->nodes);
	memset(n, 0, sizeof(*n));
}

void
config_fini(struct qdevice_config *c)
{
	free(c->cluster_name);
	free(c->host);
	for (size_t i = 0; i < c->host_count; i++)
		free(c->hosts[i]);
	free(c->hosts);
	config_heuristics_fini(&c->heuristics);
	config_nodes_fini(&c->nodes);
	memset(c, 0, sizeof(*c));
}

/* ---- node list ---- */

struct index_set {
	uint32_t	*v;
	size_t		 count;
	int		 err;
};

/* Collect the distinct <i> of nodelist.node.<i>.<field>. */
static int
collect_index(const char *key, bool is_string, void *arg)
{
	struct index_set *set = arg;
	const char *p = key + strlen(NODELIST_PREFIX);
	char *end;
	unsigned long idx;
	uint32_t *grown;

	(void)is_string;
	if (*p < '0' || *p > '9')
		return 0;
	idx = strtoul(p, &end, 10);
	if (*end != '.' || idx > UINT32_MAX)
		return 0;
	for (size_t i = 0; i < set->count; i++)
		if (set->v[i] == idx)
			return 0;
	grown = realloc(set->v, (set->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		set->err = -ENOMEM;
		return -ENOMEM;
	}
	set->v = grown;
	set->v[set->count++] = (uint32_t)idx;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
config_node_indexes(const struct config_source *src, uint32_t **out, size_t *count,
    char *err, size_t err_len)
{
	struct index_set set = { NULL, 0, 0 };
	int r;

	r = src->iter(src->ctx, NODELIST_PREFIX, collect_index, &set);
	if (r != 0 || set.err != 0) {
		r = set.err != 0 ? set.err : r;
		free(set.v);
		return config_fail(err, err_len, r, "cannot read the node list (%s)",
		    strerror(-r));
	}
	if (set.count > 1)
		qsort(set.v, set.count, sizeof(*set.v), cmp_u32);
	*out = set.v;
	*count = set.count;
	return 0;
}

/* Node id derived from an IPv4 ring0_addr, as corosync does for nodes without one. */
static int
auto_node_id(const struct config_source *src, const char *addr, uint32_t *out)
{
	struct in_addr in;
	char *clear = NULL;
	uint32_t id;

	if (addr == NULL || inet_pton(AF_INET, addr, &in) != 1)
		return -EINVAL;
	id = ntohl(in.s_addr);
	if (src->get_string(src->ctx, "totem.clear_node_high_bit", &clear) == 0) {
		if (strcasecmp(clear, "yes") == 0)
			id &= 0x7fffffffU;
		free(clear);
	}
	*out = id;
	return id == 0 ? -EINVAL : 0;
}

static int
read_one_node(const struct config_source *src, uint32_t idx, struct node_list *nodes,
    char *err, size_t err_len)
{
	char key[128], *ring0 = NULL, *name = NULL;
	struct node_info n = { 0 };
	int r;

	snprintf(key, sizeof(key), NODELIST_PREFIX "%u.ring0_addr", (unsigned)idx);
	r = config_opt_string(src, key, &ring0, err, err_len);
	if (r != 0)
		return r;
	snprintf(key, sizeof(key), NODELIST_PREFIX "%u.name", (unsigned)idx);
	r = config_opt_string(src, key, &name, err, err_len);
	if (r != 0)
		goto out;
	if (ring0 == NULL && name == NULL)
		goto out;	/* not a node entry */

	snprintf(key, sizeof(key), NODELIST_PREFIX "%u.nodeid", (unsigned)idx);
	r = get_u32_any(src, key, &n.node_id, err, err_len);
	if (r == -ENOENT) {
		r = auto_node_id(src, ring0, &n.node_id);
		if (r != 0) {
			r = config_fail(err, err_len, -EINVAL,
			    "%s is not set and ring0_addr is not an IPv4 address", key);
			goto out;
		}
	} else if (r != 0) {
		goto out;
	} else if (n.node_id == 0) {
		r = config_fail(err, err_len, -ERANGE, "%s: node id 0 is not allowed", key);
		goto out;
	}
	snprintf(key, sizeof(key), NODELIST_PREFIX "%u.datacenterid", (unsigned)idx);
	r = get_u32_any(src, key, &n.data_center_id, err, err_len);
	if (r == -ENOENT)
		r = 0;
	if (r == 0 && node_list_add(nodes, &n) != 0)
		r = config_fail(err, err_len, -ENOMEM, "out of memory");
out:
	free(ring0);
	free(name);
	return r;
}

int
config_read_nodes(const struct config_source *src, struct config_nodes *out, char *err,
    size_t err_len)
{
	uint32_t *idx = NULL;
	size_t count = 0;
	int r;

	memset(out, 0, sizeof(*out));
	node_list_init(&out->nodes);
	r = config_node_indexes(src, &idx, &count, err, err_len);
	for (size_t i = 0; r == 0 && i < count; i++)
		r = read_one_node(src, idx[i], &out->nodes, err, err_len);
	if (r != 0)
		goto out;
	if (out->nodes.count == 0) {
		r = config_fail(err, err_len, -ENOENT, "nodelist: no node is configured");
		goto out;
	}
	r = src->get_u64(src->ctx, "totem.config_version", &out->config_version);
	out->config_version_set = r == 0;
	r = 0;
out:
	free(idx);
	if (r != 0)
		config_nodes_fini(out);
	return r;
}

/* ---- heuristics ---- */

struct exec_ctx {
	const struct config_source	*src;
	struct config_heuristics	*h;
	size_t				 max;
	int				 err;
	char				*errbuf;
	size_t				 err_len;
};

static int
collect_exec(const char *key, bool is_string, void *arg)
{
	struct exec_ctx *ctx = arg;
	struct config_heuristics *h = ctx->h;
	const char *name = key + strlen(EXEC_PREFIX);
	char **names, **cmds, *cmd = NULL;
	int r;

	/* exec_NAME only: sub-keys and non-string keys are not commands. */
	if (!is_string || *name == '\0' || strchr(name, '.') != NULL)
		return 0;
	r = ctx->src->get_string(ctx->src->ctx, key, &cmd);
	if (r != 0) {
		ctx->err = config_fail(ctx->errbuf, ctx->err_len, r, "%s: cannot read it", key);
		return r;
	}
	/* What the heuristics worker cannot be handed is refused here, with its key. */
	if (strpbrk(cmd, "\r\n") != NULL || strlen(name) + strlen(cmd) > CONFIG_HEURISTICS_EXEC_MAX) {
		ctx->err = config_fail(ctx->errbuf, ctx->err_len, -EINVAL, "%s: %s", key,
		    strpbrk(cmd, "\r\n") != NULL ? "the command holds a line break" :
		    "the command is too long");
		free(cmd);
		return -EINVAL;
	}
	names = realloc(h->exec_names, (h->exec_count + 1) * sizeof(*names));
	if (names != NULL)
		h->exec_names = names;
	cmds = realloc(h->exec_cmds, (h->exec_count + 1) * sizeof(*cmds));
	if (cmds != NULL)
		h->exec_cmds = cmds;
	if (names == NULL || cmds == NULL ||
	    (h->exec_names[h->exec_count] = strdup(name)) == NULL) {
		free(cmd);
		ctx->err = config_fail(ctx->errbuf, ctx->err_len, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	h->exec_cmds[h->exec_count++] = cmd;
	return 0;
}

int
config_read_heuristics(const struct config_source *src, const struct qdevice_settings *s,
    uint32_t timeout_ms, uint32_t sync_timeout_ms, struct config_heuristics *out,
    char *err, size_t err_len)
{
	struct exec_ctx ctx = { src, out, 0, 0, err, err_len };
	char *mode = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = config_opt_string(src, "quorum.device.heuristics.mode", &mode, err, err_len);
	if (r != 0)
		return r;
	if (mode == NULL) {
		out->mode = HEURISTICS_MODE_OFF;
	} else if (strcasecmp(mode, "sync") == 0) {
		out->mode = HEURISTICS_MODE_SYNC;
	} else {
		r = utils_parse_bool(mode);
		if (r < 0) {
			r = config_fail(err, err_len, -EINVAL,
			    "quorum.device.heuristics.mode: \"%s\" is not on, off or sync", mode);
			free(mode);
			return r;
		}
		out->mode = r == 1 ? HEURISTICS_MODE_ON : HEURISTICS_MODE_OFF;
	}
	free(mode);

	r = ranged(src, "quorum.device.heuristics.timeout", timeout_ms / 2,
	    s->heuristics_min_timeout_ms, s->heuristics_max_timeout_ms, &out->timeout_ms,
	    err, err_len);
	if (r == 0)
		r = ranged(src, "quorum.device.heuristics.sync_timeout", sync_timeout_ms / 2,
		    s->heuristics_min_timeout_ms, s->heuristics_max_timeout_ms,
		    &out->sync_timeout_ms, err, err_len);
	if (r == 0)
		r = ranged(src, "quorum.device.heuristics.interval",
		    (uint32_t)((uint64_t)timeout_ms * 3 > UINT32_MAX ? UINT32_MAX : timeout_ms * 3),
		    s->heuristics_min_interval_ms, s->heuristics_max_interval_ms,
		    &out->interval_ms, err, err_len);
	if (r == 0) {
		r = src->iter(src->ctx, EXEC_PREFIX, collect_exec, &ctx);
		if (r != 0 && ctx.err == 0)
			r = config_fail(err, err_len, r, "cannot list the heuristics commands (%s)",
			    strerror(-r));
	}
	if (r != 0) {
		config_heuristics_fini(out);
		return r;
	}
	if (out->exec_count > s->heuristics_max_execs) {
		size_t n = out->exec_count;
		struct config_heuristics keep = *out;

		keep.exec_count = 0;
		keep.exec_names = NULL;
		keep.exec_cmds = NULL;
		config_heuristics_fini(out);
		*out = keep;
		out->execs_dropped = n;
	}
	/* No command to run: heuristics are off whatever the mode says (4.1). */
	if (out->exec_count == 0)
		out->mode = HEURISTICS_MODE_OFF;
	return 0;
}

bool
config_heuristics_equal(const struct config_heuristics *a, const struct config_heuristics *b)
{
	if (a->mode != b->mode || a->timeout_ms != b->timeout_ms ||
	    a->sync_timeout_ms != b->sync_timeout_ms || a->interval_ms != b->interval_ms ||
	    a->exec_count != b->exec_count)
		return false;
	for (size_t i = 0; i < a->exec_count; i++)
		if (strcmp(a->exec_names[i], b->exec_names[i]) != 0 ||
		    strcmp(a->exec_cmds[i], b->exec_cmds[i]) != 0)
			return false;
	return true;
}

/* ---- quorum.device.net ---- */

/*
 * quorum.device.net.host is one host name or address, as upstream reads
 * it, or (our extension, docs/protocol.md 4.5) several separated by
 * commas and/or whitespace, tried in that order. Neither can be part of
 * a name or an address, so a single host reads exactly as before. An
 * empty item (",," or a comma at either end) is refused rather than
 * skipped: it is most likely a typo that would silently drop the host
 * meant to be there.
 */
static int
split_hosts(struct qdevice_config *c, char *err, size_t err_len)
{
	const char *key = "quorum.device.net.host";
	const char *p = c->host;
	size_t item = 0;
	bool want_item = true;	/* at the start or after a comma */

	for (;;) {
		const char *start;
		size_t len;
		char **grown;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0' || *p == ',') {
			if (item == 0 && *p == '\0')
				return config_fail(err, err_len, -EINVAL, "%s is empty", key);
			if (want_item)
				return config_fail(err, err_len, -EINVAL,
				    "%s: \"%s\": item %zu of the list is empty", key, c->host,
				    item + 1);
			if (*p == '\0')
				return 0;
			p++;
			want_item = true;
			continue;
		}
		start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n' &&
		    *p != '\r')
			p++;
		len = (size_t)(p - start);
		if (item == CONFIG_MAX_HOSTS)
			return config_fail(err, err_len, -EINVAL,
			    "%s: \"%s\" lists more than %d hosts", key, c->host,
			    CONFIG_MAX_HOSTS);
		grown = realloc(c->hosts, (item + 1) * sizeof(*grown));
		if (grown == NULL)
			return config_fail(err, err_len, -ENOMEM, "%s: out of memory", key);
		c->hosts = grown;
		c->hosts[item] = strndup(start, len);
		if (c->hosts[item] == NULL)
			return config_fail(err, err_len, -ENOMEM, "%s: out of memory", key);
		c->host_count = ++item;
		want_item = false;
	}
}

static int
read_net(const struct config_source *src, const struct qdevice_settings *s,
    struct qdevice_config *c, char *err, size_t err_len)
{
	char *str = NULL;
	long long v;
	uint32_t u;
	int r;

	r = req_string(src, "quorum.device.net.host", &c->host, err, err_len);
	if (r != 0)
		return r;
	r = split_hosts(c, err, err_len);
	if (r != 0)
		return r;
	r = ranged(src, "quorum.device.net.port", QNET_DEFAULT_PORT, 1, 65535, &u, err, err_len);
	if (r != 0)
		return r;
	c->port = (uint16_t)u;

	r = config_opt_string(src, "quorum.device.net.tls", &str, err, err_len);
	if (r != 0)
		return r;
	c->tls = TLS_MODE_ON;
	if (str != NULL) {
		if (strcasecmp(str, "required") == 0) {
			c->tls = TLS_MODE_REQUIRED;
		} else if ((r = utils_parse_bool(str)) >= 0) {
			c->tls = r == 1 ? TLS_MODE_ON : TLS_MODE_OFF;
			r = 0;
		} else {
			r = config_fail(err, err_len, -EINVAL,
			    "quorum.device.net.tls: \"%s\" is not on, off or required", str);
		}
		free(str);
		str = NULL;
		if (r != 0)
			return r;
	}

	r = config_opt_string(src, "quorum.device.net.algorithm", &str, err, err_len);
	if (r != 0)
		return r;
	c->algorithm = ALGORITHM_FFSPLIT;
	if (str != NULL) {
		if (strcmp(str, "ffsplit") == 0) {
			c->algorithm = ALGORITHM_FFSPLIT;
		} else if (strcmp(str, "2nodelms") == 0) {
			c->algorithm = ALGORITHM_2NODELMS;
		} else if (strcmp(str, "lms") == 0) {
			c->algorithm = ALGORITHM_LMS;
		} else if (strcmp(str, "test") == 0) {
			c->algorithm = ALGORITHM_TEST;
			if (!s->net_test_algorithm_enabled)
				r = config_fail(err, err_len, -EINVAL,
				    "quorum.device.net.algorithm: "
				    "test is only allowed with -S net_test_algorithm_enabled=on");
		} else {
			r = config_fail(err, err_len, -EINVAL,
			    "quorum.device.net.algorithm: \"%s\" is "
			    "not one of ffsplit, 2nodelms, lms, test", str);
		}
		free(str);
		str = NULL;
		if (r != 0)
			return r;
	}

	r = config_opt_string(src, "quorum.device.net.tie_breaker", &str, err, err_len);
	if (r != 0)
		return r;
	c->tie_breaker.mode = TIE_BREAKER_LOWEST;
	c->tie_breaker.node_id = 0;
	if (str != NULL) {
		if (strcmp(str, "lowest") == 0) {
			c->tie_breaker.mode = TIE_BREAKER_LOWEST;
		} else if (strcmp(str, "highest") == 0) {
			c->tie_breaker.mode = TIE_BREAKER_HIGHEST;
		} else if (utils_parse_long(str, 1, UINT32_MAX, &v) == 0) {
			c->tie_breaker.mode = TIE_BREAKER_NODE_ID;
			c->tie_breaker.node_id = (uint32_t)v;
		} else {
			r = config_fail(err, err_len, -EINVAL,
			    "quorum.device.net.tie_breaker: \"%s\" is "
			    "not lowest, highest or a node id", str);
		}
		free(str);
		str = NULL;
		if (r != 0)
			return r;
	}

	r = ranged(src, "quorum.device.net.connect_timeout", c->heartbeat_interval_ms,
	    s->net_min_connect_timeout_ms, s->net_max_connect_timeout_ms,
	    &c->connect_timeout_ms, err, err_len);
	if (r != 0)
		return r;

	r = ranged(src, "quorum.device.net.force_ip_version", 0, 0, 6, &u, err, err_len);
	if (r == 0 && u != 0 && u != 4 && u != 6)
		r = config_fail(err, err_len, -EINVAL,
		    "quorum.device.net.force_ip_version: %u is not 0, 4 or 6", (unsigned)u);
	if (r != 0)
		return r;
	c->force_ip_version = (int)u;

	r = config_opt_string(src, "quorum.device.net.keep_active_partition_tie_breaker", &str,
	    err, err_len);
	if (r != 0)
		return r;
	c->kap_tie_breaker = true;
	if (str != NULL) {
		r = utils_parse_bool(str);
		if (r < 0)
			r = config_fail(err, err_len, -EINVAL, "quorum.device.net."
			    "keep_active_partition_tie_breaker: \"%s\" is not on or off", str);
		else
			c->kap_tie_breaker = r == 1;
		free(str);
		if (r < 0)
			return r;
	}
	return 0;
}

int
config_read(const struct config_source *src, const struct qdevice_settings *s,
    struct qdevice_config *c, char *err, size_t err_len)
{
	char *model = NULL;
	int r;

	r = req_string(src, "quorum.device.model", &model, err, err_len);
	if (r != 0)
		return r;
	if (strcmp(model, "net") != 0) {
		r = config_fail(err, err_len, -EINVAL,
		    "quorum.device.model: \"%s\" is not supported (only net)", model);
		free(model);
		return r;
	}
	free(model);

	r = get_u32_any(src, "runtime.votequorum.this_node_id", &c->node_id, err, err_len);
	if (r == -ENOENT)
		return config_fail(err, err_len, r, "runtime.votequorum.this_node_id is not set "
		    "(is corosync running with votequorum?)");
	if (r != 0)
		return r;

	r = get_u32_any(src, "quorum.device.timeout", &c->timeout_ms, err, err_len);
	if (r == -ENOENT)
		c->timeout_ms = 10000;
	else if (r != 0)
		return r;
	r = get_u32_any(src, "quorum.device.sync_timeout", &c->sync_timeout_ms, err, err_len);
	if (r == -ENOENT)
		c->sync_timeout_ms = 30000;
	else if (r != 0)
		return r;
	r = get_u32_any(src, "quorum.device.votes", &c->votes, err, err_len);
	if (r != 0 && r != -ENOENT)
		return r;
	c->votes_set = r == 0;
	if (src->get_u8(src->ctx, "quorum.wait_for_all", &c->wait_for_all) != 0)
		c->wait_for_all = 0;

	c->heartbeat_interval_ms = clamp_u32((uint64_t)c->timeout_ms * 8 / 10,
	    s->net_heartbeat_interval_min_ms, s->net_heartbeat_interval_max_ms);
	c->sync_heartbeat_interval_ms = clamp_u32((uint64_t)c->sync_timeout_ms * 8 / 10,
	    s->net_heartbeat_interval_min_ms, s->net_heartbeat_interval_max_ms);
	c->cast_vote_interval_ms = c->timeout_ms / 2;

	r = req_string(src, "totem.cluster_name", &c->cluster_name, err, err_len);
	if (r != 0)
		return r;
	r = read_net(src, s, c, err, err_len);
	if (r != 0)
		return r;
	r = config_read_heuristics(src, s, c->timeout_ms, c->sync_timeout_ms, &c->heuristics,
	    err, err_len);
	if (r != 0)
		return r;
	config_nodes_fini(&c->nodes);
	return config_read_nodes(src, &c->nodes, err, err_len);
}

enum log_debug
config_read_log_debug(const struct config_source *src)
{
	static const char *const keys[] = {
		"logging.logger_subsys.QDEVICE.debug", "logging.debug",
	};
	enum log_debug level = LOG_DEBUG_OFF;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *s = NULL;

		if (src->get_string(src->ctx, keys[i], &s) != 0)
			continue;
		if (strcasecmp(s, "trace") == 0)
			level = LOG_DEBUG_TRACE;
		else
			level = utils_parse_bool(s) == 1 ? LOG_DEBUG_ON : LOG_DEBUG_OFF;
		free(s);
		break;
	}
	return level;
}
