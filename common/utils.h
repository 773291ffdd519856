/*
 * common/utils.h: small helpers both daemons and tools share: parsing of
 * bool words, numbers and `-S name=value,...` lists, the pid lock file,
 * and the admin socket's quoted-word line format (PROTOCOL.md 5.4).
 * No logging: callers report errors.
 */
#ifndef QNET_UTILS_H
#define QNET_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Format "YYYY-MM-DDTHH:MM:SS" (local time) into buf (>= 20 bytes). */
void	utils_format_time(long long epoch_s, char *buf, size_t len);

#endif
