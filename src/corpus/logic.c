/*
 * logic: orderings and syllogisms.
 *
 * Orderings chain 3 or 4 people by one relation (taller, older, faster,
 * heavier), each fact phrased either way round and the facts shuffled. The
 * question names the first or the last to find. The chain of thought first
 * names the direction of the walk: down with ">" to the least, up with "<"
 * to the most ("To find the youngest, walk down with >."). Each fact line
 * copies the question's fact and writes it with that sign ("Fact: Marco is
 * younger than Ravi, so Ravi > Marco."). The chain writes a relation word
 * only in such a copy, so no other use of the word competes with it. Then
 * the walk starts from the first fact: each sentence of the walk starts
 * with the name that ended the one before, and its other name follows the
 * same name and sign in a fact line, so every step is a copy ("Walk: Ravi >
 * Marco. Marco > Nora. Nora > no one."). The name that ends the walk is the
 * answer. No line starts with a name: a name after a space is the same
 * token as in the question. Planted mistakes: the fact at the answer's end
 * written with its sign backwards (caught by logical consistency) or left
 * out (caught by information completeness). Either way the walk stops one
 * name short.
 *
 * Syllogisms use made-up kinds ("wugs") so the answer follows from the rules
 * alone: all A are P, so x is P (yes); no A are P (no); all A are P and x is
 * P, so must x be an A (no); all A are B and all B are P (yes); all A are P
 * and x is not P, so is x an A (no). Planted mistakes: a rule turned around
 * (logical consistency) or a premise left out (information completeness).
 * The alternative-solutions review argues the other way round (suppose the
 * opposite), so it also disagrees with a wrong attempt.
 */
#include <string.h>

#include "corpus/family.h"

/* ------------------------------------------------------------------------ */
/* Orderings                                                                */
/* ------------------------------------------------------------------------ */

typedef struct relation {
    const char *more, *less, *most, *least;
} relation;

static const relation relations[] = {
    {"taller", "shorter", "tallest", "shortest"},
    {"older", "younger", "oldest", "youngest"},
    {"faster", "slower", "fastest", "slowest"},
    {"heavier", "lighter", "heaviest", "lightest"},
};
#define N_RELATIONS ((int)(sizeof relations / sizeof relations[0]))

#define MAX_PEOPLE 4

typedef struct ordering {
    const relation *r;
    const char *p[MAX_PEOPLE]; /* p[0] is the most */
    int n;
    bool as_less[MAX_PEOPLE - 1]; /* fact i phrased "p[i+1] is less than p[i]" */
    int fact_order[MAX_PEOPLE - 1];
    bool ask_most;
} ordering;

static void fact_text(text_buf *b, const ordering *o, int i) {
    if (o->as_less[i])
        text_buf_printf(b, "%s is %s than %s", o->p[i + 1], o->r->less, o->p[i]);
    else
        text_buf_printf(b, "%s is %s than %s", o->p[i], o->r->more, o->p[i + 1]);
}

/* The walk runs toward the answer's end: a question about the least walks
 * down the ">" links from more to less, one about the most walks up the "<"
 * links. */
static const char *walk_sign(const ordering *o) {
    return o->ask_most ? "<" : ">";
}

/* Set *from and *to to fact i as a walk link; reversed swaps them. */
static void fact_link(const ordering *o, int i, bool reversed, const char **from, const char **to) {
    const char *a = o->ask_most ? o->p[i + 1] : o->p[i], *b = o->ask_most ? o->p[i] : o->p[i + 1];
    *from = reversed ? b : a;
    *to = reversed ? a : b;
}

/* Write fact i as the question states it, then as a walk link. */
static void fact_step(text_buf *b, const ordering *o, int i, bool reversed) {
    const char *from, *to;
    fact_link(o, i, reversed, &from, &to);
    text_buf_puts(b, "Fact: ");
    fact_text(b, o, i);
    text_buf_printf(b, ", so %s %s %s.\n", from, walk_sign(o), to);
}

/* Walk the links from `start` until a name has no link; returns the last. */
static const char *walk(text_buf *b, const ordering *o, const char *start, const char *const *from,
                        const char *const *to, int n_links) {
    const char *cur = start;
    for (int step = 0; step <= n_links; step++) {
        int k = 0;
        while (k < n_links && strcmp(from[k], cur) != 0)
            k++;
        if (k == n_links) {
            text_buf_printf(b, " %s %s no one.", cur, walk_sign(o));
            break;
        }
        text_buf_printf(b, " %s %s %s.", cur, walk_sign(o), to[k]);
        cur = to[k];
    }
    return cur;
}

/* Write the chain of thought with fact `skip` left out and fact `flip` read
 * backwards (-1 for none), and return the name it ends with. */
static const char *ordering_chain(text_buf *b, const ordering *o, int skip, int flip) {
    const char *adj = o->ask_most ? o->r->most : o->r->least;
    text_buf_printf(b, "To find the %s, walk %s with %s.\n", adj, o->ask_most ? "up" : "down",
                    walk_sign(o));
    const char *from[MAX_PEOPLE], *to[MAX_PEOPLE];
    int n_links = 0;
    for (int k = 0; k < o->n - 1; k++) {
        int i = o->fact_order[k];
        if (i == skip)
            continue;
        fact_step(b, o, i, i == flip);
        fact_link(o, i, i == flip, &from[n_links], &to[n_links]);
        n_links++;
    }
    text_buf_puts(b, "Walk:");
    const char *ans = walk(b, o, from[0], from, to, n_links);
    text_buf_printf(b, "\nSo the %s is %s.\nFinal answer: %s", adj, ans, ans);
    return ans;
}

static int ordering_make(uint64_t *rng, bool mistake, family_out *out) {
    corpus_task *t = out->task;
    ordering o;
    memset(&o, 0, sizeof o);
    o.r = &relations[rng_below(rng, N_RELATIONS)];
    o.n = rng_range(rng, 3, MAX_PEOPLE);
    int idx[MAX_PEOPLE];
    rng_distinct(rng, corpus_n_names, o.n, idx);
    for (int i = 0; i < o.n; i++)
        o.p[i] = corpus_names[idx[i]];
    for (int i = 0; i < o.n - 1; i++) {
        o.as_less[i] = rng_range(rng, 0, 1) == 1;
        o.fact_order[i] = i;
    }
    rng_shuffle(rng, o.fact_order, o.n - 1);
    o.ask_most = rng_range(rng, 0, 1) == 0;
    const char *adj = o.ask_most ? o.r->most : o.r->least;
    const char *answer = o.ask_most ? o.p[0] : o.p[o.n - 1];
    int end_fact = o.ask_most ? 0 : o.n - 2; /* the fact that fixes the answer */

    text_buf b;
    text_buf_init(&b);
    int rc = 0;
    for (int k = 0; k < o.n - 1; k++) {
        fact_text(&b, &o, o.fact_order[k]);
        text_buf_puts(&b, ". ");
    }
    text_buf_printf(&b, "Who is the %s?", adj);
    rc |= take_text(&b, &t->question);
    rc |= dup_text(answer, &t->answer);

    ordering_chain(&b, &o, -1, -1);
    rc |= take_text(&b, &t->cot);

    /* The end fact, as the question states it, and as a walk link. */
    text_buf end;
    text_buf_init(&end);
    fact_text(&end, &o, end_fact);
    const char *end_s = end.data ? end.data : "";
    const char *end_from, *end_to;
    fact_link(&o, end_fact, false, &end_from, &end_to);

    const char *bad_answer = answer;
    if (mistake) {
        bool drop = rng_range(rng, 0, 1) == 1;
        bad_answer = ordering_chain(&b, &o, drop ? end_fact : -1, drop ? -1 : end_fact);
        rc |= take_text(&b, &t->attempt);
        t->mistake = drop ? CORPUS_MISTAKE_DROP : CORPUS_MISTAKE_REVERSED;
        t->caught_by = drop ? CORPUS_COMPLETENESS : CORPUS_CONSISTENCY;
    } else {
        rc |= dup_text(t->cot ? t->cot : "", &t->attempt);
    }

    if (mistake && t->caught_by == CORPUS_CONSISTENCY)
        text_buf_printf(&b,
                        "The attempt says %s %s %s, but the question says %s. Wrong.\n"
                        "Fix: %s %s %s, so the %s is %s.",
                        end_to, walk_sign(&o), end_from, end_s, end_from, walk_sign(&o), end_to,
                        adj, answer);
    else
        text_buf_puts(&b, "Each fact has its sign the right way round, and the walk follows "
                          "the facts. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_CONSISTENCY]);

    if (mistake && t->caught_by == CORPUS_COMPLETENESS)
        text_buf_printf(&b, "The attempt leaves out one fact: %s.\nFix: with it, the %s is %s.",
                        end_s, adj, answer);
    else
        text_buf_printf(&b, "The attempt uses all %d facts and names one person. " NO_PROBLEM,
                        o.n - 1);
    rc |= take_text(&b, &t->reflection[CORPUS_COMPLETENESS]);

    text_buf_puts(&b, "The question gives all the facts, and the attempt assumes nothing about the "
                      "people beyond them. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_BIASES]);

    /* Alternative: walk again from the last fact instead of the first. */
    const char *from[MAX_PEOPLE], *to[MAX_PEOPLE];
    for (int k = 0; k < o.n - 1; k++)
        fact_link(&o, o.fact_order[k], false, &from[k], &to[k]);
    text_buf_puts(&b, "Another way: start from the last fact. Walk:");
    walk(&b, &o, from[o.n - 2], from, to, o.n - 1);
    text_buf_printf(&b, " The %s is %s.\n", adj, answer);
    rc |= take_alternative(&b, mistake, bad_answer, answer, &t->reflection[CORPUS_ALTERNATIVE]);

    if (mistake)
        text_buf_puts(&b, t->reflection[t->caught_by] ? t->reflection[t->caught_by] : "");
    else
        text_buf_puts(&b, "Every fact is used the right way round. The attempt is correct.");
    rc |= take_text(&b, &t->reflect);

    if (mistake && t->mistake == CORPUS_MISTAKE_REVERSED)
        text_buf_printf(&b, "The reviews find a problem: %s %s %s, not the other way round.",
                        end_from, walk_sign(&o), end_to);
    else if (mistake)
        text_buf_printf(&b, "The reviews find a problem: the fact that %s is left out.", end_s);
    else
        text_buf_puts(&b, REVIEW_OK);
    rc |= take_text(&b, &out->review);

    if (end.failed)
        rc = -1;
    text_buf_free(&end);
    text_buf_free(&b);
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Syllogisms                                                               */
/* ------------------------------------------------------------------------ */

typedef struct kind_word {
    const char *one, *many;
} kind_word;

static const kind_word kinds[] = {
    {"blicket", "blickets"}, {"wug", "wugs"},     {"dax", "daxes"},    {"fep", "feps"},
    {"zorp", "zorps"},       {"glim", "glims"},   {"tove", "toves"},   {"snark", "snarks"},
    {"vorp", "vorps"},       {"plim", "plims"},   {"krell", "krells"}, {"jorb", "jorbs"},
    {"quib", "quibs"},       {"florp", "florps"}, {"drell", "drells"}, {"skib", "skibs"},
};
#define N_KINDS ((int)(sizeof kinds / sizeof kinds[0]))

typedef struct property {
    const char *many;  /* "are red": after a plural subject */
    const char *one;   /* "is red" */
    const char * not ; /* "is not red" */
    const char *ask;   /* "Is %s red?" */
} property;

static const property props[] = {
    {"are red", "is red", "is not red", "Is %s red?"},
    {"can swim", "can swim", "cannot swim", "Can %s swim?"},
    {"have wings", "has wings", "does not have wings", "Does %s have wings?"},
    {"live in caves", "lives in caves", "does not live in caves", "Does %s live in caves?"},
    {"are loud", "is loud", "is not loud", "Is %s loud?"},
    {"eat leaves", "eats leaves", "does not eat leaves", "Does %s eat leaves?"},
    {"are blue", "is blue", "is not blue", "Is %s blue?"},
    {"sleep in the day", "sleeps in the day", "does not sleep in the day",
     "Does %s sleep in the day?"},
    {"have stripes", "has stripes", "does not have stripes", "Does %s have stripes?"},
    {"can climb trees", "can climb trees", "cannot climb trees", "Can %s climb trees?"},
    {"are friendly", "is friendly", "is not friendly", "Is %s friendly?"},
    {"glow in the dark", "glows in the dark", "does not glow in the dark",
     "Does %s glow in the dark?"},
};
#define N_PROPS ((int)(sizeof props / sizeof props[0]))

typedef enum syllogism_form {
    SYL_ALL,      /* all A are P, x is an A: is x P? yes */
    SYL_NO,       /* no A are P, x is an A: is x P? no */
    SYL_CONVERSE, /* all A are P, x is P: must x be an A? no */
    SYL_CHAIN,    /* all A are B, all B are P, x is an A: is x P? yes */
    SYL_CONTRA,   /* all A are P, x is not P: is x an A? no */
    SYL_N_FORMS
} syllogism_form;

static int syllogism_make(uint64_t *rng, bool mistake, family_out *out) {
    corpus_task *t = out->task;
    syllogism_form form = (syllogism_form)rng_below(rng, SYL_N_FORMS);
    int k[2];
    rng_distinct(rng, N_KINDS, 2, k);
    const kind_word *A = &kinds[k[0]], *B = &kinds[k[1]];
    const property *P = &props[rng_below(rng, N_PROPS)];
    const char *x = corpus_names[rng_below(rng, (uint32_t)corpus_n_names)];

    text_buf b, q;
    text_buf_init(&b);
    text_buf_init(&q);
    int rc = 0;
    const char *answer = "yes";

    /* Question, answer, chain of thought. */
    switch (form) {
    case SYL_ALL:
        text_buf_printf(&b, "All %s %s. %s is a %s. ", A->many, P->many, x, A->one);
        text_buf_printf(&b, P->ask, x);
        text_buf_printf(&q, "All %s %s.\n%s is a %s.\nSo %s %s.\nFinal answer: yes", A->many,
                        P->many, x, A->one, x, P->one);
        break;
    case SYL_NO:
        answer = "no";
        text_buf_printf(&b, "No %s %s. %s is a %s. ", A->many, P->many, x, A->one);
        text_buf_printf(&b, P->ask, x);
        text_buf_printf(&q, "No %s %s.\n%s is a %s.\nSo %s %s.\nFinal answer: no", A->many, P->many,
                        x, A->one, x, P->not );
        break;
    case SYL_CONVERSE:
        answer = "no";
        text_buf_printf(&b, "All %s %s. %s %s. Must %s be a %s?", A->many, P->many, x, P->one, x,
                        A->one);
        text_buf_printf(&q,
                        "All %s %s, but not everything that %s is a %s.\n"
                        "%s %s, and that does not show that %s is a %s.\nFinal answer: no",
                        A->many, P->many, P->one, A->one, x, P->one, x, A->one);
        break;
    case SYL_CHAIN:
        text_buf_printf(&b, "All %s are %s. All %s %s. %s is a %s. ", A->many, B->many, B->many,
                        P->many, x, A->one);
        text_buf_printf(&b, P->ask, x);
        text_buf_printf(&q,
                        "%s is a %s.\nAll %s are %s, so %s is a %s.\nAll %s %s, so %s %s.\n"
                        "Final answer: yes",
                        x, A->one, A->many, B->many, x, B->one, B->many, P->many, x, P->one);
        break;
    case SYL_CONTRA:
    default:
        answer = "no";
        text_buf_printf(&b, "All %s %s. %s %s. Is %s a %s?", A->many, P->many, x, P->not, x,
                        A->one);
        text_buf_printf(&q, "All %s %s.\n%s %s.\nSo %s is not a %s.\nFinal answer: no", A->many,
                        P->many, x, P->not, x, A->one);
        break;
    }
    rc |= take_text(&b, &t->question);
    rc |= take_text(&q, &t->cot);
    rc |= dup_text(answer, &t->answer);
    const char *bad_answer = strcmp(answer, "yes") == 0 ? "no" : "yes";

    /* The mistaken attempt, the matching review and the synthesis line. */
    text_buf caught, review;
    text_buf_init(&caught);
    text_buf_init(&review);
    if (mistake) {
        switch (form) {
        case SYL_ALL:
            t->mistake = CORPUS_MISTAKE_DROP;
            text_buf_printf(&b,
                            "All %s %s.\nNothing says that %s is a %s.\nSo we cannot say that %s "
                            "%s.\nFinal answer: no",
                            A->many, P->many, x, A->one, x, P->one);
            text_buf_printf(&caught,
                            "The attempt leaves out one fact: %s is a %s.\nFix: all %s %s, so %s "
                            "%s, and the answer is yes.",
                            x, A->one, A->many, P->many, x, P->one);
            text_buf_printf(&review,
                            "The reviews find a problem: the fact that %s is a %s is left "
                            "out.",
                            x, A->one);
            break;
        case SYL_NO:
            t->mistake = CORPUS_MISTAKE_REVERSED;
            text_buf_printf(&b, "No %s %s.\n%s is a %s.\nSo %s %s.\nFinal answer: yes", A->many,
                            P->many, x, A->one, x, P->one);
            text_buf_printf(&caught,
                            "The attempt says %s %s, but no %s %s. Wrong.\nFix: %s is a %s, so %s "
                            "%s, and the answer is no.",
                            x, P->one, A->many, P->many, x, A->one, x, P->not );
            text_buf_printf(&review, "The reviews find a problem: no %s %s, so %s %s.", A->many,
                            P->many, x, P->not );
            break;
        case SYL_CONVERSE:
            t->mistake = CORPUS_MISTAKE_REVERSED;
            text_buf_printf(&b, "All %s %s.\n%s %s.\nSo %s is a %s.\nFinal answer: yes", A->many,
                            P->many, x, P->one, x, A->one);
            text_buf_printf(&caught,
                            "The attempt turns the rule around: all %s %s does not mean that "
                            "everything that %s is a %s. Wrong.\nFix: %s need not be a %s, so the "
                            "answer is no.",
                            A->many, P->many, P->one, A->one, x, A->one);
            text_buf_printf(&review, "The reviews find a problem: not everything that %s is a %s.",
                            P->one, A->one);
            break;
        case SYL_CHAIN:
            t->mistake = CORPUS_MISTAKE_DROP;
            text_buf_printf(&b,
                            "%s is a %s.\nNothing says that %s is a %s.\nSo we cannot say that %s "
                            "%s.\nFinal answer: no",
                            x, A->one, x, B->one, x, P->one);
            text_buf_printf(&caught,
                            "The attempt leaves out one fact: all %s are %s.\nFix: so %s is a %s, "
                            "and all %s %s, so the answer is yes.",
                            A->many, B->many, x, B->one, B->many, P->many);
            text_buf_printf(&review,
                            "The reviews find a problem: the fact that all %s are %s is "
                            "left out.",
                            A->many, B->many);
            break;
        case SYL_CONTRA:
        default:
            t->mistake = CORPUS_MISTAKE_REVERSED;
            text_buf_printf(&b, "All %s %s.\n%s %s.\nSo %s may still be a %s.\nFinal answer: yes",
                            A->many, P->many, x, P->not, x, A->one);
            text_buf_printf(&caught,
                            "The attempt says %s may be a %s, but every %s %s and %s %s. Wrong.\n"
                            "Fix: %s is not a %s, so the answer is no.",
                            x, A->one, A->one, P->one, x, P->not, x, A->one);
            text_buf_printf(&review, "The reviews find a problem: every %s %s, so %s is not a %s.",
                            A->one, P->one, x, A->one);
            break;
        }
        t->caught_by = t->mistake == CORPUS_MISTAKE_DROP ? CORPUS_COMPLETENESS : CORPUS_CONSISTENCY;
        rc |= take_text(&b, &t->attempt);
    } else {
        rc |= dup_text(t->cot ? t->cot : "", &t->attempt);
    }
    const char *caught_s = caught.data ? caught.data : "";

    if (mistake && t->caught_by == CORPUS_CONSISTENCY)
        text_buf_puts(&b, caught_s);
    else
        text_buf_puts(
            &b, "Each step follows from the facts, and no rule is turned around. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_CONSISTENCY]);

    if (mistake && t->caught_by == CORPUS_COMPLETENESS)
        text_buf_puts(&b, caught_s);
    else
        text_buf_puts(&b,
                      "The attempt uses every fact in the question and answers it. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_COMPLETENESS]);

    text_buf_puts(&b, "The question gives all the facts, and the attempt assumes nothing beyond "
                      "them. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_BIASES]);

    /* Alternative: suppose the opposite. */
    switch (form) {
    case SYL_ALL:
        text_buf_printf(&b,
                        "Another way: suppose %s %s. Then %s could not be a %s, but %s is one. "
                        "So the answer is yes.\n",
                        x, P->not, x, A->one, x);
        break;
    case SYL_NO:
        text_buf_printf(&b,
                        "Another way: suppose %s %s. Then %s could not be a %s, because no %s %s. "
                        "But %s is a %s. So the answer is no.\n",
                        x, P->one, x, A->one, A->many, P->many, x, A->one);
        break;
    case SYL_CONVERSE:
        text_buf_printf(&b,
                        "Another way: picture something that %s but is not a %s. Nothing in the "
                        "question rules that out for %s. So the answer is no.\n",
                        P->one, A->one, x);
        break;
    case SYL_CHAIN:
        text_buf_printf(&b,
                        "Another way: suppose %s %s. Then %s could not be a %s, and so not a %s, "
                        "but %s is a %s. So the answer is yes.\n",
                        x, P->not, x, B->one, A->one, x, A->one);
        break;
    case SYL_CONTRA:
    default:
        text_buf_printf(&b,
                        "Another way: suppose %s is a %s. Then %s %s, but %s %s. So the answer "
                        "is no.\n",
                        x, A->one, x, P->one, x, P->not );
        break;
    }
    rc |= take_alternative(&b, mistake, bad_answer, answer, &t->reflection[CORPUS_ALTERNATIVE]);

    if (mistake)
        text_buf_puts(&b, caught_s);
    else
        text_buf_puts(&b, "Every fact is used and each step follows from them. The attempt is "
                          "correct.");
    rc |= take_text(&b, &t->reflect);

    text_buf_puts(&b, mistake ? (review.data ? review.data : "") : REVIEW_OK);
    rc |= take_text(&b, &out->review);

    if (caught.failed || review.failed)
        rc = -1;
    text_buf_free(&caught);
    text_buf_free(&review);
    text_buf_free(&b);
    text_buf_free(&q);
    return rc ? -1 : 0;
}

int logic_make(uint64_t *rng, bool mistake, family_out *out) {
    if (rng_range(rng, 0, 1) == 0)
        return ordering_make(rng, mistake, out);
    return syllogism_make(rng, mistake, out);
}
