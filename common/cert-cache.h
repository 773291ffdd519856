/*
 * common/cert-cache.h: client certificates that passed chain verification,
 * remembered for a short while by a digest of their DER encoding.
 *
 * After an arbiter restart or failover every node of every cluster
 * reconnects at once, and all nodes of a cluster present the same
 * certificate. Verifying its chain costs several certificate database
 * queries per handshake (tests/bench README, "Reconnect storm"), so a
 * certificate verified once is taken as verified again until the earlier of
 * its own notAfter and the time-to-live. Only a successful verification
 * is remembered; a certificate never verified is never let through, and the
 * TLS layer still checks per handshake that the peer holds its private key.
 *
 * Pure code: the caller computes the digest and passes the time.
 */
#ifndef QNET_CERT_CACHE_H
#define QNET_CERT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERT_CACHE_DIGEST_LEN	32	/* SHA-256 */

struct cert_cache;

/*
 * Room for capacity entries (rounded up to a multiple of 4); when a
 * digest's share of it is full, the entry that expires first gives way.
 * NULL for capacity 0 (no cache: every call below is then a no-op) or on
 * allocation failure.
 */
struct cert_cache	*cert_cache_create(uint32_t capacity);
void			 cert_cache_destroy(struct cert_cache *cache);

/* True when digest was remembered and its entry has not expired at now_us. */
bool	cert_cache_holds(struct cert_cache *cache, const uint8_t *digest, int64_t now_us);

/* Remember digest until expires_us (exclusive). Always 0: nothing to allocate. */
int	cert_cache_remember(struct cert_cache *cache, const uint8_t *digest,
	    int64_t expires_us);

uint64_t	cert_cache_hits(const struct cert_cache *cache);
size_t		cert_cache_count(const struct cert_cache *cache);

#endif
