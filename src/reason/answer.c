/*
 * Answer normalization: Unicode clean-up with libunistring (NFC, lower case),
 * then byte-level passes over the UTF-8 string in a heap buffer: spaces,
 * surrounding punctuation and answer prefixes, choice labels and numbers.
 * Each pass rewrites the buffer in place and only ever shortens it. The
 * rules and their examples are listed in answer.h.
 */
#include "reason/answer.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

/* Replace U+2212 by "-" and Unicode or ASCII white space by " " (rule 2). */
static void map_signs_and_spaces(char *s) {
    char *w = s;
    for (const char *r = s; *r;) {
        if (strncmp(r, "\xe2\x88\x92", 3) == 0) { /* U+2212 minus sign */
            *w++ = '-';
            r += 3;
        } else if (strncmp(r, "\xc2\xa0", 2) == 0) { /* U+00A0 no-break space */
            *w++ = ' ';
            r += 2;
        } else if (strncmp(r, "\xe2\x80\xaf", 3) == 0) { /* U+202F narrow no-break space */
            *w++ = ' ';
            r += 3;
        } else if (isspace((unsigned char)*r)) {
            *w++ = ' ';
            r++;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* Collapse runs of spaces and trim both ends (rule 4). */
static void squeeze_spaces(char *s) {
    char *w = s;
    int pending = 0;
    for (const char *r = s; *r; r++) {
        if (*r == ' ') {
            pending = w != s;
            continue;
        }
        if (pending)
            *w++ = ' ';
        pending = 0;
        *w++ = *r;
    }
    *w = '\0';
}

static void drop_prefix(char *s, size_t n) {
    memmove(s, s + n, strlen(s + n) + 1);
}

static const char *const answer_prefixes[] = {"final answer:", "answer:", "the answer is",
                                              "answer is"};

/* Quote marks removed from both ends; multi-byte ones as UTF-8. */
static const char *const quote_marks[] = {
    "\"",           "'",        "`",       "*", "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\x98",
    "\xe2\x80\x99", "\xc2\xab", "\xc2\xbb"};

/* Apply one round of rule 5. Returns 1 when the text changed. */
static int strip_once(char *s) {
    size_t len = strlen(s);
    for (size_t i = 0; i < sizeof answer_prefixes / sizeof *answer_prefixes; i++) {
        size_t n = strlen(answer_prefixes[i]);
        char last = answer_prefixes[i][n - 1];
        if (len >= n && strncmp(s, answer_prefixes[i], n) == 0 &&
            (last == ':' || s[n] == ' ' || s[n] == '\0')) {
            drop_prefix(s, n);
            return 1;
        }
    }
    if (len > 0 && strchr(".,;:!?", s[len - 1])) {
        s[len - 1] = '\0';
        return 1;
    }
    if (strncmp(s, "\\boxed{", 7) == 0 && len > 7 && s[len - 1] == '}') {
        s[len - 1] = '\0';
        drop_prefix(s, 7);
        return 1;
    }
    int changed = 0;
    for (size_t i = 0; i < sizeof quote_marks / sizeof *quote_marks; i++) {
        size_t n = strlen(quote_marks[i]);
        len = strlen(s);
        if (len >= n && strncmp(s, quote_marks[i], n) == 0) {
            drop_prefix(s, n);
            changed = 1;
            len -= n;
        }
        if (len >= n && strcmp(s + len - n, quote_marks[i]) == 0) {
            s[len - n] = '\0';
            changed = 1;
        }
    }
    return changed;
}

/* Parse a choice label at s (rule 6): an optional "option " or "choice ",
 * then "(x)", "[x]", "x)", "x." or "x:", or a bare "x" at the end or after
 * "option "/"choice ". Returns the letter and sets *rest to the text after
 * the label, or returns 0. */
static char parse_choice_label(const char *s, const char **rest) {
    const char *p = s;
    bool named = strncmp(p, "option ", 7) == 0 || strncmp(p, "choice ", 7) == 0;
    if (named)
        p += 7;
    char open = 0;
    if (*p == '(' || *p == '[')
        open = *p++;
    if (*p < 'a' || *p > 'z')
        return 0;
    char letter = *p++;
    if (open) {
        if (*p != (open == '(' ? ')' : ']'))
            return 0;
        p++;
    } else if (*p == ')' || *p == '.' || *p == ':') {
        p++;
    } else if (*p != '\0' && !(named && *p == ' ')) {
        return 0; /* "b paris" is text, but "option b is right" names b */
    }
    *rest = p;
    return letter;
}

/* Rule 6: a text that is nothing but a choice label becomes its letter. */
static void reduce_choice(char *s) {
    const char *rest;
    char letter = parse_choice_label(s, &rest);
    if (letter && *rest == '\0') {
        s[0] = letter;
        s[1] = '\0';
    }
}

static const char *const currency_signs[] = {"$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5"};

static const char *skip_currency(const char *p) {
    for (size_t i = 0; i < sizeof currency_signs / sizeof *currency_signs; i++) {
        size_t n = strlen(currency_signs[i]);
        if (strncmp(p, currency_signs[i], n) == 0)
            return p + n;
    }
    return p;
}

/* Copy the digits of an unsigned decimal at p into buf without grouping
 * commas. Returns the end of the number, or NULL when p does not start with a valid one. */
static const char *scan_decimal(const char *p, char *buf, size_t buf_size, int *is_integer) {
    size_t k = 0;
    size_t run = 0;
    int grouped = 0, digits = 0;
    *is_integer = 1;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (k + 1 >= buf_size)                                                                     \
            return NULL;                                                                           \
        buf[k++] = (c);                                                                            \
    } while (0)
    while (isdigit((unsigned char)*p) || (*p == ',' && isdigit((unsigned char)p[1]))) {
        if (*p == ',') {
            /* A comma follows one to three leading digits or a full group,
             * and must be followed by exactly three digits. */
            if (run == 0 || run > 3 || (grouped && run != 3))
                return NULL;
            if (!isdigit((unsigned char)p[2]) || !isdigit((unsigned char)p[3]) ||
                isdigit((unsigned char)p[4]))
                return NULL;
            grouped = 1;
            run = 0;
            p++;
            continue;
        }
        PUT(*p++);
        run++;
        digits++;
    }
    if (*p == '.' && isdigit((unsigned char)p[1])) {
        *is_integer = 0;
        PUT(*p++);
        while (isdigit((unsigned char)*p)) {
            PUT(*p++);
            digits++;
        }
    }
    if (digits == 0)
        return NULL;
    if ((*p == 'e') && (isdigit((unsigned char)p[1]) ||
                        ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char)p[2])))) {
        *is_integer = 0;
        PUT(*p++);
        if (*p == '+' || *p == '-')
            PUT(*p++);
        while (isdigit((unsigned char)*p))
            PUT(*p++);
    }
#undef PUT
    buf[k] = '\0';
    return p;
}

/* Spare bytes after a normalized text: "1/3" grows to "0.3333333333333333", and no
 * "%.17g" output with a percent sign exceeds 32 bytes. */
#define NUMBER_ROOM 40

/* Rule 7: when s is a number, write its canonical form into s. */
static void reduce_number(char *s) {
    const char *p = s;
    int negative = 0;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';
    p = skip_currency(p);
    if (!negative && p != s && (*p == '+' || *p == '-'))
        negative = *p++ == '-';

    char digits[128], denominator[128];
    int is_integer;
    const char *start = p;
    p = scan_decimal(p, digits, sizeof digits, &is_integer);
    if (!p)
        return;
    double value = strtod(digits, NULL);
    if (*p == '/') {
        /* Both sides of a fraction are integers written without commas. */
        int den_integer;
        const char *q = scan_decimal(p + 1, denominator, sizeof denominator, &den_integer);
        if (!q || !is_integer || !den_integer || memchr(start, ',', (size_t)(q - start)))
            return;
        double den = strtod(denominator, NULL);
        if (den == 0.0)
            return;
        value /= den;
        p = q;
    }

    int percent = 0;
    if (*p == ' ' && p[1] == '%')
        p++;
    if (*p == '%') {
        percent = 1;
        p++;
    } else if (*p == ' ' && p[1] >= 'a' && p[1] <= 'z') {
        p++;
        while (*p >= 'a' && *p <= 'z')
            p++;
    }
    if (*p != '\0' || !isfinite(value))
        return;

    if (negative)
        value = -value;
    if (value == 0.0)
        value = 0.0; /* turns -0 into 0 */
    char text[64];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    if (percent)
        strcat(text, "%");
    strcpy(s, text); /* normalize_alloc leaves NUMBER_ROOM spare bytes */
}

/* Run rules 1-7 into a new heap string, or return NULL. */
static char *normalize_alloc(const char *text) {
    size_t len = strlen(text);
    if (u8_check((const uint8_t *)text, len) != NULL)
        return NULL;
    size_t folded_len = 0;
    uint8_t *folded = u8_tolower((const uint8_t *)text, len, NULL, UNINORM_NFC, NULL, &folded_len);
    if (!folded)
        return NULL;
    char *s = malloc(folded_len + NUMBER_ROOM);
    if (!s) {
        free(folded);
        return NULL;
    }
    memcpy(s, folded, folded_len);
    s[folded_len] = '\0';
    free(folded);

    map_signs_and_spaces(s);
    squeeze_spaces(s);
    while (strip_once(s))
        squeeze_spaces(s);
    reduce_choice(s);
    reduce_number(s);
    return s;
}

int answer_normalize(const char *text, char *out, size_t out_size) {
    if (out_size > 0)
        out[0] = '\0';
    char *s = normalize_alloc(text);
    if (!s)
        return -1;
    size_t n = strlen(s);
    if (n >= out_size) {
        free(s);
        return -1;
    }
    memcpy(out, s, n + 1);
    free(s);
    return 0;
}

bool answer_match(const char *predicted, const char *expected) {
    char *p = normalize_alloc(predicted);
    char *e = normalize_alloc(expected);
    bool same = false;
    if (p && e) {
        same = strcmp(p, e) == 0;
        if (!same && e[0] >= 'a' && e[0] <= 'z' && e[1] == '\0') {
            const char *rest;
            char letter = parse_choice_label(p, &rest);
            same = letter == e[0] && (*rest == ' ' || *rest == '\0');
        }
    }
    free(p);
    free(e);
    return same;
}
