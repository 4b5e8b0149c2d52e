/*
 * SHA-256 (FIPS 180-4), incremental: init, any number of updates, final.
 * The Hub names an LFS file by the SHA-256 of its bytes, so a download is
 * verified by hashing it as it arrives (and the partial file first when a
 * download resumes).
 */
#ifndef LRC_HUB_SHA256_H
#define LRC_HUB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN 64

typedef struct sha256_ctx {
    uint32_t state[8];
    uint64_t n_bytes; /* message length so far */
    uint8_t block[64];
    size_t block_len; /* bytes waiting in block */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, uint8_t digest[SHA256_DIGEST_LEN]);

/* Write the digest as 64 lower-case hex digits and a NUL. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_LEN], char hex[SHA256_HEX_LEN + 1]);

#endif
