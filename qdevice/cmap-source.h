/*
 * qdevice/cmap-source.h: corosync's cmap as a struct config_source, the one
 * used by the daemon (qdevice/cmap.c) and by qdevice-tool --plan
 * (qdevice/plan-input.c).
 */
#ifndef QDEVICE_CMAP_SOURCE_H
#define QDEVICE_CMAP_SOURCE_H

#include <corosync/cmap.h>
#include <corosync/corotypes.h>

#include "corosync-config.h"

/* A corosync error as -errno (0 for CS_OK, -EIO for what has no better match). */
int	cmap_source_errno(cs_error_t err);

/* Make src read through the open handle *h, which must outlive src. */
void	cmap_source_init(struct config_source *src, cmap_handle_t *h);

#endif
