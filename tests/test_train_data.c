/*
 * Unit tests of src/train/data. Windows are checked against the documented
 * formulas on id files whose id at position i is i, so a batch shows the
 * positions it read. JSONL and text inputs are checked against the Hugging
 * Face reference ids of the SmolLM2 tokenizer fixture. Every load error is
 * exercised.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "train/data.h"

static char tmpdir[] = "/tmp/lrc-test-data-XXXXXX";

static void tmp_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* Write ids as little-endian uint32. */
static void write_u32(const char *path, const uint32_t *ids, size_t n) {
    unsigned char *b = malloc(4 * n + 1);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            b[4 * i + k] = (unsigned char)(ids[i] >> (8 * k));
    write_bytes(path, b, 4 * n);
    free(b);
}

/* An identity file: id i at position i. */
static void write_identity(const char *path, size_t n) {
    uint32_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = (uint32_t)i;
    write_u32(path, ids, n);
    free(ids);
}

/* ---- shuffle off ---------------------------------------------------------- */

static void test_shuffle_off(void) {
    enum { N = 50, T = 8, B = 3, STEPS = 40 };
    char path[256];
    lrc_error err;
    train_data d;
    tmp_path(path, sizeof path, "ids.u32");
    write_identity(path, N);
    if (train_data_load(&d, path, DATA_FORMAT_AUTO, NULL, 1000, &err) < 0 ||
        train_data_set_window(&d, T, 0, &err) < 0) {
        ok(0, "load identity file: %s", err.msg);
        return;
    }
    ok(d.format == DATA_FORMAT_U32 && d.n_tokens == N && d.n_train == N,
       "u32 by extension: %zu tokens", d.n_tokens);

    /* Every row of 40 steps (960 row starts, 19 times around) against
     * ((k·B + j)·T) mod N, reading T + 1 consecutive positions mod N. */
    int32_t batch[B * (T + 1)];
    int all = 1;
    for (uint64_t k = 0; k < STEPS; k++) {
        train_data_batch(&d, B, false, 0, k, batch);
        for (size_t j = 0; j < B; j++)
            for (size_t t = 0; t <= T; t++)
                if (batch[j * (T + 1) + t] != (int32_t)(((k * B + j) * T + t) % N))
                    all = 0;
    }
    ok(all, "shuffle off: %d steps of %d rows equal ((k*B + j)*T + t) mod N", STEPS, B);

    /* By hand: step 2 row 0 starts at 48 and wraps inside the window; step 2
     * row 1 starts at (2*3 + 1)*8 = 56, which wraps to 6. */
    train_data_batch(&d, B, false, 0, 2, batch);
    const int32_t row0[T + 1] = {48, 49, 0, 1, 2, 3, 4, 5, 6};
    ok(memcmp(batch, row0, sizeof row0) == 0, "shuffle off: window wraps from 49 to 0");
    ok(batch[T + 1] == 6 && batch[2 * (T + 1)] == 14, "shuffle off: row starts wrap to 6 and 14");

    /* A large step does not overflow: (10^15 * 3 + 2) * 8 mod 50. */
    uint64_t big = 1000000000000000ull;
    size_t start = data_window_start(&d, B, false, 0, big, 2);
    ok(start == (size_t)((((big % N) * B + 2) * T) % N), "shuffle off: step 1e15 starts at %zu",
       start);
    train_data_free(&d);

    /* Probe rows hold out the last P*(T + 1) ids. */
    tmp_path(path, sizeof path, "probe.bin");
    write_identity(path, N);
    if (train_data_load(&d, path, DATA_FORMAT_AUTO, NULL, 1000, &err) < 0 ||
        train_data_set_window(&d, T, 2, &err) < 0) {
        ok(0, "load with probe: %s", err.msg);
        return;
    }
    ok(d.n_train == N - 2 * (T + 1), "probe: n_train %zu = 50 - 2*9", d.n_train);
    int32_t probe[2 * (T + 1)];
    train_data_probe(&d, probe);
    int probe_ok = 1;
    for (int i = 0; i < 2 * (T + 1); i++)
        probe_ok &= probe[i] == (int32_t)(d.n_train + (size_t)i);
    ok(probe_ok, "probe: rows are ids 32..49");
    int inside = 1;
    for (uint64_t k = 0; k < STEPS; k++) {
        train_data_batch(&d, B, k % 2, 7, k, batch);
        for (int i = 0; i < B * (T + 1); i++)
            inside &= batch[i] >= 0 && (size_t)batch[i] < d.n_train;
    }
    ok(inside, "probe: training windows never read held-out ids");
    train_data_free(&d);
}

/* ---- shuffle on ----------------------------------------------------------- */

/* splitmix64 as published (Steele, Lea and Flood, 2014). */
static uint64_t ref_splitmix64(uint64_t x) {
    uint64_t z = x + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void test_shuffle_on(void) {
    enum { N = 1000, T = 16, B = 4, STEPS = 20 };
    char path[256];
    lrc_error err;
    train_data d, again;
    tmp_path(path, sizeof path, "ids1000.u32");
    write_identity(path, N);
    if (train_data_load(&d, path, DATA_FORMAT_U32, NULL, N, &err) < 0 ||
        train_data_set_window(&d, T, 1, &err) < 0) {
        ok(0, "load: %s", err.msg);
        return;
    }

    ok(train_data_align_docs(&d, &err) < 0 && strstr(err.msg, path) && d.n_aligned == 0,
       "u32 ids have no documents to align to: %s", err.msg);

    /* A straight run of 20 steps, then a fresh load that starts at step 10
     * as a resumed run does. */
    int32_t straight[STEPS][B * (T + 1)], resumed[B * (T + 1)];
    for (uint64_t k = 0; k < STEPS; k++)
        train_data_batch(&d, B, true, 42, k, straight[k]);
    int same = 1;
    if (train_data_load(&again, path, DATA_FORMAT_U32, NULL, N, &err) < 0 ||
        train_data_set_window(&again, T, 1, &err) < 0) {
        ok(0, "reload: %s", err.msg);
        train_data_free(&d);
        return;
    }
    for (uint64_t k = 10; k < STEPS; k++) {
        train_data_batch(&again, B, true, 42, k, resumed);
        same &= memcmp(resumed, straight[k], sizeof resumed) == 0;
    }
    ok(same, "shuffle on: steps 10..19 after a reload equal the straight run");
    train_data_free(&again);

    /* The documented start: splitmix64 three times, mod n_train. */
    int formula = 1, contiguous = 1;
    for (uint64_t k = 0; k < STEPS; k++) {
        for (size_t j = 0; j < B; j++) {
            uint64_t h = ref_splitmix64(ref_splitmix64(ref_splitmix64(42) ^ k) ^ j);
            size_t start = (size_t)(h % d.n_train);
            formula &= straight[k][j * (T + 1)] == (int32_t)start;
            for (size_t t = 0; t <= T; t++)
                contiguous &= straight[k][j * (T + 1) + t] == (int32_t)((start + t) % d.n_train);
        }
    }
    ok(formula, "shuffle on: starts equal splitmix64(splitmix64(splitmix64(seed) ^ k) ^ j) mod n");
    ok(contiguous, "shuffle on: each row reads consecutive ids, wrapping at n_train");

    int32_t other[B * (T + 1)];
    train_data_batch(&d, B, true, 43, 0, other);
    ok(memcmp(other, straight[0], sizeof other) != 0, "shuffle on: another seed, another batch");

    /* Starts spread over the data: 4000 rows, each quarter within 25% ± 3%
     * (the standard error of a quarter's share is 0.7%). */
    size_t quarter[4] = {0};
    for (uint64_t k = 0; k < 1000; k++)
        for (size_t j = 0; j < 4; j++)
            quarter[data_window_start(&d, 4, true, 42, k, j) * 4 / d.n_train]++;
    int spread = 1;
    for (int q = 0; q < 4; q++)
        spread &= quarter[q] > 880 && quarter[q] < 1120;
    ok(spread, "shuffle on: quarters get %zu %zu %zu %zu of 4000 starts", quarter[0], quarter[1],
       quarter[2], quarter[3]);
    train_data_free(&d);
}

/* ---- tokenised inputs ----------------------------------------------------- */

/* Documents from the tokenizer fixture's reference file: texts encoded by
 * Hugging Face tokenizers without special tokens, and their ids. */
typedef struct ref_doc {
    char *text;
    int32_t *ids;
    size_t n;
} ref_doc;

static size_t read_reference(const char *path, ref_doc *docs, size_t max_docs) {
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1 << 16];
    size_t n = 0;
    while (n < max_docs && fgets(line, sizeof line, f)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *special = cJSON_GetObjectItem(o, "add_special_tokens");
        const cJSON *text = cJSON_GetObjectItem(o, "text");
        const cJSON *ids = cJSON_GetObjectItem(o, "ids");
        if (cJSON_IsFalse(special) && cJSON_IsString(text) && cJSON_GetArraySize(ids) > 0 &&
            !strchr(text->valuestring, '\r')) {
            docs[n].text = strdup(text->valuestring);
            docs[n].n = (size_t)cJSON_GetArraySize(ids);
            docs[n].ids = malloc(docs[n].n * sizeof(int32_t));
            for (size_t i = 0; i < docs[n].n; i++)
                docs[n].ids[i] = (int32_t)cJSON_GetArrayItem(ids, (int)i)->valuedouble;
            n++;
        }
        cJSON_Delete(o);
    }
    fclose(f);
    return n;
}

static void test_tokenised(void) {
    const char *shared = getenv("LRC_SHARED");
    char dir[4096], ref[4200];
    snprintf(dir, sizeof dir, "%s/fixtures/tokenizers/smollm2-135m-instruct",
             shared ? shared : "../shared");
    snprintf(ref, sizeof ref, "%s/reference.jsonl", dir);

    lrc_error err;
    tokenizer *tok = NULL;
    ref_doc docs[6];
    size_t n_docs = 0;
    if (access(ref, R_OK) != 0 || tokenizer_load(&tok, dir, &err) < 0 ||
        (n_docs = read_reference(ref, docs, 6)) < 3) {
        ok(1, "# SKIP tokenised inputs: no SmolLM2 tokenizer fixture at %s", dir);
        tokenizer_free(tok);
        for (size_t i = 0; i < n_docs; i++) {
            free(docs[i].text);
            free(docs[i].ids);
        }
        return;
    }
    int eos = tokenizer_eos_id(tok), vocab = tokenizer_vocab_size(tok);
    ok(eos >= 0, "fixture tokenizer has an EOS id (%d)", eos);

    /* JSONL: each document's reference ids then EOS; a blank line between
     * documents and an empty document add nothing. */
    char path[256];
    tmp_path(path, sizeof path, "docs.jsonl");
    FILE *f = fopen(path, "w");
    size_t want_n = 0;
    for (size_t i = 0; i < n_docs; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)i);
        cJSON_AddStringToObject(o, "text", docs[i].text);
        char *s = cJSON_PrintUnformatted(o);
        fprintf(f, "%s\n%s", s, i == 1 ? "\n  \n{\"text\": \"\"}\n" : "");
        free(s);
        cJSON_Delete(o);
        want_n += docs[i].n + 1;
    }
    fclose(f);

    train_data d;
    if (train_data_load(&d, path, DATA_FORMAT_AUTO, tok, vocab, &err) < 0) {
        ok(0, "jsonl load: %s", err.msg);
    } else {
        int match = d.n_tokens == want_n && d.n_docs == n_docs;
        for (size_t i = 0, pos = 0; match && i < n_docs; i++) {
            match &= memcmp(d.ids + pos, docs[i].ids, docs[i].n * sizeof(int32_t)) == 0;
            pos += docs[i].n;
            match &= d.ids[pos++] == eos;
        }
        ok(match, "jsonl: %zu documents give the reference ids, each followed by EOS (%zu ids)",
           n_docs, d.n_tokens);

        /* Aligned windows: the loader notes where each document starts,
         * and every shuffled row then begins at one of those starts. */
        int starts_ok = d.n_doc_starts == n_docs;
        for (size_t i = 0, pos = 0; starts_ok && i < n_docs; i++) {
            starts_ok &= d.doc_starts[i] == pos;
            pos += docs[i].n + 1;
        }
        ok(starts_ok, "jsonl: document starts noted (%zu)", d.n_doc_starts);
        size_t seq = 4;
        if (train_data_set_window(&d, seq, 0, &err) < 0 || train_data_align_docs(&d, &err) < 0) {
            ok(0, "aligned windows: %s", err.msg);
        } else {
            int aligned = d.n_aligned == n_docs;
            size_t hits[64] = {0};
            for (uint64_t k = 0; k < 200; k++) {
                size_t start = data_window_start(&d, 2, true, 7, k, k % 2);
                size_t i = 0;
                while (i < n_docs && d.doc_starts[i] != start)
                    i++;
                aligned &= i < n_docs && d.ids[start] == docs[i].ids[0];
                if (i < n_docs && i < 64)
                    hits[i]++;
            }
            size_t drawn = 0;
            for (size_t i = 0; i < n_docs && i < 64; i++)
                drawn += hits[i] > 0;
            ok(aligned, "aligned windows start at a document's first id (200 rows)");
            ok(drawn == (n_docs < 64 ? n_docs : 64), "aligned windows draw every document (%zu)",
               drawn);
        }
        train_data_free(&d);
    }

    /* Text: the whole file is one document. */
    tmp_path(path, sizeof path, "doc.txt");
    write_bytes(path, docs[2].text, strlen(docs[2].text));
    if (train_data_load(&d, path, DATA_FORMAT_AUTO, tok, vocab, &err) < 0) {
        ok(0, "text load: %s", err.msg);
    } else {
        ok(d.format == DATA_FORMAT_TEXT && d.n_tokens == docs[2].n + 1 &&
               memcmp(d.ids, docs[2].ids, docs[2].n * sizeof(int32_t)) == 0 &&
               d.ids[docs[2].n] == eos,
           "text: one document, reference ids then EOS");
        train_data_free(&d);
    }

    /* The explicit format wins over the extension. */
    tmp_path(path, sizeof path, "docs-as-text.u32");
    write_bytes(path, "{\"text\":\"Hello world\"}\n", 23);
    if (train_data_load(&d, path, DATA_FORMAT_JSONL, tok, vocab, &err) == 0) {
        ok(d.n_tokens == 3 && d.ids[0] == 19556 && d.ids[1] == 905,
           "explicit jsonl format on a .u32 name");
        train_data_free(&d);
    } else {
        ok(0, "explicit format: %s", err.msg);
    }

    /* Bad JSONL lines name the file and line. */
    static const struct {
        const char *content, *want;
    } bad[] = {
        {"{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"body\":\"c\"}\n", "line 3: no field \"text\""},
        {"{\"text\":\"a\"}\n{\"text\":5}\n", "line 2: field \"text\" is not a string"},
        {"{\"text\":\"a\"}\n\n{\"text\":\"unterminated\n", "line 3: not valid JSON"},
        {"[\"text\"]\n", "line 1: not a JSON object"},
        {"{\"text\":\"ok\"}\n{\"text\":\"\\u00e9\",\"x\":}\n", "line 2: not valid JSON"},
    };
    tmp_path(path, sizeof path, "bad.jsonl");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_bytes(path, bad[i].content, strlen(bad[i].content));
        int rc = train_data_load(&d, path, DATA_FORMAT_AUTO, tok, vocab, &err);
        ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, bad[i].want),
           "bad jsonl %zu rejected with '%s'", i + 1, bad[i].want);
        if (rc < 0 && !strstr(err.msg, bad[i].want))
            diag("message: %s", err.msg);
        ok(d.ids == NULL && d.n_tokens == 0, "bad jsonl %zu leaves the data empty", i + 1);
        train_data_free(&d);
    }

    /* Invalid UTF-8 in a document is named with the line. */
    tmp_path(path, sizeof path, "bad-utf8.txt");
    write_bytes(path, "ok \xff\xfe bytes", 12);
    ok(train_data_load(&d, path, DATA_FORMAT_AUTO, tok, vocab, &err) < 0 && strstr(err.msg, path),
       "invalid UTF-8 text is rejected naming the file");
    train_data_free(&d);

    /* Ids the model cannot embed: a vocabulary smaller than the tokenizer's. */
    tmp_path(path, sizeof path, "hello.txt");
    write_bytes(path, "Hello world", 11);
    ok(train_data_load(&d, path, DATA_FORMAT_AUTO, tok, 1000, &err) < 0 &&
           strstr(err.msg, "19556") && strstr(err.msg, "1000"),
       "tokenizer ids beyond the model vocabulary are rejected");
    train_data_free(&d);

    tokenizer_free(tok);
    for (size_t i = 0; i < n_docs; i++) {
        free(docs[i].text);
        free(docs[i].ids);
    }
}

/* ---- u32 and window errors ------------------------------------------------ */

static void test_errors(void) {
    char path[256];
    lrc_error err;
    train_data d;

    tmp_path(path, sizeof path, "short.u32");
    write_identity(path, 5);
    int rc = train_data_load(&d, path, DATA_FORMAT_AUTO, NULL, 100, &err);
    ok(rc == 0, "short file loads");
    rc = train_data_set_window(&d, 8, 0, &err);
    ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "5 tokens") &&
           strstr(err.msg, "window of 9"),
       "data shorter than one window: %s", err.msg);
    ok(!strchr(err.msg, '\n'), "the message is one line");
    ok(train_data_set_window(&d, 4, 0, &err) == 0, "5 tokens hold one window of 5");
    ok(train_data_set_window(&d, 2, 1, &err) < 0 && strstr(err.msg, "probe"),
       "probe rows that leave less than a window are rejected");
    ok(train_data_set_window(&d, 0, 0, &err) < 0, "seq 0 is rejected");
    train_data_free(&d);

    /* Id 100 at token 3 with a vocabulary of 100: byte offset 12. */
    uint32_t ids[6] = {1, 2, 3, 100, 4, 5};
    tmp_path(path, sizeof path, "oov.u32");
    write_u32(path, ids, 6);
    rc = train_data_load(&d, path, DATA_FORMAT_AUTO, NULL, 100, &err);
    ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "byte offset 12") &&
           strstr(err.msg, "id 100"),
       "out-of-vocabulary id: %s", err.msg);
    ok(d.ids == NULL, "failed load leaves no ids");
    train_data_free(&d);

    /* 0xffffffff would be negative as int32; it must be rejected too. */
    ids[3] = 0xffffffffu;
    write_u32(path, ids, 6);
    ok(train_data_load(&d, path, DATA_FORMAT_AUTO, NULL, 100, &err) < 0 &&
           strstr(err.msg, "4294967295"),
       "id 0xffffffff is rejected");
    train_data_free(&d);

    tmp_path(path, sizeof path, "truncated.bin");
    unsigned char bytes[10] = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0};
    write_bytes(path, bytes, sizeof bytes);
    rc = train_data_load(&d, path, DATA_FORMAT_AUTO, NULL, 100, &err);
    ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "10 bytes"), "truncated .u32 file: %s",
       err.msg);
    train_data_free(&d);

    tmp_path(path, sizeof path, "missing.u32");
    ok(train_data_load(&d, path, DATA_FORMAT_AUTO, NULL, 100, &err) < 0 && strstr(err.msg, path),
       "missing file is named");
    train_data_free(&d);

    tmp_path(path, sizeof path, "text.txt");
    ok(train_data_load(&d, path, DATA_FORMAT_AUTO, NULL, 100, &err) < 0 &&
           strstr(err.msg, "tokenizer"),
       "text without a tokenizer is rejected");

    data_format fmt;
    ok(data_format_parse("jsonl", &fmt, &err) == 0 && fmt == DATA_FORMAT_JSONL, "parse jsonl");
    ok(data_format_parse("csv", &fmt, &err) < 0 && strstr(err.msg, "csv"), "parse rejects csv");
}

int main(void) {
    if (!mkdtemp(tmpdir))
        skip_all("cannot create a temporary folder");
    test_shuffle_off();
    test_shuffle_on();
    test_tokenised();
    test_errors();

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpdir);
    return done_testing();
}
