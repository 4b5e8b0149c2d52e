/*
 * text_buf: doubling growth, with the failure flag described in text.h.
 */
#include "corpus/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_buf_init(text_buf *b) {
    memset(b, 0, sizeof *b);
}

void text_buf_free(text_buf *b) {
    free(b->data);
    text_buf_init(b);
}

static bool reserve(text_buf *b, size_t extra) {
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void text_buf_puts(text_buf *b, const char *s) {
    size_t n = strlen(s);
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

void text_buf_printf(text_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void text_buf_trim(text_buf *b, size_t n) {
    if (!b->data)
        return;
    b->len = n > b->len ? 0 : b->len - n;
    b->data[b->len] = '\0';
}

char *text_buf_take(text_buf *b) {
    if (b->failed) {
        text_buf_free(b);
        return NULL;
    }
    if (!reserve(b, 0)) {
        text_buf_free(b);
        return NULL;
    }
    if (b->len == 0)
        b->data[0] = '\0';
    char *s = b->data;
    text_buf_init(b);
    return s;
}
