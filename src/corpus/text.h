/*
 * A growable, NUL-terminated string for building task text. Appends never
 * fail loudly: the first allocation failure sets `failed`, later appends do
 * nothing, and text_buf_take returns NULL, so a generator checks once at the
 * end instead of after every line.
 */
#ifndef LRC_CORPUS_TEXT_H
#define LRC_CORPUS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct text_buf {
    char *data; /* NUL-terminated when len > 0 or after the first append */
    size_t len, cap;
    bool failed;
} text_buf;

void text_buf_init(text_buf *b);
void text_buf_free(text_buf *b);

void text_buf_puts(text_buf *b, const char *s);
void text_buf_printf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Drop the last n bytes (all of them when n > len). */
void text_buf_trim(text_buf *b, size_t n);

/* Move the text out as a malloc'd string (the buffer is left empty). Returns
 * NULL when an append failed; the buffer is then freed. */
char *text_buf_take(text_buf *b);

#endif
