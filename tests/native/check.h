/* check.h — the tiny assertion kit every native test uses.
 *
 * CHECK records a pass or a failure (with file:line and a message) and goes
 * on, so one run reports every broken case. CHECK_DONE() prints the closing
 * line "NAME: N passed, N failed" and returns the failure count as the exit
 * status, so a failing test always fails the suite.
 */
#ifndef GB_CHECK_H
#define GB_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            check_passed++;                                                \
        } else {                                                           \
            check_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define CHECK_DONE(name)                                                   \
    (printf("%s: %d passed, %d failed\n", (name), check_passed, check_failed), \
     check_failed ? 1 : 0)

/* Largest |a-b| / max(|b|, floor) over n values: the relative error used by
 * every parity check (floor keeps near-zero references from dominating). */
static inline double max_rel_err(const float *a, const float *b, size_t n, double floor_) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        double m = fabs((double)b[i]);
        double r = d / (m > floor_ ? m : floor_);
        if (r > worst || r != r) worst = r;
    }
    return worst;
}

#endif
