/*
 * safetensors and half-precision units: F16/BF16 conversions against values
 * computed from the IEEE definitions (every 16-bit pattern, plus rounding
 * cases), the writer's file layout, and the reader's one-line errors on
 * crafted bad files (truncated, header past the end, malformed JSON, unknown
 * and unsupported dtypes, offsets out of range, overlapping tensors, a span
 * that disagrees with the shape, a bad shard index).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/half.h"
#include "model/safetensors.h"
#include "model_fixture.h"
#include "tap.h"

static char tmp_root[256];

static uint32_t bits_of(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

/* ---- conversions ----------------------------------------------------------- */

static void test_f16_known(void) {
    const struct {
        uint16_t bits;
        double value;
    } cases[] = {
        {0x0000, 0.0},      {0x0001, 0x1p-24},        {0x03ff, 1023 * 0x1p-24}, {0x0400, 0x1p-14},
        {0x3c00, 1.0},      {0x3c01, 1.0 + 0x1p-10},  {0xc000, -2.0},           {0x7bff, 65504.0},
        {0x8001, -0x1p-24}, {0x3555, 0.333251953125},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (half_f16_to_f32(cases[i].bits) != (float)cases[i].value) {
            diag("f16 %04x -> %.9g, want %.9g", cases[i].bits, half_f16_to_f32(cases[i].bits),
                 cases[i].value);
            bad++;
        }
    ok(bad == 0, "f16 to f32: known patterns incl. subnormals");
    ok(signbit(half_f16_to_f32(0x8000)) && half_f16_to_f32(0x8000) == 0.0f, "f16 -0 keeps sign");
    ok(isinf(half_f16_to_f32(0x7c00)) && half_f16_to_f32(0x7c00) > 0, "f16 +inf");
    ok(isinf(half_f16_to_f32(0xfc00)) && half_f16_to_f32(0xfc00) < 0, "f16 -inf");
    ok(isnan(half_f16_to_f32(0x7e00)) && isnan(half_f16_to_f32(0x7c01)) &&
           isnan(half_f16_to_f32(0xfe00)),
       "f16 quiet and signalling NaN widen to NaN");
}

static void test_f16_exhaustive(void) {
    int bad_value = 0, bad_round_trip = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        float x = half_f16_to_f32((uint16_t)b);
        int e = (b >> 10) & 31;
        if (e == 31) {
            int want_nan = (b & 0x3ff) != 0;
            bad_value += want_nan ? !isnan(x) : !isinf(x);
            bad_round_trip +=
                want_nan ? (half_f32_to_f16(x) & 0x7c00) != 0x7c00 || !(half_f32_to_f16(x) & 0x3ff)
                         : half_f32_to_f16(x) != b;
            continue;
        }
        if (bits_of(x) != bits_of(fixture_f16_value((uint16_t)b)))
            bad_value++;
        if (half_f32_to_f16(x) != b)
            bad_round_trip++;
    }
    ok(bad_value == 0, "f16 to f32: all 65536 patterns match the IEEE definition (%d differ)",
       bad_value);
    ok(bad_round_trip == 0, "f32 to f16 inverts widening on all patterns (%d differ)",
       bad_round_trip);
}

static void test_f16_rounding(void) {
    const struct {
        double x;
        uint16_t want;
        const char *what;
    } cases[] = {
        {1.0 + 0x1p-11, 0x3c00, "tie rounds to even (down)"},
        {1.0 + 3 * 0x1p-11, 0x3c02, "tie rounds to even (up)"},
        {1.0 + 0x1p-11 + 0x1p-20, 0x3c01, "above the tie rounds up"},
        {65519.0, 0x7bff, "just below the overflow threshold"},
        {65520.0, 0x7c00, "overflow threshold rounds to inf"},
        {1e10, 0x7c00, "large value becomes inf"},
        {0x1p-25, 0x0000, "half the smallest subnormal ties to zero"},
        {1.5 * 0x1p-25, 0x0001, "above half rounds to the smallest subnormal"},
        {3 * 0x1p-25, 0x0002, "subnormal tie rounds to even"},
        {1023.5 * 0x1p-24, 0x0400, "largest subnormal tie carries into the smallest normal"},
        {-0x1p-30, 0x8000, "tiny negative becomes -0"},
        {1e-10, 0x0000, "far below the subnormals becomes 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t got = half_f32_to_f16((float)cases[i].x);
        ok(got == cases[i].want, "f32 to f16: %s (%04x, want %04x)", cases[i].what, got,
           cases[i].want);
    }
    ok(half_f32_to_f16(INFINITY) == 0x7c00 && half_f32_to_f16(-INFINITY) == 0xfc00,
       "f32 to f16: infinities");
    ok(isnan(half_f16_to_f32(half_f32_to_f16(NAN))), "f32 to f16: NaN stays NaN");

    /* Random values: the result must be a nearest F16, ties to even. */
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        float x = ldexpf((float)(fixture_rand() % 1000000) / 1000000.0f + 1.0f,
                         (int)(fixture_rand() % 40) - 30);
        uint16_t r = half_f32_to_f16(x);
        if (r >= 0x7c00) {
            bad++;
            continue;
        }
        double err = fabs(x - fixture_f16_value(r));
        double up = fabs(x - fixture_f16_value((uint16_t)(r + 1)));
        double down = r ? fabs(x - fixture_f16_value((uint16_t)(r - 1))) : INFINITY;
        if (err > up || err > down || ((err == up || err == down) && (r & 1)))
            bad++;
    }
    ok(bad == 0, "f32 to f16: 200000 random values round to nearest even (%d wrong)", bad);
}

static void test_bf16(void) {
    int bad = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        float x = half_bf16_to_f32((uint16_t)b);
        int e = (b >> 7) & 255;
        if (e == 255) {
            bad += (b & 0x7f) ? !isnan(x) : !isinf(x);
            continue;
        }
        bad += bits_of(x) != bits_of(fixture_bf16_value((uint16_t)b));
        bad += half_f32_to_bf16(x) != b;
    }
    ok(bad == 0, "bf16: all 65536 patterns widen per definition and round-trip (%d wrong)", bad);
    ok(half_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80, "f32 to bf16: tie rounds to even (down)");
    ok(half_f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82, "f32 to bf16: tie rounds to even (up)");
    ok(half_f32_to_bf16(3.4e38f) == 0x7f80, "f32 to bf16: overflow rounds to inf");
    ok(half_f32_to_bf16(0x1p-130f) == 0x0008, "f32 to bf16: subnormal kept");
    uint32_t snan_bits = 0x7f800001u; /* payload only in the low bits */
    float snan;
    memcpy(&snan, &snan_bits, 4);
    ok(isnan(half_bf16_to_f32(half_f32_to_bf16(snan))), "f32 to bf16: low-payload NaN stays NaN");
    ok(half_f32_to_bf16(-INFINITY) == 0xff80, "f32 to bf16: -inf");
}

/* ---- writer and reader --------------------------------------------------- */

static void test_write_read(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/w.safetensors", tmp_root);
    float a[6] = {1.0f, -2.5f, 0x1p-20f, 65504.0f, 3.0f, -0.0f};
    float b[3] = {1.0f + 0x1p-11f, 0x1p-24f, -7.0f};
    float c[2] = {1.5f, -1e-30f};
    safetensors_write_tensor wt[] = {
        {.name = "a", .dtype = ST_F32, .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "b.half", .dtype = ST_F16, .ndim = 1, .shape = {3}, .data = b},
        {.name = "c", .dtype = ST_BF16, .ndim = 1, .shape = {2}, .data = c},
        {.name = "empty", .dtype = ST_F32, .ndim = 2, .shape = {0, 4}, .data = a},
    };
    const char *meta[] = {"format", "pt", NULL};
    lrc_error err = {{0}};
    int rc = safetensors_write(path, wt, 4, meta, &err);
    if (!ok(rc == 0, "writer: writes four tensors"))
        diag("%s", err.msg);
    rc = safetensors_write(path, wt, 3, meta, &err); /* replace the file */
    ok(rc == 0, "writer: replaces an existing file");

    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c tmp >/dev/null", tmp_root);
    ok(system(cmd) != 0, "writer: leaves no temporary file behind");

    safetensors_file f;
    rc = safetensors_open(&f, path, &err);
    if (!ok(rc == 0, "reader: opens the written file")) {
        diag("%s", err.msg);
        return;
    }
    ok(f.n_tensors == 3 && f.header_len % 8 == 0, "reader: 3 tensors, header padded to 8 bytes");
    ok(f.metadata_json && strstr(f.metadata_json, "\"format\":\"pt\""), "reader: __metadata__");
    const safetensors_tensor *ta = safetensors_find(&f, "a");
    const safetensors_tensor *tb = safetensors_find(&f, "b.half");
    const safetensors_tensor *tc = safetensors_find(&f, "c");
    ok(ta && ta->dtype == ST_F32 && ta->ndim == 2 && ta->shape[0] == 2 && ta->shape[1] == 3 &&
           ta->begin == 0 && ta->end == 24,
       "reader: F32 entry fields");
    ok(tb && tb->dtype == ST_F16 && tb->begin == 24 && tb->end == 30, "reader: F16 entry fields");
    ok(tc && tc->dtype == ST_BF16 && tc->numel == 2, "reader: BF16 entry fields");
    ok(safetensors_find(&f, "missing") == NULL, "reader: unknown name not found");

    float out[6];
    ok(ta && safetensors_read_f32(ta, out, 6, &err) == 0 && memcmp(out, a, sizeof a) == 0,
       "reader: F32 values exact");
    /* 1 + 2^-11 is an F16 tie that rounds to 1.0; 2^-24 is the smallest subnormal. */
    ok(tb && safetensors_read_f32(tb, out, 3, &err) == 0 && out[0] == 1.0f && out[1] == 0x1p-24f &&
           out[2] == -7.0f,
       "reader: F16 values rounded as IEEE requires");
    ok(tc && safetensors_read_f32(tc, out, 2, &err) == 0 && out[0] == 1.5f &&
           bits_of(out[1]) == bits_of(half_bf16_to_f32(half_f32_to_bf16(-1e-30f))),
       "reader: BF16 values");
    ok(tb && safetensors_read_f32(tb, out, 2, &err) < 0 && strstr(err.msg, "b.half"),
       "reader: element count mismatch is an error");

    /* The raw bytes: an 8-byte little-endian length, then '{'. */
    FILE *fp = fopen(path, "rb");
    uint8_t head[9];
    ok(fp && fread(head, 1, 9, fp) == 9 && head[0] == f.header_len && head[8] == '{',
       "writer: little-endian header length then JSON");
    if (fp)
        fclose(fp);
    safetensors_close(&f);
}

/* ---- bad files ------------------------------------------------------------ */

/* Write a safetensors file with the given header and data_len zero bytes;
 * declared_len overrides the length field when non-zero. */
static void write_raw(const char *path, const char *header, size_t data_len,
                      uint64_t declared_len) {
    FILE *fp = fopen(path, "wb");
    uint64_t n = declared_len ? declared_len : strlen(header);
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(n >> (8 * i));
    fwrite(len, 1, 8, fp);
    fwrite(header, 1, strlen(header), fp);
    for (size_t i = 0; i < data_len; i++)
        fputc(0, fp);
    fclose(fp);
}

/* Open path and check the error is one line containing each of the needles. */
static void expect_open_error(const char *label, const char *path, const char *needle1,
                              const char *needle2) {
    safetensors_file f;
    lrc_error err = {{0}};
    int rc = safetensors_open(&f, path, &err);
    ok(rc < 0, "%s: rejected", label);
    int has = strstr(err.msg, path) && strstr(err.msg, needle1) &&
              (!needle2 || strstr(err.msg, needle2)) && !strchr(err.msg, '\n');
    if (!ok(has, "%s: one line naming the file, '%s'%s%s", label, needle1, needle2 ? " and " : "",
            needle2 ? needle2 : ""))
        diag("message: %s", err.msg);
    if (rc == 0)
        safetensors_close(&f);
}

static void test_bad_files(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/bad.safetensors", tmp_root);

    FILE *fp = fopen(path, "wb");
    fwrite("\x10\0\0", 1, 3, fp);
    fclose(fp);
    expect_open_error("3-byte file", path, "truncated", "3 bytes");

    write_raw(path, "{}", 0, 1000);
    expect_open_error("header length past the end", path, "header length 1000", "byte offset 0");

    write_raw(path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", 8, 0);
    expect_open_error("malformed header JSON", path, "malformed JSON", "byte offset");

    write_raw(path, "{\"w.q\": {\"dtype\": \"F33\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8,
              0);
    expect_open_error("unknown dtype", path, "'w.q'", "unknown dtype 'F33'");

    write_raw(path, "{\"w.big\": {\"dtype\": \"F32\", \"shape\": [16], \"data_offsets\": [0, 64]}}",
              32, 0);
    expect_open_error("offsets out of range", path, "'w.big'", "[0, 64]");

    write_raw(path,
              "{\"first\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
              " \"second\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}",
              24, 0);
    expect_open_error("overlapping tensors", path, "'first'", "'second'");

    write_raw(path, "{\"w.s\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 12]}}",
              16, 0);
    expect_open_error("span disagrees with shape", path, "'w.s'", "needs 16 bytes");

    write_raw(path, "{\"w.n\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8,
              0);
    expect_open_error("negative dimension", path, "'w.n'", "shape entry 0");

    write_raw(path,
              "{\"dup\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
              " \"dup\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
              8, 0);
    expect_open_error("duplicate name", path, "'dup'", "twice");

    write_raw(path, "[1, 2]", 0, 0);
    expect_open_error("header not an object", path, "not an object", NULL);

    /* F64 is a valid safetensors dtype: the file opens, conversion refuses. */
    write_raw(path, "{\"w.d\": {\"dtype\": \"F64\", \"shape\": [2], \"data_offsets\": [0, 16]}}",
              16, 0);
    safetensors_file f;
    lrc_error err = {{0}};
    int rc = safetensors_open(&f, path, &err);
    ok(rc == 0, "F64 tensor: the file opens");
    if (rc == 0) {
        float out[2];
        const safetensors_tensor *t = safetensors_find(&f, "w.d");
        rc = t ? safetensors_read_f32(t, out, 2, &err) : 0;
        ok(rc < 0 && strstr(err.msg, "'w.d'") && strstr(err.msg, "dtype F64") &&
               strstr(err.msg, path),
           "F64 tensor: conversion names the file, key and dtype");
        safetensors_close(&f);
    }

    snprintf(path, sizeof path, "%s/none.safetensors", tmp_root);
    expect_open_error("missing file", path, "cannot open", NULL);
}

static void test_bad_index(void) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/shards", tmp_root);
    mkdir(dir, 0700);
    float v[4] = {1, 2, 3, 4};
    safetensors_write_tensor wt = {
        .name = "x", .dtype = ST_F32, .ndim = 1, .shape = {4}, .data = v};
    lrc_error err = {{0}};
    snprintf(path, sizeof path, "%s/part-1.safetensors", dir);
    safetensors_write(path, &wt, 1, NULL, &err);

    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    FILE *fp = fopen(path, "w");
    fputs("{\"weight_map\": {\"x\": \"part-1.safetensors\", \"y\": \"part-1.safetensors\"}}", fp);
    fclose(fp);
    safetensors_set s;
    int rc = safetensors_set_open_dir(&s, dir, &err);
    ok(rc < 0 && strstr(err.msg, "index.json") && strstr(err.msg, "'y'") &&
           strstr(err.msg, "part-1.safetensors"),
       "index: tensor missing from its shard names the index, key and shard");

    fp = fopen(path, "w");
    fputs("{\"weight_map\": {\"x\": \"part-2.safetensors\"}}", fp);
    fclose(fp);
    rc = safetensors_set_open_dir(&s, dir, &err);
    ok(rc < 0 && strstr(err.msg, "part-2.safetensors") && strstr(err.msg, "cannot open"),
       "index: missing shard file is named");

    fp = fopen(path, "w");
    fputs("{\"metadata\": {}}", fp);
    fclose(fp);
    rc = safetensors_set_open_dir(&s, dir, &err);
    ok(rc < 0 && strstr(err.msg, "weight_map"), "index: missing weight_map key is named");

    fp = fopen(path, "w");
    fputs("{\"weight_map\": {\"x\": ", fp);
    fclose(fp);
    rc = safetensors_set_open_dir(&s, dir, &err);
    ok(rc < 0 && strstr(err.msg, "malformed JSON") && strstr(err.msg, "index.json"),
       "index: malformed JSON names the file");

    fp = fopen(path, "w");
    fputs("{\"weight_map\": {\"x\": \"../part-1.safetensors\"}}", fp);
    fclose(fp);
    rc = safetensors_set_open_dir(&s, dir, &err);
    ok(rc < 0 && strstr(err.msg, "'x'"), "index: shard outside the folder is rejected");

    fp = fopen(path, "w");
    fputs("{\"weight_map\": {\"x\": \"part-1.safetensors\"}}", fp);
    fclose(fp);
    rc = safetensors_set_open_dir(&s, dir, &err);
    ok(rc == 0 && s.n_files == 1 && safetensors_set_find(&s, "x") &&
           safetensors_set_n_tensors(&s) == 1,
       "index: a good index opens");
    if (rc == 0)
        safetensors_set_close(&s);
}

/* Flip random header bytes of a valid file: every open must either succeed
 * with in-range tensors or fail with a message, never crash (run under ASan). */
static void test_corrupted_headers(void) {
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s/fuzz-good.safetensors", tmp_root);
    snprintf(bad, sizeof bad, "%s/fuzz.safetensors", tmp_root);
    float v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (float)i;
    safetensors_write_tensor wt[] = {
        {.name = "a", .dtype = ST_F32, .ndim = 2, .shape = {2, 3}, .data = v},
        {.name = "b", .dtype = ST_F16, .ndim = 1, .shape = {8}, .data = v},
        {.name = "c", .dtype = ST_BF16, .ndim = 3, .shape = {1, 2, 5}, .data = v},
    };
    lrc_error err = {{0}};
    safetensors_write(good, wt, 3, NULL, &err);
    FILE *fp = fopen(good, "rb");
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    size_t header_end = 8 + (size_t)buf[0];

    int opened = 0, rejected = 0, bad_result = 0;
    for (int round = 0; round < 3000; round++) {
        uint8_t copy[4096];
        memcpy(copy, buf, n);
        int flips = 1 + (int)(fixture_rand() % 3);
        for (int k = 0; k < flips; k++) {
            size_t at = fixture_rand() % header_end;
            const char alphabet[] = "0123456789[]{}\",: \"FBI-e.9";
            copy[at] = fixture_rand() % 2
                           ? (uint8_t)alphabet[fixture_rand() % (sizeof alphabet - 1)]
                           : (uint8_t)fixture_rand();
        }
        size_t len = n - (fixture_rand() % 4 == 0 ? fixture_rand() % n : 0);
        fp = fopen(bad, "wb");
        fwrite(copy, 1, len, fp);
        fclose(fp);

        safetensors_file f;
        if (safetensors_open(&f, bad, &err) == 0) {
            opened++;
            for (size_t i = 0; i < f.n_tensors; i++) {
                const safetensors_tensor *t = &f.tensors[i];
                if (t->data + (t->end - t->begin) > f.map + f.size)
                    bad_result++;
                float out[64];
                if (t->numel <= 64)
                    safetensors_read_f32(t, out, t->numel, &err);
            }
            safetensors_close(&f);
        } else {
            rejected++;
            bad_result += strchr(err.msg, '\n') != NULL || !strstr(err.msg, bad);
        }
    }
    ok(bad_result == 0, "3000 corrupted headers: %d opened in range, %d rejected with one line",
       opened, rejected);
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/lrc-test-safetensors-XXXXXX");
    if (!mkdtemp(tmp_root))
        skip_all("cannot create a temporary folder");

    test_f16_known();
    test_f16_exhaustive();
    test_f16_rounding();
    test_bf16();
    test_write_read();
    test_bad_files();
    test_bad_index();
    test_corrupted_headers();

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp_root);
    return done_testing();
}
