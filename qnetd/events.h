/*
 * qnetd/events.h: qnetd's events for the operator's hook program
 * (common/hooks.h): client connected/disconnected, a client's vote
 * flipping between ACK and NACK, a cluster's set of ACKed nodes changing.
 */
#ifndef QNETD_EVENTS_H
#define QNETD_EVENTS_H

#include <stdint.h>

struct qnetd_client;

void	qnetd_event_client_connected(struct qnetd_client *c);
void	qnetd_event_client_disconnected(struct qnetd_client *c, const char *reason);
void	qnetd_event_vote_changed(struct qnetd_client *c, uint8_t previous);

#endif
