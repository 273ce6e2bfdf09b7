// Shared helpers for the adarec native kernels: argument unpacking on top of the raw Node-API C
// interface (hot paths avoid node-addon-api's per-call allocations), SIMD dispatch attributes,
// a vectorisable expf and per-thread scratch buffers.
#pragma once
#include <node_api.h>
#include <signal.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>
#include <atomic>

#if !defined(ADAREC_HAVE_DNNL) && !defined(ADAREC_HAVE_OPENBLAS)
#error "adarec_native needs oneDNN (apt install libdnnl-dev) or OpenBLAS (apt install libopenblas-dev)"
#endif

// Runtime ISA dispatch for the hot loops (GCC ifunc); plain functions elsewhere.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(ADAREC_NO_CLONES)
#define ADAREC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ADAREC_CLONES
#endif
#define ADAREC_INLINE inline __attribute__((always_inline))

namespace adarec {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int kMaxRank = 8;

// ---------------------------------------------------------------- argument unpacking
// Args reads up to 16 arguments; every accessor records the first failure as a pending JS
// TypeError/RangeError and returns a harmless value, so a binding checks `ok` once after unpacking.
struct Args {
  napi_env env;
  napi_value v[16];
  size_t n = 16;
  bool ok = true;

  Args(napi_env e, napi_callback_info ci) : env(e) {
    if (napi_get_cb_info(e, ci, &n, v, nullptr, nullptr) != napi_ok) fail("bad call");
    if (n > 16) n = 16;
  }
  bool fail(const char* msg) {
    if (ok) napi_throw_type_error(env, nullptr, msg);
    ok = false;
    return false;
  }
  bool range(const char* msg) {
    if (ok) napi_throw_range_error(env, nullptr, msg);
    ok = false;
    return false;
  }
  bool isNull(size_t i) {
    if (i >= n) return true;
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    return t == napi_null || t == napi_undefined;
  }
  void* typed(size_t i, napi_typedarray_type want, size_t* len, const char* what) {
    *len = 0;
    if (!ok) return nullptr;
    bool is = false;
    if (i >= n || napi_is_typedarray(env, v[i], &is) != napi_ok || !is) { fail(what); return nullptr; }
    napi_typedarray_type t;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, v[i], &t, len, &data, nullptr, nullptr) != napi_ok || t != want) {
      fail(what);
      return nullptr;
    }
    return data;
  }
  float* f32(size_t i, size_t* len) {
    return static_cast<float*>(typed(i, napi_float32_array, len, "expected a Float32Array"));
  }
  float* f32OrNull(size_t i, size_t* len) {
    *len = 0;
    return isNull(i) ? nullptr : f32(i, len);
  }
  int32_t* i32(size_t i, size_t* len) {
    return static_cast<int32_t*>(typed(i, napi_int32_array, len, "expected an Int32Array"));
  }
  int8_t* i8(size_t i, size_t* len) {
    return static_cast<int8_t*>(typed(i, napi_int8_array, len, "expected an Int8Array"));
  }
  uint8_t* u8(size_t i, size_t* len) {
    return static_cast<uint8_t*>(typed(i, napi_uint8_array, len, "expected a Uint8Array"));
  }
  double* f64(size_t i, size_t* len) {
    return static_cast<double*>(typed(i, napi_float64_array, len, "expected a Float64Array"));
  }
  // A Float32Array or an Int32Array (both 4-byte words: copies move bits). kind: 0 f32, 1 i32.
  uint32_t* word32(size_t i, size_t* len, int* kind) {
    *len = 0;
    if (!ok) return nullptr;
    bool is = false;
    if (i >= n || napi_is_typedarray(env, v[i], &is) != napi_ok || !is) { fail("expected a Float32Array or Int32Array"); return nullptr; }
    napi_typedarray_type t;
    void* data = nullptr;
    napi_get_typedarray_info(env, v[i], &t, len, &data, nullptr, nullptr);
    if (t != napi_float32_array && t != napi_int32_array) { fail("expected a Float32Array or Int32Array"); return nullptr; }
    *kind = t == napi_float32_array ? 0 : 1;
    return static_cast<uint32_t*>(data);
  }
  double num(size_t i) {
    double d = 0;
    if (ok && (i >= n || napi_get_value_double(env, v[i], &d) != napi_ok)) fail("expected a number");
    return d;
  }
  // A non-negative integer dimension.
  int64_t dim(size_t i) {
    double d = num(i);
    if (ok && !(d >= 0 && d <= 9007199254740991.0 && d == std::floor(d))) range("expected a non-negative integer");
    return ok ? static_cast<int64_t>(d) : 0;
  }
  bool flag(size_t i) {
    bool b = false;
    if (ok && (i >= n || napi_get_value_bool(env, v[i], &b) != napi_ok)) fail("expected a boolean");
    return b;
  }
  // Checks that an array of length `len` holds `need` elements.
  bool need(size_t len, int64_t need, const char* what) {
    if (ok && need > 0 && static_cast<uint64_t>(need) > len) return range(what);
    return ok;
  }
  napi_value undefined() {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
  napi_value number(double d) {
    napi_value r;
    napi_create_double(env, d, &r);
    return r;
  }
};

// Registers fn as exports[name].
inline void defineFn(napi_env env, napi_value exports, const char* name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f);
  napi_set_named_property(env, exports, name, f);
}

// ---------------------------------------------------------------- scratch
// Per-thread growable scratch, reused across calls (never shrinks).
template <typename T>
inline T* scratch(std::vector<T>& buf, size_t n) {
  if (n == 0) n = 1;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// ---------------------------------------------------------------- fast exp
// Cephes-style expf: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial, times 2^n built
// from the exponent bits (split into two factors so the whole float range, subnormals included,
// comes out right). Branch-free, so GCC vectorises loops that call it. Relative error ~1e-7;
// exp(+inf) = inf, exp(-inf) = 0, exp(NaN) = NaN.
ADAREC_INLINE float fexp(float x) {
  const float hi = 88.7228394f, lo = -103.972084f;
  float xc = x < hi ? x : hi;
  xc = xc > lo ? xc : lo;
  // round(x / ln2) via the 1.5 * 2^23 trick (exact for |v| < 2^22; no -ffast-math, so it stays)
  float fn = xc * 1.44269504088896341f + 12582912.0f;
  fn -= 12582912.0f;
  float r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r2 + r + 1.0f;
  int32_t n = static_cast<int32_t>(fn);
  int32_t n1 = n >> 1, n2 = n - n1;  // each in [-75, 64]
  float s1 = __builtin_bit_cast(float, (n1 + 127) << 23);
  float s2 = __builtin_bit_cast(float, (n2 + 127) << 23);
  y = y * s1 * s2;
  y = x > hi ? kInf : y;
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;
}

// ---------------------------------------------------------------- strided iteration
// Up to three operands over one shape. canonicalize() drops size-1 axes and merges adjacent axes
// that are contiguous for every operand, so most real cases end up rank 1 or 2.
struct Strided {
  int rank = 0;
  int64_t shape[kMaxRank];
  int64_t st[3][kMaxRank];
  int nops = 0;

  int64_t size() const {
    int64_t s = 1;
    for (int d = 0; d < rank; ++d) s *= shape[d];
    return s;
  }
  void canonicalize() {
    int r = 0;
    for (int d = 0; d < rank; ++d) {
      if (shape[d] == 1) continue;
      if (r > 0) {
        bool merge = true;
        for (int k = 0; k < nops; ++k)
          if (st[k][r - 1] != st[k][d] * shape[d]) { merge = false; break; }
        if (merge) {
          shape[r - 1] *= shape[d];
          for (int k = 0; k < nops; ++k) st[k][r - 1] = st[k][d];
          continue;
        }
      }
      shape[r] = shape[d];
      for (int k = 0; k < nops; ++k) st[k][r] = st[k][d];
      ++r;
    }
    if (r == 0) {  // a scalar (or all-ones shape)
      shape[0] = 1;
      for (int k = 0; k < nops; ++k) st[k][0] = 0;
      r = 1;
    }
    rank = r;
  }
  // Offsets an operand touches lie in [lo, hi]; false if they fall outside [0, len).
  bool inBounds(int k, size_t len) const {
    int64_t lo = 0, hi = 0;
    for (int d = 0; d < rank; ++d) {
      int64_t e = (shape[d] - 1) * st[k][d];
      if (e < 0) lo += e; else hi += e;
    }
    return lo >= 0 && static_cast<uint64_t>(hi) < len;
  }
};

// Walks the outer axes (all but the last) in row-major order, keeping each operand's offset of
// the current innermost run: for (...; it.next()) use it.off[k] and s.shape[rank-1] elements.
struct RunIter {
  const Strided& s;
  int64_t idx[kMaxRank] = {0};
  int64_t off[3] = {0, 0, 0};
  int64_t outer = 1;
  explicit RunIter(const Strided& st) : s(st) {
    for (int d = 0; d < s.rank - 1; ++d) outer *= s.shape[d];
  }
  int64_t inner() const { return s.shape[s.rank - 1]; }
  ADAREC_INLINE void next() {
    for (int d = s.rank - 2; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < s.nops; ++k) off[k] += s.st[k][d];
      if (idx[d] < s.shape[d]) return;
      for (int k = 0; k < s.nops; ++k) off[k] -= s.st[k][d] * s.shape[d];
      idx[d] = 0;
    }
  }
};

// Fills a Strided from the packed Float64Array the TS side passes: shape at [0, 8), the strides
// of operand k at [8 (k+1), 8 (k+2)). Returns false on a malformed shape or stride.
inline bool unpackStrided(Strided& s, int rank, int nops, const double* dims, size_t len) {
  if (rank < 0 || rank > kMaxRank || len < static_cast<size_t>(kMaxRank * (nops + 1))) return false;
  s.rank = rank;
  s.nops = nops;
  for (int d = 0; d < rank; ++d) {
    double v = dims[d];
    if (!(v >= 0 && v < 9.0e15 && v == std::floor(v))) return false;
    s.shape[d] = static_cast<int64_t>(v);
    for (int k = 0; k < nops; ++k) {
      double t = dims[kMaxRank * (k + 1) + d];
      if (!(std::fabs(t) < 9.0e15 && t == std::floor(t))) return false;
      s.st[k][d] = static_cast<int64_t>(t);
    }
  }
  for (int k = nops; k < 3; ++k)
    for (int d = 0; d < kMaxRank; ++d) s.st[k][d] = 0;
  return true;
}

// ---------------------------------------------------------------- GEMM (gemm.cc)
// Row-major C = alpha op(A) op(B) + beta C with explicit leading dimensions, on the selected library.
void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// Blocks asynchronous signals on this thread for its lifetime: oneDNN 2.6's JIT sgemm runs with
// rsp on the heap, so a signal handled mid-call corrupts the heap (see gemm.cc). Every oneDNN
// call must sit inside one. Cheap: two sigprocmask calls; no-op when the library is OpenBLAS,
// unless `always` (parallel regions: see parallelRange).
struct GemmGuard {
  explicit GemmGuard(bool always = false);
  ~GemmGuard();
  bool active;
  sigset_t saved;
};

// ---------------------------------------------------------------- threads
// The kernels' thread count (gemm.cc: ADAREC_THREADS, or setThreads() from the TS side, which
// defaults it to the physical cores). Parallel regions run on OpenMP (libgomp, the runtime
// oneDNN already uses), opened only when the work pays for one; a GEMM inside a region runs
// single-threaded (no nested parallelism). Every region starts under a GemmGuard(true), so the
// pool threads libgomp creates inherit a mask with the asynchronous signals blocked (they may
// run oneDNN later) and signals keep going to Node's own threads.
int threadCount();
// Parallel regions opened so far (info().parallelRegions: lets the tests check that they fork).
extern std::atomic<int64_t> g_parallelRegions;
// Below this much work (roughly float operations, ~0.3-1 ms of one core) a kernel stays on the
// calling thread: waking a sleeping pool thread costs tens of microseconds (batch-1 scoring).
constexpr int64_t kParallelMinWork = int64_t{1} << 20;

// fn(lo, hi) over [0, n): one contiguous slice per thread. Only for work whose results do not
// depend on how [0, n) is split (independent elements or rows).
template <typename F>
inline void parallelRange(int64_t n, int64_t costPerItem, F&& fn) {
  const int t = threadCount();
  if (t <= 1 || n < 2 || n * costPerItem < kParallelMinWork) {
    fn(int64_t{0}, n);
    return;
  }
  const int parts = static_cast<int>(std::min<int64_t>(t, n));
  g_parallelRegions.fetch_add(1, std::memory_order_relaxed);
  GemmGuard guard(true);
#pragma omp parallel for num_threads(parts) schedule(static, 1)
  for (int p = 0; p < parts; ++p) fn(n * p / parts, n * (p + 1) / parts);
}

// fn(c) for c in [0, chunks). For reductions, the caller gives each chunk its own partial and
// sums the partials in chunk order afterwards: with chunks of a fixed size, the result is the
// same for every thread count.
template <typename F>
inline void parallelChunks(int64_t chunks, int64_t costPerChunk, F&& fn) {
  const int t = threadCount();
  if (t <= 1 || chunks < 2 || chunks * costPerChunk < kParallelMinWork) {
    for (int64_t c = 0; c < chunks; ++c) fn(c);
    return;
  }
  g_parallelRegions.fetch_add(1, std::memory_order_relaxed);
  GemmGuard guard(true);
#pragma omp parallel for num_threads(t) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) fn(c);
}

// Registration hooks, one per job file.
void registerGemm(napi_env env, napi_value exports);
void registerElementwise(napi_env env, napi_value exports);
void registerStrided(napi_env env, napi_value exports);
void registerRows(napi_env env, napi_value exports);
void registerNorm(napi_env env, napi_value exports);
void registerLoss(napi_env env, napi_value exports);
void registerScan(napi_env env, napi_value exports);
void registerAttention(napi_env env, napi_value exports);
void registerOptim(napi_env env, napi_value exports);

}  // namespace adarec
