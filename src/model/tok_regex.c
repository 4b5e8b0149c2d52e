/*
 * Regular expressions for the pre-tokenizers, through PCRE2 (8-bit, UTF and
 * UCP, JIT-compiled when the library supports it). Hugging Face patterns are
 * written for Oniguruma, whose \s is the Unicode White_Space property (U+0085
 * is whitespace, U+FEFF is not); PCRE2's UCP \s differs on such characters, so
 * \s and \S are rewritten to \p{White_Space} and \P{White_Space} first.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "model/tok_internal.h"

struct tok_regex {
    pcre2_code *code;
};

const char tok_gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

tok_regex *tok_regex_compile(const char *pattern, size_t len, lrc_error *err) {
    tok_buf rewritten = {0};
    for (size_t i = 0; i < len; i++) {
        int status;
        if (pattern[i] == '\\' && i + 1 < len && pattern[i + 1] == 's') {
            status = tok_buf_append(&rewritten, "\\p{White_Space}", 15);
            i++;
        } else if (pattern[i] == '\\' && i + 1 < len && pattern[i + 1] == 'S') {
            status = tok_buf_append(&rewritten, "\\P{White_Space}", 15);
            i++;
        } else if (pattern[i] == '\\' && i + 1 < len) {
            status = tok_buf_append(&rewritten, pattern + i, 2);
            i++;
        } else {
            status = tok_buf_append(&rewritten, pattern + i, 1);
        }
        if (status) {
            tok_buf_free(&rewritten);
            lrc_errorf(err, "out of memory compiling a regex");
            return NULL;
        }
    }

    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)(rewritten.data ? rewritten.data : ""),
                                   rewritten.len, PCRE2_UTF | PCRE2_UCP, &code, &at, NULL);
    tok_buf_free(&rewritten);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        lrc_errorf(err, "invalid regex '%.*s': %s", (int)(len > 200 ? 200 : len), pattern,
                   (const char *)msg);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter on failure */

    tok_regex *r = malloc(sizeof *r);
    if (!r) {
        pcre2_code_free(re);
        lrc_errorf(err, "out of memory compiling a regex");
        return NULL;
    }
    r->code = re;
    return r;
}

void tok_regex_free(tok_regex *re) {
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re);
}

int tok_regex_next(const tok_regex *re, tok_match *m, const char *s, size_t n, size_t start,
                   size_t *mstart, size_t *mend, lrc_error *err) {
    /* Match data sized for the largest pattern's ovector; 16 pairs cover every pattern used. */
    if (!m->data && !(m->data = pcre2_match_data_create(16, NULL)))
        return lrc_errorf(err, "out of memory matching a regex");
    pcre2_match_data *md = m->data;
    uint32_t options = s == m->checked && n == m->checked_len ? PCRE2_NO_UTF_CHECK : 0;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, start, options, md, NULL);
    if (rc >= 0 || rc == PCRE2_ERROR_NOMATCH) {
        m->checked = s; /* PCRE2 checked the whole subject on this call */
        m->checked_len = n;
    }
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return lrc_errorf(err, "regex match failed at byte %zu: %s", start, (const char *)msg);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *mstart = ov[0];
    *mend = ov[1];
    return 1;
}

void tok_match_free(tok_match *m) {
    pcre2_match_data_free(m->data);
    m->data = NULL;
}
