/*
 * Unit tests of src/train/schedule: learning rates at the warmup start and
 * end, a quarter of the way and halfway through the decay, and at the last
 * step, each against the closed form worked out here (step k reads the curve
 * at t = k + 1), then monotonicity over whole runs, edge cases
 * (no warmup, warmup only, steps past the end) and input errors. wsd is
 * also checked to match constant exactly before its decay starts.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "train/schedule.h"

static const double PI = 3.14159265358979323846;

/* lr 1e-3, floor 1e-5, 10 warmup steps, 100 decay steps. */
static lr_schedule make(lr_decay d) {
    lr_schedule s = {.lr = 1e-3, .lr_min = 1e-5, .warmup = 10, .total = 110, .decay = d};
    return s;
}

static void test_warmup(void) {
    lr_schedule s = make(LR_DECAY_COSINE);
    ok_near(lr_schedule_at(&s, 0), 1e-3 / 10, 1e-15, "warmup start is lr / warmup");
    ok_near(lr_schedule_at(&s, 4), 1e-3 * 5 / 10, 1e-15, "warmup step 4 is lr·5/warmup");
    ok_near(lr_schedule_at(&s, 9), 1e-3, 1e-15, "warmup end (step warmup - 1) is lr");
    ok_near(lr_schedule_at(&s, -3), 1e-3 / 10, 1e-15, "negative step counts as step 0");
}

static void test_cosine(void) {
    lr_schedule s = make(LR_DECAY_COSINE);
    double span = 1e-3 - 1e-5;
    /* Step 10 is the first decay step: x = 1/100. */
    ok_near(lr_schedule_at(&s, 10), 1e-5 + span * 0.5 * (1.0 + cos(PI / 100.0)), 1e-15,
            "cosine first decay step");
    /* Step 34: x = 25/100, c = (1 + cos(π/4)) / 2 = (2 + √2) / 4. */
    ok_near(lr_schedule_at(&s, 34), 1e-5 + span * (2.0 + sqrt(2.0)) / 4.0, 1e-15,
            "cosine quarter point");
    /* Step 59: x = 50/100, c = 1/2. */
    ok_near(lr_schedule_at(&s, 59), 1e-5 + span / 2.0, 1e-15, "cosine midpoint is the mean");
    ok_near(lr_schedule_at(&s, 109), 1e-5, 1e-15, "cosine last step is lr_min");
    ok_near(lr_schedule_at(&s, 110), 1e-5, 1e-15, "cosine past the end is lr_min");
    ok_near(lr_schedule_at(&s, 1000000), 1e-5, 1e-15, "cosine far past the end is lr_min");
}

static void test_linear(void) {
    lr_schedule s = make(LR_DECAY_LINEAR);
    double span = 1e-3 - 1e-5;
    ok_near(lr_schedule_at(&s, 10), 1e-5 + span * 0.99, 1e-15, "linear first decay step");
    ok_near(lr_schedule_at(&s, 34), 1e-5 + span * 0.75, 1e-15, "linear quarter point");
    ok_near(lr_schedule_at(&s, 59), 1e-5 + span * 0.5, 1e-15, "linear midpoint");
    ok_near(lr_schedule_at(&s, 109), 1e-5, 1e-15, "linear last step is lr_min");
    s.lr_min = 0.0;
    ok_near(lr_schedule_at(&s, 59), 0.5e-3, 1e-15, "linear midpoint with default lr_min 0");
    ok(lr_schedule_at(&s, 109) == 0.0, "linear last step is exactly 0 with lr_min 0");
}

static void test_constant(void) {
    lr_schedule s = make(LR_DECAY_CONSTANT);
    ok_near(lr_schedule_at(&s, 0), 1e-4, 1e-15, "constant still warms up");
    ok(lr_schedule_at(&s, 10) == 1e-3 && lr_schedule_at(&s, 59) == 1e-3 &&
           lr_schedule_at(&s, 109) == 1e-3,
       "constant holds lr to the last step");
    ok(lr_schedule_at(&s, 110) == 1e-5, "constant past the end is lr_min");
}

/* 10 warmup steps, 60 steps at lr, then 40 decay steps: S = 110 − 40 = 70. */
static void test_wsd(void) {
    lr_schedule s = make(LR_DECAY_WSD);
    s.decay_steps = 40;
    lr_schedule c = make(LR_DECAY_CONSTANT);
    double span = 1e-3 - 1e-5;
    ok_near(lr_schedule_at(&s, 0), 1e-4, 1e-15, "wsd still warms up");
    int same = 1;
    for (int64_t k = 0; k < 70; k++)
        if (lr_schedule_at(&s, k) != lr_schedule_at(&c, k))
            same = 0;
    ok(same, "wsd equals constant before decay");
    ok(lr_schedule_at(&s, 69) == 1e-3, "wsd last stable step (t = S) is lr");
    ok_near(lr_schedule_at(&s, 70), 1e-5 + span * 39.0 / 40.0, 1e-15, "wsd first decay step");
    ok_near(lr_schedule_at(&s, 89), 1e-5 + span * 0.5, 1e-15, "wsd decay midpoint");
    ok_near(lr_schedule_at(&s, 109), 1e-5, 1e-15, "wsd last step is lr_min");
    ok_near(lr_schedule_at(&s, 110), 1e-5, 1e-15, "wsd past the end is lr_min");
    s.decay_steps = 100;
    ok_near(lr_schedule_at(&s, 34), 1e-5 + span * 0.75, 1e-15, "wsd full-length decay is linear");
}

static void test_edges(void) {
    lr_schedule s = {.lr = 2.0, .lr_min = 0.0, .warmup = 0, .total = 4, .decay = LR_DECAY_LINEAR};
    ok_near(lr_schedule_at(&s, 0), 1.5, 1e-15, "no warmup: step 0 is f(1) = lr·3/4");
    ok_near(lr_schedule_at(&s, 3), 0.0, 1e-15, "no warmup: last step is lr_min");

    s.warmup = 4;
    ok_near(lr_schedule_at(&s, 0), 0.5, 1e-15, "warmup only: step 0 is lr / 4");
    ok_near(lr_schedule_at(&s, 3), 2.0, 1e-15, "warmup only: last step is lr");

    s.warmup = 1;
    s.total = 1;
    ok_near(lr_schedule_at(&s, 0), 2.0, 1e-15, "one-step run is lr");
}

/* Rates rise strictly through warmup and never rise after it. */
static void test_monotonic(lr_decay d) {
    lr_schedule s = {
        .lr = 3e-4, .lr_min = 3e-5, .warmup = 37, .total = 1000, .decay = d, .decay_steps = 250};
    int rising = 1, falling = 1, bounded = 1;
    double prev = lr_schedule_at(&s, 0);
    for (int64_t k = 1; k < s.total + 5; k++) {
        double cur = lr_schedule_at(&s, k);
        if (k < s.warmup && !(cur > prev))
            rising = 0;
        if (k >= s.warmup && !(cur <= prev))
            falling = 0;
        /* Warmup may start below lr_min. */
        int above = k < s.warmup ? cur > 0.0 : cur >= s.lr_min;
        if (!(above && cur <= s.lr))
            bounded = 0;
        prev = cur;
    }
    ok(rising, "%s: rises strictly through warmup", lr_decay_name(d));
    ok(falling, "%s: never rises after warmup", lr_decay_name(d));
    ok(bounded, "%s: stays within (0, lr], and [lr_min, lr] after warmup", lr_decay_name(d));
}

static void test_check_and_parse(void) {
    lrc_error err;
    lr_schedule s = make(LR_DECAY_COSINE);
    ok(lr_schedule_check(&s, &err) == 0, "valid schedule passes the check");
    s.lr = 0.0;
    ok(lr_schedule_check(&s, &err) < 0 && strstr(err.msg, "lr = 0"), "lr 0 is rejected");
    s = make(LR_DECAY_COSINE);
    s.lr_min = 2e-3;
    ok(lr_schedule_check(&s, &err) < 0 && strstr(err.msg, "lr_min"), "lr_min above lr is rejected");
    s = make(LR_DECAY_COSINE);
    s.warmup = 111;
    ok(lr_schedule_check(&s, &err) < 0 && strstr(err.msg, "warmup"),
       "warmup longer than the run is rejected");
    s = make(LR_DECAY_COSINE);
    s.total = 0;
    ok(lr_schedule_check(&s, &err) < 0 && strstr(err.msg, "total"), "zero steps are rejected");

    lr_decay d = LR_DECAY_COSINE;
    ok(lr_decay_parse("linear", &d, &err) == 0 && d == LR_DECAY_LINEAR, "parse linear");
    ok(lr_decay_parse("constant", &d, &err) == 0 && d == LR_DECAY_CONSTANT, "parse constant");
    ok(lr_decay_parse("cosine", &d, &err) == 0 && d == LR_DECAY_COSINE, "parse cosine");
    ok(lr_decay_parse("exp", &d, &err) < 0 && strstr(err.msg, "'exp'"),
       "unknown decay is rejected by name");
    ok(strcmp(lr_decay_name(LR_DECAY_LINEAR), "linear") == 0, "name of linear");
    ok(lr_decay_parse("wsd", &d, &err) == 0 && d == LR_DECAY_WSD, "parse wsd");
    ok(strcmp(lr_decay_name(LR_DECAY_WSD), "wsd") == 0, "name of wsd");

    s = make(LR_DECAY_WSD);
    s.decay_steps = 40;
    ok(lr_schedule_check(&s, &err) == 0, "wsd with 40 decay steps valid");
    s.decay_steps = 0;
    ok(lr_schedule_check(&s, &err) < 0 && strstr(err.msg, "decay_steps = 0"),
       "wsd without decay steps is rejected");
    s.decay_steps = 101;
    ok(lr_schedule_check(&s, &err) < 0 && strstr(err.msg, "total - warmup = 100"),
       "wsd decay too long rejected");
}

int main(void) {
    test_warmup();
    test_cosine();
    test_linear();
    test_constant();
    test_edges();
    test_monotonic(LR_DECAY_COSINE);
    test_monotonic(LR_DECAY_LINEAR);
    test_monotonic(LR_DECAY_CONSTANT);
    test_wsd();
    test_monotonic(LR_DECAY_WSD);
    test_check_and_parse();
    return done_testing();
}
