/*
 * qnetd/status.h: the text of `qnetd-tool -s` and `-l` (docs/protocol.md 5.5),
 * byte-compatible with upstream because pcs and pvecm scrape it.
 */
#ifndef QNETD_STATUS_H
#define QNETD_STATUS_H

#include <stdbool.h>
#include <stdio.h>

#include "instance.h"
#include "shard-totals.h"	/* struct qnetd_totals: the figures written here */

void	qnetd_status_write(const struct qnetd_instance *inst, const struct qnetd_totals *t,
	    bool verbose, FILE *out);
/*
 * cluster_name NULL or "": every cluster, in creation order as upstream.
 * 0 or -ENOMEM, after which out holds nothing.
 */
int	qnetd_list_write(const struct qnetd_instance *inst, bool verbose,
	    const char *cluster_name, FILE *out);

/*
 * fn for every cluster with clients, oldest first, or for cluster_name
 * alone when it is set and not ""; prefix goes to out first, once nothing
 * can fail. 0, or -ENOMEM with nothing written. Also used by explain.c.
 */
struct qnetd_cluster;
typedef void	qnetd_cluster_fn(const struct qnetd_cluster *cl, void *arg);
int	qnetd_for_each_cluster(const struct qnetd_instance *inst, const char *cluster_name,
	    qnetd_cluster_fn *fn, void *arg, const char *prefix, FILE *out);

/*
 * Through qnetd_for_each_cluster, fn's JSON object for each cluster,
 * comma-separated. With first NULL, the whole document {"clusters":[...]};
 * else only the objects, continuing a list where *first says whether one
 * came before. Also used by explain.c.
 */
typedef void	qnetd_cluster_json_fn(FILE *out, const struct qnetd_cluster *cl);
int	qnetd_for_each_cluster_json(const struct qnetd_instance *inst,
	    const char *cluster_name, qnetd_cluster_json_fn *fn, bool *first, FILE *out);

/* The same facts as one JSON object each (schema in qnetd-tool(8)). */
void	qnetd_status_write_json(const struct qnetd_instance *inst,
	    const struct qnetd_totals *t, FILE *out);
int	qnetd_list_write_json(const struct qnetd_instance *inst, const char *cluster_name,
	    FILE *out);
/* Only the cluster objects, comma-separated; *first says whether one came before. */
int	qnetd_list_write_json_items(const struct qnetd_instance *inst,
	    const char *cluster_name, bool *first, FILE *out);
/*
 * Prometheus text exposition format, for node_exporter's textfile
 * collector. cluster_lines: the per-cluster samples (NULL: inst's own).
 */
void	qnetd_metrics_write(const struct qnetd_instance *inst, const struct qnetd_totals *t,
	    const char *cluster_lines, FILE *out);
void	qnetd_metrics_write_clusters(const struct qnetd_instance *inst, FILE *out);

#endif
