/*
 * The BPE merge engine shared by every tokenizer kind. Symbols form a linked
 * list over the initial array; a binary min-heap contains the candidate pairs keyed
 * by (rank, left position). A popped pair is applied only if both symbols
 * still carry the ids it was made from, so stale entries are skipped. This
 * gives the same result as "repeatedly merge the lowest-rank pair, leftmost
 * first" in O(n log n): merge ranks from tokenizer.json, or descending piece
 * scores for SentencePiece and llama2.c (see tok_merges_from_scores).
 */
#include <stdlib.h>

#include "model/tok_internal.h"

typedef struct pair {
    int32_t rank;
    uint32_t pos; /* index of the left symbol */
    int32_t left, right;
} pair;

typedef struct heap {
    pair *v;
    size_t n, cap;
} heap;

static int pair_less(const pair *a, const pair *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static int heap_push(heap *h, pair p) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        pair *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pair_less(&p, &h->v[parent]))
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = p;
    return 0;
}

static pair heap_pop(heap *h) {
    pair top = h->v[0];
    pair last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && pair_less(&h->v[c + 1], &h->v[c]))
            c++;
        if (!pair_less(&h->v[c], &last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

/* Queue the pair (sym[a], sym[b]) when the table has it. */
static int queue_pair(const tok_merges *m, heap *h, const int32_t *sym, size_t a, size_t b) {
    long slot = tok_merges_find(m, sym[a], sym[b]);
    if (slot < 0)
        return 0;
    pair p = {m->rank[slot], (uint32_t)a, sym[a], sym[b]};
    return heap_push(h, p);
}

int tok_bpe_merge(const tok_merges *m, int32_t *sym, size_t *n_sym, lrc_error *err) {
    size_t n = *n_sym;
    if (n < 2 || !m->n)
        return 0;
    if (n > UINT32_MAX)
        return lrc_errorf(err, "tokenizer: a pre-token of %zu symbols is too long", n);

    /* next[i] == n ends the list; prev[i] == SIZE_MAX starts it. */
    size_t *next = malloc(n * sizeof *next);
    size_t *prev = malloc(n * sizeof *prev);
    heap h = {0};
    int status = 0;
    if (!next || !prev) {
        status = -1;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        next[i] = i + 1;
        prev[i] = i ? i - 1 : SIZE_MAX;
    }
    for (size_t i = 0; i + 1 < n && !status; i++)
        status = queue_pair(m, &h, sym, i, i + 1);

    while (h.n && !status) {
        pair p = heap_pop(&h);
        size_t a = p.pos, b = next[a];
        if (sym[a] != p.left || b >= n || sym[b] != p.right)
            continue; /* stale: one side has merged since this pair was queued */

        long slot = tok_merges_find(m, p.left, p.right);
        sym[a] = m->merged[slot];
        sym[b] = -1;
        next[a] = next[b];
        if (next[b] < n)
            prev[next[b]] = a;
        next[b] = n;

        if (prev[a] != SIZE_MAX)
            status = queue_pair(m, &h, sym, prev[a], a);
        if (!status && next[a] < n)
            status = queue_pair(m, &h, sym, a, next[a]);
    }

    if (!status) {
        size_t k = 0;
        for (size_t i = 0; i < n; i = next[i])
            sym[k++] = sym[i];
        *n_sym = k;
    }

done:
    free(next);
    free(prev);
    free(h.v);
    if (status)
        return lrc_errorf(err, "tokenizer: out of memory while merging %zu symbols", n);
    return 0;
}
