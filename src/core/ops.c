/*
 * Forward operations of a Llama-family block. Reductions (RMSNorm's mean of
 * squares, softmax's sum) accumulate in float; the tests bound the error
 * this leaves against float64 references. Attention multiplies blocks of
 * ATTENTION_BLOCK queries against the cache with sgemm, reading keys and
 * values in place through the cache's row stride, and computes each block's
 * scores only up to its last position so the causal mask wastes little work.
 *
 * Each backward pass sits right after its forward and adds into its gradient
 * outputs. Training attention runs over whole sequences and keeps the
 * softmax probabilities (B, H, T, T). Its backward walks the same blocks of
 * query rows as the forward, so it needs one block of scores as scratch and
 * skips the blocks above the causal diagonal.
 */
#include "core/ops.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/simd.h"

#define LRC_PI 3.14159265358979323846

/* Σ a[i] b[i] over four lanes, the tail added in order. */
static float dot_f32(const float *a, const float *b, size_t n) {
    f32x4 acc0 = f32x4_splat(0.0f), acc1 = f32x4_splat(0.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc0 += f32x4_load(a + i) * f32x4_load(b + i);
        acc1 += f32x4_load(a + i + 4) * f32x4_load(b + i + 4);
    }
    for (; i + 4 <= n; i += 4)
        acc0 += f32x4_load(a + i) * f32x4_load(b + i);
    f32x4 acc = acc0 + acc1;
    float sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

void rmsnorm_forward(float *out, const float *x, const float *weight, size_t T, size_t d,
                     float eps) {
    for (size_t t = 0; t < T; t++) {
        const float *xt = x + t * d;
        float *ot = out + t * d;

        float ss = 0.0f;
        for (size_t i = 0; i < d; i++)
            ss += xt[i] * xt[i];
        float scale = 1.0f / sqrtf(ss / (float)d + eps);

        for (size_t i = 0; i < d; i++)
            ot[i] = xt[i] * scale * weight[i];
    }
}

void rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x,
                      const float *weight, size_t T, size_t d, float eps) {
    for (size_t t = 0; t < T; t++) {
        const float *xt = x + t * d;
        const float *gt = dout + t * d;

        /* The scale as the forward computed it, and Σ_j dout_j weight_j x_j. */
        float ss = 0.0f, gwx = 0.0f;
        for (size_t i = 0; i < d; i++) {
            ss += xt[i] * xt[i];
            gwx += gt[i] * weight[i] * xt[i];
        }
        float scale = 1.0f / sqrtf(ss / (float)d + eps);

        if (dweight)
            for (size_t i = 0; i < d; i++)
                dweight[i] += gt[i] * xt[i] * scale;

        /* d scale / d x_j = -scale³ x_j / d */
        if (dx) {
            float *dxt = dx + t * d;
            float c = gwx * scale * scale * scale / (float)d;
            for (size_t i = 0; i < d; i++)
                dxt[i] += gt[i] * weight[i] * scale - xt[i] * c;
        }
    }
}

void rope_inv_freq(double *inv_freq, size_t h, double theta, const rope_scaling *scaling) {
    size_t half = h / 2;
    for (size_t i = 0; i < half; i++)
        inv_freq[i] = pow(theta, -(double)(2 * i) / (double)h);

    if (!scaling || scaling->kind == ROPE_SCALING_NONE)
        return;

    if (scaling->kind == ROPE_SCALING_LINEAR) {
        for (size_t i = 0; i < half; i++)
            inv_freq[i] /= scaling->factor;
        return;
    }

    /* Llama 3.1: wavelengths longer than original_max_seq / low_freq_factor are
     * slowed by factor, those shorter than original_max_seq / high_freq_factor
     * are kept, and the band between blends the two linearly in
     * original_max_seq / wavelength. */
    double factor = scaling->factor;
    double low = scaling->low_freq_factor, high = scaling->high_freq_factor;
    double original = scaling->original_max_seq;
    double low_freq_wavelen = original / low;
    double high_freq_wavelen = original / high;
    for (size_t i = 0; i < half; i++) {
        double wavelen = 2.0 * LRC_PI / inv_freq[i];
        if (wavelen > low_freq_wavelen) {
            inv_freq[i] /= factor;
        } else if (wavelen >= high_freq_wavelen) {
            double smooth = (original / wavelen - low) / (high - low);
            inv_freq[i] = (1.0 - smooth) * inv_freq[i] / factor + smooth * inv_freq[i];
        }
    }
}

void rope_table_init(float *cos_table, float *sin_table, const double *inv_freq, size_t S,
                     size_t h) {
    size_t half = h / 2;
    for (size_t p = 0; p < S; p++) {
        for (size_t i = 0; i < half; i++) {
            double angle = (double)p * inv_freq[i];
            cos_table[p * half + i] = (float)cos(angle);
            sin_table[p * half + i] = (float)sin(angle);
        }
    }
}

/* Turn each pair (a, b) by the tabulated angle, or by its negative when
 * sign is -1: (a cos - sign b sin, sign a sin + b cos). The backward pass
 * is the transposed rotation, which is the rotation by the negative angle. */
static void rope_rotate(float *x, size_t row_stride, const float *cos_table, const float *sin_table,
                        size_t T, size_t n_heads, size_t h, size_t pos, bool interleaved,
                        float sign) {
    size_t half = h / 2;
    for (size_t t = 0; t < T; t++) {
        const float *c = cos_table + (pos + t) * half;
        const float *s = sin_table + (pos + t) * half;
        for (size_t head = 0; head < n_heads; head++) {
            float *v = x + t * row_stride + head * h;
            for (size_t i = 0; i < half; i++) {
                size_t ia = interleaved ? 2 * i : i;
                size_t ib = interleaved ? 2 * i + 1 : i + half;
                float a = v[ia], b = v[ib], sn = sign * s[i];
                v[ia] = a * c[i] - b * sn;
                v[ib] = a * sn + b * c[i];
            }
        }
    }
}

void rope_forward(float *x, size_t row_stride, const float *cos_table, const float *sin_table,
                  size_t T, size_t n_heads, size_t h, size_t pos, bool interleaved) {
    rope_rotate(x, row_stride, cos_table, sin_table, T, n_heads, h, pos, interleaved, 1.0f);
}

void rope_backward(float *dx, size_t row_stride, const float *cos_table, const float *sin_table,
                   size_t T, size_t n_heads, size_t h, size_t pos, bool interleaved) {
    rope_rotate(dx, row_stride, cos_table, sin_table, T, n_heads, h, pos, interleaved, -1.0f);
}

void softmax_forward(float *x, size_t n) {
    float max = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] > max)
            max = x[i];

    /* Four lanes at a time; the tail goes through a zero-padded vector. */
    f32x4 shift = f32x4_splat(max), acc = f32x4_splat(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        f32x4 e = exp_f32x4(f32x4_load(x + i) - shift);
        f32x4_store(x + i, e);
        acc += e;
    }
    float sum = 0.0f;
    if (i < n) {
        float tail[4] = {0};
        memcpy(tail, x + i, (n - i) * sizeof(float));
        f32x4 e = exp_f32x4(f32x4_load(tail) - shift);
        f32x4_store(tail, e);
        memcpy(x + i, tail, (n - i) * sizeof(float));
        for (size_t j = 0; j < n - i; j++)
            sum += tail[j];
    }
    for (int lane = 0; lane < 4; lane++)
        sum += acc[lane];

    float inv = 1.0f / sum;
    for (size_t j = 0; j < n; j++)
        x[j] *= inv;
}

void softmax_backward(float *dx, const float *dout, const float *y, size_t n) {
    float dot = dot_f32(dout, y, n);
    for (size_t i = 0; i < n; i++)
        dx[i] += y[i] * (dout[i] - dot);
}

void silu_forward(float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] / (1.0f + expf(-x[i]));
}

/* silu'(x) = σ(x) (1 + x (1 - σ(x))), four lanes at a time. */
static inline f32x4 silu_grad_f32x4(f32x4 x) {
    const f32x4 one = f32x4_splat(1.0f);
    f32x4 sig = one / (one + exp_f32x4(-x));
    return sig * (one + x * (one - sig));
}

static inline float silu_grad(float x) {
    float sig = 1.0f / (1.0f + expf(-x));
    return sig * (1.0f + x * (1.0f - sig));
}

void silu_backward(float *dx, const float *dout, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        f32x4_store(dx + i,
                    f32x4_load(dx + i) + f32x4_load(dout + i) * silu_grad_f32x4(f32x4_load(x + i)));
    for (; i < n; i++)
        dx[i] += dout[i] * silu_grad(x[i]);
}

void swiglu_forward(float *out, const float *gate, const float *up, size_t n) {
    const f32x4 one = f32x4_splat(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        f32x4 g = f32x4_load(gate + i);
        f32x4_store(out + i, g / (one + exp_f32x4(-g)) * f32x4_load(up + i));
    }
    for (; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                     const float *up, size_t n) {
    const f32x4 one = f32x4_splat(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        f32x4 g = f32x4_load(gate + i), go = f32x4_load(dout + i);
        f32x4 sig = one / (one + exp_f32x4(-g));
        if (dgate) {
            f32x4 grad = sig * (one + g * (one - sig));
            f32x4_store(dgate + i, f32x4_load(dgate + i) + go * f32x4_load(up + i) * grad);
        }
        if (dup)
            f32x4_store(dup + i, f32x4_load(dup + i) + go * g * sig);
    }
    for (; i < n; i++) {
        float g = gate[i], sig = 1.0f / (1.0f + expf(-g));
        if (dgate)
            dgate[i] += dout[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
        if (dup)
            dup[i] += dout[i] * g * sig;
    }
}

size_t attention_scratch_floats(size_t T, size_t S) {
    size_t rows = T < ATTENTION_BLOCK ? T : ATTENTION_BLOCK;
    return rows * S;
}

/* One head, query rows t0..t1-1: scores, masked softmax, weighted values. */
static void attention_block(float *out, const float *q, const float *k, const float *v,
                            float *scores, size_t t0, size_t t1, size_t pos, size_t q_stride,
                            size_t kv_stride, size_t h) {
    size_t rows = t1 - t0;
    size_t S = pos + t1; /* the block's last query sees positions 0..S-1 */
    float scale = 1.0f / sqrtf((float)h);

    /* scores (rows, S) = scale * q (rows, h) · k (S, h)ᵀ */
    if (rows == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)S, (int)h, scale, k, (int)kv_stride,
                    q + t0 * q_stride, 1, 0.0f, scores, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)S, (int)h, scale,
                    q + t0 * q_stride, (int)q_stride, k, (int)kv_stride, 0.0f, scores, (int)S);

    /* Query t sees positions 0..pos+t; later ones get zero weight. */
    for (size_t r = 0; r < rows; r++) {
        size_t visible = pos + t0 + r + 1;
        float *row = scores + r * S;
        softmax_forward(row, visible);
        memset(row + visible, 0, (S - visible) * sizeof(float));
    }

    /* out (rows, h) = scores (rows, S) · v (S, h) */
    if (rows == 1)
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)S, (int)h, 1.0f, v, (int)kv_stride, scores, 1,
                    0.0f, out + t0 * q_stride, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)h, (int)S, 1.0f,
                    scores, (int)S, v, (int)kv_stride, 0.0f, out + t0 * q_stride, (int)q_stride);
}

void attention_forward(float *out, const float *q, const float *k_cache, const float *v_cache,
                       float *scratch, size_t T, size_t pos, size_t H, size_t Hkv, size_t h) {
    size_t q_stride = H * h, kv_stride = Hkv * h;
    size_t group = H / Hkv;

    for (size_t head = 0; head < H; head++) {
        size_t kv_head = head / group;
        for (size_t t0 = 0; t0 < T; t0 += ATTENTION_BLOCK) {
            size_t t1 = t0 + ATTENTION_BLOCK < T ? t0 + ATTENTION_BLOCK : T;
            attention_block(out + head * h, q + head * h, k_cache + kv_head * h,
                            v_cache + kv_head * h, scratch, t0, t1, pos, q_stride, kv_stride, h);
        }
    }
}

/* ---- attention over whole sequences, for training ---- */

size_t attention_train_scratch_floats(size_t T) {
    size_t rows = T < ATTENTION_BLOCK ? T : ATTENTION_BLOCK;
    return rows * T;
}

/* NOTE: every product goes through OpenBLAS's own threads. At B=4, T=256,
 * H=9, Hkv=3, h=64 on a 2-core EPYC (OpenBLAS 0.3.21), the forward took
 * 7.9 ms on one thread and 6.9 ms on two, the backward 10.2 and 8.6 ms. Two
 * pthreads each running half the sequences with one OpenBLAS thread kept
 * only one core busy and gained nothing. */
void attention_train_forward(float *out, float *probs, const float *q, const float *k,
                             const float *v, size_t B, size_t T, size_t H, size_t Hkv, size_t h) {
    size_t q_stride = H * h, kv_stride = Hkv * h;
    size_t group = H / Hkv;
    float scale = 1.0f / sqrtf((float)h);

    for (size_t b = 0; b < B; b++) {
        for (size_t head = 0; head < H; head++) {
            const float *qh = q + b * T * q_stride + head * h; /* (T, h), q_stride apart */
            const float *kh =
                k + b * T * kv_stride + head / group * h; /* (T, h), kv_stride apart */
            const float *vh = v + b * T * kv_stride + head / group * h; /* (T, h) */
            float *oh = out + b * T * q_stride + head * h;              /* (T, h) */
            float *p = probs + (b * H + head) * T * T;                  /* (T, T) */

            /* Query rows t0..t1-1 see positions 0..t1-1 at most. */
            for (size_t t0 = 0; t0 < T; t0 += ATTENTION_BLOCK) {
                size_t t1 = t0 + ATTENTION_BLOCK < T ? t0 + ATTENTION_BLOCK : T;
                size_t rows = t1 - t0;

                /* p[t0:t1, 0:t1] = scale * q[t0:t1] · k[0:t1]ᵀ */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)t1, (int)h,
                            scale, qh + t0 * q_stride, (int)q_stride, kh, (int)kv_stride, 0.0f,
                            p + t0 * T, (int)T);

                for (size_t t = t0; t < t1; t++) {
                    softmax_forward(p + t * T, t + 1);
                    memset(p + t * T + t + 1, 0, (T - t - 1) * sizeof(float));
                }

                /* out[t0:t1] = p[t0:t1, 0:t1] · v[0:t1] */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)h, (int)t1,
                            1.0f, p + t0 * T, (int)T, vh, (int)kv_stride, 0.0f, oh + t0 * q_stride,
                            (int)q_stride);
            }
        }
    }
}

/* With P = softmax(S) row by row, S = scale * Q Kᵀ and O = P V:
 *   dV += Pᵀ dO,  dP = dO Vᵀ,  dS = P * (dP - rowsum(dP * P)),
 *   dQ += scale * dS K,  dK += scale * dSᵀ Q.
 * Each block of query rows t0..t1-1 touches key/value rows 0..t1-1 only. */
void attention_train_backward(float *dq, float *dk, float *dv, const float *dout,
                              const float *probs, const float *q, const float *k, const float *v,
                              size_t B, size_t T, size_t H, size_t Hkv, size_t h, float *scratch) {
    size_t q_stride = H * h, kv_stride = Hkv * h;
    size_t group = H / Hkv;
    float scale = 1.0f / sqrtf((float)h);

    for (size_t b = 0; b < B; b++) {
        for (size_t head = 0; head < H; head++) {
            size_t q_off = b * T * q_stride + head * h;
            size_t kv_off = b * T * kv_stride + head / group * h;
            const float *p = probs + (b * H + head) * T * T; /* (T, T) */
            const float *doh = dout + q_off;                 /* (T, h), q_stride apart */

            for (size_t t0 = 0; t0 < T; t0 += ATTENTION_BLOCK) {
                size_t t1 = t0 + ATTENTION_BLOCK < T ? t0 + ATTENTION_BLOCK : T;
                size_t rows = t1 - t0;
                const float *pb = p + t0 * T; /* (rows, t1), T apart */

                /* dv[0:t1] += p[t0:t1, 0:t1]ᵀ · dout[t0:t1] */
                if (dv)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)t1, (int)h, (int)rows,
                                1.0f, pb, (int)T, doh + t0 * q_stride, (int)q_stride, 1.0f,
                                dv + kv_off, (int)kv_stride);
                if (!dq && !dk)
                    continue;

                /* ds (rows, t1) = dout[t0:t1] · v[0:t1]ᵀ, then the softmax
                 * backward in place, with the score scale folded in. */
                float *ds = scratch;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)t1, (int)h,
                            1.0f, doh + t0 * q_stride, (int)q_stride, v + kv_off, (int)kv_stride,
                            0.0f, ds, (int)t1);
                for (size_t r = 0; r < rows; r++) {
                    size_t visible = t0 + r + 1;
                    float *row = ds + r * t1;
                    const float *pr = pb + r * T;
                    float dot = dot_f32(row, pr, visible);
                    for (size_t j = 0; j < visible; j++)
                        row[j] = scale * pr[j] * (row[j] - dot);
                    memset(row + visible, 0, (t1 - visible) * sizeof(float));
                }

                /* dq[t0:t1] += ds · k[0:t1] */
                if (dq)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)h,
                                (int)t1, 1.0f, ds, (int)t1, k + kv_off, (int)kv_stride, 1.0f,
                                dq + q_off + t0 * q_stride, (int)q_stride);

                /* dk[0:t1] += dsᵀ · q[t0:t1] */
                if (dk)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)t1, (int)h, (int)rows,
                                1.0f, ds, (int)t1, q + q_off + t0 * q_stride, (int)q_stride, 1.0f,
                                dk + kv_off, (int)kv_stride);
            }
        }
    }
}
