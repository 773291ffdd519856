/*
 * qdevice/heuristics-exec.h: the heuristics worker process and the pure
 * pieces both ends of its pipes share: the shell-like command splitter,
 * the bounded line reader and the "verb A B" line parser. Internal to
 * heuristics.c; the daemon uses heuristics.h.
 */
#ifndef QNET_HEURISTICS_EXEC_H
#define QNET_HEURISTICS_EXEC_H

#include <stdint.h>
#include "qdevice/heuristics.h"

/* Longest protocol line, '\n' included; a longer one is a protocol error. */
#define HEURISTICS_LINE_MAX	4096

/*
 * Split a command line: whitespace separates words, a backslash takes the
 * next character literally (inside quotes too), double quotes group (so
 * "" is an empty word). Returns argc >= 0 and a NULL-terminated *argv_out
 * in one allocation (free() it), or -EINVAL (unterminated quote, trailing
 * backslash), -EMSGSIZE (over HEURISTICS_LINE_MAX), -ENOMEM.
 */
int	heuristics_exec_split(const char *line, char ***argv_out);

/* "VERB A B" with decimal u32 A and B, nothing else: 0 or -EBADMSG. */
int	heuristics_exec_parse_pair(const char *line, const char *verb, uint32_t *a,
	    uint32_t *b);

struct heuristics_linebuf {
	size_t	len;
	char	buf[HEURISTICS_LINE_MAX];
};
/* fn gets each line NUL-terminated, '\n' stripped; a negative return stops the read. */
typedef int (*heuristics_line_fn)(char *line, void *arg);
/*
 * Read a non-blocking fd until it would block, handing over each complete
 * line. 0: would block; -EPIPE: end of file (lines before it were handed
 * over); -EMSGSIZE: a line does not fit; fn's error; -errno of read().
 */
int	heuristics_exec_read_lines(int fd, struct heuristics_linebuf *lb,
	    heuristics_line_fn fn, void *arg);

/*
 * The worker: serve commands from cmd_fd until it reaches end of file,
 * then kill and reap every child and _exit(). Called in the forked child.
 */
void	heuristics_exec_worker_main(int cmd_fd, int result_fd, int log_fd,
	    const struct heuristics_limits *lim) __attribute__((noreturn));

#endif
