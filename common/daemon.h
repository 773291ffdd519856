/*
 * common/daemon.h: process plumbing both daemons share: qb_log setup
 * (stderr in the foreground, syslog otherwise), detaching from the
 * terminal, and systemd readiness over $NOTIFY_SOCKET without libsystemd.
 */
#ifndef QNET_DAEMON_H
#define QNET_DAEMON_H

#include <stdbool.h>

/* debug: 0 info, 1 debug, 2 debug bumped so it also reaches syslog at info. */
void	daemon_log_setup(const char *prog, bool foreground, int debug);
void	daemon_log_set_debug(int debug);
void	daemon_log_fini(void);
/* fork + setsid + chdir / + stdio to /dev/null; 0 in the child, -errno. */
int	daemon_detach(void);
/* Send "READY=1" etc. to systemd when NOTIFY_SOCKET is set; 0 otherwise too. */
int	daemon_notify(const char *state);

#endif
