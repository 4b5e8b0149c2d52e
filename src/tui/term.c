/*
 * ncurses set-up, colour pairs and styled text (term.h).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* wcwidth; the ncursesw cflags usually set it already */
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif

#include "tui/term.h"

#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <ncurses.h>

static bool no_color_set(void) {
    const char *v = getenv("NO_COLOR");
    return v && *v;
}

int tui_term_start(tui_term *term, const tui_theme *t, lrc_error *err) {
    memset(term, 0, sizeof *term);
    term->theme = *t;
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    term->utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);

    /* newterm, unlike initscr, returns an error instead of exiting. */
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr)
        return lrc_errorf(err,
                          "cannot start the terminal (TERM=%s); set TERM to your terminal's "
                          "name, such as xterm-256color",
                          getenv("TERM") ? getenv("TERM") : "unset");
    set_term(scr);
    term->screen = scr;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);

    if (!t->monochrome && !no_color_set() && has_colors() && start_color() == OK) {
        use_default_colors();
        term->color = true;
        term->colors = COLORS;
        for (int e = 0; e < TUI_N_ELEMENTS; e++) {
            short fg = tui_color_reduce(t->style[e].fg, COLORS);
            short bg = tui_color_reduce(t->style[e].bg, COLORS);
            init_pair((short)(e + 1), fg, bg);
        }
        bkgd((chtype)COLOR_PAIR(TUI_NORMAL + 1));
    }
    return 0;
}

void tui_term_end(tui_term *term) {
    if (!term->screen)
        return;
    if (!isendwin())
        endwin();
    delscreen(term->screen);
    term->screen = NULL;
}

int tui_term_attr(const tui_term *term, tui_element e) {
    unsigned a = term->theme.style[e].attrs;
    int attr = 0;
    if (term->color)
        attr |= COLOR_PAIR(e + 1);
    if (a & TUI_ATTR_BOLD)
        attr |= A_BOLD;
    if (a & TUI_ATTR_DIM)
        attr |= A_DIM;
    if (a & TUI_ATTR_UNDERLINE)
        attr |= A_UNDERLINE;
    if (a & TUI_ATTR_REVERSE)
        attr |= A_REVERSE;
    return attr;
}

int tui_term_text(const tui_term *term, int y, int x, int width, tui_element e, const char *s) {
    if (y < 0 || y >= LINES || x >= COLS || width <= 0)
        return 0;
    if (x + width > COLS)
        width = COLS - x;
    attrset(tui_term_attr(term, e));
    move(y, x);

    int cols = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t left = strlen(s);
    while (left > 0 && cols < width) {
        wchar_t wc;
        size_t n = term->utf8 ? mbrtowc(&wc, s, left, &st) : 1;
        if (!term->utf8)
            wc = (unsigned char)*s < 128 ? (wchar_t)*s : L'?';
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            memset(&st, 0, sizeof st);
            wc = L'?';
            n = 1;
        }
        int w = wcwidth(wc);
        if (w < 0) {
            wc = L'?';
            w = 1;
        }
        if (cols + w > width)
            break;
        addnwstr(&wc, 1);
        cols += w;
        s += n;
        left -= n;
    }
    attrset(A_NORMAL);
    return cols;
}

void tui_term_fill(const tui_term *term, int y, int x, int width, tui_element e) {
    if (y < 0 || y >= LINES || x >= COLS || width <= 0)
        return;
    if (x + width > COLS)
        width = COLS - x;
    attrset(tui_term_attr(term, e));
    mvhline(y, x, ' ', width);
    attrset(A_NORMAL);
}

/* Horizontal, vertical, then the corners: top left, top right, bottom left,
 * bottom right. */
static const char *const box_utf8[6] = {"─", "│", "┌", "┐", "└", "┘"};
static const char *const box_ascii[6] = {"-", "|", "+", "+", "+", "+"};

void tui_term_box(const tui_term *term, int y, int x, int h, int w, const char *title,
                  bool focused) {
    if (h < 2 || w < 2)
        return;
    tui_element e = focused ? TUI_FOCUS : TUI_BORDER;
    /* Box characters are drawn as text, not through the alternate character
     * set, which some terminals inside multiplexers show as letters. */
    const char *const *g = term->utf8 ? box_utf8 : box_ascii;
    for (int c = 1; c < w - 1; c++) {
        tui_term_text(term, y, x + c, 1, e, g[0]);
        tui_term_text(term, y + h - 1, x + c, 1, e, g[0]);
    }
    for (int r = 1; r < h - 1; r++) {
        tui_term_text(term, y + r, x, 1, e, g[1]);
        tui_term_text(term, y + r, x + w - 1, 1, e, g[1]);
    }
    tui_term_text(term, y, x, 1, e, g[2]);
    tui_term_text(term, y, x + w - 1, 1, e, g[3]);
    tui_term_text(term, y + h - 1, x, 1, e, g[4]);
    tui_term_text(term, y + h - 1, x + w - 1, 1, e, g[5]);
    attrset(A_NORMAL);
    if (title && *title && w > 6) {
        char t[256];
        snprintf(t, sizeof t, focused ? "[ %s ]" : " %s ", title);
        tui_term_text(term, y, x + 2, w - 4, e, t);
    }
}
