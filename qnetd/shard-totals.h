/*
 * qnetd/shard-totals.h: the figures status and metrics count, and how a
 * worker process (shard.h) hands its own to the front: one line of text
 * answering "shard totals", which the front reads back and sums over the
 * workers. Formatting the final figures for people, JSON and Prometheus
 * is status.h's job.
 */
#ifndef QNETD_SHARD_TOTALS_H
#define QNETD_SHARD_TOTALS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "instance.h"

/* One process's figures, or the sum over the worker processes. */
struct qnetd_totals {
	uint32_t		clients;
	uint32_t		clusters;
	struct qnetd_stats	stats;
	bool			tls_loaded;
	long			cert_days_left;	/* the soonest, when tls_loaded */
};

/* This process's own: a worker's share, or all of a single process. */
void	shard_totals_of(const struct qnetd_instance *inst, struct qnetd_totals *t);
/* Add one worker's share to sum: counters add, the soonest certificate expiry wins. */
void	shard_totals_add(struct qnetd_totals *sum, const struct qnetd_totals *part);
/* The worker's side: t as one line of text. */
void	shard_totals_write(const struct qnetd_totals *t, FILE *out);
/* The front's side: a line shard_totals_write made; 0, or -EINVAL for anything else. */
int	shard_totals_parse(const char *text, struct qnetd_totals *t);

#endif
