/*
 * commonsense: questions over the world of world.c. Comparisons (heavier,
 * lighter, longer, shorter) state both figures and compare them; property
 * questions (floats, breaks when dropped, made of, where kept, which to use)
 * state the facts and conclude. Answers are an object name, a room, or
 * yes/no.
 *
 * Planted mistakes: a comparison read backwards (caught by logical
 * consistency) or a wrong fact about an object (caught by information
 * completeness). The alternative-solutions review reaches the answer from
 * the other side, so it also disagrees with a wrong attempt.
 */
#include <stdio.h>
#include <string.h>

#include "corpus/family.h"
#include "corpus/world.h"

typedef enum cs_kind {
    CS_HEAVIER,
    CS_LIGHTER,
    CS_LONGER,
    CS_SHORTER,
    CS_FLOAT,
    CS_BREAK,
    CS_MATERIAL,
    CS_PLACE,
    CS_USE,
    CS_N_KINDS
} cs_kind;

/* The texts a question type writes; family-independent parts are added by
 * commonsense_make. */
typedef struct cs_parts {
    text_buf question, cot, attempt;
    char answer[64], bad_answer[64];
    text_buf facts;  /* completeness review: the facts used, for "no problem" */
    text_buf other;  /* alternative review: the other route, ending in "so ... X." */
    text_buf caught; /* the matching review when there is a mistake */
    text_buf review; /* synthesis first line when there is a mistake */
} cs_parts;

static const world_object *obj(int i) {
    return &world_objects[i];
}

static const char *art(const world_object *o) {
    return world_article(o->name);
}

static void cap_article(text_buf *b, const world_object *o) {
    text_buf_printf(b, "%s %s", art(o)[1] ? "An" : "A", o->name);
}

/* Two objects whose figure differs at least twofold. */
static void pick_pair(uint64_t *rng, bool by_weight, int *a, int *b) {
    for (;;) {
        int ij[2];
        rng_distinct(rng, world_n_objects, 2, ij);
        int x = by_weight ? obj(ij[0])->grams : obj(ij[0])->cm;
        int y = by_weight ? obj(ij[1])->grams : obj(ij[1])->cm;
        if (x >= 2 * y || y >= 2 * x) {
            *a = ij[0];
            *b = ij[1];
            return;
        }
    }
}

static void compare(uint64_t *rng, cs_kind kind, bool mistake, corpus_task *t, cs_parts *p) {
    bool by_weight = kind == CS_HEAVIER || kind == CS_LIGHTER;
    bool want_more = kind == CS_HEAVIER || kind == CS_LONGER;
    static const char *const adjective[] = {"heavier", "lighter", "longer", "shorter"};
    static const char *const opposite[] = {"lighter", "heavier", "shorter", "longer"};
    const char *adj = adjective[kind], *opp = opposite[kind];
    const char *unit = by_weight ? "grams" : "cm";

    int ia, ib;
    pick_pair(rng, by_weight, &ia, &ib);
    const world_object *a = obj(ia), *b = obj(ib);
    int fa = by_weight ? a->grams : a->cm, fb = by_weight ? b->grams : b->cm;
    bool a_wins = want_more ? fa > fb : fa < fb;
    const world_object *win = a_wins ? a : b, *lose = a_wins ? b : a;
    int fw = a_wins ? fa : fb, fl = a_wins ? fb : fa;
    const char *more = want_more ? "more" : "less", *less = want_more ? "less" : "more";

    text_buf_printf(&p->question, "Which is %s, %s %s or %s %s?", adj, art(a), a->name, art(b),
                    b->name);
    snprintf(p->answer, sizeof p->answer, "%s", win->name);

    /* Fact lines in the question's order. */
    const char *verb = by_weight ? "weighs about" : "is about";
    const char *tail = by_weight ? "" : " long";
    cap_article(&p->cot, a);
    text_buf_printf(&p->cot, " %s %d %s%s.\n", verb, fa, unit, tail);
    cap_article(&p->cot, b);
    text_buf_printf(&p->cot, " %s %d %s%s.\n", verb, fb, unit, tail);
    text_buf_printf(&p->cot, "%d is %s than %d, so the %s is %s.\nFinal answer: %s", fw, more, fl,
                    win->name, adj, win->name);
    text_buf_printf(&p->facts, "the %s is about %d %s%s and the %s about %d %s%s", a->name, fa,
                    unit, tail, b->name, fb, unit, tail);
    text_buf_printf(&p->other,
                    "Another way: ask which one is %s. %d is %s than %d, so the %s is %s and the "
                    "%s is %s.",
                    opp, fl, less, fw, lose->name, opp, win->name, adj);

    if (!mistake) {
        text_buf_puts(&p->attempt, p->cot.data);
        snprintf(p->bad_answer, sizeof p->bad_answer, "%s", p->answer);
        return;
    }
    snprintf(p->bad_answer, sizeof p->bad_answer, "%s", lose->name);
    if (rng_range(rng, 0, 1) == 0) {
        /* The comparison read backwards. */
        t->mistake = CORPUS_MISTAKE_REVERSED;
        t->caught_by = CORPUS_CONSISTENCY;
        cap_article(&p->attempt, a);
        text_buf_printf(&p->attempt, " %s %d %s%s.\n", verb, fa, unit, tail);
        cap_article(&p->attempt, b);
        text_buf_printf(&p->attempt, " %s %d %s%s.\n", verb, fb, unit, tail);
        text_buf_printf(&p->attempt, "%d is %s than %d, so the %s is %s.\nFinal answer: %s", fw,
                        less, fl, lose->name, adj, lose->name);
        text_buf_printf(&p->caught,
                        "The attempt says %d is %s than %d. Wrong: %d is %s than %d.\n"
                        "Fix: the %s is %s.",
                        fw, less, fl, fw, more, fl, win->name, adj);
        text_buf_printf(&p->review, "The reviews find a problem: %d is %s than %d, not %s.", fw,
                        more, fl, less);
        return;
    }

    /* A wrong figure for the object that should win, on the losing side. */
    t->mistake = CORPUS_MISTAKE_FACT;
    t->caught_by = CORPUS_COMPLETENESS;
    int wrong = want_more ? fl / 2 : fl * 2;
    if (wrong < 1)
        wrong = 1;
    if (wrong == fl)
        wrong = fl + 1;
    int wa = a_wins ? wrong : fa, wb = a_wins ? fb : wrong;
    cap_article(&p->attempt, a);
    text_buf_printf(&p->attempt, " %s %d %s%s.\n", verb, wa, unit, tail);
    cap_article(&p->attempt, b);
    text_buf_printf(&p->attempt, " %s %d %s%s.\n", verb, wb, unit, tail);
    text_buf_printf(&p->attempt, "%d is %s than %d, so the %s is %s.\nFinal answer: %s", fl, more,
                    wrong, lose->name, adj, lose->name);
    text_buf_printf(&p->caught,
                    "The attempt states a wrong fact: the %s %s %d %s%s, not %d.\n"
                    "Fix: %d is %s than %d, so the %s is %s.",
                    win->name, verb, fw, unit, tail, wrong, fw, more, fl, win->name, adj);
    text_buf_printf(&p->review, "The reviews find a problem: the %s %s %d %s%s, not %d.", win->name,
                    verb, fw, unit, tail, wrong);
}

/* A material other than m whose value of `field` (floats or breaks) is the
 * opposite of want. */
static world_material other_material(uint64_t *rng, world_material m, bool floats, int value) {
    for (;;) {
        world_material x = (world_material)rng_below(rng, MAT_COUNT);
        int v = floats ? world_materials[x].floats : world_materials[x].breaks;
        if (x != m && v == value)
            return x;
    }
}

static void material_line(text_buf *b, world_material m, bool floats) {
    const world_material_info *mi = &world_materials[m];
    char cap[32];
    snprintf(cap, sizeof cap, "%s", mi->name);
    cap[0] = (char)(cap[0] - 'a' + 'A');
    if (floats)
        text_buf_printf(b, "%s %s in water.", cap, mi->floats > 0 ? "floats" : "sinks");
    else
        text_buf_printf(b, "%s %s when it falls on a stone floor.", cap,
                        mi->breaks > 0 ? "breaks" : "does not break");
}

/* Does it float / break: yes or no from the material. */
static void property(uint64_t *rng, bool floats, bool mistake, corpus_task *t, cs_parts *p) {
    int i;
    do
        i = (int)rng_below(rng, (uint32_t)world_n_objects);
    while ((floats ? world_materials[obj(i)->material].floats
                   : world_materials[obj(i)->material].breaks) == 0);
    const world_object *o = obj(i);
    world_material m = o->material;
    int v = floats ? world_materials[m].floats : world_materials[m].breaks;
    const char *yes = v > 0 ? "yes" : "no", *no = v > 0 ? "no" : "yes";

    if (floats)
        text_buf_printf(&p->question, "Does %s %s float in water?", art(o), o->name);
    else
        text_buf_printf(&p->question, "Will %s %s break if it falls on a stone floor?", art(o),
                        o->name);
    snprintf(p->answer, sizeof p->answer, "%s", yes);

    const char *verb_yes = floats ? "floats" : "breaks";
    const char *verb_no = floats ? "sinks" : "does not break";
    const char *verb = v > 0 ? verb_yes : verb_no;
    cap_article(&p->cot, o);
    text_buf_printf(&p->cot, " is made of %s.\n", world_materials[m].name);
    material_line(&p->cot, m, floats);
    text_buf_printf(&p->cot, "\nSo %s %s %s.\nFinal answer: %s", art(o), o->name, verb, yes);
    text_buf_printf(&p->facts, "%s %s is made of %s", art(o), o->name, world_materials[m].name);
    text_buf_printf(&p->other, "Another way: start from the material. ");
    material_line(&p->other, m, floats);
    text_buf_printf(&p->other, " The %s is made of %s, so the answer is %s.", o->name,
                    world_materials[m].name, yes);

    if (!mistake) {
        text_buf_puts(&p->attempt, p->cot.data);
        snprintf(p->bad_answer, sizeof p->bad_answer, "%s", yes);
        return;
    }
    t->mistake = CORPUS_MISTAKE_FACT;
    t->caught_by = CORPUS_COMPLETENESS;
    world_material w = other_material(rng, m, floats, -v);
    cap_article(&p->attempt, o);
    text_buf_printf(&p->attempt, " is made of %s.\n", world_materials[w].name);
    material_line(&p->attempt, w, floats);
    text_buf_printf(&p->attempt, "\nSo %s %s %s.\nFinal answer: %s", art(o), o->name,
                    v > 0 ? verb_no : verb_yes, no);
    snprintf(p->bad_answer, sizeof p->bad_answer, "%s", no);
    text_buf_printf(&p->caught, "The attempt states a wrong fact: %s %s is made of %s, not %s.\n",
                    art(o), o->name, world_materials[m].name, world_materials[w].name);
    text_buf_puts(&p->caught, "Fix: ");
    material_line(&p->caught, m, floats);
    text_buf_printf(&p->caught, " So the answer is %s.", yes);
    text_buf_printf(&p->review, "The reviews find a problem: %s %s is made of %s, not %s.", art(o),
                    o->name, world_materials[m].name, world_materials[w].name);
}

/* Is it made of M: yes or no. */
static void made_of(uint64_t *rng, bool mistake, corpus_task *t, cs_parts *p) {
    const world_object *o = obj((int)rng_below(rng, (uint32_t)world_n_objects));
    world_material m = o->material, asked = m;
    if (rng_range(rng, 0, 1))
        while (asked == m)
            asked = (world_material)rng_below(rng, MAT_COUNT);
    bool is = asked == m;
    const char *yes = is ? "yes" : "no";

    text_buf_printf(&p->question, "Is %s %s made of %s?", art(o), o->name,
                    world_materials[asked].name);
    snprintf(p->answer, sizeof p->answer, "%s", yes);
    cap_article(&p->cot, o);
    text_buf_printf(&p->cot, " is made of %s.\n", world_materials[m].name);
    if (is)
        text_buf_printf(&p->cot, "That is %s.\n", world_materials[asked].name);
    else
        text_buf_printf(&p->cot, "%s is not %s.\n", world_materials[m].name,
                        world_materials[asked].name);
    text_buf_printf(&p->cot, "Final answer: %s", yes);
    text_buf_printf(&p->facts, "%s %s is made of %s", art(o), o->name, world_materials[m].name);
    text_buf_printf(&p->other,
                    "Another way: name the material of the %s first. It is %s, so the "
                    "answer is %s.",
                    o->name, world_materials[m].name, yes);

    if (!mistake) {
        text_buf_puts(&p->attempt, p->cot.data);
        snprintf(p->bad_answer, sizeof p->bad_answer, "%s", yes);
        return;
    }
    t->mistake = CORPUS_MISTAKE_FACT;
    t->caught_by = CORPUS_COMPLETENESS;
    /* Claim another material when the answer is yes, the asked one when it is no. */
    world_material w = asked;
    while (is && w == m)
        w = (world_material)rng_below(rng, MAT_COUNT);
    cap_article(&p->attempt, o);
    text_buf_printf(&p->attempt, " is made of %s.\n", world_materials[w].name);
    if (w == asked)
        text_buf_printf(&p->attempt, "That is %s.\n", world_materials[asked].name);
    else
        text_buf_printf(&p->attempt, "%s is not %s.\n", world_materials[w].name,
                        world_materials[asked].name);
    const char *no = is ? "no" : "yes";
    text_buf_printf(&p->attempt, "Final answer: %s", no);
    snprintf(p->bad_answer, sizeof p->bad_answer, "%s", no);
    text_buf_printf(&p->caught,
                    "The attempt states a wrong fact: %s %s is made of %s, not %s.\n"
                    "Fix: so the answer is %s.",
                    art(o), o->name, world_materials[m].name, world_materials[w].name, yes);
    text_buf_printf(&p->review, "The reviews find a problem: %s %s is made of %s, not %s.", art(o),
                    o->name, world_materials[m].name, world_materials[w].name);
}

/* Where is it kept: one of two rooms. */
static void place(uint64_t *rng, bool mistake, corpus_task *t, cs_parts *p) {
    const world_object *o = obj((int)rng_below(rng, (uint32_t)world_n_objects));
    int other;
    do
        other = (int)rng_below(rng, (uint32_t)world_n_places);
    while (other == o->place);
    const char *right = world_places[o->place], *wrong = world_places[other];
    bool right_first = rng_range(rng, 0, 1) == 0;

    const char *right_at = world_place_phrases[o->place], *wrong_at = world_place_phrases[other];
    text_buf_printf(&p->question, "Where is %s %s usually kept: %s or %s?", art(o), o->name,
                    right_first ? right_at : wrong_at, right_first ? wrong_at : right_at);
    snprintf(p->answer, sizeof p->answer, "%s", right);
    cap_article(&p->cot, o);
    text_buf_printf(&p->cot, " is usually kept %s.\nFinal answer: %s", right_at, right);
    text_buf_printf(&p->facts, "%s %s is usually kept %s", art(o), o->name, right_at);
    text_buf_printf(&p->other,
                    "Another way: think of what the %s is for. It is used to %s, which fits the "
                    "%s, so the answer is %s.",
                    o->name, o->use, right, right);

    if (!mistake) {
        text_buf_puts(&p->attempt, p->cot.data);
        snprintf(p->bad_answer, sizeof p->bad_answer, "%s", right);
        return;
    }
    t->mistake = CORPUS_MISTAKE_FACT;
    t->caught_by = CORPUS_COMPLETENESS;
    cap_article(&p->attempt, o);
    text_buf_printf(&p->attempt, " is usually kept %s.\nFinal answer: %s", wrong_at, wrong);
    snprintf(p->bad_answer, sizeof p->bad_answer, "%s", wrong);
    text_buf_printf(&p->caught,
                    "The attempt states a wrong fact: %s %s is usually kept %s, not %s.\n"
                    "Fix: the answer is %s.",
                    art(o), o->name, right_at, wrong_at, right);
    text_buf_printf(&p->review, "The reviews find a problem: %s %s is usually kept %s, not %s.",
                    art(o), o->name, right_at, wrong_at);
}

/* Which of two objects to use for a job. */
static void use(uint64_t *rng, bool mistake, corpus_task *t, cs_parts *p) {
    int ij[2];
    rng_distinct(rng, world_n_objects, 2, ij);
    const world_object *a = obj(ij[0]), *b = obj(ij[1]); /* a is the right one */
    bool a_first = rng_range(rng, 0, 1) == 0;
    const world_object *x = a_first ? a : b, *y = a_first ? b : a;

    text_buf_printf(&p->question, "Which would you use to %s: %s %s or %s %s?", a->use, art(x),
                    x->name, art(y), y->name);
    snprintf(p->answer, sizeof p->answer, "%s", a->name);
    cap_article(&p->cot, x);
    text_buf_printf(&p->cot, " is used to %s.\n", x->use);
    cap_article(&p->cot, y);
    text_buf_printf(&p->cot, " is used to %s.\nSo you would use the %s.\nFinal answer: %s", y->use,
                    a->name, a->name);
    text_buf_printf(&p->facts, "the %s is used to %s and the %s is used to %s", x->name, x->use,
                    y->name, y->use);
    text_buf_printf(&p->other,
                    "Another way: ask what the %s is for. It is used to %s, not to %s, so the "
                    "answer is the %s.",
                    b->name, b->use, a->use, a->name);

    if (!mistake) {
        text_buf_puts(&p->attempt, p->cot.data);
        snprintf(p->bad_answer, sizeof p->bad_answer, "%s", a->name);
        return;
    }
    t->mistake = CORPUS_MISTAKE_FACT;
    t->caught_by = CORPUS_COMPLETENESS;
    /* The two uses swapped. */
    cap_article(&p->attempt, x);
    text_buf_printf(&p->attempt, " is used to %s.\n", y->use);
    cap_article(&p->attempt, y);
    text_buf_printf(&p->attempt, " is used to %s.\nSo you would use the %s.\nFinal answer: %s",
                    x->use, b->name, b->name);
    snprintf(p->bad_answer, sizeof p->bad_answer, "%s", b->name);
    text_buf_printf(&p->caught,
                    "The attempt states wrong facts: the %s is used to %s, and the %s is used to "
                    "%s.\nFix: you would use the %s.",
                    a->name, a->use, b->name, b->use, a->name);
    text_buf_printf(&p->review, "The reviews find a problem: the %s is used to %s, not the %s.",
                    a->name, a->use, b->name);
}

int commonsense_make(uint64_t *rng, bool mistake, family_out *out) {
    corpus_task *t = out->task;
    cs_parts p;
    memset(&p, 0, sizeof p);
    text_buf *bufs[] = {&p.question, &p.cot, &p.attempt, &p.facts, &p.other, &p.caught, &p.review};
    const int n_bufs = (int)(sizeof bufs / sizeof bufs[0]);
    for (int i = 0; i < n_bufs; i++)
        text_buf_init(bufs[i]);

    cs_kind kind = (cs_kind)rng_below(rng, CS_N_KINDS);
    switch (kind) {
    case CS_HEAVIER:
    case CS_LIGHTER:
    case CS_LONGER:
    case CS_SHORTER:
        compare(rng, kind, mistake, t, &p);
        break;
    case CS_FLOAT:
    case CS_BREAK:
        property(rng, kind == CS_FLOAT, mistake, t, &p);
        break;
    case CS_MATERIAL:
        made_of(rng, mistake, t, &p);
        break;
    case CS_PLACE:
        place(rng, mistake, t, &p);
        break;
    case CS_USE:
    default:
        use(rng, mistake, t, &p);
        break;
    }

    int rc = 0;
    for (int i = 0; i < n_bufs; i++)
        if (bufs[i]->failed)
            rc = -1;
    text_buf b;
    text_buf_init(&b);
    bool wrong = mistake;
    const char *other_text = p.other.data ? p.other.data : "";
    const char *facts = p.facts.data ? p.facts.data : "";
    const char *caught = p.caught.data ? p.caught.data : "";

    rc |= dup_text(p.question.data ? p.question.data : "", &t->question);
    rc |= dup_text(p.answer, &t->answer);
    rc |= dup_text(p.cot.data ? p.cot.data : "", &t->cot);
    rc |= dup_text(p.attempt.data ? p.attempt.data : "", &t->attempt);

    /* Logical consistency. */
    if (wrong && t->caught_by == CORPUS_CONSISTENCY)
        text_buf_puts(&b, caught);
    else
        text_buf_puts(&b, "Each step follows from the facts before it. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_CONSISTENCY]);

    /* Information completeness. */
    if (wrong && t->caught_by == CORPUS_COMPLETENESS)
        text_buf_puts(&b, caught);
    else
        text_buf_printf(
            &b, "The attempt uses the facts it needs, and they are right: %s. " NO_PROBLEM, facts);
    rc |= take_text(&b, &t->reflection[CORPUS_COMPLETENESS]);

    text_buf_puts(&b, "The question is about objects, not people, so no stereotype or harm is "
                      "involved. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_BIASES]);

    /* Alternative solutions: the other route, compared with the attempt. */
    text_buf_printf(&b, "%s\n", other_text);
    rc |= take_alternative(&b, wrong, p.bad_answer, p.answer, &t->reflection[CORPUS_ALTERNATIVE]);

    if (wrong)
        text_buf_puts(&b, caught);
    else
        text_buf_puts(&b, "The facts are right and each step follows from them. The attempt is "
                          "correct.");
    rc |= take_text(&b, &t->reflect);

    if (wrong)
        text_buf_puts(&b, p.review.data ? p.review.data : "");
    else
        text_buf_puts(&b, REVIEW_OK);
    rc |= take_text(&b, &out->review);

    for (int i = 0; i < n_bufs; i++)
        text_buf_free(bufs[i]);
    return rc ? -1 : 0;
}
