/*
 * qdevice/main.c: qdevice's command line, start-up in the order of
 * docs/protocol.md 4.3, signals and shutdown.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "common/daemon.h"
#include "common/utils.h"
#include "qdevice.h"

#define PROG	"qdevice"

static void
usage(void)
{
	printf("usage: %s [-dfh] [-S option=value[,option2=value2,...]]\n", PROG);
}

static int32_t
on_signal(int32_t sig, void *data)
{
	struct qdevice *qd = data;

	qb_log(LOG_DEBUG, "%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	qdevice_exit(qd, EXIT_SUCCESS);
	return 0;
}

/* -d -f -h -S; exits on usage errors. */
static void
parse_args(struct qdevice *qd, int argc, char **argv)
{
	char err[256];
	int c;

	while ((c = getopt(argc, argv, "dfhS:")) != -1) {
		switch (c) {
		case 'd':
			qd->cli_debug++;
			break;
		case 'f':
			qd->foreground = true;
			break;
		case 'S':
			if (settings_parse(&qd->settings, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s: %s\n", PROG, err);
				exit(EXIT_FAILURE);
			}
			break;
		case 'h':
		default:
			usage();
			exit(EXIT_FAILURE);
		}
	}
	if (optind < argc) {
		usage();
		exit(EXIT_FAILURE);
	}
	if (settings_check(&qd->settings, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		exit(EXIT_FAILURE);
	}
}

static int
read_config(struct qdevice *qd)
{
	char err[512];
	int r;

	r = config_read(&qd->src, &qd->settings, &qd->config, err, sizeof(err));
	if (r != 0) {
		qb_log(LOG_CRIT, "Configuration error: %s", err);
		return r;
	}
	qb_log(LOG_DEBUG, "Configuration: node id %u, cluster %s, qnetd %s:%u, algorithm %s, "
	    "%zu configured node(s), heuristics %s", (unsigned)qd->config.node_id,
	    qd->config.cluster_name, qd->config.host, (unsigned)qd->config.port,
	    decision_algorithm_name(qd->config.algorithm), qd->config.nodes.nodes.count,
	    heuristics_mode_name(qd->config.heuristics.mode));
	return 0;
}

/* Everything before the loop runs; each step's failure is fatal. */
static int
start(struct qdevice *qd)
{
	int r, lock_fd;

	r = qdevice_cmap_init(qd);
	if (r != 0) {
		qb_log(LOG_CRIT, "Cannot connect to corosync's cmap (is corosync running?): %s",
		    strerror(-r));
		return r;
	}
	if (!qd->foreground && (r = daemon_detach()) != 0) {
		qb_log(LOG_CRIT, "Cannot daemonize: %s", strerror(-r));
		return r;
	}
	lock_fd = utils_lock_pid_file(qd->settings.lock_file);
	if (lock_fd < 0) {
		if (lock_fd == -EBUSY)
			qb_log(LOG_CRIT, "Another instance is running (lock file %s)",
			    qd->settings.lock_file);
		else
			qb_log(LOG_CRIT, "Cannot lock %s: %s", qd->settings.lock_file,
			    strerror(-lock_fd));
		return lock_fd;
	}
	qd->loop = qb_loop_create();
	if (qd->loop == NULL) {
		qb_log(LOG_CRIT, "Cannot create the main loop");
		return -ENOMEM;
	}
	if ((r = qdevice_vq_init(qd)) != 0 || (r = qdevice_ipc_init(qd)) != 0 ||
	    (r = read_config(qd)) != 0 || (r = qdevice_events_init(qd)) != 0)
		return r;
	qdevice_apply_log_level(qd);
	if ((r = qdevice_vq_start(qd)) != 0 || (r = qdevice_check_votes(qd)) != 0 ||
	    (r = qdevice_net_init(qd)) != 0 || (r = qdevice_heur_start(qd)) != 0 ||
	    (r = qdevice_cmap_track(qd)) != 0)
		return r;
	if (qd->settings.vote_guard && (r = qdevice_ringwatch_start(qd)) != 0)
		return r;
	if (qb_loop_signal_add(qd->loop, QB_LOOP_HIGH, SIGINT, qd, on_signal, NULL) != 0 ||
	    qb_loop_signal_add(qd->loop, QB_LOOP_HIGH, SIGTERM, qd, on_signal, NULL) != 0 ||
	    qdevice_arm_ready_timer(qd) != 0) {
		qb_log(LOG_CRIT, "Cannot set up signal handling and timers");
		return -EIO;
	}
	return 0;
}

static void
stop(struct qdevice *qd)
{
	qdevice_net_fini(qd);
	qdevice_heur_destroy(qd);
	qdevice_events_fini(qd);
	qdevice_ipc_fini(qd);
	qdevice_cmap_fini(qd);
	qdevice_vq_fini(qd);
	/* After unregistering: no sync can be waiting for us while we join. */
	qdevice_ringwatch_stop(qd);
	if (qd->loop != NULL)
		qb_loop_destroy(qd->loop);
	config_fini(&qd->config);
	node_list_fini(&qd->membership);
	node_list_fini(&qd->quorum_nodes);
	settings_fini(&qd->settings);
}

int
main(int argc, char **argv)
{
	static struct qdevice qd;
	int r;

	if (settings_init(&qd.settings) != 0) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return EXIT_FAILURE;
	}
	config_init(&qd.config);
	node_list_init(&qd.membership);
	node_list_init(&qd.quorum_nodes);
	vote_timer_init(&qd.vote);
	vote_guard_init(&qd.guard);
	qd.last_poll = (time_t)-1;
	parse_args(&qd, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	/* The worker is forked before anything else holds descriptors or threads. */
	r = qdevice_heur_create(&qd);
	if (r != 0) {
		fprintf(stderr, "%s: cannot start the heuristics worker: %s\n", PROG,
		    strerror(-r));
		settings_fini(&qd.settings);
		return EXIT_FAILURE;
	}
	daemon_log_setup(PROG, qd.foreground, qd.cli_debug);
	r = start(&qd);
	if (r == 0) {
		qb_log(LOG_DEBUG, "Running the main loop");
		qb_loop_run(qd.loop);
		r = qd.exit_code;
	} else {
		r = EXIT_FAILURE;
	}
	qb_log(r == 0 ? LOG_DEBUG : LOG_ERR, "Exiting with status %d", r);
	stop(&qd);
	daemon_log_fini();
	return r;
}
