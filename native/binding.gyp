{
  "targets": [
    {
      "target_name": "iddpm_native",
      "sources": [
        "src/addon.cc",
        "src/runtime.cc",
        "src/gemm.cc",
        "src/gemm_avx512.cc",
        "src/conv.cc",
        "src/attention.cc",
        "src/groupnorm.cc",
        "src/optimizer.cc",
        "src/channels.cc",
        "src/probe.cc"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno"],
      "cflags_cc!": ["-std=gnu++17", "-O2", "-O1"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"],
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "Optimization": 2, "AdditionalOptions": ["/std:c++17"] }
      }
    }
  ]
}
