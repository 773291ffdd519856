/* qdevice/cmap-source.c: corosync's cmap read through struct config_source. */
#include <errno.h>

#include "cmap-source.h"

int
cmap_source_errno(cs_error_t err)
{
	switch (err) {
	case CS_OK:			return 0;
	case CS_ERR_NOT_EXIST:		return -ENOENT;
	case CS_ERR_INVALID_PARAM:	return -EINVAL;
	case CS_ERR_NO_MEMORY:		return -ENOMEM;
	case CS_ERR_TRY_AGAIN:		return -EAGAIN;
	case CS_ERR_ACCESS:		return -EACCES;
	default:			return -EIO;
	}
}

static int
cm_string(void *ctx, const char *key, char **out)
{
	return cmap_source_errno(cmap_get_string(*(cmap_handle_t *)ctx, key, out));
}

static int
cm_u8(void *ctx, const char *key, uint8_t *out)
{
	return cmap_source_errno(cmap_get_uint8(*(cmap_handle_t *)ctx, key, out));
}

static int
cm_u32(void *ctx, const char *key, uint32_t *out)
{
	return cmap_source_errno(cmap_get_uint32(*(cmap_handle_t *)ctx, key, out));
}

static int
cm_u64(void *ctx, const char *key, uint64_t *out)
{
	return cmap_source_errno(cmap_get_uint64(*(cmap_handle_t *)ctx, key, out));
}

static int
cm_iter(void *ctx, const char *prefix, config_iter_fn fn, void *arg)
{
	cmap_handle_t h = *(cmap_handle_t *)ctx;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	cmap_iter_handle_t iter;
	cmap_value_types_t type;
	cs_error_t err;
	size_t len;
	int r = 0;

	if ((err = cmap_iter_init(h, prefix, &iter)) != CS_OK)
		return cmap_source_errno(err);
	while ((err = cmap_iter_next(h, iter, key, &len, &type)) == CS_OK)
		if ((r = fn(key, type == CMAP_VALUETYPE_STRING, arg)) != 0)
			break;
	if (r == 0 && err != CS_ERR_NO_SECTIONS)
		r = cmap_source_errno(err);
	cmap_iter_finalize(h, iter);
	return r;
}

void
cmap_source_init(struct config_source *src, cmap_handle_t *h)
{
	src->ctx = h;
	src->get_string = cm_string;
	src->get_u8 = cm_u8;
	src->get_u32 = cm_u32;
	src->get_u64 = cm_u64;
	src->iter = cm_iter;
}
