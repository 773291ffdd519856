/*
 * qdevice/plan-probe.h: the system facts the planner's readiness checks
 * need that cmap does not give: what the nodes' names and ring addresses
 * resolve to, this host's interfaces, the kernel's NTP state, whether the
 * arbiter answers on its port now and which interface the route to it
 * leaves through, the client certificate's expiry and sbd's watchdog
 * timeout. Gathering does I/O (resolver, one TCP connect, NSS read-only,
 * two small files); judging the facts is plan-checks.c's job. Every fact
 * carries a known flag: a fact that could not be gathered says why.
 */
#ifndef QDEVICE_PLAN_PROBE_H
#define QDEVICE_PLAN_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "plan-env.h"

#define PLAN_PROBE_MAX_ADDRS	8	/* addresses kept per resolved name */
#define PLAN_PROBE_IFNAME_LEN	32
#define PLAN_PROBE_ERR_LEN	128

/* One IPv4 or IPv6 address, numeric. */
struct plan_ip {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		bytes[16];	/* network order; 4 used for AF_INET */
};

/* What a host name (or numeric address) resolved to. */
struct plan_resolved {
	bool		tried;
	bool		ok;			/* at least one address */
	struct plan_ip	addrs[PLAN_PROBE_MAX_ADDRS];
	size_t		count;
	char		error[PLAN_PROBE_ERR_LEN];	/* !ok: the resolver's words */
};

/* One address of one local interface (getifaddrs). */
struct plan_iface_addr {
	char		name[PLAN_PROBE_IFNAME_LEN];
	struct plan_ip	addr;
	unsigned	prefix_len;		/* from the netmask */
};

struct plan_probe_node {
	struct plan_resolved name;		/* the node's name (tried only if it has one) */
	struct plan_resolved ring[PLAN_MAX_LINKS];	/* ringN_addr, when configured */
};

enum plan_connect_result {
	PLAN_CONNECT_UNKNOWN = 0,		/* not tried */
	PLAN_CONNECT_OK,
	PLAN_CONNECT_REFUSED,
	PLAN_CONNECT_TIMEOUT,
	PLAN_CONNECT_ERROR,
};

struct plan_probe {
	/* c->nodes order; NULL when the cluster has no nodes */
	struct plan_probe_node	*nodes;
	size_t			 node_count;

	bool			 ifaces_known;
	struct plan_iface_addr	*ifaces;
	size_t			 iface_count;
	char			 ifaces_error[PLAN_PROBE_ERR_LEN];

	/* kernel NTP state (ntp_adjtime) */
	bool			 ntp_known;
	bool			 ntp_synced;		/* STA_UNSYNC clear and no TIME_ERROR */
	int64_t			 ntp_offset_us;
	int64_t			 ntp_maxerror_us;
	char			 ntp_error[PLAN_PROBE_ERR_LEN];

	/* arbiter */
	struct plan_resolved	 arbiter;		/* tried only with a net device */
	enum plan_connect_result connect;
	struct plan_ip		 connect_addr;		/* the address tried last */
	uint32_t		 connect_ms;		/* how long it took */
	char			 connect_error[PLAN_PROBE_ERR_LEN];
	bool			 route_known;
	struct plan_ip		 route_source;		/* source address the kernel picks */
	char			 route_iface[PLAN_PROBE_IFNAME_LEN];
	char			 route_error[PLAN_PROBE_ERR_LEN];

	/* client certificate (only looked at when TLS is on or required) */
	bool			 cert_known;		/* NSS DB opened and searched */
	bool			 cert_found;
	long			 cert_days_left;	/* negative: expired */
	char			 cert_error[PLAN_PROBE_ERR_LEN];

	/* sbd */
	bool			 sbd_known;		/* its config and unit were looked for */
	bool			 sbd_configured;	/* config file found and sbd enabled */
	bool			 sbd_timeout_set;	/* SBD_WATCHDOG_TIMEOUT present */
	uint32_t		 sbd_watchdog_timeout_ms;
	char			 sbd_source[PLAN_PROBE_ERR_LEN];	/* the file read */
};

/*
 * Gathers everything it can; a fact that cannot be had stays unknown with
 * its reason. 0, or -ENOMEM (out is then empty but safe to fini).
 * connect_timeout_ms bounds the one TCP connect to the arbiter.
 */
int	plan_probe_gather(const struct plan_cluster *c, const struct plan_env *env,
	    uint32_t connect_timeout_ms, struct plan_probe *out);
void	plan_probe_fini(struct plan_probe *p);

/* The pieces, exposed for the tests (loopback only there). */
void	plan_probe_resolve(const char *host, struct plan_resolved *out);
/* A list of hosts separated by commas or whitespace: every address of each, in order. */
void	plan_probe_resolve_list(const char *hosts, struct plan_resolved *out);
int	plan_probe_interfaces(struct plan_iface_addr **out, size_t *count, char *err,
	    size_t err_len);
/* Non-blocking connect within timeout_ms; *ms gets the time taken. */
enum plan_connect_result plan_probe_connect(const struct plan_ip *addr, uint16_t port,
	    uint32_t timeout_ms, uint32_t *ms, char *err, size_t err_len);
/* The source address the kernel picks towards dst and its interface. 0 or -errno. */
int	plan_probe_route(const struct plan_ip *dst, const struct plan_iface_addr *ifaces,
	    size_t iface_count, struct plan_ip *source, char *ifname, size_t ifname_len,
	    char *err, size_t err_len);
/*
 * SBD_WATCHDOG_TIMEOUT from a sysconfig-style file. 0 (found: *ms set),
 * -ENOENT (no such variable) or -errno (file unreadable); -EINVAL: not a
 * number of seconds.
 */
int	plan_probe_sbd_file(const char *path, uint32_t *ms);

/* Helpers shared with plan-checks.c. */
bool	plan_ip_parse(const char *text, struct plan_ip *out);
void	plan_ip_str(const struct plan_ip *ip, char *buf, size_t len);
bool	plan_ip_equal(const struct plan_ip *a, const struct plan_ip *b);
/* a and b share the first prefix_len bits (same family). */
bool	plan_ip_same_prefix(const struct plan_ip *a, const struct plan_ip *b,
	    unsigned prefix_len);

#endif
