/*
 * Colour themes: one text file per theme, NAME.theme, whose lines read
 *
 *   # comment
 *   element = FG BG [ATTR...]
 *
 * FG and BG are `default` (the terminal's own colour), a colour name
 * (black, red, green, yellow, blue, magenta, cyan, white, or bright-NAME for
 * colours 8-15) or a number 0-255 of the xterm 256-colour palette; ATTR is
 * bold, dim, underline, reverse or none. An element the file leaves out
 * takes the `normal` element's style. The format is documented in
 * lrc-themes(5).
 *
 * On a terminal with fewer colours, a colour beyond its range is replaced by
 * the nearest of the first 8 or 16 (in RGB distance), so one file serves 8-,
 * 16- and 256-colour terminals. Lookup of NAME: $XDG_CONFIG_HOME/lrc/themes
 * (default ~/.config/lrc/themes), then LRC_DATADIR/themes, then
 * LRC_SRCDIR/themes.
 */
#ifndef LRC_TUI_THEME_H
#define LRC_TUI_THEME_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef enum tui_element {
    TUI_NORMAL,    /* text and background */
    TUI_TITLE,     /* the top bar */
    TUI_STATUS,    /* the key line at the bottom */
    TUI_BORDER,    /* panel frames */
    TUI_FOCUS,     /* the frame and title of the focused panel or field */
    TUI_LABEL,     /* axis labels and field names */
    TUI_VALUE,     /* numbers and field values */
    TUI_DIM,       /* hints and secondary text */
    TUI_GOOD,      /* running, finished */
    TUI_WARN,      /* paused, stopping */
    TUI_ERROR,     /* errors */
    TUI_SERIES1,   /* first series of a chart */
    TUI_SERIES2,   /* second series */
    TUI_SERIES3,   /* third series */
    TUI_REFERENCE, /* theory reference curves */
    TUI_BAR,       /* bars and the progress bar */
    TUI_N_ELEMENTS
} tui_element;

/* Attribute bits of a style. */
enum { TUI_ATTR_BOLD = 1, TUI_ATTR_DIM = 2, TUI_ATTR_UNDERLINE = 4, TUI_ATTR_REVERSE = 8 };

typedef struct tui_style {
    short fg, bg; /* -1 for the terminal's default, else 0..255 */
    unsigned attrs;
    bool given; /* set by the file (else copied from normal) */
} tui_style;

typedef struct tui_theme {
    char name[64];
    char path[4096]; /* file it came from; "" for the built-in monochrome */
    bool monochrome; /* draw with attributes only */
    tui_style style[TUI_N_ELEMENTS];
} tui_theme;

/* Element name as in theme files ("normal", "series1", ...). */
const char *tui_element_name(tui_element e);

/* Parse a theme file's text; path names the file in errors, which give the
 * line number. */
int tui_theme_parse(tui_theme *t, const char *text, const char *path, lrc_error *err);

/* Find NAME.theme along the lookup path and parse it. A NAME holding '/'
 * or ending in .theme is read as a path. */
int tui_theme_load(tui_theme *t, const char *name, lrc_error *err);

/* The built-in theme of NO_COLOR: default colours, attributes only. */
void tui_theme_monochrome(tui_theme *t);

/* Colour c (0..255 or -1) for a terminal with `colors` colours: unchanged
 * when it fits, else the nearest of colours 0..7 or 0..15 by RGB distance
 * in the xterm palette. */
short tui_color_reduce(short c, int colors);

/* The xterm palette's RGB (0..255 each) of colour c in 0..255. */
void tui_color_rgb(int c, int rgb[3]);

#endif
