{
  # adarec_native: the native CPU backend (Node-API). GEMM comes from oneDNN and/or OpenBLAS,
  # whichever is installed (detected below with the compiler; override with
  # `node-gyp rebuild -- -Dadarec_dnnl=0` etc.); at least one is required.
  "variables": {
    "variables": {
      "adarec_dnnl%": "<!(echo '#include <oneapi/dnnl/dnnl.h>' | ${CXX:-c++} -E -x c++ - >/dev/null 2>&1 && echo 1 || echo 0)",
      "adarec_openblas%": "<!(printf '#include <cblas.h>\\nvoid (*f)(int) = openblas_set_num_threads;\\n' | ${CXX:-c++} -fsyntax-only -I/usr/include/openblas -x c++ - >/dev/null 2>&1 && echo 1 || echo 0)"
    },
    "adarec_dnnl%": "<(adarec_dnnl)",
    "adarec_openblas%": "<(adarec_openblas)",
    "adarec_check": "<!(${CXX:-c++} --version >/dev/null 2>&1 || { echo 'adarec_native: no working C++ compiler (install g++ / build-essential, or set CXX)' >&2; exit 1; }; test '<(adarec_dnnl)<(adarec_openblas)' != '00' || { echo 'adarec_native: found neither oneDNN nor OpenBLAS headers; install libdnnl-dev (preferred) or libopenblas-dev' >&2; exit 1; })"
  },
  "targets": [
    {
      "target_name": "adarec_native",
      "sources": [
        "native/addon.cc",
        "native/gemm.cc",
        "native/elementwise.cc",
        "native/strided.cc",
        "native/rows.cc",
        "native/norm.cc",
        "native/loss.cc",
        "native/attention.cc",
        "native/optim.cc",
        "native/scan.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-std=gnu++17", "-O2"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-fopenmp", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "conditions": [
        ["adarec_dnnl==1", {
          "defines": ["ADAREC_HAVE_DNNL"],
          "libraries": ["-ldnnl"]
        }],
        ["adarec_openblas==1", {
          "defines": ["ADAREC_HAVE_OPENBLAS"],
          "include_dirs": ["/usr/include/openblas"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
