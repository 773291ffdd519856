/*
 * qnetd/session.h: what the layers above a connection (dispatch, clusters,
 * events, worker notices) do when client.c reports a message or a close.
 * client.c sees these only as its callbacks (struct qnetd_conn_ops,
 * client.h), wired once by qnetd_instance_init().
 */
#ifndef QNETD_SESSION_H
#define QNETD_SESSION_H

#include "client.h"

extern const struct qnetd_conn_ops qnetd_session_ops;

#endif
