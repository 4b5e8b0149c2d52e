/*
 * Speed of one Low-Rank Clone distillation step, as a fraction of what this
 * machine can do, measured in one run. A SmolLM2-135M-shaped random teacher
 * is written as a real Hugging Face folder and loaded with llama_model_load,
 * as `lrc distill` loads its teacher. The student is built at rank R with
 * random projections (lrc_init_random), and one step is
 *   lrc_step_loss_and_grad + clip_grad_norm + adamw_step
 * on B random sequences of T tokens. After one warm-up step the bench times
 * a few more and reports the median and the best:
 *   tokens/s            B·T over the step time;
 *   fraction of peak    step FLOPs (step_flops below) per second, divided by
 *                       the sgemm peak: the best cblas_sgemm FLOP/s on 2048²
 *                       matrices, measured before the warm-up and after every
 *                       step. Keeping the highest of those measurements means
 *                       other work on the machine can slow the steps but cannot
 *                       lower the peak and so inflate the fraction;
 *   peak memory         VmHWM of /proc/self/status at the end of the run.
 *
 * usage: bench_distill [--batch B] [--seq T] [--rank R] [--steps N]
 *                      [--threads N] [--dir DIR]
 */
#include "config.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "model/llama.h"
#include "train/adamw.h"
#include "train/lrc.h"
#include "train/lrc_loss.h"

/* The temporary model folder, removed on exit; empty when --dir is given. */
static char temp_dir[4096];

static void die(const char *what, const lrc_error *err) {
    fprintf(stderr, "bench_distill: %s: %s\n", what, err ? err->msg : "failed");
    if (temp_dir[0])
        bench_remove_model(temp_dir);
    exit(1);
}

/*
 * FLOPs of one step, counting 2 per multiply-add, for teacher hidden
 * size d, rank r, q width qd = H·h, key/value width kvd = Hkv·h, MLP width
 * I, vocabulary V, L layers and N = B·T tokens:
 *   per-token projections of a model of hidden size D:
 *     P(D) = 2·D·(2·qd + 2·kvd + 3·I)·L + 2·D·V      (layers and LM head)
 *   causal attention, B·T(T+1)/2 query-key pairs per head:
 *     A = 4·h·H·L·B·T(T+1)/2 for a forward (scores and weighted values)
 *   teacher forward                  N·P(d) + A
 *   student forward                  N·P(r) + A
 *   student backward                 2·N·P(r) + 2·A   (input and weight gradients)
 *   weight generation                2·d·r·(V + L·(2·qd + 2·kvd + 3·I))
 *   chain rule into the projections  the same as the generation
 *   embedding rows and dZ            2 · 2·N·d·r
 *   clone losses per layer           2 · 2·N·qd·d   (attn_out through W_o:
 *                                                    forward and backward)
 *                                  + 2 · 2·N·d·r    (mlp_out through D: the
 *                                                    teacher side and dD)
 * Element-wise work (norms, RoPE, softmax, SwiGLU, the CE/KL loss, AdamW)
 * is left out. It is O(N·V + parameters), by an estimate under 1% of the
 * total for SmolLM2-135M at rank 288.
 */
static double step_flops(const llama_config *c, int r, int B, int T) {
    double d = c->d, qd = (double)c->H * c->h, kvd = (double)c->Hkv * c->h, I = c->I;
    double V = c->V, L = c->n_layers, N = (double)B * T;
    double layer_width = 2.0 * qd + 2.0 * kvd + 3.0 * I;
    double p_teacher = 2.0 * d * layer_width * L + 2.0 * d * V;
    double p_student = 2.0 * r * layer_width * L + 2.0 * r * V;
    double attention = 4.0 * c->h * c->H * L * B * (double)T * (T + 1) / 2.0;
    double generation = 2.0 * d * r * (V + L * layer_width);

    double teacher = N * p_teacher + attention;
    double student = 3.0 * (N * p_student + attention);
    double projections = 2.0 * generation + 2.0 * 2.0 * N * d * r;
    double clone = L * (2.0 * 2.0 * N * qd * d + 2.0 * 2.0 * N * d * r);
    return teacher + student + projections + clone;
}

/* VmHWM of /proc/self/status in bytes, or -1 when it cannot be read. */
static double peak_resident_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1.0;
    char line[256];
    double kib = -1.0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtod(line + 6, NULL);
    fclose(f);
    return kib < 0.0 ? -1.0 : kib * 1024.0;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(void) {
    fprintf(stderr, "usage: bench_distill [--batch B] [--seq T] [--rank R] [--steps N] "
                    "[--threads N] [--dir DIR]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int B = 4, T = 256, rank = 288, n_steps = 3, threads = 0;
    const char *dir_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--batch") == 0)
            B = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seq") == 0)
            T = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rank") == 0)
            rank = atoi(argv[++i]);
        else if (strcmp(argv[i], "--steps") == 0)
            n_steps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0)
            dir_arg = argv[++i];
        else
            usage();
    }
    if (B < 1 || T < 1 || n_steps < 1) {
        fprintf(stderr, "bench_distill: --batch, --seq and --steps must be at least 1\n");
        return 2;
    }
    blas_set_threads(threads);

    char dir[4096];
    if (dir_arg) {
        snprintf(dir, sizeof dir, "%s", dir_arg);
    } else {
        bench_make_temp_dir("bench_distill", dir, sizeof dir);
        snprintf(temp_dir, sizeof temp_dir, "%s", dir);
    }
    fprintf(stderr, "writing a SmolLM2-135M-shaped random teacher to %s\n", dir);
    bench_write_smollm2_model("bench_distill", dir);

    lrc_error err;
    llama_model teacher;
    if (llama_model_load(&teacher, dir, &err) != 0)
        die("loading the teacher", &err);
    const llama_config *c = &teacher.cfg;

    lrc_student s;
    lrc_options opt = {.rank = rank, .tie_head = true, .B = B, .T = T};
    if (lrc_init(&s, &teacher, &opt, &err) != 0)
        die("building the student", &err);
    lrc_init_random(&s, 1);

    adamw opt_state;
    adamw_config acfg = adamw_config_default();
    if (adamw_init(&opt_state, s.n_params, &acfg, &err) != 0 ||
        param_adamw_exclude_norms(s.tensors, s.n_tensors, &opt_state, &err) != 0)
        die("allocating AdamW", &err);

    /* Random tokens: B rows of T inputs and the T next tokens. */
    size_t n_tokens = (size_t)B * ((size_t)T + 1);
    int32_t *tokens = malloc(n_tokens * sizeof *tokens);
    double *times = malloc((size_t)n_steps * sizeof *times);
    if (!tokens || !times)
        die("allocating the batch", NULL);
    for (size_t i = 0; i < n_tokens; i++)
        tokens[i] = (int32_t)((i * 7919u + 13u) % (size_t)c->V);

    fprintf(stderr, "measuring the sgemm peak\n");
    double peak = bench_sgemm_peak("bench_distill", 2048), peak_low = peak;

    lrc_loss_config lcfg = lrc_loss_config_default();
    lrc_loss_parts parts;
    double grad_norm = 0.0;
    for (int step = -1; step < n_steps; step++) { /* step -1 warms up */
        double t0 = bench_now_seconds();
        if (lrc_step_loss_and_grad(&s, tokens, &lcfg, &parts, &err) != 0)
            die("distillation step", &err);
        grad_norm = clip_grad_norm(s.grads, s.n_params, 1.0);
        adamw_step(&opt_state, s.params, s.grads, 1e-4);
        double dt = bench_now_seconds() - t0;
        fprintf(stderr,
                "step %d: %.3f s, loss %.4f (CE %.4f, KL %.4f, clone %.4f), grad norm %.3g\n",
                step + 1, dt, parts.total, parts.ce, parts.kl, parts.clone, grad_norm);
        if (step >= 0)
            times[step] = dt;
        double p = bench_sgemm_peak("bench_distill", 2048);
        peak = p > peak ? p : peak;
        peak_low = p < peak_low ? p : peak_low;
    }
    qsort(times, (size_t)n_steps, sizeof *times, compare_doubles);
    double best = times[0], median = times[n_steps / 2];
    if (n_steps % 2 == 0)
        median = 0.5 * (times[n_steps / 2 - 1] + times[n_steps / 2]);

    double flops = step_flops(c, rank, B, T);
    double hwm = peak_resident_bytes();
    double N = (double)B * T;
    printf("machine: %d BLAS threads, sgemm peak %.1f GFLOP/s (2048^3, highest of %d "
           "measurements; lowest %.1f)\n",
           blas_get_threads(), peak * 1e-9, n_steps + 2, peak_low * 1e-9);
    printf("step: teacher %d layers, hidden %d, vocab %d; student rank %d; batch %d x %d; "
           "%zu trainable parameters; %.1f GFLOP per step\n",
           c->n_layers, c->d, c->V, rank, B, T, s.n_params, flops * 1e-9);
    printf("median of %d steps: %.3f s = %.1f tokens/s, %.1f GFLOP/s = %.2f of sgemm peak\n",
           n_steps, median, N / median, flops / median * 1e-9, flops / median / peak);
    printf("best of %d steps: %.3f s = %.1f tokens/s, %.1f GFLOP/s = %.2f of sgemm peak\n", n_steps,
           best, N / best, flops / best * 1e-9, flops / best / peak);
    if (hwm >= 0.0)
        printf("peak resident memory: %.2f GiB (VmHWM)\n", hwm / (1024.0 * 1024.0 * 1024.0));
    else
        printf("peak resident memory: unknown (no VmHWM in /proc/self/status)\n");

    free(times);
    free(tokens);
    adamw_free(&opt_state);
    lrc_free(&s);
    llama_model_free(&teacher);
    if (temp_dir[0])
        bench_remove_model(temp_dir);
    return 0;
}
