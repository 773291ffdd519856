/* common/json.c: JSON string escaping. */
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "utils.h"

/* A character that must not appear raw: its short escape, else \uXXXX. */
static void
write_control(FILE *out, uint32_t cp)
{
	switch (cp) {
	case '\n':	fputs("\\n", out); break;
	case '\r':	fputs("\\r", out); break;
	case '\t':	fputs("\\t", out); break;
	case '\b':	fputs("\\b", out); break;
	case '\f':	fputs("\\f", out); break;
	default:	fprintf(out, "\\u%04x", (unsigned)cp); break;
	}
}

void
json_write_string_n(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n;) {
		size_t len;
		uint32_t cp;

		switch (utils_name_piece(s, n, i, &len, &cp)) {
		case UTILS_PIECE_PLAIN:
			if (s[i] == '"' || s[i] == '\\')
				fputc('\\', out);
			fwrite(s + i, 1, len, out);
			break;
		case UTILS_PIECE_CONTROL:
			write_control(out, cp);
			break;
		case UTILS_PIECE_BYTE:
			/* The text "\xHH", as the tools' text shows it (utils.h). */
			fprintf(out, "\\\\x%02x", (unsigned char)s[i]);
			break;
		}
		i += len;
	}
	fputc('"', out);
}

void
json_write_string(FILE *out, const char *s)
{
	json_write_string_n(out, s, strlen(s));
}
