/*
 * qdevice/net-send.c: the net model's outgoing side: queue a message on
 * the connection and build the config, membership and quorum node lists
 * from what qdevice knows now (docs/protocol.md 2.7).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <qb/qblog.h>

#include "net-internal.h"

/* Queue m; a failure ends the connection (and the daemon: 2.10 local errors). */
int
net_send_msg(struct qdevice_net *n, struct msg *m, uint32_t tag)
{
	int r;

	if (n->conn == NULL)
		return -ENOTCONN;
	r = conn_send(n->conn, m, tag);
	if (r == 0) {
		qb_log(LOG_DEBUG, "Sending %s, seq %" PRIu32, msg_type_name(m->type), m->seq);
		return 0;
	}
	qb_log(LOG_ERR, "Cannot queue %s for qnetd: %s", msg_type_name(m->type), strerror(-r));
	if (n->conn != NULL)
		net_disconnect(n, DISCONNECT_LOCAL_ERROR);
	return r;
}

void
net_init_seq_msg(struct qdevice_net *n, struct msg *m, uint16_t type)
{
	msg_init(m, type);
	m->seq_set = true;
	m->seq = ++n->last_seq;
}

int
net_send_config_list(struct qdevice_net *n, uint8_t type)
{
	const struct config_nodes *c = &n->qd->config.nodes;
	struct msg m;

	net_init_seq_msg(n, &m, MSG_TYPE_NODE_LIST);
	m.node_list_type_set = true;
	m.node_list_type = type;
	m.config_version_set = c->config_version_set;
	m.config_version = c->config_version;
	m.nodes = c->nodes;	/* borrowed: no msg_fini() */
	return net_send_msg(n, &m, 0);
}

int
net_send_membership_list(struct qdevice_net *n, uint8_t heuristics)
{
	struct qdevice *qd = n->qd;
	struct msg m;
	int r;

	net_init_seq_msg(n, &m, MSG_TYPE_NODE_LIST);
	m.node_list_type_set = true;
	m.node_list_type = NODE_LIST_MEMBERSHIP;
	m.ring_id_set = true;
	m.ring_id = qd->ring_id;
	m.nodes = qd->membership;	/* borrowed */
	m.heuristics_set = heuristics != HEURISTICS_UNDEFINED;
	m.heuristics = heuristics;
	r = net_send_msg(n, &m, 0);
	if (r == 0) {
		n->last_sent_ring = qd->ring_id;
		qb_log(LOG_DEBUG, "  membership list: ring id (%" PRIx32 ".%" PRIx64
		    "), %zu node(s), heuristics %s", qd->ring_id.node_id, qd->ring_id.seq,
		    qd->membership.count, heuristics_name(heuristics));
	}
	return r;
}

int
net_send_quorum_list(struct qdevice_net *n)
{
	struct qdevice *qd = n->qd;
	struct msg m;
	int r = 0;

	net_init_seq_msg(n, &m, MSG_TYPE_NODE_LIST);
	m.node_list_type_set = true;
	m.node_list_type = NODE_LIST_QUORUM;
	m.quorate_set = true;
	m.quorate = qd->quorate ? 1 : 0;
	/* votequorum pads its list with node id 0 entries: those are not nodes. */
	for (size_t i = 0; i < qd->quorum_nodes.count && r == 0; i++)
		if (qd->quorum_nodes.nodes[i].node_id != 0)
			r = node_list_add(&m.nodes, &qd->quorum_nodes.nodes[i]);
	if (r == 0)
		r = net_send_msg(n, &m, 0);
	else
		net_disconnect(n, DISCONNECT_LOCAL_ERROR);
	node_list_fini(&m.nodes);
	return r;
}
