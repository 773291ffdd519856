/* common/cert-cache.c: verified client certificates by digest, bounded, expiring. */
#include <stdlib.h>
#include <string.h>

#include "cert-cache.h"

/*
 * A set-associative table in one array: a digest can only sit in the WAYS
 * slots of its set, and a full set gives up the entry that expires first.
 * That bounds memory and lookup cost whatever the peers present; qb_map
 * would need a second structure for the eviction. The digest is a
 * cryptographic hash, so its first bytes spread the sets evenly.
 */
#define WAYS	4

struct cert_cache_slot {
	uint8_t	digest[CERT_CACHE_DIGEST_LEN];
	int64_t	expires_us;
	bool	used;
};

struct cert_cache {
	struct cert_cache_slot	*slots;		/* sets * WAYS */
	uint32_t		 sets;
	size_t			 count;
	uint64_t		 hits;
};

struct cert_cache *
cert_cache_create(uint32_t capacity)
{
	struct cert_cache *cache;

	if (capacity == 0)
		return NULL;
	cache = calloc(1, sizeof(*cache));
	if (cache == NULL)
		return NULL;
	cache->sets = (uint32_t)(((uint64_t)capacity + WAYS - 1) / WAYS);
	cache->slots = calloc((size_t)cache->sets * WAYS, sizeof(*cache->slots));
	if (cache->slots == NULL) {
		free(cache);
		return NULL;
	}
	return cache;
}

void
cert_cache_destroy(struct cert_cache *cache)
{
	if (cache == NULL)
		return;
	free(cache->slots);
	free(cache);
}

static struct cert_cache_slot *
set_of(const struct cert_cache *cache, const uint8_t *digest)
{
	uint64_t h;

	memcpy(&h, digest, sizeof(h));
	return &cache->slots[(size_t)(h % cache->sets) * WAYS];
}

static struct cert_cache_slot *
find(const struct cert_cache *cache, const uint8_t *digest)
{
	struct cert_cache_slot *set = set_of(cache, digest);

	for (int w = 0; w < WAYS; w++)
		if (set[w].used && memcmp(set[w].digest, digest, CERT_CACHE_DIGEST_LEN) == 0)
			return &set[w];
	return NULL;
}

bool
cert_cache_holds(struct cert_cache *cache, const uint8_t *digest, int64_t now_us)
{
	struct cert_cache_slot *s;

	if (cache == NULL || (s = find(cache, digest)) == NULL)
		return false;
	if (now_us >= s->expires_us) {
		s->used = false;
		cache->count--;
		return false;
	}
	cache->hits++;
	return true;
}

int
cert_cache_remember(struct cert_cache *cache, const uint8_t *digest, int64_t expires_us)
{
	struct cert_cache_slot *set, *s;

	if (cache == NULL)
		return 0;
	s = find(cache, digest);
	if (s == NULL) {
		set = set_of(cache, digest);
		s = &set[0];
		for (int w = 0; w < WAYS && s->used; w++)
			if (!set[w].used || set[w].expires_us < s->expires_us)
				s = &set[w];
		if (!s->used)
			cache->count++;
		memcpy(s->digest, digest, CERT_CACHE_DIGEST_LEN);
		s->used = true;
	}
	s->expires_us = expires_us;
	return 0;
}

uint64_t
cert_cache_hits(const struct cert_cache *cache)
{
	return cache != NULL ? cache->hits : 0;
}

size_t
cert_cache_count(const struct cert_cache *cache)
{
	return cache != NULL ? cache->count : 0;
}
