/* kernels_softmax2.c — the two-pass softmax (M. Dukhan and A. Ablavatski,
 * "The Two-Pass Softmax Algorithm", 2020; XNNPACK's f32-raddextexp), beside
 * gb_softmax's three passes (max; exp and sum; scale).
 *
 * Pass 1 reads x once and sums exp(x) in an extended range: each exp is a
 * mantissa m = exp(x - n ln2) in [~0.7, ~1.4] and an integer exponent
 * n = round(x / ln2), and the sum is kept as (s, e) with s * 2^e: adding
 * (m, n) rescales whichever has the smaller exponent, so nothing overflows
 * and no max pass is needed. Pass 2 reads x again, recomputes (m, n) and
 * writes m * 2^(n - e) / s. Two reads of x and one write, against three reads
 * and two writes, for twice the exp arithmetic: a win when x comes from
 * memory, not when a row sits in L1 (bench/kernels_bench.c measures both; the
 * engine keeps gb_softmax where it is faster). -INFINITY entries give 0 and an
 * all -INFINITY row gives zeros, as gb_softmax.
 */
#include <float.h>
#include <math.h>

#include "kernels/kernels.h"
#include "kernels/simd.h"

#define LOG2E 1.44269504088896341f
/* x is clamped to [-4096, 4096]: the reduction x - k ln2 is exact there
 * (k has at most 13 bits; ln2's high part 9). Logits and attention scores
 * lie far inside; -INFINITY (a masked entry) gives 0. */
#define EXP_LO -4096.0f
#define EXP_HI 4096.0f

static inline float clamp_exp(float x) { return x < EXP_LO ? EXP_LO : x < EXP_HI ? x : EXP_HI; }

/* 2^k for integral k held in a float, any k: 0 below -149 (the sum's
 * rescaling of a term far below the largest). */
static inline float pow2f(float k) { return k < -149.0f ? 0.0f : ldexpf(1.0f, (int)k); }

void gb_softmax_twopass_ref(float *out, const float *x, int n) {
    float s = 0.0f, e = -INFINITY; /* the sum is s * 2^e */
    for (int i = 0; i < n; i++) {
        if (x[i] == -INFINITY) continue;
        float xi = clamp_exp(x[i]);
        float k = rintf(xi * LOG2E), m = expf((float)((double)xi - (double)k * 0.6931471805599453));
        if (k > e) { s = s * pow2f(e - k) + m; e = k; }
        else s += m * pow2f(k - e);
    }
    if (e == -INFINITY) {
        for (int i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    float inv = 1.0f / s;
    for (int i = 0; i < n; i++) {
        if (x[i] == -INFINITY) { out[i] = 0.0f; continue; }
        float xi = clamp_exp(x[i]);
        float k = rintf(xi * LOG2E), m = expf((float)((double)xi - (double)k * 0.6931471805599453));
        out[i] = m * pow2f(k - e) * inv;
    }
}

#ifdef VW

/* 2^d for integral d <= 0 in floats: 0 below -126 (v_pow2i's range). */
static inline vf pow2_nonpos(vf d) {
    vf lo = v_set1(-126.0f);
    return v_zero_below(v_pow2i(v_max(d, lo)), d, lo);
}

void gb_softmax_twopass(float *out, const float *x, int n) {
    int nm = n - n % VW, i;
    const vf lo = v_set1(EXP_LO), hi = v_set1(EXP_HI), nolo = v_set1(-FLT_MAX); /* below it: -inf */
    /* per lane: the sum is s * 2^e; an empty lane is 0 * 2^-inf */
    vf s = v_set1(0.0f), e = v_set1(-INFINITY);
    for (i = 0; i < nm; i += VW) {
        vf xv = v_load(x + i), k;
        vf m = v_zero_below(v_exp_split(v_max(v_min(xv, hi), lo), &k), xv, nolo);
        vf e1 = v_max(e, k);
        s = v_add(v_mul(s, pow2_nonpos(v_sub(e, e1))), v_mul(m, pow2_nonpos(v_sub(k, e1))));
        e = e1;
    }
    float ls[VW], le[VW];
    v_store(ls, s), v_store(le, e);
    float S = 0.0f, E = -INFINITY;
    for (int l = 0; l < VW; l++) E = le[l] > E ? le[l] : E;
    for (i = nm; i < n; i++) /* the tail's exponents join before the lanes are summed */
        if (x[i] != -INFINITY) {
            float k = rintf(clamp_exp(x[i]) * LOG2E);
            E = k > E ? k : E;
        }
    if (E == -INFINITY) { /* every entry -inf */
        for (i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    for (int l = 0; l < VW; l++) S += le[l] == -INFINITY ? 0.0f : ls[l] * pow2f(le[l] - E);
    for (i = nm; i < n; i++)
        if (x[i] != -INFINITY) {
            float xi = clamp_exp(x[i]);
            float k = rintf(xi * LOG2E);
            S += expf((float)((double)xi - (double)k * 0.6931471805599453)) * pow2f(k - E);
        }
    if (!(S > 0.0f)) {
        for (i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    vf vE = v_set1(E), vinv = v_set1(1.0f / S);
    for (i = 0; i < nm; i += VW) {
        vf xv = v_load(x + i), k;
        vf m = v_zero_below(v_exp_split(v_max(v_min(xv, hi), lo), &k), xv, nolo);
        v_store(out + i, v_mul(v_mul(m, pow2_nonpos(v_sub(k, vE))), vinv));
    }
    float inv = 1.0f / S;
    for (; i < n; i++) {
        if (x[i] == -INFINITY) { out[i] = 0.0f; continue; }
        float xi = clamp_exp(x[i]);
        float k = rintf(xi * LOG2E);
        out[i] = expf((float)((double)xi - (double)k * 0.6931471805599453)) * pow2f(k - E) * inv;
    }
}
#else
void gb_softmax_twopass(float *out, const float *x, int n) { gb_softmax_twopass_ref(out, x, n); }
#endif
