/*
 * qdevice/plan-env.h: what the planner's readiness checks know beyond the
 * cluster view: this node, the arbiter, timeouts, knet link state and
 * qdevice's own state. plan-input.c fills it from cmap and qdevice's admin
 * socket; plan-checks.c judges it. Unknown values are marked, never guessed.
 */
#ifndef QDEVICE_PLAN_ENV_H
#define QDEVICE_PLAN_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

/* One node's view of one knet link to a peer (cmap stats.knet.nodeN.linkL.*). */
struct plan_link_state {
	bool		known;
	bool		connected;
	bool		latency_known;
	uint64_t	latency_avg_us;		/* latency_ave, microseconds */
	uint64_t	latency_max_us;
};

struct plan_env {
	uint32_t	 local_node_id;		/* 0: unknown */
	char		*cluster_name;

	/* arbiter (quorum.device.net.*) */
	char		*arbiter_host;		/* NULL: no net device configured */
	uint16_t	 arbiter_port;
	uint8_t		 tls;			/* enum tls_mode */
	uint32_t	 connect_timeout_ms;

	/* timeouts, all in ms; 0 = unknown */
	uint32_t	 token_ms;		/* runtime.config.totem.token (effective) */
	uint32_t	 consensus_ms;		/* runtime.config.totem.consensus */
	uint32_t	 device_timeout_ms;	/* quorum.device.timeout */
	uint32_t	 device_sync_timeout_ms;	/* quorum.device.sync_timeout */
	uint32_t	 heuristics_timeout_ms;
	uint32_t	 heuristics_sync_timeout_ms;
	uint32_t	 sbd_watchdog_timeout_ms;	/* 0: sbd not configured */

	/* knet, seen from this node: links[peer index][link id] */
	struct plan_link_state (*links)[PLAN_MAX_LINKS];	/* node_count rows, or NULL */
	char		*transport;		/* "knet", "udpu", ...; NULL unknown */

	/* qdevice, from its admin socket (qdevice_known false: not running/unreachable) */
	bool		 qdevice_known;
	char		*qdevice_state;		/* its "State:" text, e.g. "Connected" */
	bool		 qdevice_connected;
	char		*qdevice_vote;		/* "ACK", "NACK", "Ask later", "Wait for reply", ... */
	char		*qdevice_error;		/* why qdevice_known is false */

	/* certificates */
	char		*nss_db_dir;
	char		*client_cert_nickname;
};

void	plan_env_init(struct plan_env *e);
void	plan_env_fini(struct plan_env *e, size_t node_count);

#endif
