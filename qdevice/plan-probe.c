/*
 * qdevice/plan-probe.c: gathers the system facts of plan-probe.h. Each
 * probe is bounded (resolver calls, one TCP connect with a timeout, NSS
 * opened read-only) and records failures as text instead of guessing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/nss-sock.h"
#include "corosync-config.h"
#include "plan-probe.h"

/* sbd's config file, by distribution family. */
static const char *const sbd_config_paths[] = {
	"/etc/sysconfig/sbd", "/etc/default/sbd",
};

/*
 * sbd is in use when its unit is enabled; `systemctl enable sbd` links
 * it into the unit that pulls it in (its [Install] section).
 */
static const char *const sbd_enabled_links[] = {
	"/etc/systemd/system/corosync.service.requires/sbd.service",
	"/etc/systemd/system/corosync.service.wants/sbd.service",
	"/etc/systemd/system/pacemaker.service.requires/sbd.service",
	"/etc/systemd/system/pacemaker.service.wants/sbd.service",
	"/etc/systemd/system/multi-user.target.wants/sbd.service",
};

bool
plan_ip_parse(const char *text, struct plan_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return false;
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = AF_INET6;
		return true;
	}
	return false;
}

void
plan_ip_str(const struct plan_ip *ip, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (inet_ntop(ip->family, ip->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

static size_t
ip_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool
plan_ip_equal(const struct plan_ip *a, const struct plan_ip *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, ip_len(a->family)) == 0;
}

bool
plan_ip_same_prefix(const struct plan_ip *a, const struct plan_ip *b, unsigned prefix_len)
{
	size_t full = prefix_len / 8;
	unsigned rest = prefix_len % 8;

	if (a->family != b->family || prefix_len > 8 * ip_len(a->family))
		return false;
	if (memcmp(a->bytes, b->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a->bytes[full] ^ b->bytes[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool
ip_from_sockaddr(const struct sockaddr *sa, struct plan_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->bytes, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		out->family = AF_INET6;
		memcpy(out->bytes, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static socklen_t
ip_to_sockaddr(const struct plan_ip *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, ip->bytes, 16);
	return sizeof(*sin6);
}

void
plan_probe_resolve(const char *host, struct plan_resolved *out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res = NULL, *ai;
	int rc;

	memset(out, 0, sizeof(*out));
	out->tried = true;
	if (host == NULL || *host == '\0') {
		snprintf(out->error, sizeof(out->error), "no name to resolve");
		return;
	}
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(out->error, sizeof(out->error), "%s",
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	for (ai = res; ai != NULL && out->count < PLAN_PROBE_MAX_ADDRS; ai = ai->ai_next) {
		struct plan_ip ip;
		bool dup = false;

		if (!ip_from_sockaddr(ai->ai_addr, &ip))
			continue;
		for (size_t i = 0; i < out->count && !dup; i++)
			dup = plan_ip_equal(&out->addrs[i], &ip);
		if (!dup)
			out->addrs[out->count++] = ip;
	}
	freeaddrinfo(res);
	out->ok = out->count > 0;
	if (!out->ok)
		snprintf(out->error, sizeof(out->error), "no IPv4 or IPv6 address");
}

void
plan_probe_resolve_list(const char *hosts, struct plan_resolved *out)
{
	const char *sep = ", \t";
	char *copy, *item, *save = NULL;
	size_t failed = 0;

	memset(out, 0, sizeof(*out));
	out->tried = true;
	if (hosts == NULL || (copy = strdup(hosts)) == NULL) {
		snprintf(out->error, sizeof(out->error), hosts == NULL ? "no name to resolve" :
		    "out of memory");
		return;
	}
	for (item = strtok_r(copy, sep, &save); item != NULL; item = strtok_r(NULL, sep, &save)) {
		struct plan_resolved one;

		plan_probe_resolve(item, &one);
		if (!one.ok) {
			/* the first failure's words; the others are counted */
			if (failed++ == 0)
				snprintf(out->error, sizeof(out->error), "%.48s: %.72s", item, one.error);
			continue;
		}
		for (size_t i = 0; i < one.count && out->count < PLAN_PROBE_MAX_ADDRS; i++) {
			bool dup = false;

			for (size_t j = 0; j < out->count && !dup; j++)
				dup = plan_ip_equal(&out->addrs[j], &one.addrs[i]);
			if (!dup)
				out->addrs[out->count++] = one.addrs[i];
		}
	}
	free(copy);
	out->ok = out->count > 0;
	if (out->ok)
		out->error[0] = '\0';
	else if (failed == 0)
		snprintf(out->error, sizeof(out->error), "no name to resolve");
}

static unsigned
prefix_from_mask(const struct sockaddr *mask)
{
	struct plan_ip m;
	unsigned bits = 0;

	if (!ip_from_sockaddr(mask, &m))
		return 0;
	for (size_t i = 0; i < ip_len(m.family); i++)
		for (int b = 7; b >= 0; b--) {
			if (!(m.bytes[i] & (1u << b)))
				return bits;
			bits++;
		}
	return bits;
}

int
plan_probe_interfaces(struct plan_iface_addr **out, size_t *count, char *err, size_t err_len)
{
	struct ifaddrs *list = NULL, *ifa;
	struct plan_iface_addr *v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*count = 0;
	if (getifaddrs(&list) != 0) {
		int e = errno;

		snprintf(err, err_len, "getifaddrs: %s", strerror(e));
		return -e;
	}
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		struct plan_iface_addr a;

		memset(&a, 0, sizeof(a));
		if (!ip_from_sockaddr(ifa->ifa_addr, &a.addr))
			continue;
		snprintf(a.name, sizeof(a.name), "%s", ifa->ifa_name);
		a.prefix_len = prefix_from_mask(ifa->ifa_netmask);
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct plan_iface_addr *g = realloc(v, ncap * sizeof(*v));

			if (g == NULL) {
				free(v);
				freeifaddrs(list);
				snprintf(err, err_len, "out of memory");
				return -ENOMEM;
			}
			v = g;
			cap = ncap;
		}
		v[n++] = a;
	}
	freeifaddrs(list);
	*out = v;
	*count = n;
	return 0;
}

enum plan_connect_result
plan_probe_connect(const struct plan_ip *addr, uint16_t port, uint32_t timeout_ms,
    uint32_t *ms, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t len = ip_to_sockaddr(addr, port, &ss);
	uint64_t start = clock_now_ms();
	enum plan_connect_result r;
	int fd, e = 0;

	*ms = 0;
	err[0] = '\0';
	fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return PLAN_CONNECT_ERROR;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		r = PLAN_CONNECT_OK;
		goto out;
	}
	if (errno != EINPROGRESS) {
		e = errno;
		goto failed;
	}
	for (;;) {
		uint64_t spent = clock_now_ms() - start;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int pr;

		if (spent >= timeout_ms) {
			snprintf(err, err_len, "no answer within %u ms", timeout_ms);
			r = PLAN_CONNECT_TIMEOUT;
			goto out;
		}
		pr = poll(&p, 1, (int)(timeout_ms - spent));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			e = errno;
			goto failed;
		}
		if (pr == 0)
			continue;	/* the time check above ends the wait */
		socklen_t el = sizeof(e);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e == 0) {
			r = PLAN_CONNECT_OK;
			goto out;
		}
		goto failed;
	}
failed:
	snprintf(err, err_len, "%s", strerror(e));
	r = e == ECONNREFUSED ? PLAN_CONNECT_REFUSED :
	    e == ETIMEDOUT ? PLAN_CONNECT_TIMEOUT : PLAN_CONNECT_ERROR;
out:
	*ms = (uint32_t)(clock_now_ms() - start);
	close(fd);
	return r;
}

int
plan_probe_route(const struct plan_ip *dst, const struct plan_iface_addr *ifaces,
    size_t iface_count, struct plan_ip *source, char *ifname, size_t ifname_len,
    char *err, size_t err_len)
{
	struct sockaddr_storage ss, local;
	socklen_t len = ip_to_sockaddr(dst, 9, &ss), llen = sizeof(local);
	int fd, e;

	ifname[0] = '\0';
	/* A connected UDP socket sends nothing; it only asks the kernel's routing. */
	fd = socket(dst->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, err_len, "socket: %s", strerror(e));
		return -e;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) != 0) {
		e = errno;
		close(fd);
		snprintf(err, err_len, "no route: %s", strerror(e));
		return -e;
	}
	close(fd);
	if (!ip_from_sockaddr((struct sockaddr *)&local, source)) {
		snprintf(err, err_len, "unexpected source address family");
		return -EAFNOSUPPORT;
	}
	for (size_t i = 0; i < iface_count; i++)
		if (plan_ip_equal(&ifaces[i].addr, source)) {
			snprintf(ifname, ifname_len, "%s", ifaces[i].name);
			return 0;
		}
	snprintf(err, err_len, "source address is on no interface");
	return -ENOENT;
}

/* A shell-style value: optional quotes around a number of seconds. */
static int
parse_seconds(const char *v, uint32_t *ms)
{
	char buf[32];
	size_t n = strcspn(v, "\r\n#");
	char *end;
	unsigned long s;

	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	errno = 0;
	s = strtoul(buf, &end, 10);
	if (errno != 0 || *end != '\0' || buf[0] == '-' || s > UINT32_MAX / 1000)
		return -EINVAL;
	*ms = (uint32_t)(s * 1000);
	return 0;
}

int
plan_probe_sbd_file(const char *path, uint32_t *ms)
{
	static const char key[] = "SBD_WATCHDOG_TIMEOUT=";
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = -ENOENT;

	if (f == NULL)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		const char *p = line;

		p += strspn(p, " \t");
		if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
			p += 6 + strspn(p + 6, " \t");
		if (strncmp(p, key, sizeof(key) - 1) != 0)
			continue;
		/* The last assignment wins, as when the shell sources it. */
		rc = parse_seconds(p + sizeof(key) - 1, ms);
	}
	free(line);
	fclose(f);
	return rc;
}

static void
probe_ntp(struct plan_probe *p)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof(tx));
	state = ntp_adjtime(&tx);
	if (state < 0) {
		snprintf(p->ntp_error, sizeof(p->ntp_error), "ntp_adjtime: %s", strerror(errno));
		return;
	}
	p->ntp_known = true;
	p->ntp_synced = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
	/* offset is in ns with STA_NANO, else us; maxerror is always us. */
	p->ntp_offset_us = (tx.status & STA_NANO) ? (int64_t)tx.offset / 1000 : (int64_t)tx.offset;
	p->ntp_maxerror_us = (int64_t)tx.maxerror;
}

static void
probe_sbd(struct plan_probe *p)
{
	struct stat st;
	bool enabled = false;

	p->sbd_known = true;
	for (size_t i = 0; i < sizeof(sbd_enabled_links) / sizeof(sbd_enabled_links[0]); i++)
		if (stat(sbd_enabled_links[i], &st) == 0)
			enabled = true;
	for (size_t i = 0; i < sizeof(sbd_config_paths) / sizeof(sbd_config_paths[0]); i++) {
		uint32_t ms;
		int rc = plan_probe_sbd_file(sbd_config_paths[i], &ms);

		if (rc == -ENOENT && access(sbd_config_paths[i], F_OK) != 0)
			continue;	/* no such file: try the next */
		snprintf(p->sbd_source, sizeof(p->sbd_source), "%s", sbd_config_paths[i]);
		p->sbd_configured = enabled;
		if (rc == 0) {
			p->sbd_timeout_set = true;
			p->sbd_watchdog_timeout_ms = ms;
		} else if (rc != -ENOENT) {
			p->sbd_known = false;	/* unreadable or unparsable: unknown */
		}
		return;
	}
	/* No config file: an enabled unit still means sbd runs on its defaults. */
	p->sbd_configured = enabled;
}

static void
probe_cert(struct plan_probe *p, const struct plan_env *env)
{
	if (env->nss_db_dir == NULL || env->client_cert_nickname == NULL) {
		snprintf(p->cert_error, sizeof(p->cert_error),
		    "NSS database or certificate nickname unknown");
		return;
	}
	if (nss_sock_init(env->nss_db_dir) != 0) {
		snprintf(p->cert_error, sizeof(p->cert_error), "cannot open %s: %s",
		    env->nss_db_dir, nss_sock_error());
		return;
	}
	p->cert_known = true;
	p->cert_found = nss_cert_days_left_by_nickname(env->client_cert_nickname,
	    &p->cert_days_left) == 0;
	nss_sock_shutdown();
}

static void
probe_arbiter(struct plan_probe *p, const struct plan_env *env, uint32_t timeout_ms)
{
	uint64_t start = clock_now_ms();

	/* quorum.device.net.host may list several hosts (qdevice(8)): all their addresses. */
	plan_probe_resolve_list(env->arbiter_host, &p->arbiter);
	if (!p->arbiter.ok)
		return;
	/* Like qdevice, try the addresses in list and resolver order; stop at the first that answers. */
	for (size_t i = 0; i < p->arbiter.count; i++) {
		uint64_t spent = clock_now_ms() - start;

		if (spent >= timeout_ms && i > 0)
			break;
		p->connect_addr = p->arbiter.addrs[i];
		p->connect = plan_probe_connect(&p->arbiter.addrs[i], env->arbiter_port,
		    i == 0 ? timeout_ms : (uint32_t)(timeout_ms - spent), &p->connect_ms,
		    p->connect_error, sizeof(p->connect_error));
		if (p->connect == PLAN_CONNECT_OK)
			break;
	}
	if (p->ifaces_known)
		p->route_known = plan_probe_route(&p->connect_addr, p->ifaces, p->iface_count,
		    &p->route_source, p->route_iface, sizeof(p->route_iface),
		    p->route_error, sizeof(p->route_error)) == 0;
	else
		snprintf(p->route_error, sizeof(p->route_error), "interfaces unknown");
}

int
plan_probe_gather(const struct plan_cluster *c, const struct plan_env *env,
    uint32_t connect_timeout_ms, struct plan_probe *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (c->node_count > 0) {
		out->nodes = calloc(c->node_count, sizeof(*out->nodes));
		if (out->nodes == NULL)
			return -ENOMEM;
		out->node_count = c->node_count;
	}
	rc = plan_probe_interfaces(&out->ifaces, &out->iface_count, out->ifaces_error,
	    sizeof(out->ifaces_error));
	if (rc == -ENOMEM) {
		plan_probe_fini(out);
		return rc;
	}
	out->ifaces_known = rc == 0;
	for (size_t i = 0; i < c->node_count; i++) {
		const struct plan_node *n = &c->nodes[i];

		if (n->name != NULL)
			plan_probe_resolve(n->name, &out->nodes[i].name);
		for (size_t l = 0; l < PLAN_MAX_LINKS; l++)
			if (n->addrs[l] != NULL)
				plan_probe_resolve(n->addrs[l], &out->nodes[i].ring[l]);
	}
	probe_ntp(out);
	probe_sbd(out);
	if (env->arbiter_host != NULL) {
		probe_arbiter(out, env, connect_timeout_ms);
		if (env->tls != TLS_MODE_OFF)
			probe_cert(out, env);
	}
	return 0;
}

void
plan_probe_fini(struct plan_probe *p)
{
	free(p->nodes);
	free(p->ifaces);
	memset(p, 0, sizeof(*p));
}
