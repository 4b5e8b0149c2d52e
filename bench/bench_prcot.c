/*
 * The reflection stage of PR-CoT on the local backend, with and without a
 * shared key/value prefix, in one run.
 *
 * The perspective templates (prompts/prcot/perspective-*.txt, four in the
 * source tree, loaded with prompts_load) are rendered over one question and a chain of thought
 * of a few hundred tokens, then wrapped in the model's chat template. The
 * templates put the question and the chain of thought first, so the four
 * prompts share a long token prefix. Greedy generation of a few tokens per
 * reflection keeps the prompt work, which sharing saves, a visible part of
 * the stage.
 *
 * The model is a random SmolLM2-135M-shaped folder written by bench/common.c
 * unless --model names one. The tokenizer comes from --tokenizer, else the
 * model's folder, else (for the random model) the SmolLM2 tokenizer fixture
 * under $LRC_SHARED. The chat template comes from the model's folder, or for
 * the random model from the tokenizer's. The bench exits 1 when the texts
 * with and without sharing differ.
 *
 * usage: bench_prcot [--model DIR] [--tokenizer DIR] [--steps N]
 *                    [--max-tokens N] [--repeat N] [--threads N]
 */
#include "config.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"
#include "model/llama.h"
#include "model/tokenizer.h"
#include "reason/backend_local.h"
#include "reason/chat_template.h"
#include "reason/prompts.h"

static const char *const prog = "bench_prcot";

static void die(const char *context, const char *msg) {
    fprintf(stderr, "%s: %s: %s\n", prog, context, msg);
    exit(1);
}

static const char *const question =
    "A bakery sells bread for 3 dollars a loaf and cakes for 14 dollars each. On Monday it "
    "sells 40 loaves and 6 cakes; each day after that, until Saturday, it sells 5 more loaves "
    "and 1 more cake than the day before. Flour for one loaf costs 1 dollar and for one cake "
    "4 dollars. What is the bakery's profit over the six days, before rent?";

/* A chain of thought with one paragraph per day, then the total, each step
 * written out as a model would. With the SmolLM2 tokenizer it has 115
 * tokens for 1 day and 545 for 6 (about 86 per day). */
static char *make_cot(int days) {
    size_t cap = 256 + (size_t)days * 512, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    len += (size_t)snprintf(s + len, cap - len,
                            "Step 1: work out the sales of each day, then the cost of flour, "
                            "then subtract.\n");
    long profit = 0;
    for (int day = 0; day < days; day++) {
        int loaves = 40 + 5 * day, cakes = 6 + day;
        int revenue = 3 * loaves + 14 * cakes, cost = loaves + 4 * cakes;
        profit += revenue - cost;
        len += (size_t)snprintf(s + len, cap - len,
                                "Step %d: on day %d the bakery sells %d loaves and %d cakes. "
                                "Revenue is 3 x %d + 14 x %d = %d dollars. Flour costs %d + "
                                "4 x %d = %d dollars, so the day's profit is %d dollars and "
                                "the running total is %ld dollars.\n",
                                day + 2, day + 1, loaves, cakes, loaves, cakes, revenue, loaves,
                                cakes, cost, revenue - cost, profit);
    }
    snprintf(s + len, cap - len, "Final answer: %ld dollars\n", profit);
    return s;
}

/* The folder that contains a tokenizer file, or path itself for a folder. */
static void tokenizer_folder(const char *path, char *dir, size_t size) {
    snprintf(dir, size, "%s", path);
    size_t len = strlen(dir);
    if (len > 5 && strcmp(dir + len - 5, ".json") == 0) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
    }
}

typedef struct stage_run {
    reason_output outs[16];
    reason_local_stats stats;
    double seconds;     /* wall time */
    double cpu_seconds; /* CPU time of the process, all threads */
} stage_run;

/* CPU time of this process, which other work on the machine inflates less
 * than wall time. */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Run the reflection requests once on a fresh backend. */
static void run_stage(const llama_model *m, const tokenizer *tok, const chat_template *ct,
                      const reason_request *reqs, size_t n, int max_tokens, int share,
                      stage_run *run) {
    reason_local_options o = {0};
    o.sampling.temperature = 0.0;
    o.sampling.top_p = 1.0;
    o.sampling.max_tokens = max_tokens;
    o.share_prefix = share;
    reason_backend *b = NULL;
    lrc_error err;
    if (reason_backend_local_wrap(m, tok, ct, &o, &b, &err) < 0)
        die("opening the local backend", err.msg);

    double t0 = bench_now_seconds(), c0 = cpu_seconds();
    if (b->generate_many(b, reqs, n, run->outs, &err) < 0)
        die("the reflection stage", err.msg);
    run->seconds = bench_now_seconds() - t0;
    run->cpu_seconds = cpu_seconds() - c0;
    run->stats = reason_backend_local_stats(b);
    reason_backend_free(b);
}

static void free_run(stage_run *run, size_t n) {
    for (size_t i = 0; i < n; i++)
        reason_output_free(&run->outs[i]);
}

int main(int argc, char **argv) {
    const char *model_arg = NULL, *tok_arg = NULL;
    int days = 6, max_tokens = 32, repeat = 3, threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model_arg = argv[++i];
        else if (strcmp(argv[i], "--tokenizer") == 0 && i + 1 < argc)
            tok_arg = argv[++i];
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
            days = atoi(argv[++i]);
        else if (strcmp(argv[i], "--max-tokens") == 0 && i + 1 < argc)
            max_tokens = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--model DIR] [--tokenizer DIR] [--steps N] "
                    "[--max-tokens N] [--repeat N] [--threads N]\n",
                    prog);
            return 2;
        }
    }
    if (days < 1 || days > 40 || max_tokens < 1 || repeat < 1) {
        fprintf(stderr, "%s: --steps must be 1..40, --max-tokens and --repeat at least 1\n", prog);
        return 2;
    }
    blas_set_threads(threads);

    /* The tokenizer and its chat template. */
    char tok_default[4096], tok_dir[4096];
    if (!tok_arg && model_arg) {
        tok_arg = model_arg;
    } else if (!tok_arg) {
        const char *shared = getenv("LRC_SHARED");
        if (shared && *shared)
            snprintf(tok_default, sizeof tok_default,
                     "%s/fixtures/tokenizers/smollm2-135m-instruct", shared);
        else
            snprintf(tok_default, sizeof tok_default,
                     "%s/../shared/fixtures/tokenizers/smollm2-135m-instruct", LRC_SRCDIR);
        tok_arg = tok_default;
    }
    lrc_error err;
    tokenizer *tok = NULL;
    if (tokenizer_load(&tok, tok_arg, &err) < 0)
        die("loading the tokenizer (give one with --tokenizer DIR)", err.msg);
    tokenizer_folder(tok_arg, tok_dir, sizeof tok_dir);
    chat_template ct;
    if (chat_template_load(model_arg ? model_arg : tok_dir, &ct, &err) < 0)
        die("loading the chat template", err.msg);

    /* The model. */
    char tmp_dir[4096] = "";
    if (!model_arg) {
        bench_make_temp_dir(prog, tmp_dir, sizeof tmp_dir);
        bench_write_smollm2_model(prog, tmp_dir);
    }
    llama_model m;
    if (llama_model_load(&m, model_arg ? model_arg : tmp_dir, &err) < 0)
        die("loading the model", err.msg);
    if (tokenizer_vocab_size(tok) > m.cfg.V)
        die("the tokenizer", "it has more ids than the model's vocab_size; give the model's own");

    /* The reflection prompts. */
    prompt_set set;
    if (prompts_load(&set, &err) < 0)
        die("loading the PR-CoT templates", err.msg);
    if (set.n_perspectives == 0 || set.n_perspectives > 16)
        die("the PR-CoT templates", "expected 1 to 16 perspective templates");
    char *cot = make_cot(days);
    if (!cot)
        die("the chain of thought", "out of memory");
    size_t n = set.n_perspectives;
    char *users[16];
    reason_request reqs[16];
    for (size_t i = 0; i < n; i++) {
        const prompt_template *t = &set.perspectives[i];
        prompt_var vars[] = {{"question", question}, {"cot", cot}, {"perspective", t->title}};
        if (prompts_render(t, vars, 3, &users[i], &err) < 0)
            die("rendering a perspective", err.msg);
        reqs[i] = (reason_request){.user = users[i]};
    }
    int32_t *cot_ids = NULL;
    size_t cot_tokens = 0;
    if (tokenizer_encode(tok, cot, strlen(cot), false, &cot_ids, &cot_tokens, &err) < 0)
        die("tokenizing the chain of thought", err.msg);
    free(cot_ids);

    /* The prompts as the backend tokenizes them, for their lengths and
     * their common prefix. */
    size_t prompt_len[16], common = 0;
    int32_t *first_ids = NULL;
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        int bos_in_text = 0;
        int32_t *ids = NULL;
        if (chat_template_render(&ct, NULL, users[i], &text, &bos_in_text, &err) < 0 ||
            tokenizer_encode(tok, text, strlen(text), !bos_in_text, &ids, &prompt_len[i], &err) < 0)
            die("tokenizing a reflection prompt", err.msg);
        free(text);
        if (i == 0) {
            first_ids = ids;
            common = prompt_len[0];
            continue;
        }
        size_t k = 0;
        while (k < common && k < prompt_len[i] && ids[k] == first_ids[k])
            k++;
        common = k;
        free(ids);
    }
    free(first_ids);

    printf("model: %s (%d layers, hidden %d, vocab %d)%s\n", model_arg ? model_arg : tmp_dir,
           m.cfg.n_layers, m.cfg.d, m.cfg.V,
           model_arg ? "" : ", random weights with SmolLM2-135M's shape");
    printf("tokenizer: %s; chat template: %s\n", tok_arg, chat_family_name(ct.family));
    printf("stage: %zu reflections over a chain of thought of %zu tokens, greedy, "
           "max_tokens %d, %d BLAS threads\n",
           n, cot_tokens, max_tokens, blas_get_threads());
    printf("prompt tokens per reflection:");
    for (size_t i = 0; i < n; i++)
        printf(" %zu", prompt_len[i]);
    printf("; common prefix %zu tokens\n", common);

    /* Alternate the two modes so that other load on the machine hits both
     * alike; keep the best time of each. */
    stage_run off, on;
    double best_off = 0.0, best_on = 0.0, cpu_off = 0.0, cpu_on = 0.0;
    int identical = 1;
    for (int r = 0; r < repeat; r++) {
        run_stage(&m, tok, &ct, reqs, n, max_tokens, 0, &off);
        run_stage(&m, tok, &ct, reqs, n, max_tokens, 1, &on);
        printf("run %d: sharing off %.3f s (CPU %.3f s), sharing on %.3f s (CPU %.3f s)\n", r + 1,
               off.seconds, off.cpu_seconds, on.seconds, on.cpu_seconds);
        if (r == 0 || off.seconds < best_off)
            best_off = off.seconds;
        if (r == 0 || on.seconds < best_on)
            best_on = on.seconds;
        if (r == 0 || off.cpu_seconds < cpu_off)
            cpu_off = off.cpu_seconds;
        if (r == 0 || on.cpu_seconds < cpu_on)
            cpu_on = on.cpu_seconds;
        for (size_t i = 0; i < n; i++)
            identical &= off.outs[i].len == on.outs[i].len &&
                         memcmp(off.outs[i].text, on.outs[i].text, off.outs[i].len) == 0;
        if (r + 1 < repeat) {
            free_run(&off, n);
            free_run(&on, n);
        }
    }

    long generated_off = 0, generated_on = 0;
    for (size_t i = 0; i < n; i++) {
        generated_off += off.outs[i].n_tokens;
        generated_on += on.outs[i].n_tokens;
    }
    long saved = off.stats.prompt_evaluated - on.stats.prompt_evaluated;
    printf("prompt tokens: %ld in all; evaluated %ld without sharing, %ld with (%.1f%% fewer)\n",
           off.stats.prompt_tokens, off.stats.prompt_evaluated, on.stats.prompt_evaluated,
           100.0 * (double)(off.stats.prompt_evaluated - on.stats.prompt_evaluated) /
               (double)off.stats.prompt_evaluated);
    printf("shared prefix: %ld tokens, run once instead of %zu times\n",
           n > 1 ? saved / (long)(n - 1) : 0L, n);
    printf("generated tokens: %ld without sharing, %ld with\n", generated_off, generated_on);
    printf("reflection stage, best of %d: %.3f s without sharing, %.3f s with; "
           "%.3f s saved, %.2fx faster\n",
           repeat, best_off, best_on, best_off - best_on, best_off / best_on);
    printf("CPU time, best of %d: %.3f s without sharing, %.3f s with; %.2fx less\n", repeat,
           cpu_off, cpu_on, cpu_off / cpu_on);
    identical &= generated_off == generated_on;
    printf("texts with and without sharing: %s\n", identical ? "identical" : "DIFFERENT");

    free_run(&off, n);
    free_run(&on, n);
    for (size_t i = 0; i < n; i++)
        free(users[i]);
    free(cot);
    prompts_free(&set);
    llama_model_free(&m);
    chat_template_free(&ct);
    tokenizer_free(tok);
    if (!model_arg)
        bench_remove_model(tmp_dir);
    return identical ? 0 : 1;
}
