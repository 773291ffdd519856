/*
 * tests/unit/loop-run.h: run a libqb main loop for a while, for the unit
 * tests that drive real timers, sockets or child processes through one
 * (test-hooks.c, test-ipc.c, test-qdevice-conn.c, test-qnetd-dispatch.c,
 * test-qnetd-totals.c).
 */
#ifndef TESTS_UNIT_LOOP_RUN_H
#define TESTS_UNIT_LOOP_RUN_H

#include <qb/qbloop.h>

/* Run loop for about ms milliseconds: its own callbacks must not stop it. */
void	loop_run_ms(qb_loop_t *loop, unsigned ms);

#endif
