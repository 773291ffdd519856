/*
 * common/utils.h: small helpers both daemons and tools share: parsing of
 * bool words, numbers and `-S name=value,...` lists, the pid lock file,
 * the admin socket's quoted-word line format (docs/protocol.md 5.4), and the
 * shown form of names that peers choose. No logging: callers report errors.
 */
#ifndef QNET_UTILS_H
#define QNET_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* yes/on/1 -> 1, no/off/0 -> 0 (case-insensitive); else -EINVAL. */
int	utils_parse_bool(const char *s);
/* Whole string is a decimal integer in [min, max]; 0 or -EINVAL / -ERANGE. */
int	utils_parse_long(const char *s, long long min, long long max, long long *out);
int	utils_parse_double(const char *s, double min, double max, double *out);

/*
 * Walk "a=b,c=d": cb(name, value, arg) for each item, in order; the
 * walk stops at the first non-zero return, which is returned. An item
 * without '=' or with an empty name gives -EINVAL and sets *bad_item.
 */
typedef int (*utils_kv_fn)(const char *name, const char *value, void *arg);
int	utils_parse_kv_list(const char *list, utils_kv_fn cb, void *arg,
	    const char **bad_item);

/*
 * Create the parent directory (0770) if missing, open the pid file,
 * take a write lock for the life of the process and write our pid.
 * Returns the fd, -EBUSY when another process holds it, or -errno.
 */
int	utils_lock_pid_file(const char *path);

/*
 * Split one admin-socket line into words. Words are separated by spaces
 * or tabs and may be double-quoted; inside quotes a backslash escapes the
 * next byte. Returns the word count, -EINVAL (unterminated quote) or
 * -ENOMEM. Free with utils_free_words().
 */
int	utils_split_words(const char *line, char ***words);
void	utils_free_words(char **words, int count);
/* Quote a word for the admin line: "...", with " and \ escaped. malloc'd. */
char	*utils_quote_word(const char *word);

/*
 * A cluster name is whatever bytes a client sent; logs, the tools' text,
 * JSON and metrics show it in one form that stays on one line, is valid
 * UTF-8 and tells any two names apart (qnetd-tool(8), "Cluster names"):
 * printable ASCII and well-formed UTF-8 characters stay as they are; every
 * other byte becomes \xHH (lower-case hex): control bytes, invalid UTF-8,
 * and the UTF-8 bytes of C1 controls, U+2028/U+2029 and the bidi controls
 * U+202A-U+202E and U+2066-U+2069. So does a backslash that would read as
 * such an escape (one followed by x and two hex digits: \x5c), so no name
 * shows the same as another. A plain ASCII name without such a backslash
 * shows exactly as it is.
 *
 * The pieces a name splits into, for writers with their own escapes (JSON):
 * PLAIN bytes are shown as they are, CONTROL is one valid character that
 * must not appear raw (code point in *cp), BYTE is one byte shown as \xHH.
 */
enum utils_piece {
	UTILS_PIECE_PLAIN,
	UTILS_PIECE_CONTROL,
	UTILS_PIECE_BYTE,
};

/* The piece at s[i] (i < n): its kind; *len its bytes, *cp its code point. */
enum utils_piece utils_name_piece(const char *s, size_t n, size_t i, size_t *len,
	    uint32_t *cp);
/*
 * Write the shown form of s (n bytes) into buf (size bytes, NUL-terminated
 * when size > 0), cut only between pieces; returns the length of the whole
 * shown form, so a result >= size means it was cut.
 */
size_t	utils_name_shown(char *buf, size_t size, const char *s, size_t n);
/* The same, to a stream. */
void	utils_name_write(FILE *out, const char *s, size_t n);
/*
 * For a log line: the shown form in buf (size >= 4 bytes), ending in "..."
 * when it had to be cut to fit (a name may be as long as a message).
 * Returns buf. UTILS_NAME_LOG_SIZE is a size for log lines.
 */
#define UTILS_NAME_LOG_SIZE	128
const char *utils_name_for_log(char *buf, size_t size, const char *s, size_t n);

/*
 * open_memstream() with growth by realloc(): glibc's memstream takes a new
 * buffer, copies and zero-fills it at every doubling, which for a reply of
 * tens of MB (qnetd-tool -l of a big qnetd) costs more than composing it,
 * while realloc() of a large block moves pages, not bytes. As with
 * open_memstream(), *bufp (NUL-terminated) and *sizep are valid after
 * fflush() and fclose(), and *bufp is the caller's to free even when
 * fclose() fails (EOF after any failed write: out of memory).
 */
FILE	*utils_open_memstream(char **bufp, size_t *sizep);

#endif
