/*
 * The Distill screen: a title bar with the run's state, the progress bar
 * with rate and ETA, four panels (loss, gradient norm, mutual information
 * per layer, throughput), the log pane and the key line. Every number comes
 * from the snapshot of tui_metrics, that is from the trainer's own records.
 *
 * A chart panel has y labels (top, middle, bottom of the range) on the
 * left, the plot in the middle and the first and last step below it. The
 * gradient-norm panel is drawn on a log10 scale with the theory's c/√t
 * curve fitted to the points so far (theory.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "tui/studio_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <ncurses.h>

#include "cmd/train_common.h"
#include "tui/chart.h"
#include "tui/hub_pane.h"
#include "tui/theory.h"

#define LABEL_W 8 /* columns of y-axis labels */

/* One line of a chart: a series with its element and ASCII mark. */
typedef struct chart_line_spec {
    const double *x, *y;
    size_t n;
    tui_element element;
} chart_line_spec;

static const char ascii_marks[] = "*+o.";

/* Draw lines into the box interior (y, x, h, w) with axis labels. */
static void draw_chart(studio *s, int y, int x, int h, int w, const chart_line_spec *lines,
                       size_t n_lines, bool logy) {
    int ph = h - 1, pw = w - LABEL_W - 1;
    if (ph < 2 || pw < 4)
        return;
    double ylo = 0, yhi = 0, xlo = 0, xhi = 0;
    bool any = false;
    for (size_t i = 0; i < n_lines; i++) {
        double lo, hi;
        if (lines[i].n == 0 || !chart_y_range(lines[i].y, lines[i].n, logy, &lo, &hi))
            continue;
        if (!any || lo < ylo)
            ylo = lo;
        if (!any || hi > yhi)
            yhi = hi;
        if (!any || lines[i].x[0] < xlo)
            xlo = lines[i].x[0];
        if (!any || lines[i].x[lines[i].n - 1] > xhi)
            xhi = lines[i].x[lines[i].n - 1];
        any = true;
    }
    if (!any) {
        tui_term_text(&s->term, y + ph / 2, x + 1, w - 2, TUI_DIM, "waiting for the first step");
        return;
    }

    chart_canvas cv;
    if (chart_init(&cv, pw, ph, s->term.utf8) < 0)
        return;
    chart_set_range(&cv, xlo, xhi, ylo, yhi, logy);
    for (size_t i = 0; i < n_lines; i++)
        chart_plot(&cv, lines[i].x, lines[i].y, lines[i].n, (uint8_t)i);

    /* The plot, cell by cell so each takes its series' element. */
    char cell[8];
    for (int r = 0; r < ph; r++)
        for (int c = 0; c < pw; c++) {
            const chart_cell *cc = &cv.c[(size_t)r * (size_t)pw + (size_t)c];
            if (!cc->mask)
                continue;
            chart_cell_text(&cv, cc, ascii_marks, cell, sizeof cell);
            tui_element e = cc->series < n_lines ? lines[cc->series].element : TUI_SERIES1;
            tui_term_text(&s->term, y + r, x + LABEL_W + 1 + c, 1, e, cell);
        }

    /* Y labels: top, middle and bottom of the range in data units. */
    char lab[32];
    double mid = logy ? pow(10, (cv.ymin + cv.ymax) / 2) : (cv.ymin + cv.ymax) / 2;
    double top = logy ? pow(10, cv.ymax) : cv.ymax, bot = logy ? pow(10, cv.ymin) : cv.ymin;
    chart_format_value(lab, sizeof lab, top, LABEL_W);
    tui_term_text(&s->term, y, x, LABEL_W, TUI_LABEL, lab);
    chart_format_value(lab, sizeof lab, mid, LABEL_W);
    tui_term_text(&s->term, y + (ph - 1) / 2, x, LABEL_W, TUI_LABEL, lab);
    chart_format_value(lab, sizeof lab, bot, LABEL_W);
    tui_term_text(&s->term, y + ph - 1, x, LABEL_W, TUI_LABEL, lab);

    /* X labels: first and last step. */
    char xl[64];
    snprintf(xl, sizeof xl, "step %.0f", xlo);
    tui_term_text(&s->term, y + ph, x + LABEL_W + 1, pw / 2, TUI_LABEL, xl);
    snprintf(xl, sizeof xl, "%.0f", xhi);
    int len = (int)strlen(xl);
    tui_term_text(&s->term, y + ph, x + LABEL_W + 1 + pw - len, len, TUI_LABEL, xl);
    chart_free(&cv);
}

/* ------------------------------------------------------------------------ */
/* Panels                                                                   */
/* ------------------------------------------------------------------------ */

static void draw_loss(studio *s, int y, int x, int h, int w, bool focus) {
    const tui_metrics *m = s->snap;
    char title[160];
    chart_line_spec lines[3];
    size_t n = 0;
    if (s->loss_view == 0) {
        snprintf(title, sizeof title, "loss: total %.4f  ce %.4f  kl %.4f  (l: part)", m->last.loss,
                 m->last.ce, m->last.kl);
        const int parts[3] = {TUI_LOSS_TOTAL, TUI_LOSS_CE, TUI_LOSS_KL};
        const tui_element el[3] = {TUI_SERIES1, TUI_SERIES2, TUI_SERIES3};
        for (int i = 0; i < 3; i++)
            lines[n++] = (chart_line_spec){m->loss[parts[i]].x, m->loss[parts[i]].y,
                                           m->loss[parts[i]].n, el[i]};
    } else {
        int i = s->loss_view - 1;
        const tui_series *se = &m->loss[i];
        snprintf(title, sizeof title, "loss: %s %.5g  (l: part)", tui_loss_name(i),
                 se->n ? se->y[se->n - 1] : 0.0);
        lines[n++] = (chart_line_spec){se->x, se->y, se->n, TUI_SERIES1};
    }
    tui_term_box(&s->term, y, x, h, w, title, focus);
    draw_chart(s, y + 1, x + 1, h - 2, w - 2, lines, n, false);
}

static void draw_grad(studio *s, int y, int x, int h, int w, bool focus) {
    const tui_metrics *m = s->snap;
    const tui_series *g = &m->grad_norm;
    static double ref[TUI_SERIES_CAP];
    double c = theory_fit_inv_sqrt(g->x, g->y, g->n);
    for (size_t i = 0; i < g->n; i++)
        ref[i] = g->x[i] > 0 ? c / sqrt(g->x[i]) : NAN;
    char title[160];
    snprintf(title, sizeof title, "gradient norm %.4g (log scale); theory c/√t, c = %.3g",
             g->n ? g->y[g->n - 1] : 0.0, c);
    tui_term_box(&s->term, y, x, h, w, title, focus);
    chart_line_spec lines[2] = {{g->x, g->y, g->n, TUI_SERIES1}, {g->x, ref, g->n, TUI_REFERENCE}};
    draw_chart(s, y + 1, x + 1, h - 2, w - 2, lines, g->n > 1 ? 2 : 1, true);
}

static void draw_mi(studio *s, int y, int x, int h, int w, bool focus) {
    const tui_metrics *m = s->snap;
    char title[160];
    if (!m->have_probe) {
        tui_term_box(&s->term, y, x, h, w, "mutual information per layer (nats)", focus);
        tui_term_text(&s->term, y + h / 2, x + 2, w - 4, TUI_DIM,
                      "no probe yet; the probe runs before step 1 and every probe-every steps");
        return;
    }
    double sum = 0, max = 0;
    for (size_t i = 0; i < m->probe.n_layers; i++) {
        sum += m->mi[i];
        if (m->mi[i] > max)
            max = m->mi[i];
    }
    snprintf(title, sizeof title, "MI per layer (nats), step %lld: sum %.3f  top-1 %.3f",
             (long long)m->probe.step, sum, m->probe.top1);
    tui_term_box(&s->term, y, x, h, w, title, focus);

    /* Bars on the top half, the trend of the sum below. */
    int inner = h - 2, bar_rows = inner / 2, cw = w - 2;
    size_t shown = (size_t)bar_rows < m->probe.n_layers ? (size_t)bar_rows : m->probe.n_layers;
    /* When some layers do not fit, the last bar row shows the note instead. */
    bool more = shown < m->probe.n_layers;
    if (more && shown > 0)
        shown--;
    for (size_t i = 0; i < shown; i++) {
        char lab[32], bar[512], val[32];
        snprintf(lab, sizeof lab, "L%-3zu", i);
        int bw = cw - 5 - 9;
        chart_bar_text(max > 0 ? m->mi[i] / max : 0, bw > 1 ? bw : 1, s->term.utf8, bar,
                       sizeof bar);
        snprintf(val, sizeof val, "%8.3f", m->mi[i]);
        int ry = y + 1 + (int)i;
        tui_term_text(&s->term, ry, x + 1, 5, TUI_LABEL, lab);
        tui_term_text(&s->term, ry, x + 6, bw, TUI_BAR, bar);
        tui_term_text(&s->term, ry, x + 6 + bw, 9, TUI_VALUE, val);
    }
    if (more) {
        char note[64];
        snprintf(note, sizeof note, "+%zu layers more (zoom with z)", m->probe.n_layers - shown);
        tui_term_text(&s->term, y + 1 + (int)shown, x + 1, cw, TUI_DIM, note);
    }
    const tui_series *t = &m->mi_sum;
    chart_line_spec line = {t->x, t->y, t->n, TUI_SERIES2};
    draw_chart(s, y + 1 + bar_rows, x + 1, inner - bar_rows, w - 2, &line, 1, false);
}

static void draw_speed(studio *s, int y, int x, int h, int w, bool focus) {
    const tui_metrics *m = s->snap;
    const tui_series *t = &m->tokens_per_s;
    char title[160];
    snprintf(title, sizeof title, "throughput %.0f tok/s  lr %.3g", m->last.tokens_per_s,
             m->last.lr);
    tui_term_box(&s->term, y, x, h, w, title, focus);
    chart_line_spec line = {t->x, t->y, t->n, TUI_SERIES1};
    draw_chart(s, y + 1, x + 1, h - 2, w - 2, &line, 1, false);
}

static void draw_panel(studio *s, int p, int y, int x, int h, int w) {
    bool focus = p == s->panel;
    if (p == PANEL_LOSS)
        draw_loss(s, y, x, h, w, focus);
    else if (p == PANEL_GRAD)
        draw_grad(s, y, x, h, w, focus);
    else if (p == PANEL_MI)
        draw_mi(s, y, x, h, w, focus);
    else
        draw_speed(s, y, x, h, w, focus);
}

/* ------------------------------------------------------------------------ */
/* Screen                                                                   */
/* ------------------------------------------------------------------------ */

static const char *state_label(const studio *s, tui_element *e) {
    const tui_metrics *m = s->snap;
    *e = TUI_GOOD;
    switch (m->state) {
    case TUI_RUN_IDLE:
    case TUI_RUN_STARTING:
        *e = TUI_WARN;
        return s->stop_wanted ? "STOPPING" : "LOADING";
    case TUI_RUN_RUNNING:
        if (s->stop_wanted) {
            *e = TUI_WARN;
            return "STOPPING";
        }
        return "RUNNING";
    case TUI_RUN_PAUSED:
        *e = TUI_WARN;
        return s->stop_wanted ? "STOPPING" : "PAUSED";
    case TUI_RUN_STOPPING:
        *e = TUI_WARN;
        return "STOPPING";
    case TUI_RUN_FINISHED:
        if (m->status != 0) {
            *e = TUI_ERROR;
            return "FAILED";
        }
        return m->last.step >= m->total_steps && m->total_steps > 0 ? "FINISHED" : "STOPPED";
    }
    return "?";
}

static void draw_title(studio *s) {
    const studio_model *t = setup_selected(s);
    const char *name = t ? strrchr(t->path, '/') : NULL;
    if (t && t->label[0])
        name = t->label; /* a Hub model: ORG/NAME@REV, not the commit folder */
    else if (name && name[1])
        name++;
    else
        name = t ? t->path : "?";
    char line[1200];
    snprintf(line, sizeof line, "lrc studio · distill  teacher %.200s  rank %ld  run %.900s", name,
             s->dopt.rank, s->session.rd.path[0] ? s->session.rd.path : "(creating)");
    tui_term_fill(&s->term, 0, 0, COLS, TUI_TITLE);
    tui_term_text(&s->term, 0, 1, COLS - 12, TUI_TITLE, line);
    tui_element e;
    const char *st = state_label(s, &e);
    tui_term_text(&s->term, 0, COLS - 1 - (int)strlen(st), (int)strlen(st), e, st);
}

static void draw_progress(studio *s, int y) {
    const tui_metrics *m = s->snap;
    char left[64], right[160], eta[32], el[32], bar[1024];
    /* Before the first step the total comes from the settings. The ETA is
     * shown only while the run goes on. */
    long long total = m->total_steps > 0 ? (long long)m->total_steps : (long long)s->dopt.steps;
    double f = total > 0 ? (double)m->last.step / (double)total : 0;
    if (m->state == TUI_RUN_RUNNING || m->state == TUI_RUN_PAUSED)
        train_format_duration(eta, sizeof eta, m->last.eta_s);
    else
        snprintf(eta, sizeof eta, "-");
    train_format_duration(el, sizeof el, m->last.elapsed_s);
    snprintf(left, sizeof left, "step %lld/%lld ", (long long)m->last.step, total);
    snprintf(right, sizeof right, " %5.1f%%  %.0f tok/s  ETA %s  elapsed %s", 100 * f,
             m->last.tokens_per_s, eta, el);
    int lw = (int)strlen(left), rw = (int)strlen(right), bw = COLS - 2 - lw - rw;
    tui_term_text(&s->term, y, 1, lw, TUI_VALUE, left);
    if (bw > 2) {
        chart_bar_text(f, bw, s->term.utf8, bar, sizeof bar);
        tui_term_text(&s->term, y, 1 + lw, bw, TUI_BAR, bar);
    }
    tui_term_text(&s->term, y, 1 + lw + (bw > 2 ? bw : 0), rw, TUI_VALUE, right);
}

/* The newest log line sits at the bottom. A long line wraps over several
 * rows, and older lines fill what is left above it. */
static void draw_log(studio *s, int y, int h) {
    tui_term_box(&s->term, y, 0, h, COLS, "log", false);
    int w = COLS - 4, bottom = y + h - 1;
    for (size_t i = 0; bottom > y + 1; i++) {
        const char *line = tui_metrics_log_line(s->snap, i);
        if (!line)
            break;
        bool bad = strncmp(line, "lrc: ", 5) == 0 || strncmp(line, "warning", 7) == 0;
        tui_element e = bad ? TUI_ERROR : TUI_NORMAL;
        int need = hub_pane_wrap(NULL, 0, 0, w, bottom - (y + 1), e, line);
        bottom -= need;
        hub_pane_wrap(&s->term, bottom, 2, w, need, e, line);
    }
}

void distill_draw(studio *s) {
    int W = COLS, H = LINES;
    draw_title(s);
    draw_progress(s, 1);

    int log_h = H >= 36 ? 8 : 6;
    int top = 2, area_h = H - 1 - log_h - top;
    if (s->zoom) {
        draw_panel(s, s->panel, top, 0, area_h, W);
    } else {
        int hw = W / 2, hh = area_h / 2;
        draw_panel(s, PANEL_LOSS, top, 0, hh, hw);
        draw_panel(s, PANEL_GRAD, top, hw, hh, W - hw);
        draw_panel(s, PANEL_MI, top + hh, 0, area_h - hh, hw);
        draw_panel(s, PANEL_SPEED, top + hh, hw, area_h - hh, W - hw);
    }
    draw_log(s, H - 1 - log_h, log_h);

    const char *keys =
        s->snap->state == TUI_RUN_FINISHED
            ? "q quit  Esc setup  a ask  Tab panel  z zoom  l loss part  ? help"
            : "p pause/resume  s save  q stop and quit  x stop  Tab panel  z zoom  l loss part  "
              "a ask  ? help";
    tui_term_fill(&s->term, H - 1, 0, W, TUI_STATUS);
    tui_term_text(&s->term, H - 1, 1, W - 2, TUI_STATUS, keys);
}

void distill_key(studio *s, int ch) {
    const tui_metrics *m = s->snap;
    bool live = m->state == TUI_RUN_RUNNING || m->state == TUI_RUN_PAUSED;
    bool ended = m->state == TUI_RUN_FINISHED;
    switch (ch) {
    case 'p':
        if (live && !s->stop_wanted) {
            if (m->state == TUI_RUN_PAUSED || atomic_load(&s->session.tr.pause_requested))
                trainer_request_resume(&s->session.tr);
            else
                trainer_request_pause(&s->session.tr);
        }
        break;
    case 's':
        if (live && !s->stop_wanted) {
            trainer_request_save(&s->session.tr);
            tui_metrics_log(s->metrics, m->state == TUI_RUN_PAUSED
                                            ? "save requested; writing it now"
                                            : "save requested; written after the current step");
        }
        break;
    case 'q':
        /* Stop with a checkpoint, and quit once the trainer has returned. */
        studio_request_stop(s);
        s->quit = true;
        break;
    case 'x':
        /* Stop with a checkpoint and stay, to look at the final numbers. */
        studio_request_stop(s);
        break;
    case 'a':
        s->ask_return = SCREEN_DISTILL;
        s->screen = SCREEN_ASK;
        break;
    case 27:
        if (ended) {
            /* The exported student joins the list, for Ask and later runs. */
            if (s->session.student_dir[0])
                setup_add_model(s, s->session.student_dir, "run student");
            studio_end_run(s);
            s->screen = SCREEN_SETUP;
        }
        break;
    case '\t':
    case KEY_RIGHT:
    case KEY_DOWN:
        s->panel = (s->panel + 1) % N_PANELS;
        break;
    case KEY_BTAB:
    case KEY_LEFT:
    case KEY_UP:
        s->panel = (s->panel + N_PANELS - 1) % N_PANELS;
        break;
    case 'z':
    case KEY_ENTER:
    case '\r':
    case '\n':
        s->zoom = !s->zoom;
        break;
    case 'l':
        s->loss_view = (s->loss_view + 1) % (TUI_N_LOSS + 1);
        break;
    case 'L':
        s->loss_view = (s->loss_view + TUI_N_LOSS) % (TUI_N_LOSS + 1);
        break;
    default:
        break;
    }
}
