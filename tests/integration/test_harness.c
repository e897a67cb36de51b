/* The harness's own line checks, so that a guest's output cannot pass by a parsing accident. */
#include <criterion/criterion.h>

#include "harness.h"

Test(harness, line_checks)
{
    static const char text[] = "boot\r\nPASS: a\nPASS: b (x)\nFAIL: c (y)\nPASS:d\nSUMMARY: 3 passed, 1 failed\npartial";
    cr_expect(hv_has_line(text, "boot"), "CRLF line matches without its CR");
    cr_expect(hv_has_line(text, "partial"), "last line without a newline");
    cr_expect(!hv_has_line(text, "PASS: b"), "whole lines only");
    cr_expect(hv_has_line_prefix(text, "PASS: b"));
    cr_expect(!hv_has_line_prefix(text, "SUMMARY: 4"));
    cr_expect_eq(hv_count_prefix(text, "PASS: "), 2);
    cr_expect_eq(hv_count_prefix(text, "FAIL: "), 1);
    cr_expect_eq(hv_count_lines(text), 7);
    cr_expect_eq(hv_count_lines(""), 0);
}

Test(harness, summary_parsing)
{
    static const struct {
        const char *text;
        bool ok;
        unsigned passed, failed;
    } cases[] = {
        {"SUMMARY: 21 passed, 0 failed\n", true, 21, 0},
        {"x\nSUMMARY: 3 passed, 2 failed\r\ny\n", true, 3, 2},
        {"no summary\n", false, 0, 0},
        {"SUMMARY: 3 passed\n", false, 0, 0},
        {"SUMMARY: 3 passed, 0 failed trailing\n", false, 0, 0},
        {"SUMMARY: 1 passed, 0 failed\nSUMMARY: 1 passed, 0 failed\n", false, 0, 0}, /* twice */
        {"summary: 1 passed, 0 failed\n", false, 0, 0},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned p = 99, f = 99;
        bool ok = hv_summary(cases[i].text, &p, &f);
        cr_expect_eq(ok, cases[i].ok, "case %u", i);
        if (ok && cases[i].ok)
            cr_expect(p == cases[i].passed && f == cases[i].failed, "case %u: %u/%u", i, p, f);
    }
}
