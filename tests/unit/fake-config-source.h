/*
 * tests/unit/fake-config-source.h: a struct config_source over a table of
 * typed key/values, standing in for corosync's cmap in the unit tests of
 * what reads it (qdevice/corosync-config.c, qdevice/plan-input.c).
 */
#ifndef TESTS_UNIT_FAKE_CONFIG_SOURCE_H
#define TESTS_UNIT_FAKE_CONFIG_SOURCE_H

#include <stddef.h>

#include "qdevice/corosync-config.h"

/* The cmap type a key is stored as; numbers are written in decimal. */
enum kv_type { T_STR, T_U8, T_U32, T_U64 };

struct kv {
	const char	*key;
	enum kv_type	 type;
	const char	*val;
};

struct kv_table {
	const struct kv	*kv;
	size_t		 n;
};

/*
 * src reads t, which must outlive it. Like cmap: a missing key is -ENOENT,
 * one stored as another type -EINVAL, and iter hands keys out sorted.
 */
void	fake_config_source(struct config_source *src, const struct kv_table *t);

/* How many of kv[0..max) come before the first one without a key. */
size_t	kv_count(const struct kv *kv, size_t max);

#endif
