/* Error message helpers; see error.h for the convention. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lrc_errorf(lrc_error *err, const char *fmt, ...) {
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int lrc_error_prefix(lrc_error *err, const char *fmt, ...) {
    if (!err)
        return -1;
    char prefix[LRC_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);

    /* Build "prefix: old" by hand so truncation is explicit and silent. */
    char old[LRC_ERROR_MAX];
    memcpy(old, err->msg, sizeof old);
    size_t n = strnlen(prefix, sizeof prefix - 1);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3;
    size_t m = strnlen(old, room);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
    return -1;
}
