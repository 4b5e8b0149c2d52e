/*
 * Errors as values. Library functions return 0 on success and -1 on failure,
 * after writing one line (no trailing newline) into a caller-owned lrc_error.
 * The message names the file, the key or offset, what was expected and what
 * to do. The library never prints and never exits; cmd/ and tui/ decide how a
 * message reaches the user.
 */
#ifndef LRC_CORE_ERROR_H
#define LRC_CORE_ERROR_H

#define LRC_ERROR_MAX 1024

typedef struct lrc_error {
    char msg[LRC_ERROR_MAX];
} lrc_error;

/* Format a message into err (which may be NULL) and return -1. */
int lrc_errorf(lrc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix an existing message with "context: ". Returns -1. */
int lrc_error_prefix(lrc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
