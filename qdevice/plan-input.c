/*
 * qdevice/plan-input.c: the planner's view of the live cluster, read from
 * corosync's maps through struct config_source and from qdevice's admin
 * socket. The quorum.device part is read by qdevice's own config_read(), so
 * the planner sees the device exactly as qdevice does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ipc.h"
#include "common/utils.h"
#include "cmap-source.h"
#include "plan-input.h"
#include "settings.h"

#define NODE_PREFIX	"nodelist.node."
#define IPC_TIMEOUT_MS	5000

void
plan_env_init(struct plan_env *e)
{
	memset(e, 0, sizeof(*e));
}

void
plan_env_fini(struct plan_env *e, size_t node_count)
{
	(void)node_count;	/* links is one allocation of node_count rows */
	free(e->cluster_name);
	free(e->arbiter_host);
	free(e->links);
	free(e->transport);
	free(e->qdevice_state);
	free(e->qdevice_vote);
	free(e->qdevice_error);
	free(e->nss_db_dir);
	free(e->client_cert_nickname);
	memset(e, 0, sizeof(*e));
}

/* A number stored as any unsigned cmap type or as a decimal string. */
static int
get_uint(const struct config_source *src, const char *key, uint64_t max, uint64_t *out)
{
	uint32_t u32;
	uint8_t u8;
	long long v;
	char *s;
	int r;

	if ((r = src->get_u32(src->ctx, key, &u32)) == 0) {
		*out = u32;
	} else if (r == -ENOENT) {
		return r;
	} else if (src->get_u8(src->ctx, key, &u8) == 0) {
		*out = u8;
	} else if (src->get_u64(src->ctx, key, out) == 0) {
		;
	} else if (src->get_string(src->ctx, key, &s) == 0) {
		r = utils_parse_long(s, 0, (long long)(max > INT64_MAX ? INT64_MAX : max), &v);
		free(s);
		if (r != 0)
			return -EINVAL;
		*out = (uint64_t)v;
	} else {
		return -EINVAL;
	}
	return *out <= max ? 0 : -ERANGE;
}

static int
get_u32_key(const struct config_source *src, const char *key, uint32_t *out, char *err,
    size_t err_len)
{
	uint64_t v;
	int r = get_uint(src, key, UINT32_MAX, &v);

	if (r == 0)
		*out = (uint32_t)v;
	else if (r != -ENOENT)
		config_fail(err, err_len, r, "%s: not a number in [0, %u]", key,
		    (unsigned)UINT32_MAX);
	return r;
}

/* A votequorum switch: a number (0/1) or a word (on/off, yes/no). false when absent. */
static int
get_flag(const struct config_source *src, const char *key, bool *out, char *err,
    size_t err_len)
{
	uint64_t v;
	char *s;
	int r;

	*out = false;
	if (src->get_string(src->ctx, key, &s) == 0) {
		r = utils_parse_bool(s);
		free(s);
		if (r < 0)
			return config_fail(err, err_len, -EINVAL, "%s: not a yes/no value", key);
		*out = r == 1;
		return 0;
	}
	r = get_uint(src, key, 1, &v);
	if (r == -ENOENT)
		return 0;
	if (r != 0)
		return config_fail(err, err_len, r, "%s: not 0 or 1", key);
	*out = v == 1;
	return 0;
}

/* ---- node list ---- */

static int
cmp_node(const void *a, const void *b)
{
	const struct plan_node *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int
read_node(const struct config_source *src, uint32_t idx, struct plan_node *n, char *err,
    size_t err_len)
{
	char key[96];
	int r;

	snprintf(key, sizeof(key), NODE_PREFIX "%u.nodeid", (unsigned)idx);
	r = get_u32_key(src, key, &n->id, err, err_len);
	if (r == -ENOENT)
		return config_fail(err, err_len, r, "%s is not set: the node's id is unknown", key);
	if (r != 0)
		return r;
	if (n->id == 0)
		return config_fail(err, err_len, -ERANGE, "%s: node id 0 is not allowed", key);
	snprintf(key, sizeof(key), NODE_PREFIX "%u.quorum_votes", (unsigned)idx);
	r = get_u32_key(src, key, &n->votes, err, err_len);
	if (r == -ENOENT)
		n->votes = 1;
	else if (r != 0)
		return r;
	snprintf(key, sizeof(key), NODE_PREFIX "%u.name", (unsigned)idx);
	if ((r = config_opt_string(src, key, &n->name, err, err_len)) != 0)
		return r;
	for (unsigned l = 0; l < PLAN_MAX_LINKS; l++) {
		snprintf(key, sizeof(key), NODE_PREFIX "%u.ring%u_addr", (unsigned)idx, l);
		if ((r = config_opt_string(src, key, &n->addrs[l], err, err_len)) != 0)
			return r;
	}
	n->heuristics = HEURISTICS_UNDEFINED;
	return 0;
}

static int
read_nodes(const struct config_source *src, struct plan_cluster *c, struct plan_env *e,
    char *err, size_t err_len)
{
	uint32_t local_pos = UINT32_MAX, links = 0, *idx = NULL;
	size_t count = 0;
	int r;

	if ((r = config_node_indexes(src, &idx, &count, err, err_len)) != 0)
		return r;
	if (count == 0) {
		r = config_fail(err, err_len, -ENOENT, "nodelist: no node is configured");
		goto out;
	}
	if (count > PLAN_MAX_NODES) {
		r = config_fail(err, err_len, -E2BIG, "nodelist: %zu nodes, the planner models at "
		    "most %d", count, PLAN_MAX_NODES);
		goto out;
	}
	c->nodes = calloc(count, sizeof(*c->nodes));
	if (c->nodes == NULL) {
		r = config_fail(err, err_len, -ENOMEM, "out of memory");
		goto out;
	}
	c->node_count = count;
	for (size_t i = 0; i < count; i++)
		if ((r = read_node(src, idx[i], &c->nodes[i], err, err_len)) != 0)
			goto out;
	/* nodelist.local_node_pos counts entries in index order. */
	if (e->local_node_id == 0 && get_u32_key(src, "nodelist.local_node_pos", &local_pos,
	    err, err_len) == 0 && local_pos < count)
		e->local_node_id = c->nodes[local_pos].id;
	qsort(c->nodes, c->node_count, sizeof(*c->nodes), cmp_node);
	for (size_t i = 0; i < c->node_count; i++) {
		if (i > 0 && c->nodes[i].id == c->nodes[i - 1].id) {
			r = config_fail(err, err_len, -EINVAL,
			    "nodelist: node id %u is configured twice", (unsigned)c->nodes[i].id);
			goto out;
		}
		for (unsigned l = 0; l < PLAN_MAX_LINKS; l++)
			if (c->nodes[i].addrs[l] != NULL)
				links |= 1U << l;
	}
	c->link_count = (size_t)__builtin_popcount(links);
	r = 0;
out:
	free(idx);
	return r;
}

/* ---- quorum ---- */

static int
read_atb_nodes(const char *s, struct plan_cluster *c, char *err, size_t err_len)
{
	const char *p = s;

	if (strcasecmp(s, "lowest") == 0) {
		c->atb_mode = PLAN_ATB_LOWEST;
		return 0;
	}
	if (strcasecmp(s, "highest") == 0) {
		c->atb_mode = PLAN_ATB_HIGHEST;
		return 0;
	}
	c->atb_mode = PLAN_ATB_LIST;
	while (*p != '\0') {
		char *end;
		unsigned long id;
		uint32_t *grown;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		id = strtoul(p, &end, 10);
		if (end == p || id == 0 || id > UINT32_MAX || *p == '-')
			return config_fail(err, err_len, -EINVAL, "quorum.auto_tie_breaker_node: "
			    "\"%s\" is not lowest, highest or a list of node ids", s);
		grown = realloc(c->atb_nodes, (c->atb_node_count + 1) * sizeof(*grown));
		if (grown == NULL)
			return config_fail(err, err_len, -ENOMEM, "out of memory");
		c->atb_nodes = grown;
		c->atb_nodes[c->atb_node_count++] = (uint32_t)id;
		p = end;
	}
	if (c->atb_node_count == 0)
		return config_fail(err, err_len, -EINVAL, "quorum.auto_tie_breaker_node is empty");
	return 0;
}

static int
read_quorum(const struct config_source *src, struct plan_cluster *c, char *err,
    size_t err_len)
{
	static const struct {
		const char	*key;
		size_t		 offset;
	} flags[] = {
		{ "quorum.two_node", offsetof(struct plan_cluster, two_node) },
		{ "quorum.wait_for_all", offsetof(struct plan_cluster, wait_for_all) },
		{ "quorum.last_man_standing", offsetof(struct plan_cluster, last_man_standing) },
		{ "quorum.auto_tie_breaker", offsetof(struct plan_cluster, auto_tie_breaker) },
	};
	char *atb = NULL;
	int r;

	r = get_u32_key(src, "quorum.expected_votes", &c->expected_votes, err, err_len);
	if (r == -ENOENT)
		c->expected_votes = 0;
	else if (r != 0)
		return r;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		bool *flag = (bool *)((char *)c + flags[i].offset);

		if ((r = get_flag(src, flags[i].key, flag, err, err_len)) != 0)
			return r;
	}
	/* votequorum: two_node turns wait_for_all on unless it is set explicitly off. */
	if (c->two_node) {
		uint64_t v;

		if (get_uint(src, "quorum.wait_for_all", 1, &v) == -ENOENT)
			c->wait_for_all = true;
	}
	c->atb_mode = PLAN_ATB_LOWEST;
	if ((r = config_opt_string(src, "quorum.auto_tie_breaker_node", &atb, err, err_len)) != 0)
		return r;
	if (atb != NULL) {
		r = read_atb_nodes(atb, c, err, err_len);
		free(atb);
	}
	return r;
}

static int
dup_str(char **dst, const char *s)
{
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst == NULL ? -ENOMEM : 0;
}

/* quorum.device.* through qdevice's own reader: the device as qdevice sees it. */
static int
read_device(const struct config_source *src, struct plan_cluster *c, struct plan_env *e,
    char *err, size_t err_len)
{
	struct qdevice_settings s;
	struct qdevice_config q;
	char *model = NULL;
	int r;

	if ((r = config_opt_string(src, "quorum.device.model", &model, err, err_len)) != 0)
		return r;
	if (model == NULL)
		return 0;
	free(model);
	c->has_device = true;
	if (settings_init(&s) != 0)
		return config_fail(err, err_len, -ENOMEM, "out of memory");
	s.net_test_algorithm_enabled = true;	/* plan what is configured, whatever it is */
	config_init(&q);
	r = config_read(src, &s, &q, err, err_len);
	if (r == 0) {
		c->device_votes = q.votes_set ? q.votes : 0;
		c->algorithm = q.algorithm;
		c->tie_breaker = q.tie_breaker;
		c->kap_tie_breaker = q.kap_tie_breaker;
		c->heuristics_mode = (uint8_t)q.heuristics.mode;
		e->arbiter_port = q.port;
		e->tls = (uint8_t)q.tls;
		e->connect_timeout_ms = q.connect_timeout_ms;
		e->device_timeout_ms = q.timeout_ms;
		e->device_sync_timeout_ms = q.sync_timeout_ms;
		e->heuristics_timeout_ms = q.heuristics.timeout_ms;
		e->heuristics_sync_timeout_ms = q.heuristics.sync_timeout_ms;
		if (dup_str(&e->arbiter_host, q.host) != 0 ||
		    dup_str(&e->nss_db_dir, s.net_nss_db_dir) != 0 ||
		    dup_str(&e->client_cert_nickname, s.net_nss_client_cert_nickname) != 0)
			r = config_fail(err, err_len, -ENOMEM, "out of memory");
	} else {
		/* config_read names the key; say it is the device's. */
		size_t n = strlen(err);
		const char *tail = " (quorum device configuration)";

		if (n + strlen(tail) < err_len)
			memcpy(err + n, tail, strlen(tail) + 1);
	}
	config_fini(&q);
	settings_fini(&s);
	return r;
}

/* ---- knet statistics ---- */

static int
read_links(const struct config_source *stats, const struct plan_cluster *c,
    struct plan_env *e)
{
	char key[96];

	e->links = calloc(c->node_count, sizeof(*e->links));
	if (e->links == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->node_count; i++) {
		for (unsigned l = 0; l < PLAN_MAX_LINKS; l++) {
			struct plan_link_state *ls = &e->links[i][l];
			uint64_t v, samples;
			unsigned id = (unsigned)c->nodes[i].id;

			snprintf(key, sizeof(key), "stats.knet.node%u.link%u.connected", id, l);
			if (get_uint(stats, key, UINT64_MAX, &v) != 0)
				continue;
			ls->known = true;
			ls->connected = v != 0;
			snprintf(key, sizeof(key), "stats.knet.node%u.link%u.latency_samples", id,
			    l);
			if (get_uint(stats, key, UINT64_MAX, &samples) == 0 && samples == 0)
				continue;	/* no ping answered yet: the averages mean nothing */
			snprintf(key, sizeof(key), "stats.knet.node%u.link%u.latency_ave", id, l);
			if (get_uint(stats, key, UINT64_MAX, &ls->latency_avg_us) != 0)
				continue;
			snprintf(key, sizeof(key), "stats.knet.node%u.link%u.latency_max", id, l);
			if (get_uint(stats, key, UINT64_MAX, &ls->latency_max_us) != 0)
				continue;
			ls->latency_known = true;
		}
	}
	return 0;
}

int
plan_input_read(const struct config_source *cfg, const struct config_source *stats,
    struct plan_cluster *c, struct plan_env *e, char *err, size_t err_len)
{
	int r;

	if (err_len > 0)
		err[0] = '\0';
	r = get_u32_key(cfg, "runtime.votequorum.this_node_id", &e->local_node_id, err,
	    err_len);
	if (r != 0 && r != -ENOENT)
		return r;
	if ((r = read_nodes(cfg, c, e, err, err_len)) != 0 ||
	    (r = read_quorum(cfg, c, err, err_len)) != 0 ||
	    (r = read_device(cfg, c, e, err, err_len)) != 0)
		return r;
	if ((r = config_opt_string(cfg, "totem.cluster_name", &e->cluster_name, err,
	    err_len)) != 0 ||
	    (r = config_opt_string(cfg, "totem.transport", &e->transport, err, err_len)) != 0)
		return r;
	/* The effective timeouts; 0 (unknown) when corosync did not publish them. */
	if ((r = get_u32_key(cfg, "runtime.config.totem.token", &e->token_ms, err,
	    err_len)) != 0 && r != -ENOENT)
		return r;
	if ((r = get_u32_key(cfg, "runtime.config.totem.consensus", &e->consensus_ms, err,
	    err_len)) != 0 && r != -ENOENT)
		return r;
	if (stats != NULL && read_links(stats, c, e) != 0)
		return config_fail(err, err_len, -ENOMEM, "out of memory");
	return 0;
}

/* ---- qdevice ---- */

/* Past the JSON string at p (which is at its opening quote); NULL if unterminated. */
static const char *
skip_string(const char *p)
{
	for (p++; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/*
 * The string value of the top-level "key" in qdevice's status JSON (one
 * object, written by qdevice/status.c; nested objects such as the quorum
 * node list have keys of the same names). NULL if absent, not a string or
 * holding escapes (the fields read here never do).
 */
static char *
status_field(const char *body, const char *key)
{
	size_t klen = strlen(key);
	int depth = 0;

	for (const char *p = body; p != NULL && *p != '\0';) {
		if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			depth--;
			p++;
		} else if (*p != '"') {
			p++;
		} else if (depth == 1 && (p[-1] == '{' || p[-1] == ',') &&
		    strncmp(p + 1, key, klen) == 0 && strncmp(p + 1 + klen, "\":\"", 3) == 0) {
			const char *v = p + klen + 4, *end = v;

			while (*end != '\0' && *end != '"' && *end != '\\')
				end++;
			return *end == '"' ? strndup(v, (size_t)(end - v)) : NULL;
		} else {
			p = skip_string(p);
		}
	}
	return NULL;
}

int
plan_input_qdevice_status(const char *body, struct plan_cluster *c, struct plan_env *e)
{
	char *state = status_field(body, "state"), *vote = status_field(body, "vote");
	char *heur = status_field(body, "heuristics");

	if (body[0] != '{' || state == NULL || vote == NULL) {
		free(state);
		free(vote);
		free(heur);
		return -EINVAL;
	}
	free(e->qdevice_state);
	free(e->qdevice_vote);
	e->qdevice_state = state;
	e->qdevice_vote = vote;
	e->qdevice_connected = strcmp(state, "Connected") == 0;
	e->qdevice_known = true;
	for (size_t i = 0; heur != NULL && i < c->node_count; i++) {
		if (c->nodes[i].id != e->local_node_id)
			continue;
		c->nodes[i].heuristics = strcmp(heur, "Pass") == 0 ? HEURISTICS_PASS :
		    strcmp(heur, "Fail") == 0 ? HEURISTICS_FAIL : HEURISTICS_UNDEFINED;
	}
	free(heur);
	return 0;
}

static void
qdevice_unknown(struct plan_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
qdevice_unknown(struct plan_env *e, const char *fmt, ...)
{
	va_list ap;

	e->qdevice_known = false;
	free(e->qdevice_error);
	va_start(ap, fmt);
	if (vasprintf(&e->qdevice_error, fmt, ap) < 0)
		e->qdevice_error = NULL;
	va_end(ap);
}

static void
read_qdevice(const char *path, struct plan_cluster *c, struct plan_env *e)
{
	char *reply = NULL;
	bool reached;
	int r;

	r = ipc_client_call(path, "status json", IPC_TIMEOUT_MS, &reply, &reached);
	if (r != 0)
		qdevice_unknown(e, "%s %s: %s", reached ? "no answer from qdevice on" :
		    "cannot connect to qdevice at", path, strerror(-r));
	else if (strncmp(reply, "OK\n", 3) != 0)
		qdevice_unknown(e, "qdevice at %s answered an error", path);
	else if (plan_input_qdevice_status(reply + 3, c, e) != 0)
		qdevice_unknown(e, "qdevice at %s answered a status this tool does not read",
		    path);
	free(reply);
}

int
plan_input_live(const char *qdevice_socket, struct plan_cluster *c, struct plan_env *e,
    char *err, size_t err_len)
{
	cmap_handle_t cfg_h, stats_h;
	struct config_source cfg, stats;
	bool have_stats;
	cs_error_t cs;
	int r;

	cs = cmap_initialize(&cfg_h);
	if (cs != CS_OK)
		return config_fail(err, err_len, cmap_source_errno(cs),
		    "cannot connect to corosync's configuration map (is corosync running?): "
		    "error %d", (int)cs);
	have_stats = cmap_initialize_map(&stats_h, CMAP_MAP_STATS) == CS_OK;
	cmap_source_init(&cfg, &cfg_h);
	cmap_source_init(&stats, &stats_h);
	r = plan_input_read(&cfg, have_stats ? &stats : NULL, c, e, err, err_len);
	if (have_stats)
		cmap_finalize(stats_h);
	cmap_finalize(cfg_h);
	if (r != 0)
		return r;
	read_qdevice(qdevice_socket, c, e);
	return 0;
}
