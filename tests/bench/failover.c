/*
 * tests/bench/failover.c: --failover. Once every client holds ACK, the
 * workers switch to qdevice's reconnect pacing (docs/protocol.md 2.10) and
 * the parent tells the driving script (a "ready" file) to kill qnetd and
 * start a new one on the same address. The parent then takes the moment
 * the new qnetd accepts its first TCP connection as time zero and waits
 * until every client holds ACK again. Report: per client time to ACK,
 * handshakes/s of the reconnect storm, the new qnetd's CPU time.
 * --storm: the same pacing and report without the first qnetd: qnetd
 * already listens and every client starts its first connect at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define PROBE_MS	5	/* how often the parent tries the address while nobody listens */

static void
nap_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

uint64_t
failover_retry_delay_ns(const struct bench_opts *o, enum failover_retry why, uint64_t rnd)
{
	uint64_t span;

	switch (why) {
	case RETRY_LOST:
		/* qdevice sleeps random() % (0.9 x cast_vote_timer_interval) ms */
		return o->lost_retry_max_ms ? (rnd % o->lost_retry_max_ms) * NS_PER_MS : 0;
	case RETRY_REFUSED:
		/* upstream: when the connect timer fires; ours: a jittered short pause */
		span = (uint64_t)(o->refused_max_ms - o->refused_min_ms) + 1;
		return ((uint64_t)o->refused_min_ms + rnd % span) * NS_PER_MS;
	case RETRY_TIMED_OUT:
	default:
		return 0;	/* the connect timer has already paced this attempt */
	}
}

static unsigned
sum_u32(const struct bench_shared *sh, unsigned workers, size_t offset)
{
	unsigned n = 0;

	for (unsigned i = 0; i < workers; i++)
		n += atomic_load((_Atomic uint32_t *)((char *)&sh->w[i] + offset));
	return n;
}

/* Wait until f(sum) holds, polling every ms; false on timeout. */
static bool
wait_count(const struct bench_shared *sh, unsigned workers, size_t offset, unsigned want,
    bool at_least, uint64_t deadline, unsigned poll_ms)
{
	for (;;) {
		unsigned n = sum_u32(sh, workers, offset);

		if (at_least ? n >= want : n <= want)
			return true;
		if (clock_now_ns() > deadline)
			return false;
		nap_ms(poll_ms);
	}
}

/* One non-blocking TCP connect to the address, waiting at most PROBE_MS. */
static bool
probe(const struct bench_opts *o)
{
	/* host is a literal address (bench.h): no name lookup, IPv4 and IPv6 alike */
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;
	struct sockaddr_storage ss;
	socklen_t len;
	char port[8];
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t elen = sizeof(err);
	bool ok = false;

	snprintf(port, sizeof(port), "%u", (unsigned)o->port);
	if (getaddrinfo(o->host, port, &hints, &ai) != 0)
		return false;
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	len = ai->ai_addrlen;
	freeaddrinfo(ai);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		ok = true;
	} else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		/* no answer in time = backlog full or nobody there yet: try again later */
		if (poll(&pfd, 1, PROBE_MS) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0)
			ok = true;
	}
	close(fd);
	return ok;
}

static pid_t
read_pid_file(const char *path)
{
	FILE *f;
	long v = 0;

	if (path == NULL)
		return 0;
	for (int tries = 0; tries < 100; tries++) {
		f = fopen(path, "r");
		if (f != NULL) {
			int n = fscanf(f, "%ld", &v);

			fclose(f);
			if (n == 1 && v > 0)
				return (pid_t)v;
		}
		nap_ms(10);
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
at_ms(const uint64_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

/* The few TLS code points a qnetd handshake can show, for the report */
static const char *
group_name(uint16_t g)
{
	switch (g) {
	case 23:	return "secp256r1";
	case 24:	return "secp384r1";
	case 25:	return "secp521r1";
	case 29:	return "x25519";
	case 256:	return "ffdhe2048";
	default:	return "other";
	}
}

static const char *
sig_scheme_name(uint16_t s)
{
	switch (s) {
	case 0x0401:	return "rsa_pkcs1_sha256";
	case 0x0403:	return "ecdsa_secp256r1_sha256";
	case 0x0804:	return "rsa_pss_rsae_sha256";
	case 0x0805:	return "rsa_pss_rsae_sha384";
	case 0x0806:	return "rsa_pss_rsae_sha512";
	default:	return "other";
	}
}

/*
 * Every client's time from t0 to its vote, the handshakes and the CPU spent
 * from t0 (b0) to the last vote (b1): the summary lines, prefixed by mode,
 * and one RESULT line (mode=MODE, then extra_kv, then the common keys).
 */
static int
report_votes(const struct bench_opts *o, struct bench_shared *sh, unsigned workers,
    const char *mode, uint64_t t0, uint64_t t_seen, const struct proc_sample *b0,
    const struct proc_sample *b1, const char *extra_kv)
{
	unsigned total = o->clusters * o->nodes, refused = 0, timeouts = 0, group = 0;
	uint64_t t_all = t_seen, handshakes = 0, tls_done = 0, abandoned = 0, *lat;
	double bench_cpu = 0, span_s, cpu_s = -1, cpu_per_hs_ms = -1;
	static struct hist attempt;	/* connect -> INIT_REPLY of the successful attempts */
	size_t n = 0;

	lat = calloc(total ? total : 1, sizeof(*lat));
	if (lat == NULL) {
		perror("qnetd-bench: calloc");
		return 1;
	}
	for (unsigned i = 0; i < total; i++)
		if (sh->revote_ns[i] != 0)
			lat[n++] = sh->revote_ns[i] > t0 ? sh->revote_ns[i] - t0 : 0;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	if (n > 0)
		t_all = t0 + lat[n - 1];	/* the last vote, not when we noticed it */
	for (unsigned i = 0; i < workers; i++) {
		handshakes += sh->w[i].fo_handshakes;
		tls_done += sh->w[i].fo_tls_done;
		abandoned += sh->w[i].fo_tls_abandoned;
		refused += (unsigned)sh->w[i].fo_refused;
		timeouts += (unsigned)sh->w[i].fo_timeouts;
		bench_cpu += sh->w[i].fo_cpu_s > 0 ? sh->w[i].fo_cpu_s : 0;
		hist_merge(&attempt, &sh->w[i].handshake);
	}
	span_s = (double)(t_all - t0) / 1e9;
	if (b0->ok && b1->ok)
		cpu_s = b1->cpu_s - b0->cpu_s;
	/* all of qnetd's CPU in that time over the full TLS handshakes it did, wasted ones too */
	if (cpu_s >= 0 && tls_done > 0)
		cpu_per_hs_ms = cpu_s * 1e3 / (double)tls_done;
	printf("%s: %zu/%u clients hold ACK, the last %.0f ms after time zero; "
	    "per client p50 %.0f ms p99 %.0f ms max %.0f ms\n", mode, n, total,
	    (double)(t_all - t0) / 1e6, at_ms(lat, n, 0.5), at_ms(lat, n, 0.99),
	    at_ms(lat, n, 1.0));
	printf("%s: %llu handshakes to INIT_REPLY (%.0f/s until the last vote), %llu TLS "
	    "handshakes completed, %llu of them closed before their vote; %u refused connects, "
	    "%u connect timer expiries\n", mode, (unsigned long long)handshakes,
	    span_s > 0 ? (double)handshakes / span_s : 0, (unsigned long long)tls_done,
	    (unsigned long long)abandoned, refused, timeouts);
	/* (with --failover this includes the first connects, before qnetd went away) */
	printf("%s: connect -> INIT_REPLY of the attempts that got it: p50 %.0f ms p99 %.0f ms "
	    "max %.0f ms\n", mode, (double)hist_quantile(&attempt, 0.5) / 1e6,
	    (double)hist_quantile(&attempt, 0.99) / 1e6, (double)attempt.max_ns / 1e6);
	printf("%s: qnetd CPU %.2f s (%.0f%% of a core, %u child processes) in that time, "
	    "%.2f ms per completed TLS handshake; bench workers %.2f CPU s\n", mode, cpu_s,
	    span_s > 0 && cpu_s >= 0 ? 100.0 * cpu_s / span_s : 0, b1->processes,
	    cpu_per_hs_ms, bench_cpu);
	for (unsigned i = 0; i < workers; i++) {
		if (!sh->w[i].tls_info_set)
			continue;
		group = sh->w[i].tls_group;
		printf("%s: TLS 0x%04x, key exchange group %u (%s), server signature 0x%04x (%s)\n",
		    mode, sh->w[i].tls_version, group, group_name(group), sh->w[i].tls_sig_scheme,
		    sig_scheme_name(sh->w[i].tls_sig_scheme));
		break;
	}
	printf("RESULT mode=%s %s clients=%u revoted=%zu all_ms=%.0f "
	    "p50_ms=%.0f p99_ms=%.0f max_ms=%.0f handshakes=%llu hs_per_s=%.0f "
	    "tls_done=%llu tls_abandoned=%llu refused=%u timeouts=%u qnetd_cpu_s=%.2f "
	    "qnetd_cpu_pct=%.0f cpu_ms_per_hs=%.2f bench_cpu_s=%.2f refused_retry_ms=%u-%u "
	    "connect_timer_ms=%u tls_group=%u init_p50_ms=%.0f init_p99_ms=%.0f\n", mode,
	    extra_kv, total, n,
	    (double)(t_all - t0) / 1e6,
	    at_ms(lat, n, 0.5), at_ms(lat, n, 0.99), at_ms(lat, n, 1.0),
	    (unsigned long long)handshakes, span_s > 0 ? (double)handshakes / span_s : 0,
	    (unsigned long long)tls_done, (unsigned long long)abandoned, refused, timeouts,
	    cpu_s, span_s > 0 && cpu_s >= 0 ? 100.0 * cpu_s / span_s : 0, cpu_per_hs_ms,
	    bench_cpu, o->refused_min_ms, o->refused_max_ms, o->connect_timeout_ms, group,
	    (double)hist_quantile(&attempt, 0.5) / 1e6, (double)hist_quantile(&attempt, 0.99) / 1e6);
	free(lat);
	return n == total ? 0 : 1;
}

int
failover_run(const struct bench_opts *o, struct bench_shared *sh, const pid_t *pids,
    unsigned workers)
{
	unsigned total = o->clusters * o->nodes, revoted;
	uint64_t limit = (uint64_t)o->failover_timeout_s * NS_PER_S;
	uint64_t t_ready, t_lost, t0, t_seen;
	struct proc_sample b0 = { 0 }, b1 = { 0 };
	char extra[64];
	pid_t qpid;
	int fd;

	if (!wait_count(sh, workers, offsetof(struct worker_stats, acked), total, true,
	    clock_now_ns() + limit, 10)) {
		fprintf(stderr, "qnetd-bench: failover: only %u of %u clients hold ACK\n",
		    sum_u32(sh, workers, offsetof(struct worker_stats, acked)), total);
		bench_stop_workers(sh, pids, workers);
		return 1;
	}
	atomic_store(&sh->phase, PHASE_FAILOVER);
	nap_ms(100);	/* the workers poll the phase every 20 ms */
	t_ready = clock_now_ns();
	if (o->failover_ready_file != NULL) {
		fd = open(o->failover_ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			perror("qnetd-bench: failover ready file");
			bench_stop_workers(sh, pids, workers);
			return 1;
		}
		close(fd);
	}
	printf("failover: %u clients hold ACK; waiting for qnetd to go away\n", total);
	fflush(stdout);
	if (!wait_count(sh, workers, offsetof(struct worker_stats, connected), 0, false,
	    t_ready + limit, 1)) {
		fprintf(stderr, "qnetd-bench: failover: the clients did not lose qnetd\n");
		bench_stop_workers(sh, pids, workers);
		return 1;
	}
	t_lost = clock_now_ns();
	/* time zero: the first TCP connect that gets through, ours or a client's */
	for (;;) {
		if (probe(o))
			break;
		if (sum_u32(sh, workers, offsetof(struct worker_stats, connected)) > 0)
			break;
		if (clock_now_ns() - t_lost > limit) {
			fprintf(stderr, "qnetd-bench: failover: nobody listened within %u s\n",
			    o->failover_timeout_s);
			bench_stop_workers(sh, pids, workers);
			return 1;
		}
		nap_ms(PROBE_MS);
	}
	t0 = clock_now_ns();
	qpid = read_pid_file(o->failover_pid_file);
	proc_sample(qpid, &b0);
	for (;;) {
		uint64_t now = clock_now_ns();

		revoted = sum_u32(sh, workers, offsetof(struct worker_stats, revoted));
		if (revoted >= total || now - t0 > limit)
			break;
		nap_ms(5);
	}
	t_seen = clock_now_ns();
	proc_sample(qpid, &b1);
	bench_stop_workers(sh, pids, workers);
	printf("failover: lost after %.0f ms; new qnetd reached %.0f ms later "
	    "(first TCP connect through, probed every %d ms)\n",
	    (double)(t_lost - t_ready) / 1e6, (double)(t0 - t_lost) / 1e6, PROBE_MS);
	snprintf(extra, sizeof(extra), "lost_ms=%.0f", (double)(t_lost - t_ready) / 1e6);
	return report_votes(o, sh, workers, "failover", t0, t_seen, &b0, &b1, extra);
}

/* qnetd has exited (or is a zombie its parent has not reaped yet) */
static bool
qnetd_gone(pid_t pid)
{
	char path[64], state = '?';
	FILE *f;
	int n;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	/* "pid (comm) S ...": comm may hold spaces, the state follows the last ')' */
	n = fscanf(f, "%*d (%*[^)]) %c", &state);
	fclose(f);
	return n == 1 && (state == 'Z' || state == 'X');
}

int
storm_run(const struct bench_opts *o, struct bench_shared *sh, const pid_t *pids,
    unsigned workers, const struct proc_sample *before)
{
	unsigned total = o->clusters * o->nodes, revoted = 0;
	uint64_t limit = (uint64_t)o->failover_timeout_s * NS_PER_S;
	uint64_t start = clock_now_ns(), t0 = 0, t_seen, next_progress = start + 5 * NS_PER_S;
	struct proc_sample b1 = { 0 };

	for (;;) {
		uint64_t now = clock_now_ns();

		revoted = sum_u32(sh, workers, offsetof(struct worker_stats, revoted));
		if (revoted >= total || now - start > limit)
			break;
		if (now >= next_progress) {
			if (qnetd_gone(o->qnetd_pid)) {
				fprintf(stderr, "qnetd-bench: storm: qnetd (pid %d) has exited\n",
				    (int)o->qnetd_pid);
				break;
			}
			fprintf(stderr, "qnetd-bench: storm %.0f s: %u/%u voted\n",
			    (double)(now - start) / 1e9, revoted, total);
			next_progress += 5 * NS_PER_S;
		}
		nap_ms(5);
	}
	t_seen = clock_now_ns();
	proc_sample(o->qnetd_pid, &b1);
	bench_stop_workers(sh, pids, workers);
	if (revoted < total)
		fprintf(stderr, "qnetd-bench: storm: %u of %u voted within %u s\n", revoted, total,
		    o->failover_timeout_s);
	/* time zero: the first connect any client started (the workers start together) */
	for (unsigned i = 0; i < workers; i++)
		if (sh->w[i].first_connect_ns != 0 && (t0 == 0 || sh->w[i].first_connect_ns < t0))
			t0 = sh->w[i].first_connect_ns;
	if (t0 == 0)
		t0 = start;
	printf("storm: %u clients connected at once to a listening qnetd, connect timer %u ms, "
	    "refused retry %u-%u ms; time zero = the first connect\n", total,
	    o->connect_timeout_ms, o->refused_min_ms, o->refused_max_ms);
	return report_votes(o, sh, workers, "storm", t0, t_seen, before, &b1, "");
}
