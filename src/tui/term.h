/*
 * The terminal: the one place that starts and ends ncurses, sets up colour
 * pairs from a theme, and draws text with a theme element's style. Every
 * other studio file draws through these calls and the ncurses window
 * functions on stdscr.
 *
 * Colour pair e + 1 belongs to element e. A monochrome theme, a terminal
 * without colours or NO_COLOR leave the pairs unset and use attributes
 * only. UTF-8 output (braille charts, box lines, block bars) is used when
 * the locale's codeset is UTF-8; otherwise the studio draws ASCII.
 */
#ifndef LRC_TUI_TERM_H
#define LRC_TUI_TERM_H

#include <stdbool.h>

#include "tui/theme.h"

typedef struct tui_term {
    bool utf8;  /* the locale's codeset is UTF-8 */
    bool color; /* colour pairs in use */
    int colors; /* COLORS of the terminal, 0 when colour is off */
    tui_theme theme;
    void *screen; /* the ncurses SCREEN */
} tui_term;

/* Start ncurses on the terminal with theme t (copied). Returns 0, or -1
 * with err filled when the terminal cannot be set up. */
int tui_term_start(tui_term *term, const tui_theme *t, lrc_error *err);
void tui_term_end(tui_term *term);

/* The ncurses attribute (colour pair and attributes) of element e. */
int tui_term_attr(const tui_term *term, tui_element e);

/* Draw UTF-8 or ASCII text at (y, x) in element e, cut to at most `width`
 * columns (clipped at the screen's edge too). Returns the columns drawn. */
int tui_term_text(const tui_term *term, int y, int x, int width, tui_element e, const char *s);

/* Fill `width` columns of row y from x with spaces in element e. */
void tui_term_fill(const tui_term *term, int y, int x, int width, tui_element e);

/* A frame with a title at (y, x) of h rows and w columns. */
void tui_term_box(const tui_term *term, int y, int x, int h, int w, const char *title,
                  bool focused);

#endif
