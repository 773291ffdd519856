/* tests/unit/fake-config-source.c: cmap's reads over a table of typed key/values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake-config-source.h"

static const struct kv *
find(const struct kv_table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->kv[i].key, key) == 0)
			return &t->kv[i];
	return NULL;
}

static int
get_string(void *ctx, const char *key, char **out)
{
	const struct kv *kv = find(ctx, key);

	if (kv == NULL)
		return -ENOENT;
	if (kv->type != T_STR)
		return -EINVAL;
	*out = strdup(kv->val);
	return *out != NULL ? 0 : -ENOMEM;
}

/* key's number into *out, whose width type tells (uint8_t, uint32_t or uint64_t). */
static int
get_num(void *ctx, const char *key, enum kv_type type, void *out)
{
	const struct kv *kv = find(ctx, key);
	uint64_t v;

	if (kv == NULL)
		return -ENOENT;
	if (kv->type != type)
		return -EINVAL;
	v = strtoull(kv->val, NULL, 10);
	switch (type) {
	case T_U8:
		*(uint8_t *)out = (uint8_t)v;
		break;
	case T_U32:
		*(uint32_t *)out = (uint32_t)v;
		break;
	default:
		*(uint64_t *)out = v;
		break;
	}
	return 0;
}

static int
get_u8(void *ctx, const char *key, uint8_t *out)
{
	return get_num(ctx, key, T_U8, out);
}

static int
get_u32(void *ctx, const char *key, uint32_t *out)
{
	return get_num(ctx, key, T_U32, out);
}

static int
get_u64(void *ctx, const char *key, uint64_t *out)
{
	return get_num(ctx, key, T_U64, out);
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp((*(const struct kv *const *)a)->key, (*(const struct kv *const *)b)->key);
}

static int
iter(void *ctx, const char *prefix, config_iter_fn fn, void *arg)
{
	const struct kv_table *t = ctx;
	const struct kv **sorted = calloc(t->n + 1, sizeof(*sorted));
	int r = 0;

	if (sorted == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		sorted[i] = &t->kv[i];
	qsort(sorted, t->n, sizeof(*sorted), cmp_key);
	for (size_t i = 0; i < t->n && r == 0; i++)
		if (strncmp(sorted[i]->key, prefix, strlen(prefix)) == 0)
			r = fn(sorted[i]->key, sorted[i]->type == T_STR, arg);
	free(sorted);
	return r;
}

size_t
kv_count(const struct kv *kv, size_t max)
{
	size_t n = 0;

	while (n < max && kv[n].key != NULL)
		n++;
	return n;
}

void
fake_config_source(struct config_source *src, const struct kv_table *t)
{
	*src = (struct config_source){ (void *)t, get_string, get_u8, get_u32, get_u64, iter };
}
