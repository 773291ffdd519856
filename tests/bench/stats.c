/* tests/bench/stats.c: latency histograms and /proc sampling of qnetd. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static size_t
bucket_of(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (size_t)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	if (e > 40)
		return HIST_BUCKETS - 1;
	return (size_t)(e - HIST_SUB_BITS + 1) * HIST_SUB +
	    (size_t)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The middle of bucket i. */
static uint64_t
bucket_mid(size_t i)
{
	unsigned e;
	uint64_t low, width;

	if (i < HIST_SUB)
		return i;
	e = (unsigned)(i / HIST_SUB) + HIST_SUB_BITS - 1;
	width = 1ULL << (e - HIST_SUB_BITS);
	low = (uint64_t)(HIST_SUB + i % HIST_SUB) * width;
	return low + width / 2;
}

void
hist_add(struct hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void
hist_merge(struct hist *into, const struct hist *from)
{
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->count == 0)
		return 0;
	want = (uint64_t)(q * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want) {
			uint64_t mid = bucket_mid(i);

			return mid > h->max_ns ? h->max_ns : mid;
		}
	}
	return h->max_ns;
}

/*
 * /proc/PID/stat: fields 14 and 15 (utime, stime in clock ticks) follow
 * the command name, which is in parentheses and may itself hold spaces,
 * so parsing starts after the last ')'.
 */
static bool
read_cpu(pid_t pid, double *cpu_s, double *sys_s)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return false;
	/* after ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime) != 2)
		return false;
	*cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	*sys_s = (double)stime / (double)sysconf(_SC_CLK_TCK);
	return true;
}

static bool
read_rss(pid_t pid, unsigned long *rss_kib)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %lu kB", rss_kib) == 1) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The parent pid in /proc/PID/stat (after the command name), or -1. */
static pid_t
read_ppid(const char *pid_dir)
{
	char path[300], buf[1024], *p;
	size_t n;
	FILE *f;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid_dir);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/*
 * qnetd with -S worker_processes=N is a front and N children: CPU and RSS
 * are the sums over the process and its direct children (event hooks of
 * qnetd are grandchildren and not counted).
 */
void
proc_sample(pid_t pid, struct proc_sample *s)
{
	struct dirent *e;
	DIR *d;

	memset(s, 0, sizeof(*s));
	if (pid <= 0)
		return;
	s->ok = read_cpu(pid, &s->cpu_s, &s->sys_s) && read_rss(pid, &s->rss_kib);
	if (!s->ok || (d = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		double cpu, sys;
		unsigned long rss;
		pid_t child;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' || read_ppid(e->d_name) != pid)
			continue;
		child = (pid_t)atoi(e->d_name);
		if (read_cpu(child, &cpu, &sys) && read_rss(child, &rss)) {
			s->cpu_s += cpu;
			s->sys_s += sys;
			s->rss_kib += rss;
			s->processes++;
		}
	}
	closedir(d);
}
