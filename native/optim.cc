// In-place optimizer updates: Adam / AdamW and LAMB (two passes over the parameter, no temporary:
// the first updates the moments and accumulates ||p||, ||update|| in double, the second applies).
#include "common.h"

namespace adarec {
namespace {

template <bool Decoupled>
ADAREC_INLINE void adamT(float* p, const float* g, float* m, float* v, int64_t n, float b1, float b2, float c1,
                         float c2, float wd, float decay, float stepSize, float invSqrtBc2, float eps) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    float pi = p[i];
    if (Decoupled) pi *= decay;
    else gi += wd * pi;
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - stepSize * mi / (std::sqrt(vi) * invSqrtBc2 + eps);
  }
}

ADAREC_CLONES void adamKernel(float* p, const float* g, float* m, float* v, int64_t n, const double* h) {
  const double lr = h[0], b1 = h[1], b2 = h[2], eps = h[3], wd = h[4], step = h[6];
  const bool decoupled = h[5] != 0;
  const double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
  const float stepSize = static_cast<float>(lr / bc1), invSqrtBc2 = static_cast<float>(1 / std::sqrt(bc2));
  const float decay = static_cast<float>(1 - lr * wd);
  if (decoupled)
    adamT<true>(p, g, m, v, n, float(b1), float(b2), float(1 - b1), float(1 - b2), float(wd), decay, stepSize,
                invSqrtBc2, float(eps));
  else
    adamT<false>(p, g, m, v, n, float(b1), float(b2), float(1 - b1), float(1 - b2), float(wd), decay, stepSize,
                 invSqrtBc2, float(eps));
}

ADAREC_CLONES void lambKernel(float* p, const float* g, float* m, float* v, int64_t n, const double* h) {
  const double lr = h[0], b1 = h[1], b2 = h[2], eps = h[3], wd = h[4], step = h[5], clampNorm = h[7];
  const bool debias = h[6] != 0;
  const double bc1 = debias ? 1 - std::pow(b1, step) : 1, bc2 = debias ? 1 - std::pow(b2, step) : 1;
  const float fb1 = float(b1), fb2 = float(b2), c1 = float(1 - b1), c2 = float(1 - b2);
  const float ibc1 = float(1 / bc1), ibc2 = float(1 / bc2), feps = float(eps), fwd = float(wd);
  double pn = 0, un = 0;
#pragma omp simd reduction(+ : pn, un) simdlen(16)
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i], pi = p[i];
    const float mi = fb1 * m[i] + c1 * gi;
    const float vi = fb2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float u = mi * ibc1 / (std::sqrt(vi * ibc2) + feps) + fwd * pi;
    pn += static_cast<double>(pi) * pi;
    un += static_cast<double>(u) * u;
  }
  double wn = std::sqrt(pn);
  if (clampNorm > 0) wn = std::min(wn, clampNorm);
  const double ratio = wn > 0 && un > 0 ? wn / std::sqrt(un) : 1;
  const float k = static_cast<float>(lr * ratio);
  for (int64_t i = 0; i < n; ++i) {
    const float u = m[i] * ibc1 / (std::sqrt(v[i] * ibc2) + feps) + fwd * p[i];
    p[i] -= k * u;
  }
}

// adamStep(p, g, m, v, hyper) with hyper = [lr, beta1, beta2, eps, weightDecay, decoupled, step]
// lambStep(p, g, m, v, hyper) with hyper = [lr, beta1, beta2, eps, weightDecay, step, debias, clampNorm]
template <bool Lamb>
napi_value Step(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lp, lg, lm, lv, lh;
  float* p = a.f32(0, &lp);
  const float* g = a.f32(1, &lg);
  float* m = a.f32(2, &lm);
  float* v = a.f32(3, &lv);
  const double* h = a.f64(4, &lh);
  a.need(lg, lp, "optimizer step: g is too short");
  a.need(lm, lp, "optimizer step: m is too short");
  a.need(lv, lp, "optimizer step: v is too short");
  a.need(lh, Lamb ? 8 : 7, "optimizer step: hyper-parameters missing");
  if (!a.ok) return nullptr;
  if (Lamb) lambKernel(p, g, m, v, lp, h);
  else adamKernel(p, g, m, v, lp, h);
  return a.undefined();
}

}  // namespace

void registerOptim(napi_env env, napi_value exports) {
  defineFn(env, exports, "adamStep", Step<false>);
  defineFn(env, exports, "lambStep", Step<true>);
}

}  // namespace adarec
