/*
 * Tokenizer pipeline steps on a small hand-made tokenizer.json, one step at a
 * time, for what the fixtures do not reach. The cases cover added-token
 * lstrip/rstrip and single_word, every Split behaviour and invert, Unicode
 * White_Space in \s, and Digits on non-ASCII numerals. They also cover
 * Metaspace, the normalizers, the post-processor templates and the join used
 * when there is no decoder. Each expected id list is worked out by
 * hand from the documented semantics of Hugging Face `tokenizers`, written
 * next to the case.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/tokenizer.h"
#include "tap.h"

/* Vocabulary and merges shared by every case. Merge ranks: "b"+" " first, then " "+" ",
 * " "+"a", "a"+"b", "1"+"2", "a"+"٣", "▁"+"ab". */
static const char base_model[] =
    "\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"vocab\": {"
    "\"a\": 0, \"b\": 1, \"c\": 2, \" \": 3, \"ab\": 4, \"<x>\": 5, \"[w]\": 6, \"<r>\": 7,"
    "\"[\": 8, \"w\": 9, \"]\": 10, \"b \": 11, \"  \": 12, \" a\": 13, \"\\u0085\": 14,"
    "\"<unk>\": 15, \"1\": 16, \"2\": 17, \"12\": 18, \"a\\u0663\": 19, \"\\u0663\": 20,"
    "\"\\u2581\": 21, \"\\u2581ab\": 22, \"\\u00e9\": 23, \"</s>\": 24},"
    "\"merges\": [[\"b\", \" \"], [\" \", \" \"], [\" \", \"a\"], \"a b\", \"1 2\","
    "\"a \\u0663\", \"\\u2581 ab\"]}";

static char tmp_dir[] = "/tmp/lrc-tokpipe-XXXXXX";
static int file_no;

/* Write a tokenizer.json with the given top-level members (after the model) and load it. */
static tokenizer *load_with(const char *members, const char *added) {
    char path[256];
    snprintf(path, sizeof path, "%s/case%d.json", tmp_dir, file_no++);
    FILE *f = fopen(path, "w");
    fprintf(f, "{%s, \"added_tokens\": [%s]%s%s}", base_model, added ? added : "",
            members ? ", " : "", members ? members : "");
    fclose(f);
    tokenizer *t = NULL;
    lrc_error err;
    if (tokenizer_load(&t, path, &err))
        diag("load %s: %s", path, err.msg);
    return t;
}

/* Encode text and compare with want[0..n); prints both on failure. */
static void expect_ids(const tokenizer *t, const char *text, bool special, const int32_t *want,
                       size_t n, const char *what) {
    int32_t *got = NULL;
    size_t n_got = 0;
    lrc_error err;
    int rc = t ? tokenizer_encode(t, text, strlen(text), special, &got, &n_got, &err) : -1;
    bool same = rc == 0 && n_got == n && memcmp(got, want, n * sizeof *want) == 0;
    ok(same, "%s", what);
    if (!same && rc == 0) {
        char buf[256] = "";
        size_t k = 0;
        for (size_t i = 0; i < n_got && k < sizeof buf - 12; i++)
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%d ", got[i]);
        diag("got: %s", buf);
    }
    free(got);
}

static void expect_text(const tokenizer *t, const int32_t *ids, size_t n, const char *want,
                        const char *what) {
    char *text = NULL;
    size_t len = 0;
    lrc_error err;
    int rc = t ? tokenizer_decode(t, ids, n, &text, &len, &err) : -1;
    bool same = rc == 0 && len == strlen(want) && memcmp(text, want, len) == 0;
    ok(same, "%s", what);
    if (!same && rc == 0)
        diag("got \"%s\"", text);
    free(text);
}

#define IDS(...) ((const int32_t[]){__VA_ARGS__}), sizeof((const int32_t[]){__VA_ARGS__}) / 4

static void added_token_flags(void) {
    const char *added =
        "{\"id\": 5, \"content\": \"<x>\", \"lstrip\": true, \"rstrip\": true, \"special\": true},"
        "{\"id\": 6, \"content\": \"[w]\", \"single_word\": true},"
        "{\"id\": 7, \"content\": \"<r>\"}";
    tokenizer *t = load_with(NULL, added);
    /* <x> absorbs the spaces on both sides: "ab" | " <x> " | "c". */
    expect_ids(t, "ab <x> c", false, IDS(4, 5, 2), "added token: lstrip and rstrip absorb spaces");
    /* <r> has neither flag, so the spaces stay text: "ab " merges "b"+" " first (rank 0), and
     * " c" has no merge. */
    expect_ids(t, "ab <r> c", false, IDS(0, 11, 7, 3, 2), "added token: spaces kept without strip");
    /* [w] inside a word is not matched: a, [, w, ], b. */
    expect_ids(t, "a[w]b", false, IDS(0, 8, 9, 10, 1), "added token: single_word inside a word");
    /* Between spaces it is matched, and "c " and " c" have no merges. */
    expect_ids(t, "c [w] c", false, IDS(2, 3, 6, 3, 2), "added token: single_word between spaces");
    /* Without a pre-tokenizer and decoder, decoding joins the tokens with spaces. */
    expect_text(t, IDS(4, 2), "ab c", "decode: no decoder joins tokens with spaces");
    tokenizer_free(t);
}

static void split_behaviours(void) {
    static const struct {
        const char *behavior, *text;
        bool invert;
        int32_t want[6];
        size_t n;
        const char *what;
    } cases[] = {
        /* "ab ab" split on " ": */
        {"Removed", "ab ab", false, {4, 4}, 2, "split: Removed drops the spaces"},
        {"Isolated", "ab ab", false, {4, 3, 4}, 3, "split: Isolated keeps the space alone"},
        /* "ab " merges "b"+" " before "a"+"b" (rank 0 before rank 3). */
        {"MergedWithPrevious",
         "ab ab",
         false,
         {0, 11, 4},
         3,
         "split: MergedWithPrevious glues the space to the left"},
        /* " ab" merges " "+"a" (rank 2) before "a"+"b" (rank 3). */
        {"MergedWithNext",
         "ab ab",
         false,
         {4, 13, 1},
         3,
         "split: MergedWithNext glues the space to the right"},
        /* Two adjacent spaces: one piece "  " (id 12) when Contiguous, two when Isolated. */
        {"Contiguous", "ab  ab", false, {4, 12, 4}, 3, "split: Contiguous joins adjacent matches"},
        {"Isolated", "ab  ab", false, {4, 3, 3, 4}, 4, "split: Isolated keeps adjacent matches"},
        /* invert: the spaces become the gaps, so Removed keeps only the spaces. */
        {"Removed", "ab ab", true, {3}, 1, "split: invert with Removed keeps the matches"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char members[256];
        snprintf(members, sizeof members,
                 "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, "
                 "\"behavior\": \"%s\", \"invert\": %s}",
                 cases[i].behavior, cases[i].invert ? "true" : "false");
        tokenizer *t = load_with(members, NULL);
        expect_ids(t, cases[i].text, false, cases[i].want, cases[i].n, cases[i].what);
        tokenizer_free(t);
    }

    /* \s is Unicode White_Space: U+0085 is a separator, U+FEFF is not (it becomes <unk>). */
    tokenizer *t = load_with("\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": "
                             "\"\\\\s+\"}, \"behavior\": \"Removed\", \"invert\": false}",
                             NULL);
    expect_ids(t,
               "ab\xC2\x85"
               "ab",
               false, IDS(4, 4), "regex: U+0085 matches \\s");
    expect_ids(t,
               "ab\xEF\xBB\xBF"
               "ab",
               false, IDS(4, 15, 4), "regex: U+FEFF does not match \\s");
    tokenizer_free(t);
}

static void digits(void) {
    tokenizer *t =
        load_with("\"pre_tokenizer\": {\"type\": \"Digits\", \"individual_digits\": true}", NULL);
    expect_ids(t, "a12", false, IDS(0, 16, 17), "digits: individual splits 1 and 2");
    /* U+0663 ARABIC-INDIC DIGIT THREE is numeric, so it is cut from "a" (no "a٣" merge). */
    expect_ids(t, "a\xD9\xA3", false, IDS(0, 20), "digits: Arabic-Indic digit is split");
    tokenizer_free(t);

    t = load_with("\"pre_tokenizer\": {\"type\": \"Digits\", \"individual_digits\": false}", NULL);
    expect_ids(t, "a12", false, IDS(0, 18), "digits: contiguous keeps 12 together");
    tokenizer_free(t);

    t = load_with(NULL, NULL);
    expect_ids(t, "a\xD9\xA3", false, IDS(19), "digits: without pre-tokenizer a+U+0663 merges");
    tokenizer_free(t);
}

static void metaspace(void) {
    tokenizer *t = load_with("\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": "
                             "\"\\u2581\", \"prepend_scheme\": \"always\", \"split\": true},"
                             "\"decoder\": {\"type\": \"Metaspace\", \"replacement\": \"\\u2581\","
                             " \"prepend_scheme\": \"always\", \"split\": true}",
                             NULL);
    /* "ab ab" -> "▁ab▁ab" -> "▁ab" | "▁ab", each merging to id 22. */
    expect_ids(t, "ab ab", false, IDS(22, 22), "metaspace: prepend and split");
    expect_text(t, IDS(22, 22), "ab ab", "metaspace: decoder drops the prepended space");
    tokenizer_free(t);
}

static void normalizers(void) {
    tokenizer *t = load_with("\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": ["
                             "{\"type\": \"NFC\"}, {\"type\": \"Lowercase\"},"
                             "{\"type\": \"Strip\", \"strip_left\": true, \"strip_right\": true},"
                             "{\"type\": \"Replace\", \"pattern\": {\"Regex\": \"b+\"}, "
                             "\"content\": \"b\"}]}",
                             NULL);
    /* "E" + U+0301 composes to "É", lowercases to "é" (id 23). */
    expect_ids(t, "E\xCC\x81", false, IDS(23), "normalizer: NFC then Lowercase");
    expect_ids(t, "  abbb\t", false, IDS(4), "normalizer: Strip then Replace regex");
    tokenizer_free(t);
}

static void post_processors(void) {
    tokenizer *t = load_with(
        "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": ["
        "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"</s>\", "
        "\"type_id\": 0}}], \"special_tokens\": {\"</s>\": {\"id\": \"</s>\", \"ids\": [24], "
        "\"tokens\": [\"</s>\"]}}}",
        NULL);
    expect_ids(t, "ab", true, IDS(4, 24), "template: EOS after the text");
    expect_ids(t, "ab", false, IDS(4), "template: nothing without add_special");
    tokenizer_free(t);

    t = load_with("\"post_processor\": {\"type\": \"BertProcessing\", \"cls\": [\"<x>\", 5], "
                  "\"sep\": [\"<r>\", 7]}",
                  NULL);
    expect_ids(t, "ab", true, IDS(5, 4, 7), "bert: cls and sep around the text");
    tokenizer_free(t);
}

int main(void) {
    if (!mkdtemp(tmp_dir))
        skip_all("cannot create a temporary folder");
    added_token_flags();
    split_behaviours();
    digits();
    metaspace();
    normalizers();
    post_processors();

    for (int i = 0; i < file_no; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/case%d.json", tmp_dir, i);
        unlink(path);
    }
    rmdir(tmp_dir);
    return done_testing();
}
