// GEMM on oneDNN (dnnl_sgemm, default) or OpenBLAS (cblas_sgemm), chosen by ADAREC_GEMM at load
// and switchable with setGemm(); the thread count (GEMM and the other kernels' parallel regions)
// from ADAREC_THREADS (default 1 here; the TS loader sets the physical cores) or setThreads().
#include "common.h"

#include <omp.h>
#include <pthread.h>
#include <cstdlib>
#include <string>

#ifdef ADAREC_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif
#ifdef ADAREC_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace adarec {
namespace {

enum Lib { kOneDnn = 0, kOpenBlas = 1 };
#ifdef ADAREC_HAVE_DNNL
Lib g_lib = kOneDnn;
#else
Lib g_lib = kOpenBlas;
#endif
int g_threads = 1;
// Multiply-adds below which a oneDNN GEMM runs on the calling thread (~0.5 ms of one core: below it, waking the pool costs about what the split saves).
constexpr int64_t kGemmParallelMin = int64_t{1} << 23;

const char* libName(Lib l) { return l == kOneDnn ? "onednn" : "openblas"; }

bool libAvailable(Lib l) {
#ifndef ADAREC_HAVE_DNNL
  if (l == kOneDnn) return false;
#endif
#ifndef ADAREC_HAVE_OPENBLAS
  if (l == kOpenBlas) return false;
#endif
  return true;
}

void applyThreads(int n) {
  g_threads = n;
  // oneDNN (Debian build) runs on libgomp, as the kernels' parallel regions do: one OpenMP count
  omp_set_num_threads(n);
  omp_set_max_active_levels(1);  // a GEMM inside a kernel's parallel region stays on its thread
#ifdef ADAREC_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

}  // namespace

int threadCount() { return g_threads; }
std::atomic<int64_t> g_parallelRegions{0};

// oneDNN 2.6's JIT sgemm kernels point rsp into a heap workspace, so the frame of any signal
// handled mid-call is written onto the heap (oneDNN issue #4845, fixed in 3.11): SIGPROF from
// --cpu-prof, but also the SIGTERM/SIGINT/SIGHUP that `adarec serve` listens for. So every
// asynchronous signal is held until the call returns (it is delivered then, or handled by another
// thread meanwhile); the synchronous fault signals stay open. libgomp threads started inside a
// guarded call inherit this mask, which covers ADAREC_THREADS > 1 as well.
GemmGuard::GemmGuard(bool always) : active(always || g_lib == kOneDnn) {
  if (!active) return;
  sigset_t blk;
  sigfillset(&blk);
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&blk, s);
  pthread_sigmask(SIG_BLOCK, &blk, &saved);
}
GemmGuard::~GemmGuard() {
  if (active) pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // C = beta C (BLAS leaves C alone when K = 0; the JS reference writes beta * C or 0)
    for (int64_t i = 0; i < M; ++i) {
      float* c = C + i * ldc;
      if (beta == 0.f) std::memset(c, 0, N * sizeof(float));
      else for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
    return;
  }
#ifdef ADAREC_HAVE_DNNL
  if (g_lib == kOneDnn) {
    // a small GEMM stays on this thread: waking the pool costs more than it saves (batch-1
    // scoring ran 1.7-2.5x slower at 2 threads without this); oneDNN reads the OpenMP count per call
    const bool one = g_threads > 1 && M * N * K < kGemmParallelMin;
    if (one) omp_set_num_threads(1);
    dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (one) omp_set_num_threads(g_threads);
    return;
  }
#endif
#ifdef ADAREC_HAVE_OPENBLAS
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
#endif
}

namespace {

// gemm(transA, transB, batch, M, N, K, A, strideA, B, strideB, C, beta)
napi_value Gemm(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  bool ta = a.flag(0), tb = a.flag(1);
  int64_t batch = a.dim(2), M = a.dim(3), N = a.dim(4), K = a.dim(5);
  size_t la, lb, lc;
  const float* A = a.f32(6, &la);
  int64_t sA = a.dim(7);
  const float* B = a.f32(8, &lb);
  int64_t sB = a.dim(9);
  float* C = a.f32(10, &lc);
  float beta = static_cast<float>(a.num(11));
  if (!a.ok) return nullptr;
  if (batch == 0 || M == 0 || N == 0) return a.undefined();
  if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX) { a.range("gemm: dimension too large"); return nullptr; }
  a.need(la, (batch - 1) * sA + M * K, "gemm: A is too short");
  a.need(lb, (batch - 1) * sB + K * N, "gemm: B is too short");
  a.need(lc, batch * M * N, "gemm: C is too short");
  if (!a.ok) return nullptr;
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  GemmGuard guard;
  if (batch > 1 && sB == 0 && !ta && sA == M * K) {
    // A shared B: the batch stacks into one tall GEMM.
    sgemm(false, tb, batch * M, N, K, 1.f, A, K, B, ldb, beta, C, N);
  } else {
    for (int64_t i = 0; i < batch; ++i)
      sgemm(ta, tb, M, N, K, 1.f, A + i * sA, lda, B + i * sB, ldb, beta, C + i * M * N, N);
  }
  return a.undefined();
}

napi_value SetThreads(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  int64_t n = a.dim(0);
  if (!a.ok) return nullptr;
  if (n < 1 || n > 1024) { a.range("setThreads: expected an integer in [1, 1024]"); return nullptr; }
  applyThreads(static_cast<int>(n));
  return a.undefined();
}

napi_value SetGemm(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  char buf[32] = {0};
  size_t len = 0;
  if (a.n < 1 || napi_get_value_string_utf8(env, a.v[0], buf, sizeof buf, &len) != napi_ok) {
    a.fail("setGemm: expected 'onednn' or 'openblas'");
    return nullptr;
  }
  std::string s(buf, len);
  Lib l;
  if (s == "onednn") l = kOneDnn;
  else if (s == "openblas") l = kOpenBlas;
  else { a.range("setGemm: expected 'onednn' or 'openblas'"); return nullptr; }
  if (!libAvailable(l)) {
    napi_throw_error(env, nullptr, l == kOneDnn ? "setGemm: this build has no oneDNN (libdnnl-dev)"
                                                : "setGemm: this build has no OpenBLAS (libopenblas-dev)");
    return nullptr;
  }
  g_lib = l;
  return a.undefined();
}

napi_value Info(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  napi_value obj, gemm, threads, avail, s, regions;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, libName(g_lib), NAPI_AUTO_LENGTH, &gemm);
  napi_create_int32(env, g_threads, &threads);
  napi_create_array(env, &avail);
  uint32_t k = 0;
  for (Lib l : {kOneDnn, kOpenBlas})
    if (libAvailable(l)) {
      napi_create_string_utf8(env, libName(l), NAPI_AUTO_LENGTH, &s);
      napi_set_element(env, avail, k++, s);
    }
  napi_set_named_property(env, obj, "gemm", gemm);
  napi_set_named_property(env, obj, "threads", threads);
  napi_set_named_property(env, obj, "available", avail);
  napi_create_double(env, static_cast<double>(g_parallelRegions.load()), &regions);
  napi_set_named_property(env, obj, "parallelRegions", regions);
  return obj;
}

}  // namespace

// Reads ADAREC_GEMM / ADAREC_THREADS; returns an error message (empty when fine).
static std::string configureFromEnv() {
  if (const char* g = std::getenv("ADAREC_GEMM"); g && *g) {
    std::string s(g);
    if (s == "onednn" || s == "openblas") {
      Lib l = s == "onednn" ? kOneDnn : kOpenBlas;
      if (!libAvailable(l)) return "ADAREC_GEMM=" + s + " but the addon was built without it";
      g_lib = l;
    } else {
      return "ADAREC_GEMM must be 'onednn' or 'openblas', got '" + s + "'";
    }
  }
  int n = 1;
  if (const char* t = std::getenv("ADAREC_THREADS"); t && *t) {
    char* end = nullptr;
    long v = std::strtol(t, &end, 10);
    if (*end != 0 || v < 1 || v > 1024) return std::string("ADAREC_THREADS must be a positive integer, got '") + t + "'";
    n = static_cast<int>(v);
  }
  applyThreads(n);
  return "";
}

void registerGemm(napi_env env, napi_value exports) {
  std::string err = configureFromEnv();
  if (!err.empty()) {
    napi_throw_error(env, nullptr, err.c_str());
    return;
  }
  defineFn(env, exports, "gemm", Gemm);
  defineFn(env, exports, "setThreads", SetThreads);
  defineFn(env, exports, "setGemm", SetGemm);
  defineFn(env, exports, "info", Info);
}

}  // namespace adarec
