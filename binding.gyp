{
  "targets": [
    {
      "target_name": "genphys_native",
      "sources": ["native/genphys_native.cc", "native/compute.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["<!@(node scripts/openblas.mjs --libs)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "<!@(node scripts/openblas.mjs --cflags)"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "-fexceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math", "<!@(node scripts/openblas.mjs --cflags)"]
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
