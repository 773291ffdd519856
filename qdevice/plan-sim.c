/*
 * qdevice/plan-sim.c: the arbiter simulation (plan-sim.h).
 *
 * qnetd's side follows qnetd/dispatch.c and qnetd/cluster.c: a message is
 * handed to the algorithm first, the values it carries are stored only
 * after decide() (docs/protocol.md 2.4), VOTE_INFO pushes are delivered in
 * the plan's order before the reply to the trigger (docs/protocol.md 7),
 * the plan's timer request arms or cancels the trigger's lms timer, and a
 * client that goes away gets ALGO_EV_DISCONNECT while still in the view.
 *
 * qdevice's side follows docs/protocol.md 2.8-2.10: after connecting it
 * sends the configuration, membership and quorum lists; a membership list
 * stops its vote until qnetd answers (WAIT_FOR_REPLY); a vote whose ring
 * is not the ring it last sent is NO_CHANGE; ACK casts the vote, NACK
 * withdraws it, ASK_LATER and WAIT_FOR_REPLY stop it; VOTE_INFO is always
 * answered. It never sends ASK_FOR_VOTE (nor does upstream's: under
 * ffsplit it is error 14). When qnetd is lost: ffsplit NACK; lms NACK
 * unless quorate with wait_for_all; 2nodelms and test keep the last vote;
 * and a membership change while disconnected turns an ACK into NACK.
 *
 * Messages travel through one FIFO to qnetd; a client reacts to what
 * qnetd sends at once. lms timers (HB/4) are slower than any message, so
 * they fire only once the queue is empty, in node id order.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "qnetd/algorithms/algorithm.h"
#include "corosync-config.h"
#include "plan-sim.h"

/* Ring ids: any non-zero sequence (lms skips seq 0); a failure's rings follow. */
#define SIM_BASE_SEQ	8
#define SIM_HB_MS	8000	/* qdevice's default heartbeat, docs/protocol.md 4.2 */

enum sim_vote {
	SIM_VOTE_NONE = 0,	/* not polled (stopped, or never voted) */
	SIM_VOTE_ACK,		/* the device's votes count */
	SIM_VOTE_NACK,		/* polled without a vote */
};

struct sim_node {
	struct algo_client	algo;
	bool			running;
	bool			connected;	/* in qnetd's view */
	bool			timer_armed;
	uint8_t			vote;		/* enum sim_vote */
	struct ring_id		sent_ring;	/* of its last INIT / membership list */
	uint64_t		members;	/* the membership it reports */
};

enum sim_msg_type {
	SIM_MSG_CONFIG,
	SIM_MSG_MEMBERSHIP,
	SIM_MSG_QUORUM,
	SIM_MSG_VOTE_INFO_REPLY,
};

struct sim_msg {
	uint8_t		type;
	size_t		node;
	uint64_t	members;
	struct ring_id	ring;
	bool		quorate;
	uint32_t	seq;
};

struct sim_run {
	const struct plan_cluster	*c;
	const struct plan_vq		*vq;
	struct sim_node			*nodes;
	struct algo_cluster		 view;
	struct algo_client		**slots;
	struct algo_push		*pushes;
	struct sim_msg			*queue;
	size_t				 head, tail, cap;
	size_t				 steps;
	uint64_t			 gone;	/* connections that died: nothing reaches them */
	struct node_list		 scratch;
};

struct plan_sim {
	struct sim_run	base;		/* the baseline, quiet */
	struct sim_run	work;		/* a failure's run, reset from base each time */
	uint64_t	baseline_votes;
};

static void
run_fini(struct sim_run *r)
{
	if (r->nodes != NULL)
		for (size_t i = 0; i < r->c->node_count; i++)
			algo_client_fini(&r->nodes[i].algo);
	algo_cluster_fini(&r->view);
	node_list_fini(&r->scratch);
	free(r->nodes);
	free(r->slots);
	free(r->pushes);
	free(r->queue);
	memset(r, 0, sizeof(*r));
}

static int
run_init(struct sim_run *r, const struct plan_cluster *c, const struct plan_vq *vq)
{
	size_t n = c->node_count;

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->vq = vq;
	algo_cluster_init(&r->view);
	node_list_init(&r->scratch);
	r->nodes = calloc(n, sizeof(*r->nodes));
	r->slots = calloc(n, sizeof(*r->slots));
	r->pushes = calloc(n + 1, sizeof(*r->pushes));
	r->cap = 4 * n + 16;
	r->queue = calloc(r->cap, sizeof(*r->queue));
	if (r->nodes == NULL || r->slots == NULL || r->pushes == NULL || r->queue == NULL) {
		run_fini(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		algo_client_init(&r->nodes[i].algo);
	r->view.clients = r->slots;
	return 0;
}

/* qnetd keeps a cluster's clients sorted by node id (docs/protocol.md 3); nodes[] is. */
static void
rebuild_view(struct sim_run *r)
{
	r->view.count = 0;
	for (size_t i = 0; i < r->c->node_count; i++)
		if (r->nodes[i].connected)
			r->slots[r->view.count++] = &r->nodes[i].algo;
}

/*
 * Make dst (from run_init() for the same cluster) a copy of src. dst's
 * lists keep their storage, so a matrix allocates little per failure;
 * its sorted id sets stay valid as long as their lists' generations match
 * (a copied list carries its source's generation).
 */
static int
run_reset(struct sim_run *dst, const struct sim_run *src)
{
	for (size_t i = 0; i < src->c->node_count; i++) {
		struct algo_client keep = dst->nodes[i].algo;
		struct algo_client *a = &dst->nodes[i].algo;

		dst->nodes[i] = src->nodes[i];
		a->config = keep.config;
		a->membership = keep.membership;
		a->quorum = keep.quorum;
		a->ffsplit_config_ids = keep.ffsplit_config_ids;
		a->ffsplit_membership_ids = keep.ffsplit_membership_ids;
		if (node_list_copy(&a->config, &src->nodes[i].algo.config) != 0 ||
		    node_list_copy(&a->membership, &src->nodes[i].algo.membership) != 0 ||
		    node_list_copy(&a->quorum, &src->nodes[i].algo.quorum) != 0)
			return -ENOMEM;
	}
	dst->view.ffsplit_state = src->view.ffsplit_state;
	if (node_list_copy(&dst->view.quorate_partition, &src->view.quorate_partition) != 0)
		return -ENOMEM;
	dst->head = dst->tail = 0;
	dst->steps = 0;
	dst->gone = 0;
	rebuild_view(dst);
	return 0;
}

static int
enqueue(struct sim_run *r, const struct sim_msg *m)
{
	if (r->head == r->tail)
		r->head = r->tail = 0;
	if (r->tail == r->cap) {
		size_t live = r->tail - r->head;

		if (r->head > 0) {
			memmove(r->queue, r->queue + r->head, live * sizeof(*r->queue));
		} else {
			struct sim_msg *q = realloc(r->queue, 2 * r->cap * sizeof(*q));

			if (q == NULL)
				return -ENOMEM;
			r->queue = q;
			r->cap *= 2;
		}
		r->head = 0;
		r->tail = live;
	}
	r->queue[r->tail++] = *m;
	return 0;
}

static uint8_t
heuristics_of(const struct sim_run *r, size_t i)
{
	/* docs/protocol.md 4.4: without heuristics the result is UNDEFINED. */
	return r->c->heuristics_mode != HEURISTICS_MODE_OFF ?
	    r->c->nodes[i].heuristics : HEURISTICS_UNDEFINED;
}

static size_t
index_of(const struct sim_run *r, const struct algo_client *a)
{
	const struct sim_node *n = (const struct sim_node *)(const void *)
	    ((const char *)a - offsetof(struct sim_node, algo));

	return (size_t)(n - r->nodes);
}

/* docs/protocol.md 2.9: how qdevice takes a vote from qnetd. */
static void
take_vote(struct sim_node *n, uint8_t vote, const struct ring_id *ring)
{
	if (!ring_id_equal(ring, &n->sent_ring))
		return;
	switch (vote) {
	case VOTE_ACK:
		n->vote = SIM_VOTE_ACK;
		break;
	case VOTE_NACK:
		n->vote = SIM_VOTE_NACK;
		break;
	case VOTE_ASK_LATER:
	case VOTE_WAIT_FOR_REPLY:
		n->vote = SIM_VOTE_NONE;
		break;
	default:
		break;
	}
}

static int
run_algorithm(struct sim_run *r, struct algo_event *ev, struct algo_plan *plan)
{
	const struct algorithm *alg = algorithm_get(r->c->algorithm);

	memset(plan, 0, sizeof(*plan));
	plan->pushes = r->pushes;
	plan->push_cap = r->view.count + 1;
	if (alg == NULL)
		return -EINVAL;
	return alg->decide(&r->view, ev, plan);
}

/* qnetd/cluster.c send_pushes(): a leaving client gets nothing; each reply queues. */
static int
deliver_pushes(struct sim_run *r, const struct algo_plan *plan, size_t skip)
{
	for (size_t k = 0; k < plan->push_count; k++) {
		size_t j = index_of(r, plan->pushes[k].client);
		struct sim_msg reply = { .type = SIM_MSG_VOTE_INFO_REPLY, .node = j };
		int rc;

		if (j == skip || !r->nodes[j].connected || (r->gone & (1ULL << j)))
			continue;
		take_vote(&r->nodes[j], plan->pushes[k].vote, &plan->pushes[k].ring_id);
		reply.seq = plan->pushes[k].seq;
		if ((rc = enqueue(r, &reply)) != 0)
			return rc;
	}
	return 0;
}

static void
apply_timer(struct sim_run *r, size_t i, const struct algo_plan *plan)
{
	if (plan->timer == ALGO_TIMER_ARM)
		r->nodes[i].timer_armed = r->nodes[i].connected;
	else if (plan->timer == ALGO_TIMER_CANCEL)
		r->nodes[i].timer_armed = false;
}

/* qnetd/cluster.c qnetd_cluster_leave(): decide with the client still in the view. */
static int
server_disconnect(struct sim_run *r, size_t i)
{
	struct algo_event ev = { .type = ALGO_EV_DISCONNECT, .client = &r->nodes[i].algo };
	struct algo_plan plan;
	int rc;

	if (!r->nodes[i].connected)
		return 0;
	if ((rc = run_algorithm(r, &ev, &plan)) != 0)
		return rc;
	if ((rc = deliver_pushes(r, &plan, i)) != 0)
		return rc;
	r->nodes[i].connected = false;
	r->nodes[i].timer_armed = false;
	rebuild_view(r);
	return 0;
}

static int
build_list(struct sim_run *r, uint64_t members, uint8_t state)
{
	node_list_clear(&r->scratch);
	for (size_t i = 0; i < r->c->node_count; i++) {
		struct node_info info = { .node_id = r->c->nodes[i].id, .node_state = state };

		if ((members & (1ULL << i)) && node_list_add(&r->scratch, &info) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* qnetd/dispatch.c store_node_list(), after a successful decide(). */
static int
store_list(struct algo_client *a, const struct sim_msg *m, const struct node_list *l,
    uint8_t heuristics)
{
	switch (m->type) {
	case SIM_MSG_CONFIG:
		a->config_set = true;
		return node_list_copy(&a->config, l);
	case SIM_MSG_MEMBERSHIP:
		a->membership_set = true;
		a->ring_id = m->ring;
		a->last_membership_heuristics = heuristics;
		a->last_heuristics = heuristics;
		return node_list_copy(&a->membership, l);
	default:
		a->quorum_set = true;
		a->quorate = m->quorate;
		return node_list_copy(&a->quorum, l);
	}
}

/* One message reaches qnetd (qnetd/dispatch.c handle_node_list(), handle_vote_info_reply()). */
static int
server_handle(struct sim_run *r, const struct sim_msg *m)
{
	struct sim_node *n = &r->nodes[m->node];
	struct algo_event ev = { .client = &n->algo };
	struct algo_plan plan;
	uint8_t heuristics = heuristics_of(r, m->node);
	int rc;

	if (!n->connected)
		return 0;	/* the connection is gone with what it had sent */
	switch (m->type) {
	case SIM_MSG_CONFIG:
		rc = build_list(r, ~0ULL, NODE_STATE_NOT_SET);
		ev.type = ALGO_EV_CONFIG_LIST;
		ev.list_type = NODE_LIST_INITIAL_CONFIG;
		break;
	case SIM_MSG_MEMBERSHIP:
		rc = build_list(r, m->members, NODE_STATE_NOT_SET);
		ev.type = ALGO_EV_MEMBERSHIP_LIST;
		ev.list_type = NODE_LIST_MEMBERSHIP;
		ev.ring_id = &m->ring;
		ev.heuristics = heuristics;
		break;
	case SIM_MSG_QUORUM:
		rc = build_list(r, m->members, NODE_STATE_MEMBER);
		ev.type = ALGO_EV_QUORUM_LIST;
		ev.list_type = NODE_LIST_QUORUM;
		ev.quorate = m->quorate;
		break;
	default:
		rc = 0;
		ev.type = ALGO_EV_VOTE_INFO_REPLY;
		ev.seq = m->seq;
		break;
	}
	if (rc != 0)
		return rc;
	ev.nodes = &r->scratch;
	if ((rc = run_algorithm(r, &ev, &plan)) != 0)
		return rc;
	if (plan.error != REPLY_NO_ERROR) {
		/* SERVER_ERROR: qdevice exits (docs/protocol.md 2.10), its vote stops. */
		n->vote = SIM_VOTE_NONE;
		return server_disconnect(r, m->node);
	}
	if ((rc = deliver_pushes(r, &plan, SIZE_MAX)) != 0)
		return rc;
	apply_timer(r, m->node, &plan);
	if (m->type == SIM_MSG_VOTE_INFO_REPLY)
		return 0;	/* no reply */
	if (store_list(&n->algo, m, &r->scratch, heuristics) != 0)
		return -ENOMEM;
	take_vote(n, plan.vote, &n->algo.ring_id);	/* the reply carries the stored ring */
	return 0;
}

static int
drain(struct sim_run *r)
{
	while (r->head != r->tail) {
		struct sim_msg m = r->queue[r->head++];
		int rc;

		if (++r->steps > PLAN_SIM_MAX_STEPS)
			return -ELOOP;
		if ((rc = server_handle(r, &m)) != 0)
			return rc;
	}
	return 0;
}

/* lms timers (qnetd/cluster.c algo_timer_fired()), until none is armed. */
static int
fire_timers(struct sim_run *r)
{
	for (int round = 0; round < PLAN_SIM_MAX_TIMER_ROUNDS; round++) {
		bool fired = false;

		for (size_t i = 0; i < r->c->node_count; i++) {
			struct algo_event ev = { .type = ALGO_EV_TIMER, .client = &r->nodes[i].algo };
			struct algo_plan plan;
			int rc;

			if (!r->nodes[i].timer_armed || !r->nodes[i].connected)
				continue;
			r->nodes[i].timer_armed = false;
			fired = true;
			if ((rc = run_algorithm(r, &ev, &plan)) != 0 ||
			    (rc = deliver_pushes(r, &plan, SIZE_MAX)) != 0)
				return rc;
			apply_timer(r, i, &plan);
			if ((rc = drain(r)) != 0)
				return rc;
		}
		if (!fired)
			return 0;
	}
	return -ELOOP;
}

static int
send_membership(struct sim_run *r, size_t i, uint64_t members, const struct ring_id *ring)
{
	struct sim_msg m = { .type = SIM_MSG_MEMBERSHIP, .node = i, .members = members,
	    .ring = *ring };

	r->nodes[i].members = members;
	r->nodes[i].sent_ring = *ring;
	r->nodes[i].vote = SIM_VOTE_NONE;	/* docs/protocol.md 2.8: WAIT_FOR_REPLY */
	return enqueue(r, &m);
}

static int
send_quorum(struct sim_run *r, size_t i)
{
	struct sim_msg m = { .type = SIM_MSG_QUORUM, .node = i,
	    .members = r->nodes[i].members };

	m.quorate = plan_vq_quorate(r->c, r->vq, m.members,
	    r->nodes[i].vote == SIM_VOTE_ACK);
	return enqueue(r, &m);
}

static uint64_t
votes_of(const struct sim_run *r)
{
	uint64_t v = 0;

	for (size_t i = 0; i < r->c->node_count; i++)
		if (r->nodes[i].running && r->nodes[i].vote == SIM_VOTE_ACK)
			v |= 1ULL << i;
	return v;
}

static uint64_t
all_nodes(const struct plan_cluster *c)
{
	return c->node_count >= 64 ? ~0ULL : (1ULL << c->node_count) - 1;
}

/* Every node connects and reports; qnetd answers until quiet. */
static int
run_baseline(struct sim_run *r)
{
	const struct plan_cluster *c = r->c;
	struct ring_id ring = { .node_id = c->nodes[0].id, .seq = SIM_BASE_SEQ };
	uint64_t all = all_nodes(c);
	int rc;

	for (size_t i = 0; i < c->node_count; i++) {
		struct sim_node *n = &r->nodes[i];

		n->running = true;
		n->connected = true;
		n->members = all;
		n->sent_ring = ring;
		n->algo.node_id = c->nodes[i].id;
		n->algo.algorithm = c->algorithm;
		n->algo.tie_breaker = c->tie_breaker;
		if (n->algo.tie_breaker.mode == 0)	/* docs/protocol.md 4.1: lowest */
			n->algo.tie_breaker.mode = TIE_BREAKER_LOWEST;
		if (n->algo.tie_breaker.mode != TIE_BREAKER_NODE_ID)
			n->algo.tie_breaker.node_id = 0;
		n->algo.kap_enabled = c->kap_tie_breaker;	/* SET_OPTION before the lists */
		n->algo.heartbeat_interval_ms = SIM_HB_MS;
		n->algo.ring_id = ring;			/* from INIT */
	}
	rebuild_view(r);
	for (size_t i = 0; i < c->node_count; i++) {
		struct sim_msg cfg = { .type = SIM_MSG_CONFIG, .node = i };

		if ((rc = enqueue(r, &cfg)) != 0 ||
		    (rc = send_membership(r, i, all, &ring)) != 0 ||
		    (rc = send_quorum(r, i)) != 0)
			return rc;
	}
	if ((rc = drain(r)) != 0)
		return rc;
	return fire_timers(r);
}

int
plan_sim_new(const struct plan_cluster *c, const struct plan_vq *vq, struct plan_sim **out)
{
	struct plan_sim *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (s == NULL)
		return -ENOMEM;
	if ((rc = run_init(&s->base, c, vq)) != 0) {
		free(s);
		return rc;
	}
	if ((rc = run_init(&s->work, c, vq)) != 0) {
		run_fini(&s->base);
		free(s);
		return rc;
	}
	if (vq->device_operative && (rc = run_baseline(&s->base)) != 0) {
		plan_sim_free(s);
		return rc;
	}
	s->base.steps = 0;
	s->baseline_votes = votes_of(&s->base);
	*out = s;
	return 0;
}

void
plan_sim_free(struct plan_sim *s)
{
	if (s == NULL)
		return;
	run_fini(&s->base);
	run_fini(&s->work);
	free(s);
}

uint64_t
plan_sim_baseline_votes(const struct plan_sim *s)
{
	return s->baseline_votes;
}

/* docs/protocol.md 2.10: the vote qdevice keeps when it loses qnetd. */
static void
lose_qnetd(struct sim_run *r, size_t i, bool was_quorate)
{
	struct sim_node *n = &r->nodes[i];

	switch (r->c->algorithm) {
	case ALGORITHM_FFSPLIT:
		n->vote = SIM_VOTE_NACK;
		break;
	case ALGORITHM_LMS:
		if (!(was_quorate && r->vq->wait_for_all))
			n->vote = SIM_VOTE_NACK;
		break;
	default:
		break;		/* 2nodelms, test: the last vote keeps being cast */
	}
}

/* docs/protocol.md 2.8: a membership change while not connected drops an ACK. */
static void
membership_while_disconnected(struct sim_node *n)
{
	if (n->vote == SIM_VOTE_ACK)
		n->vote = SIM_VOTE_NACK;
}

static int
report_component(struct sim_run *r, uint64_t comp)
{
	struct ring_id ring = { .seq = SIM_BASE_SEQ + 1 };
	int rc;

	for (size_t i = 0; i < r->c->node_count; i++)
		if (comp & (1ULL << i)) {
			ring.node_id = r->c->nodes[i].id;
			break;
		}
	for (size_t i = 0; i < r->c->node_count; i++) {
		if (!(comp & (1ULL << i)) || !r->nodes[i].running)
			continue;
		if (r->nodes[i].connected) {
			if ((rc = send_membership(r, i, comp, &ring)) != 0)
				return rc;
		} else {
			r->nodes[i].members = comp;
			membership_while_disconnected(&r->nodes[i]);
		}
	}
	if ((rc = drain(r)) != 0)
		return rc;
	/* The quorum notification ends corosync's sync, after the membership. */
	for (size_t i = 0; i < r->c->node_count; i++)
		if ((comp & (1ULL << i)) && r->nodes[i].connected &&
		    (rc = send_quorum(r, i)) != 0)
			return rc;
	return drain(r);
}

/*
 * Nodes that die and nodes that lose qnetd first: qnetd runs the
 * disconnect of each (node id order) while nothing reaches the dead
 * connections; then each component reports its new membership, `first`
 * first; then lms timers.
 */
static int
run_failure(struct sim_run *r, const struct plan_failure *f, const uint64_t *components,
    size_t count, size_t first)
{
	const struct plan_cluster *c = r->c;
	uint64_t all = all_nodes(c), was_quorate = 0;
	int rc;

	for (size_t i = 0; i < c->node_count; i++)
		if (plan_vq_quorate(c, r->vq, all, r->nodes[i].vote == SIM_VOTE_ACK))
			was_quorate |= 1ULL << i;
	r->gone = f->arbiter_down ? all : (f->nodes_down | f->arbiter_path_down) & all;
	for (size_t i = 0; i < c->node_count && !f->arbiter_down; i++)
		if ((r->gone & (1ULL << i)) && (rc = server_disconnect(r, i)) != 0)
			return rc;
	for (size_t i = 0; i < c->node_count; i++) {
		uint64_t bit = 1ULL << i;

		if (!(r->gone & bit))
			continue;
		r->nodes[i].connected = false;
		r->nodes[i].timer_armed = false;
		if (f->nodes_down & bit) {
			r->nodes[i].running = false;
			r->nodes[i].vote = SIM_VOTE_NONE;
		} else {
			lose_qnetd(r, i, (was_quorate & bit) != 0);
		}
	}
	rebuild_view(r);
	if ((rc = drain(r)) != 0)
		return rc;
	for (size_t k = 0; k < count; k++) {
		uint64_t comp = components[(first + k) % count];

		if (comp == all)
			continue;	/* nothing changed for its nodes */
		if ((rc = report_component(r, comp)) != 0)
			return rc;
	}
	return fire_timers(r);
}

int
plan_sim_failure(struct plan_sim *s, const struct plan_failure *f,
    const uint64_t *components, size_t count, size_t first, uint64_t *votes)
{
	int rc;

	*votes = 0;
	if (!s->base.vq->device_operative)
		return 0;
	if (count > 0 && first >= count)
		return -EINVAL;
	if ((rc = run_reset(&s->work, &s->base)) != 0 ||
	    (rc = run_failure(&s->work, f, components, count, first)) != 0)
		return rc;
	*votes = votes_of(&s->work);
	return 0;
}
