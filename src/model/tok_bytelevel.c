/*
 * The byte-level alphabet of GPT-2: every byte is written as one printable
 * code point so that BPE can work on text. Bytes that are printable in
 * Latin-1 ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves;
 * the other 68 bytes map, in increasing order, to U+0100, U+0101, ...
 */
#include "model/tok_internal.h"

static int printable(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

static uint32_t byte_to_cp(uint8_t b) {
    if (printable(b))
        return b;
    /* The non-printable bytes are 0x00..0x20 (33), 0x7F..0xA0 (34) and 0xAD. */
    if (b <= 0x20)
        return 256 + b;
    if (b <= 0xA0)
        return 256 + 33 + (b - 0x7F);
    return 256 + 67;
}

size_t tok_bytelevel_char(uint8_t b, char out[2]) {
    uint32_t c = byte_to_cp(b);
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
}

int tok_bytelevel_byte(uint32_t c) {
    if (c < 256)
        return printable((int)c) ? (int)c : -1;
    if (c >= 256 + 68)
        return -1;
    uint32_t k = c - 256;
    if (k < 33)
        return (int)k;
    if (k < 67)
        return (int)(0x7F + k - 33);
    return 0xAD;
}
