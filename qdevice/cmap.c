/*
 * qdevice/cmap.c: corosync's configuration map: the connection that
 * qdevice/corosync-config.c reads (through qdevice/cmap-source.c), and
 * tracking of the keys that are reloaded live (docs/protocol.md 4.1).
 * Changes are collected while corosync reloads its configuration or a
 * membership sync runs, then handed over at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <qb/qblog.h>

#include "cmap-source.h"
#include "qdevice.h"

#define RELOAD_KEY	"config.totemconfig_reload_in_progress"

struct qdevice_cmap {
	cmap_handle_t		 handle;
	bool			 initialized;
	int			 fd;		/* -1: not in the loop */
	cmap_track_handle_t	 tracks[4];
	size_t			 track_count;
	bool			 reload_in_progress;
	bool			 dirty_nodes;
	bool			 dirty_logging;
	bool			 dirty_heuristics;
	bool			 job_pending;
};

int
qdevice_cmap_init(struct qdevice *qd)
{
	struct qdevice_cmap *c;
	cs_error_t err = CS_OK;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->fd = -1;
	qd->cmap = c;
	for (uint32_t i = 0; i < qd->settings.max_cs_try_again; i++) {
		err = cmap_initialize(&c->handle);
		if (err != CS_ERR_TRY_AGAIN)
			break;
		sleep(1);	/* startup only, before the loop runs */
	}
	if (err != CS_OK)
		return cmap_source_errno(err);
	c->initialized = true;
	cmap_source_init(&qd->src, &c->handle);
	return 0;
}

/* Hand the collected changes over, unless a reload or a sync still runs. */
static void
process_changes(void *data)
{
	struct qdevice *qd = data;
	struct qdevice_cmap *c = qd->cmap;
	bool nodes, logging, heuristics;

	c->job_pending = false;
	if (c->reload_in_progress || qd->sync_in_progress)
		return;
	nodes = c->dirty_nodes;
	logging = c->dirty_logging;
	heuristics = c->dirty_heuristics;
	c->dirty_nodes = c->dirty_logging = c->dirty_heuristics = false;
	if (nodes || logging || heuristics)
		qdevice_on_config_changed(qd, nodes, logging, heuristics);
}

static void
schedule_changes(struct qdevice *qd)
{
	struct qdevice_cmap *c = qd->cmap;

	if (c->job_pending)
		return;
	c->job_pending = qb_loop_job_add(qd->loop, QB_LOOP_MED, qd, process_changes) == 0;
}

void
qdevice_cmap_sync_done(struct qdevice *qd)
{
	if (qd->cmap != NULL && qd->cmap->fd >= 0)
		schedule_changes(qd);
}

static void
track_notify(cmap_handle_t h, cmap_track_handle_t th, int32_t event, const char *key,
    struct cmap_notify_value new_val, struct cmap_notify_value old_val, void *user_data)
{
	struct qdevice *qd = user_data;
	struct qdevice_cmap *c = qd->cmap;

	(void)h;
	(void)th;
	(void)event;
	(void)old_val;
	if (strcmp(key, RELOAD_KEY) == 0) {
		uint8_t v = 0;

		if (new_val.type == CMAP_VALUETYPE_UINT8 && new_val.len == 1)
			memcpy(&v, new_val.data, 1);
		c->reload_in_progress = v != 0;
		if (!c->reload_in_progress) {
			/* A finished reload may have touched anything we track. */
			c->dirty_nodes = c->dirty_logging = c->dirty_heuristics = true;
		}
	} else if (strncmp(key, "nodelist.", 9) == 0 ||
	    strcmp(key, "totem.config_version") == 0) {
		c->dirty_nodes = true;
	} else if (strncmp(key, "logging.", 8) == 0) {
		c->dirty_logging = true;
	} else if (strncmp(key, "quorum.device.heuristics.", 25) == 0) {
		c->dirty_heuristics = true;
	}
	schedule_changes(qd);
}

static int
cmap_dispatch_fd(int32_t fd, int32_t revents, void *data)
{
	struct qdevice *qd = data;
	cs_error_t err;

	(void)fd;
	(void)revents;
	err = cmap_dispatch(qd->cmap->handle, CS_DISPATCH_ALL);
	if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
		qb_log(LOG_ERR, "Lost the connection to corosync (cmap dispatch error %d)", err);
		qd->cmap->fd = -1;
		qdevice_exit(qd, EXIT_FAILURE);
		return -1;
	}
	return 0;
}

int
qdevice_cmap_track(struct qdevice *qd)
{
	static const struct {
		const char	*key;
		int32_t		 prefix;
	} keys[] = {
		{ RELOAD_KEY, 0 },
		{ "nodelist.", CMAP_TRACK_PREFIX },
		{ "logging.", CMAP_TRACK_PREFIX },
		{ "quorum.device.heuristics.", CMAP_TRACK_PREFIX },
	};
	struct qdevice_cmap *c = qd->cmap;
	uint8_t reload = 0;
	int fd;

	if (cmap_get_uint8(c->handle, RELOAD_KEY, &reload) == CS_OK)
		c->reload_in_progress = reload != 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		cs_error_t err = cmap_track_add(c->handle, keys[i].key,
		    CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY | keys[i].prefix,
		    track_notify, qd, &c->tracks[c->track_count]);

		if (err != CS_OK) {
			qb_log(LOG_CRIT, "Cannot track cmap key %s: error %d", keys[i].key, err);
			return -EIO;
		}
		c->track_count++;
	}
	if (cmap_fd_get(c->handle, &fd) != CS_OK ||
	    qb_loop_poll_add(qd->loop, QB_LOOP_MED, fd, POLLIN, qd, cmap_dispatch_fd) != 0) {
		qb_log(LOG_CRIT, "Cannot add the cmap fd to the main loop");
		return -EIO;
	}
	c->fd = fd;
	return 0;
}

void
qdevice_cmap_fini(struct qdevice *qd)
{
	struct qdevice_cmap *c = qd->cmap;

	if (c == NULL)
		return;
	if (c->job_pending)
		qb_loop_job_del(qd->loop, QB_LOOP_MED, qd, process_changes);
	if (c->fd >= 0)
		qb_loop_poll_del(qd->loop, c->fd);
	for (size_t i = 0; i < c->track_count; i++)
		cmap_track_delete(c->handle, c->tracks[i]);
	if (c->initialized)
		cmap_finalize(c->handle);
	free(c);
	qd->cmap = NULL;
	memset(&qd->src, 0, sizeof(qd->src));
}
