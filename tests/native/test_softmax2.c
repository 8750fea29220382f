/* test_softmax2.c — the two-pass softmax (gb_softmax_twopass, its SIMD path,
 * and gb_softmax_twopass_ref) against a double-precision softmax written here:
 * every length 1..70 and 1,024 and 50,257, rows of ordinary spread, rows
 * far from 0 (all near -1000 or +1000, where exp itself over- or underflows),
 * -INFINITY entries and an all -INFINITY row. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/kernels.h"

/* |got - want| <= tol * want + 1e-12: float rounding of a few ops per entry,
 * plus the float sum's error, which grows with n (the three-pass reference
 * gb_softmax_ref is held to the same bound: it must pass too). */
static double tol_for(int n) { return n <= 1024 ? 2e-6 : 1e-4; }

static uint64_t rng = 5;
static float randn(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0) - 1.0);
}

static void want_softmax(double *w, const float *x, int n) {
    double mx = -INFINITY, s = 0;
    for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++) s += (w[i] = x[i] == -INFINITY ? 0 : exp((double)x[i] - mx));
    for (int i = 0; i < n; i++) w[i] = s > 0 ? w[i] / s : 0;
}

static void check_row(const float *x, int n, const char *what) {
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n), *c = malloc(sizeof(float) * n);
    double *w = malloc(sizeof(double) * n), ea = 0, eb = 0, ec = 0, TOL = tol_for(n);
    want_softmax(w, x, n);
    gb_softmax_twopass(a, x, n);
    gb_softmax_twopass_ref(b, x, n);
    gb_softmax_ref(c, x, n);
    for (int i = 0; i < n; i++) {
        double f = 1e-12 / TOL;
        double da = fabs(a[i] - w[i]) / (w[i] + f), db = fabs(b[i] - w[i]) / (w[i] + f), dc = fabs(c[i] - w[i]) / (w[i] + f);
        if (!(da <= ea)) ea = da;
        if (!(db <= eb)) eb = db;
        if (!(dc <= ec)) ec = dc;
    }
    CHECK(ea <= TOL && eb <= TOL && ec <= TOL, "%s n=%d: rel err two-pass %g (simd), %g (ref); three-pass ref %g", what,
          n, ea, eb, ec);
    if (n > 1024) printf("%s n=%d: rel err two-pass %.2g (simd), %.2g (ref); three-pass ref %.2g\n", what, n, ea, eb, ec);
    free(a); free(b); free(c); free(w);
}

int main(void) {
    float *x = malloc(sizeof(float) * 50257);
        for (int n = 1; n <= 70; n++) {
        for (int i = 0; i < n; i++) x[i] = 4 * randn();
        check_row(x, n, "spread 4");
        for (int i = 0; i < n; i++) x[i] = -1000 + randn();
        check_row(x, n, "near -1000");
        for (int i = 0; i < n; i++) x[i] = 1000 + 20 * randn();
        check_row(x, n, "near +1000");
        for (int i = 0; i < n; i++) x[i] = (i % 3 == 1) ? -INFINITY : 30 * randn();
        check_row(x, n, "with -inf");
        for (int i = 0; i < n; i++) x[i] = -INFINITY;
        float o[70];
        gb_softmax_twopass(o, x, n);
        int zero = 1;
        for (int i = 0; i < n; i++) zero &= o[i] == 0.0f;
        gb_softmax_twopass_ref(o, x, n);
        for (int i = 0; i < n; i++) zero &= o[i] == 0.0f;
        CHECK(zero, "all -inf, n=%d: zeros", n);
    }
    for (int i = 0; i < 1024; i++) x[i] = 3 * randn();
    check_row(x, 1024, "attention row");
    for (int i = 0; i < 50257; i++) x[i] = 12 * randn();
    check_row(x, 50257, "vocabulary");
    x[17] = 200;
    check_row(x, 50257, "vocabulary, one dominant");
    free(x);
    return CHECK_DONE("test_softmax2");
}
