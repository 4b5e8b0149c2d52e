/*
 * Answer matching for evaluation. Both the predicted and the expected answer
 * go through answer_normalize, and answer_match compares the two results as
 * strings, with one extra rule for multiple-choice letters (rule 8). The rules
 * run in this order:
 *
 *  1. The text must be valid UTF-8. It is put in Unicode NFC, so "e" followed
 *     by U+0301 equals "é" (U+00E9).
 *  2. U+2212 MINUS SIGN becomes "-" ("−3" = "-3"). No-break spaces (U+00A0,
 *     U+202F) and every ASCII white-space character become a plain space.
 *  3. Letters are lower-cased ("Paris" = "paris", "É" = "é").
 *  4. Runs of spaces become one space, and leading and trailing spaces go
 *     ("  new   york " = "new york").
 *  5. Until nothing changes: a leading "final answer:", "answer:",
 *     "the answer is" or "answer is" goes ("Answer: 42" = "42"), surrounding
 *     quotes (" ' ` “ ” ‘ ’ « ») and markdown asterisks go ("\"paris\"" =
 *     "paris", "**7**" = "7"), "\boxed{X}" becomes X, and trailing
 *     . , ; : ! ? go ("Paris." = "paris").
 *  6. A choice label becomes its letter: "(b)", "[b]", "b)", "b.", "b:",
 *     "option b", "choice b" and "option (b)" all become "b". A bare "b"
 *     stays "b". "ab" is not a label, so "B" does not match "AB".
 *  7. A number becomes its shortest round-trip decimal form ("%.15g" to
 *     "%.17g", "-0" becomes "0"):
 *     - sign: "+5" = "5", "-3" = "−3";
 *     - digit grouping by commas in groups of exactly three: "1,000" = "1000",
 *       but "1,00" is not a number and stays text;
 *     - decimals and exponents: "1000.0" = "1e3" = "1000", ".5" = "0.5";
 *     - fractions of two integers: "1/2" = "0.5" = "2/4", "-3/4" = "-0.75";
 *       a zero denominator ("1/0") leaves the text as it is;
 *     - one currency sign $ € £ ¥ before the digits is dropped:
 *       "$5" = "5", "-$5" = "-5";
 *     - one trailing unit word of letters only is dropped: "12 apples" = "12",
 *       "5 km" = "5". NOTE: so "3 dogs" also equals "3 cats";
 *     - a percent sign is kept and is not scaled: "10 %" = "10%", but "10%"
 *       differs from both "10" and "0.1";
 *     - values are compared as doubles, so "12" and "1.2" differ, and
 *       integers above 2^53 that round to the same double are equal.
 *     Anything else (two numbers, a word between digits, "1/0") stays text.
 *  8. In answer_match only: when the normalized expected answer is a single
 *     letter a-z, a predicted answer that opens with a choice label followed
 *     by text also matches: "(B) Paris", "B) Paris", "B. Paris" and
 *     "Option B is correct" match "B", but "B Paris" does not.
 */
#ifndef LRC_REASON_ANSWER_H
#define LRC_REASON_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

/* Normalize text by the rules above into out (out_size bytes including the
 * terminating NUL). Returns 0, or -1 when text is not valid UTF-8, out of
 * memory, or the result does not fit (out is then ""). */
int answer_normalize(const char *text, char *out, size_t out_size);

/* Report whether predicted and expected are the same answer by the rules
 * above. Returns false when either side is invalid UTF-8 or normalization
 * fails. */
bool answer_match(const char *predicted, const char *expected);

#endif
