// Row-structured kernels: causal dilated im2col / col2im, stride-1 pooling over time, bias add and its gradient, embedding
// gather and scatter-add.
#include "common.h"

namespace adarec {
namespace {

thread_local std::vector<double> t_acc;

void im2colKernel(const float* x, int64_t B, int64_t T, int64_t C, int64_t k, int64_t d, float* col) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      float* o = col + (b * T + t) * k * C;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t ts = t - (k - 1 - j) * d;
        if (ts < 0) std::memset(o + j * C, 0, C * sizeof(float));
        else std::memcpy(o + j * C, x + (b * T + ts) * C, C * sizeof(float));
      }
    }
}

// Each dx row is written once: the sum of the dcol slices that read it (none: zero).
ADAREC_CLONES void col2imKernel(const float* dcol, int64_t B, int64_t T, int64_t C, int64_t k, int64_t d, float* dx) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ts = 0; ts < T; ++ts) {
      float* o = dx + (b * T + ts) * C;
      bool first = true;
      for (int64_t j = k - 1; j >= 0; --j) {
        const int64_t t = ts + (k - 1 - j) * d;
        if (t >= T) break;
        const float* s = dcol + ((b * T + t) * k + j) * C;
        if (first) std::memcpy(o, s, C * sizeof(float));
        else for (int64_t c = 0; c < C; ++c) o[c] += s[c];
        first = false;
      }
      if (first) std::memset(o, 0, C * sizeof(float));
    }
}

ADAREC_CLONES void addRowVectorKernel(float* out, const float* bias, int64_t R, int64_t N) {
  for (int64_t r = 0; r < R; ++r) {
    float* o = out + r * N;
    for (int64_t j = 0; j < N; ++j) o[j] += bias[j];
  }
}

ADAREC_CLONES void sumRowsKernel(const float* dy, int64_t R, int64_t N, double* acc) {
  for (int64_t r = 0; r < R; ++r) {
    const float* g = dy + r * N;
    for (int64_t j = 0; j < N; ++j) acc[j] += g[j];
  }
}

ADAREC_CLONES void scatterAddKernel(const float* src, const int32_t* idx, int64_t n, int64_t D, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    float* o = out + static_cast<int64_t>(idx[i]) * D;
    const float* s = src + i * D;
    for (int64_t j = 0; j < D; ++j) o[j] += s[j];
  }
}

// Stride-1 pooling over time, the window t - before .. t + after clipped to the sequence. Max keeps
// the first winning input (flat index) per output for the backward; avg divides by the positions
// covered. Sequences are independent, so both directions split over b.
ADAREC_CLONES void poolForwardKernel(const float* x, int64_t b0, int64_t b1, int64_t T, int64_t C,
    int64_t before, int64_t after, bool max, float* out, int32_t* argmax) {
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t lo = std::max<int64_t>(0, t - before), hi = std::min<int64_t>(T - 1, t + after);
      float* o = out + (b * T + t) * C;
      const float* first = x + (b * T + lo) * C;
      if (max && argmax) {
        int32_t* am = argmax + (b * T + t) * C;
        for (int64_t c = 0; c < C; ++c) { o[c] = first[c]; am[c] = static_cast<int32_t>((b * T + lo) * C + c); }
        for (int64_t s = lo + 1; s <= hi; ++s) {
          const float* r = x + (b * T + s) * C;
          for (int64_t c = 0; c < C; ++c)
            if (r[c] > o[c]) { o[c] = r[c]; am[c] = static_cast<int32_t>((b * T + s) * C + c); }
        }
      } else if (max) {  // no backward to come: the values only
        for (int64_t c = 0; c < C; ++c) o[c] = first[c];
        for (int64_t s = lo + 1; s <= hi; ++s) {
          const float* r = x + (b * T + s) * C;
          for (int64_t c = 0; c < C; ++c) o[c] = r[c] > o[c] ? r[c] : o[c];
        }
      } else {
        for (int64_t c = 0; c < C; ++c) o[c] = first[c];
        for (int64_t s = lo + 1; s <= hi; ++s) {
          const float* r = x + (b * T + s) * C;
          for (int64_t c = 0; c < C; ++c) o[c] += r[c];
        }
        const float inv = 1.0f / static_cast<float>(hi - lo + 1);
        for (int64_t c = 0; c < C; ++c) o[c] *= inv;
      }
    }
}

// The adjoint: max scatters each dy to its winner; avg gathers, for input s, dy[t] / count(t) over
// the outputs t whose window holds s (t = s - after .. s + before), so each dx row is written once.
ADAREC_CLONES void poolBackwardKernel(const float* dy, int64_t b0, int64_t b1, int64_t T, int64_t C,
    int64_t before, int64_t after, bool max, const int32_t* argmax, float* dx) {
  if (max) {
    std::memset(dx + b0 * T * C, 0, (b1 - b0) * T * C * sizeof(float));
    for (int64_t i = b0 * T * C, e = b1 * T * C; i < e; ++i) dx[argmax[i]] += dy[i];
    return;
  }
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t s = 0; s < T; ++s) {
      float* o = dx + (b * T + s) * C;
      std::memset(o, 0, C * sizeof(float));
      const int64_t t0 = std::max<int64_t>(0, s - after), t1 = std::min<int64_t>(T - 1, s + before);
      for (int64_t t = t0; t <= t1; ++t) {
        const int64_t lo = std::max<int64_t>(0, t - before), hi = std::min<int64_t>(T - 1, t + after);
        const float inv = 1.0f / static_cast<float>(hi - lo + 1);
        const float* g = dy + (b * T + t) * C;
        for (int64_t c = 0; c < C; ++c) o[c] += g[c] * inv;
      }
    }
}

// causalIm2col(x, B, T, C, k, d, col) and causalCol2im(dcol, B, T, C, k, d, dx)
template <bool Forward>
napi_value Im2col(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lin, lout;
  const float* in = a.f32(0, &lin);
  int64_t B = a.dim(1), T = a.dim(2), C = a.dim(3), k = a.dim(4), d = a.dim(5);
  float* out = a.f32(6, &lout);
  const int64_t nx = B * T * C, ncol = nx * k;
  a.need(lin, Forward ? nx : ncol, "causalIm2col: input is too short");
  a.need(lout, Forward ? ncol : nx, "causalIm2col: output is too short");
  if (!a.ok) return nullptr;
  if (nx == 0) return a.undefined();
  if (Forward) im2colKernel(in, B, T, C, k, d, out);
  else if (k == 0) std::memset(out, 0, nx * sizeof(float));
  else col2imKernel(in, B, T, C, k, d, out);
  return a.undefined();
}

// pool1dForward(x, B, T, C, before, after, max, out, argmax) and
// pool1dBackward(dy, B, T, C, before, after, max, argmax, dx); argmax is read/written with max only,
// and the forward may be given an empty one (no backward to come).
template <bool Forward>
napi_value Pool1d(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lin, lout, lam = 0;
  const float* in = a.f32(0, &lin);
  int64_t B = a.dim(1), T = a.dim(2), C = a.dim(3), before = a.dim(4), after = a.dim(5);
  bool max = a.flag(6);
  float* out = a.f32(Forward ? 7 : 8, &lout);
  int32_t* argmax = a.i32(Forward ? 8 : 7, &lam);
  const int64_t n = B * T * C;
  a.need(lin, n, "pool1d: input is too short");
  a.need(lout, n, "pool1d: output is too short");
  if (max && (!Forward || lam > 0)) a.need(lam, n, "pool1d: argmax is too short");
  if (n > int64_t{INT32_MAX}) a.fail("pool1d: more than 2^31 elements");
  if (!a.ok) return nullptr;
  if (n == 0) return a.undefined();
  parallelRange(B, T * C * (before + after + 1), [&](int64_t b0, int64_t b1) {
    if (Forward) poolForwardKernel(in, b0, b1, T, C, before, after, max, out, lam > 0 ? argmax : nullptr);
    else poolBackwardKernel(in, b0, b1, T, C, before, after, max, argmax, out);
  });
  return a.undefined();
}

// addRowVector(out, bias, R, N)
napi_value AddRowVector(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lo, lb;
  float* out = a.f32(0, &lo);
  const float* bias = a.f32(1, &lb);
  int64_t R = a.dim(2), N = a.dim(3);
  a.need(lo, R * N, "addRowVector: out is too short");
  a.need(lb, R > 0 ? N : 0, "addRowVector: bias is too short");
  if (!a.ok) return nullptr;
  addRowVectorKernel(out, bias, R, N);
  return a.undefined();
}

// sumRows(dy, R, N, db, accumulate)
napi_value SumRows(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t ly, lb;
  const float* dy = a.f32(0, &ly);
  int64_t R = a.dim(1), N = a.dim(2);
  float* db = a.f32(3, &lb);
  bool accumulate = a.flag(4);
  a.need(ly, R * N, "sumRows: dy is too short");
  a.need(lb, N, "sumRows: db is too short");
  if (!a.ok) return nullptr;
  double* acc = scratch(t_acc, N);
  std::memset(acc, 0, N * sizeof(double));
  sumRowsKernel(dy, R, N, acc);
  if (!accumulate) std::memset(db, 0, lb * sizeof(float));
  for (int64_t j = 0; j < N; ++j) db[j] = static_cast<float>(db[j] + acc[j]);
  return a.undefined();
}

// Validates row indices against a table of `rows` rows.
bool checkIndices(Args& a, const int32_t* idx, size_t n, int64_t rows, const char* what) {
  for (size_t i = 0; i < n; ++i)
    if (idx[i] < 0 || idx[i] >= rows) return a.range(what);
  return true;
}

// gatherRows(table, idx, D, out)
napi_value GatherRows(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lt, li, lo;
  const float* table = a.f32(0, &lt);
  const int32_t* idx = a.i32(1, &li);
  int64_t D = a.dim(2);
  float* out = a.f32(3, &lo);
  a.need(lo, static_cast<int64_t>(li) * D, "gatherRows: out is too short");
  if (!a.ok || D == 0) return a.ok ? a.undefined() : nullptr;
  if (!checkIndices(a, idx, li, static_cast<int64_t>(lt) / D, "gatherRows: index out of range")) return nullptr;
  for (size_t i = 0; i < li; ++i) std::memcpy(out + i * D, table + static_cast<int64_t>(idx[i]) * D, D * sizeof(float));
  return a.undefined();
}

// scatterAddRows(src, idx, D, out)
napi_value ScatterAddRows(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t ls, li, lo;
  const float* src = a.f32(0, &ls);
  const int32_t* idx = a.i32(1, &li);
  int64_t D = a.dim(2);
  float* out = a.f32(3, &lo);
  a.need(ls, static_cast<int64_t>(li) * D, "scatterAddRows: src is too short");
  if (!a.ok || D == 0) return a.ok ? a.undefined() : nullptr;
  if (!checkIndices(a, idx, li, static_cast<int64_t>(lo) / D, "scatterAddRows: index out of range")) return nullptr;
  scatterAddKernel(src, idx, li, D, out);
  return a.undefined();
}

}  // namespace

void registerRows(napi_env env, napi_value exports) {
  defineFn(env, exports, "causalIm2col", Im2col<true>);
  defineFn(env, exports, "causalCol2im", Im2col<false>);
  defineFn(env, exports, "pool1dForward", Pool1d<true>);
  defineFn(env, exports, "pool1dBackward", Pool1d<false>);
  defineFn(env, exports, "addRowVector", AddRowVector);
  defineFn(env, exports, "sumRows", SumRows);
  defineFn(env, exports, "gatherRows", GatherRows);
  defineFn(env, exports, "scatterAddRows", ScatterAddRows);
}

}  // namespace adarec
