/* common/nss-sock.c: NSPR sockets and NSS TLS for qnetd and qdevice. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cert.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <private/pprio.h>
#include <ssl.h>
#include <sslerr.h>
#include <secerr.h>
#include <secder.h>
#include <secitem.h>
#include <sechash.h>

#include "cert-cache.h"
#include "nss-sock.h"

const char *
nss_sock_error(void)
{
	static char buf[256];
	PRErrorCode code = PR_GetError();
	const char *text = PR_ErrorToName(code);

	snprintf(buf, sizeof(buf), "NSS error %d: %s", (int)code,
	    text != NULL ? text : "unknown");
	return buf;
}

static int
common_ssl_setup(void)
{
	if (NSS_SetDomesticPolicy() != SECSuccess)
		return -EIO;
	return 0;
}

int
nss_sock_init(const char *db_dir)
{
	/*
	 * Not NSS_Init(): it implies NSS_INIT_OPTIMIZESPACE, which gives the
	 * softoken a 32-bucket session table that every TLS record then walks
	 * under a lock; with thousands of connections that was half of qnetd's
	 * CPU (tests/bench: 119 -> 46 us per TLS echo at 1,000 clients).
	 */
	if (NSS_Initialize(db_dir, "", "", SECMOD_DB, NSS_INIT_READONLY) != SECSuccess)
		return -EIO;
	return common_ssl_setup();
}

int
nss_sock_init_nodb(void)
{
	if (NSS_NoDB_Init(NULL) != SECSuccess)
		return -EIO;
	return common_ssl_setup();
}

void
nss_sock_shutdown(void)
{
	SSL_ClearSessionCache();
	NSS_Shutdown();
	PR_Cleanup();
}

/*
 * Every socket of ours is nonblocking and close-on-exec. NSPR leaves native
 * descriptors inheritable: an event hook (or a daemon it leaves behind)
 * would hold the listener's port or a peer's connection open after we close
 * them, and the peer would see no disconnect.
 */
static int
prepare_socket(PRFileDesc *fd)
{
	PRSocketOptionData opt = { .option = PR_SockOpt_Nonblocking };

	opt.value.non_blocking = PR_TRUE;
	if (PR_SetFDInheritable(fd, PR_FALSE) != PR_SUCCESS)
		return -EIO;
	return PR_SetSocketOption(fd, &opt) == PR_SUCCESS ? 0 : -EIO;
}

/*
 * Replies are small and often come in pairs (VOTE_INFO then the reply):
 * with Nagle the second waits for the peer's delayed ACK, ~40 ms.
 */
static int
set_nodelay(PRFileDesc *fd)
{
	PRSocketOptionData opt = { .option = PR_SockOpt_NoDelay };

	opt.value.no_delay = PR_TRUE;
	return PR_SetSocketOption(fd, &opt) == PR_SUCCESS ? 0 : -EIO;
}

static PRFileDesc *
open_bound(const PRNetAddr *addr, int backlog)
{
	PRSocketOptionData opt = { .option = PR_SockOpt_Reuseaddr };
	PRFileDesc *fd;

	fd = PR_OpenTCPSocket(PR_NetAddrFamily(addr));
	if (fd == NULL)
		return NULL;
	opt.value.reuse_addr = PR_TRUE;
	if (PR_SetSocketOption(fd, &opt) != PR_SUCCESS ||
	    PR_Bind(fd, addr) != PR_SUCCESS || PR_Listen(fd, backlog) != PR_SUCCESS ||
	    prepare_socket(fd) != 0) {
		PR_Close(fd);
		return NULL;
	}
	return fd;
}

int
nss_sock_listen(const char *addr, uint16_t port, int family, int backlog,
    PRFileDesc **out)
{
	PRAddrInfo *ai;
	PRNetAddr na;
	void *iter = NULL;
	PRFileDesc *fd = NULL;
	PRUint16 want = family == 4 ? PR_AF_INET : family == 6 ? PR_AF_INET6 : PR_AF_UNSPEC;

	*out = NULL;
	if (addr == NULL) {
		/* The IPv6 wildcard also takes IPv4 (dual stack) unless -4 is given. */
		if (PR_SetNetAddr(PR_IpAddrAny, want == PR_AF_INET ? PR_AF_INET : PR_AF_INET6,
		    port, &na) != PR_SUCCESS)
			return -EINVAL;
		fd = open_bound(&na, backlog);
		if (fd == NULL)
			return -EADDRNOTAVAIL;
		*out = fd;
		return 0;
	}
	ai = PR_GetAddrInfoByName(addr, want, PR_AI_ADDRCONFIG | PR_AI_NOCANONNAME);
	if (ai == NULL)
		return -ENOENT;
	while ((iter = PR_EnumerateAddrInfo(iter, ai, port, &na)) != NULL) {
		if (want != PR_AF_UNSPEC && PR_NetAddrFamily(&na) != want)
			continue;
		fd = open_bound(&na, backlog);
		if (fd != NULL)
			break;
	}
	PR_FreeAddrInfo(ai);
	if (fd == NULL)
		return -EADDRNOTAVAIL;
	*out = fd;
	return 0;
}

static void
addr_to_str(const PRNetAddr *na, char *buf, size_t len)
{
	char host[128];

	if (PR_NetAddrToString(na, host, sizeof(host)) != PR_SUCCESS)
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, "%s:%u", host, (unsigned)PR_ntohs(PR_NetAddrInetPort(na)));
}

int
nss_sock_accept(PRFileDesc *listener, PRFileDesc **out, char *addr_str, size_t addr_len)
{
	PRNetAddr na;
	PRFileDesc *fd;

	fd = PR_Accept(listener, &na, PR_INTERVAL_NO_WAIT);
	if (fd == NULL)
		return PR_GetError() == PR_WOULD_BLOCK_ERROR ? -EAGAIN : -EIO;
	if (prepare_socket(fd) != 0 || set_nodelay(fd) != 0) {
		PR_Close(fd);
		return -EIO;
	}
	addr_to_str(&na, addr_str, addr_len);
	*out = fd;
	return 0;
}

int
nss_sock_connect(const PRNetAddr *addr, PRFileDesc **out)
{
	return nss_sock_connect_from(addr, NULL, out);
}

int
nss_sock_connect_from(const PRNetAddr *addr, const PRNetAddr *source, PRFileDesc **out)
{
	PRFileDesc *fd;

	*out = NULL;
	fd = PR_OpenTCPSocket(PR_NetAddrFamily(addr));
	if (fd == NULL)
		return -EIO;
	if (prepare_socket(fd) != 0 || (source != NULL && PR_Bind(fd, source) != PR_SUCCESS)) {
		PR_Close(fd);
		return -EIO;
	}
	*out = fd;
	if (PR_Connect(fd, addr, PR_INTERVAL_NO_TIMEOUT) == PR_SUCCESS)
		return 0;
	if (PR_GetError() == PR_IN_PROGRESS_ERROR)
		return -EINPROGRESS;
	PR_Close(fd);
	*out = NULL;
	return -ECONNREFUSED;
}

int
nss_sock_connect_finish(PRFileDesc *fd)
{
	PRPollDesc pd = { .fd = fd, .in_flags = PR_POLL_WRITE | PR_POLL_EXCEPT };

	if (PR_Poll(&pd, 1, PR_INTERVAL_NO_WAIT) < 0)
		return -EIO;
	if (PR_ConnectContinue(fd, pd.out_flags) == PR_SUCCESS)
		return 0;
	if (PR_GetError() == PR_IN_PROGRESS_ERROR)
		return -EINPROGRESS;
	return -ECONNREFUSED;
}

int
nss_sock_adopt(int native_fd, PRFileDesc **out)
{
	PRFileDesc *fd = PR_ImportTCPSocket(native_fd);

	if (fd == NULL) {
		close(native_fd);
		return -EIO;
	}
	/* NSPR keeps its own idea of blocking; tell it what the descriptor is. */
	if (prepare_socket(fd) != 0) {
		PR_Close(fd);
		return -EIO;
	}
	*out = fd;
	return 0;
}

int
nss_sock_native_fd(PRFileDesc *fd)
{
	return PR_FileDesc2NativeHandle(fd);
}

/*
 * The identity of the layer SSL_ImportFD pushes, learnt from the first
 * socket we import (NSS does not export it). NSS's SSL_* calls must only
 * see sockets with that layer: in a process that has not imported one
 * yet (TLS off, the worker processes' front) NSS's own idea of its layer
 * is NSPR's base layer, so it takes any plain socket's NSPR data for its
 * SSL state and writes into it.
 */
static PRDescIdentity ssl_layer = PR_INVALID_IO_LAYER;

static PRFileDesc *
note_ssl_layer(PRFileDesc *imported)
{
	if (imported != NULL)
		ssl_layer = imported->identity;
	return imported;
}

static bool
has_ssl_layer(PRFileDesc *fd)
{
	return ssl_layer != PR_INVALID_IO_LAYER && PR_GetIdentitiesLayer(fd, ssl_layer) != NULL;
}

/*
 * The client certificate's chain is verified by NSS's own
 * SSL_AuthCertificate, as without this hook; a certificate that passed is
 * then remembered (common/cert-cache.h) so that the other nodes of its
 * cluster, reconnecting in the same storm, skip the database searches of
 * the chain walk. A failure is never remembered. Proof that the peer holds
 * the certificate's key is checked by the TLS layer for every handshake.
 */
static SECStatus
server_auth_certificate(void *arg, PRFileDesc *fd, PRBool check_sig, PRBool is_server)
{
	struct nss_server_tls *tls = arg;
	CERTCertificate *cert = SSL_PeerCertificate(fd);
	uint8_t digest[CERT_CACHE_DIGEST_LEN];
	bool have_digest = false;
	PRTime now = PR_Now(), not_before, not_after, until;
	SECStatus rv;

	if (cert != NULL && tls->verified != NULL &&
	    HASH_HashBuf(HASH_AlgSHA256, digest, cert->derCert.data, cert->derCert.len) ==
	    SECSuccess) {
		have_digest = true;
		if (cert_cache_holds(tls->verified, digest, now)) {
			CERT_DestroyCertificate(cert);
			return SECSuccess;
		}
	}
	rv = SSL_AuthCertificate(CERT_GetDefaultCertDB(), fd, check_sig, is_server);
	if (rv == SECSuccess) {
		tls->chains_verified++;
		if (have_digest && CERT_GetCertTimes(cert, &not_before, &not_after) == SECSuccess) {
			until = now + (PRTime)NSS_VERIFIED_CERT_TTL_S * PR_USEC_PER_SEC;
			/* a failed insert only costs the next handshake a full verification */
			(void)cert_cache_remember(tls->verified, digest,
			    not_after < until ? not_after : until);
		}
	}
	if (cert != NULL)
		CERT_DestroyCertificate(cert);
	return rv;
}

int
nss_server_tls_load(struct nss_server_tls *tls, const char *nickname,
    bool require_client_cert, uint32_t verified_cache_size)
{
	memset(tls, 0, sizeof(*tls));
	if (verified_cache_size > 0) {
		tls->verified = cert_cache_create(verified_cache_size);
		if (tls->verified == NULL)
			return -ENOMEM;
	}
	tls->cert = PK11_FindCertFromNickname(nickname, NULL);
	if (tls->cert == NULL) {
		nss_server_tls_fini(tls);
		return -ENOENT;
	}
	tls->key = PK11_FindKeyByAnyCert(tls->cert, NULL);
	if (tls->key == NULL) {
		nss_server_tls_fini(tls);
		return -ENOKEY;
	}
	tls->require_client_cert = require_client_cert;
	/*
	 * No server session cache and no session tickets (SSL_NO_CACHE below):
	 * qdevice connects once and stays connected, so resumption would save
	 * nothing, while the ID cache costs ~5 MiB at start and every full
	 * handshake would add a NewSessionTicket (tests/bench: base RSS
	 * 13.7 -> 8.3 MiB).
	 */
	/*
	 * Configure once on a model socket that every connection is imported
	 * from: SSL_ConfigSecureServer per connection re-reads the certificate
	 * chain from the database (tests/bench: 14 -> 8 ms CPU per handshake).
	 */
	tls->model = PR_NewTCPSocket();
	if (tls->model == NULL)
		goto fail;
	tls->model = note_ssl_layer(SSL_ImportFD(NULL, tls->model));
	if (tls->model == NULL ||
	    SSL_ConfigSecureServer(tls->model, tls->cert, tls->key,
		NSS_FindCertKEAType(tls->cert)) != SECSuccess ||
	    SSL_OptionSet(tls->model, SSL_NO_CACHE, PR_TRUE) != SECSuccess ||
	    SSL_OptionSet(tls->model, SSL_REQUEST_CERTIFICATE,
		require_client_cert ? PR_TRUE : PR_FALSE) != SECSuccess ||
	    SSL_OptionSet(tls->model, SSL_REQUIRE_CERTIFICATE,
		require_client_cert ? PR_TRUE : PR_FALSE) != SECSuccess ||
	    SSL_AuthCertificateHook(tls->model, server_auth_certificate, tls) != SECSuccess)
		goto fail;
	return 0;
fail:
	nss_server_tls_fini(tls);
	return -EIO;
}

void
nss_server_tls_fini(struct nss_server_tls *tls)
{
	if (tls->model != NULL)
		PR_Close(tls->model);
	if (tls->key != NULL)
		SECKEY_DestroyPrivateKey(tls->key);
	if (tls->cert != NULL)
		CERT_DestroyCertificate(tls->cert);
	cert_cache_destroy(tls->verified);
	memset(tls, 0, sizeof(*tls));
}

/*
 * SSL_ImportFD may return a new layer on top of *fd; on failure the
 * original descriptor stays valid and owned by the caller.
 */
static int
import_ssl(PRFileDesc **fd)
{
	PRFileDesc *ssl = note_ssl_layer(SSL_ImportFD(NULL, *fd));

	if (ssl == NULL)
		return -EIO;
	*fd = ssl;
	return 0;
}

int
nss_sock_start_tls_server(PRFileDesc **fd, const struct nss_server_tls *tls)
{
	PRFileDesc *ssl;

	if (tls->model == NULL)
		return -ENOENT;
	ssl = note_ssl_layer(SSL_ImportFD(tls->model, *fd));
	if (ssl == NULL)
		return -EIO;
	*fd = ssl;
	if (SSL_ResetHandshake(*fd, PR_TRUE) != SECSuccess)
		return -EIO;
	return 0;
}

/*
 * Expiry-type failures are tolerated only when the caller allows it;
 * everything else NSS's default verification refuses stays refused.
 */
static SECStatus
bad_cert_allow_expired(void *arg, PRFileDesc *fd)
{
	switch (PR_GetError()) {
	case SEC_ERROR_EXPIRED_CERTIFICATE:
	case SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE:
	case SEC_ERROR_CRL_EXPIRED:
	case SEC_ERROR_KRL_EXPIRED:
	case SSL_ERROR_EXPIRED_CERT_ALERT:
		return SECSuccess;
	default:
		return SECFailure;
	}
}

static SECStatus
bad_cert_refuse(void *arg, PRFileDesc *fd)
{
	return SECFailure;
}

int
nss_sock_start_tls_client(PRFileDesc **fd, const char *server_cn,
    const char *client_nickname, bool allow_expired)
{
	if (import_ssl(fd) != 0)
		return -EIO;
	if (SSL_OptionSet(*fd, SSL_SECURITY, PR_TRUE) != SECSuccess ||
	    SSL_OptionSet(*fd, SSL_HANDSHAKE_AS_CLIENT, PR_TRUE) != SECSuccess ||
	    SSL_SetURL(*fd, server_cn) != SECSuccess ||
	    SSL_GetClientAuthDataHook(*fd, NSS_GetClientAuthData,
		(void *)client_nickname) != SECSuccess ||
	    SSL_BadCertHook(*fd, allow_expired ? bad_cert_allow_expired : bad_cert_refuse,
		NULL) != SECSuccess ||
	    SSL_ResetHandshake(*fd, PR_FALSE) != SECSuccess)
		return -EIO;
	return 0;
}

bool
nss_sock_has_peer_cert(PRFileDesc *fd)
{
	CERTCertificate *cert = has_ssl_layer(fd) ? SSL_PeerCertificate(fd) : NULL;

	if (cert == NULL)
		return false;
	CERT_DestroyCertificate(cert);
	return true;
}

static bool
item_is(const SECItem *item, const char *name, size_t len)
{
	return item->len == len && memcmp(item->data, name, len) == 0;
}

/* Every CN of the subject is exactly `name`, and there is one at least. */
static bool
subject_cn_is(const CERTName *subject, const char *name, size_t len)
{
	bool seen = false;

	for (CERTRDN **rdn = subject->rdns; rdn != NULL && *rdn != NULL; rdn++) {
		for (CERTAVA **ava = (*rdn)->avas; ava != NULL && *ava != NULL; ava++) {
			SECItem *value;
			bool same;

			if (CERT_GetAVATag(*ava) != SEC_OID_AVA_COMMON_NAME)
				continue;
			value = CERT_DecodeAVAValue(&(*ava)->value);	/* as UTF-8 */
			if (value == NULL)
				return false;
			same = item_is(value, name, len);
			SECITEM_FreeItem(value, PR_TRUE);
			if (!same)
				return false;
			seen = true;
		}
	}
	return seen;
}

/*
 * 1 when a DNS alternative name is exactly `name`, 0 when there are DNS
 * alternative names but none is, -1 when the certificate has none.
 */
static int
dns_alt_name_is(const CERTCertificate *cert, const char *name, size_t len)
{
	SECItem ext = { siBuffer, NULL, 0 };
	PLArenaPool *arena;
	CERTGeneralName *first, *g;
	int r = -1;

	if (CERT_FindCertExtension(cert, SEC_OID_X509_SUBJECT_ALT_NAME, &ext) != SECSuccess)
		return -1;
	arena = PORT_NewArena(DER_DEFAULT_CHUNKSIZE);
	first = arena != NULL ? CERT_DecodeAltNameExtension(arena, &ext) : NULL;
	if (first == NULL)
		r = 0;	/* present but unreadable: names nothing */
	for (g = first; g != NULL && r != 1; ) {
		if (g->type == certDNSName)
			r = item_is(&g->name.other, name, len) ? 1 : 0;
		g = CERT_GetNextGeneralName(g);
		if (g == first)
			break;
	}
	if (arena != NULL)
		PORT_FreeArena(arena, PR_FALSE);
	SECITEM_FreeItem(&ext, PR_FALSE);
	return r;
}

/*
 * The certificate is the cluster's (docs/protocol.md 6): the certutils issue it
 * with the subject "CN=<cluster>" and no alternative names. The match is
 * byte for byte: CERT_VerifyCertName is a host-name match, which ignores
 * case and takes wildcards, so a certificate of "alpha" would pass for
 * "ALPHA". As with host names, DNS alternative names, when a certificate
 * has some, are the names it holds and its CN is not looked at.
 */
bool
nss_sock_peer_cert_matches(PRFileDesc *fd, const char *name)
{
	CERTCertificate *cert = SSL_PeerCertificate(fd);
	size_t len = strlen(name);
	bool ok;
	int alt;

	if (cert == NULL)
		return false;
	alt = dns_alt_name_is(cert, name, len);
	ok = alt >= 0 ? alt == 1 : subject_cn_is(&cert->subject, name, len);
	CERT_DestroyCertificate(cert);
	return ok;
}

ssize_t
nss_sock_recv(PRFileDesc *fd, void *buf, size_t len)
{
	PRInt32 n = PR_Recv(fd, buf, (PRInt32)(len > INT32_MAX ? INT32_MAX : len), 0,
	    PR_INTERVAL_NO_WAIT);

	if (n >= 0)
		return n;
	return PR_GetError() == PR_WOULD_BLOCK_ERROR ? -EAGAIN : -EIO;
}

ssize_t
nss_sock_send(PRFileDesc *fd, const void *buf, size_t len)
{
	PRInt32 n = PR_Send(fd, buf, (PRInt32)(len > INT32_MAX ? INT32_MAX : len), 0,
	    PR_INTERVAL_NO_WAIT);

	if (n >= 0)
		return n;
	return PR_GetError() == PR_WOULD_BLOCK_ERROR ? -EAGAIN : -EIO;
}

size_t
nss_sock_tls_buffered(PRFileDesc *fd)
{
	PRInt32 dec;

	if (!has_ssl_layer(fd))
		return 0;
	dec = SSL_DataPending(fd);

	return dec > 0 ? (size_t)dec : 0;
}

size_t
nss_sock_pending(PRFileDesc *fd)
{
	int avail = 0;
	size_t n = nss_sock_tls_buffered(fd);

	if (ioctl(PR_FileDesc2NativeHandle(fd), FIONREAD, &avail) == 0 && avail > 0)
		n += (size_t)avail;
	return n;
}

void
nss_sock_close(PRFileDesc *fd)
{
	if (fd != NULL)
		PR_Close(fd);
}

long
nss_cert_days_left(const CERTCertificate *cert)
{
	PRTime not_before, not_after;

	if (CERT_GetCertTimes(cert, &not_before, &not_after) != SECSuccess)
		return 0;
	return (long)((not_after - PR_Now()) / (PRTime)(24LL * 3600 * 1000000));
}

int
nss_sock_resolve(const char *host, uint16_t port, int family, PRNetAddr **addrs,
    size_t *count)
{
	PRUint16 want = family == 4 ? PR_AF_INET : family == 6 ? PR_AF_INET6 : PR_AF_UNSPEC;
	PRAddrInfo *ai;
	PRNetAddr na, *v = NULL, *grown;
	void *iter = NULL;
	size_t n = 0;

	*addrs = NULL;
	*count = 0;
	ai = PR_GetAddrInfoByName(host, want, PR_AI_ADDRCONFIG | PR_AI_NOCANONNAME);
	if (ai == NULL)
		return -ENOENT;
	while ((iter = PR_EnumerateAddrInfo(iter, ai, port, &na)) != NULL) {
		if (want != PR_AF_UNSPEC && PR_NetAddrFamily(&na) != want)
			continue;
		grown = realloc(v, (n + 1) * sizeof(*v));
		if (grown == NULL) {
			free(v);
			PR_FreeAddrInfo(ai);
			return -ENOMEM;
		}
		v = grown;
		v[n++] = na;
	}
	PR_FreeAddrInfo(ai);
	if (n == 0)
		return -ENOENT;
	*addrs = v;
	*count = n;
	return 0;
}

void
nss_sock_addr_str(const PRNetAddr *addr, char *buf, size_t len)
{
	addr_to_str(addr, buf, len);
}

short
nss_sock_poll_events(PRFileDesc *fd, bool want_write)
{
	PRInt16 in = PR_POLL_READ | (want_write ? PR_POLL_WRITE : 0);
	PRInt16 out = 0, lower;
	short events = 0;

	/* Every layer (SSL included) maps its wishes onto the one below, as PR_Poll does. */
	lower = fd->methods->poll(fd, in, &out);
	if (lower & PR_POLL_READ)
		events |= POLLIN;
	if (lower & PR_POLL_WRITE)
		events |= POLLOUT;
	return events;
}

bool
nss_sock_local_cert_sent(PRFileDesc *fd)
{
	CERTCertificate *cert = has_ssl_layer(fd) ? SSL_LocalCertificate(fd) : NULL;

	if (cert == NULL)
		return false;
	CERT_DestroyCertificate(cert);
	return true;
}

int
nss_cert_days_left_by_nickname(const char *nickname, long *days)
{
	CERTCertificate *cert = PK11_FindCertFromNickname(nickname, NULL);

	if (cert == NULL)
		return -ENOENT;
	*days = nss_cert_days_left(cert);
	CERT_DestroyCertificate(cert);
	return 0;
}
