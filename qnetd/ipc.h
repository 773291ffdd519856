/*
 * qnetd/ipc.h: qnetd's admin socket commands (`status`, `list`,
 * `shutdown`) on top of common/ipc.
 */
#ifndef QNETD_IPC_H
#define QNETD_IPC_H

struct qnetd_instance;

int	qnetd_ipc_start(struct qnetd_instance *inst);
void	qnetd_ipc_stop(struct qnetd_instance *inst);

#endif
