/*
 * common/json.h: the little JSON the tools print (-j): strings escaped
 * per RFC 8259, written straight to a FILE. No parsing.
 */
#ifndef QNET_JSON_H
#define QNET_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write s (n bytes) as a quoted JSON string, always valid UTF-8: control
 * characters (and those utils.h keeps off a line) become \uXXXX escapes;
 * a byte that is not UTF-8, and a backslash that would read as such an
 * escape, become the text \xHH (the string's value holds backslash, x and
 * two hex digits), so that the value is the name as qnetd-tool -l shows it
 * apart from control characters, and distinct inputs stay distinct.
 */
void	json_write_string_n(FILE *out, const char *s, size_t n);
void	json_write_string(FILE *out, const char *s);

#endif
