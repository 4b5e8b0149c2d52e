/*
 * lrc tokenize and lrc detokenize: text to token ids and back with the
 * tokenizer of a model directory or file. Argument parsing and printing only;
 * the work is done by model/tokenizer.c. Special tokens (BOS and the like) are
 * added by default, as Hugging Face's add_special_tokens=true does;
 * --no-special gives the plain encoding.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "hub/hub_cache.h"
#include "model/tokenizer.h"

static const char tokenize_usage[] =
    "usage: lrc tokenize [--json] [--no-special] PATH TEXT\n"
    "\n"
    "Print the token ids of TEXT (UTF-8) on one line, separated by spaces.\n"
    "TEXT '-' reads the text from standard input, byte for byte (a trailing\n"
    "newline is part of the text). PATH is a model directory or a tokenizer file:\n"
    "tokenizer.json, tokenizer.model (SentencePiece), tokenizer.bin (llama2.c), or\n"
    "encoder.json / vocab.bpe (GPT-2), or ORG/NAME[@REVISION] of a model in the\n"
    "Hugging Face Hub cache (see lrc pull). Special-token text such as <s> or\n"
    "<|im_start|> in TEXT becomes its special id. Text that is not valid UTF-8 is\n"
    "rejected with the offset of the first bad byte.\n"
    "\n"
    "Options:\n"
    "  --json         print a JSON array of ids instead\n"
    "  --no-special   do not add the special tokens of the post-processor (BOS and\n"
    "                 the like); by default they are added, as Hugging Face does\n"
    "  -h, --help     show this help\n";

static const char detokenize_usage[] =
    "usage: lrc detokenize [-n] PATH IDS...\n"
    "\n"
    "Print the text of the token ids IDS, decoded with the tokenizer at PATH (a\n"
    "model directory, a tokenizer file or a cached Hub model ORG/NAME[@REVISION], as\n"
    "for lrc tokenize), followed by a\n"
    "newline. Special tokens are kept (SentencePiece and llama2.c files drop BOS and\n"
    "EOS, as SentencePiece does). IDS may be separated by spaces or single commas,\n"
    "or written as one JSON array per argument; a single '-' reads them from\n"
    "standard input. A malformed list exits 2; an id outside the vocabulary,\n"
    "however large, exits 1.\n"
    "\n"
    "Options:\n"
    "  -n, --no-newline   do not print the newline after the text\n"
    "  -h, --help         show this help\n";

/* Read all of standard input. */
static int read_stdin(char **data, size_t *len) {
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                return -1;
            }
            buf = grown;
            cap *= 2;
        }
    }
    if (ferror(stdin)) {
        free(buf);
        return -1;
    }
    buf[n < cap ? n : cap - 1] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(tokenize_usage, stdout);
        return 0;
    }
    bool json = false, special = true, options_done = false;
    const char *positional[2];
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
        } else if (!options_done && strcmp(a, "--json") == 0) {
            json = true;
        } else if (!options_done && strcmp(a, "--no-special") == 0) {
            special = false;
        } else if (!options_done && a[0] == '-' && a[1] != '\0') {
            cmd_fail("tokenize: unknown option '%s'; run 'lrc tokenize --help'", a);
            return 2;
        } else if (n_pos < 2) {
            positional[n_pos++] = a;
        } else {
            cmd_fail("tokenize: too many arguments; quote TEXT or use '-' to read stdin");
            return 2;
        }
    }
    if (n_pos != 2) {
        cmd_fail("tokenize: expected PATH and TEXT; run 'lrc tokenize --help'");
        return 2;
    }

    char *text = NULL;
    size_t len;
    if (strcmp(positional[1], "-") == 0) {
        if (read_stdin(&text, &len)) {
            cmd_fail("tokenize: reading standard input failed: %s", strerror(errno));
            return 1;
        }
    }

    lrc_error err = {{0}};
    tokenizer *t;
    char resolved[HUB_PATH_MAX];
    if (hub_resolve_model_arg(resolved, sizeof resolved, positional[0], &err) < 0 ||
        tokenizer_load(&t, resolved, &err)) {
        cmd_fail("tokenize: %s", err.msg);
        free(text);
        return 1;
    }
    const char *input = text ? text : positional[1];
    int32_t *ids;
    size_t n;
    if (tokenizer_encode(t, input, text ? len : strlen(input), special, &ids, &n, &err)) {
        cmd_fail("tokenize: %s", err.msg);
        tokenizer_free(t);
        free(text);
        return 1;
    }

    if (json)
        putchar('[');
    for (size_t i = 0; i < n; i++)
        printf(i ? (json ? ", %d" : " %d") : "%d", ids[i]);
    puts(json ? "]" : "");
    free(ids);
    tokenizer_free(t);
    free(text);
    return 0;
}

/* Ids parsed so far. The first id too large for int32 is kept as text, and
 * it is reported as outside the vocabulary once the tokenizer is loaded. */
typedef struct id_list {
    int32_t *ids;
    size_t n, cap;
    char big[48]; /* "" when every id fit */
    size_t big_pos;
} id_list;

static int push_id(id_list *l, int32_t v) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        int32_t *grown = realloc(l->ids, l->cap * sizeof *grown);
        if (!grown) {
            cmd_fail("detokenize: out of memory");
            return -1;
        }
        l->ids = grown;
    }
    l->ids[l->n++] = v;
    return 0;
}

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

static int malformed(const char *s, const char *p, const char *expected) {
    cmd_fail("detokenize: malformed id list '%.40s%s' at character %zu: expected %s", s,
             strlen(s) > 40 ? "..." : "", (size_t)(p - s), expected);
    return -1;
}

/*
 * Parse one argument (or all of standard input) into l: either a JSON array
 * of integers, or integers separated by spaces or single commas (a trailing
 * comma is allowed, so that "98, 110" typed as two arguments works).
 */
static int parse_ids(const char *s, id_list *l) {
    const char *p = skip_space(s);
    bool json = *p == '[';
    if (json) {
        p = skip_space(p + 1);
        if (*p == ']')
            return *skip_space(p + 1) ? malformed(s, skip_space(p + 1), "nothing after ']'") : 0;
    }
    while (*p) {
        const char *num = p;
        if (*p == '-')
            p++;
        while (*p >= '0' && *p <= '9')
            p++;
        bool digits = p > num && p[-1] >= '0' && p[-1] <= '9';
        if (!digits || (*p && !strchr(" \t\r\n,]", *p))) {
            if (json || *num == ',' || *num == '[' || *num == ']')
                return malformed(s, num,
                                 *num == ',' ? "a token id, not an empty field" : "a token id");
            size_t k = strcspn(num, " \t\r\n,[]");
            cmd_fail("detokenize: '%.*s' is not a token id; expected integers separated by "
                     "spaces or commas",
                     (int)(k > 40 ? 40 : k), num);
            return -1;
        }
        errno = 0;
        long long v = strtoll(num, NULL, 10);
        if (errno || v < INT32_MIN || v > INT32_MAX) {
            if (!l->big[0]) {
                size_t k = (size_t)(p - num);
                snprintf(l->big, sizeof l->big, "%.*s%s", (int)(k > 40 ? 40 : k), num,
                         k > 40 ? "..." : "");
                l->big_pos = l->n;
            }
            v = -1;
        }
        if (push_id(l, (int32_t)v) < 0)
            return -1;

        p = skip_space(p);
        if (json) {
            if (*p == ']') {
                p = skip_space(p + 1);
                return *p ? malformed(s, p, "nothing after ']'") : 0;
            }
            if (*p != ',')
                return malformed(s, p, "',' or ']'");
            p = skip_space(p + 1);
        } else if (*p == ',') {
            p = skip_space(p + 1);
            if (*p == ',')
                return malformed(s, p, "a token id, not an empty field");
        } else if (*p == ']') {
            return malformed(s, p, "a token id; ']' without '['");
        }
    }
    return json ? malformed(s, p, "',' and more ids, or ']'") : 0;
}

int cmd_detokenize(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(detokenize_usage, stdout);
        return 0;
    }
    bool newline = true, options_done = false;
    const char *path = NULL;
    id_list l = {0};
    bool from_stdin = false, any_ids = false;
    int status = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
        } else if (!options_done && (strcmp(a, "-n") == 0 || strcmp(a, "--no-newline") == 0)) {
            newline = false;
        } else if (!options_done && a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9')) {
            cmd_fail("detokenize: unknown option '%s'; run 'lrc detokenize --help'", a);
            goto done;
        } else if (!path) {
            path = a;
        } else if (strcmp(a, "-") == 0) {
            from_stdin = true;
        } else {
            any_ids = true;
            if (parse_ids(a, &l))
                goto done;
        }
    }
    if (!path || (!from_stdin && !any_ids)) {
        cmd_fail("detokenize: expected PATH and token ids; run 'lrc detokenize --help'");
        goto done;
    }
    if (from_stdin && any_ids) {
        cmd_fail("detokenize: give ids as arguments or '-' for standard input, not both");
        goto done;
    }
    if (from_stdin) {
        char *data;
        size_t len;
        if (read_stdin(&data, &len)) {
            cmd_fail("detokenize: reading standard input failed: %s", strerror(errno));
            status = 1;
            goto done;
        }
        int bad = strlen(data) != len;
        if (bad)
            cmd_fail("detokenize: standard input contains a NUL byte; expected token ids");
        bad = bad || parse_ids(data, &l);
        free(data);
        if (bad)
            goto done;
    }

    status = 1;
    lrc_error err = {{0}};
    tokenizer *t;
    char resolved[HUB_PATH_MAX];
    if (hub_resolve_model_arg(resolved, sizeof resolved, path, &err) < 0 ||
        tokenizer_load(&t, resolved, &err)) {
        cmd_fail("detokenize: %s", err.msg);
        goto done;
    }
    char *text;
    size_t len;
    /* Ids before one too large for int32 are checked first, so the earliest
     * bad id is the one reported. */
    if (tokenizer_decode(t, l.ids, l.big[0] ? l.big_pos : l.n, &text, &len, &err)) {
        cmd_fail("detokenize: %s", err.msg);
        tokenizer_free(t);
        goto done;
    }
    if (l.big[0]) {
        cmd_fail("detokenize: token id %s (position %zu) is outside the vocabulary of %d ids",
                 l.big, l.big_pos, tokenizer_vocab_size(t));
        free(text);
        tokenizer_free(t);
        goto done;
    }
    fwrite(text, 1, len, stdout);
    if (newline)
        putchar('\n');
    free(text);
    tokenizer_free(t);
    status = 0;
done:
    free(l.ids);
    return status;
}
