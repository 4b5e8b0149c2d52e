/*
 * SHA-256 against published vectors (FIPS 180-2 appendix B: "abc", the
 * 448-bit message, one million 'a') and against Python's hashlib for lengths
 * on each side of the padding boundaries (55, 56, 63, 64, 65, 119, 120 bytes).
 * Every vector is also fed in pieces of every size from 1 to 70 bytes, so
 * the buffering of sha256_update is checked against the same digests.
 */
#include <string.h>

#include "hub/sha256.h"
#include "tap.h"

typedef struct vector {
    const char *name;
    char fill; /* repeat this byte n times, or 0 to use text */
    size_t n;
    const char *text;
    const char *hex;
} vector;

static const vector vectors[] = {
    {"empty", 0, 0, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 0, 0, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"448-bit message", 0, 0, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"55 x a", 'a', 55, NULL, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
    {"56 x a", 'a', 56, NULL, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
    {"63 x a", 'a', 63, NULL, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
    {"64 x a", 'a', 64, NULL, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    {"65 x a", 'a', 65, NULL, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
    {"119 x a", 'a', 119, NULL, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
    {"120 x a", 'a', 120, NULL, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    {"1000 x a", 'a', 1000, NULL,
     "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"},
    {"one million x a", 'a', 1000000, NULL,
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

static void digest_of(const unsigned char *msg, size_t len, size_t piece, char hex[65]) {
    sha256_ctx c;
    uint8_t d[SHA256_DIGEST_LEN];
    sha256_init(&c);
    if (piece == 0) {
        sha256_update(&c, msg, len);
    } else {
        for (size_t o = 0; o < len; o += piece)
            sha256_update(&c, msg + o, len - o < piece ? len - o : piece);
    }
    sha256_final(&c, d);
    sha256_hex(d, hex);
}

int main(void) {
    static unsigned char buf[1000000];
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vector *v = &vectors[i];
        size_t len = v->fill ? v->n : strlen(v->text);
        if (v->fill)
            memset(buf, v->fill, len);
        else
            memcpy(buf, v->text, len);

        char hex[65];
        digest_of(buf, len, 0, hex);
        if (!ok(strcmp(hex, v->hex) == 0, "sha256 %s in one update", v->name))
            diag("got %s, expected %s", hex, v->hex);

        if (len > 2000)
            continue;
        size_t bad_piece = 0;
        for (size_t piece = 1; piece <= 70 && !bad_piece; piece++) {
            digest_of(buf, len, piece, hex);
            if (strcmp(hex, v->hex) != 0)
                bad_piece = piece;
        }
        ok(bad_piece == 0, "sha256 %s in pieces of 1..70 bytes (first bad piece size %zu)", v->name,
           bad_piece);
    }
    return done_testing();
}
