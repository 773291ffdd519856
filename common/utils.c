/* common/utils.c: parsing, pid lock file, admin line words, shown names. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utils.h"

int
utils_parse_bool(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -EINVAL;
}

int
utils_parse_long(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
utils_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || !(v >= min && v <= max))
		return -ERANGE;
	*out = v;
	return 0;
}

int
utils_parse_kv_list(const char *list, utils_kv_fn cb, void *arg, const char **bad_item)
{
	char *copy, *item, *save = NULL;
	int r = 0;

	copy = strdup(list);
	if (copy == NULL)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (eq == NULL || eq == item) {
			if (bad_item != NULL)
				*bad_item = list + (item - copy);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		r = cb(item, eq + 1, arg);
		if (r != 0)
			break;
	}
	free(copy);
	return r;
}

int
utils_lock_pid_file(const char *path)
{
	struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char *dir_copy, pid[32];
	int fd, len, err;

	dir_copy = strdup(path);
	if (dir_copy == NULL)
		return -ENOMEM;
	if (mkdir(dirname(dir_copy), 0770) != 0 && errno != EEXIST) {
		err = -errno;
		free(dir_copy);
		return err;
	}
	free(dir_copy);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETLK, &lock) != 0) {
		err = (errno == EACCES || errno == EAGAIN) ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)len) != len) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void
utils_free_words(char **words, int count)
{
	if (words == NULL)
		return;
	for (int i = 0; i < count; i++)
		free(words[i]);
	free(words);
}

int
utils_split_words(const char *line, char ***words_out)
{
	size_t len = strlen(line);
	char **words = NULL, *word = NULL;
	int count = 0;
	const char *p = line;

	*words_out = NULL;
	for (;;) {
		size_t wlen = 0;
		bool quoted = false;
		char **grown;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		/* A word is never longer than the line. */
		word = malloc(len + 1);
		if (word == NULL)
			goto nomem;
		while (*p != '\0') {
			if (quoted) {
				if (*p == '"') {
					quoted = false;
					p++;
					continue;
				}
				if (*p == '\\' && p[1] != '\0')
					p++;
			} else if (*p == '"') {
				quoted = true;
				p++;
				continue;
			} else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
				break;
			}
			word[wlen++] = *p++;
		}
		if (quoted) {
			free(word);
			utils_free_words(words, count);
			return -EINVAL;
		}
		word[wlen] = '\0';
		grown = realloc(words, (size_t)(count + 1) * sizeof(*words));
		if (grown == NULL)
			goto nomem;
		words = grown;
		words[count++] = word;
		word = NULL;
	}
	*words_out = words;
	return count;
nomem:
	free(word);
	utils_free_words(words, count);
	return -ENOMEM;
}

char *
utils_quote_word(const char *word)
{
	size_t n = 0;
	char *out, *q;

	for (const char *p = word; *p != '\0'; p++)
		n += (*p == '"' || *p == '\\') ? 2 : 1;
	out = malloc(n + 3);
	if (out == NULL)
		return NULL;
	q = out;
	*q++ = '"';
	for (const char *p = word; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			*q++ = '\\';
		*q++ = *p;
	}
	*q++ = '"';
	*q = '\0';
	return out;
}

struct memstream {
	char	**bufp;
	size_t	 *sizep;
	char	 *buf;
	size_t	  len, cap;
	bool	  failed;
};

static ssize_t
memstream_write(void *cookie, const char *data, size_t n)
{
	struct memstream *m = cookie;

	if (n >= m->cap - m->len) {
		size_t cap = m->cap;
		char *grown;

		while (n >= cap - m->len) {
			if (cap > SIZE_MAX / 2) {
				m->failed = true;
				return -1;
			}
			cap *= 2;
		}
		grown = realloc(m->buf, cap);
		if (grown == NULL) {
			m->failed = true;
			return -1;
		}
		m->buf = grown;
		m->cap = cap;
		*m->bufp = m->buf;
	}
	memcpy(m->buf + m->len, data, n);
	m->len += n;
	m->buf[m->len] = '\0';
	*m->sizep = m->len;
	return (ssize_t)n;
}

static int
memstream_close(void *cookie)
{
	struct memstream *m = cookie;
	bool failed = m->failed;

	free(m);
	return failed ? -1 : 0;
}

FILE *
utils_open_memstream(char **bufp, size_t *sizep)
{
	static const cookie_io_functions_t io = {
		.write = memstream_write,
		.close = memstream_close,
	};
	struct memstream *m = calloc(1, sizeof(*m));
	FILE *f;

	if (m == NULL)
		return NULL;
	m->cap = 4096;
	m->buf = malloc(m->cap);
	if (m->buf == NULL) {
		free(m);
		return NULL;
	}
	m->buf[0] = '\0';
	m->bufp = bufp;
	m->sizep = sizep;
	*bufp = m->buf;
	*sizep = 0;
	f = fopencookie(m, "w", io);
	if (f == NULL) {
		free(m->buf);
		*bufp = NULL;
		free(m);
	}
	return f;
}

/*
 * Length of the well-formed UTF-8 sequence of two or more bytes at s,
 * its code point in *cp; 0 when there is none (Unicode's table of
 * well-formed byte sequences: no overlong forms, no surrogates, nothing
 * above U+10FFFF).
 */
static size_t
utf8_sequence(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	uint32_t v;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		v = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		v = s[0] & 0x0f;
		lo = s[0] == 0xe0 ? 0xa0 : lo;
		hi = s[0] == 0xed ? 0x9f : hi;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		v = s[0] & 0x07;
		lo = s[0] == 0xf0 ? 0x90 : lo;
		hi = s[0] == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if (s[k] < (k == 1 ? lo : 0x80) || s[k] > (k == 1 ? hi : 0xbf))
			return 0;
		v = v << 6 | (s[k] & 0x3f);
	}
	*cp = v;
	return len;
}

/* Characters that would break a line or reorder what a reader sees. */
static bool
is_hidden_char(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static bool
is_hex_digit(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

enum utils_piece
utils_name_piece(const char *s, size_t n, size_t i, size_t *len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s + i;
	size_t left = n - i;

	*len = 1;
	*cp = u[0];
	if (u[0] < 0x80) {
		if (is_hidden_char(u[0]))
			return UTILS_PIECE_CONTROL;
		if (u[0] == '\\' && left >= 4 && u[1] == 'x' && is_hex_digit(u[2]) &&
		    is_hex_digit(u[3]))
			return UTILS_PIECE_BYTE;
		return UTILS_PIECE_PLAIN;
	}
	*len = utf8_sequence(u, left, cp);
	if (*len == 0) {
		*len = 1;
		return UTILS_PIECE_BYTE;
	}
	return is_hidden_char(*cp) ? UTILS_PIECE_CONTROL : UTILS_PIECE_PLAIN;
}

/* The shown form of the piece at s[i] into piece (>= 17 bytes); its length. */
static size_t
shown_piece(const char *s, size_t n, size_t *i, char *piece)
{
	size_t len, out = 0;
	uint32_t cp;

	if (utils_name_piece(s, n, *i, &len, &cp) == UTILS_PIECE_PLAIN) {
		memcpy(piece, s + *i, len);
		out = len;
	} else {
		for (size_t k = 0; k < len; k++)
			out += (size_t)sprintf(piece + out, "\\x%02x", (unsigned char)s[*i + k]);
	}
	*i += len;
	return out;
}

size_t
utils_name_shown(char *buf, size_t size, const char *s, size_t n)
{
	size_t total = 0, used = 0;
	bool cut = false;

	for (size_t i = 0; i < n;) {
		char piece[20];
		size_t len = shown_piece(s, n, &i, piece);

		if (!cut && used + len < size) {
			memcpy(buf + used, piece, len);
			used += len;
		} else {
			cut = true;
		}
		total += len;
	}
	if (size > 0)
		buf[used] = '\0';
	return total;
}

void
utils_name_write(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		char piece[20];
		size_t len = shown_piece(s, n, &i, piece);

		fwrite(piece, 1, len, out);
	}
}

const char *
utils_name_for_log(char *buf, size_t size, const char *s, size_t n)
{
	if (utils_name_shown(buf, size - 3, s, n) >= size - 3)
		strcat(buf, "...");
	return buf;
}
