/*
 * ethics: a short situation, two or three options and the letter of the
 * best one. Each situation has good and bad options, each with the reason
 * that judges it ("takes money that belongs to someone else"), and the
 * principle behind the best choice. The chain of thought judges every option
 * in turn, then names the best one and why.
 *
 * Planted mistake: the attempt judges the options by what is easiest for the
 * person and picks a bad one (caught by biases and ethics; the
 * alternative-solutions review, which asks what is fair to everyone, also
 * disagrees).
 *
 * In the tables "@" stands for the main person's name and "#" for another
 * person's.
 */
#include <string.h>

#include "corpus/family.h"

typedef struct ethics_option {
    const char *text;   /* what the person could do */
    const char *reason; /* a verb phrase judging it: "helps the owner get it back" */
} ethics_option;

typedef struct ethics_case {
    const char *situation;
    const char *principle; /* why the good option is best: "it is honest" */
    ethics_option good[2];
    ethics_option bad[2];
} ethics_case;

static const ethics_case cases[] = {
    {"@ finds a wallet with money in it on the street.",
     "it is honest and helps the owner",
     {{"take the wallet to the police", "helps the owner get it back"},
      {"call the number on a card in the wallet", "helps the owner get it back"}},
     {{"keep the money", "takes money that belongs to someone else"},
      {"throw the wallet in a bin", "makes sure the owner never gets it back"}}},
    {"A shop gives @ too much change.",
     "it is honest with the shop",
     {{"tell the cashier and give the extra money back", "is honest with the shop"},
      {"go back and return the extra money", "is honest with the shop"}},
     {{"keep the extra money", "takes money that is not @'s"},
      {"spend the extra money on sweets", "uses money that is not @'s"}}},
    {"# asks to copy @'s homework before class.",
     "it helps # learn without cheating",
     {{"offer to explain the homework to #", "helps # learn"},
      {"say no and offer to study together later", "helps # learn"}},
     {{"let # copy it", "helps # cheat"}, {"laugh at # in front of the class", "is unkind to #"}}},
    {"@ breaks a vase at a friend's house.",
     "it is honest and takes responsibility",
     {{"tell the friend and offer to pay for it", "is honest and makes up for it"},
      {"say sorry and help clean up", "is honest and makes up for it"}},
     {{"hide the pieces under the sofa", "hides the truth"},
      {"say that the cat did it", "is a lie"}}},
    {"@ sees an old man fall on the path.",
     "it helps someone who is hurt",
     {{"help him up and ask if he is hurt", "helps someone who is hurt"},
      {"call for help", "gets help for someone who is hurt"}},
     {{"walk past quickly", "leaves a hurt person alone"},
      {"take a photo and walk on", "leaves a hurt person alone"}}},
    {"A new student sits alone at lunch near @.",
     "it is kind",
     {{"invite the new student to sit with @'s friends", "makes the new student feel welcome"},
      {"say hello and ask the new student's name", "makes the new student feel welcome"}},
     {{"ignore the new student", "leaves the new student alone"},
      {"make jokes about the new student", "is unkind"}}},
    {"@ promised to help # move house on Saturday, then gets asked to a party on the same day.",
     "it keeps a promise",
     {{"help # as promised", "keeps a promise"},
      {"help # and go to the party another time", "keeps a promise"}},
     {{"go to the party without telling #", "breaks a promise without a word"},
      {"tell # that @ is sick", "is a lie"}}},
    {"@ finds the answers to tomorrow's test on the teacher's desk.",
     "it keeps the test fair",
     {{"tell the teacher", "keeps the test fair"},
      {"leave the answers and not look at them", "keeps the test fair"}},
     {{"copy the answers", "is cheating"},
      {"share the answers with the class", "helps everyone cheat"}}},
    {"@ finishes a snack in the park and there is no bin nearby.",
     "it keeps the park clean for everyone",
     {{"carry the wrapper home", "keeps the park clean"},
      {"keep the wrapper until there is a bin", "keeps the park clean"}},
     {{"drop the wrapper on the grass", "makes a mess for others"},
      {"push the wrapper into a bush", "makes a mess for others"}}},
    {"# tells @ a secret and asks @ to keep it.",
     "it keeps #'s trust",
     {{"keep the secret", "keeps #'s trust"},
      {"keep the secret and not joke about it", "keeps #'s trust"}},
     {{"tell the whole class", "breaks #'s trust"},
      {"post the secret online", "breaks #'s trust"}}},
    {"@ sees # being pushed around by older kids.",
     "it protects #",
     {{"tell a teacher", "gets help for #"},
      {"stand with # and ask the kids to stop", "protects #"}},
     {{"join in", "hurts #"}, {"look away", "leaves # without help"}}},
    {"@ borrows #'s bike and scratches it.",
     "it is honest",
     {{"tell # and offer to fix it", "is honest and makes up for it"},
      {"say sorry to # and pay for the repair", "is honest and makes up for it"}},
     {{"give it back and say nothing", "hides the damage"}, {"blame someone else", "is a lie"}}},
    {"@ is late and sees a long line at the bus stop.",
     "it is fair to the others",
     {{"wait at the end of the line", "is fair to the others"},
      {"join the line and wait", "is fair to the others"}},
     {{"push to the front", "is unfair to the others"},
      {"pretend to know someone at the front", "tricks the others"}}},
    {"@ finds a dog with a name tag on the road.",
     "it helps the dog get home",
     {{"call the number on the tag", "helps the dog get home"},
      {"take the dog to the nearest vet", "helps the dog get home"}},
     {{"keep the dog", "takes a pet that belongs to someone else"},
      {"chase the dog away", "puts the dog in danger"}}},
    {"@ and # work on a project, and # does most of the work.",
     "it gives fair credit",
     {{"tell the teacher that # did most of the work", "gives # fair credit"},
      {"thank # in front of the class", "gives # fair credit"}},
     {{"say that @ did most of the work", "takes credit that belongs to #"},
      {"say nothing and take the praise", "takes credit that belongs to #"}}},
    {"@'s old neighbour cannot carry her shopping up the stairs.",
     "it helps someone who needs it",
     {{"offer to carry the bags", "helps someone who needs it"},
      {"carry the heavy bags up for her", "helps someone who needs it"}},
     {{"pretend not to see her", "leaves her without help"},
      {"ask her for money first", "takes advantage of her"}}},
    {"@ is losing a board game with #.",
     "it is fair to #",
     {{"keep playing by the rules", "is fair to #"},
      {"finish the game and congratulate #", "is fair to #"}},
     {{"move pieces when # is not looking", "is cheating"},
      {"knock the board over", "spoils the game for #"}}},
    {"@ sees a tap left running in the school bathroom.",
     "it saves water",
     {{"turn off the tap", "saves water"},
      {"turn off the tap and tell a teacher if it leaks", "saves water"}},
     {{"leave it running", "wastes water"},
      {"splash water on the floor", "makes a mess for others"}}},
    {"# is sick at home and misses a week of school.",
     "it helps # catch up",
     {{"bring # the homework and notes", "helps # catch up"},
      {"call # and explain the lessons", "helps # catch up"}},
     {{"tell others that # is faking", "spreads a lie about #"},
      {"forget about #", "leaves # without help"}}},
    {"@ finds a phone on a seat on the bus.",
     "it helps the owner",
     {{"give it to the bus driver", "helps the owner get it back"},
      {"take it to the lost property office", "helps the owner get it back"}},
     {{"keep the phone", "takes what belongs to someone else"},
      {"sell the phone", "takes what belongs to someone else"}}},
    {"@ hears a rumour about # that may not be true.",
     "it does not hurt # with a rumour",
     {{"not pass it on", "stops a rumour that may hurt #"},
      {"ask # kindly if it is true", "treats # fairly"}},
     {{"tell everyone", "spreads a rumour that may hurt #"},
      {"write it on the board", "spreads a rumour that may hurt #"}}},
    {"@ shouts at # in anger over a small thing.",
     "it mends the harm",
     {{"say sorry to #", "mends the harm"}, {"calm down and apologise to #", "mends the harm"}},
     {{"pretend it never happened", "ignores the harm"}, {"shout again", "makes the harm worse"}}},
    {"@ has a big bag of cherries and # has none.",
     "it is kind and fair",
     {{"offer # some cherries", "is kind and fair"},
      {"share the cherries with #", "is kind and fair"}},
     {{"eat them all in front of #", "is unkind"},
      {"sell one to # at a high price", "takes advantage of #"}}},
    {"@ sees a small bird with a hurt wing in the garden.",
     "it helps the bird",
     {{"put it in a box and call an animal rescue", "gets help for the bird"},
      {"ask an adult to call a vet", "gets help for the bird"}},
     {{"poke it with a stick", "hurts the bird"},
      {"leave it for the cat", "puts the bird in danger"}}},
};

#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* Append s with "@" and "#" replaced by the two names. */
static void put_named(text_buf *b, const char *s, const char *main_name, const char *other) {
    for (const char *p = s; *p; p++) {
        if (*p == '@')
            text_buf_puts(b, main_name);
        else if (*p == '#')
            text_buf_puts(b, other);
        else {
            char c[2] = {*p, '\0'};
            text_buf_puts(b, c);
        }
    }
}

int ethics_make(uint64_t *rng, bool mistake, family_out *out) {
    corpus_task *t = out->task;
    const ethics_case *c = &cases[rng_below(rng, N_CASES)];
    int names[2];
    rng_distinct(rng, corpus_n_names, 2, names);
    const char *who = corpus_names[names[0]], *other = corpus_names[names[1]];

    /* One good option and one or two bad ones, in random order. */
    const ethics_option *opts[3];
    int n = rng_range(rng, 2, 3);
    opts[0] = &c->good[rng_below(rng, 2)];
    int first_bad = (int)rng_below(rng, 2);
    opts[1] = &c->bad[first_bad];
    if (n == 3)
        opts[2] = &c->bad[1 - first_bad];
    int order[3] = {0, 1, 2};
    rng_shuffle(rng, order, n);
    int good_at = 0, bad_at = 0;
    for (int i = 0; i < n; i++) {
        if (order[i] == 0)
            good_at = i;
        if (order[i] == 1)
            bad_at = i; /* the bad option the mistaken attempt picks */
    }
    char good_letter = (char)('a' + good_at), bad_letter = (char)('a' + bad_at);

    text_buf b;
    text_buf_init(&b);
    int rc = 0;

    put_named(&b, c->situation, who, other);
    text_buf_printf(&b, " What should %s do?", who);
    for (int i = 0; i < n; i++) {
        text_buf_printf(&b, "\n%c) ", 'a' + i);
        put_named(&b, opts[order[i]]->text, who, other);
    }
    rc |= take_text(&b, &t->question);
    text_buf_printf(&b, "%c", good_letter);
    rc |= take_text(&b, &t->answer);

    /* Chain of thought: every option judged, then the choice. */
    for (int i = 0; i < n; i++) {
        text_buf_printf(&b, "Option %c: ", 'a' + i);
        put_named(&b, opts[order[i]]->text, who, other);
        text_buf_puts(&b, ". That ");
        put_named(&b, opts[order[i]]->reason, who, other);
        text_buf_puts(&b, ".\n");
    }
    text_buf_printf(&b, "The best choice is %c, because ", good_letter);
    put_named(&b, c->principle, who, other);
    text_buf_printf(&b, ".\nFinal answer: %c", good_letter);
    rc |= take_text(&b, &t->cot);

    if (mistake) {
        /* Judged by what is easiest for the person. */
        t->mistake = CORPUS_MISTAKE_UNETHICAL;
        t->caught_by = CORPUS_BIASES;
        for (int i = 0; i < n; i++) {
            text_buf_printf(&b, "Option %c: ", 'a' + i);
            put_named(&b, opts[order[i]]->text, who, other);
            if (order[i] == 0)
                text_buf_puts(&b, ". That takes more effort.\n");
            else
                text_buf_printf(&b, ". That is easy for %s.\n", who);
        }
        text_buf_printf(&b, "The best choice is %c, because it is the easiest for %s.\n",
                        bad_letter, who);
        text_buf_printf(&b, "Final answer: %c", bad_letter);
        rc |= take_text(&b, &t->attempt);
    } else {
        rc |= dup_text(t->cot ? t->cot : "", &t->attempt);
    }

    /* Biases and ethics: the matching review when the attempt is wrong. */
    text_buf caught;
    text_buf_init(&caught);
    text_buf_printf(&caught,
                    "The attempt judges the options by what is easy for %s, not by what is "
                    "right.\nOption %c: ",
                    who, bad_letter);
    put_named(&caught, opts[1]->text, who, other);
    text_buf_puts(&caught, ". That ");
    put_named(&caught, opts[1]->reason, who, other);
    text_buf_printf(&caught, ".\nFix: option %c is better, because ", good_letter);
    put_named(&caught, c->principle, who, other);
    text_buf_puts(&caught, ".");
    const char *caught_s = caught.data ? caught.data : "";

    if (mistake)
        text_buf_puts(&b, caught_s);
    else
        text_buf_puts(&b, "The attempt judges each option by what is right, not by what is "
                          "easiest. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_BIASES]);

    text_buf_puts(&b, "Each step follows from the one before. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_CONSISTENCY]);

    text_buf_printf(&b, "The attempt looks at every option, a to %c, and picks one. " NO_PROBLEM,
                    'a' + n - 1);
    rc |= take_text(&b, &t->reflection[CORPUS_COMPLETENESS]);

    text_buf_printf(&b,
                    "Another way: ask what is fair to everyone involved. Option %c is, because ",
                    good_letter);
    put_named(&b, c->principle, who, other);
    text_buf_puts(&b, ".\n");
    if (mistake)
        text_buf_printf(&b, "The attempt picks %c, which does not fit. The answer is %c.",
                        bad_letter, good_letter);
    else
        text_buf_puts(&b, "This agrees with the attempt. " NO_PROBLEM);
    rc |= take_text(&b, &t->reflection[CORPUS_ALTERNATIVE]);

    if (mistake)
        text_buf_puts(&b, caught_s);
    else
        text_buf_puts(&b, "Each option is judged by what is right, and the choice follows. The "
                          "attempt is correct.");
    rc |= take_text(&b, &t->reflect);

    if (mistake) {
        text_buf_printf(&b, "The reviews find a problem: option %c ", bad_letter);
        put_named(&b, opts[1]->reason, who, other);
        text_buf_puts(&b, ".");
    } else {
        text_buf_puts(&b, REVIEW_OK);
    }
    rc |= take_text(&b, &out->review);

    if (caught.failed)
        rc = -1;
    text_buf_free(&caught);
    text_buf_free(&b);
    return rc ? -1 : 0;
}
