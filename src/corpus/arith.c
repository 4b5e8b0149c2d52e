/*
 * arith: word problems of two or three steps. A problem is a start (a count,
 * or boxes times items per box) followed by operations (buy or find more,
 * give away or lose, double or triple, buy more boxes); every step is one
 * calculation with small numbers and every value stays in 0..999.
 *
 * The chain of thought writes one line per step, "Step i: <what happens>:
 * a + b = c.", then "Final answer: c". Planted mistakes: a calculation off
 * by 1, 2 or 10 with the later steps carried on from the wrong value (caught
 * by logical consistency), or the last operation left out (caught by
 * information completeness; the alternative-solutions review, which writes
 * the whole problem as one expression, notices it too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus/family.h"

typedef enum op_kind { OP_START, OP_BOXES_START, OP_ADD, OP_SUB, OP_MUL, OP_BOXES_ADD } op_kind;

typedef struct arith_op {
    op_kind kind;
    int x, y;  /* ADD/SUB: x items; MUL: factor x; BOXES: x boxes of y items */
    int verb;  /* phrasing */
    int other; /* index of the other person's name */
} arith_op;

#define MAX_OPS 4
#define MAX_STEPS 4

typedef struct arith_problem {
    const char *name;
    const char *other[MAX_OPS];
    const char *obj; /* plural */
    const char *box, *boxes;
    arith_op ops[MAX_OPS];
    int n_ops;
} arith_problem;

typedef struct arith_step {
    int a, b, result;
    char op; /* '+', '-', 'x' */
    int op_index;
    bool second; /* the add step of OP_BOXES_ADD */
} arith_step;

static const char *const objects[] = {
    "apples", "pears",  "marbles", "stickers", "pencils",  "books",   "cards",   "coins",
    "shells", "stamps", "eggs",    "cookies",  "balloons", "buttons", "candles", "flowers",
    "beads",  "lemons", "oranges", "toy cars", "crayons",  "nuts",    "plums",   "ribbons",
};
static const char *const boxes_sing[] = {"box", "bag", "jar", "pack", "basket", "tray"};
static const char *const boxes_plur[] = {"boxes", "bags", "jars", "packs", "baskets", "trays"};

#define N_OBJECTS ((int)(sizeof objects / sizeof objects[0]))
#define N_BOXES ((int)(sizeof boxes_sing / sizeof boxes_sing[0]))

static const char *op_symbol(char op) {
    if (op == 'x')
        return "\xc3\x97"; /* U+00D7 MULTIPLICATION SIGN */
    return op == '+' ? "+" : "-";
}

static int apply_op(char op, int a, int b) {
    if (op == '+')
        return a + b;
    if (op == '-')
        return a - b;
    return a * b;
}

/* Run the problem, with step `wrong` (or -1) off by delta, the last
 * operation left out when drop is set. Returns the final value, or -1 when a
 * value leaves 0..999. */
static int run(const arith_problem *p, int wrong, int delta, bool drop, arith_step *steps,
               int *n_steps) {
    int v = 0, n = 0;
    int n_ops = drop ? p->n_ops - 1 : p->n_ops;
    for (int i = 0; i < n_ops; i++) {
        const arith_op *o = &p->ops[i];
        arith_step s = {.op_index = i};
        switch (o->kind) {
        case OP_START:
            v = o->x;
            continue;
        case OP_BOXES_START:
            s = (arith_step){o->x, o->y, o->x * o->y, 'x', i, false};
            break;
        case OP_ADD:
            s = (arith_step){v, o->x, v + o->x, '+', i, false};
            break;
        case OP_SUB:
            s = (arith_step){v, o->x, v - o->x, '-', i, false};
            break;
        case OP_MUL:
            s = (arith_step){v, o->x, v * o->x, 'x', i, false};
            break;
        case OP_BOXES_ADD: {
            arith_step prod = {o->x, o->y, o->x * o->y, 'x', i, false};
            if (n == wrong)
                prod.result += delta;
            if (prod.result < 0 || prod.result > 999)
                return -1;
            steps[n++] = prod;
            s = (arith_step){v, prod.result, v + prod.result, '+', i, true};
            break;
        }
        }
        if (n == wrong)
            s.result += delta;
        if (s.result < 0 || s.result > 999)
            return -1;
        steps[n++] = s;
        v = s.result;
    }
    *n_steps = n;
    return v;
}

/* Write what happens in a step, the <label> of "Step i: <label>: a + b = c." */
static void step_label(text_buf *b, const arith_problem *p, const arith_step *s) {
    const arith_op *o = &p->ops[s->op_index];
    switch (o->kind) {
    case OP_START:
        break;
    case OP_BOXES_START:
        text_buf_printf(b, "%s has %d %s with %d in each", p->name, o->x, p->boxes, o->y);
        break;
    case OP_ADD:
        if (o->verb == 0)
            text_buf_printf(b, "%s buys %d more", p->name, o->x);
        else if (o->verb == 1)
            text_buf_printf(b, "%s finds %d more", p->name, o->x);
        else
            text_buf_printf(b, "%s gives %s %d more", p->other[s->op_index], p->name, o->x);
        break;
    case OP_SUB:
        if (o->verb == 0)
            text_buf_printf(b, "%s gives %d to %s", p->name, o->x, p->other[s->op_index]);
        else if (o->verb == 1)
            text_buf_printf(b, "%s loses %d", p->name, o->x);
        else
            text_buf_printf(b, "%s sells %d", p->name, o->x);
        break;
    case OP_MUL:
        text_buf_puts(b, o->x == 2 ? "the number doubles" : "the number triples");
        break;
    case OP_BOXES_ADD:
        if (s->second)
            text_buf_printf(b, "%s adds them", p->name);
        else
            text_buf_printf(b, "%s buys %d %s with %d in each", p->name, o->x, p->boxes, o->y);
        break;
    }
}

/* The question's sentence for operation i, with its final period. */
static void op_sentence(text_buf *b, const arith_problem *p, int i) {
    const arith_op *o = &p->ops[i];
    switch (o->kind) {
    case OP_START:
        text_buf_printf(b, "%s has %d %s.", p->name, o->x, p->obj);
        break;
    case OP_BOXES_START:
        text_buf_printf(b, "%s has %d %s with %d %s in each %s.", p->name, o->x, p->boxes, o->y,
                        p->obj, p->box);
        break;
    case OP_ADD:
        if (o->verb == 0)
            text_buf_printf(b, "%s buys %d more %s.", p->name, o->x, p->obj);
        else if (o->verb == 1)
            text_buf_printf(b, "%s finds %d more %s.", p->name, o->x, p->obj);
        else
            text_buf_printf(b, "%s gives %s %d more %s.", p->other[i], p->name, o->x, p->obj);
        break;
    case OP_SUB:
        if (o->verb == 0)
            text_buf_printf(b, "%s gives %d %s to %s.", p->name, o->x, p->obj, p->other[i]);
        else if (o->verb == 1)
            text_buf_printf(b, "%s loses %d %s.", p->name, o->x, p->obj);
        else
            text_buf_printf(b, "%s sells %d %s.", p->name, o->x, p->obj);
        break;
    case OP_MUL:
        text_buf_printf(b, "Then the number of %s %s.", p->obj, o->x == 2 ? "doubles" : "triples");
        break;
    case OP_BOXES_ADD:
        text_buf_printf(b, "%s buys %d %s with %d %s in each %s.", p->name, o->x, p->boxes, o->y,
                        p->obj, p->box);
        break;
    }
}

/* A short name of the fact, for the completeness review's list. */
static void op_fact(text_buf *b, const arith_problem *p, int i) {
    const arith_op *o = &p->ops[i];
    switch (o->kind) {
    case OP_START:
        text_buf_printf(b, "%d %s", o->x, p->obj);
        break;
    case OP_BOXES_START:
    case OP_BOXES_ADD:
        text_buf_printf(b, "%d %s of %d", o->x, p->boxes, o->y);
        break;
    case OP_ADD:
        text_buf_printf(b, "%d more", o->x);
        break;
    case OP_SUB:
        if (o->verb == 0)
            text_buf_printf(b, "%d to %s", o->x, p->other[i]);
        else
            text_buf_printf(b, "%d %s", o->x, o->verb == 1 ? "lost" : "sold");
        break;
    case OP_MUL:
        text_buf_puts(b, o->x == 2 ? "doubles" : "triples");
        break;
    }
}

static void write_step(text_buf *b, const arith_problem *p, const arith_step *s, int number) {
    text_buf_printf(b, "Step %d: ", number);
    step_label(b, p, s);
    text_buf_printf(b, ": %d %s %d = %d.\n", s->a, op_symbol(s->op), s->b, s->result);
}

static void write_chain(text_buf *b, const arith_problem *p, const arith_step *steps, int n,
                        int final) {
    for (int i = 0; i < n; i++)
        write_step(b, p, &steps[i], i + 1);
    text_buf_printf(b, "Final answer: %d", final);
}

/* The whole problem as one expression, and the part the last operation adds. */
static void write_expression(text_buf *b, const arith_problem *p, int n_ops) {
    text_buf e;
    text_buf_init(&e);
    bool has_sum = false;
    for (int i = 0; i < n_ops; i++) {
        const arith_op *o = &p->ops[i];
        switch (o->kind) {
        case OP_START:
            text_buf_printf(&e, "%d", o->x);
            break;
        case OP_BOXES_START:
            text_buf_printf(&e, "%d %s %d", o->x, op_symbol('x'), o->y);
            break;
        case OP_ADD:
            text_buf_printf(&e, " + %d", o->x);
            has_sum = true;
            break;
        case OP_SUB:
            text_buf_printf(&e, " - %d", o->x);
            has_sum = true;
            break;
        case OP_BOXES_ADD:
            text_buf_printf(&e, " + %d %s %d", o->x, op_symbol('x'), o->y);
            has_sum = true;
            break;
        case OP_MUL: {
            char *inner = text_buf_take(&e);
            text_buf_init(&e);
            if (!inner) {
                e.failed = true;
                break;
            }
            if (has_sum)
                text_buf_printf(&e, "(%s) %s %d", inner, op_symbol('x'), o->x);
            else
                text_buf_printf(&e, "%s %s %d", inner, op_symbol('x'), o->x);
            free(inner);
            break;
        }
        }
    }
    if (e.failed)
        b->failed = true;
    else if (e.data)
        text_buf_puts(b, e.data);
    text_buf_free(&e);
}

static void write_tail(text_buf *b, const arith_problem *p) {
    const arith_op *o = &p->ops[p->n_ops - 1];
    switch (o->kind) {
    case OP_ADD:
        text_buf_printf(b, "+ %d", o->x);
        break;
    case OP_SUB:
        text_buf_printf(b, "- %d", o->x);
        break;
    case OP_MUL:
        text_buf_printf(b, "%s %d", op_symbol('x'), o->x);
        break;
    case OP_BOXES_ADD:
        text_buf_printf(b, "+ %d %s %d", o->x, op_symbol('x'), o->y);
        break;
    default:
        break;
    }
}

/* Pick an operation that keeps v in range; returns the new value. */
static int pick_op(uint64_t *rng, arith_op *o, int v, bool allow_mul) {
    for (;;) {
        int k = rng_range(rng, 0, 9);
        if (k < 4) {
            *o = (arith_op){OP_ADD, rng_range(rng, 2, 40), 0, rng_range(rng, 0, 2), 0};
            return v + o->x;
        }
        if (k < 8 && v >= 3) {
            int hi = v - 1 < 40 ? v - 1 : 40;
            *o = (arith_op){OP_SUB, rng_range(rng, 1, hi), 0, rng_range(rng, 0, 2), 0};
            return v - o->x;
        }
        if (k >= 8 && allow_mul && v <= 60) {
            *o = (arith_op){OP_MUL, rng_range(rng, 2, 3), 0, 0, 0};
            return v * o->x;
        }
        if (k >= 8 && allow_mul && v <= 99) {
            *o = (arith_op){OP_MUL, 2, 0, 0, 0};
            return v * 2;
        }
    }
}

static void make_problem(uint64_t *rng, arith_problem *p) {
    memset(p, 0, sizeof *p);
    int people[MAX_OPS + 1];
    rng_distinct(rng, corpus_n_names, MAX_OPS + 1, people);
    p->name = corpus_names[people[0]];
    int nb = rng_range(rng, 0, N_BOXES - 1);
    p->obj = objects[rng_range(rng, 0, N_OBJECTS - 1)];
    p->box = boxes_sing[nb];
    p->boxes = boxes_plur[nb];

    /* Patterns: steps = calculations. */
    int pattern = rng_range(rng, 0, 5);
    int v;
    bool mul_used = false;
    if (pattern == 1 || pattern == 2) {
        p->ops[0] = (arith_op){OP_BOXES_START, rng_range(rng, 2, 9), rng_range(rng, 2, 12), 0, 0};
        v = p->ops[0].x * p->ops[0].y;
    } else {
        p->ops[0] = (arith_op){OP_START, rng_range(rng, 3, 60), 0, 0, 0};
        v = p->ops[0].x;
    }
    p->n_ops = 1;
    if (pattern == 3 || pattern == 4) {
        p->ops[1] = (arith_op){OP_BOXES_ADD, rng_range(rng, 2, 9), rng_range(rng, 2, 12), 0, 0};
        v += p->ops[1].x * p->ops[1].y;
        p->n_ops = 2;
    }
    /* Operations left: pattern 0 two, 1 one, 2 two, 3 none, 4 one, 5 three. */
    static const int more[] = {2, 1, 2, 0, 1, 3};
    for (int i = 0; i < more[pattern]; i++) {
        arith_op *o = &p->ops[p->n_ops++];
        v = pick_op(rng, o, v, !mul_used);
        mul_used = mul_used || o->kind == OP_MUL;
    }
    for (int i = 0; i < p->n_ops; i++)
        p->other[i] = corpus_names[people[1 + i % MAX_OPS]];
}

int arith_make(uint64_t *rng, bool mistake, family_out *out) {
    corpus_task *t = out->task;
    arith_problem p;
    make_problem(rng, &p);

    arith_step steps[MAX_STEPS], bad[MAX_STEPS];
    int n = 0, n_bad = 0;
    int answer = run(&p, -1, 0, false, steps, &n);

    /* Choose the mistake before writing anything: a calculation slip, or
     * the last operation left out. */
    int wrong = -1, delta = 0;
    bool drop = false;
    int bad_answer = answer;
    if (mistake) {
        drop = rng_range(rng, 0, 9) < 4;
        if (drop) {
            bad_answer = run(&p, -1, 0, true, bad, &n_bad);
        } else {
            static const int deltas[] = {1, -1, 2, -2, 10, -10};
            int first = rng_range(rng, 0, 5);
            wrong = rng_range(rng, 0, n - 1);
            for (int k = 0; k < 6; k++) {
                delta = deltas[(first + k) % 6];
                bad_answer = run(&p, wrong, delta, false, bad, &n_bad);
                if (bad_answer >= 0 && bad_answer != answer)
                    break;
                bad_answer = -1;
            }
            if (bad_answer < 0) { /* no slip fits 0..999: leave out the last step instead */
                drop = true;
                wrong = -1;
                bad_answer = run(&p, -1, 0, true, bad, &n_bad);
            }
        }
        t->mistake = drop ? CORPUS_MISTAKE_DROP : CORPUS_MISTAKE_CALC;
        t->caught_by = drop ? CORPUS_COMPLETENESS : CORPUS_CONSISTENCY;
    } else {
        memcpy(bad, steps, sizeof steps);
        n_bad = n;
    }

    text_buf b;
    text_buf_init(&b);
    int rc = 0;

    /* Question and answer. */
    for (int i = 0; i < p.n_ops; i++) {
        op_sentence(&b, &p, i);
        text_buf_puts(&b, " ");
    }
    text_buf_printf(&b, "How many %s does %s have now?", p.obj, p.name);
    rc |= take_text(&b, &t->question);
    text_buf_printf(&b, "%d", answer);
    rc |= take_text(&b, &t->answer);

    /* Chain of thought and first attempt. */
    write_chain(&b, &p, steps, n, answer);
    rc |= take_text(&b, &t->cot);
    write_chain(&b, &p, bad, n_bad, bad_answer);
    rc |= take_text(&b, &t->attempt);

    /* The dropped operation as a sentence without its period, and its steps. */
    text_buf dropped, fix;
    text_buf_init(&dropped);
    text_buf_init(&fix);
    if (drop) {
        op_sentence(&dropped, &p, p.n_ops - 1);
        text_buf_trim(&dropped, 1);
        if (n - n_bad == 2)
            text_buf_printf(&fix, "add those steps: %d %s %d = %d, then %d + %d = %d.",
                            steps[n - 2].a, op_symbol('x'), steps[n - 2].b, steps[n - 2].result,
                            steps[n - 1].a, steps[n - 1].b, steps[n - 1].result);
        else
            text_buf_printf(&fix, "add that step: %d %s %d = %d.", steps[n - 1].a,
                            op_symbol(steps[n - 1].op), steps[n - 1].b, steps[n - 1].result);
    }
    const char *dropped_s = dropped.data ? dropped.data : "";
    const char *fix_s = fix.data ? fix.data : "";

    /* Logical consistency: re-check every calculation, line by line. The
     * generic reflection starts the same way. */
    text_buf check;
    text_buf_init(&check);
    int stop = n_bad;
    for (int i = 0; i < n_bad; i++) {
        const arith_step *s = &bad[i];
        int right = apply_op(s->op, s->a, s->b);
        if (right == s->result) {
            text_buf_printf(&check, "Step %d: %d %s %d = %d. Correct.\n", i + 1, s->a,
                            op_symbol(s->op), s->b, s->result);
            continue;
        }
        text_buf_printf(&check, "Step %d: %d %s %d = %d, not %d. Wrong.\n", i + 1, s->a,
                        op_symbol(s->op), s->b, right, s->result);
        if (i + 1 < n_bad)
            text_buf_printf(&check, "Fix: redo the steps after step %d with %d.", i + 1, right);
        else
            text_buf_printf(&check, "Fix: step %d gives %d.", i + 1, right);
        stop = i;
        break;
    }
    bool slip = stop < n_bad;
    text_buf_puts(&b, check.data ? check.data : "");
    if (!slip)
        text_buf_puts(&b, "Every step follows from the one before. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_CONSISTENCY]);

    text_buf_puts(&b, check.data ? check.data : "");
    if (drop)
        text_buf_printf(&b, "But the attempt leaves out one fact: %s.\nFix: %s", dropped_s, fix_s);
    else if (!slip)
        text_buf_puts(&b, "Every fact is used and every step is right. The attempt is correct.");
    rc |= take_text(&b, &t->reflect);
    if (check.failed)
        rc = -1;
    text_buf_free(&check);

    /* Information completeness: every fact of the question used. */
    if (drop) {
        text_buf_printf(&b, "The attempt leaves out one fact: %s.\nFix: %s", dropped_s, fix_s);
    } else {
        text_buf_puts(&b, "The attempt uses every fact: ");
        for (int i = 0; i < p.n_ops; i++) {
            if (i > 0)
                text_buf_puts(&b, i + 1 == p.n_ops ? " and " : ", ");
            op_fact(&b, &p, i);
        }
        text_buf_puts(&b, ".\nIt adds no other facts and answers the question. " NO_PROBLEM);
    }
    rc |= take_text(&b, &t->reflection[CORPUS_COMPLETENESS]);

    /* Biases and ethics: nothing to find in a counting problem. */
    text_buf_printf(&b,
                    "The attempt works only with the numbers in the question and assumes nothing "
                    "about %s. " NO_PROBLEM,
                    p.name);
    rc |= take_text(&b, &t->reflection[CORPUS_BIASES]);

    /* Alternative solutions: the whole problem as one expression. */
    text_buf_puts(&b, "Another way: write the whole problem as one expression, ");
    write_expression(&b, &p, p.n_ops);
    text_buf_puts(&b, ".\n");
    if (drop) {
        text_buf_puts(&b, "The attempt stops before ");
        write_tail(&b, &p);
        text_buf_puts(&b, ", so it does not follow this plan.");
    } else {
        text_buf_puts(&b, "The attempt follows the same plan. " NO_PROBLEM);
    }
    rc |= take_text(&b, &t->reflection[CORPUS_ALTERNATIVE]);

    /* First line of the synthesis. */
    if (drop) {
        text_buf_printf(&b, "The reviews find a problem: the attempt leaves out that %s.",
                        dropped_s);
    } else if (slip) {
        const arith_step *s = &steps[stop];
        text_buf_printf(&b, "The reviews find a problem: step %d should be %d %s %d = %d.",
                        stop + 1, bad[stop].a, op_symbol(s->op), bad[stop].b,
                        apply_op(s->op, bad[stop].a, bad[stop].b));
    } else {
        text_buf_puts(&b, REVIEW_OK);
    }
    rc |= take_text(&b, &out->review);

    if (dropped.failed || fix.failed)
        rc = -1;
    text_buf_free(&dropped);
    text_buf_free(&fix);
    text_buf_free(&b);
    return rc ? -1 : 0;
}
