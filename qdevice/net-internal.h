/*
 * qdevice/net-internal.h: the net model's state, shared by its two files:
 * net.c (the connection state machine) and net-send.c (queueing messages
 * and building the node lists). Nothing outside qdevice/net*.c includes it.
 */
#ifndef QDEVICE_NET_INTERNAL_H
#define QDEVICE_NET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/msg.h"
#include "conn.h"
#include "disconnect.h"
#include "handshake.h"
#include "qdevice.h"

enum net_state {
	NET_STATE_IDLE = 0,		/* not started yet, or waiting to reconnect */
	NET_STATE_WAITING_CONNECT,
	NET_STATE_WAITING_PREINIT_REPLY,
	NET_STATE_WAITING_STARTTLS_SENT,
	NET_STATE_WAITING_INIT_REPLY,	/* also while after-connect heuristics run */
	NET_STATE_CONNECTED,
};

struct qdevice_net {
	struct qdevice		*qd;
	enum net_state		 state;
	struct conn		*conn;
	bool			 nss_ready;
	bool			 connect_failed;	/* no address answered; await the timer */
	uint32_t		 failed_connects;	/* refused attempts in a row (log pacing) */
	bool			 tcp_connected;		/* this attempt got past TCP connect */
	bool			 init_replied;		/* INIT_REPLY accepted, heuristics run */
	/* The address this attempt reached over TCP (status; "" before). */
	char			 peer[128];
	char			 peer_host[256];	/* the configured host it came from */
	size_t			 peer_index;		/* 1-based among peer_count */
	size_t			 peer_count;

	uint32_t		 last_seq;	/* docs/protocol.md 2.6: starts at 1, never reset */
	uint32_t		 expected_seq;	/* of the PREINIT/INIT awaiting a reply */
	bool			 set_option_pending;	/* our SET_OPTION awaits its reply */
	uint32_t		 set_option_seq;
	uint32_t		 echo_sent;
	uint32_t		 echo_received;
	struct ring_id		 last_sent_ring;	/* of the last INIT or membership list */

	struct server_caps	 caps;
	bool			 tls_active;
	bool			 cert_sent;
	time_t			 connected_since;
	time_t			 echo_time;

	uint8_t			 heur_latest;
	uint8_t			 heur_regular;
	uint8_t			 heur_membership;
	uint8_t			 heur_connect;

	struct qdevice_timer	 connect_timer;
	struct qdevice_timer	 echo_timer;
	struct qdevice_timer	 reconnect_timer;

	bool			 cert_checked;		/* check_own_cert() ran */
	bool			 cert_days_known;	/* our client certificate was found */
	long			 cert_days_left;	/* negative once expired */
	struct qdevice_timer	 cert_timer;
};

/* net.c */
void	net_disconnect(struct qdevice_net *n, enum disconnect_reason reason);

/* net-send.c: 0, or -errno after the connection was dropped */
int	net_send_msg(struct qdevice_net *n, struct msg *m, uint32_t tag);
void	net_init_seq_msg(struct qdevice_net *n, struct msg *m, uint16_t type);
int	net_send_config_list(struct qdevice_net *n, uint8_t type);
int	net_send_membership_list(struct qdevice_net *n, uint8_t heuristics);
int	net_send_quorum_list(struct qdevice_net *n);

#endif
