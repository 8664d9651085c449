{
  "targets": [
    {
      "target_name": "genphys_native",
      "sources": ["native/genphys_native.cc", "native/compute.cc", "native/conv-dnnl.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["<!@(node scripts/openblas.mjs --libs)", "<!@(node scripts/dnnl.mjs --libs)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "<!@(node scripts/openblas.mjs --cflags)"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "-fexceptions", "-fopenmp", "<!@(node scripts/dnnl.mjs --cflags)"],
      "ldflags": ["-fopenmp"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math", "<!@(node scripts/openblas.mjs --cflags)", "<!@(node scripts/dnnl.mjs --cflags)"]
      },
      "conditions": [
        ["target_arch=='x64'", {
          "cflags": ["-march=x86-64-v2", "-mtune=generic"],
          "cflags_cc": ["-march=x86-64-v2", "-mtune=generic"]
        }]
      ]
    }
  ]
}
