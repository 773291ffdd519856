/*
 * qdevice/qdevice.h: the per-node daemon's instance and the table of
 * contents of its runtime modules. One instance per process; every
 * module reaches the others through it. Pure modules (settings, config,
 * vote, disconnect, status) have their own headers and no qb_loop.
 */
#ifndef QDEVICE_QDEVICE_H
#define QDEVICE_QDEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <qb/qbloop.h>

#include "common/msg.h"
#include "common/node-list.h"
#include "corosync-config.h"
#include "settings.h"
#include "status.h"
#include "vote.h"

struct qdevice_cmap;
struct qdevice_vq;
struct qdevice_net;
struct qdevice_heur;
struct ipc_server;
struct hooks;
struct qdevice_ringwatch;

/* A one-shot loop timer that knows whether it is armed. */
struct qdevice_timer {
	qb_loop_timer_handle	handle;
	bool			armed;		/* its callback clears this first */
};

struct qdevice {
	qb_loop_t		*loop;
	struct qdevice_settings	 settings;
	struct qdevice_config	 config;
	int			 cli_debug;	/* -d count */
	bool			 foreground;

	struct qdevice_cmap	*cmap;
	struct config_source	 src;		/* reads through cmap */
	struct qdevice_vq	*vq;
	struct qdevice_heur	*heur;
	struct qdevice_net	*net;
	struct ipc_server	*ipc;
	struct qdevice_ringwatch *ringwatch;

	/* votequorum's view, from its notifications */
	bool			 ring_id_set;
	struct ring_id		 ring_id;	/* latest nodelist notify: used by polls */
	struct node_list	 membership;	/* node ids of that ring */
	bool			 quorum_set;
	bool			 quorate;
	struct node_list	 quorum_nodes;	/* as notified, node id 0 entries kept */
	uint32_t		 expected_votes;
	bool			 sync_in_progress;	/* nodelist notify seen, quorum notify not yet */

	/* the cast-vote timer (qdevice/votequorum.c runs it) */
	struct vote_timer	 vote;
	struct vote_guard	 guard;		/* a yes held until its ring is proven whole */
	time_t			 last_poll;	/* (time_t)-1: never */
	bool			 last_poll_cast_vote;

	struct hooks		*hooks;		/* event hooks; NULL-safe */
	struct qdevice_stats	 stats;		/* counters for --metrics */
	uint8_t			 heur_reported;	/* last heuristics result given to hooks */

	bool			 ready;		/* first membership heuristics done, net started */
	struct qdevice_timer	 ready_timer;
	int			 exit_code;
};

/* qdevice/instance.c: routes events between votequorum, heuristics, net. */
void	qdevice_on_nodelist(struct qdevice *qd, const struct ring_id *ring,
	    const uint32_t *ids, uint32_t count);
void	qdevice_on_quorum(struct qdevice *qd, bool quorate, const struct node_info *nodes,
	    uint32_t count);
void	qdevice_on_expected_votes(struct qdevice *qd, uint32_t expected_votes);
void	qdevice_on_membership_heuristics(struct qdevice *qd, uint8_t heuristics);
void	qdevice_on_config_changed(struct qdevice *qd, bool nodes, bool logging, bool heuristics);
/* Client-side algorithm checks (ffsplit: every node and the device have 1 vote). */
int	qdevice_check_votes(struct qdevice *qd);
/* Bound the wait for the first membership heuristics (4.3). */
int	qdevice_arm_ready_timer(struct qdevice *qd);
/* Startup is complete: tell systemd, connect to qnetd. Idempotent. */
void	qdevice_ready(struct qdevice *qd);
/* (Re)arm t for ms; on failure logs, stops the daemon and returns -EIO. */
int	qdevice_timer_arm(struct qdevice *qd, struct qdevice_timer *t, uint32_t ms,
	    qb_loop_timer_dispatch_fn fn, void *data);
void	qdevice_timer_disarm(struct qdevice *qd, struct qdevice_timer *t);
/* Stop the loop; the process exits with code. */
void	qdevice_exit(struct qdevice *qd, int code);
/* Apply logging.debug and -d. */
void	qdevice_apply_log_level(struct qdevice *qd);

/* qdevice/cmap.c: corosync's configuration map. */
int	qdevice_cmap_init(struct qdevice *qd);		/* connect (with retries), fill qd->src */
int	qdevice_cmap_track(struct qdevice *qd);		/* watch reloadable keys, join the loop */

void	qdevice_cmap_sync_done(struct qdevice *qd);	/* hand over changes held during a sync */
void	qdevice_cmap_fini(struct qdevice *qd);

/*
 * qdevice/ringwatch.c: a thread reading corosync's token counter
 * (stats.srp.orf_token_rx) and runtime.config.totem.token / .consensus
 * for the yes guard, so that the main loop never blocks in cmap while
 * corosync synchronises a membership.
 */
int	qdevice_ringwatch_start(struct qdevice *qd);
void	qdevice_ringwatch_stop(struct qdevice *qd);
void	qdevice_ringwatch_want(struct qdevice *qd, bool on);	/* read while a yes is held */
/* The latest counter and when it was asked for (clock_now_ms); false: none. */
bool	qdevice_ringwatch_token(struct qdevice *qd, uint64_t *rx, uint64_t *read_ms);
void	qdevice_ringwatch_timeouts(struct qdevice *qd, uint32_t *token_ms,
	    uint32_t *consensus_ms);

/* qdevice/votequorum.c: the device registration and the cast-vote timer. */
int	qdevice_vq_init(struct qdevice *qd);
int	qdevice_vq_start(struct qdevice *qd);		/* master_wins, tracking, join the loop */
void	qdevice_vq_fini(struct qdevice *qd);
/*
 * Apply a vote to the cast-vote timer (docs/protocol.md 2.9), through the yes
 * guard of qdevice/vote.h. ring: the ring qnetd gave the vote for (NULL
 * for local decisions).
 */
void	qdevice_vq_vote(struct qdevice *qd, uint8_t vote, const struct ring_id *ring);
void	qdevice_vq_pause(struct qdevice *qd, bool paused);
bool	qdevice_vq_timer_running(const struct qdevice *qd);
/* A votequorum nodelist notification: a held yes is for an old ring now. */
void	qdevice_vq_on_membership(struct qdevice *qd);
/*
 * A votequorum quorum notification: if votequorum counts our vote although
 * our last poll withdrew it (a node-info message of a cut ring delivered
 * late), withdraw it again at once.
 */
void	qdevice_vq_on_quorum(struct qdevice *qd);
/* ms the current yes has been held, or -1 when none is. */
int64_t	qdevice_vq_held_ms(const struct qdevice *qd);
/* votequorum_getinfo for a node: 0, -ENOENT (unknown node) or -EIO. */
int	qdevice_vq_node_votes(struct qdevice *qd, uint32_t node_id, uint32_t *node_votes,
	    uint32_t *qdevice_votes);

/* qdevice/heur-sched.c: when heuristics run and where their results go. */
enum heur_kind {
	HEUR_KIND_MEMBERSHIP = 0,	/* after a votequorum nodelist notify */
	HEUR_KIND_CONNECT,		/* after INIT_REPLY */
	HEUR_KIND_REGULAR,		/* every interval, mode "on" only */
};
int	qdevice_heur_create(struct qdevice *qd);	/* forks the worker: call early */
int	qdevice_heur_start(struct qdevice *qd);		/* attach to the loop, load execs */
void	qdevice_heur_destroy(struct qdevice *qd);
enum heuristics_mode	qdevice_heur_mode(const struct qdevice *qd);
/* Start a run; the result arrives later, or at once when heuristics are off. */
void	qdevice_heur_run(struct qdevice *qd, enum heur_kind kind);
void	qdevice_heur_regular_stop(struct qdevice *qd);
void	qdevice_heur_regular_start(struct qdevice *qd);
bool	qdevice_heur_pending(const struct qdevice *qd);
/* Reload: new config already in qd->config.heuristics. */
void	qdevice_heur_reconfigure(struct qdevice *qd);

/* qdevice/net.c: the qnetd connection (model "net"). */
int	qdevice_net_init(struct qdevice *qd);		/* NSS, certificate checks */
void	qdevice_net_start(struct qdevice *qd);		/* first connect */
void	qdevice_net_fini(struct qdevice *qd);
void	qdevice_net_on_membership(struct qdevice *qd, uint8_t heuristics);
void	qdevice_net_on_quorum(struct qdevice *qd);
void	qdevice_net_on_config_nodes(struct qdevice *qd);
void	qdevice_net_on_heuristics(struct qdevice *qd, enum heur_kind kind, uint8_t result);
bool	qdevice_net_connected(const struct qdevice *qd);
/* Fill the Qdevice-net part of a status snapshot. */
void	qdevice_net_status(const struct qdevice *qd, struct status_view *v);

/* qdevice/events.c: the operator's event hook (common/hooks.h). */
int	qdevice_events_init(struct qdevice *qd);
void	qdevice_events_fini(struct qdevice *qd);
void	qdevice_event_vote_changed(struct qdevice *qd, const char *vote, const char *previous);
void	qdevice_event_heuristics(struct qdevice *qd, uint8_t result);
void	qdevice_event_connected(struct qdevice *qd, const char *qnetd_host);
void	qdevice_event_disconnected(struct qdevice *qd, const char *qnetd_host,
	    const char *reason);

/* qdevice/ipc.c: the admin socket. */
int	qdevice_ipc_init(struct qdevice *qd);
void	qdevice_ipc_fini(struct qdevice *qd);

#endif
