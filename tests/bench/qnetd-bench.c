/*
 * tests/bench/qnetd-bench.c: command line, worker processes, the
 * measurement window and the report. The parent only coordinates and
 * samples qnetd from /proc; all sockets live in the workers (worker.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/utils.h"
#include "bench.h"

#define NS_PER_S	1000000000ULL
#define TICK_MS		100
#define SETTLE_S	2	/* after the ramp, before the window */
#define STOP_WAIT_S	30

static volatile sig_atomic_t	interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: qnetd-bench [options]\n"
	    "  --host ADDR             loopback address of qnetd (127.0.0.1 or ::1; default 127.0.0.1)\n"
	    "  --port N                qnetd port (default 5403)\n"
	    "  --clusters N            simulated clusters (default 100)\n"
	    "  --nodes N               nodes per cluster = connections per cluster (default 2, max %d)\n"
	    "  --hb-ms N               heartbeat interval sent in INIT (default 1000)\n"
	    "  --duration S            measurement window in seconds (default 30)\n"
	    "  --tls | --no-tls        STARTTLS with a client certificate, or plaintext (default --tls)\n"
	    "  --nssdb DIR             client NSS DB with \"Cluster Cert\" (default /etc/corosync/qdevice/net/nssdb);\n"
	    "                          \"%%u\" in DIR: the worker's index (a DB per worker)\n"
	    "  --qnetd-pid PID         sample CPU time and RSS of this process and its children\n"
	    "  --partition-every S     membership changes: every S seconds (0 = off; default 5)\n"
	    "  --partition-frac F      ... in this share of the clusters (default 0.1)\n"
	    "  --workers N             worker processes (default 2, max %d)\n"
	    "  --rate N                new connections per second (default 1000)\n"
	    "  --inflight N            handshakes in progress at once (default 200)\n"
	    "  --ramp-timeout S        give up connecting after S seconds (default 300)\n"
	    "  --settle-timeout MS     a membership change must be decided by then (default 5000)\n"
	    "  --cluster-suffix STR    cluster names are cNNNNNN<STR> (default .bench.test)\n"
	    "  --tls-cache             allow TLS session resumption between connections\n"
	    "  --nagle                 leave Nagle on for the bench's sockets, as qdevice does\n"
	    "  --no-verify-server      take qnetd's certificate without verifying its chain\n"
	    "                          (client-side CPU only; qnetd's work is unchanged)\n"
	    "  --spread-sources        each client connects from its own address in 127.1.0.0/16\n"
	    "                          (as nodes do; qnetd's accept gate counts per address)\n"
	    "                          (default: TCP_NODELAY, so client-side stalls do not count)\n"
	    "  --ramp-stall S          stop the ramp when the connected count has not grown for S s (default 30)\n"
	    "  --verbose               print every connection error\n"
	    "  --failover              instead of the window: once all hold ACK, create the ready\n"
	    "                          file, wait for qnetd to vanish and come back, time the votes\n"
	    "  --failover-ready-file F --failover-pid-file F (the new qnetd's pid, for its CPU)\n"
	    "  --failover-timeout S    bound on each failover step (default 120)\n"
	    "  --refused-retry-ms A-B  after a refused connect retry in A..B ms (default 500-1500;\n"
	    "                          upstream qdevice: the connect timeout, 8000)\n"
	    "  --lost-retry-max-ms N   after a lost connection wait random() %% N ms (default 4500)\n"
	    "  --connect-timeout-ms N  qdevice's connect timer in the failover (default 8000)\n"
	    "  --storm                 no ramp: every client connects at once to the listening\n"
	    "                          qnetd, paced as in the failover; time every vote\n"
	    "                          (bounded by --failover-timeout)\n",
	    BENCH_MAX_NODES, BENCH_MAX_WORKERS);
}

enum {
	OPT_HOST = 256, OPT_PORT, OPT_CLUSTERS, OPT_NODES, OPT_HB, OPT_DURATION, OPT_TLS,
	OPT_NO_TLS, OPT_NSSDB, OPT_PID, OPT_PART_EVERY, OPT_PART_FRAC, OPT_WORKERS, OPT_RATE,
	OPT_INFLIGHT, OPT_RAMP_TIMEOUT, OPT_SETTLE_TIMEOUT, OPT_SUFFIX, OPT_TLS_CACHE,
	OPT_NAGLE, OPT_SPREAD, OPT_NO_VERIFY, OPT_RAMP_STALL, OPT_VERBOSE, OPT_HELP, OPT_FAILOVER, OPT_FO_READY,
	OPT_FO_PID, OPT_FO_TIMEOUT, OPT_REFUSED_RETRY, OPT_LOST_RETRY, OPT_CONNECT_TIMEOUT,
	OPT_STORM,
};

static const struct option long_opts[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "clusters", required_argument, NULL, OPT_CLUSTERS },
	{ "nodes", required_argument, NULL, OPT_NODES },
	{ "hb-ms", required_argument, NULL, OPT_HB },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "no-tls", no_argument, NULL, OPT_NO_TLS },
	{ "nssdb", required_argument, NULL, OPT_NSSDB },
	{ "qnetd-pid", required_argument, NULL, OPT_PID },
	{ "partition-every", required_argument, NULL, OPT_PART_EVERY },
	{ "partition-frac", required_argument, NULL, OPT_PART_FRAC },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "inflight", required_argument, NULL, OPT_INFLIGHT },
	{ "ramp-timeout", required_argument, NULL, OPT_RAMP_TIMEOUT },
	{ "settle-timeout", required_argument, NULL, OPT_SETTLE_TIMEOUT },
	{ "cluster-suffix", required_argument, NULL, OPT_SUFFIX },
	{ "tls-cache", no_argument, NULL, OPT_TLS_CACHE },
	{ "nagle", no_argument, NULL, OPT_NAGLE },
	{ "spread-sources", no_argument, NULL, OPT_SPREAD },
	{ "no-verify-server", no_argument, NULL, OPT_NO_VERIFY },
	{ "ramp-stall", required_argument, NULL, OPT_RAMP_STALL },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "failover", no_argument, NULL, OPT_FAILOVER },
	{ "failover-ready-file", required_argument, NULL, OPT_FO_READY },
	{ "failover-pid-file", required_argument, NULL, OPT_FO_PID },
	{ "failover-timeout", required_argument, NULL, OPT_FO_TIMEOUT },
	{ "refused-retry-ms", required_argument, NULL, OPT_REFUSED_RETRY },
	{ "lost-retry-max-ms", required_argument, NULL, OPT_LOST_RETRY },
	{ "connect-timeout-ms", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "storm", no_argument, NULL, OPT_STORM },
	{ NULL, 0, NULL, 0 },
};

static int
num(const char *name, const char *s, long long min, long long max, unsigned *out)
{
	long long v;

	if (utils_parse_long(s, min, max, &v) != 0) {
		fprintf(stderr, "qnetd-bench: --%s must be a number in %lld..%lld\n", name, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* "MIN-MAX" or "N" (both the same), in ms */
static int
ms_range(const char *s, unsigned *lo, unsigned *hi)
{
	char buf[32];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash = '\0';
	if (num("refused-retry-ms", buf, 0, 600000, lo) != 0)
		return -1;
	*hi = *lo;
	if (dash != NULL && num("refused-retry-ms", dash + 1, *lo, 600000, hi) != 0)
		return -1;
	return 0;
}

/* Loopback only: this tool opens thousands of connections. */
static bool
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static int
parse_args(int argc, char **argv, struct bench_opts *o)
{
	unsigned v;
	int c, bad = 0;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->port = 5403;
	o->clusters = 100;
	o->nodes = 2;
	o->hb_ms = 1000;
	o->duration_s = 30;
	o->tls = true;
	o->nssdb = "/etc/corosync/qdevice/net/nssdb";
	o->partition_every_s = 5;
	o->partition_frac = 0.1;
	o->workers = 2;
	o->rate = 1000;
	o->inflight = 200;
	o->ramp_timeout_s = 300;
	o->settle_timeout_ms = 5000;
	o->cluster_suffix = ".bench.test";
	o->nodelay = true;
	o->verify_server = true;
	o->ramp_stall_s = 30;
	o->failover_timeout_s = 120;
	o->refused_min_ms = 500;
	o->refused_max_ms = 1500;
	o->lost_retry_max_ms = 4500;	/* 0.9 x cast_vote_timer_interval, 5 s by default */
	o->connect_timeout_ms = 8000;	/* 0.8 x the 10 s device timeout */

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_HOST:		o->host = optarg; break;
		case OPT_PORT:		bad |= num("port", optarg, 1, 65535, &v); o->port = (uint16_t)v; break;
		case OPT_CLUSTERS:	bad |= num("clusters", optarg, 1, 1000000, &o->clusters); break;
		case OPT_NODES:		bad |= num("nodes", optarg, 1, BENCH_MAX_NODES, &o->nodes); break;
		case OPT_HB:		bad |= num("hb-ms", optarg, 100, 120000, &o->hb_ms); break;
		case OPT_DURATION:	bad |= num("duration", optarg, 1, 86400, &o->duration_s); break;
		case OPT_TLS:		o->tls = true; break;
		case OPT_NO_TLS:	o->tls = false; break;
		case OPT_NSSDB:		o->nssdb = optarg; break;
		case OPT_PID:		bad |= num("qnetd-pid", optarg, 1, 1 << 30, &v); o->qnetd_pid = (pid_t)v; break;
		case OPT_PART_EVERY:	bad |= num("partition-every", optarg, 0, 3600, &o->partition_every_s); break;
		case OPT_PART_FRAC:
			if (utils_parse_double(optarg, 0.0, 1.0, &o->partition_frac) != 0) {
				fprintf(stderr, "qnetd-bench: --partition-frac must be in 0..1\n");
				bad = -1;
			}
			break;
		case OPT_WORKERS:	bad |= num("workers", optarg, 1, BENCH_MAX_WORKERS, &o->workers); break;
		case OPT_RATE:		bad |= num("rate", optarg, 1, 1000000, &o->rate); break;
		case OPT_INFLIGHT:	bad |= num("inflight", optarg, 1, 1000000, &o->inflight); break;
		case OPT_RAMP_TIMEOUT:	bad |= num("ramp-timeout", optarg, 1, 86400, &o->ramp_timeout_s); break;
		case OPT_SETTLE_TIMEOUT: bad |= num("settle-timeout", optarg, 1, 600000, &o->settle_timeout_ms); break;
		case OPT_SUFFIX:	o->cluster_suffix = optarg; break;
		case OPT_TLS_CACHE:	o->tls_cache = true; break;
		case OPT_NAGLE:		o->nodelay = false; break;
		case OPT_SPREAD:	o->spread_sources = true; break;
		case OPT_NO_VERIFY:	o->verify_server = false; break;
		case OPT_RAMP_STALL:	bad |= num("ramp-stall", optarg, 1, 86400, &o->ramp_stall_s); break;
		case OPT_VERBOSE:	o->verbose = true; break;
		case OPT_FAILOVER:	o->failover = true; break;
		case OPT_FO_READY:	o->failover_ready_file = optarg; break;
		case OPT_FO_PID:	o->failover_pid_file = optarg; break;
		case OPT_FO_TIMEOUT:	bad |= num("failover-timeout", optarg, 1, 3600, &o->failover_timeout_s); break;
		case OPT_REFUSED_RETRY:	bad |= ms_range(optarg, &o->refused_min_ms, &o->refused_max_ms); break;
		case OPT_LOST_RETRY:	bad |= num("lost-retry-max-ms", optarg, 0, 600000, &o->lost_retry_max_ms); break;
		case OPT_CONNECT_TIMEOUT: bad |= num("connect-timeout-ms", optarg, 1, 600000, &o->connect_timeout_ms); break;
		case OPT_STORM:		o->storm = true; break;
		case OPT_HELP:
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "qnetd-bench: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (!is_loopback(o->host)) {
		fprintf(stderr, "qnetd-bench: --host must be a loopback address (127.x.x.x or ::1)\n");
		return -1;
	}
	if (strlen(o->cluster_suffix) > 64) {
		fprintf(stderr, "qnetd-bench: --cluster-suffix is too long\n");
		return -1;
	}
	if (o->storm && o->failover) {
		fprintf(stderr, "qnetd-bench: --storm and --failover exclude each other\n");
		return -1;
	}
	if (o->workers > o->clusters)
		o->workers = o->clusters;
	return bad ? -1 : 0;
}

/* Each connection is one fd in one worker: ask for a worker's share. */
static void
raise_fd_limit(const struct bench_opts *o)
{
	rlim_t need = (rlim_t)((o->clusters + o->workers - 1) / o->workers) * o->nodes + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
		fprintf(stderr, "qnetd-bench: warning: open file limit %llu < %llu needed; "
		    "raise it with ulimit -n\n", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)need);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interrupted)
		;
}

static unsigned
sum_connected(const struct bench_shared *sh, unsigned workers, unsigned *gave_up,
    bool *all_done, bool *any_exited)
{
	unsigned n = 0;

	*gave_up = 0;
	*all_done = true;
	*any_exited = false;
	for (unsigned i = 0; i < workers; i++) {
		n += atomic_load(&sh->w[i].connected);
		*gave_up += atomic_load(&sh->w[i].gave_up);
		*all_done &= atomic_load(&sh->w[i].ramp_done);
		*any_exited |= atomic_load(&sh->w[i].exited);
	}
	return n;
}

static double
ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

struct totals {
	uint64_t	connect_errors, tls_errors, server_errors, proto_errors, disconnects;
	uint64_t	reconnects, echo_sent, echo_answered, echo_missed;
	uint64_t	events_started, events_settled, events_timed_out, split_brain, vote_infos;
	uint64_t	first_ns, last_ns;
	unsigned	clients;
	struct hist	handshake, rtt, decision, node_decision;
};

static void
add_up(const struct bench_shared *sh, unsigned workers, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < workers; i++) {
		const struct worker_stats *s = &sh->w[i];

		t->clients += s->clients;
		t->connect_errors += s->connect_errors;
		t->tls_errors += s->tls_errors;
		t->server_errors += s->server_errors;
		t->proto_errors += s->proto_errors;
		t->disconnects += s->disconnects;
		t->reconnects += s->reconnects;
		t->echo_sent += s->echo_sent;
		t->echo_answered += s->echo_answered;
		t->echo_missed += s->echo_missed;
		t->events_started += s->events_started;
		t->events_settled += s->events_settled;
		t->events_timed_out += s->events_timed_out;
		t->split_brain += s->events_split_brain;
		t->vote_infos += s->vote_infos;
		if (s->first_connect_ns != 0 && (t->first_ns == 0 || s->first_connect_ns < t->first_ns))
			t->first_ns = s->first_connect_ns;
		if (s->last_connected_ns > t->last_ns)
			t->last_ns = s->last_connected_ns;
		hist_merge(&t->handshake, &s->handshake);
		hist_merge(&t->rtt, &s->rtt);
		hist_merge(&t->decision, &s->decision);
		hist_merge(&t->node_decision, &s->node_decision);
	}
}

void
bench_stop_workers(struct bench_shared *sh, const pid_t *pids, unsigned workers)
{
	uint64_t deadline = clock_now_ns() + STOP_WAIT_S * NS_PER_S;
	unsigned left = 0;

	atomic_store(&sh->phase, PHASE_STOP);
	for (unsigned i = 0; i < workers; i++)
		left += pids[i] > 0;
	while (left > 0) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);

		if (p > 0) {
			left--;
			continue;
		}
		if (p < 0 && errno == ECHILD)
			break;
		if (clock_now_ns() > deadline) {
			fprintf(stderr, "qnetd-bench: workers did not stop; killing them\n");
			for (unsigned i = 0; i < workers; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			while (waitpid(-1, &status, 0) > 0)
				;
			break;
		}
		sleep_ms(20);
	}
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_shared *sh;
	struct proc_sample base, ramp_end, m0, m1;
	pid_t pids[BENCH_MAX_WORKERS] = { 0 };
	unsigned total, connected = 0, gave_up = 0;
	uint64_t t_start, t_ramp_end, t_m0, t_m1, next_progress, t_best;
	unsigned best = 0;
	bool all_done = false, any_exited = false;
	struct totals t;
	struct sigaction sa;
	double window_s, cpu_s = 0, hs_span_s, hs_rate = 0, bench_cpu_s = 0;

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	total = o.clusters * o.nodes;
	raise_fd_limit(&o);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("qnetd-bench: mmap");
		return 1;
	}
	memset(sh, 0, sizeof(*sh));
	/* --storm: the workers start in the failover's pacing, nobody holding a vote */
	atomic_store(&sh->phase, o.storm ? PHASE_FAILOVER : PHASE_RAMP);
	/* shared with the workers (mapped before they fork): when each client voted again */
	sh->revote_ns = mmap(NULL, (size_t)(total ? total : 1) * sizeof(uint64_t),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh->revote_ns == MAP_FAILED) {
		perror("qnetd-bench: mmap");
		return 1;
	}

	printf("qnetd-bench: %u clients (%u clusters x %u nodes), %s, heartbeat %u ms, "
	    "%u s window, %u workers, target %s port %u\n", total, o.clusters, o.nodes,
	    o.tls ? "TLS" : "plaintext", o.hb_ms, o.duration_s, o.workers, o.host, o.port);
	fflush(stdout);

	proc_sample(o.qnetd_pid, &base);
	if (o.qnetd_pid > 0 && !base.ok) {
		fprintf(stderr, "qnetd-bench: cannot read /proc/%d\n", (int)o.qnetd_pid);
		return 1;
	}
	t_start = clock_now_ns();
	for (unsigned i = 0; i < o.workers; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("qnetd-bench: fork");
			bench_stop_workers(sh, pids, o.workers);
			return 1;
		}
		if (p == 0) {
			/* the parent decides when to stop */
			signal(SIGINT, SIG_IGN);
			signal(SIGTERM, SIG_IGN);
			_exit(bench_worker_run(&o, sh, i));
		}
		pids[i] = p;
	}
	if (o.storm)
		return storm_run(&o, sh, pids, o.workers, &base);

	/* ramp: until everybody is connected (or gave up), bounded */
	next_progress = t_start + 5 * NS_PER_S;
	t_best = t_start;
	for (;;) {
		uint64_t now = clock_now_ns();

		connected = sum_connected(sh, o.workers, &gave_up, &all_done, &any_exited);
		if (all_done || any_exited || interrupted)
			break;
		if (connected > best) {
			best = connected;
			t_best = now;
		} else if (now - t_best > (uint64_t)o.ramp_stall_s * NS_PER_S) {
			fprintf(stderr, "qnetd-bench: ramp stalled: no more than %u connected for %u s\n",
			    best, o.ramp_stall_s);
			break;
		}
		if (now - t_start > (uint64_t)o.ramp_timeout_s * NS_PER_S) {
			fprintf(stderr, "qnetd-bench: ramp timeout after %u s\n", o.ramp_timeout_s);
			break;
		}
		if (now >= next_progress) {
			fprintf(stderr, "qnetd-bench: ramp %.0f s: %u/%u connected, %u gave up\n",
			    (double)(now - t_start) / 1e9, connected, total, gave_up);
			next_progress += 5 * NS_PER_S;
		}
		sleep_ms(TICK_MS);
	}
	t_ramp_end = clock_now_ns();
	proc_sample(o.qnetd_pid, &ramp_end);
	if (any_exited)
		fprintf(stderr, "qnetd-bench: a worker failed during the ramp\n");

	if (!interrupted && !any_exited) {
		atomic_store(&sh->phase, PHASE_SETTLE);
		sleep_ms(SETTLE_S * 1000);
	}
	if (o.failover) {
		if (interrupted || any_exited || connected != total) {
			fprintf(stderr, "qnetd-bench: failover: %u of %u connected after the ramp\n",
			    connected, total);
			bench_stop_workers(sh, pids, o.workers);
			return 1;
		}
		return failover_run(&o, sh, pids, o.workers);
	}
	atomic_store(&sh->phase, PHASE_MEASURE);
	t_m0 = clock_now_ns();
	proc_sample(o.qnetd_pid, &m0);
	for (unsigned k = 0; k < o.duration_s * (1000 / TICK_MS) && !interrupted; k++)
		sleep_ms(TICK_MS);
	proc_sample(o.qnetd_pid, &m1);
	t_m1 = clock_now_ns();
	connected = sum_connected(sh, o.workers, &gave_up, &all_done, &any_exited);
	bench_stop_workers(sh, pids, o.workers);

	add_up(sh, o.workers, &t);
	for (unsigned i = 0; i < o.workers; i++)
		bench_cpu_s += sh->w[i].cpu_window_s > 0 ? sh->w[i].cpu_window_s : 0;
	window_s = (double)(t_m1 - t_m0) / 1e9;
	hs_span_s = t.last_ns > t.first_ns ? (double)(t.last_ns - t.first_ns) / 1e9 : 0;
	if (hs_span_s > 0)
		hs_rate = (double)t.handshake.count / hs_span_s;

	printf("ramp: %u/%u connected after %.1f s (%u gave up); %llu handshakes at %.0f/s, "
	    "handshake p50 %.2f ms p99 %.2f ms\n", connected, total,
	    (double)(t_ramp_end - t_start) / 1e9, gave_up,
	    (unsigned long long)t.handshake.count, hs_rate,
	    ms(hist_quantile(&t.handshake, 0.5)), ms(hist_quantile(&t.handshake, 0.99)));
	printf("errors: connect %llu, tls %llu, server %llu, protocol %llu, disconnects %llu, "
	    "reconnects %llu\n", (unsigned long long)t.connect_errors,
	    (unsigned long long)t.tls_errors, (unsigned long long)t.server_errors,
	    (unsigned long long)t.proto_errors, (unsigned long long)t.disconnects,
	    (unsigned long long)t.reconnects);
	printf("window %.1f s: echoes sent %llu, answered %llu, missed %llu; "
	    "heartbeat RTT p50 %.3f ms p99 %.3f ms max %.3f ms\n", window_s,
	    (unsigned long long)t.echo_sent, (unsigned long long)t.echo_answered,
	    (unsigned long long)t.echo_missed, ms(hist_quantile(&t.rtt, 0.5)),
	    ms(hist_quantile(&t.rtt, 0.99)), ms(t.rtt.max_ns));
	printf("decisions: %llu started, %llu settled, %llu timed out/aborted, %llu split-brain, "
	    "%llu VOTE_INFO; latency p50 %.3f ms p99 %.3f ms max %.3f ms (per node p99 %.3f ms)\n",
	    (unsigned long long)t.events_started, (unsigned long long)t.events_settled,
	    (unsigned long long)t.events_timed_out, (unsigned long long)t.split_brain,
	    (unsigned long long)t.vote_infos, ms(hist_quantile(&t.decision, 0.5)),
	    ms(hist_quantile(&t.decision, 0.99)), ms(t.decision.max_ns),
	    ms(hist_quantile(&t.node_decision, 0.99)));
	/* qnetd figures; "-" when it could not be sampled (no --qnetd-pid, or it died) */
	char cpu_str[32] = "-", pct_str[32] = "-", echo_str[32] = "-", ramp_str[32] = "-";
	char rss_str[32] = "-", kib_str[32] = "-", sys_str[32] = "-";

	if (ramp_end.ok)
		snprintf(ramp_str, sizeof(ramp_str), "%.2f", ramp_end.cpu_s - base.cpu_s);
	if (m0.ok && m1.ok) {
		double kib_per_client = 0;

		cpu_s = m1.cpu_s - m0.cpu_s;
		if (connected > 0 && m1.rss_kib > base.rss_kib)
			kib_per_client = (double)(m1.rss_kib - base.rss_kib) / connected;
		snprintf(cpu_str, sizeof(cpu_str), "%.3f", cpu_s);
		snprintf(pct_str, sizeof(pct_str), "%.1f", 100.0 * cpu_s / window_s);
		snprintf(echo_str, sizeof(echo_str), "%.2f",
		    t.echo_answered ? cpu_s * 1e6 / (double)t.echo_answered : 0);
		/* The kernel's part (loopback TCP, epoll): a floor no user-space change moves. */
		snprintf(sys_str, sizeof(sys_str), "%.2f", t.echo_answered ?
		    (m1.sys_s - m0.sys_s) * 1e6 / (double)t.echo_answered : 0);
		snprintf(rss_str, sizeof(rss_str), "%lu", m1.rss_kib);
		snprintf(kib_str, sizeof(kib_str), "%.2f", kib_per_client);
		printf("qnetd pid %d (+%u child processes): ramp CPU %s s (%.0f us/handshake); "
		    "window CPU %s s (%s%% of a core), %s us per echo answered (%s us of it in "
		    "the kernel)\n", (int)o.qnetd_pid, m1.processes, ramp_str,
		    t.handshake.count && ramp_end.ok ?
		    (ramp_end.cpu_s - base.cpu_s) * 1e6 / (double)t.handshake.count : 0,
		    cpu_str, pct_str, echo_str, sys_str);
		printf("qnetd RSS: %lu KiB before connects, %lu KiB at window start, %lu KiB at end "
		    "(%s KiB per connected client)\n", base.rss_kib, m0.rss_kib, m1.rss_kib, kib_str);
	} else if (o.qnetd_pid > 0) {
		printf("qnetd pid %d could not be sampled at the end of the window (exited?)\n",
		    (int)o.qnetd_pid);
	}
	printf("bench workers: %.2f CPU s in the window (%.0f%% of a core, same machine)\n",
	    bench_cpu_s, 100.0 * bench_cpu_s / window_s);
	printf("RESULT clients=%u connected=%u hs_per_s=%.0f hs_p99_ms=%.2f ramp_cpu_s=%s "
	    "rtt_p50_ms=%.3f rtt_p99_ms=%.3f echoes=%llu missed=%llu dec_settled=%llu "
	    "dec_failed=%llu dec_p50_ms=%.3f dec_p99_ms=%.3f split_brain=%llu cpu_s=%s "
	    "cpu_pct=%s us_per_echo=%s sys_us_per_echo=%s rss_base_kib=%lu rss_kib=%s kib_per_client=%s "
	    "errors=%llu bench_cpu_s=%.2f\n", total, connected, hs_rate,
	    ms(hist_quantile(&t.handshake, 0.99)), ramp_str, ms(hist_quantile(&t.rtt, 0.5)),
	    ms(hist_quantile(&t.rtt, 0.99)), (unsigned long long)t.echo_answered,
	    (unsigned long long)t.echo_missed, (unsigned long long)t.events_settled,
	    (unsigned long long)t.events_timed_out, ms(hist_quantile(&t.decision, 0.5)),
	    ms(hist_quantile(&t.decision, 0.99)), (unsigned long long)t.split_brain, cpu_str,
	    pct_str, echo_str, sys_str, base.rss_kib, rss_str, kib_str,
	    (unsigned long long)(t.connect_errors + t.tls_errors + t.server_errors +
	    t.proto_errors + t.disconnects), bench_cpu_s);
	munmap(sh, sizeof(*sh));
	if (interrupted)
		return 130;
	return connected == total && t.split_brain == 0 ? 0 : 1;
}
