/*
 * qdevice/plan-output.h: what `qdevice-tool --plan` prints: the quorum
 * arithmetic, the survivability matrix and the readiness checks, as text
 * for people or as one JSON object (schema 1, documented in
 * qdevice-tool(8)) for programs. Pure: writes to a FILE, nothing else.
 */
#ifndef QDEVICE_PLAN_OUTPUT_H
#define QDEVICE_PLAN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "plan-env.h"
#include "plan.h"

#define PLAN_JSON_SCHEMA	1

enum plan_report_level {
	PLAN_REPORT_OK = 0,
	PLAN_REPORT_WARN,
	PLAN_REPORT_FAIL,
};

/* One readiness check's result, as the report shows it. */
struct plan_report_check {
	const char		*id;	/* stable, e.g. "knet-links" */
	enum plan_report_level	 level;
	const char		*text;	/* one line: why, and what to do */
};

struct plan_report {
	const struct plan_cluster	*cluster;
	const struct plan_env		*env;
	const struct plan_arithmetic	*arithmetic;
	const struct plan_matrix	*matrix;
	const struct plan_report_check	*checks;
	size_t				 check_count;
	bool				 checks_run;	/* false: this build has no checks */
};

/* A row that stands out: nobody keeps quorum, or the outcome is a race. */
bool	plan_row_is_bad(const struct plan_row *row);

/* 0, or -EIO when out failed. */
int	plan_write_text(FILE *out, const struct plan_report *r);
int	plan_write_json(FILE *out, const struct plan_report *r);

/* The tool's exit status for a computed plan: 0 all OK, 1 warnings, 2 failures. */
int	plan_report_exit_status(const struct plan_report *r);

#endif
