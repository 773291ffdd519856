/*
 * common/clock.h: the one clock of the whole tree. Every timeout, deadline
 * and age is read from CLOCK_MONOTONIC through here, so two figures taken
 * in different files can be compared and a jump of the wall clock moves
 * none of them.
 */
#ifndef QNET_CLOCK_H
#define QNET_CLOCK_H

#include <stdint.h>

#define NS_PER_MS	1000000ULL
#define NS_PER_S	1000000000ULL

/* CLOCK_MONOTONIC in ns (a value, not a date: only differences mean something). */
uint64_t	clock_now_ns(void);
/* The same clock in ms, for the places that count in ms. */
uint64_t	clock_now_ms(void);

#endif
