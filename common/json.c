/* common/json.c: JSON string escaping. */
#include <string.h>

#include "json.h"

void
json_write_string_n(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		switch (ch) {
		case '"':	fputs("\\\"", out); break;
		case '\\':	fputs("\\\\", out); break;
		case '\n':	fputs("\\n", out); break;
		case '\r':	fputs("\\r", out); break;
		case '\t':	fputs("\\t", out); break;
		default:
			if (ch < 0x20)
				fprintf(out, "\\u%04x", ch);
			else
				fputc(ch, out);
		}
	}
	fputc('"', out);
}

void
json_write_string(FILE *out, const char *s)
{
	json_write_string_n(out, s, strlen(s));
}
