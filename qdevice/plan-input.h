/*
 * qdevice/plan-input.h: what `qdevice-tool --plan` knows of the live
 * cluster. Reads corosync's configuration and knet statistics through
 * struct config_source (so tests feed key/values without corosync) into
 * the planner's plan_cluster and plan_env, and takes qdevice's state from
 * its admin socket ("status json"). Unknown values stay marked unknown.
 */
#ifndef QDEVICE_PLAN_INPUT_H
#define QDEVICE_PLAN_INPUT_H

#include <stddef.h>

#include "corosync-config.h"
#include "plan-env.h"
#include "plan.h"

/*
 * Fill c and e from cfg (corosync's configuration map) and, when stats is
 * not NULL, the knet link state from stats (corosync's statistics map).
 * c and e must be zeroed / plan_env_init()ed. 0, or -errno with err saying
 * what could not be read (the caller's "could not read the cluster"); on
 * failure c and e must still be finalised.
 */
int	plan_input_read(const struct config_source *cfg, const struct config_source *stats,
	    struct plan_cluster *c, struct plan_env *e, char *err, size_t err_len);

/*
 * Take qdevice's answer to "status json" (the body after "OK\n") into e,
 * and its latest heuristics result into the local node of c. 0, or
 * -EINVAL when the body is not the status qdevice writes.
 */
int	plan_input_qdevice_status(const char *body, struct plan_cluster *c,
	    struct plan_env *e);

/*
 * The live cluster: cmap (both maps) and qdevice's socket at path. A
 * missing or silent qdevice is not an error (e->qdevice_known false, why in
 * e->qdevice_error). 0, or -errno with err when corosync cannot be read.
 */
int	plan_input_live(const char *qdevice_socket, struct plan_cluster *c,
	    struct plan_env *e, char *err, size_t err_len);

#endif
