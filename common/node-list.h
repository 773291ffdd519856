/*
 * common/node-list.h: the node lists that qdevice reports and qnetd keeps
 * (configured nodes, membership, quorum). A small owned array; order is
 * kept as given, comparisons treat the lists as sets of node ids.
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

struct node_list {
	struct node_info	*nodes;
	size_t			 count;
	size_t			 cap;
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

#endif
