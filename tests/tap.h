/*
 * A minimal TAP producer for the C tests: `plan`, `ok`, numeric comparisons
 * that print both values on failure, and `done_testing`. The exit status is 0
 * only when every test passed, so the TAP driver and a plain run agree.
 */
#ifndef LRC_TESTS_TAP_H
#define LRC_TESTS_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count, tap_failed;

static inline void tap_plan(int n) {
    printf("1..%d\n", n);
}

static inline int tap_okv(int cond, const char *fmt, va_list ap) {
    tap_count++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    return cond;
}

static inline int __attribute__((format(printf, 2, 3))) ok(int cond, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = tap_okv(cond, fmt, ap);
    va_end(ap);
    return r;
}

/* Print a diagnostic line ("# ..."), which TAP consumers show but do not count. */
static inline void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    fflush(stdout);
}

/* Skip the rest of the test program, for a missing optional input. */
static inline void __attribute__((noreturn)) skip_all(const char *reason) {
    printf("1..0 # SKIP %s\n", reason);
    exit(0);
}

/* Check |got - want| <= tol, printing both values on failure. */
static inline int __attribute__((format(printf, 4, 5)))
ok_near(double got, double want, double tol, const char *fmt, ...) {
    int cond = fabs(got - want) <= tol && !isnan(got);
    va_list ap;
    va_start(ap, fmt);
    tap_okv(cond, fmt, ap);
    va_end(ap);
    if (!cond)
        diag("got %.9g, want %.9g (tolerance %g)", got, want, tol);
    return cond;
}

/* Print the plan from the count so far; exit status reflects failures. */
static inline int done_testing(void) {
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
