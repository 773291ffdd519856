/*
 * common/tlv.h: read and write the option area of a qnet message.
 * Pure code: no sockets, no logging. A cursor never reads a byte before
 * proving it lies inside its range; a writer never grows past its cap.
 */
#ifndef QNET_TLV_H
#define QNET_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLV_HDR_LEN	4	/* u16 type + u16 length, big-endian */

struct tlv_cursor {
	const uint8_t	*pos;
	size_t		 left;
};

struct tlv_option {
	uint16_t	 type;
	uint16_t	 len;
	const uint8_t	*value;	/* borrowed: points into the cursor's buffer */
};

/* 1: *opt filled; 0: clean end of the area; -EBADMSG: option runs past the end. */
int	tlv_next(struct tlv_cursor *cur, struct tlv_option *opt);

uint16_t	load_be16(const uint8_t *p);
uint32_t	load_be32(const uint8_t *p);
uint64_t	load_be64(const uint8_t *p);
void		store_be16(uint8_t *p, uint16_t v);
void		store_be32(uint8_t *p, uint32_t v);
void		store_be64(uint8_t *p, uint64_t v);

/*
 * A growable output buffer with a hard cap. Errors are sticky: after the
 * first failure every append is a no-op and `err` keeps the first cause
 * (-ENOMEM or -EMSGSIZE), so builders check once at the end.
 */
struct tlv_buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* never grow beyond this many bytes */
	int	 err;
};

void	tlv_buf_init(struct tlv_buf *b, size_t max);
void	tlv_buf_fini(struct tlv_buf *b);
void	tlv_buf_reset(struct tlv_buf *b);
/* Reserve n bytes at the end and return them, or NULL (err set). */
uint8_t	*tlv_buf_append(struct tlv_buf *b, size_t n);
void	tlv_buf_put_bytes(struct tlv_buf *b, const void *p, size_t n);

/* Append one whole option. */
void	tlv_put_u8(struct tlv_buf *b, uint16_t type, uint8_t v);
void	tlv_put_u16(struct tlv_buf *b, uint16_t type, uint16_t v);
void	tlv_put_u32(struct tlv_buf *b, uint16_t type, uint32_t v);
void	tlv_put_u64(struct tlv_buf *b, uint16_t type, uint64_t v);
void	tlv_put_bytes(struct tlv_buf *b, uint16_t type, const void *p, size_t n);
void	tlv_put_u16_array(struct tlv_buf *b, uint16_t type, const uint16_t *v, size_t n);

/*
 * Open an option whose value is written piecewise (nested NODE_INFO).
 * Returns the offset of its header for tlv_close(), which fills in the
 * length once the value is complete.
 */
size_t	tlv_open(struct tlv_buf *b, uint16_t type);
void	tlv_close(struct tlv_buf *b, size_t hdr_off);

#endif
