{
  # The shipping build: node-gyp, prebuildify and node-gyp-build's install fallback all read this file.
  # CMakeLists.txt builds the same sources with cmake-js for development; keep the two source lists equal.
  "variables": {
    # 1: link OpenBLAS statically (prebuilds: the .node then loads where no libopenblas is installed).
    # npm run prebuild sets VUGRAD_OPENBLAS_STATIC=1; a plain npm install links the shared library.
    "openblas_static%": "<!(node -p \"process.env.VUGRAD_OPENBLAS_STATIC === '1' ? 1 : 0\")",
    # 1 where oneDNN's headers are installed (Debian: libdnnl-dev). The addon never links oneDNN: it loads
    # libdnnl.so.2 at run time when present (native/src/onednn.cc), so the same binary runs without it.
    "onednn_headers%": "<!(node -p \"require('fs').existsSync('/usr/include/oneapi/dnnl/dnnl.h') ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "vugrad",
      "sources": [
        "native/src/addon.cc",
        "native/src/blas.cc",
        "native/src/conv.cc",
        "native/src/conv2d.cc",
        "native/src/conv_direct.cc",
        "native/src/elementwise.cc",
        "native/src/memory.cc",
        "native/src/onednn.cc",
        "native/src/onednn_conv.cc",
        "native/src/parallel.cc",
        "native/src/reduce.cc"
      ],
      "include_dirs": [
        "native/include",
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: an error raised in a worker_thread that is being terminated
      # (inside a kernel call) is dropped instead of aborting the whole process (node-addon-api #902, #975).
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      # -fno-trapping-math: we never enable FP exceptions, and it lets gcc vectorize loops with selects
      # (the float32 sigmoid: 4 floats per instruction instead of a libm call per element).
      # -fno-math-errno: nothing reads errno, and it lets gcc vectorize square roots (the fused Adam update).
      "cflags": ["-O3", "-fno-trapping-math", "-fno-math-errno", "<!@(pkg-config --cflags openblas)"],
      "cflags_cc": ["-O3", "-fno-trapping-math", "-fno-math-errno", "-std=c++17", "-fexceptions", "<!@(pkg-config --cflags openblas)"],
      "conditions": [
        ["onednn_headers==1", {
          "defines": ["VUGRAD_HAVE_ONEDNN"],
          "libraries": ["-ldl"]
        }],
        ["openblas_static==1", {
          "libraries": [
            "<!(pkg-config --variable=libdir openblas)/libopenblas.a",
            "-lpthread",
            "-lm"
          ],
          # Keep OpenBLAS's symbols private to this .node so that it never clashes with another BLAS.
          "ldflags": ["-Wl,--exclude-libs,ALL"]
        }, {
          "libraries": ["<!@(pkg-config --libs openblas)"]
        }]
      ]
    }
  ]
}
