// replaced by the wasm kernel build
