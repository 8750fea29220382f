/* kernels_act.c — the SIMD per-row kernels of a block: gb_layernorm,
 * gb_softmax and both GELUs (gb_gelu, the tanh form GPT-2 uses, and
 * gb_gelu_erf, the exact erf form of config.json's "gelu").
 *
 * Versus the references (kernels_ref.c): sums are VW interleaved partial
 * sums, exp is simd.h's polynomial v_exp, and the GELUs are rewritten so they
 * do not cancel for negative x; all match within float tolerance, not bit for
 * bit. Over simd.h; without SIMD, kernels_scalar.c. */
#include <math.h>

#include "kernels/kernels.h"
#include "kernels/simd.h"

#ifdef VW
static float row_sum(const float *x, int n) {
    int nm = n - n % VW;
    vf acc = v_set1(0.0f);
    for (int i = 0; i < nm; i += VW) acc = v_add(acc, v_load(x + i));
    float s = v_hsum(acc);
    for (int i = nm; i < n; i++) s += x[i];
    return s;
}

/* Two passes as in the reference; the sums are lane partial sums. */
void gb_layernorm(float *out, float *scale, const float *x, const float *w, const float *b,
                  int T, int C, float eps) {
    int Cm = C - C % VW;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * C;
        float *ot = out + (size_t)t * C;
        float mean = row_sum(xt, C) / C;
        vf vm = v_set1(mean), acc = v_set1(0.0f);
        for (int c = 0; c < Cm; c += VW) {
            vf d = v_sub(v_load(xt + c), vm);
            acc = v_madd(acc, d, d);
        }
        float sq = v_hsum(acc);
        for (int c = Cm; c < C; c++) sq += (xt[c] - mean) * (xt[c] - mean);
        float s = sqrtf(sq / C + eps);
        vf vs = v_set1(s);
        int c = 0;
        for (; c < Cm; c += VW) {
            vf d = v_div(v_sub(v_load(xt + c), vm), vs);
            v_store(ot + c, v_madd(v_load(b + c), d, v_load(w + c)));
        }
        for (; c < C; c++) ot[c] = (xt[c] - mean) / s * w[c] + b[c];
        if (scale) scale[t] = s;
    }
}

/* exp by v_exp in the main loop, libm expf in the tail. */
void gb_softmax(float *out, const float *x, int n) {
    int nm = n - n % VW, i;
    float max = -INFINITY;
    if (nm > 0) {
        vf vmax = v_load(x);
        for (i = VW; i < nm; i += VW) vmax = v_max(v_load(x + i), vmax);
        max = v_hmax(vmax);
    }
    for (i = nm; i < n; i++) max = x[i] > max ? x[i] : max;
    if (max == -INFINITY) {
        for (i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    vf vmax = v_set1(max), acc = v_set1(0.0f);
    for (i = 0; i < nm; i += VW) {
        vf e = v_exp(v_sub(v_load(x + i), vmax));
        v_store(out + i, e);
        acc = v_add(acc, e);
    }
    float sum = v_hsum(acc);
    for (i = nm; i < n; i++) {
        out[i] = expf(x[i] - max);
        sum += out[i];
    }
    float inv = 1.0f / sum;
    vf vinv = v_set1(inv);
    for (i = 0; i < nm; i += VW) v_store(out + i, v_mul(v_load(out + i), vinv));
    for (; i < n; i++) out[i] *= inv;
}

/* 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3):
 * the logistic form has no 1 + tanh cancellation for negative x, so it is at
 * least as accurate as the reference's literal tanhf form. */
void gb_gelu(float *out, const float *x, size_t n) {
    size_t nm = n - n % VW, i = 0;
    const vf c = v_set1(-2.0f * 0.7978845608028654f), k3 = v_set1(0.044715f), one = v_set1(1.0f);
    for (; i < nm; i += VW) {
        vf v = v_load(x + i);
        vf u = v_madd(v, v_mul(k3, v), v_mul(v, v));
        v_store(out + i, v_div(v, v_add(one, v_exp(v_mul(c, u)))));
    }
    for (; i < n; i++) {
        float v = x[i];
        out[i] = v / (1.0f + expf(-2.0f * 0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

/* erfc(z) for z >= 0 as t exp(-z^2 + P(t)), t = 1 / (1 + z/2): the Chebyshev
 * fit of Numerical Recipes' erfcc, fractional error under 1.2e-7 everywhere.
 * A relative bound on erfc itself is what GELU needs: for x < 0 the result is
 * 0.5 x erfc(|x|/sqrt 2), which the reference's 1 + erff(x/sqrt 2) loses to
 * cancellation; for x > 0 it is x (1 - 0.5 erfc), with erfc <= 1 no
 * cancellation either. */
static const float ERFC_C[9] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                                 -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f};
#define ERFC_C0 (-1.26551223f)

static float gelu_erf1(float x) {
    float z = fabsf(x) * 0.70710678118654752f, t = 1.0f / (1.0f + 0.5f * z);
    float p = ERFC_C[0];
    for (int k = 1; k < 9; k++) p = p * t + ERFC_C[k];
    float h = 0.5f * t * expf(p * t + ERFC_C0 - z * z);
    return x * (x > 0.0f ? 1.0f - h : h);
}

/* 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2), through erfc of |x|
 * (above). exp by v_exp; libm expf in the tail. */
void gb_gelu_erf(float *out, const float *x, size_t n) {
    size_t nm = n - n % VW, i = 0;
    const vf one = v_set1(1.0f), half = v_set1(0.5f), rs2 = v_set1(0.70710678118654752f);
    for (; i < nm; i += VW) {
        vf v = v_load(x + i), z = v_mul(v_abs(v), rs2);
        vf t = v_div(one, v_add(one, v_mul(half, z)));
        vf p = v_set1(ERFC_C[0]);
        for (int k = 1; k < 9; k++) p = v_add(v_mul(p, t), v_set1(ERFC_C[k]));
        p = v_add(v_mul(p, t), v_set1(ERFC_C0));
        vf h = v_mul(v_mul(half, t), v_exp(v_sub(p, v_mul(z, z))));
        v_store(out + i, v_mul(v, v_if_pos(v, v_sub(one, h), h)));
    }
    for (; i < n; i++) out[i] = gelu_erf1(x[i]);
}
#endif /* VW */
