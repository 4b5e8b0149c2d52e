/*
 * arith: word problems of two or three steps. A problem is a start (a count,
 * or boxes times items per box) followed by operations (buy or find more,
 * give away or lose, double or triple, buy more boxes); every step is one
 * calculation, every value stays in 0..999 (0..99 in three-step problems)
 * and multiplication is always by one digit.
 *
 * Each step of the chain of thought repeats its sentence from the question
 * and gives its calculation. It works the calculation column by column from
 * the ones, one line per column, and restates the whole result. The chain
 * ends with "Final answer: c":
 *
 *   Step 2: Tom buys 18 more pears: 37 + 18.
 *   ones: 7+8=15, write 5 carry 1.
 *   tens: 3+1+1=5, write 5.
 *   So 37 + 18 = 55.
 *
 * A column line is "<x><op><y>[<op><carry or borrow>]=<value>, write <digit>
 * [carry <c> | borrow 1]."; a missing digit is 0, a subtraction column that
 * borrows shows its top digit plus 10 ("12-7"), and the top column writes
 * its whole value ("8+4+1=13, write 13."). Two single-digit operands are a
 * table fact with no column lines.
 *
 * Planted mistakes: a column value off by one or a carry or borrow left
 * out, with the later steps carried on from the wrong result, or the last
 * operation left out. Logical consistency catches the first kind: it works
 * the steps again in the same column form, from the last back to the faulty
 * one, and names its column. Information completeness catches the second,
 * and the alternative-solutions review, which writes the whole problem as
 * one expression, notices it too.
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

/* A planted slip in one step's column work: a wrong column value (delta
 * added to it) or the carry or borrow into a column left out. */
typedef enum slip_kind { SLIP_NONE = 0, SLIP_VALUE, SLIP_CARRY } slip_kind;

typedef struct arith_slip {
    slip_kind kind;
    int column; /* 0 ones, 1 tens, 2 hundreds */
    int delta;  /* SLIP_VALUE */
} arith_slip;

typedef struct arith_step {
    int a, b, result; /* multiplication: b is the single digit */
    char op;          /* '+', '-', 'x' */
    int op_index;
    bool second;     /* the add step of OP_BOXES_ADD */
    arith_slip slip; /* planted in the first attempt, or SLIP_NONE */
} arith_step;

/* Record of one column work, for naming a faulty column. */
#define MAX_COLUMNS 4
typedef struct column_work {
    int n;                     /* number of column lines */
    int carry_in[MAX_COLUMNS]; /* carry or borrow into column i */
    char lhs[MAX_COLUMNS][32]; /* left side as written, e.g. "3+1+1" */
    int value[MAX_COLUMNS];    /* the value written after "=" */
} column_work;

static const char *const column_names[MAX_COLUMNS] = {"ones", "tens", "hundreds", "thousands"};

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

/* Digit i of v (0 for the ones). */
static int digit_of(int v, int i) {
    while (i-- > 0)
        v /= 10;
    return v % 10;
}

static int digit_count(int v) {
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Work a op b in columns from the ones, one line per column into out (when
 * not NULL), with the slip planted. Returns the number the columns give, or
 * -1 when the slip cannot be planted or a value leaves its range. cw (when
 * not NULL) gets what each column wrote. Two single-digit operands are a
 * table fact: no lines, and a SLIP_VALUE in column 0 changes the fact. */
static int work_columns(text_buf *out, int a, char op, int b, const arith_slip *slip,
                        column_work *cw) {
    column_work local;
    if (!cw)
        cw = &local;
    memset(cw, 0, sizeof *cw);
    bool planted = !slip || slip->kind == SLIP_NONE;
    if (a < 10 && b < 10) {
        int v = apply_op(op, a, b);
        if (slip && slip->kind == SLIP_VALUE && slip->column == 0) {
            v += slip->delta;
            planted = true;
        }
        return planted && v >= 0 ? v : -1;
    }
    int n = digit_count(a);
    if (op == '+' && digit_count(b) > n)
        n = digit_count(b);
    int carry = 0, value = 0, place = 1;
    for (int i = 0; i < n; i++) {
        int x = digit_of(a, i), y = op == 'x' ? b : digit_of(b, i), k = carry;
        cw->carry_in[i] = carry;
        if (slip && slip->kind == SLIP_CARRY && slip->column == i && carry > 0) {
            k = 0;
            planted = true;
        }
        bool slip_here = slip && slip->kind == SLIP_VALUE && slip->column == i;
        int t, written, out_carry;
        char *lhs = cw->lhs[i];
        size_t cap = sizeof cw->lhs[i];
        if (op == '-') {
            int top = x - y - k < 0 ? x + 10 : x;
            t = top - y - k;
            out_carry = top > x;
            if (slip_here) {
                t += slip->delta;
                if (t < 0 || t > 9)
                    return -1;
                planted = true;
            }
            written = t;
            if (k)
                snprintf(lhs, cap, "%d-%d-%d", top, y, k);
            else
                snprintf(lhs, cap, "%d-%d", top, y);
        } else {
            t = op == '+' ? x + y + k : x * y + k;
            if (slip_here) {
                t += slip->delta;
                if (t < 0)
                    return -1;
                planted = true;
            }
            bool top = i == n - 1; /* the top column writes its whole value */
            written = top ? t : t % 10;
            out_carry = top ? 0 : t / 10;
            const char *sym = op_symbol(op);
            if (k)
                snprintf(lhs, cap, "%d%s%d+%d", x, sym, y, k);
            else
                snprintf(lhs, cap, "%d%s%d", x, sym, y);
        }
        cw->value[i] = t;
        if (out) {
            text_buf_printf(out, "%s: %s=%d, write %d", column_names[i], lhs, t, written);
            if (out_carry)
                text_buf_printf(out, " %s %d", op == '-' ? "borrow" : "carry", out_carry);
            text_buf_puts(out, ".\n");
        }
        value += written * place;
        place *= 10;
        carry = out_carry;
    }
    cw->n = n;
    if (carry)
        return -1; /* a borrow out of the top column: below zero */
    return planted && value <= 999 ? value : -1;
}

/* Run the problem, with step `wrong` (or -1) worked with the slip, the last
 * operation left out when drop is set. Returns the final value, or -1 when
 * the slip does not fit or a value leaves 0..999. */
static int run(const arith_problem *p, int wrong, const arith_slip *slip, bool drop,
               arith_step *steps, int *n_steps) {
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
            s = (arith_step){.a = o->y, .b = o->x, .op = 'x', .op_index = i};
            break;
        case OP_ADD:
            s = (arith_step){.a = v, .b = o->x, .op = '+', .op_index = i};
            break;
        case OP_SUB:
            s = (arith_step){.a = v, .b = o->x, .op = '-', .op_index = i};
            break;
        case OP_MUL:
            s = (arith_step){.a = v, .b = o->x, .op = 'x', .op_index = i};
            break;
        case OP_BOXES_ADD: {
            arith_step prod = {.a = o->y, .b = o->x, .op = 'x', .op_index = i};
            if (n == wrong)
                prod.slip = *slip;
            prod.result = work_columns(NULL, prod.a, prod.op, prod.b, &prod.slip, NULL);
            if (prod.result < 0)
                return -1;
            steps[n++] = prod;
            s = (arith_step){.a = v, .b = prod.result, .op = '+', .op_index = i, .second = true};
            break;
        }
        }
        if (n == wrong)
            s.slip = *slip;
        s.result = work_columns(NULL, s.a, s.op, s.b, &s.slip, NULL);
        if (s.result < 0)
            return -1;
        steps[n++] = s;
        v = s.result;
    }
    *n_steps = n;
    return v;
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

/* Write the <label> of "Step i: <label>: a + b.": the question's sentence
 * without its period. The sum after a box purchase is "<name> adds them".
 * models/README.md shows the bundled teacher copying these words, where its
 * predecessor swapped them in paraphrases. */
static void step_label(text_buf *b, const arith_problem *p, const arith_step *s) {
    if (s->second) {
        text_buf_printf(b, "%s adds them", p->name);
        return;
    }
    op_sentence(b, p, s->op_index);
    text_buf_trim(b, 1);
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

/* "Step i: <label>: a op b.", the column lines, "So a op b = c." */
static void write_step(text_buf *b, const arith_problem *p, const arith_step *s, int number) {
    text_buf_printf(b, "Step %d: ", number);
    step_label(b, p, s);
    text_buf_printf(b, ": %d %s %d.\n", s->a, op_symbol(s->op), s->b);
    work_columns(b, s->a, s->op, s->b, &s->slip, NULL);
    text_buf_printf(b, "So %d %s %d = %d.\n", s->a, op_symbol(s->op), s->b, s->result);
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
            text_buf_printf(&e, "%d %s %d", o->y, op_symbol('x'), o->x);
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
            text_buf_printf(&e, " + %d %s %d", o->y, op_symbol('x'), o->x);
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
        text_buf_printf(b, "+ %d %s %d", o->y, op_symbol('x'), o->x);
        break;
    default:
        break;
    }
}

/* Pick an operation that keeps v in 0..limit; returns the new value. */
static int pick_op(uint64_t *rng, arith_op *o, int v, bool allow_mul, int limit) {
    int add_max = limit - v < 99 ? limit - v : 99;
    for (;;) {
        int k = rng_range(rng, 0, 9);
        if (k < 4 && add_max >= 2) {
            *o = (arith_op){OP_ADD, rng_range(rng, 2, add_max), 0, rng_range(rng, 0, 2), 0};
            return v + o->x;
        }
        if (k >= 4 && k < 8 && v >= 3) {
            int hi = v - 1 < 99 ? v - 1 : 99;
            *o = (arith_op){OP_SUB, rng_range(rng, 1, hi), 0, rng_range(rng, 0, 2), 0};
            return v - o->x;
        }
        if (k >= 8 && allow_mul && v * 2 <= limit) {
            *o = (arith_op){OP_MUL, v * 3 <= limit ? rng_range(rng, 2, 3) : 2, 0, 0, 0};
            return v * o->x;
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

    /* Patterns: steps = calculations. Three-step problems keep every value
     * below 100 (two columns), so that an episode, which holds the column
     * work three times, stays short. */
    int pattern = rng_range(rng, 0, 5);
    static const int n_steps[] = {2, 2, 3, 2, 3, 3};
    int limit = n_steps[pattern] == 3 ? 99 : 999;
    int v = 0;
    bool mul_used = false;
    if (pattern == 1 || pattern == 2) {
        int x = rng_range(rng, 2, 9), y_max = limit / x < 25 ? limit / x : 25;
        p->ops[0] = (arith_op){OP_BOXES_START, x, rng_range(rng, 2, y_max), 0, 0};
        v = p->ops[0].x * p->ops[0].y;
    } else {
        p->ops[0] = (arith_op){OP_START, rng_range(rng, 3, pattern == 4 ? 60 : 99), 0, 0, 0};
        v = p->ops[0].x;
    }
    p->n_ops = 1;
    if (pattern == 3 || pattern == 4) {
        int x = rng_range(rng, 2, 9), y_max = (limit - v) / x < 25 ? (limit - v) / x : 25;
        p->ops[1] = (arith_op){OP_BOXES_ADD, x, rng_range(rng, 2, y_max), 0, 0};
        v += p->ops[1].x * p->ops[1].y;
        p->n_ops = 2;
    }
    /* Operations left: pattern 0 two, 1 one, 2 two, 3 none, 4 one, 5 three. */
    static const int more[] = {2, 1, 2, 0, 1, 3};
    for (int i = 0; i < more[pattern]; i++) {
        arith_op *o = &p->ops[p->n_ops++];
        v = pick_op(rng, o, v, !mul_used, limit);
        mul_used = mul_used || o->kind == OP_MUL;
    }
    for (int i = 0; i < p->n_ops; i++)
        p->other[i] = corpus_names[people[1 + i % MAX_OPS]];
}

/* Choose a slip for step `wrong`: the carry or borrow into a column left
 * out (when the step has one), or a column value off by one. Tries the
 * candidates from a random start; returns the attempt's final value, or -1
 * when none fits. */
static int plant_slip(uint64_t *rng, const arith_problem *p, const arith_step *steps, int wrong,
                      int answer, arith_step *bad, int *n_bad) {
    const arith_step *s = &steps[wrong];
    column_work cw;
    work_columns(NULL, s->a, s->op, s->b, NULL, &cw);
    arith_slip cand[2 * MAX_COLUMNS + MAX_COLUMNS];
    int n_cand = 0, n_carry = 0;
    for (int i = 1; i < cw.n; i++)
        if (cw.carry_in[i] > 0)
            cand[n_cand++] = (arith_slip){SLIP_CARRY, i, 0};
    n_carry = n_cand;
    int cols = cw.n > 0 ? cw.n : 1;
    for (int i = 0; i < cols; i++) {
        cand[n_cand++] = (arith_slip){SLIP_VALUE, i, 1};
        cand[n_cand++] = (arith_slip){SLIP_VALUE, i, -1};
    }
    /* Half of the slips are a forgotten carry or borrow when there is one. */
    int first = n_carry > 0 && rng_range(rng, 0, 1) == 0 ? rng_range(rng, 0, n_carry - 1)
                                                         : rng_range(rng, 0, n_cand - 1);
    for (int k = 0; k < n_cand; k++) {
        const arith_slip *sl = &cand[(first + k) % n_cand];
        int v = run(p, wrong, sl, false, bad, n_bad);
        if (v >= 0 && v != answer)
            return v;
    }
    return -1;
}

/* Recompute step s (the attempt's operands) in columns, as the logical
 * consistency review does. Returns true when the attempt's result holds;
 * otherwise ends with the faulty column and the fix. */
static bool recheck_step(text_buf *b, const arith_step *s, int number, int n_steps) {
    column_work cw;
    text_buf_printf(b, "Step %d: %d %s %d.\n", number, s->a, op_symbol(s->op), s->b);
    int right = work_columns(b, s->a, s->op, s->b, NULL, &cw);
    if (right == s->result) {
        text_buf_printf(b, "So %d %s %d = %d. Correct.\n", s->a, op_symbol(s->op), s->b, right);
        return true;
    }
    text_buf_printf(b, "So %d %s %d = %d, not %d. Wrong", s->a, op_symbol(s->op), s->b, right,
                    s->result);
    const arith_slip *sl = &s->slip;
    if (sl->kind == SLIP_CARRY)
        text_buf_printf(b, ": the %s column leaves out the %s %d", column_names[sl->column],
                        s->op == '-' ? "borrow" : "carry", cw.carry_in[sl->column]);
    else if (sl->kind == SLIP_VALUE && cw.n > 0)
        text_buf_printf(b, ": in the %s column, %s=%d, not %d", column_names[sl->column],
                        cw.lhs[sl->column], cw.value[sl->column], cw.value[sl->column] + sl->delta);
    text_buf_puts(b, ".\n");
    if (number < n_steps)
        text_buf_printf(b, "Fix: redo the steps after step %d with %d.", number, right);
    else
        text_buf_printf(b, "Fix: step %d gives %d.", number, right);
    return false;
}

int arith_make(uint64_t *rng, bool mistake, family_out *out) {
    corpus_task *t = out->task;
    arith_problem p;
    make_problem(rng, &p);

    arith_step steps[MAX_STEPS], bad[MAX_STEPS];
    int n = 0, n_bad = 0;
    int answer = run(&p, -1, NULL, false, steps, &n);

    /* Choose the mistake before writing anything: a slip in one step's
     * column work, or the last operation left out. */
    bool drop = false;
    int bad_answer = answer;
    if (mistake) {
        drop = rng_range(rng, 0, 9) < 4;
        if (!drop) {
            int wrong = rng_range(rng, 0, n - 1);
            bad_answer = plant_slip(rng, &p, steps, wrong, answer, bad, &n_bad);
            drop = bad_answer < 0; /* no slip fits 0..999: leave out the last step instead */
        }
        if (drop)
            bad_answer = run(&p, -1, NULL, true, bad, &n_bad);
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
            text_buf_printf(&fix, "add those steps: %d %s %d, then add that to %d.", steps[n - 2].a,
                            op_symbol('x'), steps[n - 2].b, steps[n - 1].a);
        else
            text_buf_printf(&fix, "add that step: %d %s %d.", steps[n - 1].a,
                            op_symbol(steps[n - 1].op), steps[n - 1].b);
    }
    const char *dropped_s = dropped.data ? dropped.data : "";
    const char *fix_s = fix.data ? fix.data : "";

    /* Logical consistency: recompute the steps in columns from the last back
     * to the first, up to a wrong one. The last sum the review writes is
     * then step 1's, so copying the nearest sum never gives a synthesis the
     * final answer. The generic reflection starts the same way. */
    text_buf check;
    text_buf_init(&check);
    int stop = -1;
    for (int i = n_bad - 1; i >= 0; i--)
        if (!recheck_step(&check, &bad[i], i + 1, n_bad)) {
            stop = i;
            break;
        }
    bool slip = stop >= 0;
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
        text_buf_puts(&b, ". " NO_PROBLEM);
    }
    rc |= take_text(&b, &t->reflection[CORPUS_COMPLETENESS]);

    /* Biases and ethics: nothing to find in a counting problem. */
    text_buf_puts(&b, "The attempt uses only the numbers in the question. " NO_PROBLEM);
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
        const arith_step *s = &bad[stop];
        text_buf_printf(&b, "The reviews find a problem: step %d should be %d %s %d = %d.",
                        stop + 1, s->a, op_symbol(s->op), s->b, apply_op(s->op, s->a, s->b));
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
