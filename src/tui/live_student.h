/*
 * The student of a running distillation as an ordinary llama_model, so the
 * Ask screen can question it before the run exports it.
 *
 * A live student is a second lrc_student of the run's shape (same teacher,
 * rank and head tying) with step buffers for one short sequence only. The
 * caller fills ls->st.params with a copy of the run's parameters (from
 * trainer_request_snapshot, or from the run's own array once its trainer has
 * ended); tui_live_student_generate then builds every weight from them:
 * lrc_generate for the layers and the LM head, and the embedding E·Zᵀ row by
 * row. `model` points into those buffers and into the teacher's q/k/v biases,
 * so the teacher must outlive the live student. Generation only reads the
 * teacher, so it may run while the trainer's thread trains.
 *
 * The model keeps the teacher's RoPE pairing (rope_interleaved), so unlike
 * the exported folder no q/k rows are permuted; llama_forward gives the same
 * logits either way.
 */
#ifndef LRC_TUI_LIVE_STUDENT_H
#define LRC_TUI_LIVE_STUDENT_H

#include <stdint.h>

#include "core/error.h"
#include "model/llama.h"
#include "train/lrc.h"

typedef struct tui_live_student {
    lrc_student st;    /* the run's shape over the run's teacher; st.params is the input */
    float *embed;      /* (V, r) generated embedding */
    llama_model model; /* pointers into st and embed; model.arena is NULL */
    int64_t step;      /* the training step the parameters are from, set by the caller */
} tui_live_student;

/* Size a live student like run (its teacher, rank and head tying). Only
 * run's shape is read, never its parameters, so the run may be training.
 * label names the model in ls->model.path. Fill ls->st.params next. */
int tui_live_student_init(tui_live_student *ls, const lrc_student *run, const char *label,
                          lrc_error *err);

/* Rebuild ls->model's weights from ls->st.params. */
void tui_live_student_generate(tui_live_student *ls);

void tui_live_student_free(tui_live_student *ls);

#endif
