/*
 * The training loop on a toy model with a known loss: L(p) = ½‖p − c‖², so
 * the gradient is p − c and its norm before clipping is sqrt(2L) at every
 * step, whatever AdamW did before. The report callback plays the studio: it
 * requests save, pause, resume and stop between steps. Checked: step and
 * probe numbering, the learning rate against the schedule, requests, a stop
 * and resume giving the same parameters as an uninterrupted run, and a
 * non-finite loss naming its step and the last checkpoint.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "train/trainer.h"

#define NP 6

typedef struct toy {
    float params[NP], grads[NP];
    float target[NP];
    checkpoint_tensor tensor;
    int64_t calls;
    int64_t nan_at; /* call number (1-based) that returns NaN, 0 for never */
    double mi[2];
} toy;

static int toy_loss(void *ctx, const int32_t *tokens, runlog_step *rec, lrc_error *err) {
    (void)tokens;
    (void)err;
    toy *m = ctx;
    double loss = 0.0;
    for (int i = 0; i < NP; i++) {
        m->grads[i] = m->params[i] - m->target[i];
        loss += 0.5 * (double)m->grads[i] * m->grads[i];
    }
    m->calls++;
    rec->loss = m->nan_at == m->calls ? NAN : loss;
    rec->ce = loss;
    return 0;
}

static int toy_probe(void *ctx, const int32_t *tokens, runlog_probe *rec, lrc_error *err) {
    (void)err;
    toy *m = ctx;
    m->mi[0] = tokens[0];
    m->mi[1] = 1.0;
    rec->mi = m->mi;
    rec->n_layers = 2;
    rec->top1 = 0.5;
    rec->ppl_teacher = rec->ppl_student = 2.0;
    return 0;
}

static void toy_init(toy *m, trainer_model *tm) {
    memset(m, 0, sizeof *m);
    for (int i = 0; i < NP; i++) {
        m->params[i] = (float)i * 0.1f;
        m->target[i] = 1.0f - (float)i * 0.3f;
    }
    m->tensor = (checkpoint_tensor){
        .name = "toy.weight", .ndim = 2, .shape = {2, 3}, .data = m->params, .offset = 0};
    *tm = (trainer_model){.ctx = m,
                          .params = m->params,
                          .grads = m->grads,
                          .n_params = NP,
                          .tensors = &m->tensor,
                          .n_tensors = 1,
                          .loss_and_grad = toy_loss,
                          .probe = toy_probe};
}

/* Events seen by the callback, and the requests it makes at given steps. */
typedef struct script {
    trainer *t;
    int64_t save_at, pause_at, stop_at;
    bool save_in_pause; /* request a save while paused, resume once it is written */
    int steps, probes, saves, pauses, resumes;
    int64_t last_step;
    bool order_ok, grad_norm_ok, lr_ok;
    lr_schedule sched;
} script;

static void on_event(void *ctx, const trainer_event *ev) {
    script *s = ctx;
    switch (ev->kind) {
    case TRAINER_EVENT_STEP:
        s->steps++;
        s->order_ok = s->order_ok && ev->step->step == s->last_step + 1;
        s->last_step = ev->step->step;
        s->grad_norm_ok =
            s->grad_norm_ok && fabs(ev->step->grad_norm - sqrt(2 * ev->step->ce)) < 1e-5;
        s->lr_ok = s->lr_ok && ev->step->lr == lr_schedule_at(&s->sched, ev->step->step - 1);
        if (ev->step->step == s->save_at)
            trainer_request_save(s->t);
        if (ev->step->step == s->pause_at)
            trainer_request_pause(s->t);
        if (ev->step->step == s->stop_at)
            trainer_request_stop(s->t);
        break;
    case TRAINER_EVENT_PROBE:
        s->probes++;
        s->order_ok = s->order_ok && ev->probe->step == s->last_step;
        break;
    case TRAINER_EVENT_SAVE:
        s->saves++;
        if (s->save_in_pause && s->pauses > s->resumes)
            trainer_request_resume(s->t);
        break;
    case TRAINER_EVENT_PAUSED:
        s->pauses++;
        if (s->save_in_pause)
            trainer_request_save(s->t); /* written while paused, before the resume */
        else
            trainer_request_resume(s->t); /* as the studio's UI thread would */
        break;
    case TRAINER_EVENT_RESUMED:
        s->resumes++;
        break;
    }
}

typedef struct fixture {
    char data_path[256];
    train_data data;
    trainer_config cfg;
} fixture;

static void fixture_init(fixture *f, const char *tmp) {
    lrc_error err;
    snprintf(f->data_path, sizeof f->data_path, "%s/data.u32", tmp);
    FILE *fp = fopen(f->data_path, "wb");
    if (!fp)
        skip_all("cannot write the data file");
    for (uint32_t i = 0; i < 64; i++)
        fwrite(&i, sizeof i, 1, fp);
    fclose(fp);
    memset(&f->data, 0, sizeof f->data);
    if (train_data_load(&f->data, f->data_path, DATA_FORMAT_AUTO, NULL, 64, &err) < 0 ||
        train_data_set_window(&f->data, 4, 2, &err) < 0)
        diag("data: %s", err.msg);
    f->cfg = (trainer_config){
        .steps = 12,
        .batch = 2,
        .seq = 4,
        .shuffle = false,
        .schedule = {.lr = 0.05, .warmup = 3, .total = 12, .decay = LR_DECAY_COSINE},
        .clip = 0.5,
        .probe_every = 4,
        .save_every = 5,
        .keep = 0};
    checkpoint_fingerprint("{\"toy\":1}", f->cfg.fingerprint);
}

/* Run a fresh or resumed trainer in run; returns the outcome or -1. */
static int run_toy(const fixture *f, const char *run, bool resume, toy *m, script *s,
                   int64_t nan_at, lrc_error *err) {
    trainer_model tm;
    toy_init(m, &tm);
    m->nan_at = nan_at;
    adamw opt;
    adamw_config ac = adamw_config_default();
    trainer t;
    runlog log = {.metrics = NULL};
    trainer_outcome outcome = TRAINER_FINISHED;
    int rc = -1;

    if (adamw_init(&opt, NP, &ac, err) < 0)
        return -1;
    if (trainer_init(&t, &f->cfg, &tm, &opt, &f->data, run, &log, err) < 0)
        goto done;
    if (resume && trainer_resume(&t, err) < 0)
        goto done;
    if (runlog_open(&log, run, resume ? t.step : -1, err) < 0)
        goto done;
    s->t = &t;
    s->last_step = t.step;
    s->sched = f->cfg.schedule;
    s->order_ok = s->grad_norm_ok = s->lr_ok = true;
    if (trainer_run(&t, on_event, s, &outcome, err) == 0)
        rc = (int)outcome;

done:
    runlog_close(&log);
    trainer_free(&t);
    adamw_free(&opt);
    return rc;
}

static bool exists(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

int main(void) {
    char tmp[] = "/tmp/test_trainer.XXXXXX";
    if (!mkdtemp(tmp))
        skip_all("cannot create a temporary folder");
    fixture f;
    fixture_init(&f, tmp);
    lrc_error err;
    char straight[300], split[300], nan_run[300];
    snprintf(straight, sizeof straight, "%s/straight", tmp);
    snprintf(split, sizeof split, "%s/split", tmp);
    snprintf(nan_run, sizeof nan_run, "%s/nan", tmp);
    mkdir(straight, 0777);
    mkdir(split, 0777);
    mkdir(nan_run, 0777);
    char cdir[320];
    snprintf(cdir, sizeof cdir, "%s/checkpoints", straight);
    mkdir(cdir, 0777);
    snprintf(cdir, sizeof cdir, "%s/checkpoints", split);
    mkdir(cdir, 0777);
    snprintf(cdir, sizeof cdir, "%s/checkpoints", nan_run);
    mkdir(cdir, 0777);

    /* An uninterrupted run with a save request at 2 and a pause at 7 during
     * which a save is requested. */
    toy a;
    script sa = {.save_at = 2, .pause_at = 7, .save_in_pause = true};
    int rc = run_toy(&f, straight, false, &a, &sa, 0, &err);
    ok(rc == TRAINER_FINISHED, "straight run finishes (%s)", rc < 0 ? err.msg : "ok");
    ok(sa.steps == 12 && sa.order_ok, "12 step records in order, probes after their step");
    ok(sa.probes == 4, "probes at steps 0, 4, 8, 12 (%d)", sa.probes);
    ok(sa.grad_norm_ok, "grad_norm is the norm before clipping, sqrt(2L)");
    ok(sa.lr_ok, "lr of step k is lr_schedule_at(k - 1)");
    ok(sa.pauses == 1 && sa.resumes == 1, "pause and resume requests are picked up");
    snprintf(cdir, sizeof cdir, "%s/checkpoints", straight);
    ok(exists(cdir, "step-000002.safetensors"), "a save request writes a checkpoint");
    ok(exists(cdir, "step-000007.safetensors"), "a save request while paused writes at once");
    ok(exists(cdir, "step-000005.safetensors") && exists(cdir, "step-000010.safetensors") &&
           exists(cdir, "step-000012.safetensors"),
       "checkpoints every 5 steps and at the end");
    ok(sa.saves == 5, "five saves reported (%d)", sa.saves);

    /* Stop at 6, then resume to the end: the same parameters bit for bit. */
    toy b;
    script sb = {.stop_at = 6};
    rc = run_toy(&f, split, false, &b, &sb, 0, &err);
    ok(rc == TRAINER_STOPPED && sb.steps == 6, "a stop request ends the run after step 6");
    snprintf(cdir, sizeof cdir, "%s/checkpoints", split);
    ok(exists(cdir, "step-000006.safetensors"), "the stop saves a checkpoint at step 6");
    script sc = {0};
    rc = run_toy(&f, split, true, &b, &sc, 0, &err);
    ok(rc == TRAINER_FINISHED && sc.steps == 6, "the resumed run does steps 7-12 (%s)",
       rc < 0 ? err.msg : "ok");
    ok(memcmp(a.params, b.params, sizeof a.params) == 0,
       "stop and resume give the parameters of the uninterrupted run");

    /* A NaN loss at the 7th step: outcome, step and last checkpoint named. */
    toy c;
    script sn = {0};
    rc = run_toy(&f, nan_run, false, &c, &sn, 7, &err);
    ok(rc == TRAINER_NONFINITE, "a NaN loss stops the run");
    ok(strstr(err.msg, "step 7:") != NULL, "the message names step 7: %s", err.msg);
    ok(strstr(err.msg, "step-000005.safetensors") != NULL,
       "the message names the last checkpoint, step 5");

    /* A fingerprint mismatch rejects the resume. */
    fixture g = f;
    checkpoint_fingerprint("{\"toy\":2}", g.cfg.fingerprint);
    toy d;
    script sd = {0};
    rc = run_toy(&g, straight, true, &d, &sd, 0, &err);
    ok(rc == -1 && strstr(err.msg, "fingerprint"), "resume with other settings fails: %s", err.msg);

    train_data_free(&f.data);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
