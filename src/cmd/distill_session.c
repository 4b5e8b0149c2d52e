/*
 * The distillation run shared by `lrc distill` and the studio
 * (distill_session.h): settings to and from run.json, loading and checking
 * the teacher, data and student, the trainer and the export of RUN/student.
 */
#define _POSIX_C_SOURCE 200809L

#include "cmd/distill_session.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/train_common.h"
#include "core/blas.h"
#include "hub/hub_cache.h"

void distill_options_default(distill_options *o) {
    *o = (distill_options){.steps = 1000,
                           .batch = 4,
                           .seq = 256,
                           .lr = 1e-3,
                           .weight_decay = 0.01,
                           .clip = 1.0,
                           .kl_temp = 1.0,
                           .ce_weight = 1.0,
                           .kl_weight = 1.0,
                           .clone_weight = 1.0,
                           .seed = 1,
                           .shuffle = true,
                           .schedule = LR_DECAY_COSINE,
                           .probe_every = 50,
                           .save_every = 200};
}

int distill_options_check(distill_options *o) {
    if (!o->teacher || !o->rank || !o->data) {
        cmd_fail("distill: missing %s; run 'lrc distill --help'", !o->teacher ? "--teacher DIR"
                                                                  : !o->rank  ? "--rank R"
                                                                              : "--data FILE");
        return TRAIN_EXIT_USAGE;
    }
    if (o->init && o->init_method_given) {
        cmd_fail("distill: --init and --init-method cannot be given together (--init loads "
                 "every tensor from its file); drop one of them");
        return TRAIN_EXIT_USAGE;
    }
    int rc = train_check_warmup("distill", o->warmup_given, o->steps, &o->warmup);
    if (rc != 0)
        return rc;
    return train_check_decay("distill", o->schedule, o->decay_steps_given, o->steps, o->warmup,
                             &o->decay_steps);
}

/* ------------------------------------------------------------------------ */
/* Settings (run.json)                                                      */
/* ------------------------------------------------------------------------ */

static cJSON *settings_json(const distill_options *o, size_t probe_rows) {
    char teacher[4096], data[4096], init[4096];
    train_absolute_path(teacher, sizeof teacher, o->teacher);
    train_absolute_path(data, sizeof data, o->data);
    if (o->init)
        train_absolute_path(init, sizeof init, o->init);

    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "distill");
    cJSON_AddStringToObject(j, "teacher", teacher);
    cJSON_AddNumberToObject(j, "rank", (double)o->rank);
    cJSON_AddStringToObject(j, "data", data);
    cJSON_AddNumberToObject(j, "steps", (double)o->steps);
    cJSON_AddNumberToObject(j, "batch", (double)o->batch);
    cJSON_AddNumberToObject(j, "seq", (double)o->seq);
    cJSON_AddNumberToObject(j, "lr", o->lr);
    cJSON_AddNumberToObject(j, "lr_min", 0.0);
    cJSON_AddNumberToObject(j, "warmup", (double)o->warmup);
    cJSON_AddStringToObject(j, "schedule", lr_decay_name(o->schedule));
    train_json_add_decay(j, o->schedule, o->decay_steps);
    cJSON_AddNumberToObject(j, "weight_decay", o->weight_decay);
    cJSON_AddNumberToObject(j, "adam_beta1", 0.9);
    cJSON_AddNumberToObject(j, "adam_beta2", 0.999);
    cJSON_AddNumberToObject(j, "adam_eps", 1e-8);
    cJSON_AddNumberToObject(j, "clip", o->clip);
    cJSON_AddNumberToObject(j, "kl_temp", o->kl_temp);
    cJSON_AddNumberToObject(j, "ce_weight", o->ce_weight);
    cJSON_AddNumberToObject(j, "kl_weight", o->kl_weight);
    cJSON_AddNumberToObject(j, "clone_weight", o->clone_weight);
    cJSON_AddNumberToObject(j, "seed", o->seed);
    cJSON_AddStringToObject(j, "shuffle", train_shuffle_name(o->shuffle, o->align_docs));
    if (o->init)
        cJSON_AddStringToObject(j, "init", init);
    else
        cJSON_AddNullToObject(j, "init");
    cJSON_AddStringToObject(j, "init_method", o->svd ? "svd" : "random");
    cJSON_AddBoolToObject(j, "tie_head", true);
    cJSON_AddNumberToObject(j, "probe_every", (double)o->probe_every);
    cJSON_AddNumberToObject(j, "probe_rows", (double)probe_rows);
    cJSON_AddNumberToObject(j, "save_every", (double)o->save_every);
    cJSON_AddNumberToObject(j, "keep_checkpoints", DISTILL_KEEP_CHECKPOINTS);
    cJSON_AddNumberToObject(j, "threads", (double)o->threads);
    return j;
}

/* Fill o from a run's settings (strings point into settings). */
static int options_from_settings(distill_options *o, const cJSON *s, const char *run) {
    const char *shuffle, *method;
    if (train_json_string("distill", s, run, "teacher", false, &o->teacher) < 0 ||
        train_json_string("distill", s, run, "data", false, &o->data) < 0 ||
        train_json_string("distill", s, run, "init", true, &o->init) < 0 ||
        train_json_string("distill", s, run, "shuffle", false, &shuffle) < 0 ||
        train_json_string("distill", s, run, "init_method", false, &method) < 0 ||
        train_json_long("distill", s, run, "rank", &o->rank) < 0 ||
        train_json_long("distill", s, run, "batch", &o->batch) < 0 ||
        train_json_long("distill", s, run, "seq", &o->seq) < 0 ||
        train_json_long("distill", s, run, "warmup", &o->warmup) < 0 ||
        train_json_long("distill", s, run, "probe_every", &o->probe_every) < 0 ||
        train_json_number("distill", s, run, "lr", &o->lr) < 0 ||
        train_json_number("distill", s, run, "weight_decay", &o->weight_decay) < 0 ||
        train_json_number("distill", s, run, "clip", &o->clip) < 0 ||
        train_json_number("distill", s, run, "kl_temp", &o->kl_temp) < 0 ||
        train_json_number("distill", s, run, "ce_weight", &o->ce_weight) < 0 ||
        train_json_number("distill", s, run, "kl_weight", &o->kl_weight) < 0 ||
        train_json_number("distill", s, run, "clone_weight", &o->clone_weight) < 0 ||
        train_json_number("distill", s, run, "seed", &o->seed) < 0)
        return -1;
    if (!o->steps_given && train_json_long("distill", s, run, "steps", &o->steps) < 0)
        return -1;
    if (!o->save_every_given &&
        train_json_long("distill", s, run, "save_every", &o->save_every) < 0)
        return -1;
    if (train_resume_decay("distill", s, run, o->schedule_given, &o->schedule, o->decay_steps_given,
                           o->steps, o->warmup, &o->decay_steps) < 0)
        return -1;
    if (train_resume_shuffle("distill", run, shuffle, &o->shuffle, &o->align_docs) < 0)
        return -1;
    o->svd = strcmp(method, "svd") == 0;
    if (o->rank < 1 || o->batch < 1 || o->seq < 1 || o->warmup < 0 || o->probe_every < 0 ||
        o->save_every < 0) {
        cmd_fail("distill: %s/run.json: rank, batch, seq, warmup, probe_every or save_every is "
                 "out of range; the run folder is damaged, start a new run",
                 run);
        return -1;
    }
    if (o->warmup + o->decay_steps > o->steps) {
        cmd_fail("distill: --steps %ld is below the run's warmup and decay of %ld steps; give a "
                 "larger --steps",
                 o->steps, o->warmup + o->decay_steps);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Run                                                                      */
/* ------------------------------------------------------------------------ */

void distill_session_free(distill_session *s) {
    runlog_close(&s->log);
    trainer_free(&s->tr);
    trainer_lrc_free(&s->lt);
    adamw_free(&s->opt);
    lrc_free(&s->student);
    train_data_free(&s->data);
    if (s->tok)
        tokenizer_free(s->tok);
    rundir_unlock(&s->rd);
    llama_model_free(&s->teacher);
    cJSON_Delete(s->settings);
}

/* Load the teacher, data and student and check them against o, creating
 * nothing on disk. With resume, the parameters come later from the
 * checkpoint, so the init is the cheap random one. */
static int prepare(distill_session *s, distill_options *o, bool resume) {
    lrc_error err;
    /* A cached Hub model (ORG/NAME[@REV]) becomes its snapshot folder, which
     * run.json then records, so a resume loads the same commit. */
    if (hub_resolve_model_arg(s->teacher_dir, sizeof s->teacher_dir, o->teacher, &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    o->teacher = s->teacher_dir;
    if (!hub_snapshot_identify(o->teacher, s->teacher_hub, s->teacher_commit))
        s->teacher_hub[0] = s->teacher_commit[0] = '\0';
    if (llama_model_load(&s->teacher, o->teacher, &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    const llama_config *tc = &s->teacher.cfg;
    if (o->rank > tc->d) {
        cmd_fail("distill: --rank %ld exceeds the hidden size %d of teacher %s; give a rank in "
                 "1..%d",
                 o->rank, tc->d, o->teacher, tc->d);
        return -1;
    }
    if (tc->max_seq > 0 && o->seq > tc->max_seq) {
        cmd_fail("distill: --seq %ld exceeds the context of %d tokens of teacher %s; give a "
                 "smaller --seq",
                 o->seq, tc->max_seq, o->teacher);
        return -1;
    }

    /* The tokenizer is needed for text and JSONL; .u32 ids need none. */
    lrc_error tok_err;
    if (tokenizer_load(&s->tok, o->teacher, &tok_err) < 0)
        s->tok = NULL;
    if (train_data_load(&s->data, o->data, DATA_FORMAT_AUTO, s->tok, tc->V, &err) < 0) {
        if (!s->tok && strstr(err.msg, "needs a tokenizer"))
            cmd_fail("distill: %s; the teacher's tokenizer did not load (%s); give token ids "
                     "as a .u32 file instead",
                     err.msg, tok_err.msg);
        else
            train_fail("distill", err.msg);
        return -1;
    }
    size_t probe_rows = o->probe_every > 0 ? (size_t)o->batch : 0;
    if (train_data_set_window(&s->data, (size_t)o->seq, probe_rows, &err) < 0) {
        if (probe_rows > 0 && strstr(err.msg, "probe rows"))
            cmd_fail(
                "distill: %s; or give a smaller --batch or --probe-every 0 (the probe holds out "
                "--batch windows)",
                err.msg);
        else
            train_fail("distill", err.msg);
        return -1;
    }
    if (o->align_docs && train_data_align_docs(&s->data, &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }

    lrc_options lo = {.rank = (int)o->rank, .tie_head = true, .B = (int)o->batch, .T = (int)o->seq};
    if (lrc_init(&s->student, &s->teacher, &lo, &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    int rc = 0;
    if (!resume && o->init)
        rc = lrc_import(&s->student, o->init, &err);
    else if (!resume && o->svd)
        rc = lrc_init_svd(&s->student, &err);
    else
        lrc_init_random(&s->student, (uint64_t)o->seed);
    if (rc < 0) {
        train_fail("distill", err.msg);
        return -1;
    }

    adamw_config ac = adamw_config_default();
    ac.weight_decay = o->weight_decay;
    lrc_loss_config loss = lrc_loss_config_default();
    loss.w_ce = o->ce_weight;
    loss.w_kl = o->kl_weight;
    loss.w_clone = o->clone_weight;
    loss.tau = o->kl_temp;
    if (adamw_init(&s->opt, s->student.n_params, &ac, &err) < 0 ||
        param_adamw_exclude_norms(s->student.tensors, s->student.n_tensors, &s->opt, &err) < 0 ||
        trainer_lrc_init(&s->lt, &s->student, &loss, &s->model, &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    return 0;
}

static trainer_config trainer_settings(const distill_options *o) {
    trainer_config c = {
        .steps = o->steps,
        .batch = (size_t)o->batch,
        .seq = (size_t)o->seq,
        .shuffle = o->shuffle,
        .seed = (uint64_t)o->seed,
        .schedule = {.lr = o->lr,
                     .lr_min = 0.0,
                     .warmup = o->warmup,
                     .total = o->steps,
                     .decay = o->schedule,
                     .decay_steps = o->decay_steps},
        .clip = o->clip,
        .probe_every = o->probe_every,
        .save_every = o->save_every,
        .keep = DISTILL_KEEP_CHECKPOINTS,
    };
    return c;
}

static int export_student(distill_session *s, const char *teacher_dir) {
    lrc_error err;
    char dir[RUNDIR_PATH_MAX + 16];
    if (rundir_join(dir, sizeof dir, s->rd.path, "student", &err) < 0) {
        train_fail("distill", err.msg);
        return -1;
    }
    char tmp[RUNDIR_PATH_MAX + 32];
    if (train_export_begin("distill", dir, tmp, sizeof tmp) < 0)
        return -1;
    if (lrc_export_hf(&s->student, tmp, &err) < 0 ||
        lrc_copy_tokenizer_files(teacher_dir, tmp, &err) < 0) {
        train_export_abort(tmp);
        cmd_fail("distill: exporting the student: %s; the last checkpoint is saved: fix the cause, "
                 "then 'lrc distill --resume %s' retries the export",
                 err.msg, s->rd.path);
        return -1;
    }
    if (train_export_commit("distill", tmp, dir) < 0)
        return -1;
    snprintf(s->student_dir, sizeof s->student_dir, "%s", dir);
    return 0;
}

static int open_new(distill_session *s, distill_options *o) {
    if (prepare(s, o, false) < 0)
        return -1;
    s->settings = settings_json(o, s->data.probe_rows);
    /* A Hub teacher: the run is named ORG--NAME rather than by the commit
     * folder, and run.json keeps the id and commit beside the path. */
    char label[HUB_REPO_ID_MAX + 2];
    const char *name = o->teacher;
    if (s->teacher_hub[0] && s->settings) {
        const char *slash = strchr(s->teacher_hub, '/');
        snprintf(label, sizeof label, "%.*s--%s", (int)(slash - s->teacher_hub), s->teacher_hub,
                 slash + 1);
        name = label;
        cJSON_AddStringToObject(s->settings, "teacher_hub", s->teacher_hub);
        cJSON_AddStringToObject(s->settings, "teacher_commit", s->teacher_commit);
    }
    trainer_config tc = trainer_settings(o);
    if (!s->settings || train_settings_fingerprint(s->settings, tc.fingerprint) < 0) {
        cmd_fail("distill: out of memory for the settings");
        return -1;
    }
    train_run run = {"distill", &s->rd, &s->log, &s->tr};
    return train_run_create(&run, o->out, name, (int)o->rank, s->settings, &tc, &s->model, &s->opt,
                            &s->data);
}

/* A resumed run whose teacher snapshot folder is gone: find the same
 * commit in the current Hub cache, or name the 'lrc pull' that restores it.
 * The id and commit come from run.json, or from the folder's path in a run
 * made before run.json recorded them. */
static int find_resume_teacher(distill_session *s, distill_options *o) {
    struct stat st;
    if (stat(o->teacher, &st) == 0)
        return 0;
    char repo[HUB_REPO_ID_MAX + 1], commit[HUB_COMMIT_LEN + 1];
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(s->settings, "teacher_hub");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(s->settings, "teacher_commit");
    if (cJSON_IsString(h) && cJSON_IsString(c) && hub_id_is_valid(h->valuestring) &&
        !strchr(h->valuestring, '@') && hub_is_commit(c->valuestring)) {
        snprintf(repo, sizeof repo, "%s", h->valuestring);
        snprintf(commit, sizeof commit, "%s", c->valuestring);
    } else if (!hub_snapshot_identify(o->teacher, repo, commit)) {
        return 0; /* not a Hub teacher: the loader names the missing path */
    }
    char spec[HUB_REPO_ID_MAX + HUB_COMMIT_LEN + 2], hint[sizeof spec + 64];
    snprintf(spec, sizeof spec, "%s@%s", repo, commit);
    lrc_error err;
    if (hub_resolve_model_arg(s->teacher_dir, sizeof s->teacher_dir, spec, &err) == 1) {
        o->teacher = s->teacher_dir;
        return 0;
    }
    hub_pull_hint(hint, sizeof hint, spec);
    cmd_fail("distill: the run's teacher %s at commit %s is not in the Hub cache any more "
             "(%s is gone); %s, then 'lrc distill --resume %s' again",
             repo, commit, o->teacher, hint, s->rd.path);
    return -1;
}

static int open_resume(distill_session *s, distill_options *o) {
    train_run run = {"distill", &s->rd, &s->log, &s->tr};
    if (train_run_open(&run, o->resume, &s->settings) < 0 ||
        options_from_settings(o, s->settings, s->rd.path) < 0 || find_resume_teacher(s, o) < 0 ||
        prepare(s, o, true) < 0)
        return -1;
    trainer_config tc = trainer_settings(o);
    return train_run_resume(&run, s->settings, &tc, &s->model, &s->opt, &s->data, o->steps,
                            o->save_every, o->threads, o->schedule, o->decay_steps);
}

int distill_session_open(distill_session *s, distill_options *o) {
    memset(s, 0, sizeof *s);
    return o->resume ? open_resume(s, o) : open_new(s, o);
}

void distill_session_print_start(const distill_session *s, const distill_options *o) {
    fprintf(stderr,
            "distill: teacher %s (d %d, %d layers), rank %ld, %zu trainable parameters; data %zu "
            "tokens (%zu for training); run %s, from step %lld of %ld\n",
            o->teacher, s->teacher.cfg.d, s->teacher.cfg.n_layers, o->rank, s->student.n_params,
            s->data.n_tokens, s->data.n_train, s->rd.path, (long long)s->tr.step, o->steps);
}

int distill_session_run(distill_session *s, const distill_options *o, trainer_report_fn report,
                        void *report_ctx) {
    lrc_error err = {{0}};
    trainer_outcome outcome = TRAINER_FINISHED;
    int rc = trainer_run(&s->tr, report, report_ctx, &outcome, &err);

    train_run run = {"distill", &s->rd, &s->log, &s->tr};
    int status;
    if (train_run_ended_early(&run, rc, outcome, err.msg, &status))
        return status;
    return export_student(s, o->teacher) < 0 ? 1 : 0;
}
