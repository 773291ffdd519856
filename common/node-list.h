/*
 * common/node-list.h: the node lists that qdevice reports and qnetd keeps
 * (configured nodes, membership, quorum). A small owned array; order is
 * kept as given, comparisons treat the lists as sets of node ids.
 * node_id_set is a list's ids sorted once, for comparisons in linear time
 * on lists as long as a hostile client may send (docs/protocol.md 1.9: ~2,700).
 */
#ifndef QNET_NODE_LIST_H
#define QNET_NODE_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node_info {
	uint32_t	node_id;
	uint32_t	data_center_id;	/* 0 = none */
	uint8_t		node_state;	/* enum node_state; 0 = not set */
};

/*
 * Change a list only through the functions below: each change gives it a
 * fresh generation (a copy takes its source's), which is how a node_id_set
 * knows it still describes the list. 0 = never changed, hence empty.
 * Generations come from one counter per process: use node lists from one
 * thread only.
 */
struct node_list {
	struct node_info	*nodes;
	size_t			 count;
	size_t			 cap;
	uint64_t		 generation;
};

void	node_list_init(struct node_list *l);
void	node_list_fini(struct node_list *l);
void	node_list_clear(struct node_list *l);
/* 0 or -ENOMEM. */
int	node_list_add(struct node_list *l, const struct node_info *n);
int	node_list_add_id(struct node_list *l, uint32_t node_id);
/* Replace dst by a copy of src; 0 or -ENOMEM (dst unchanged then). */
int	node_list_copy(struct node_list *dst, const struct node_list *src);

const struct node_info	*node_list_find(const struct node_list *l, uint32_t node_id);
bool	node_list_contains(const struct node_list *l, uint32_t node_id);
/* Every node id of a is in b. */
bool	node_list_ids_subset(const struct node_list *a, const struct node_list *b);
/* Same set of node ids (duplicates ignored). */
bool	node_list_ids_equal(const struct node_list *a, const struct node_list *b);
/* Same ids, data centers and states, as sets keyed by node id. */
bool	node_list_equal(const struct node_list *a, const struct node_list *b);
uint32_t	node_list_min_id(const struct node_list *l);	/* 0 when empty */
uint32_t	node_list_max_id(const struct node_list *l);	/* 0 when empty */

/* A node list's ids, ascending and unique, each with its count in the list. */
struct node_id_set {
	uint32_t	*ids;
	uint32_t	*mult;		/* times ids[i] occurs in the list */
	size_t		 count;		/* unique ids */
	size_t		 cap;
	uint64_t	 hash;		/* of ids[]: equal sets have equal hashes */
	bool		 built;
	uint64_t	 generation;	/* of the list it was built from */
};

void	node_id_set_init(struct node_id_set *s);
void	node_id_set_fini(struct node_id_set *s);
/*
 * Make s describe l: O(n log n), or O(1) when it already does (same
 * generation). 0 or -ENOMEM (s is then empty and unbuilt).
 */
int	node_id_set_update(struct node_id_set *s, const struct node_list *l);
/* O(1) when the hashes or sizes differ, else one memcmp. */
bool	node_id_set_equal(const struct node_id_set *a, const struct node_id_set *b);
/* Every id of a is in b: one merge, O(|a| + |b|). */
bool	node_id_set_subset(const struct node_id_set *a, const struct node_id_set *b);
/* Occurrences of node_id in the list (0 = absent): O(log n). */
uint32_t	node_id_set_multiplicity(const struct node_id_set *s, uint32_t node_id);
bool	node_id_set_contains(const struct node_id_set *s, uint32_t node_id);
uint32_t	node_id_set_min(const struct node_id_set *s);	/* 0 when empty */
uint32_t	node_id_set_max(const struct node_id_set *s);	/* 0 when empty */

#endif
