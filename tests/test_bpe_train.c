/*
 * The byte-level BPE trainer against a naive reference. The reference
 * recounts every pair of every word before each merge and picks the maximum
 * by the documented rule (count, then smaller left id, then smaller right id).
 * A slip in the trainer's incremental counts therefore shows up as a
 * different merge list. Then the written files: they load in our tokenizer,
 * round-trip text, keep digits single and special tokens whole, carry a
 * ChatML template, and are the same bytes when trained twice. Error cases
 * come last.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/tokenizer.h"
#include "reason/chat_template.h"
#include "tap.h"
#include "tokenizer_train/bpe_internal.h"

static const char *const chatml_specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
#define N_CHATML 3

/* ---- naive reference trainer -------------------------------------------------- */

#define REF_MAX_TOKENS 1024
#define REF_MAX_WORDS 4096
#define REF_MAX_WORD_LEN 64

typedef struct ref_trainer {
    char str[REF_MAX_TOKENS][REF_MAX_WORD_LEN * 2 + 1]; /* raw bytes of each token */
    size_t len[REF_MAX_TOKENS];
    size_t n_tokens, n_specials;
    int32_t word[REF_MAX_WORDS][REF_MAX_WORD_LEN];
    size_t word_len[REF_MAX_WORDS];
    size_t n_words;
    bpe_merge merges[REF_MAX_TOKENS];
    size_t n_merges;
} ref_trainer;

static uint64_t ref_counts[REF_MAX_TOKENS][REF_MAX_TOKENS];

/* Text of lower-case ASCII words separated by single spaces: the GPT-2
 * pre-tokenizer gives the first word alone and every later one with its space. */
static void ref_add_text(ref_trainer *r, const char *text) {
    size_t n = strlen(text);
    for (size_t start = 0; start < n;) {
        size_t end = start + 1;
        while (end < n && text[end] != ' ')
            end++;
        size_t w = r->n_words++;
        r->word_len[w] = end - start;
        for (size_t i = start; i < end; i++)
            r->word[w][i - start] = (int32_t)(r->n_specials + (unsigned char)text[i]);
        start = end;
    }
}

static void ref_init(ref_trainer *r, size_t n_specials) {
    memset(r, 0, sizeof *r);
    r->n_specials = n_specials;
    r->n_tokens = n_specials + 256;
    for (size_t b = 0; b < 256; b++) {
        r->str[n_specials + b][0] = (char)b;
        r->len[n_specials + b] = 1;
    }
}

static void ref_train(ref_trainer *r, size_t vocab_size, uint64_t min_frequency) {
    while (r->n_tokens < vocab_size) {
        for (size_t w = 0; w < r->n_words; w++)
            for (size_t i = 0; i + 1 < r->word_len[w]; i++)
                ref_counts[r->word[w][i]][r->word[w][i + 1]]++;
        uint64_t best = 0;
        int32_t ba = -1, bb = -1;
        for (size_t w = 0; w < r->n_words; w++)
            for (size_t i = 0; i + 1 < r->word_len[w]; i++) {
                int32_t a = r->word[w][i], b = r->word[w][i + 1];
                uint64_t c = ref_counts[a][b];
                if (c > best || (c == best && (a < ba || (a == ba && b < bb)))) {
                    best = c;
                    ba = a;
                    bb = b;
                }
            }
        for (size_t w = 0; w < r->n_words; w++)
            for (size_t i = 0; i + 1 < r->word_len[w]; i++)
                ref_counts[r->word[w][i]][r->word[w][i + 1]] = 0;
        if (best == 0 || best < min_frequency)
            return;

        char s[sizeof r->str[0]];
        size_t n = r->len[ba] + r->len[bb];
        memcpy(s, r->str[ba], r->len[ba]);
        memcpy(s + r->len[ba], r->str[bb], r->len[bb]);
        int32_t m = -1;
        for (size_t t = r->n_specials; t < r->n_tokens; t++)
            if (r->len[t] == n && memcmp(r->str[t], s, n) == 0)
                m = (int32_t)t;
        if (m < 0) {
            m = (int32_t)r->n_tokens++;
            memcpy(r->str[m], s, n);
            r->len[m] = n;
        }
        r->merges[r->n_merges++] = (bpe_merge){ba, bb, m};

        for (size_t w = 0; w < r->n_words; w++) {
            size_t j = 0, len = r->word_len[w];
            for (size_t i = 0; i < len;) {
                if (i + 1 < len && r->word[w][i] == ba && r->word[w][i + 1] == bb) {
                    r->word[w][j++] = m;
                    i += 2;
                } else {
                    r->word[w][j++] = r->word[w][i++];
                }
            }
            r->word_len[w] = j;
        }
    }
}

/* ---- helpers ------------------------------------------------------------------ */

static ref_trainer ref;

/* Random text of words over a small alphabet, so counts tie often and runs
 * such as "aaaa" test overlapping pairs. */
static char *random_text(unsigned seed, size_t n_words, const char *alphabet) {
    size_t k = strlen(alphabet);
    char *s = malloc(n_words * 10 + 1);
    size_t at = 0;
    srand(seed);
    for (size_t w = 0; w < n_words; w++) {
        if (w)
            s[at++] = ' ';
        size_t len = 1 + (size_t)rand() % 7;
        for (size_t i = 0; i < len; i++)
            s[at++] = alphabet[(size_t)rand() % k];
    }
    s[at] = '\0';
    return s;
}

static int same_merges(const bpe_trainer *tr, const ref_trainer *r, const char *name) {
    int same = tr->n_merges == r->n_merges;
    if (!same)
        diag("%s: %zu merges, reference %zu", name, tr->n_merges, r->n_merges);
    for (size_t i = 0; same && i < tr->n_merges; i++) {
        const bpe_merge *a = &tr->merges[i], *b = &r->merges[i];
        if (a->left != b->left || a->right != b->right || a->merged != b->merged) {
            diag("%s: merge %zu is (%d %d -> %d), reference (%d %d -> %d)", name, i, a->left,
                 a->right, a->merged, b->left, b->right, b->merged);
            same = 0;
        }
    }
    return same;
}

static bpe_trainer *trained(const char *const *texts, size_t n_texts, size_t vocab,
                            uint64_t min_frequency) {
    bpe_trainer *tr;
    lrc_error err;
    if (bpe_trainer_new(&tr, chatml_specials, N_CHATML, &err)) {
        diag("bpe_trainer_new: %s", err.msg);
        return NULL;
    }
    for (size_t i = 0; i < n_texts; i++)
        if (bpe_trainer_add_text(tr, texts[i], strlen(texts[i]), &err)) {
            diag("add_text: %s", err.msg);
            bpe_trainer_free(tr);
            return NULL;
        }
    if (bpe_trainer_train(tr, vocab, min_frequency, NULL, NULL, &err)) {
        diag("train: %s", err.msg);
        bpe_trainer_free(tr);
        return NULL;
    }
    return tr;
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    *len = fread(s, 1, (size_t)n, f);
    s[*len] = '\0';
    fclose(f);
    return s;
}

/* ---- merges against the reference ------------------------------------------------- */

static void test_reference(void) {
    const char *classic = "low low low low low lower lower newest newest newest newest newest "
                          "newest widest widest widest";
    struct {
        const char *name;
        char *text;
        size_t vocab;
        uint64_t min_frequency;
    } cases[] = {
        {"classic", (char *)classic, 259 + 20, 2},
        {"classic min 1", (char *)classic, 259 + 40, 1},
        {"random ab", random_text(1, 600, "ab"), 259 + 80, 1},
        {"random abc", random_text(2, 800, "abc"), 259 + 200, 2},
        {"random abcdef", random_text(3, 1500, "abcdef"), 259 + 300, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *texts[] = {cases[c].text};
        bpe_trainer *tr = trained(texts, 1, cases[c].vocab, cases[c].min_frequency);
        ref_init(&ref, N_CHATML);
        ref_add_text(&ref, cases[c].text);
        ref_train(&ref, cases[c].vocab, cases[c].min_frequency);
        ok(tr && same_merges(tr, &ref, cases[c].name), "merges match reference: %s (%zu merges)",
           cases[c].name, ref.n_merges);
        ok(tr && bpe_trainer_vocab_size(tr) == ref.n_tokens, "vocab size matches reference: %s",
           cases[c].name);
        bpe_trainer_free(tr);
        if (cases[c].text != classic)
            free(cases[c].text);
    }

    /* The classic corpus by hand: "e"+"s" (count 9: newest x6, widest x3) ties
     * with "s"+"t". The id of 'e' is smaller, so "es" comes first, then "est". */
    const char *texts[] = {classic};
    bpe_trainer *tr = trained(texts, 1, 259 + 2, 2);
    int32_t e = 3 + 'e', s = 3 + 's', t = 3 + 't';
    ok(tr && tr->n_merges == 2 && tr->merges[0].left == e && tr->merges[0].right == s &&
           tr->merges[1].left == 259 && tr->merges[1].right == t,
       "classic corpus merges e s then es t");
    bpe_trainer_free(tr);
}

/* Chunking a long text at safe newlines gives the words of the whole text. */
static void test_chunking(void) {
    size_t n_lines = 40000;
    char *big = malloc(n_lines * 64);
    size_t *ends = malloc(n_lines * sizeof *ends), at = 0;
    for (size_t i = 0; i < n_lines; i++) {
        at += (size_t)sprintf(big + at, "line %zu: x%zu = %zu;  \t\nnext\n", i, i % 97, i * 7);
        ends[i] = at;
    }
    big[at] = '\0';
    const char *whole[] = {big};
    bpe_trainer *a = trained(whole, 1, 600, 2);

    /* The same text cut into documents after every "next\n", where a printable
     * character is on both sides of the newline. The pre-tokenizer never joins
     * text across such a newline. */
    bpe_trainer *b;
    lrc_error err;
    int rc = bpe_trainer_new(&b, chatml_specials, N_CHATML, &err);
    for (size_t i = 0; !rc && i < n_lines; i++) {
        size_t start = i ? ends[i - 1] : 0;
        rc = bpe_trainer_add_text(b, big + start, ends[i] - start, &err);
    }
    rc = rc || bpe_trainer_train(b, 600, 2, NULL, NULL, &err);
    ok(a && !rc && bpe_trainer_word_count(a) == bpe_trainer_word_count(b),
       "chunked text counts the same words (%zu bytes)", at);
    ok(a && !rc && a->n_merges == b->n_merges &&
           memcmp(a->merges, b->merges, a->n_merges * sizeof *a->merges) == 0,
       "chunked text learns the same merges");
    bpe_trainer_free(a);
    bpe_trainer_free(b);
    free(ends);
    free(big);
}

/* ---- written files ------------------------------------------------------------------ */

static const char *const samples[] = {
    "<|im_start|>user\nTom has 12 apples and buys 345 more. How many?<|im_end|>\n"
    "<|im_start|>assistant\n12 + 345 = 357. The answer is 357.<|im_end|>\n",
    "Digits 0123456789, 2024-12-04 and 3.14159 stay single.",
    "Unicode: café, naïve, Ελληνικά, 日本語, emoji 🙂, ½ and ٣.",
    "  leading spaces, two  spaces,\ttabs\t\tand\n\nnewlines\r\n  \n",
    "<|im_start|>system\nBe brief.<|im_end|><|im_start|><|im_end|>trailing",
    "x",
    "",
};
#define N_SAMPLES (sizeof samples / sizeof samples[0])

static void test_files(const char *dir) {
    char path[512], cfg[512];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    snprintf(cfg, sizeof cfg, "%s/tokenizer_config.json", dir);

    /* Train on the samples, many times over so their pairs merge. */
    const char *texts[N_SAMPLES * 20];
    for (size_t i = 0; i < N_SAMPLES * 20; i++)
        texts[i] = samples[i % N_SAMPLES];
    bpe_trainer *tr = trained(texts, N_SAMPLES * 20, 420, 2);
    lrc_error err;
    int rc = tr ? bpe_trainer_write(tr, path, 512, &err) : -1;
    if (rc && tr)
        diag("write: %s", err.msg);
    ok(rc == 0, "tokenizer written");
    size_t vocab = tr ? bpe_trainer_vocab_size(tr) : 0;
    bpe_trainer_free(tr);

    tokenizer *tok = NULL;
    if (tokenizer_load(&tok, path, &err)) {
        ok(0, "tokenizer loads: %s", err.msg);
        return;
    }
    ok(tokenizer_vocab_size(tok) == (int)vocab, "loaded vocab size %d equals trained %zu",
       tokenizer_vocab_size(tok), vocab);
    ok(tokenizer_token_id(tok, "<|endoftext|>") == 0 &&
           tokenizer_token_id(tok, "<|im_start|>") == 1 &&
           tokenizer_token_id(tok, "<|im_end|>") == 2,
       "special tokens have ids 0, 1, 2");
    ok(tokenizer_eos_id(tok) == 2, "eos is <|im_end|>");
    ok(tokenizer_token_id(tok, "a") == 3 + 'a' && tokenizer_token_id(tok, "\xc4\xa0") == 3 + ' ',
       "byte tokens follow the specials in byte order");

    /* Check decode(encode(x)) == x. */
    for (size_t i = 0; i < N_SAMPLES; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        char *text = NULL;
        size_t len = 0;
        int r = tokenizer_encode(tok, samples[i], strlen(samples[i]), true, &ids, &n, &err) ||
                tokenizer_decode(tok, ids, n, &text, &len, &err);
        ok(!r && len == strlen(samples[i]) && memcmp(text, samples[i], len) == 0,
           "round trip sample %zu (%zu tokens)", i, n);
        free(ids);
        free(text);
    }

    /* Every digit is its own token, and special tokens are never inside a merge. */
    int32_t *ids = NULL;
    size_t n = 0;
    const char *digits = "12345 and 67";
    rc = tokenizer_encode(tok, digits, strlen(digits), false, &ids, &n, &err);
    int single = !rc;
    for (size_t i = 0; single && i < n; i++) {
        const char *piece = tokenizer_piece(tok, ids[i]);
        size_t k = piece ? strlen(piece) : 0;
        int has_digit = piece && strpbrk(piece, "0123456789") != NULL;
        if (has_digit && k != 1)
            single = 0;
    }
    ok(single && n >= 7, "digits encode as single tokens (%zu tokens)", n);
    free(ids);

    int whole = 1;
    for (int id = N_CHATML; id < tokenizer_vocab_size(tok); id++) {
        const char *piece = tokenizer_piece(tok, id);
        if (piece &&
            (strstr(piece, "im_start") || strstr(piece, "im_end") || strstr(piece, "endoftext")))
            whole = 0;
    }
    ok(whole, "no merged token contains a special token's name");
    const char *two = "<|im_start|><|im_end|>";
    rc = tokenizer_encode(tok, two, strlen(two), false, &ids, &n, &err);
    ok(!rc && n == 2 && ids[0] == 1 && ids[1] == 2, "special tokens encode to their ids");
    free(ids);
    tokenizer_free(tok);

    /* The chat template is ChatML with no default system message. */
    chat_template ct;
    int loaded = chat_template_load(dir, &ct, &err) == 0;
    ok(loaded && ct.family == CHAT_CHATML, "chat template recognised as ChatML");
    ok(loaded && ct.default_system == NULL, "chat template has no default system message");
    ok(loaded && strcmp(ct.eos, "<|im_end|>") == 0, "chat template eos is <|im_end|>");
    char *prompt = NULL;
    rc = !loaded || chat_template_render(&ct, NULL, "Hi", &prompt, NULL, &err);
    ok(!rc && prompt &&
           strcmp(prompt, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n") == 0,
       "chat template renders a ChatML prompt");
    free(prompt);
    if (loaded)
        chat_template_free(&ct);

    /* Determinism: the same input gives the same bytes. */
    size_t la, lb, lc;
    char *a = read_all(path, &la), *c1 = read_all(cfg, &lc);
    tr = trained(texts, N_SAMPLES * 20, 420, 2);
    rc = tr ? bpe_trainer_write(tr, path, 512, &err) : -1;
    bpe_trainer_free(tr);
    char *b = read_all(path, &lb);
    ok(!rc && a && b && la == lb && memcmp(a, b, la) == 0, "training twice gives identical files");
    free(a);
    free(b);
    free(c1);
    unlink(path);
    unlink(cfg);
}

/* ---- errors ----------------------------------------------------------------------- */

static void test_errors(const char *dir) {
    bpe_trainer *tr = NULL;
    lrc_error err;
    ok(bpe_trainer_new(&tr, chatml_specials, N_CHATML, &err) == 0, "trainer created");
    ok(bpe_trainer_check_size(tr, 258, &err) == -1 && strstr(err.msg, "at least 259"),
       "vocab 258 rejected: %s", err.msg);
    ok(bpe_trainer_train(tr, 100, 2, NULL, NULL, &err) == -1, "training with vocab 100 fails");
    ok(bpe_trainer_add_text(tr, "ok \xff bad", 8, &err) == -1 && strstr(err.msg, "offset 3"),
       "invalid UTF-8 rejected with its offset: %s", err.msg);

    /* A folder that does not exist: no file is created anywhere. */
    char path[512];
    snprintf(path, sizeof path, "%s/missing/tokenizer.json", dir);
    ok(bpe_trainer_write(tr, path, 512, &err) == -1 && strstr(err.msg, "missing"),
       "write into a missing folder fails: %s", err.msg);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    ok(bpe_trainer_write(tr, path, 512, &err) == -1, "writing as tokenizer_config.json rejected");
    struct stat sb;
    ok(stat(path, &sb) != 0, "no file left behind");
    bpe_trainer_free(tr);

    const char *dup[] = {"<a>", "<b>", "<a>"};
    ok(bpe_trainer_new(&tr, dup, 3, &err) == -1 && strstr(err.msg, "twice"),
       "duplicate special token rejected: %s", err.msg);
    const char *byte[] = {"<x>", "a"};
    ok(bpe_trainer_new(&tr, byte, 2, &err) == -1 && strstr(err.msg, "byte-level"),
       "special token equal to a byte piece rejected: %s", err.msg);
    const char *empty[] = {""};
    ok(bpe_trainer_new(&tr, empty, 1, &err) == -1, "empty special token rejected");
}

int main(void) {
    char dir[] = "/tmp/lrc-bpe-train-XXXXXX";
    if (!mkdtemp(dir))
        skip_all("cannot create a temporary folder");

    test_reference();
    test_chunking();
    test_files(dir);
    test_errors(dir);

    rmdir(dir);
    return done_testing();
}
