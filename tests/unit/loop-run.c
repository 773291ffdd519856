/*
 * tests/unit/loop-run.c: see loop-run.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <qb/qbdefs.h>

#include "tests/unit/loop-run.h"

static void
stop(void *loop)
{
	qb_loop_stop(loop);
}

void
loop_run_ms(qb_loop_t *loop, unsigned ms)
{
	qb_loop_timer_handle t;

	assert_int_equal(qb_loop_timer_add(loop, QB_LOOP_LOW, (uint64_t)ms * QB_TIME_NS_IN_MSEC,
	    loop, stop, &t), 0);
	qb_loop_run(loop);
}
