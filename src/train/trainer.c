/*
 * The training loop of trainer.h and the Low-Rank Clone model it runs for
 * `lrc distill`.
 *
 * Time: each step is timed from its batch to its last record, its probe
 * included. elapsed_s sums those times across resumes, so time spent paused
 * or writing checkpoints is not counted. The ETA extrapolates this
 * session's mean step time over the steps left.
 *
 * The probe of the LRC model reruns teacher and student on the held-out
 * batch. The student keeps every residual stream (its state has a
 * backward); the frozen teacher keeps only its clone sites, so its stream is
 * rebuilt as x_{l+1} = x_l + att_l·W_oᵀ + mlp_out_l from its embedding rows.
 */
#define _POSIX_C_SOURCE 200809L

#include "train/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"

#define PAUSE_POLL_NS 50000000L /* 50 ms between checks of the flags while paused */
#define MI_MAX_COMPONENTS 32
#define MI_TOKENS_PER_COMPONENT 8

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Loop                                                                     */
/* ------------------------------------------------------------------------ */

int trainer_init(trainer *t, const trainer_config *cfg, const trainer_model *m, adamw *opt,
                 const train_data *data, const char *run_dir, runlog *log, lrc_error *err) {
    memset(t, 0, sizeof *t);
    if (cfg->steps < 1 || cfg->batch < 1 || cfg->seq < 1)
        return lrc_errorf(err, "trainer: steps, batch and seq must be at least 1");
    if (data->seq != cfg->seq)
        return lrc_errorf(err, "trainer: data window %zu differs from seq %zu", data->seq,
                          cfg->seq);
    if (opt->n != m->n_params)
        return lrc_errorf(err, "trainer: optimiser sized for %zu parameters, model has %zu", opt->n,
                          m->n_params);
    if (lr_schedule_check(&cfg->schedule, err) < 0)
        return -1;
    if (strlen(run_dir) >= sizeof t->run_dir)
        return lrc_errorf(err, "%s: run folder path too long", run_dir);

    t->cfg = *cfg;
    t->model = *m;
    t->opt = opt;
    t->data = data;
    t->log = log;
    snprintf(t->run_dir, sizeof t->run_dir, "%s", run_dir);
    t->saved_step = -1;
    t->failed_step = -1;
    checkpoint_hash_bytes(data->ids, data->n_tokens * sizeof *data->ids, t->data_hash);
    atomic_init(&t->pause_requested, 0);
    atomic_init(&t->stop_requested, 0);
    atomic_init(&t->save_requested, 0);
    atomic_init(&t->snapshot, NULL);

    size_t row = cfg->seq + 1;
    t->batch = malloc(cfg->batch * row * sizeof *t->batch);
    t->probe_batch = malloc((data->probe_rows ? data->probe_rows : 1) * row * sizeof *t->batch);
    if (!t->batch || !t->probe_batch) {
        trainer_free(t);
        return lrc_errorf(err, "trainer: out of memory for the batch buffers");
    }
    if (data->probe_rows)
        train_data_probe(data, t->probe_batch);
    return 0;
}

void trainer_free(trainer *t) {
    free(t->batch);
    free(t->probe_batch);
    t->batch = t->probe_batch = NULL;
}

void trainer_request_pause(trainer *t) {
    atomic_store(&t->pause_requested, 1);
}

void trainer_request_resume(trainer *t) {
    atomic_store(&t->pause_requested, 0);
}

void trainer_request_stop(trainer *t) {
    atomic_store(&t->stop_requested, 1);
}

void trainer_request_save(trainer *t) {
    atomic_store(&t->save_requested, 1);
}

int trainer_request_snapshot(trainer *t, trainer_snapshot *snap) {
    trainer_snapshot *none = NULL;
    atomic_store(&snap->done, 0);
    return atomic_compare_exchange_strong(&t->snapshot, &none, snap) ? 0 : -1;
}

int trainer_cancel_snapshot(trainer *t, trainer_snapshot *snap) {
    trainer_snapshot *mine = snap;
    return atomic_compare_exchange_strong(&t->snapshot, &mine, NULL) ? 1 : 0;
}

/* Hand a pending snapshot request its copy of the parameters. */
static void serve_snapshot(trainer *t) {
    trainer_snapshot *snap = atomic_exchange(&t->snapshot, NULL);
    if (!snap)
        return;
    memcpy(snap->params, t->model.params, t->model.n_params * sizeof *snap->params);
    snap->step = t->step;
    atomic_store(&snap->done, 1);
}

int trainer_resume(trainer *t, lrc_error *err) {
    char path[RUNDIR_PATH_MAX + 64];
    if (checkpoint_remove_temps(t->run_dir, err) < 0 ||
        checkpoint_latest(t->run_dir, path, sizeof path, err) < 0)
        return -1;

    checkpoint_state st;
    if (checkpoint_load(path, t->model.tensors, t->model.n_tensors, t->opt, &st, t->cfg.fingerprint,
                        t->cfg.fingerprint_before[0] ? t->cfg.fingerprint_before : NULL, err) < 0) {
        /* A damaged file, unlike changed settings, may have intact older checkpoints. */
        if (!strstr(err->msg, "fingerprint")) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            lrc_errorf(err,
                       "%s; an older step-*.safetensors in %s/checkpoints may still load: write "
                       "its file name into checkpoints/latest and resume again",
                       msg, t->run_dir);
        }
        return -1;
    }
    if (st.data_tokens != (uint64_t)t->data->n_train)
        return lrc_errorf(err,
                          "%s: trained on %llu tokens, but %s now gives %zu; resume with the "
                          "same data file",
                          path, (unsigned long long)st.data_tokens, t->data->path,
                          t->data->n_train);
    if (st.data_hash[0] && strcmp(st.data_hash, t->data_hash) != 0)
        return lrc_errorf(err,
                          "%s: %s now gives other tokens than the run was trained on (data hash "
                          "%s, was %s); resume with the same data file",
                          path, t->data->path, t->data_hash, st.data_hash);
    if (st.step > t->cfg.steps)
        return lrc_errorf(err,
                          "%s: the run is at step %lld, past --steps %lld; give a larger "
                          "--steps",
                          path, (long long)st.step, (long long)t->cfg.steps);

    t->step = st.step;
    t->saved_step = st.step;
    t->elapsed_s = st.elapsed_s;
    snprintf(t->last_checkpoint, sizeof t->last_checkpoint, "%s", path);
    return 0;
}

static void report_event(trainer_report_fn report, void *ctx, const trainer_event *ev) {
    if (report)
        report(ctx, ev);
}

static int save(trainer *t, trainer_report_fn report, void *ctx, lrc_error *err) {
    checkpoint_state st = {
        .step = t->step,
        .data_position = data_window_start(t->data, t->cfg.batch, t->cfg.shuffle, t->cfg.seed,
                                           (uint64_t)t->step, 0),
        .data_tokens = t->data->n_train,
        .elapsed_s = t->elapsed_s,
    };
    memcpy(st.fingerprint, t->cfg.fingerprint, sizeof st.fingerprint);
    memcpy(st.data_hash, t->data_hash, sizeof st.data_hash);

    char path[sizeof t->last_checkpoint];
    lrc_error e;
    const char *warning = NULL;
    if (checkpoint_save(t->run_dir, t->model.tensors, t->model.n_tensors, t->opt, &st, t->cfg.keep,
                        path, sizeof path, &e) < 0) {
        /* "<path> saved, but ...": the checkpoint is durable, only pruning failed. */
        if (!strstr(e.msg, " saved, but")) {
            *err = e;
            return -1;
        }
        warning = e.msg;
    }
    t->saved_step = t->step;
    snprintf(t->last_checkpoint, sizeof t->last_checkpoint, "%s", path);
    trainer_event ev = {.kind = TRAINER_EVENT_SAVE,
                        .total_steps = t->cfg.steps,
                        .checkpoint = t->last_checkpoint,
                        .warning = warning};
    report_event(report, ctx, &ev);
    return 0;
}

static int probe(trainer *t, trainer_report_fn report, void *ctx, lrc_error *err) {
    runlog_probe rec = {.step = t->step};
    if (t->model.probe(t->model.ctx, t->probe_batch, &rec, err) < 0 ||
        runlog_write_probe(t->log, &rec, err) < 0)
        return -1;
    trainer_event ev = {.kind = TRAINER_EVENT_PROBE, .total_steps = t->cfg.steps, .probe = &rec};
    report_event(report, ctx, &ev);
    return 0;
}

static bool probe_enabled(const trainer *t) {
    return t->cfg.probe_every > 0 && t->model.probe && t->data->probe_rows > 0;
}

/* Wait while a pause is requested; returns when resumed or stopped. */
/* Sleep while a pause is requested. A save requested during the pause is
 * written at once, so a paused run can be checkpointed without resuming. */
static int wait_while_paused(trainer *t, trainer_report_fn report, void *ctx, lrc_error *err) {
    if (!atomic_load(&t->pause_requested) || atomic_load(&t->stop_requested))
        return 0;
    trainer_event ev = {.kind = TRAINER_EVENT_PAUSED, .total_steps = t->cfg.steps};
    report_event(report, ctx, &ev);
    struct timespec nap = {0, PAUSE_POLL_NS};
    while (atomic_load(&t->pause_requested) && !atomic_load(&t->stop_requested)) {
        if (atomic_exchange(&t->save_requested, 0) && t->saved_step != t->step &&
            save(t, report, ctx, err) < 0)
            return -1;
        serve_snapshot(t);
        nanosleep(&nap, NULL);
    }
    ev.kind = TRAINER_EVENT_RESUMED;
    report_event(report, ctx, &ev);
    return 0;
}

int trainer_run(trainer *t, trainer_report_fn report, void *report_ctx, trainer_outcome *outcome,
                lrc_error *err) {
    const trainer_config *c = &t->cfg;
    double session_s = 0.0;
    int64_t session_steps = 0;

    if (t->step == 0 && probe_enabled(t)) {
        double t0 = now_s();
        if (probe(t, report, report_ctx, err) < 0)
            return -1;
        t->elapsed_s += now_s() - t0;
    }

    while (t->step < c->steps) {
        serve_snapshot(t);
        if (wait_while_paused(t, report, report_ctx, err) < 0)
            return -1;
        if (atomic_load(&t->stop_requested))
            break;

        /* One step: batch, loss and gradient, clipping, AdamW. */
        double t0 = now_s();
        int64_t k = t->step;
        train_data_batch(t->data, c->batch, c->shuffle, c->seed, (uint64_t)k, t->batch);
        runlog_step rec = {.step = k + 1};
        if (t->model.loss_and_grad(t->model.ctx, t->batch, &rec, err) < 0)
            return lrc_error_prefix(err, "step %lld", (long long)(k + 1));
        rec.grad_norm = clip_grad_norm(t->model.grads, t->model.n_params, c->clip);
        rec.lr = lr_schedule_at(&c->schedule, k);

        if (!isfinite(rec.loss) || !isfinite(rec.grad_norm)) {
            rec.elapsed_s = t->elapsed_s + (now_s() - t0);
            if (runlog_write_step(t->log, &rec, err) < 0)
                return -1;
            t->failed_step = k + 1;
            *outcome = TRAINER_NONFINITE;
            const char *what = isfinite(rec.loss) ? "gradient norm" : "loss";
            double v = isfinite(rec.loss) ? rec.grad_norm : rec.loss;
            const char *bad = "NaN";
            if (isinf(v))
                bad = v > 0 ? "+Inf" : "-Inf";
            if (t->saved_step >= 0)
                lrc_errorf(err,
                           "step %lld: the %s is %s; stopped; last good checkpoint %s (step "
                           "%lld); lower --lr or raise --warmup and resume or restart",
                           (long long)(k + 1), what, bad, t->last_checkpoint,
                           (long long)t->saved_step);
            else
                lrc_errorf(err,
                           "step %lld: the %s is %s; stopped before any checkpoint was saved; "
                           "lower --lr or raise --warmup and restart",
                           (long long)(k + 1), what, bad);
            return 0;
        }

        adamw_step(t->opt, t->model.params, t->model.grads, rec.lr);
        t->step = k + 1;
        double step_s = now_s() - t0;
        rec.tokens_per_s = step_s > 0 ? (double)(c->batch * c->seq) / step_s : 0.0;

        /* Records: step, then probe, then checkpoint (runlog.h). */
        /* A finished run always ends with a probe, so it has a final held-out number. */
        bool do_probe = probe_enabled(t) && (t->step % c->probe_every == 0 || t->step == c->steps);
        session_s += step_s;
        session_steps++;
        rec.elapsed_s = t->elapsed_s + step_s;
        rec.eta_s = runlog_eta_s(session_s, session_steps, c->steps - t->step);
        if (runlog_write_step(t->log, &rec, err) < 0)
            return -1;
        trainer_event ev = {.kind = TRAINER_EVENT_STEP, .total_steps = c->steps, .step = &rec};
        report_event(report, report_ctx, &ev);

        if (do_probe && probe(t, report, report_ctx, err) < 0)
            return -1;
        double end = now_s();
        session_s += end - t0 - step_s;
        t->elapsed_s += end - t0;

        /* A save request made while this step's records were reported counts. */
        bool do_save = atomic_exchange(&t->save_requested, 0) || t->step == c->steps ||
                       (c->save_every > 0 && t->step % c->save_every == 0);
        if (do_save && save(t, report, report_ctx, err) < 0)
            return -1;
    }

    *outcome = t->step >= c->steps ? TRAINER_FINISHED : TRAINER_STOPPED;
    if (t->saved_step != t->step && save(t, report, report_ctx, err) < 0)
        return -1;
    serve_snapshot(t);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The Low-Rank Clone model                                                 */
/* ------------------------------------------------------------------------ */

size_t trainer_mi_components(size_t N, size_t d, size_t r) {
    size_t k = r < d ? r : d;
    if (k > MI_MAX_COMPONENTS)
        k = MI_MAX_COMPONENTS;
    if (k > N / MI_TOKENS_PER_COMPONENT)
        k = N / MI_TOKENS_PER_COMPONENT;
    return k ? k : 1;
}

static int lrc_loss_and_grad(void *ctx, const int32_t *tokens, runlog_step *rec, lrc_error *err) {
    trainer_lrc *lt = ctx;
    lrc_loss_parts parts;
    if (lrc_step_loss_and_grad(lt->s, tokens, &lt->loss, &parts, err) < 0)
        return -1;
    rec->loss = parts.total;
    rec->ce = parts.ce;
    rec->kl = parts.kl;
    rec->clone = 0.0;
    for (int i = 0; i < LRC_N_SITES; i++) {
        rec->clone_site[i] = parts.clone_site[i];
        rec->clone += parts.clone_site[i];
    }
    return 0;
}

/* Argmax and log Σ exp of one row of logits.
 *   row (V) */
static size_t row_stats(const float *row, size_t V, double *logsumexp) {
    size_t best = 0;
    for (size_t v = 1; v < V; v++)
        if (row[v] > row[best])
            best = v;
    double sum = 0.0;
    for (size_t v = 0; v < V; v++)
        sum += exp((double)row[v] - row[best]);
    *logsumexp = row[best] + log(sum);
    return best;
}

static int lrc_probe(void *ctx, const int32_t *tokens, runlog_probe *rec, lrc_error *err) {
    trainer_lrc *lt = ctx;
    lrc_student *s = lt->s;
    const llama_model *teacher = s->teacher;
    size_t T = (size_t)s->T, ld = T + 1, N = (size_t)s->B * T, V = (size_t)s->cfg.V;
    size_t d = (size_t)teacher->cfg.d, r = (size_t)s->r, L = (size_t)s->cfg.n_layers;
    size_t qd = (size_t)teacher->cfg.H * (size_t)teacher->cfg.h;

    if (lrc_forward(s, tokens, ld, err) < 0 ||
        llama_train_forward(&s->teacher_state, &teacher->w, tokens, ld, NULL, err) < 0)
        return lrc_error_prefix(err, "probe");

    /* Top-1 agreement and both perplexities against the next tokens. */
    double nll_t = 0.0, nll_s = 0.0;
    size_t agree = 0;
    for (size_t n = 0; n < N; n++) {
        size_t b = n / T, pos = n % T;
        int32_t target = tokens[b * ld + pos + 1];
        const float *lt_row = s->teacher_state.logits + n * V;
        const float *ls_row = s->student_state.logits + n * V;
        double lse_t, lse_s;
        size_t top_t = row_stats(lt_row, V, &lse_t), top_s = row_stats(ls_row, V, &lse_s);
        agree += top_t == top_s;
        nll_t += lse_t - lt_row[target];
        nll_s += lse_s - ls_row[target];
    }

    /* Per-layer MI between the teacher stream (N, d) and the student's (N, r). */
    for (size_t n = 0; n < N; n++) {
        int32_t tok = tokens[(n / T) * ld + n % T];
        memcpy(lt->teacher_x + n * d, teacher->w.embed + (size_t)tok * d, d * sizeof(float));
    }
    for (size_t l = 0; l < L; l++) {
        const llama_train_sites *site = &s->teacher_state.sites[l];
        blas_linear_accumulate(lt->teacher_x, site->att, teacher->w.layers[l].wo, N, qd, d);
        for (size_t i = 0; i < N * d; i++)
            lt->teacher_x[i] += site->mlp_out[i];
        const float *xs = s->student_state.x + (l + 1) * N * r;
        if (mi_gaussian_cca(&lt->mi, lt->teacher_x, xs, &lt->mi_values[l], NULL, err) < 0)
            return lrc_error_prefix(err, "probe, layer %zu", l);
    }

    rec->mi = lt->mi_values;
    rec->n_layers = L;
    rec->top1 = (double)agree / (double)N;
    rec->ppl_teacher = exp(nll_t / (double)N);
    rec->ppl_student = exp(nll_s / (double)N);
    return 0;
}

int trainer_lrc_init(trainer_lrc *lt, lrc_student *s, const lrc_loss_config *loss, trainer_model *m,
                     lrc_error *err) {
    memset(lt, 0, sizeof *lt);
    if (lrc_loss_config_validate(loss, err) < 0)
        return -1;
    lt->s = s;
    lt->loss = *loss;

    size_t N = (size_t)s->B * (size_t)s->T, d = (size_t)s->teacher->cfg.d, r = (size_t)s->r;
    size_t L = (size_t)s->cfg.n_layers;
    lt->tensors = calloc(s->n_tensors, sizeof *lt->tensors);
    lt->mi_values = calloc(L ? L : 1, sizeof *lt->mi_values);
    lt->teacher_x = malloc(N * d * sizeof *lt->teacher_x);
    if (!lt->tensors || !lt->mi_values || !lt->teacher_x) {
        trainer_lrc_free(lt);
        return lrc_errorf(err, "trainer: out of memory for the probe buffers");
    }
    if (N >= 2 &&
        mi_cca_init(&lt->mi, N, d, r, trainer_mi_components(N, d, r), MI_DEFAULT_RIDGE, err) < 0) {
        trainer_lrc_free(lt);
        return lrc_error_prefix(err, "probe");
    }

    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *src = &s->tensors[i];
        checkpoint_tensor *dst = &lt->tensors[i];
        dst->name = src->name;
        dst->ndim = src->ndim;
        dst->shape[0] = src->shape[0];
        dst->shape[1] = src->shape[1];
        dst->data = s->params + src->offset;
        dst->offset = src->offset;
    }

    *m = (trainer_model){
        .ctx = lt,
        .params = s->params,
        .grads = s->grads,
        .n_params = s->n_params,
        .tensors = lt->tensors,
        .n_tensors = s->n_tensors,
        .loss_and_grad = lrc_loss_and_grad,
        .probe = N >= 2 ? lrc_probe : NULL,
    };
    return 0;
}

void trainer_lrc_free(trainer_lrc *lt) {
    mi_cca_free(&lt->mi);
    free(lt->tensors);
    free(lt->mi_values);
    free(lt->teacher_x);
    memset(lt, 0, sizeof *lt);
}
