/*
 * Byte-level BPE training: word counting, then merging with incremental pair
 * counts (see bpe_train.h for the ids and the tie rule).
 *
 * Counting. A text is cut at every occurrence of a special token, taking the
 * longest special token at each offset as the encoder does with added tokens.
 * Each piece between them goes through the library's own pre-tokenizer steps,
 * so the words counted here are the pieces the encoder later hands to BPE. Long
 * pieces are cut into chunks of about CHUNK_BYTES at a newline that has a
 * printable ASCII character on both sides; the Digits and GPT-2 regex splits
 * never join text across such a newline, so chunking does not change the words.
 *
 * Merging. Each distinct word becomes an array of symbol ids with a count.
 * Every adjacent pair has a count (the sum over words of occurrences times
 * word count) and a list of the words it was seen in. A max-heap orders pairs
 * by (count desc, left asc, right asc); it is lazy: an entry whose count is no
 * longer the pair's count is re-pushed with the current count or dropped. A
 * merge rewrites only the words in the pair's list, taking the old pairs of
 * each word off the counts and adding the new ones. A pair that does not
 * contain the new token can only lose occurrences, and every pair that gains
 * is pushed again, so the heap always has an entry at or above each pair's
 * count and the popped valid entry is the true maximum.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_train/bpe_internal.h"

#define CHUNK_BYTES ((size_t)1 << 20)

static int oom(lrc_error *err) {
    return lrc_errorf(err, "tokenizer train: out of memory");
}

/* Reallocate data (items of elem bytes) to twice *cap items, or first items
 * when *cap is 0, and update *cap. Returns NULL, data untouched, when out of
 * memory. */
static void *grow(void *data, size_t *cap, size_t elem, size_t first) {
    size_t n = *cap ? 2 * *cap : first;
    void *v = realloc(data, n * elem);
    if (v)
        *cap = n;
    return v;
}

/* Allocate the empty (-1) slot array of a hash table for n entries: cur
 * doubled (first when cur is 0) until it is at least 2 n, with its size in
 * *slots. Returns NULL when out of memory. */
static int32_t *empty_slots(size_t cur, size_t first, size_t n, size_t *slots) {
    size_t k = cur ? 2 * cur : first;
    while (2 * n > k)
        k *= 2;
    int32_t *s = malloc(k * sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < k; i++)
        s[i] = -1;
    *slots = k;
    return s;
}

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* ---- token table ----------------------------------------------------------- */

static int32_t token_find(const bpe_trainer *tr, const char *s, size_t n) {
    if (tr->n_token_slots == 0)
        return -1;
    size_t mask = tr->n_token_slots - 1;
    for (size_t i = fnv1a(s, n) & mask;; i = (i + 1) & mask) {
        int32_t id = tr->token_slot[i];
        if (id < 0)
            return -1;
        const bpe_token *t = &tr->tokens[id];
        if (t->len == n && memcmp(tr->text.data + t->off, s, n) == 0)
            return id;
    }
}

static void token_index(bpe_trainer *tr, int32_t id) {
    size_t mask = tr->n_token_slots - 1;
    const bpe_token *t = &tr->tokens[id];
    size_t i = fnv1a(tr->text.data + t->off, t->len) & mask;
    while (tr->token_slot[i] >= 0)
        i = (i + 1) & mask;
    tr->token_slot[i] = id;
}

/* Keep the token hash table at most half full. */
static int token_table_fit(bpe_trainer *tr, size_t n) {
    if (2 * n <= tr->n_token_slots)
        return 0;
    size_t slots;
    int32_t *s = empty_slots(tr->n_token_slots, 1024, n, &slots);
    if (!s)
        return -1;
    free(tr->token_slot);
    tr->token_slot = s;
    tr->n_token_slots = slots;
    for (size_t id = 0; id < tr->n_tokens; id++)
        token_index(tr, (int32_t)id);
    return 0;
}

/* Append a token whose string is the given bytes; returns its id or -1. */
static int32_t token_add(bpe_trainer *tr, const char *s, size_t n, size_t raw_len, int32_t left,
                         int32_t right) {
    if (tr->n_tokens == tr->cap_tokens) {
        bpe_token *t = grow(tr->tokens, &tr->cap_tokens, sizeof *t, 512);
        if (!t)
            return -1;
        tr->tokens = t;
    }
    if (token_table_fit(tr, tr->n_tokens + 1))
        return -1;
    size_t off = tr->text.len;
    if (tok_buf_append(&tr->text, s, n))
        return -1;
    int32_t id = (int32_t)tr->n_tokens++;
    tr->tokens[id] = (bpe_token){off, n, raw_len, left, right};
    token_index(tr, id);
    return id;
}

/* ---- set-up ----------------------------------------------------------------- */

static bool valid_utf8(const char *s, size_t n, size_t *bad) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = tok_utf8_decode(s + i, n - i, &cp);
        if (!k) {
            *bad = i;
            return false;
        }
        i += k;
    }
    return true;
}

int bpe_trainer_new(bpe_trainer **out, const char *const *specials, size_t n_specials,
                    lrc_error *err) {
    *out = NULL;
    bpe_trainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return oom(err);

    /* Specials first, then the 256 bytes. A clash between them is a usage error. */
    for (size_t i = 0; i < n_specials; i++) {
        size_t n = strlen(specials[i]), bad;
        if (n == 0) {
            bpe_trainer_free(tr);
            return lrc_errorf(err, "special token %zu is empty; give non-empty names", i + 1);
        }
        if (!valid_utf8(specials[i], n, &bad)) {
            bpe_trainer_free(tr);
            return lrc_errorf(err, "special token %zu is not valid UTF-8 at byte %zu", i + 1, bad);
        }
        if (token_find(tr, specials[i], n) >= 0) {
            bpe_trainer_free(tr);
            return lrc_errorf(err, "special token '%s' is given twice; list each once",
                              specials[i]);
        }
        if (token_add(tr, specials[i], n, n, -1, -1) < 0) {
            bpe_trainer_free(tr);
            return oom(err);
        }
        tr->special_first_byte[(unsigned char)specials[i][0]] = true;
    }
    tr->n_specials = n_specials;
    for (int b = 0; b < 256; b++) {
        char c[2];
        size_t k = tok_bytelevel_char((uint8_t)b, c);
        int32_t clash = token_find(tr, c, k);
        if (clash >= 0) {
            lrc_errorf(err,
                       "special token '%.*s' is the byte-level piece of byte 0x%02X; choose a "
                       "name of two or more characters",
                       (int)tr->tokens[clash].len, tr->text.data + tr->tokens[clash].off, b);
            bpe_trainer_free(tr);
            return -1;
        }
        if (token_add(tr, c, k, 1, -1, -1) < 0) {
            bpe_trainer_free(tr);
            return oom(err);
        }
    }

    /* The pre-tokenizer that bpe_write.c writes into tokenizer.json. */
    tr->gpt2_re = tok_regex_compile(tok_gpt2_pattern, strlen(tok_gpt2_pattern), err);
    if (!tr->gpt2_re) {
        bpe_trainer_free(tr);
        return -1;
    }
    tr->pre_steps[0] = (tok_step){.kind = TOK_PRE_DIGITS, .individual_digits = true};
    tr->pre_steps[1] =
        (tok_step){.kind = TOK_PRE_BYTELEVEL, .add_prefix_space = false, .use_regex = true};
    tr->pre_seq = (tok_step){.kind = TOK_PRE_SEQUENCE, .sub = tr->pre_steps, .n_sub = 2};

    *out = tr;
    return 0;
}

void bpe_trainer_free(bpe_trainer *tr) {
    if (!tr)
        return;
    free(tr->tokens);
    tok_buf_free(&tr->text);
    free(tr->token_slot);
    free(tr->words);
    free(tr->word_slot);
    free(tr->merges);
    tok_regex_free(tr->gpt2_re);
    free(tr);
}

/* ---- word counting ---------------------------------------------------------- */

static int word_table_fit(bpe_trainer *tr, size_t n) {
    if (2 * n <= tr->n_word_slots)
        return 0;
    size_t slots;
    int32_t *s = empty_slots(tr->n_word_slots, 4096, n, &slots);
    if (!s)
        return -1;
    size_t mask = slots - 1;
    for (size_t w = 0; w < tr->n_words; w++) {
        size_t i = tr->words[w].hash & mask;
        while (s[i] >= 0)
            i = (i + 1) & mask;
        s[i] = (int32_t)w;
    }
    free(tr->word_slot);
    tr->word_slot = s;
    tr->n_word_slots = slots;
    return 0;
}

/* Count one occurrence of the word s[0..n). */
static int word_count(bpe_trainer *tr, const char *s, size_t n) {
    uint64_t h = fnv1a(s, n);
    if (tr->n_word_slots) {
        size_t mask = tr->n_word_slots - 1;
        for (size_t i = h & mask; tr->word_slot[i] >= 0; i = (i + 1) & mask) {
            bpe_word *w = &tr->words[tr->word_slot[i]];
            if (w->hash == h && w->len == n && memcmp(tr->text.data + w->off, s, n) == 0) {
                w->count++;
                tr->total_words++;
                return 0;
            }
        }
    }

    if (tr->n_words >= INT32_MAX - 1)
        return -1;
    if (tr->n_words == tr->cap_words) {
        bpe_word *w = grow(tr->words, &tr->cap_words, sizeof *w, 4096);
        if (!w)
            return -1;
        tr->words = w;
    }
    if (word_table_fit(tr, tr->n_words + 1))
        return -1;
    size_t off = tr->text.len;
    if (tok_buf_append(&tr->text, s, n))
        return -1;
    size_t w = tr->n_words++;
    tr->words[w] = (bpe_word){off, n, 1, h};
    size_t mask = tr->n_word_slots - 1, i = h & mask;
    while (tr->word_slot[i] >= 0)
        i = (i + 1) & mask;
    tr->word_slot[i] = (int32_t)w;
    tr->total_words++;
    return 0;
}

/* Pre-tokenize one chunk of text and count its words. */
static int count_chunk(bpe_trainer *tr, const char *s, size_t n, lrc_error *err) {
    if (n == 0)
        return 0;
    tok_pieces p = {0};
    if (tok_pieces_add(&p, s, n)) {
        tok_pieces_free(&p);
        return oom(err);
    }
    if (tok_pre_tokenize(&tr->pre_seq, tr->gpt2_re, &p, true, err)) {
        tok_pieces_free(&p);
        return -1;
    }
    for (size_t i = 0; i < p.n; i++) {
        if (p.len[i] && word_count(tr, TOK_PIECE(&p, i), p.len[i])) {
            tok_pieces_free(&p);
            return oom(err);
        }
    }
    tok_pieces_free(&p);
    return 0;
}

static bool printable_ascii(char c) {
    return c > ' ' && c < 0x7F;
}

/* Count the words of the text between two special tokens, chunk by chunk. */
static int count_segment(bpe_trainer *tr, const char *s, size_t n, lrc_error *err) {
    while (n > CHUNK_BYTES) {
        size_t cut = 0;
        for (size_t i = CHUNK_BYTES; i + 1 < n; i++)
            if (s[i] == '\n' && printable_ascii(s[i - 1]) && printable_ascii(s[i + 1])) {
                cut = i + 1;
                break;
            }
        if (!cut)
            break;
        if (count_chunk(tr, s, cut, err))
            return -1;
        s += cut;
        n -= cut;
    }
    return count_chunk(tr, s, n, err);
}

/* Length of the longest special token at the start of s, or 0. */
static size_t special_at(const bpe_trainer *tr, const char *s, size_t n) {
    size_t best = 0;
    for (size_t i = 0; i < tr->n_specials; i++) {
        const bpe_token *t = &tr->tokens[i];
        if (t->len > best && t->len <= n && memcmp(s, tr->text.data + t->off, t->len) == 0)
            best = t->len;
    }
    return best;
}

int bpe_trainer_add_text(bpe_trainer *tr, const char *text, size_t len, lrc_error *err) {
    size_t bad;
    if (!valid_utf8(text, len, &bad))
        return lrc_errorf(err, "invalid UTF-8 at byte offset %zu; convert the text to UTF-8", bad);
    if (tr->trained)
        return lrc_errorf(err, "tokenizer train: text added after training");

    size_t start = 0, i = 0;
    while (i < len) {
        size_t k =
            tr->special_first_byte[(unsigned char)text[i]] ? special_at(tr, text + i, len - i) : 0;
        if (!k) {
            i++;
            continue;
        }
        if (count_segment(tr, text + start, i - start, err))
            return -1;
        i += k;
        start = i;
    }
    return count_segment(tr, text + start, len - start, err);
}

uint64_t bpe_trainer_word_count(const bpe_trainer *tr) {
    return tr->total_words;
}

size_t bpe_trainer_unique_words(const bpe_trainer *tr) {
    return tr->n_words;
}

size_t bpe_trainer_vocab_size(const bpe_trainer *tr) {
    return tr->n_tokens;
}

size_t bpe_trainer_merge_count(const bpe_trainer *tr) {
    return tr->n_merges;
}

/* ---- merging -------------------------------------------------------------------- */

typedef struct pair_entry {
    int32_t a, b;
    int64_t count;
    int32_t *words; /* [n_words] words the pair was added in; may repeat or be stale */
    size_t n_words, cap_words;
    size_t stamp; /* merge step that last put the pair on the touched list */
    bool blocked; /* never merge: too long, or its string is a special token */
} pair_entry;

typedef struct heap_entry {
    int64_t count;
    int32_t a, b;
} heap_entry;

typedef struct merge_state {
    int32_t *sym;       /* symbols of every word, back to back */
    size_t *word_off;   /* [n_words] first symbol of the word */
    uint32_t *word_len; /* [n_words] symbols in the word now */

    pair_entry *pairs;
    size_t n_pairs, cap_pairs;
    int32_t *slot; /* hash table of pair indices; -1 empty */
    size_t n_slots;

    heap_entry *heap;
    size_t n_heap, cap_heap;

    int32_t *touched; /* pairs whose count rose in this step */
    size_t n_touched, cap_touched;
    size_t step;

    bool *occ, *fresh; /* [longest word] scratch flags for one word */
} merge_state;

static size_t pair_hash(int32_t a, int32_t b, size_t mask) {
    uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    k *= 0x9E3779B97F4A7C15ull;
    return (size_t)(k >> 29) & mask;
}

static long pair_find(const merge_state *ms, int32_t a, int32_t b) {
    size_t mask = ms->n_slots - 1;
    for (size_t i = pair_hash(a, b, mask);; i = (i + 1) & mask) {
        int32_t p = ms->slot[i];
        if (p < 0)
            return -1;
        if (ms->pairs[p].a == a && ms->pairs[p].b == b)
            return p;
    }
}

static int pair_table_fit(merge_state *ms, size_t n) {
    if (2 * n <= ms->n_slots)
        return 0;
    size_t slots;
    int32_t *s = empty_slots(ms->n_slots, 65536, n, &slots);
    if (!s)
        return -1;
    for (size_t p = 0; p < ms->n_pairs; p++) {
        size_t i = pair_hash(ms->pairs[p].a, ms->pairs[p].b, slots - 1);
        while (s[i] >= 0)
            i = (i + 1) & (slots - 1);
        s[i] = (int32_t)p;
    }
    free(ms->slot);
    ms->slot = s;
    ms->n_slots = slots;
    return 0;
}

/* Index of pair (a, b), created with count 0 when absent; -1 when out of memory. */
static long pair_get(merge_state *ms, int32_t a, int32_t b) {
    long p = ms->n_slots ? pair_find(ms, a, b) : -1;
    if (p >= 0)
        return p;
    if (ms->n_pairs >= INT32_MAX - 1 || pair_table_fit(ms, ms->n_pairs + 1))
        return -1;
    if (ms->n_pairs == ms->cap_pairs) {
        pair_entry *v = grow(ms->pairs, &ms->cap_pairs, sizeof *v, 65536);
        if (!v)
            return -1;
        ms->pairs = v;
    }
    p = (long)ms->n_pairs++;
    ms->pairs[p] = (pair_entry){.a = a, .b = b, .stamp = (size_t)-1};
    size_t mask = ms->n_slots - 1, i = pair_hash(a, b, mask);
    while (ms->slot[i] >= 0)
        i = (i + 1) & mask;
    ms->slot[i] = (int32_t)p;
    return p;
}

/* Add delta to the count of (a, b). A rise records word w in the pair's list
 * and puts the pair on the touched list of this step. */
static int pair_add(merge_state *ms, int32_t a, int32_t b, int64_t delta, int32_t w) {
    long p = pair_get(ms, a, b);
    if (p < 0)
        return -1;
    pair_entry *e = &ms->pairs[p];
    e->count += delta;
    if (delta <= 0)
        return 0;

    if (!e->n_words || e->words[e->n_words - 1] != w) {
        if (e->n_words == e->cap_words) {
            int32_t *v = grow(e->words, &e->cap_words, sizeof *v, 4);
            if (!v)
                return -1;
            e->words = v;
        }
        e->words[e->n_words++] = w;
    }
    if (e->stamp != ms->step) {
        if (ms->n_touched == ms->cap_touched) {
            int32_t *v = grow(ms->touched, &ms->cap_touched, sizeof *v, 1024);
            if (!v)
                return -1;
            ms->touched = v;
        }
        e->stamp = ms->step;
        ms->touched[ms->n_touched++] = (int32_t)p;
    }
    return 0;
}

/* True when x should merge before y. */
static bool heap_before(const heap_entry *x, const heap_entry *y) {
    if (x->count != y->count)
        return x->count > y->count;
    if (x->a != y->a)
        return x->a < y->a;
    return x->b < y->b;
}

static void heap_sift_down(heap_entry *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < n && heap_before(&h[l], &h[best]))
            best = l;
        if (r < n && heap_before(&h[r], &h[best]))
            best = r;
        if (best == i)
            return;
        heap_entry t = h[i];
        h[i] = h[best];
        h[best] = t;
        i = best;
    }
}

static int heap_push(merge_state *ms, heap_entry e) {
    if (ms->n_heap == ms->cap_heap) {
        heap_entry *v = grow(ms->heap, &ms->cap_heap, sizeof *v, 65536);
        if (!v)
            return -1;
        ms->heap = v;
    }
    size_t i = ms->n_heap++;
    ms->heap[i] = e;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_before(&ms->heap[i], &ms->heap[parent]))
            break;
        heap_entry t = ms->heap[i];
        ms->heap[i] = ms->heap[parent];
        ms->heap[parent] = t;
        i = parent;
    }
    return 0;
}

static heap_entry heap_pop(merge_state *ms) {
    heap_entry top = ms->heap[0];
    ms->heap[0] = ms->heap[--ms->n_heap];
    heap_sift_down(ms->heap, ms->n_heap, 0);
    return top;
}

static void merge_state_free(merge_state *ms) {
    free(ms->sym);
    free(ms->word_off);
    free(ms->word_len);
    for (size_t p = 0; p < ms->n_pairs; p++)
        free(ms->pairs[p].words);
    free(ms->pairs);
    free(ms->slot);
    free(ms->heap);
    free(ms->touched);
    free(ms->occ);
    free(ms->fresh);
}

/* Split every word into byte symbols and count the initial pairs. */
static int merge_state_init(merge_state *ms, const bpe_trainer *tr) {
    size_t total = 0, max_len = 2;
    for (size_t w = 0; w < tr->n_words; w++)
        total += tr->words[w].len;
    ms->sym = malloc((total ? total : 1) * sizeof *ms->sym);
    ms->word_off = malloc((tr->n_words ? tr->n_words : 1) * sizeof *ms->word_off);
    ms->word_len = malloc((tr->n_words ? tr->n_words : 1) * sizeof *ms->word_len);
    if (!ms->sym || !ms->word_off || !ms->word_len)
        return -1;

    size_t at = 0;
    for (size_t w = 0; w < tr->n_words; w++) {
        const char *s = tr->text.data + tr->words[w].off;
        size_t n = tr->words[w].len, start = at;
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            size_t k = tok_utf8_decode(s + i, n - i, &cp);
            int byte = k ? tok_bytelevel_byte(cp) : -1;
            if (byte < 0) /* the pre-tokenizer only writes byte-level characters */
                return -1;
            ms->sym[at++] = (int32_t)(tr->n_specials + (size_t)byte);
            i += k;
        }
        ms->word_off[w] = start;
        ms->word_len[w] = (uint32_t)(at - start);
        if (at - start > max_len)
            max_len = at - start;
    }
    ms->occ = malloc(max_len * sizeof *ms->occ);
    ms->fresh = malloc(max_len * sizeof *ms->fresh);
    if (!ms->occ || !ms->fresh)
        return -1;

    ms->step = 0;
    for (size_t w = 0; w < tr->n_words; w++) {
        const int32_t *s = ms->sym + ms->word_off[w];
        for (size_t i = 0; i + 1 < ms->word_len[w]; i++)
            if (pair_add(ms, s[i], s[i + 1], (int64_t)tr->words[w].count, (int32_t)w))
                return -1;
    }
    for (size_t p = 0; p < ms->n_pairs; p++)
        if (heap_push(ms, (heap_entry){ms->pairs[p].count, ms->pairs[p].a, ms->pairs[p].b}))
            return -1;
    ms->n_touched = 0;
    return 0;
}

/* Replace every occurrence of (a, b) in word w by m, moving the counts of the
 * pairs around each occurrence from the old neighbours to the new token. */
static int merge_word(merge_state *ms, const bpe_trainer *tr, int32_t w, int32_t a, int32_t b,
                      int32_t m) {
    int32_t *s = ms->sym + ms->word_off[w];
    size_t n = ms->word_len[w];
    int64_t c = (int64_t)tr->words[w].count;

    bool any = false;
    for (size_t i = 0; i < n; i++)
        ms->occ[i] = false;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == a && s[i + 1] == b) {
            ms->occ[i] = ms->occ[i + 1] = true;
            any = true;
            i++;
        }
    if (!any)
        return 0;

    for (size_t i = 0; i + 1 < n; i++)
        if ((ms->occ[i] || ms->occ[i + 1]) && pair_add(ms, s[i], s[i + 1], -c, w))
            return -1;

    size_t j = 0;
    for (size_t i = 0; i < n;) {
        if (i + 1 < n && ms->occ[i] && s[i] == a && s[i + 1] == b && ms->occ[i + 1]) {
            ms->fresh[j] = true;
            s[j++] = m;
            i += 2;
        } else {
            ms->fresh[j] = false;
            s[j++] = s[i++];
        }
    }
    ms->word_len[w] = (uint32_t)j;

    for (size_t i = 0; i + 1 < j; i++)
        if ((ms->fresh[i] || ms->fresh[i + 1]) && pair_add(ms, s[i], s[i + 1], c, w))
            return -1;
    return 0;
}

/* Id of the token a + b: an existing token's, a new one's, or -1 when the
 * pair must not merge (too long, or the string of a special token). -2 when
 * out of memory. */
static int32_t merged_token(bpe_trainer *tr, int32_t a, int32_t b, tok_buf *scratch) {
    const bpe_token *ta = &tr->tokens[a], *tb = &tr->tokens[b];
    size_t raw_len = ta->raw_len + tb->raw_len;
    if (raw_len > BPE_MAX_TOKEN_BYTES)
        return -1;
    scratch->len = 0;
    if (tok_buf_append(scratch, tr->text.data + ta->off, ta->len) ||
        tok_buf_append(scratch, tr->text.data + tb->off, tb->len))
        return -2;
    int32_t id = token_find(tr, scratch->data, scratch->len);
    if (id >= 0)
        return (size_t)id < tr->n_specials ? -1 : id;
    id = token_add(tr, scratch->data, scratch->len, raw_len, a, b);
    return id < 0 ? -2 : id;
}

static int record_merge(bpe_trainer *tr, size_t *cap, int32_t a, int32_t b, int32_t m) {
    if (tr->n_merges == *cap) {
        bpe_merge *v = grow(tr->merges, cap, sizeof *v, 1024);
        if (!v)
            return -1;
        tr->merges = v;
    }
    tr->merges[tr->n_merges++] = (bpe_merge){a, b, m};
    return 0;
}

int bpe_trainer_check_size(const bpe_trainer *tr, size_t vocab_size, lrc_error *err) {
    size_t base = tr->n_specials + 256;
    if (vocab_size < base)
        return lrc_errorf(err,
                          "vocabulary size %zu is too small: it must hold the %zu special "
                          "tokens and the 256 byte tokens, so give at least %zu",
                          vocab_size, tr->n_specials, base);
    if (vocab_size > BPE_MAX_VOCAB)
        return lrc_errorf(err, "vocabulary size %zu is too large; the maximum is %d", vocab_size,
                          BPE_MAX_VOCAB);
    return 0;
}

int bpe_trainer_train(bpe_trainer *tr, size_t vocab_size, uint64_t min_frequency,
                      bpe_progress_fn progress, void *user, lrc_error *err) {
    if (bpe_trainer_check_size(tr, vocab_size, err))
        return -1;
    if (tr->trained)
        return lrc_errorf(err, "tokenizer train: the trainer has already been trained");
    if (min_frequency < 1)
        min_frequency = 1;

    merge_state ms = {0};
    size_t cap_merges = 0;
    tok_buf scratch = {0};
    int status = 0;
    tr->trained = true;
    if (merge_state_init(&ms, tr)) {
        merge_state_free(&ms);
        return oom(err);
    }

    size_t total = vocab_size - tr->n_tokens;
    while (tr->n_tokens < vocab_size && ms.n_heap > 0) {
        heap_entry top = heap_pop(&ms);
        long p = pair_find(&ms, top.a, top.b);
        pair_entry *e = &ms.pairs[p];
        if (e->blocked)
            continue;
        if (e->count != top.count) {
            /* A stale entry: re-push the current count when it fell. */
            if (e->count > 0 && top.count > e->count &&
                heap_push(&ms, (heap_entry){e->count, top.a, top.b})) {
                status = oom(err);
                break;
            }
            continue;
        }
        if ((uint64_t)top.count < min_frequency)
            break;

        int32_t m = merged_token(tr, top.a, top.b, &scratch);
        if (m == -2) {
            status = oom(err);
            break;
        }
        if (m == -1) {
            ms.pairs[p].blocked = true;
            continue;
        }
        if (record_merge(tr, &cap_merges, top.a, top.b, m)) {
            status = oom(err);
            break;
        }

        /* Rewrite the words of the pair. Its own list never grows while it
         * merges (no occurrence of (a, b) is left), so the pointer stays valid. */
        ms.step++;
        ms.n_touched = 0;
        int32_t *list = ms.pairs[p].words;
        size_t n_list = ms.pairs[p].n_words;
        for (size_t i = 0; i < n_list && !status; i++)
            if (merge_word(&ms, tr, list[i], top.a, top.b, m))
                status = oom(err);
        free(list);
        ms.pairs[p].words = NULL;
        ms.pairs[p].n_words = ms.pairs[p].cap_words = 0;
        for (size_t i = 0; i < ms.n_touched && !status; i++) {
            const pair_entry *t = &ms.pairs[ms.touched[i]];
            if (t->count > 0 && heap_push(&ms, (heap_entry){t->count, t->a, t->b}))
                status = oom(err);
        }
        if (status)
            break;
        if (progress)
            progress(user, total - (vocab_size - tr->n_tokens), total);
    }

    tok_buf_free(&scratch);
    merge_state_free(&ms);
    return status;
}
