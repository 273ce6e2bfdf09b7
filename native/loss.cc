// Row softmax and its gradient, fused softmax cross-entropy (loss + gradient in one pass over
// the logits) and the distillation KL. exp is the vectorised fexp; row sums and losses are double.
#include "common.h"

namespace adarec {
namespace {

thread_local std::vector<float> t_buf;
thread_local std::vector<double> t_part;
thread_local std::vector<int64_t> t_count;
// Rows per chunk of a loss sum (fixed: the sums do not depend on the thread count). Rows run in
// parallel (common.h); each chunk's loss is a partial, added in chunk order.
constexpr int64_t kLossChunkRows = 16;

ADAREC_INLINE float rowMax(const float* x, int64_t n) {
  float m = -kInf;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

// y = exp(x - m), returns the sum (double).
ADAREC_INLINE double expShift(const float* x, float m, float* y, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s) simdlen(16)
  for (int64_t j = 0; j < n; ++j) {
    const float e = fexp(x[j] - m);
    y[j] = e;
    s += e;
  }
  return s;
}

ADAREC_CLONES void softmaxKernel(const float* x, int64_t R, int64_t C, float* y) {
  for (int64_t r = 0; r < R; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    const float m = rowMax(xr, C);
    const float inv = static_cast<float>(1.0 / expShift(xr, m, yr, C));
    for (int64_t j = 0; j < C; ++j) yr[j] *= inv;
  }
}

ADAREC_CLONES void softmaxGradKernel(const float* y, const float* dy, int64_t R, int64_t C, float* dx) {
  for (int64_t r = 0; r < R; ++r) {
    const float* yr = y + r * C;
    const float* dyr = dy + r * C;
    float* dxr = dx + r * C;
    double s = 0;
#pragma omp simd reduction(+ : s) simdlen(16)
    for (int64_t j = 0; j < C; ++j) s += dyr[j] * yr[j];
    const float sf = static_cast<float>(s);
    for (int64_t j = 0; j < C; ++j) dxr[j] = yr[j] * (dyr[j] - sf);
  }
}

// Returns the summed loss; *count gets the number of rows used.
ADAREC_CLONES double crossEntropyKernel(const float* logits, const int32_t* labels, int64_t R, int64_t V,
                                        double ignore, float* grad, float gradScale, int64_t* count) {
  double loss = 0;
  int64_t used = 0;
  for (int64_t r = 0; r < R; ++r) {
    const float* l = logits + r * V;
    const int64_t label = labels[r];
    if (static_cast<double>(label) == ignore) {
      if (grad) std::memset(grad + r * V, 0, V * sizeof(float));
      continue;
    }
    ++used;
    const float m = rowMax(l, V);
    // read before the gradient is written: grad may be the logits' own buffer (crossEntropy's consume)
    const double picked = label >= 0 && label < V ? l[label] : NAN;  // the reference reads undefined
    double s;
    if (grad) {
      float* g = grad + r * V;
      s = expShift(l, m, g, V);
      const float k = static_cast<float>(gradScale / s);
      for (int64_t j = 0; j < V; ++j) g[j] *= k;
      if (label >= 0 && label < V) g[label] -= gradScale;
    } else {
      s = 0;
#pragma omp simd reduction(+ : s) simdlen(16)
      for (int64_t j = 0; j < V; ++j) s += fexp(l[j] - m);
    }
    loss += static_cast<double>(m) + std::log(s) - picked;
  }
  *count = used;
  return loss;
}

// Sum over rows of mask[r] KL(softmax(t/T) || softmax(s/T)); grad = d(sum * gradScale)/ds.
ADAREC_CLONES double distillKLKernel(const float* teacher, const float* student, int64_t R, int64_t V, double temperature,
                                     const float* mask, float* grad, double gradScale, float* buf) {
  const double invT = 1.0 / temperature;
  const float invTf = static_cast<float>(invT);
  float* et = buf;
  float* es = buf + V;
  double total = 0;
  for (int64_t r = 0; r < R; ++r) {
    const float* t = teacher + r * V;
    const float* s = student + r * V;
    const float w = mask ? mask[r] : 1.f;
    if (w == 0.f) {
      if (grad) std::memset(grad + r * V, 0, V * sizeof(float));
      continue;
    }
    float mt = -kInf, ms = -kInf;
#pragma omp simd reduction(max : mt, ms)
    for (int64_t j = 0; j < V; ++j) {
      mt = t[j] > mt ? t[j] : mt;
      ms = s[j] > ms ? s[j] : ms;
    }
    double st = 0, ss = 0;
#pragma omp simd reduction(+ : st, ss) simdlen(16)
    for (int64_t j = 0; j < V; ++j) {
      const float a = fexp((t[j] - mt) * invTf);
      const float b = fexp((s[j] - ms) * invTf);
      et[j] = a;
      es[j] = b;
      st += a;
      ss += b;
    }
    const double lt = std::log(st), ls = std::log(ss);
    // log pt - log ps = (t - s) / T + c
    const float c = static_cast<float>((static_cast<double>(ms) - mt) * invT + ls - lt);
    const float it = static_cast<float>(1.0 / st), is = static_cast<float>(1.0 / ss);
    double kl = 0;
    if (grad) {
      float* g = grad + r * V;
      const float coef = static_cast<float>(w * gradScale * invT);
#pragma omp simd reduction(+ : kl) simdlen(16)
      for (int64_t j = 0; j < V; ++j) {
        const float pt = et[j] * it, ps = es[j] * is;
        kl += pt * ((t[j] - s[j]) * invTf + c);
        g[j] = coef * (ps - pt);
      }
    } else {
#pragma omp simd reduction(+ : kl) simdlen(16)
      for (int64_t j = 0; j < V; ++j) {
        const float pt = et[j] * it;
        kl += pt * ((t[j] - s[j]) * invTf + c);
      }
    }
    total += w * kl;
  }
  return total;
}

// softmax(x, R, C, y)
napi_value Softmax(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lx, ly;
  const float* x = a.f32(0, &lx);
  int64_t R = a.dim(1), C = a.dim(2);
  float* y = a.f32(3, &ly);
  a.need(lx, R * C, "softmax: x is too short");
  a.need(ly, R * C, "softmax: y is too short");
  if (!a.ok) return nullptr;
  parallelRange(R, 8 * C, [&](int64_t lo, int64_t hi) { softmaxKernel(x + lo * C, hi - lo, C, y + lo * C); });
  return a.undefined();
}

// softmaxGrad(y, dy, R, C, dx)
napi_value SoftmaxGrad(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t ly, ldy, ldx;
  const float* y = a.f32(0, &ly);
  const float* dy = a.f32(1, &ldy);
  int64_t R = a.dim(2), C = a.dim(3);
  float* dx = a.f32(4, &ldx);
  a.need(ly, R * C, "softmaxGrad: y is too short");
  a.need(ldy, R * C, "softmaxGrad: dy is too short");
  a.need(ldx, R * C, "softmaxGrad: dx is too short");
  if (!a.ok) return nullptr;
  parallelRange(R, 4 * C, [&](int64_t lo, int64_t hi) { softmaxGradKernel(y + lo * C, dy + lo * C, hi - lo, C, dx + lo * C); });
  return a.undefined();
}

// softmaxCrossEntropy(logits, labels, R, V, ignoreIndex, grad | null, gradScale, result)
// result (Float64Array) receives [loss, count].
napi_value SoftmaxCrossEntropy(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t ll, lab, lg, lres;
  const float* logits = a.f32(0, &ll);
  const int32_t* labels = a.i32(1, &lab);
  int64_t R = a.dim(2), V = a.dim(3);
  double ignore = a.num(4);
  float* grad = a.f32OrNull(5, &lg);
  float gradScale = static_cast<float>(a.num(6));
  double* res = a.f64(7, &lres);
  a.need(ll, R * V, "softmaxCrossEntropy: logits is too short");
  a.need(lab, R, "softmaxCrossEntropy: labels is too short");
  if (grad) a.need(lg, R * V, "softmaxCrossEntropy: grad is too short");
  a.need(lres, 2, "softmaxCrossEntropy: result is too short");
  if (!a.ok) return nullptr;
  // one partial loss per fixed chunk of rows, summed in chunk order (thread-count independent)
  const int64_t chunks = (R + kLossChunkRows - 1) / kLossChunkRows;
  double* part = scratch(t_part, chunks);
  int64_t* used = scratch(t_count, chunks);
  parallelChunks(chunks, 10 * kLossChunkRows * V, [&](int64_t ch) {
    const int64_t lo = ch * kLossChunkRows, rows = std::min(R - lo, kLossChunkRows);
    part[ch] = crossEntropyKernel(logits + lo * V, labels + lo, rows, V, ignore, grad ? grad + lo * V : nullptr, gradScale, &used[ch]);
  });
  double loss = 0, count = 0;
  for (int64_t ch = 0; ch < chunks; ++ch) {
    loss += part[ch];
    count += static_cast<double>(used[ch]);
  }
  res[0] = loss;
  res[1] = count;
  return a.undefined();
}

// distillKL(teacher, student, R, V, temperature, mask | null, grad | null, gradScale) -> number
napi_value DistillKL(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lt, ls, lm, lg;
  const float* teacher = a.f32(0, &lt);
  const float* student = a.f32(1, &ls);
  int64_t R = a.dim(2), V = a.dim(3);
  double temperature = a.num(4);
  const float* mask = a.f32OrNull(5, &lm);
  float* grad = a.f32OrNull(6, &lg);
  double gradScale = a.num(7);
  a.need(lt, R * V, "distillKL: teacher is too short");
  a.need(ls, R * V, "distillKL: student is too short");
  if (mask) a.need(lm, R, "distillKL: mask is too short");
  if (grad) a.need(lg, R * V, "distillKL: grad is too short");
  if (!a.ok) return nullptr;
  const int64_t chunks = (R + kLossChunkRows - 1) / kLossChunkRows;
  double* part = scratch(t_part, chunks);
  parallelChunks(chunks, 16 * kLossChunkRows * V, [&](int64_t ch) {
    const int64_t lo = ch * kLossChunkRows, rows = std::min(R - lo, kLossChunkRows);
    float* buf = scratch(t_buf, 2 * V);
    part[ch] = distillKLKernel(teacher + lo * V, student + lo * V, rows, V, temperature, mask ? mask + lo : nullptr,
                               grad ? grad + lo * V : nullptr, gradScale, buf);
  });
  double total = 0;
  for (int64_t ch = 0; ch < chunks; ++ch) total += part[ch];
  return a.number(total);
}

}  // namespace

void registerLoss(napi_env env, napi_value exports) {
  defineFn(env, exports, "softmax", Softmax);
  defineFn(env, exports, "softmaxGrad", SoftmaxGrad);
  defineFn(env, exports, "softmaxCrossEntropy", SoftmaxCrossEntropy);
  defineFn(env, exports, "distillKL", DistillKL);
}

}  // namespace adarec
