/*
 * Answer matching: a table of predicted/expected pairs with the verdict each
 * rule in reason/answer.h implies, then normalized forms written by hand and
 * the error cases (invalid UTF-8, a too-small output buffer).
 */
#include "reason/answer.h"
#include "tap.h"

#include <string.h>

typedef struct match_case {
    const char *predicted;
    const char *expected;
    bool same;
    const char *rule;
} match_case;

static const match_case match_cases[] = {
    /* rule 1: NFC */
    {"caf\xc3\xa9", "cafe\xcc\x81", true, "NFC composes e + U+0301"},
    {"cafe", "caf\xc3\xa9", false, "accent is not dropped"},
    /* rule 2: minus sign and spaces */
    {"\xe2\x88\x92"
     "3",
     "-3", true, "U+2212 minus equals hyphen-minus"},
    {"-3", "3", false, "sign matters"},
    {"new\xc2\xa0york", "new york", true, "no-break space"},
    /* rule 3: case */
    {"PARIS", "paris", true, "ASCII case"},
    {"\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9", true, "non-ASCII case"},
    /* rule 4: spaces */
    {"  new   york \t", "New York", true, "space runs and trim"},
    {"newyork", "new york", false, "inner space is kept"},
    /* rule 5: prefixes, quotes, trailing punctuation */
    {"Paris.", "paris", true, "trailing period"},
    {"\"Paris\"", "paris", true, "double quotes"},
    {"\xe2\x80\x9cParis\xe2\x80\x9d", "paris", true, "curly quotes"},
    {"'paris'!", "Paris", true, "quotes then exclamation"},
    {"**7**", "7", true, "markdown bold"},
    {"\\boxed{42}", "42", true, "boxed"},
    {"Final answer: 42", "42", true, "final answer prefix"},
    {"The answer is 42.", "42", true, "the answer is prefix"},
    {"answering", "answer", false, "prefix needs a word boundary"},
    {"Paris, France", "paris", false, "inner comma is kept"},
    /* rule 6: choice labels */
    {"(B)", "B", true, "parenthesised letter"},
    {"B.", "b", true, "letter and period"},
    {"b)", "B", true, "letter and closing parenthesis"},
    {"[c]", "C", true, "bracketed letter"},
    {"Option B", "B", true, "option label"},
    {"choice (d)", "d", true, "choice label with parentheses"},
    {"answer: B", "B", true, "answer prefix and letter"},
    {"(B)", "(b)", true, "labels on both sides"},
    {"B", "AB", false, "one letter is not two"},
    {"AB", "B", false, "two letters are not one"},
    {"(B)", "C", false, "other letter"},
    /* rule 7: numbers */
    {"1,000", "1000", true, "comma grouping"},
    {"1000.0", "1000", true, "trailing zero decimals"},
    {"1e3", "1000", true, "exponent"},
    {"1,000,000", "1e6", true, "two groups"},
    {"1,00", "100", false, "bad grouping stays text"},
    {"12", "1.2", false, "decimal point matters"},
    {"+5", "5", true, "plus sign"},
    {".5", "0.5", true, "leading decimal point"},
    {"1/2", "0.5", true, "fraction to decimal"},
    {"2/4", "1/2", true, "equal fractions"},
    {"-3/4", "-0.75", true, "negative fraction"},
    {"1/3", "0.333", false, "rounded fraction differs"},
    {"1/0", "0", false, "zero denominator stays text"},
    {"$5", "5", true, "dollar sign"},
    {"-$5", "-5", true, "sign before currency"},
    {"\xe2\x82\xac"
     "12.50",
     "12.5", true, "euro sign"},
    {"12 apples", "12", true, "unit word"},
    {"5 km", "5.0", true, "unit word and decimals"},
    {"10%", "10", false, "percent is not dropped"},
    {"10%", "0.1", false, "percent is not scaled"},
    {"10 %", "10%", true, "space before percent"},
    {"-0", "0", true, "negative zero"},
    {"3 4", "34", false, "two numbers stay text"},
    {"0.1", "1/10", true, "fraction equals its decimal"},
    {"9e999", "inf", false, "overflowing number stays text"},
    {"123456789012345678901234567890", "1.2345678901234568e29", true, "long integer as double"},
};

typedef struct normalize_case {
    const char *text;
    const char *normalized;
} normalize_case;

static const normalize_case normalize_cases[] = {
    {"  Answer:  (C) ", "c"},
    {"1,234.50", "1234.5"},
    {"1/3", "0.3333333333333333"},
    {"-$1,000 dollars", "-1000"},
    {"\"New  York.\"", "new york"},
    {"2.5e-3", "0.0025"},
    {"50 %", "50%"},
    {"", ""},
};

int main(void) {
    size_t n_match = sizeof match_cases / sizeof *match_cases;
    for (size_t i = 0; i < n_match; i++) {
        const match_case *c = &match_cases[i];
        bool got = answer_match(c->predicted, c->expected);
        ok(got == c->same, "%s: \"%s\" %s \"%s\"", c->rule, c->predicted,
           c->same ? "matches" : "does not match", c->expected);
        /* Every rule except rule 8 is symmetric. */
        ok(answer_match(c->expected, c->predicted) == c->same, "%s: reversed", c->rule);
    }

    ok(answer_match("(B) Paris", "B"), "choice label with text matches a letter");
    ok(answer_match("B) Paris", "b"), "letter parenthesis with text matches a letter");
    ok(answer_match("B. Paris", "B"), "letter period with text matches a letter");
    ok(answer_match("Option B is correct", "B"), "option label with text matches a letter");
    ok(!answer_match("B Paris", "B"), "bare letter with text does not match");
    ok(!answer_match("I think so", "I"), "word after a letter is not a label");
    ok(!answer_match("(C) Paris", "B"), "other label with text does not match");
    ok(!answer_match("B", "(B) Paris"), "text after a label is kept when expected");

    char out[64];
    for (size_t i = 0; i < sizeof normalize_cases / sizeof *normalize_cases; i++) {
        const normalize_case *c = &normalize_cases[i];
        int rc = answer_normalize(c->text, out, sizeof out);
        ok(rc == 0, "normalize \"%s\" succeeds", c->text);
        ok(strcmp(out, c->normalized) == 0, "normalize \"%s\": got \"%s\", expected \"%s\"",
           c->text, out, c->normalized);
    }

    ok(answer_normalize("caf\xc3", out, sizeof out) == -1, "truncated UTF-8 is rejected");
    ok(out[0] == '\0', "rejected text leaves an empty output");
    ok(answer_normalize("\xff", out, sizeof out) == -1, "invalid UTF-8 byte is rejected");
    ok(!answer_match("\xff", "\xff"), "invalid UTF-8 never matches");
    ok(answer_normalize("paris", out, 5) == -1, "output of exactly the size is too small");
    ok(answer_normalize("paris", out, 6) == 0 && strcmp(out, "paris") == 0,
       "output with room for the NUL fits");
    return done_testing();
}
