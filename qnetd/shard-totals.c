/* qnetd/shard-totals.c: a process's figures, and the line a worker sends them in. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cert-cache.h"
#include "common/hooks.h"
#include "shard-totals.h"

void
shard_totals_of(const struct qnetd_instance *inst, struct qnetd_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->clients = inst->conns.count;
	t->clusters = inst->cluster_count;
	t->stats = inst->stats;
	t->stats.tls_handshakes_unplaced = inst->conns.gate.unplaced_total;
	t->stats.tls_places_released = inst->conns.gate.released_total;
	t->stats.tls_places_used = inst->conns.gate.places_used;
	t->stats.client_chains_verified = inst->tls.chains_verified;
	t->stats.client_cert_cache_hits = cert_cache_hits(inst->tls.verified);
	t->stats.hooks_dropped = hooks_dropped(inst->hooks);
	t->stats.hooks_timed_out = hooks_timed_out(inst->hooks);
	t->stats.hooks_running = hooks_running(inst->hooks);
	t->stats.hooks_queued = hooks_queued(inst->hooks);
	t->tls_loaded = inst->conns.tls_loaded;
	t->cert_days_left = inst->cert_days_left;
}

/*
 * The counters are the uint64_t fields in front of latency_sum_s; handled
 * as one array (through memcpy) so a new counter needs no change here.
 */
#define STATS_U64_COUNT	(offsetof(struct qnetd_stats, latency_sum_s) / sizeof(uint64_t))
_Static_assert(offsetof(struct qnetd_stats, latency_sum_s) % sizeof(uint64_t) == 0 &&
    offsetof(struct qnetd_stats, latency_sum_s) + sizeof(double) == sizeof(struct qnetd_stats),
    "struct qnetd_stats: uint64_t counters, then latency_sum_s last");

void
shard_totals_add(struct qnetd_totals *sum, const struct qnetd_totals *part)
{
	uint64_t a[STATS_U64_COUNT], b[STATS_U64_COUNT];

	sum->clients += part->clients;
	sum->clusters += part->clusters;
	memcpy(a, &sum->stats, sizeof(a));
	memcpy(b, &part->stats, sizeof(b));
	for (size_t i = 0; i < STATS_U64_COUNT; i++)
		a[i] += b[i];
	memcpy(&sum->stats, a, sizeof(a));
	sum->stats.latency_sum_s += part->stats.latency_sum_s;
	if (part->tls_loaded && (!sum->tls_loaded || part->cert_days_left < sum->cert_days_left))
		sum->cert_days_left = part->cert_days_left;
	sum->tls_loaded = sum->tls_loaded || part->tls_loaded;
}

void
shard_totals_write(const struct qnetd_totals *t, FILE *out)
{
	uint64_t v[STATS_U64_COUNT];

	memcpy(v, &t->stats, sizeof(v));
	fprintf(out, "%" PRIu32 " %" PRIu32 " %d %ld", t->clients, t->clusters,
	    t->tls_loaded ? 1 : 0, t->cert_days_left);
	for (size_t i = 0; i < STATS_U64_COUNT; i++)
		fprintf(out, " %" PRIu64, v[i]);
	fprintf(out, " %.9f\n", t->stats.latency_sum_s);
}

int
shard_totals_parse(const char *text, struct qnetd_totals *t)
{
	uint64_t v[STATS_U64_COUNT];
	unsigned long long clients, clusters;
	int tls, used = 0;
	long days;
	const char *p = text;
	char *end;

	memset(t, 0, sizeof(*t));
	if (sscanf(p, "%llu %llu %d %ld%n", &clients, &clusters, &tls, &days, &used) != 4 ||
	    clients > UINT32_MAX || clusters > UINT32_MAX)
		return -EINVAL;
	p += used;
	for (size_t i = 0; i < STATS_U64_COUNT; i++) {
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (end == p || errno != 0)
			return -EINVAL;
		p = end;
	}
	memcpy(&t->stats, v, sizeof(v));
	t->stats.latency_sum_s = strtod(p, &end);
	if (end == p)
		return -EINVAL;
	t->clients = (uint32_t)clients;
	t->clusters = (uint32_t)clusters;
	t->tls_loaded = tls != 0;
	t->cert_days_left = days;
	return 0;
}
