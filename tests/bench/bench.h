/*
 * tests/bench/bench.h: qnetd-bench, a load generator that plays many
 * qdevice clients against one qnetd over loopback. The parent (main.c)
 * forks workers (worker.c), each an epoll loop owning whole clusters; they
 * share one mmap'd block for the phase flag and the counters.
 * Not a daemon: prints to stdout/stderr, never touches a non-loopback host.
 */
#ifndef QNET_BENCH_H
#define QNET_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/clock.h"

#define BENCH_MAX_WORKERS	16
#define BENCH_MAX_NODES		32	/* per cluster; corosync's own limit is similar */

struct bench_opts {
	const char	*host;		/* literal loopback address */
	uint16_t	 port;
	unsigned	 clusters;
	unsigned	 nodes;		/* per cluster */
	unsigned	 hb_ms;
	unsigned	 duration_s;	/* measurement window */
	bool		 tls;
	const char	*nssdb;		/* client NSS DB (cert "Cluster Cert") */
	pid_t		 qnetd_pid;	/* 0: no /proc sampling */
	unsigned	 partition_every_s;	/* 0: no membership changes */
	double		 partition_frac;	/* share of clusters changed per period */
	unsigned	 workers;
	unsigned	 rate;		/* new connections per second, all workers */
	unsigned	 inflight;	/* handshakes in progress, all workers */
	unsigned	 ramp_timeout_s;
	unsigned	 settle_timeout_ms;	/* a membership change not decided by then fails */
	const char	*cluster_suffix;	/* cluster names are cNNNNNN<suffix> */
	bool		 tls_cache;	/* allow TLS session resumption (default off) */
	bool		 nodelay;	/* TCP_NODELAY on our sockets (default; qdevice has Nagle on) */
	bool		 verify_server;	/* walk qnetd's certificate chain (default) */
	bool		 spread_sources;	/* client i connects from 127.1.(i / 250).(i % 250 + 1) */
	unsigned	 ramp_stall_s;	/* give up the ramp when no progress for this long */
	bool		 verbose;

	/* --failover (failover.c): the clients lose qnetd, then reconnect as qdevice does */
	bool		 failover;
	const char	*failover_ready_file;	/* created once every client holds its vote */
	const char	*failover_pid_file;	/* the new qnetd's pid, read once it listens */
	unsigned	 failover_timeout_s;	/* bound on each failover step */
	unsigned	 refused_min_ms;	/* retry after a refused connect: MIN..MAX */
	unsigned	 refused_max_ms;
	unsigned	 lost_retry_max_ms;	/* after a lost connection: random() % this */
	unsigned	 connect_timeout_ms;	/* qdevice's connect timer */

	/* --storm (failover.c): qnetd listens, every client connects at once, paced as above */
	bool		 storm;
};

/*
 * Latency histogram in nanoseconds: 32 linear sub-buckets per power of
 * two (about 3% resolution), from 1 ns to about 2^40 ns (18 minutes).
 */
#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_BUCKETS	((41 - HIST_SUB_BITS) * HIST_SUB + HIST_SUB)

struct hist {
	uint64_t	count;
	uint64_t	max_ns;
	uint64_t	sum_ns;
	uint64_t	b[HIST_BUCKETS];
};

void		hist_add(struct hist *h, uint64_t ns);
void		hist_merge(struct hist *into, const struct hist *from);
/* The value below which a share q (0..1) of the samples lie; 0 when empty. */
uint64_t	hist_quantile(const struct hist *h, double q);

enum bench_phase {
	PHASE_RAMP = 0,		/* connect everybody */
	PHASE_SETTLE,		/* everybody connected; let the first votes land */
	PHASE_MEASURE,		/* the window: count echoes, run membership changes */
	PHASE_FAILOVER,		/* qnetd goes away and comes back: qdevice's reconnect pacing */
	PHASE_STOP,		/* close everything and exit */
};

/* One worker's counters: written by that worker only, read by the parent. */
struct worker_stats {
	/* progress, read by the parent while running */
	_Atomic uint32_t	connected;	/* INIT_REPLY ok and lists sent, now */
	_Atomic uint32_t	ever_connected;
	_Atomic uint32_t	gave_up;	/* clients that hit a fatal error */
	_Atomic bool		ramp_done;	/* every client connected or given up */
	_Atomic bool		exited;
	uint32_t		clients;

	uint64_t	first_connect_ns;	/* CLOCK_MONOTONIC */
	uint64_t	last_connected_ns;
	struct hist	handshake;	/* TCP connect start -> INIT_REPLY */

	/* errors, whole run */
	uint64_t	connect_errors;	/* refused, timed out, reset during handshake */
	uint64_t	tls_errors;
	uint64_t	server_errors;	/* SERVER_ERROR or INIT_REPLY error */
	uint64_t	proto_errors;	/* undecodable or unexpected message */
	uint64_t	disconnects;	/* lost after being connected */
	uint64_t	reconnects;

	/* measurement window only (zeroed by the worker when it starts) */
	uint64_t	echo_sent;
	uint64_t	echo_answered;
	uint64_t	echo_missed;	/* no reply before the next heartbeat */
	struct hist	rtt;
	uint64_t	events_started;
	uint64_t	events_settled;
	uint64_t	events_timed_out;
	uint64_t	events_split_brain;	/* both sides ACKed: must stay 0 */
	uint64_t	vote_infos;
	struct hist	decision;	/* first list sent -> last node has its vote */
	struct hist	node_decision;	/* per node: its list sent -> its vote */
	double		cpu_window_s;	/* this worker's own CPU time in the window */

	/* failover phase only */
	_Atomic uint32_t	acked;		/* clients holding ACK now */
	_Atomic uint32_t	revoted;	/* lost in the failover, ACK again since */
	uint64_t		fo_handshakes;	/* INIT_REPLY ok during the failover */
	uint64_t		fo_refused;	/* connects refused during the failover */
	uint64_t		fo_timeouts;	/* connect timer expiries during the failover */
	uint64_t		fo_tls_done;	/* TLS handshakes completed (client side) */
	uint64_t		fo_tls_abandoned;	/* ... of them closed before their vote */

	/* the first TLS handshake's parameters (IANA code points) */
	bool			tls_info_set;
	uint16_t		tls_version;
	uint16_t		tls_group;	/* key exchange group */
	uint16_t		tls_sig_scheme;	/* the server's signature */
	double			fo_cpu_s;	/* this worker's own CPU time in the failover */
};

struct bench_shared {
	_Atomic int		phase;	/* enum bench_phase */
	struct worker_stats	w[BENCH_MAX_WORKERS];
	/* --failover: per client (cluster * nodes + node - 1), when it held ACK again; 0 = not yet */
	uint64_t		*revote_ns;
};

/* worker.c: run one worker until PHASE_STOP; returns the exit status. */
int	bench_worker_run(const struct bench_opts *o, struct bench_shared *sh, unsigned index);

/*
 * failover.c: qdevice's reconnect delay in the failover phase
 * (docs/protocol.md 2.10): after a lost connection, after a refused
 * connect, after the connect timer fired before TCP was up. rnd is random.
 */
struct proc_sample;

enum failover_retry { RETRY_LOST, RETRY_REFUSED, RETRY_TIMED_OUT };
uint64_t	failover_retry_delay_ns(const struct bench_opts *o, enum failover_retry why,
		    uint64_t rnd);
/* failover.c: the parent's part: wait for the loss, probe, wait for the votes, report. */
int		failover_run(const struct bench_opts *o, struct bench_shared *sh, const pid_t *pids,
		    unsigned workers);
/* failover.c: --storm, the parent's part once the workers run: wait for the votes, report. */
int		storm_run(const struct bench_opts *o, struct bench_shared *sh, const pid_t *pids,
		    unsigned workers, const struct proc_sample *before);
/* qnetd-bench.c: tell the workers to stop and reap them (bounded). */
void		bench_stop_workers(struct bench_shared *sh, const pid_t *pids, unsigned workers);

/* stats.c: CPU time (utime + stime) and resident set size of a process and its children. */
struct proc_sample {
	bool		ok;
	double		cpu_s;		/* user + system */
	double		sys_s;		/* system (kernel) part of cpu_s */
	unsigned long	rss_kib;
	unsigned	processes;	/* children counted in */
};
void		proc_sample(pid_t pid, struct proc_sample *s);

#endif
