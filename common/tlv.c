/* common/tlv.c: option area cursor and bounded output buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tlv.h"

uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t
load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

uint64_t
load_be64(const uint8_t *p)
{
	return ((uint64_t)load_be32(p) << 32) | load_be32(p + 4);
}

void
store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

int
tlv_next(struct tlv_cursor *cur, struct tlv_option *opt)
{
	if (cur->left == 0)
		return 0;
	if (cur->left < TLV_HDR_LEN)
		return -EBADMSG;
	opt->type = load_be16(cur->pos);
	opt->len = load_be16(cur->pos + 2);
	if (cur->left - TLV_HDR_LEN < opt->len)	/* subtract, so nothing can wrap */
		return -EBADMSG;
	opt->value = cur->pos + TLV_HDR_LEN;
	cur->pos += TLV_HDR_LEN + opt->len;
	cur->left -= TLV_HDR_LEN + opt->len;
	return 1;
}

void
tlv_buf_init(struct tlv_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
tlv_buf_fini(struct tlv_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
tlv_buf_reset(struct tlv_buf *b)
{
	b->len = 0;
	b->err = 0;
}

uint8_t *
tlv_buf_append(struct tlv_buf *b, size_t n)
{
	uint8_t *p;

	if (b->err != 0)
		return NULL;
	if (b->max - b->len < n) {
		b->err = -EMSGSIZE;
		return NULL;
	}
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap - b->len < n)
			cap = (cap > b->max / 2) ? b->max : cap * 2;
		p = realloc(b->data, cap);
		if (p == NULL) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

void
tlv_buf_put_bytes(struct tlv_buf *b, const void *src, size_t n)
{
	uint8_t *p = tlv_buf_append(b, n);

	if (p != NULL && n > 0)
		memcpy(p, src, n);
}

static uint8_t *
put_header(struct tlv_buf *b, uint16_t type, size_t len)
{
	uint8_t *p;

	if (len > UINT16_MAX) {
		if (b->err == 0)
			b->err = -EMSGSIZE;
		return NULL;
	}
	p = tlv_buf_append(b, TLV_HDR_LEN + len);
	if (p == NULL)
		return NULL;
	store_be16(p, type);
	store_be16(p + 2, (uint16_t)len);
	return p + TLV_HDR_LEN;
}

void
tlv_put_u8(struct tlv_buf *b, uint16_t type, uint8_t v)
{
	uint8_t *p = put_header(b, type, 1);

	if (p != NULL)
		p[0] = v;
}

void
tlv_put_u16(struct tlv_buf *b, uint16_t type, uint16_t v)
{
	uint8_t *p = put_header(b, type, 2);

	if (p != NULL)
		store_be16(p, v);
}

void
tlv_put_u32(struct tlv_buf *b, uint16_t type, uint32_t v)
{
	uint8_t *p = put_header(b, type, 4);

	if (p != NULL)
		store_be32(p, v);
}

void
tlv_put_u64(struct tlv_buf *b, uint16_t type, uint64_t v)
{
	uint8_t *p = put_header(b, type, 8);

	if (p != NULL)
		store_be64(p, v);
}

void
tlv_put_bytes(struct tlv_buf *b, uint16_t type, const void *src, size_t n)
{
	uint8_t *p = put_header(b, type, n);

	if (p != NULL && n > 0)
		memcpy(p, src, n);
}

void
tlv_put_u16_array(struct tlv_buf *b, uint16_t type, const uint16_t *v, size_t n)
{
	uint8_t *p;

	if (n > UINT16_MAX / 2) {
		if (b->err == 0)
			b->err = -EMSGSIZE;
		return;
	}
	p = put_header(b, type, 2 * n);
	if (p == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_be16(p + 2 * i, v[i]);
}

size_t
tlv_open(struct tlv_buf *b, uint16_t type)
{
	size_t off = b->len;
	uint8_t *p = tlv_buf_append(b, TLV_HDR_LEN);

	if (p != NULL) {
		store_be16(p, type);
		store_be16(p + 2, 0);
	}
	return off;
}

void
tlv_close(struct tlv_buf *b, size_t hdr_off)
{
	size_t len;

	if (b->err != 0)
		return;
	len = b->len - hdr_off - TLV_HDR_LEN;
	if (len > UINT16_MAX) {
		b->err = -EMSGSIZE;
		return;
	}
	store_be16(b->data + hdr_off + 2, (uint16_t)len);
}
