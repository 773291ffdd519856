/*
 * qnetd/accept-gate.h: who may start a TLS handshake, and when the server
 * stops accepting connections.
 *
 * A TLS handshake costs milliseconds of CPU on the thread that also answers
 * every heartbeat, and anyone who reaches the port can start one (STARTTLS
 * comes before any certificate). So handshakes take a place from a small
 * pool; when the places are held by as many addresses as there are places,
 * the listener is unwatched and newcomers wait in the kernel's listen queue.
 * The rules (the numbers are below):
 *   1. one address (IPv6: its /64) holds at most ACCEPT_GATE_PER_ADDRESS
 *      places; its further handshakes go on without one;
 *   2. when every place is held, an address holding at least two places
 *      more than a newcomer's yields its least recently active one to it
 *      (an address with many handshakes in flight gives way to one with
 *      none); the handshake that lost it goes on without a place;
 *   3. a place is given up once the peer has sent nothing for
 *      ACCEPT_GATE_IDLE_MS with nothing of it left unread (a silent peer
 *      costs no CPU, so it holds no place), or for ACCEPT_GATE_IDLE_FULL_MS
 *      while every place is held (others may need it: checked at once when
 *      the last place is taken and before a newcomer is turned away, so a
 *      flood from many addresses cannot close the door), and after
 *      ACCEPT_GATE_MAX_MS in any case (a peer could dribble a byte now and
 *      then);
 *   4. the listener closes only while the places are held by as many
 *      distinct addresses as there are places: while some address holds
 *      two, a newcomer from another address could take one (rule 2), so
 *      turning it away would only let a few addresses' stalled peers lock
 *      everyone else out.
 * A handshake without a place still runs, within the CPU budget per
 * wakeup (also kept here); a place only counts towards closing the door.
 *
 * The gate knows neither clients nor sockets: each handshake embeds an
 * accept_gate_entry, and the owner answers "is input of this peer waiting
 * to be read?" through the ops. Times are passed in (CLOCK_MONOTONIC ns).
 */
#ifndef QNETD_ACCEPT_GATE_H
#define QNETD_ACCEPT_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include <qb/qblist.h>
#include <qb/qbloop.h>

#define ACCEPT_GATE_PLACES		32
#define ACCEPT_GATE_PER_ADDRESS		4
#define ACCEPT_GATE_IDLE_MS		500
#define ACCEPT_GATE_IDLE_FULL_MS	100
#define ACCEPT_GATE_MAX_MS		5000
/* How often held places are checked against rule 3 (bounds its lateness). */
#define ACCEPT_GATE_SWEEP_MS		100
/*
 * Handshake work per poll-set wakeup. One handshake step (the client's
 * certificate and Finished, mostly) costs from 2 ms to tens of ms as NSS
 * holds more TLS connections, and every client in the same wakeup waits
 * for it: past this budget the other handshakes of the batch wait for the
 * next wakeup, so echoes and votes in between are answered within about
 * one handshake step.
 */
#define ACCEPT_GATE_BATCH_NS		(5 * 1000000ULL)

/* One handshake, embedded in whatever owns it. Zeroed memory is a valid "not admitted". */
struct accept_gate_entry {
	struct qb_list_head	 link;		/* gate->placed, while placed */
	struct in6_addr		 peer;		/* address key (accept_gate_peer_key) */
	uint64_t		 begin_ns;	/* admitted */
	uint64_t		 progress_ns;	/* the peer's last bytes */
	bool			 admitted;	/* between admit and release */
	bool			 placed;
};

/* Why a handshake lost its place before it ended. */
enum accept_gate_loss {
	ACCEPT_GATE_LOSS_SILENT,	/* rule 3: peer silent, nothing unread */
	ACCEPT_GATE_LOSS_TOO_LONG,	/* rule 3: held ACCEPT_GATE_MAX_MS */
	ACCEPT_GATE_LOSS_YIELDED,	/* rule 2: taken by a less busy address */
};

struct accept_gate;

struct accept_gate_ops {
	/* Bytes of e's peer wait to be read: we are behind, not the peer. NULL: never. */
	bool	(*has_input)(struct accept_gate_entry *e);
	/* e lost its place (for the owner's log). NULL: nothing. */
	void	(*lost_place)(struct accept_gate_entry *e, enum accept_gate_loss why,
		    uint64_t now_ns);
	/* accept_gate_blocking() went from `before` to `after`. NULL: nothing. */
	void	(*blocking_changed)(struct accept_gate *g, uint32_t before, uint32_t after);
};

struct accept_gate {
	const struct accept_gate_ops	*ops;
	void				*owner;		/* for the ops */
	qb_loop_t			*loop;		/* NULL: no sweep timer (tests) */
	qb_loop_timer_handle		 sweep_timer;
	bool				 sweep_armed;
	struct qb_list_head		 placed;	/* entries holding a place, oldest first */
	uint32_t			 places_used;
	uint32_t			 addresses_placed;	/* distinct addresses among them */
	uint32_t			 remote_blocking;	/* front: what the workers report */
	uint32_t			 blocking;	/* last value told to blocking_changed */
	/* counters since start (metrics) */
	uint64_t			 unplaced_total;	/* rule 1 or 2 gave no place */
	uint64_t			 released_total;	/* places lost before the end */
	/* CPU budget: handshake work done in poll-set wakeup `batch` */
	uint64_t			 batch;
	uint64_t			 batch_ns;
};

void	accept_gate_init(struct accept_gate *g, qb_loop_t *loop,
	    const struct accept_gate_ops *ops, void *owner);
/* Stops the sweep timer; entries still admitted are simply forgotten. */
void	accept_gate_fini(struct accept_gate *g);

/*
 * The address of "addr:port" (IPv6 without brackets) as a key: IPv4 as
 * IPv4-mapped IPv6, IPv6 cut to its /64, which a single host can fill.
 * Unparsable text gives the all-zero key (one shared address).
 */
void	accept_gate_peer_key(const char *addr_str, struct in6_addr *key);

/*
 * A handshake from `peer` starts at now_ns. Returns true when it got a
 * place, false when it goes on without one (counted in unplaced_total).
 * Admitting an entry already admitted changes nothing (returns e->placed).
 */
bool	accept_gate_admit(struct accept_gate *g, struct accept_gate_entry *e,
	    const struct in6_addr *peer, uint64_t now_ns);
/* The peer sent bytes. */
void	accept_gate_progress(struct accept_gate_entry *e, uint64_t now_ns);
/* The handshake ended (done, failed, or the connection is gone). Idempotent. */
void	accept_gate_release(struct accept_gate *g, struct accept_gate_entry *e);
/* Rule 3 over the held places (full or not as the sweep starts); returns how many were given up. */
unsigned	accept_gate_sweep(struct accept_gate *g, uint64_t now_ns);

/* The count that closes the listener at its cap (rule 4). */
uint32_t	accept_gate_blocking(const struct accept_gate *g);
/* Front process: a worker reports its own blocking count going up or down by delta. */
void	accept_gate_remote(struct accept_gate *g, int32_t delta);

/* CPU budget: true when wakeup `batch` has used its handshake time up. */
bool	accept_gate_budget_spent(struct accept_gate *g, uint64_t batch);
/* Handshake work of ns done in the current wakeup. */
void	accept_gate_budget_charge(struct accept_gate *g, uint64_t ns);

#endif
