/*
 * Tokenizer tests against reference encodings made by other implementations
 * (Rust/JS `tokenizers`, SentencePiece, gpt-3-encoder, the llama2.c
 * algorithm). Every line of each fixture's reference.jsonl is encoded in its
 * add_special_tokens mode and compared id for id. The reference ids are
 * decoded and compared with the reference text. Streaming decode must give
 * the same text as whole decoding. Bad files must fail with a message naming
 * the file and the key or offset.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/tokenizer.h"
#include "tap.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void put_utf8(char *out, size_t *n, unsigned long c) {
    if (c < 0x80) {
        out[(*n)++] = (char)c;
    } else if (c < 0x800) {
        out[(*n)++] = (char)(0xC0 | (c >> 6));
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (c >> 12));
        out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (c >> 18));
        out[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    }
}

/* The string value of "key" in one JSON line, decoded with its length, because cJSON stops
 * strings at U+0000 and the fixtures contain it. Returns a malloc'd buffer or NULL. */
static char *json_string(const char *line, const char *key, size_t *len) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p++ != '"')
        return NULL;

    char *out = malloc(strlen(p) + 1);
    size_t n = 0;
    while (*p && *p != '"') {
        if (*p != '\\') {
            out[n++] = *p++;
            continue;
        }
        p++;
        char e = *p++;
        switch (e) {
        case 'n':
            out[n++] = '\n';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'u': {
            unsigned long c = strtoul((char[]){p[0], p[1], p[2], p[3], 0}, NULL, 16);
            p += 4;
            if (c >= 0xD800 && c < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
                unsigned long lo = strtoul((char[]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
                p += 6;
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
            }
            put_utf8(out, &n, c);
            break;
        }
        default:
            out[n++] = e;
        }
    }

    out[n] = '\0';
    *len = n;
    return out;
}

static size_t read_ids(const cJSON *arr, int32_t **ids) {
    size_t n = (size_t)cJSON_GetArraySize(arr);
    *ids = malloc((n ? n : 1) * sizeof **ids);
    for (size_t i = 0; i < n; i++)
        (*ids)[i] = (int32_t)cJSON_GetArrayItem(arr, (int)i)->valuedouble;
    return n;
}

static void show_ids(const char *label, const int32_t *ids, size_t n) {
    char buf[600];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof buf - 16; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%d ", ids[i]);
    buf[k] = '\0';
    diag("  %s: %s", label, buf);
}

typedef struct fixture {
    const char *label;
    const char *folder;    /* under fixtures/tokenizers */
    const char *tokenizer; /* path given to tokenizer_load, relative to the folder or absolute */
    bool llama2c;          /* expect the llama2.c `disagree` entry where present */
} fixture;

/* Encode and decode every reference line; one check per property and folder. */
static void check_fixture(const char *root, const fixture *f) {
    char path[4096], ref[4096];
    if (f->tokenizer[0] == '/')
        snprintf(path, sizeof path, "%s", f->tokenizer);
    else
        snprintf(path, sizeof path, "%s/%s/%s", root, f->folder, f->tokenizer);
    snprintf(ref, sizeof ref, "%s/%s/reference.jsonl", root, f->folder);

    double t0 = now_seconds();
    tokenizer *t;
    lrc_error err = {{0}};
    if (!ok(tokenizer_load(&t, path, &err) == 0, "%s: load", f->label)) {
        diag("%s", err.msg);
        return;
    }
    double t_load = now_seconds() - t0;

    FILE *in = fopen(ref, "r");
    if (!ok(in != NULL, "%s: open reference.jsonl", f->label)) {
        tokenizer_free(t);
        return;
    }
    size_t lines = 0, enc_ok = 0, dec_ok = 0, round_total = 0, round_ok = 0, stream_ok = 0;
    size_t shown = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, in) > 0) {
        cJSON *o = cJSON_Parse(line);
        if (!o)
            continue;
        lines++;
        size_t text_len = 0, dec_len = 0;
        char *text = json_string(line, "text", &text_len);
        char *decoded = json_string(line, "decoded", &dec_len);
        bool add_special = cJSON_IsTrue(cJSON_GetObjectItem(o, "add_special_tokens"));
        const char *name = cJSON_GetObjectItem(o, "name")->valuestring;

        int32_t *want, *ref_ids;
        size_t n_ref = read_ids(cJSON_GetObjectItem(o, "ids"), &ref_ids), n_want = n_ref;
        want = ref_ids;
        const cJSON *disagree = cJSON_GetObjectItem(o, "disagree"), *alt;
        int32_t *alt_ids = NULL;
        if (f->llama2c && disagree) {
            cJSON_ArrayForEach(alt, disagree) {
                if (strstr(alt->string, "llama2.c")) {
                    n_want = read_ids(alt, &alt_ids);
                    want = alt_ids;
                }
            }
        }

        int32_t *got = NULL;
        size_t n_got = 0;
        bool enc = tokenizer_encode(t, text, text_len, add_special, &got, &n_got, &err) == 0 &&
                   n_got == n_want && memcmp(got, want, n_got * sizeof *got) == 0;
        enc_ok += enc;
        if (!enc && shown++ < 5) {
            diag("%s: %s (add_special=%d) encodes differently", f->label, name, add_special);
            show_ids("want", want, n_want);
            show_ids("got ", got, n_got);
        }

        char *out = NULL;
        size_t out_len = 0;
        bool dec = tokenizer_decode(t, ref_ids, n_ref, &out, &out_len, &err) == 0 &&
                   out_len == dec_len && memcmp(out, decoded, dec_len) == 0;
        dec_ok += dec;
        if (!dec && shown++ < 5)
            diag("%s: %s decodes to \"%.80s\", want \"%.80s\"", f->label, name, out ? out : "",
                 decoded);
        if (cJSON_IsTrue(cJSON_GetObjectItem(o, "roundtrip"))) {
            round_total++;
            round_ok += out && out_len == text_len && memcmp(out, text, text_len) == 0;
        }

        /* Streaming: the pieces pushed one id at a time concatenate to the whole decode. */
        tokenizer_stream *s = tokenizer_stream_new(t);
        char *joined = calloc(1, 1);
        size_t joined_len = 0;
        bool stream = s != NULL;
        for (size_t i = 0; i < n_ref && stream; i++) {
            char *piece;
            size_t m;
            stream = tokenizer_stream_push_len(s, ref_ids[i], &piece, &m, &err) == 0;
            if (stream) {
                joined = realloc(joined, joined_len + m + 1);
                memcpy(joined + joined_len, piece, m + 1);
                joined_len += m;
                free(piece);
            }
        }
        /* Text still held back (an unfinished byte sequence) is not counted as a failure
         * when the whole decode ends with U+FFFD. */
        stream = stream && out && joined_len <= out_len && memcmp(joined, out, joined_len) == 0 &&
                 (joined_len == out_len ||
                  (out_len >= 3 && memcmp(out + out_len - 3, "\xEF\xBF\xBD", 3) == 0));
        stream_ok += stream;
        if (!stream && shown++ < 5)
            diag("%s: %s streams to \"%.80s\"", f->label, name, joined);
        tokenizer_stream_free(s);
        free(joined);

        free(out);
        free(got);
        free(ref_ids);
        free(alt_ids);
        free(text);
        free(decoded);
        cJSON_Delete(o);
    }
    free(line);
    fclose(in);
    double t_all = now_seconds() - t0;

    ok(lines > 0, "%s: reference has lines", f->label);
    ok(enc_ok == lines, "%s: encode matches %zu/%zu lines", f->label, enc_ok, lines);
    ok(dec_ok == lines, "%s: decode matches %zu/%zu lines", f->label, dec_ok, lines);
    ok(round_ok == round_total, "%s: roundtrip holds %zu/%zu lines", f->label, round_ok,
       round_total);
    ok(stream_ok == lines, "%s: stream decode matches %zu/%zu lines", f->label, stream_ok, lines);
    diag("%s: load %.3f s, load + all lines %.3f s", f->label, t_load, t_all);
    tokenizer_free(t);
}

/* ---- special ids and lookups ------------------------------------------- */

static void check_special_ids(const char *root) {
    char path[4096];
    lrc_error err;
    tokenizer *t;
    snprintf(path, sizeof path, "%s/tinyllama-chat-v0.1-hf", root);
    if (tokenizer_load(&t, path, &err) == 0) {
        ok(tokenizer_bos_id(t) == 1, "tinyllama: bos id 1");
        ok(tokenizer_eos_id(t) == 2, "tinyllama: eos id 2");
        ok(tokenizer_vocab_size(t) == 32001, "tinyllama: vocab size 32001 with [PAD]");
        ok(tokenizer_token_id(t, "[PAD]") == 32000, "tinyllama: [PAD] is 32000");
        ok(tokenizer_token_id(t, "\xE2\x96\x81Hello") == 15043, "tinyllama: piece lookup");
        ok(tokenizer_token_id(t, "no such piece") == -1, "tinyllama: absent piece is -1");
        tokenizer_free(t);
    } else {
        ok(0, "tinyllama: load for special ids: %s", err.msg);
    }

    snprintf(path, sizeof path, "%s/llama2-spm/tokenizer.model", root);
    if (tokenizer_load(&t, path, &err) == 0) {
        ok(tokenizer_bos_id(t) == 1 && tokenizer_eos_id(t) == 2, "spm: bos 1, eos 2");
        ok(tokenizer_vocab_size(t) == 32000, "spm: vocab size 32000");
        tokenizer_free(t);
    } else {
        ok(0, "spm: load for special ids: %s", err.msg);
    }

    snprintf(path, sizeof path, "%s/smollm2-135m-instruct", root);
    if (tokenizer_load(&t, path, &err) == 0) {
        /* tokenizer_config.json names <|im_start|> and <|im_end|> for the Instruct model. */
        ok(tokenizer_bos_id(t) == 1, "smollm2: bos from tokenizer_config.json is 1");
        ok(tokenizer_eos_id(t) == 2, "smollm2: eos from tokenizer_config.json is 2");
        int32_t id = 99999999, *ids;
        size_t n;
        char *text;
        size_t len;
        ok(tokenizer_decode(t, &id, 1, &text, &len, &err) == -1 &&
               strstr(err.msg, "99999999") != NULL,
           "smollm2: decode rejects an id out of range");
        ok(tokenizer_encode(t, "ab\xFF", 3, false, &ids, &n, &err) == -1 &&
               strstr(err.msg, "byte 2") != NULL,
           "smollm2: encode rejects invalid UTF-8 with its offset");
        tokenizer_free(t);
    } else {
        ok(0, "smollm2: load for special ids: %s", err.msg);
    }
}

/* ---- long input ------------------------------------------------------- */

/* A long text must encode in time linear in its length (a quadratic step shows up as
 * seconds here) and must round-trip. The text is every string of the folder's reference
 * that round-trips (without U+0000), 40 times over, about 190 KB. */
static void check_long_input(const char *root, const char *folder, const char *label,
                             const char *path) {
    char ref[4200];
    snprintf(ref, sizeof ref, "%s/%s/reference.jsonl", root, folder);
    FILE *in = fopen(ref, "r");
    char *line = NULL, *one = NULL;
    size_t cap = 0, one_len = 0;
    while (in && getline(&line, &cap, in) > 0) {
        size_t n;
        bool plain = strstr(line, "\"add_special_tokens\": false") ||
                     strstr(line, "\"add_special_tokens\":false");
        bool roundtrip = strstr(line, "\"roundtrip\": true") || strstr(line, "\"roundtrip\":true");
        char *text = plain && roundtrip ? json_string(line, "text", &n) : NULL;
        if (text && !memchr(text, '\0', n)) {
            one = realloc(one, one_len + n + 2);
            memcpy(one + one_len, text, n);
            one_len += n;
            one[one_len++] = '\n';
        }
        free(text);
    }
    free(line);
    if (in)
        fclose(in);
    size_t len = one_len * 40;
    char *big = malloc(len + 1);
    for (size_t i = 0; i < 40; i++)
        memcpy(big + i * one_len, one, one_len);
    free(one);

    tokenizer *t;
    lrc_error err;
    if (!ok(tokenizer_load(&t, path, &err) == 0, "%s: load for long input", label)) {
        diag("%s", err.msg);
        free(big);
        return;
    }
    double t0 = now_seconds();
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = tokenizer_encode(t, big, len, false, &ids, &n, &err);
    double dt = now_seconds() - t0;
    ok(rc == 0 && n > len / 8, "%s: long input encodes (%zu bytes, %zu ids)", label, len, n);
    ok(dt < 10.0, "%s: long input encodes in %.2f s", label, dt);
    char *back = NULL;
    size_t back_len = 0;
    ok(rc == 0 && tokenizer_decode(t, ids, n, &back, &back_len, &err) == 0 && back_len == len &&
           memcmp(back, big, len) == 0,
       "%s: long input round-trips", label);
    free(back);
    free(ids);
    free(big);
    tokenizer_free(t);
}

/* ---- bad input ----------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

/* Loading path must fail with a message containing every needle. */
static void expect_load_error(const char *path, const char *what, const char *needle1,
                              const char *needle2) {
    tokenizer *t = NULL;
    lrc_error err = {{0}};
    int rc = tokenizer_load(&t, path, &err);
    bool good =
        rc == -1 && t == NULL && strstr(err.msg, needle1) && (!needle2 || strstr(err.msg, needle2));
    ok(good, "bad input: %s", what);
    if (!good)
        diag("message: %s", err.msg);
    tokenizer_free(t);
}

static void truncate_copy(const char *src, const char *dst, size_t n) {
    FILE *f = fopen(src, "rb");
    char *buf = malloc(n);
    size_t got = f ? fread(buf, 1, n, f) : 0;
    if (f)
        fclose(f);
    write_file(dst, buf, got);
    free(buf);
}

static void check_bad_input(const char *root, const char *tmp) {
    char path[4096], src[4096];

    snprintf(path, sizeof path, "%s/missing/tokenizer.json", tmp);
    expect_load_error(path, "missing file", path, "no such file");

    snprintf(path, sizeof path, "%s/bad.json", tmp);
    const char *broken = "{\"model\": {\"type\": \"BPE\",\n \"vocab\": {\"a\": 0,, }}}";
    write_file(path, broken, strlen(broken));
    expect_load_error(path, "malformed JSON names file and line", "bad.json", "line 2");

    snprintf(path, sizeof path, "%s/unigram.json", tmp);
    const char *unigram = "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}}";
    write_file(path, unigram, strlen(unigram));
    expect_load_error(path, "unknown model type names model.type", "unigram.json", "model.type");

    snprintf(path, sizeof path, "%s/merges.json", tmp);
    const char *merges =
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a c\"]}}";
    write_file(path, merges, strlen(merges));
    expect_load_error(path, "merge of unknown pieces names model.merges[0]", "merges.json",
                      "model.merges[0]");

    snprintf(path, sizeof path, "%s/pre.json", tmp);
    const char *pre = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
                      " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}";
    write_file(path, pre, strlen(pre));
    expect_load_error(path, "unsupported pre-tokenizer names its key", "pre_tokenizer",
                      "BertPreTokenizer");

    snprintf(src, sizeof src, "%s/llama2-spm/tokenizer.bin", root);
    snprintf(path, sizeof path, "%s/tokenizer-cut.bin", tmp);
    truncate_copy(src, path, 1001);
    expect_load_error(path, "truncated tokenizer.bin names the offset", "tokenizer-cut.bin",
                      "offset");

    snprintf(src, sizeof src, "%s/llama2-spm/tokenizer.model", root);
    snprintf(path, sizeof path, "%s/cut.model", tmp);
    truncate_copy(src, path, 1001);
    expect_load_error(path, "truncated tokenizer.model names the offset", "cut.model", "offset");

    snprintf(path, sizeof path, "%s/tokenizer-empty.bin", tmp);
    write_file(path, "", 0);
    expect_load_error(path, "empty tokenizer.bin", "tokenizer-empty.bin", "offset 0");

    snprintf(path, sizeof path, "%s/empty", tmp);
    mkdir(path, 0700);
    expect_load_error(path, "directory without a tokenizer", path, "no tokenizer.json");

    snprintf(path, sizeof path, "%s/tokenizer.txt", tmp);
    write_file(path, "x", 1);
    expect_load_error(path, "file of unknown kind", path, "cannot tell");
}

int main(void) {
    const char *shared = getenv("LRC_SHARED");
    if (!shared)
        skip_all("LRC_SHARED is not set");
    char root[4096];
    snprintf(root, sizeof root, "%s/fixtures/tokenizers", shared);
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/strings.jsonl", root);
    if (access(probe, R_OK) != 0)
        skip_all("tokenizer fixtures not found under $LRC_SHARED/fixtures/tokenizers");

    char tmp[] = "/tmp/lrc-tok-XXXXXX";
    if (!mkdtemp(tmp))
        skip_all("cannot create a temporary folder");
    char cmd[9000], llama3[4200];
    snprintf(cmd, sizeof cmd,
             "gzip -dc '%s/llama3-hf/tokenizer.json.gz' > '%s/tokenizer.json' && "
             "cp '%s/llama3-hf/tokenizer_config.json' '%s/'",
             root, tmp, root, tmp);
    int unpacked = system(cmd) == 0;
    snprintf(llama3, sizeof llama3, "%s", tmp);

    double t0 = now_seconds();
    const fixture fixtures[] = {
        {"smollm2", "smollm2-135m-instruct", ".", false},
        {"smollm-ft", "smollm-135m-finetune-pairmerges", "tokenizer.json", false},
        {"tinyllama", "tinyllama-chat-v0.1-hf", ".", false},
        {"mistral", "mistral-7b-v0.1-hf", "tokenizer.json", false},
        {"llama3", "llama3-hf", llama3, false},
        {"llama2-spm model", "llama2-spm", "tokenizer.model", false},
        {"llama2-spm bin", "llama2-spm", "tokenizer.bin", true},
        {"gpt2", "gpt2", ".", false},
    };
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        if (i == 4 && !ok(unpacked, "llama3: unpack tokenizer.json.gz with gzip -dc"))
            continue;
        check_fixture(root, &fixtures[i]);
    }
    diag("all fixtures: %.2f s", now_seconds() - t0);

    char path[4300];
    snprintf(path, sizeof path, "%s/gpt2", root);
    check_long_input(root, "gpt2", "gpt2", path);
    if (unpacked)
        check_long_input(root, "llama3-hf", "llama3", llama3);
    snprintf(path, sizeof path, "%s/llama2-spm/tokenizer.model", root);
    check_long_input(root, "llama2-spm", "llama2-spm model", path);
    snprintf(path, sizeof path, "%s/tinyllama-chat-v0.1-hf", root);
    check_long_input(root, "tinyllama-chat-v0.1-hf", "tinyllama", path);

    check_special_ids(root);
    check_bad_input(root, tmp);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
