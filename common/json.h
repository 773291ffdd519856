/*
 * common/json.h: the little JSON the tools print (-j): strings escaped
 * per RFC 8259, written straight to a FILE. No parsing.
 */
#ifndef QNET_JSON_H
#define QNET_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Write s (n bytes) as a quoted JSON string; control bytes become \uXXXX. */
void	json_write_string_n(FILE *out, const char *s, size_t n);
void	json_write_string(FILE *out, const char *s);

#endif
