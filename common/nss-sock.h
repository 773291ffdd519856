/*
 * common/nss-sock.h: the only place that does NSPR/NSS socket I/O.
 * TCP listen/accept/connect on NSPR sockets, the in-band STARTTLS
 * upgrade for both roles, and non-blocking send/recv that report
 * "would block" as -EAGAIN. Returns 0/-errno; callers log (nss_sock_error()
 * gives the NSS error text).
 */
#ifndef QNET_NSS_SOCK_H
#define QNET_NSS_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nspr.h>
#include <cert.h>
#include <keyhi.h>

/* Initialise NSS with a certificate DB, or without one (TLS off). */
int	nss_sock_init(const char *db_dir);
int	nss_sock_init_nodb(void);
void	nss_sock_shutdown(void);

/* "NSS error -12345: text" for the last NSPR/NSS error. Static buffer. */
const char	*nss_sock_error(void);

/*
 * Listen on addr (NULL = wildcard) and port. family: 0 any (IPv6 dual
 * stack for the wildcard), 4 or 6. Non-blocking, SO_REUSEADDR.
 */
int	nss_sock_listen(const char *addr, uint16_t port, int family, int backlog,
	    PRFileDesc **out);
/* -EAGAIN when nothing is pending. *addr_str gets "addr:port". */
int	nss_sock_accept(PRFileDesc *listener, PRFileDesc **out, char *addr_str,
	    size_t addr_len);

/* Start a non-blocking connect to one resolved address; -EINPROGRESS is normal. */
int	nss_sock_connect(const PRNetAddr *addr, PRFileDesc **out);
/* The same from a given local address (port 0: any); the load generator's clients. */
int	nss_sock_connect_from(const PRNetAddr *addr, const PRNetAddr *source, PRFileDesc **out);
/* After the fd became writable: 0 connected, -EINPROGRESS still pending, <0 failed. */
int	nss_sock_connect_finish(PRFileDesc *fd);

int	nss_sock_native_fd(PRFileDesc *fd);
/* Wrap a connected TCP socket received from elsewhere; takes native_fd either way. */
int	nss_sock_adopt(int native_fd, PRFileDesc **out);

/* Server side TLS: loaded once, shared by all clients. */
struct cert_cache;
struct nss_server_tls {
	PRFileDesc		*model;		/* configured once, imported per connection */
	CERTCertificate		*cert;
	SECKEYPrivateKey	*key;
	bool			 require_client_cert;
	struct cert_cache	*verified;	/* NULL: every chain verified in full */
	uint64_t		 chains_verified;	/* full verifications that passed */
};
/*
 * Client certificates whose chain verified are taken as verified for
 * NSS_VERIFIED_CERT_TTL_S (or until they expire, if sooner); at most
 * verified_cache_size of them (0: no cache). See common/cert-cache.h.
 */
#define NSS_VERIFIED_CERT_TTL_S	60
int	nss_server_tls_load(struct nss_server_tls *tls, const char *nickname,
	    bool require_client_cert, uint32_t verified_cache_size);
void	nss_server_tls_fini(struct nss_server_tls *tls);
/* Wrap *fd in TLS server mode; the handshake runs inside later recv/send. */
int	nss_sock_start_tls_server(PRFileDesc **fd, const struct nss_server_tls *tls);

/*
 * Wrap *fd in TLS client mode, expecting the server certificate's name to
 * be server_cn and offering the client certificate `client_nickname`
 * when asked. allow_expired: tolerate expired server certificates.
 */
int	nss_sock_start_tls_client(PRFileDesc **fd, const char *server_cn,
	    const char *client_nickname, bool allow_expired);

/*
 * The peer certificate names exactly `name`, byte for byte: its DNS
 * alternative names if it has any, else every CN of its subject.
 */
bool	nss_sock_peer_cert_matches(PRFileDesc *fd, const char *name);
bool	nss_sock_has_peer_cert(PRFileDesc *fd);

/* Bytes moved (> 0), 0 on EOF (recv), -EAGAIN would block, -EIO error. */
ssize_t	nss_sock_recv(PRFileDesc *fd, void *buf, size_t len);
ssize_t	nss_sock_send(PRFileDesc *fd, const void *buf, size_t len);

/*
 * Input that is waiting to be read: bytes NSS has already decrypted plus
 * bytes in the kernel's socket buffer (FIONREAD). Cheap; for telling a
 * silent peer from one whose messages we have not got to yet.
 */
size_t	nss_sock_pending(PRFileDesc *fd);
/*
 * Decrypted bytes NSS holds for this socket; 0 for a socket without the
 * TLS layer, which it is safe to ask about (NSS's own call is not).
 */
size_t	nss_sock_tls_buffered(PRFileDesc *fd);

void	nss_sock_close(PRFileDesc *fd);

/* Days until the certificate expires (negative: expired). */
long	nss_cert_days_left(const CERTCertificate *cert);

/*
 * Client side helpers (qdevice).
 * nss_sock_resolve: the addresses of host:port in resolver order, family
 * 0 any, 4 or 6; *addrs is malloc'd. 0, -ENOENT (no address) or -ENOMEM.
 */
int	nss_sock_resolve(const char *host, uint16_t port, int family, PRNetAddr **addrs,
	    size_t *count);
/* "a.b.c.d:port" / "[v6]:port"-less form "addr:port" of an address. */
void	nss_sock_addr_str(const PRNetAddr *addr, char *buf, size_t len);
/*
 * The poll(2) events (POLLIN/POLLOUT) to wait for on the native fd when
 * we want to read, and to write if want_write. Under TLS a pending
 * handshake may turn a write wish into a read wait (what PR_Poll does).
 */
short	nss_sock_poll_events(PRFileDesc *fd, bool want_write);
/* A client certificate was sent during this connection's TLS handshake. */
bool	nss_sock_local_cert_sent(PRFileDesc *fd);
/* Days left of the DB certificate `nickname`: 0, -ENOENT if not found. */
int	nss_cert_days_left_by_nickname(const char *nickname, long *days);

#endif
