/*
 * qnetd/status.h: the text of `qnetd-tool -s` and `-l` (PROTOCOL.md 5.5),
 * byte-compatible with upstream because pcs and pvecm scrape it.
 */
#ifndef QNETD_STATUS_H
#define QNETD_STATUS_H

#include <stdbool.h>
#include <stdio.h>

struct qnetd_instance;

void	qnetd_status_write(const struct qnetd_instance *inst, bool verbose, FILE *out);
/* cluster_name NULL: every cluster. */
void	qnetd_list_write(const struct qnetd_instance *inst, bool verbose,
	    const char *cluster_name, FILE *out);

/* The same facts as one JSON object each (schema in qnetd-tool(8)). */
void	qnetd_status_write_json(const struct qnetd_instance *inst, FILE *out);
void	qnetd_list_write_json(const struct qnetd_instance *inst, const char *cluster_name,
	    FILE *out);
/* Prometheus text exposition format, for node_exporter's textfile collector. */
void	qnetd_metrics_write(const struct qnetd_instance *inst, FILE *out);

#endif
