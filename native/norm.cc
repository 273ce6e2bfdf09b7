// LayerNorm (optionally fused with ReLU) and BatchNorm, forward and backward. Row statistics and
// parameter-gradient sums accumulate in double; the per-element math is float32. LayerNorm runs
// its rows in parallel (parallelRange / parallelChunks in common.h); BatchNorm stays serial.
#include "common.h"

namespace adarec {
namespace {

thread_local std::vector<double> t_acc;
// Rows per chunk of a parameter-gradient reduction (fixed: the sums do not depend on the thread count).
constexpr int64_t kNormChunkRows = 256;

ADAREC_CLONES void layerNormFwdKernel(const float* x, const float* gamma, const float* beta, int64_t R, int64_t C,
                                      double eps, bool relu, float* y, float* mean, float* rstd) {
  for (int64_t r = 0; r < R; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    double s = 0;
#pragma omp simd reduction(+ : s) simdlen(16)
    for (int64_t c = 0; c < C; ++c) s += xr[c];
    const double mu = s / C;
    double v = 0;
#pragma omp simd reduction(+ : v) simdlen(16)
    for (int64_t c = 0; c < C; ++c) {
      double d = xr[c] - mu;
      v += d * d;
    }
    const double rs = 1.0 / std::sqrt(v / C + eps);
    const float muf = static_cast<float>(mu), rsf = static_cast<float>(rs);
    mean[r] = muf;
    rstd[r] = rsf;
    if (relu) {
      for (int64_t c = 0; c < C; ++c) {
        float t = (xr[c] - muf) * rsf * gamma[c] + beta[c];
        yr[c] = t > 0.f ? t : 0.f;
      }
    } else {
      for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - muf) * rsf * gamma[c] + beta[c];
    }
  }
}

template <bool Mask>
ADAREC_INLINE void layerNormBwdT(const float* dy, const float* x, const float* gamma, const float* mean,
                                 const float* rstd, const float* y, int64_t R, int64_t C, float* dx, double* dg,
                                 double* db) {
  for (int64_t r = 0; r < R; ++r) {
    const float* dyr = dy + r * C;
    const float* xr = x + r * C;
    const float* yr = Mask ? y + r * C : nullptr;
    float* dxr = dx + r * C;
    const float mu = mean[r], rs = rstd[r];
    double s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2) simdlen(16)
    for (int64_t c = 0; c < C; ++c) {
      const float g = Mask ? (yr[c] > 0.f ? dyr[c] : 0.f) : dyr[c];
      const float xh = (xr[c] - mu) * rs;
      dg[c] += g * xh;
      db[c] += g;
      const float t = g * gamma[c];
      s1 += t;
      s2 += t * xh;
    }
    const float m1 = static_cast<float>(s1 / C), m2 = static_cast<float>(s2 / C);
    for (int64_t c = 0; c < C; ++c) {
      const float g = Mask ? (yr[c] > 0.f ? dyr[c] : 0.f) : dyr[c];
      const float xh = (xr[c] - mu) * rs;
      dxr[c] = rs * (g * gamma[c] - m1 - xh * m2);
    }
  }
}

ADAREC_CLONES void layerNormBwdKernel(const float* dy, const float* x, const float* gamma, const float* mean,
                                      const float* rstd, const float* y, int64_t R, int64_t C, float* dx, double* dg,
                                      double* db) {
  if (y) layerNormBwdT<true>(dy, x, gamma, mean, rstd, y, R, C, dx, dg, db);
  else layerNormBwdT<false>(dy, x, gamma, mean, rstd, y, R, C, dx, dg, db);
}

// Column sums over rows: acc[c] += x[r, c] (or (x - mu[c])^2 when mu is given).
ADAREC_CLONES void columnSums(const float* x, int64_t R, int64_t C, const double* mu, double* acc) {
  for (int64_t r = 0; r < R; ++r) {
    const float* xr = x + r * C;
    if (mu) {
      for (int64_t c = 0; c < C; ++c) {
        double d = xr[c] - mu[c];
        acc[c] += d * d;
      }
    } else {
      for (int64_t c = 0; c < C; ++c) acc[c] += xr[c];
    }
  }
}

ADAREC_CLONES void batchNormApply(const float* x, const float* gamma, const float* beta, const float* mean,
                                  const float* rstd, int64_t R, int64_t C, float* y) {
  for (int64_t r = 0; r < R; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - mean[c]) * rstd[c] * gamma[c] + beta[c];
  }
}

ADAREC_CLONES void batchNormBwdSums(const float* dy, const float* x, const float* mean, const float* rstd, int64_t R,
                                    int64_t C, double* sdy, double* sdyx) {
  for (int64_t r = 0; r < R; ++r) {
    const float* dyr = dy + r * C;
    const float* xr = x + r * C;
    for (int64_t c = 0; c < C; ++c) {
      const float g = dyr[c];
      sdy[c] += g;
      sdyx[c] += g * ((xr[c] - mean[c]) * rstd[c]);
    }
  }
}

// dx = k (R dy - sdy - xh sdyx) with k = gamma rstd / R, per channel coefficients in coef[0..3C).
ADAREC_CLONES void batchNormBwdApply(const float* dy, const float* x, const float* mean, const float* rstd,
                                     const float* coef, int64_t R, int64_t C, float* dx) {
  const float Rf = static_cast<float>(R);
  const float* k = coef;
  const float* sdy = coef + C;
  const float* sdyx = coef + 2 * C;
  for (int64_t r = 0; r < R; ++r) {
    const float* dyr = dy + r * C;
    const float* xr = x + r * C;
    float* dxr = dx + r * C;
    for (int64_t c = 0; c < C; ++c) {
      const float xh = (xr[c] - mean[c]) * rstd[c];
      dxr[c] = k[c] * (Rf * dyr[c] - sdy[c] - xh * sdyx[c]);
    }
  }
}

thread_local std::vector<float> t_coef;

// layerNormForward(x, gamma, beta, R, C, eps, relu, y, mean, rstd)
napi_value LayerNormForward(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lx, lg, lb, ly, lm, lr;
  const float* x = a.f32(0, &lx);
  const float* gamma = a.f32(1, &lg);
  const float* beta = a.f32(2, &lb);
  int64_t R = a.dim(3), C = a.dim(4);
  double eps = a.num(5);
  bool relu = a.flag(6);
  float* y = a.f32(7, &ly);
  float* mean = a.f32(8, &lm);
  float* rstd = a.f32(9, &lr);
  const int64_t n = R * C;
  a.need(lx, n, "layerNormForward: x is too short");
  a.need(ly, n, "layerNormForward: y is too short");
  a.need(lg, R > 0 ? C : 0, "layerNormForward: gamma is too short");
  a.need(lb, R > 0 ? C : 0, "layerNormForward: beta is too short");
  a.need(lm, R, "layerNormForward: mean is too short");
  a.need(lr, R, "layerNormForward: rstd is too short");
  if (!a.ok) return nullptr;
  parallelRange(R, 8 * C, [&](int64_t lo, int64_t hi) {
    layerNormFwdKernel(x + lo * C, gamma, beta, hi - lo, C, eps, relu, y + lo * C, mean + lo, rstd + lo);
  });
  return a.undefined();
}

// layerNormBackward(dy, x, gamma, mean, rstd, y | null, R, C, dx, dgamma, dbeta)
napi_value LayerNormBackward(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t ldy, lx, lg, lm, lr, ly, ldx, ldg, ldb;
  const float* dy = a.f32(0, &ldy);
  const float* x = a.f32(1, &lx);
  const float* gamma = a.f32(2, &lg);
  const float* mean = a.f32(3, &lm);
  const float* rstd = a.f32(4, &lr);
  const float* y = a.f32OrNull(5, &ly);
  int64_t R = a.dim(6), C = a.dim(7);
  float* dx = a.f32(8, &ldx);
  float* dgamma = a.f32(9, &ldg);
  float* dbeta = a.f32(10, &ldb);
  const int64_t n = R * C;
  a.need(ldy, n, "layerNormBackward: dy is too short");
  a.need(lx, n, "layerNormBackward: x is too short");
  a.need(ldx, n, "layerNormBackward: dx is too short");
  if (y) a.need(ly, n, "layerNormBackward: y is too short");
  a.need(lg, R > 0 ? C : 0, "layerNormBackward: gamma is too short");
  a.need(lm, R, "layerNormBackward: mean is too short");
  a.need(lr, R, "layerNormBackward: rstd is too short");
  a.need(ldg, C, "layerNormBackward: dgamma is too short");
  a.need(ldb, C, "layerNormBackward: dbeta is too short");
  if (!a.ok) return nullptr;
  // dgamma/dbeta: one partial per fixed chunk of rows, summed in chunk order (thread-count independent)
  const int64_t chunks = (R + kNormChunkRows - 1) / kNormChunkRows;
  double* acc = scratch(t_acc, (chunks + 1) * 2 * C);
  std::memset(acc, 0, (chunks + 1) * 2 * C * sizeof(double));
  parallelChunks(chunks, 12 * kNormChunkRows * C, [&](int64_t ch) {
    const int64_t lo = ch * kNormChunkRows, rows = std::min(R - lo, kNormChunkRows);
    double* part = acc + (ch + 1) * 2 * C;
    layerNormBwdKernel(dy + lo * C, x + lo * C, gamma, mean + lo, rstd + lo, y ? y + lo * C : nullptr, rows, C, dx + lo * C,
                       part, part + C);
  });
  for (int64_t ch = 0; ch < chunks; ++ch)
    for (int64_t c = 0; c < 2 * C; ++c) acc[c] += acc[(ch + 1) * 2 * C + c];
  std::memset(dgamma, 0, ldg * sizeof(float));
  std::memset(dbeta, 0, ldb * sizeof(float));
  for (int64_t c = 0; c < C; ++c) {
    dgamma[c] = static_cast<float>(acc[c]);
    dbeta[c] = static_cast<float>(acc[C + c]);
  }
  return a.undefined();
}

// batchNormForward(x, gamma, beta, R, C, eps, training, momentum, runningMean, runningVar, y, mean, rstd)
napi_value BatchNormForward(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lx, lg, lb, lrm, lrv, ly, lm, lr;
  const float* x = a.f32(0, &lx);
  const float* gamma = a.f32(1, &lg);
  const float* beta = a.f32(2, &lb);
  int64_t R = a.dim(3), C = a.dim(4);
  double eps = a.num(5);
  bool training = a.flag(6);
  double momentum = a.num(7);
  float* rm = a.f32(8, &lrm);
  float* rv = a.f32(9, &lrv);
  float* y = a.f32(10, &ly);
  float* mean = a.f32(11, &lm);
  float* rstd = a.f32(12, &lr);
  const int64_t n = R * C;
  a.need(lx, n, "batchNormForward: x is too short");
  a.need(ly, n, "batchNormForward: y is too short");
  a.need(lg, C, "batchNormForward: gamma is too short");
  a.need(lb, C, "batchNormForward: beta is too short");
  a.need(lrm, C, "batchNormForward: runningMean is too short");
  a.need(lrv, C, "batchNormForward: runningVar is too short");
  a.need(lm, C, "batchNormForward: mean is too short");
  a.need(lr, C, "batchNormForward: rstd is too short");
  if (!a.ok) return nullptr;
  if (C == 0) return a.undefined();
  if (training) {
    double* acc = scratch(t_acc, 2 * C);
    double* mu = acc;
    double* sq = acc + C;
    std::memset(acc, 0, 2 * C * sizeof(double));
    columnSums(x, R, C, nullptr, mu);
    for (int64_t c = 0; c < C; ++c) mu[c] /= static_cast<double>(R);
    columnSums(x, R, C, mu, sq);
    for (int64_t c = 0; c < C; ++c) {
      const double var = sq[c] / static_cast<double>(R);
      const double unbiased = R > 1 ? var * R / (R - 1) : var;
      rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mu[c]);
      rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * unbiased);
      mean[c] = static_cast<float>(mu[c]);
      rstd[c] = static_cast<float>(1.0 / std::sqrt(var + eps));
    }
  } else {
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = rm[c];
      rstd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(rv[c]) + eps));
    }
  }
  batchNormApply(x, gamma, beta, mean, rstd, R, C, y);
  return a.undefined();
}

// batchNormBackward(dy, x, gamma, mean, rstd, R, C, dx, dgamma, dbeta)
napi_value BatchNormBackward(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t ldy, lx, lg, lm, lr, ldx, ldg, ldb;
  const float* dy = a.f32(0, &ldy);
  const float* x = a.f32(1, &lx);
  const float* gamma = a.f32(2, &lg);
  const float* mean = a.f32(3, &lm);
  const float* rstd = a.f32(4, &lr);
  int64_t R = a.dim(5), C = a.dim(6);
  float* dx = a.f32(7, &ldx);
  float* dgamma = a.f32(8, &ldg);
  float* dbeta = a.f32(9, &ldb);
  const int64_t n = R * C;
  a.need(ldy, n, "batchNormBackward: dy is too short");
  a.need(lx, n, "batchNormBackward: x is too short");
  a.need(ldx, n, "batchNormBackward: dx is too short");
  a.need(lg, C, "batchNormBackward: gamma is too short");
  a.need(lm, C, "batchNormBackward: mean is too short");
  a.need(lr, C, "batchNormBackward: rstd is too short");
  a.need(ldg, C, "batchNormBackward: dgamma is too short");
  a.need(ldb, C, "batchNormBackward: dbeta is too short");
  if (!a.ok) return nullptr;
  if (C == 0) return a.undefined();
  double* acc = scratch(t_acc, 2 * C);
  std::memset(acc, 0, 2 * C * sizeof(double));
  batchNormBwdSums(dy, x, mean, rstd, R, C, acc, acc + C);
  float* coef = scratch(t_coef, 3 * C);
  for (int64_t c = 0; c < C; ++c) {
    dgamma[c] = static_cast<float>(acc[C + c]);
    dbeta[c] = static_cast<float>(acc[c]);
    coef[c] = static_cast<float>(static_cast<double>(gamma[c]) * rstd[c] / static_cast<double>(R));
    coef[C + c] = static_cast<float>(acc[c]);
    coef[2 * C + c] = static_cast<float>(acc[C + c]);
  }
  batchNormBwdApply(dy, x, mean, rstd, coef, R, C, dx);
  return a.undefined();
}

}  // namespace

void registerNorm(napi_env env, napi_value exports) {
  defineFn(env, exports, "layerNormForward", LayerNormForward);
  defineFn(env, exports, "layerNormBackward", LayerNormBackward);
  defineFn(env, exports, "batchNormForward", BatchNormForward);
  defineFn(env, exports, "batchNormBackward", BatchNormBackward);
}

}  // namespace adarec
