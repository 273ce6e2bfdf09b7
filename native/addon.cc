// adarec_native: the Node-API entry point. Each job file registers its own functions; the
// TypeScript side (src/engine/backend/native.ts) is the only caller and checks `abi`.
#include <napi.h>

#include "common.h"

namespace {

// Bump when any exported function's signature changes, together with NATIVE_ABI in native.ts.
constexpr int32_t kAbi = 3;

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_value ex = exports;
  adarec::registerGemm(env, ex);  // reads ADAREC_GEMM / ADAREC_THREADS; throws on a bad value
  if (env.IsExceptionPending()) return exports;
  adarec::registerElementwise(env, ex);
  adarec::registerStrided(env, ex);
  adarec::registerRows(env, ex);
  adarec::registerNorm(env, ex);
  adarec::registerLoss(env, ex);
  adarec::registerAttention(env, ex);
  adarec::registerOptim(env, ex);
  adarec::registerScan(env, ex);
  exports.Set("abi", Napi::Number::New(env, kAbi));
  return exports;
}

}  // namespace

NODE_API_MODULE(adarec_native, Init)
