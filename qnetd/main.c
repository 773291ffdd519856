/* qnetd/main.c: start-up, signals and shutdown of the qnetd daemon. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "common/daemon.h"
#include "common/hooks.h"
#include "common/msg.h"
#include "common/utils.h"
#include "config.h"
#include "instance.h"
#include "ipc.h"
#include "settings.h"
#include "shard.h"

#define PROG "qnetd"
/* How long the front waits for its workers to open the NSS database and start. */
#define WORKER_START_TIMEOUT_MS	60000

static void
usage(void)
{
	printf("usage: %s [-46dfhv] [-l listen_addr] [-p listen_port] [-s tls]\n"
	    "              [-c client_cert_required] [-m max_clients] "
	    "[-S option=value[,option2=value2,...]]\n", PROG);
}

static void
version(void)
{
	printf("qnetd: corosync quorum network arbiter, version '%s'\n\n", PACKAGE_VERSION);
	printf("Supported algorithms: ");
	for (int i = 0; i < ALGORITHM_COUNT; i++)
		printf("%s%s (%d)", i ? ", " : "", decision_algorithm_name((uint16_t)i), i);
	printf("\nSupported message types: ");
	for (int i = 0; i < MSG_TYPE_COUNT; i++)
		printf("%s%s (%d)", i ? ", " : "", msg_type_name((uint16_t)i), i);
	printf("\n");
}

static int32_t
on_signal(int32_t sig, void *data)
{
	struct qnetd_instance *inst = data;

	qb_log(LOG_INFO, "signal %d received, shutting down", sig);
	qb_loop_stop(inst->loop);
	return 0;
}

#define CERT_CHECK_INTERVAL_NS	(24ULL * 3600 * 1000000000ULL)
#define CERT_WARN_DAYS		30

static qb_loop_timer_handle cert_timer;
/* Workers other than the first keep quiet about the certificate: one warning is enough. */
static bool cert_warnings = true;

/* Log the certificate's remaining validity when it is short; refresh the gauge. */
static void
check_cert_expiry(void *data)
{
	struct qnetd_instance *inst = data;
	const char *nick = inst->settings->cert_nickname;
	long days = nss_cert_days_left(inst->tls.cert);

	inst->cert_days_left = days;
	if (cert_warnings && days < 0)
		qb_log(LOG_WARNING, "server certificate \"%s\" expired %ld days ago", nick, -days);
	else if (cert_warnings && days <= CERT_WARN_DAYS)
		qb_log(LOG_WARNING, "server certificate \"%s\" expires in %ld days", nick, days);
	if (qb_loop_timer_add(inst->loop, QB_LOOP_LOW, CERT_CHECK_INTERVAL_NS, inst,
	    check_cert_expiry, &cert_timer) != 0)
		qb_log(LOG_WARNING, "cannot schedule the daily certificate check");
}

static int
setup_tls(struct qnetd_instance *inst)
{
	const struct qnetd_settings *s = inst->settings;
	int r;

	if (s->tls == QNETD_TLS_OFF) {
		if (nss_sock_init_nodb() != 0) {
			qb_log(LOG_ERR, "cannot initialise NSS: %s", nss_sock_error());
			return -1;
		}
		return 0;
	}
	if (nss_sock_init(s->nss_db_dir) != 0) {
		qb_log(LOG_ERR, "cannot open the NSS database in %s: %s", s->nss_db_dir,
		    nss_sock_error());
		return -1;
	}
	r = nss_server_tls_load(&inst->tls, s->cert_nickname, s->client_cert_required,
	    s->client_cert_cache_size);
	if (r != 0) {
		qb_log(LOG_ERR, "cannot load certificate \"%s\" and its key from %s: %s",
		    s->cert_nickname, s->nss_db_dir, nss_sock_error());
		return -1;
	}
	inst->conns.tls_loaded = true;
	check_cert_expiry(inst);
	return 0;
}

/*
 * The commonest start-up mistake, said once before any worker is forked
 * (each would say it again, and the NSS error alone is less helpful).
 */
static bool
nss_db_dir_missing(const struct qnetd_settings *s)
{
	struct stat st;

	if (s->tls == QNETD_TLS_OFF || (stat(s->nss_db_dir, &st) == 0 && S_ISDIR(st.st_mode)))
		return false;
	qb_log(LOG_ERR, "NSS database directory %s does not exist: create it with "
	    "qnetd-certutil -i, or run with -s off", s->nss_db_dir);
	return true;
}

/* The optional event hook, where clients live (not in a front process). */
static int
setup_hooks(struct qnetd_instance *inst)
{
	const struct qnetd_settings *s = inst->settings;
	int r;

	r = hooks_create(&inst->hooks, inst->loop, s->event_hook, s->event_hook_timeout,
	    s->event_hook_max_running);
	if (r != 0) {
		qb_log(LOG_ERR, "cannot set up the event hook: %s", strerror(-r));
		return r;
	}
	if (s->event_hook != NULL && access(s->event_hook, X_OK) != 0)
		qb_log(LOG_WARNING, "event hook %s is not executable: %s", s->event_hook,
		    strerror(errno));
	return 0;
}

/*
 * A worker process (shard.h): NSS, clusters and hooks of its own; no
 * listener, no admin socket. SIGINT from a terminal reaches the whole
 * process group: the front decides when workers stop (SIGTERM).
 */
static int
run_worker(struct qnetd_settings *settings, int control_fd, unsigned index)
{
	struct qnetd_instance inst;
	qb_loop_signal_handle sig_term;
	qb_loop_t *loop;
	int status = EXIT_FAILURE;

	signal(SIGINT, SIG_IGN);
	/* libqb keeps the pid it started with; log lines must name this process. */
	daemon_log_fini();
	daemon_log_setup(PROG, settings->foreground, settings->debug);
	cert_warnings = index == 0;
	loop = qb_loop_create();
	if (loop == NULL || qnetd_instance_init(&inst, settings, loop) != 0) {
		qb_log(LOG_ERR, "worker %u: out of memory at start-up", index);
		goto out;
	}
	if (setup_tls(&inst) != 0 || setup_hooks(&inst) != 0)
		goto out_instance;
	if (shard_worker_attach(&inst, control_fd, index) != 0) {
		qb_log(LOG_ERR, "worker %u: cannot talk to the front process", index);
		goto out_instance;
	}
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGTERM, &inst, on_signal, &sig_term);
	qb_log(LOG_INFO, "worker %u ready", index);
	qb_loop_run(loop);
	status = EXIT_SUCCESS;
out_instance:
	qnetd_instance_fini(&inst);
	hooks_destroy(inst.hooks);
	nss_sock_shutdown();
out:
	if (loop != NULL)
		qb_loop_destroy(loop);
	daemon_log_fini();
	qnetd_settings_fini(settings);
	return status;
}

int
main(int argc, char **argv)
{
	struct qnetd_settings settings;
	struct qnetd_instance inst;
	enum qnetd_settings_action action;
	qb_loop_signal_handle sig_int, sig_term;
	qb_loop_t *loop = NULL;
	char err[512];
	struct shard_front front = { .count = 0 };
	bool have_front = false;
	int lock_fd, r, status = EXIT_FAILURE;

	qnetd_settings_defaults(&settings);
	if (qnetd_settings_parse_args(&settings, argc, argv, &action, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		usage();
		qnetd_settings_fini(&settings);
		return EXIT_FAILURE;
	}
	if (action == QNETD_SHOW_HELP || action == QNETD_SHOW_VERSION) {
		/* Upstream exits with 1 after -h and -v; scripts may rely on it. */
		if (action == QNETD_SHOW_HELP)
			usage();
		else
			version();
		qnetd_settings_fini(&settings);
		return EXIT_FAILURE;
	}

	daemon_log_setup(PROG, settings.foreground, settings.debug);
	if (settings.dpd_interval_deprecated_seen)
		qb_log(LOG_WARNING, "advanced setting dpd_interval is deprecated and ignored; "
		    "use dpd_interval_coefficient");
	if (!settings.foreground && daemon_detach() != 0) {
		qb_perror(LOG_ERR, "cannot detach from the terminal");
		goto out;
	}
	lock_fd = utils_lock_pid_file(settings.lock_file);
	if (lock_fd == -EBUSY) {
		qb_log(LOG_ERR, "another instance is running (lock file %s is held)",
		    settings.lock_file);
		goto out;
	}
	if (lock_fd < 0) {
		qb_log(LOG_ERR, "cannot lock %s: %s", settings.lock_file, strerror(-lock_fd));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (nss_db_dir_missing(&settings))
		goto out;

	if (settings.worker_processes > 1) {
		int worker_fd;
		unsigned worker_index;

		r = shard_spawn(&front, settings.worker_processes, &worker_fd, &worker_index);
		if (r == 1)
			return run_worker(&settings, worker_fd, worker_index);
		if (r < 0) {
			qb_log(LOG_ERR, "cannot start %u worker processes: %s",
			    (unsigned)settings.worker_processes, strerror(-r));
			goto out;
		}
		have_front = true;
	}
	loop = qb_loop_create();
	if (loop == NULL || qnetd_instance_init(&inst, &settings, loop) != 0) {
		qb_log(LOG_ERR, "out of memory at start-up");
		goto out;
	}
	/* A front only routes; its workers hold TLS, clusters and hooks. */
	if (have_front) {
		if (shard_front_wait_ready(&front, WORKER_START_TIMEOUT_MS) != 0 ||
		    shard_front_attach(&front, &inst) != 0)
			goto out_instance;
	} else if (setup_tls(&inst) != 0 || setup_hooks(&inst) != 0) {
		goto out_instance;
	}
	r = qnetd_instance_listen(&inst);
	if (r != 0) {
		qb_log(LOG_ERR, "cannot listen on %s port %u: %s",
		    settings.listen_addr ? settings.listen_addr : "*", (unsigned)settings.port,
		    nss_sock_error());
		goto out_instance;
	}
	r = qnetd_ipc_start(&inst);
	if (r != 0) {
		qb_log(LOG_ERR, "cannot create the admin socket %s: %s",
		    settings.local_socket_file, strerror(-r));
		goto out_instance;
	}
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGINT, &inst, on_signal, &sig_int);
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGTERM, &inst, on_signal, &sig_term);

	qb_log(LOG_INFO, "qnetd %s ready: port %u, TLS %s%s, %u process%s", PACKAGE_VERSION,
	    (unsigned)settings.port, tls_supported_name((uint8_t)settings.tls),
	    settings.tls != QNETD_TLS_OFF && settings.client_cert_required ?
	    ", client certificate required" : "", (unsigned)settings.worker_processes,
	    settings.worker_processes > 1 ? "es and a front" : "");
	daemon_notify("READY=1");
	qb_loop_run(loop);
	daemon_notify("STOPPING=1");
	qb_log(LOG_INFO, "qnetd shutting down");
	status = front.worker_lost ? EXIT_FAILURE : EXIT_SUCCESS;

	qnetd_ipc_stop(&inst);
out_instance:
	/* Workers first: they drop their clients while the front still counts nothing. */
	if (have_front)
		shard_front_stop(&front);
	have_front = false;
	qnetd_instance_fini(&inst);
	hooks_destroy(inst.hooks);
	nss_sock_shutdown();
out:
	if (have_front)
		shard_front_stop(&front);
	if (loop != NULL)
		qb_loop_destroy(loop);
	(void)unlink(settings.lock_file);
	daemon_log_fini();
	qnetd_settings_fini(&settings);
	return status;
}
