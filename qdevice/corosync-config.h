/*
 * qdevice/corosync-config.h: what qdevice reads from corosync's configuration
 * (docs/protocol.md 4.1, 4.2): quorum.device.*, the cluster name, the node
 * list, the logging switches. Reads go through struct config_source, so
 * unit tests feed key/values without corosync (qdevice/cmap.c has the
 * real one). Pure code: errors name the key in a caller buffer.
 */
#ifndef QDEVICE_COROSYNC_CONFIG_H
#define QDEVICE_COROSYNC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"
#include "common/node-list.h"
#include "settings.h"

typedef int (*config_iter_fn)(const char *key, bool is_string, void *arg);

/*
 * A key/value store. Getters return 0, -ENOENT (no such key), -EINVAL
 * (the key holds another type) or another -errno. get_string's result
 * is malloc'd. iter calls fn for every key starting with prefix, in
 * key order, and stops at (and returns) fn's first non-zero result.
 */
struct config_source {
	void	*ctx;
	int	(*get_string)(void *ctx, const char *key, char **out);
	int	(*get_u8)(void *ctx, const char *key, uint8_t *out);
	int	(*get_u32)(void *ctx, const char *key, uint32_t *out);
	int	(*get_u64)(void *ctx, const char *key, uint64_t *out);
	int	(*iter)(void *ctx, const char *prefix, config_iter_fn fn, void *arg);
};

enum heuristics_mode {
	HEURISTICS_MODE_OFF = 0,
	HEURISTICS_MODE_ON,
	HEURISTICS_MODE_SYNC,
};
const char	*heuristics_mode_name(enum heuristics_mode m);	/* "Disabled", ... */

enum tls_mode {
	TLS_MODE_OFF = 0,
	TLS_MODE_ON = 1,
	TLS_MODE_REQUIRED = 2,
};

enum log_debug {
	LOG_DEBUG_OFF = 0,
	LOG_DEBUG_ON,
	LOG_DEBUG_TRACE,
};

/*
 * Longest exec_NAME name and command together (bytes): what always fits in
 * one line to the heuristics worker.
 */
#define CONFIG_HEURISTICS_EXEC_MAX	4000
/*
 * quorum.device.net.host may list this many hosts (our extension; a
 * list is only safe with one live arbiter behind it: docs/protocol.md 4.5).
 */
#define CONFIG_MAX_HOSTS		8

/* The heuristics part: re-read on live reload. */
struct config_heuristics {
	enum heuristics_mode	 mode;
	uint32_t		 timeout_ms;
	uint32_t		 sync_timeout_ms;
	uint32_t		 interval_ms;
	size_t			 exec_count;	/* 0: mode is forced to off */
	char			**exec_names;	/* NAME of exec_NAME */
	char			**exec_cmds;
	size_t			 execs_dropped;	/* > max execs: all ignored, mode off */
};

/* The node list part: re-read on live reload. */
struct config_nodes {
	struct node_list	 nodes;		/* node id + data center id */
	bool			 config_version_set;
	uint64_t		 config_version;
};

struct qdevice_config {
	uint32_t		 node_id;
	uint32_t		 timeout_ms;		/* quorum.device.timeout */
	uint32_t		 sync_timeout_ms;	/* quorum.device.sync_timeout */
	bool			 votes_set;
	uint32_t		 votes;
	uint8_t			 wait_for_all;		/* quorum.wait_for_all */
	char			*cluster_name;

	char			*host;			/* as configured: shown, logged */
	char			**hosts;		/* host split into its items */
	size_t			 host_count;		/* 1..CONFIG_MAX_HOSTS */
	uint16_t		 port;
	enum tls_mode		 tls;
	uint8_t			 algorithm;		/* enum decision_algorithm */
	struct tie_breaker	 tie_breaker;
	uint32_t		 connect_timeout_ms;
	int			 force_ip_version;	/* 0, 4 or 6 */
	bool			 kap_tie_breaker;

	/* Derived (docs/protocol.md 4.2). */
	uint32_t		 heartbeat_interval_ms;
	uint32_t		 sync_heartbeat_interval_ms;
	uint32_t		 cast_vote_interval_ms;

	struct config_heuristics heuristics;
	struct config_nodes	 nodes;
};

void	config_init(struct qdevice_config *c);
void	config_fini(struct qdevice_config *c);

/*
 * Read everything. 0, or -EINVAL/-ERANGE/-ENOENT/-ENOMEM with err naming
 * the key and what is wrong with it. On failure *c is left initialised
 * (partially filled) and must still be config_fini()ed.
 */
int	config_read(const struct config_source *src, const struct qdevice_settings *s,
	    struct qdevice_config *c, char *err, size_t err_len);

/*
 * Parts re-read on reload. They fill a fresh struct (init'ed by the
 * function) that the caller swaps in; on failure it is already freed.
 * Heuristics defaults derive from the device timeouts in c.
 */
int	config_read_nodes(const struct config_source *src, struct config_nodes *out,
	    char *err, size_t err_len);
void	config_nodes_fini(struct config_nodes *n);
int	config_read_heuristics(const struct config_source *src,
	    const struct qdevice_settings *s, uint32_t timeout_ms, uint32_t sync_timeout_ms,
	    struct config_heuristics *out, char *err, size_t err_len);
void	config_heuristics_fini(struct config_heuristics *h);
bool	config_heuristics_equal(const struct config_heuristics *a,
	    const struct config_heuristics *b);

/*
 * For every reader of corosync's keys (qdevice-tool --plan too). config_fail
 * formats what is wrong into err and returns r. config_opt_string reads an
 * optional string key: 0 with *out malloc'd, or 0 with *out NULL when it is
 * absent. config_node_indexes gives the distinct <i> of nodelist.node.<i>.*,
 * ascending, in malloc'd *out (NULL when there is none).
 */
int	config_fail(char *err, size_t err_len, int r, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
int	config_opt_string(const struct config_source *src, const char *key, char **out,
	    char *err, size_t err_len);
int	config_node_indexes(const struct config_source *src, uint32_t **out, size_t *count,
	    char *err, size_t err_len);

/*
 * logging.debug, overridden by logging.logger_subsys.QDEVICE.debug.
 * Absent or unknown words count as off.
 */
enum log_debug	config_read_log_debug(const struct config_source *src);

#endif
