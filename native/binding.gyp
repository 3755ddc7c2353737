{
  "targets": [
    {
      "target_name": "rbd_native",
      "sources": [
        "src/addon.cc",
        "src/clones.cc",
        "src/cluster.cc",
        "src/cluster_state.cc",
        "src/connect.cc",
        "src/describe.cc",
        "src/errors.cc",
        "src/images.cc",
        "src/json.cc",
        "src/pools.cc",
        "src/progress.cc",
        "src/snapshots.cc",
        "src/trash.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lrados", "-lrbd"]
    }
  ]
}
