/* common/utils.c: parsing, pid lock file, admin line words. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
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

void
utils_format_time(long long epoch_s, char *buf, size_t len)
{
	time_t t = (time_t)epoch_s;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", epoch_s);
}
