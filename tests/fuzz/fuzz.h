/*
 * tests/fuzz/fuzz.h: the fuzz entry points. Each fuzz-*.c exports one
 * function that runs a single input and aborts on any broken invariant;
 * libFuzzer's LLVMFuzzerTestOneInput() (fuzz-entry.c) calls it, and so does
 * tests/unit/test-fuzz-regressions.c for every
 * file under tests/fuzz/corpus/. Neither target touches a socket.
 */
#ifndef QNET_FUZZ_H
#define QNET_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* msg_decode() on arbitrary bytes; a decoded message must round-trip. */
int	fuzz_msg_decode_one(const uint8_t *data, size_t size);

/* A socket-less qnetd fed a scripted session of up to 3 clients. */
int	fuzz_qnetd_dispatch_one(const uint8_t *data, size_t size);

/* Print what broke and abort (a crash is what a fuzzer reports). */
static inline void	fuzz_fail(const char *fmt, ...)
			    __attribute__((format(printf, 1, 2), noreturn));

static inline void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
