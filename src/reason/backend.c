/*
 * The parts of the backend interface that do not depend on a backend: the
 * one-request helper and freeing.
 */
#include "reason/backend.h"

#include <stdlib.h>

int reason_generate(reason_backend *b, const reason_request *req, reason_output *out,
                    lrc_error *err) {
    return b->generate_many(b, req, 1, out, err);
}

void reason_backend_free(reason_backend *b) {
    if (b)
        b->destroy(b);
}

void reason_output_free(reason_output *o) {
    if (!o)
        return;
    free(o->text);
    o->text = NULL;
    o->len = 0;
}
