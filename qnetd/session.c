/* qnetd/session.c: the upper layers' side of a connection's life (session.h). */
#include <stdbool.h>

#include "client.h"
#include "cluster.h"
#include "dispatch.h"
#include "events.h"
#include "instance.h"
#include "session.h"
#include "shard.h"

static void
session_disconnecting(struct qnetd_client *c, const char *reason)
{
	/* The connect event went out with INIT: only such a client gets its pair. */
	if (c->init_received)
		qnetd_event_client_disconnected(c, reason);
}

static void
session_closed(struct qnetd_client *c)
{
	/* At shutdown every cluster goes: no algorithm runs for those left. */
	qnetd_cluster_leave(c, qnetd_instance_of(c)->shutting_down);
}

static void
session_gone(struct qnetd_conns *conns)
{
	/* A worker's front counts its clients (shard.h); no-op elsewhere. */
	shard_worker_notify(qnetd_instance_of_conns(conns), SHARD_MSG_CLOSED);
}

const struct qnetd_conn_ops qnetd_session_ops = {
	.message = qnetd_dispatch,
	.disconnecting = session_disconnecting,
	.closed = session_closed,
	.gone = session_gone,
};
