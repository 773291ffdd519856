/*
 * qnetd/ipc.h: qnetd's admin socket commands (`status`, `list`,
 * `shutdown`) on top of common/ipc.
 */
#ifndef QNETD_IPC_H
#define QNETD_IPC_H

#include <stdio.h>

#include "common/ipc.h"

struct qnetd_instance;

int	qnetd_ipc_start(struct qnetd_instance *inst);
/*
 * Run one command line as the admin socket would, the reply body to out
 * (a worker process answering its front; shutdown is not obeyed there).
 */
enum ipc_reply	qnetd_ipc_execute(struct qnetd_instance *inst, const char *line, FILE *out);
void	qnetd_ipc_stop(struct qnetd_instance *inst);

#endif
