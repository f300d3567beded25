// k000_slice {"x":[{"perBatch":256,"fixed":0,"divisor":256}],"y":[],"z":[],"wrap":3}
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read_write> b1: array<f32>;
@group(0) @binding(2) var<uniform> batch_size: u32;

fn v0(i: u32) -> f32 {
  return ld1((i / 256u) * 512u + ((i / 64u) % 4u) * 128u + (i % 64u));
}

fn ld1(i: u32) -> f32 {
  return b0[i];
}

fn st0(i: u32, x: f32) {
  b1[i] = x; return;
}

fn emit(i: u32, a: f32) {
  let x0 = a;
  st0(i, x0);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= (batch_size * 256u)) { return; }
  emit(i, v0(i));
}

// k001_slice {"x":[{"perBatch":256,"fixed":0,"divisor":256}],"y":[],"z":[],"wrap":3}
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read_write> b1: array<f32>;
@group(0) @binding(2) var<uniform> batch_size: u32;

fn v0(i: u32) -> f32 {
  return ld1((i / 256u) * 512u + ((i / 64u) % 4u) * 128u + (i % 64u) + 64u);
}

fn ld1(i: u32) -> f32 {
  return b0[i];
}

fn st0(i: u32, x: f32) {
  b1[i] = x; return;
}

fn emit(i: u32, a: f32) {
  let x0 = a;
  st0(i, x0);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= (batch_size * 256u)) { return; }
  emit(i, v0(i));
}

// k002_matmul {"x":[{"perBatch":256,"fixed":0,"divisor":256}],"y":[],"z":[],"wrap":3}
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;
@group(0) @binding(4) var<uniform> batch_size: u32;

fn ld0(i: u32) -> f32 {
  return b0[i];
}

fn v1(i: u32) -> f32 {
  return ld2((i / 64u) + (i % 64u) * 64u);
}

fn ld2(i: u32) -> f32 {
  return b1[i];
}

fn ld4(i: u32) -> f32 {
  return b2[i];
}

fn st5(i: u32, x: f32) {
  b3[i] = x; return;
}

fn emit(i: u32, a: f32) {
  let x3 = a;
  let x5 = (x3 + ld4((i % 64u)));
  st5(i, x5);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= (batch_size * 256u)) { return; }
  let bi = i / 256u;
  let row = i / 64u % 4u;
  let col = i % 64u;
  var acc = 0.0f;
  for (var c = 0u; c < 64u; c = c + 1u) { acc = acc + ld0(bi * 256u + row * 64u + c) * v1(0u * 4096u + c * 64u + col); }
  emit(i, acc);
}

// k003_matmul {"x":[{"perBatch":512,"fixed":0,"divisor":256}],"y":[],"z":[],"wrap":6}
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;
@group(0) @binding(4) var<uniform> batch_size: u32;

fn ld0(i: u32) -> f32 {
  return b0[i];
}

fn v1(i: u32) -> f32 {
  return ld2((i / 128u) + (i % 128u) * 64u);
}

fn ld2(i: u32) -> f32 {
  return b1[i];
}

fn ld4(i: u32) -> f32 {
  return b2[i];
}

fn st5(i: u32, x: f32) {
  b3[i] = x; return;
}

fn emit(i: u32, a: f32) {
  let x3 = a;
  let x5 = (x3 + ld4((i % 128u)));
  st5(i, x5);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= (batch_size * 512u)) { return; }
  let bi = i / 512u;
  let row = i / 128u % 4u;
  let col = i % 128u;
  var acc = 0.0f;
  for (var c = 0u; c < 64u; c = c + 1u) { acc = acc + ld0(bi * 256u + row * 64u + c) * v1(0u * 8192u + c * 128u + col); }
  emit(i, acc);
}

// k004_attention {"x":[{"perBatch":16,"fixed":0,"divisor":256}],"y":[],"z":[],"wrap":1}
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read_write> b2: array<f32>;
@group(0) @binding(3) var<uniform> batch_size: u32;

fn v0(i: u32) -> f32 {
  return v1((i / 256u) * 256u + ((i / 64u) % 4u) * 16u + ((i / 16u) % 4u) * 64u + (i % 16u));
}

fn v1(i: u32) -> f32 {
  return ld2(i);
}

fn ld2(i: u32) -> f32 {
  return b0[i];
}

fn v3(i: u32) -> f32 {
  return v4((i / 256u) * 256u + ((i / 64u) % 4u) * 16u + ((i / 16u) % 4u) * 64u + (i % 16u));
}

fn v4(i: u32) -> f32 {
  return v5(i);
}

fn v5(i: u32) -> f32 {
  return ld6((i / 256u) * 512u + ((i / 64u) % 4u) * 128u + (i % 64u));
}

fn ld6(i: u32) -> f32 {
  return b1[i];
}

fn v7(i: u32) -> f32 {
  return v8((i / 256u) * 256u + ((i / 64u) % 4u) * 16u + ((i / 16u) % 4u) * 64u + (i % 16u));
}

fn v8(i: u32) -> f32 {
  return v9(i);
}

fn v9(i: u32) -> f32 {
  return ld6((i / 256u) * 512u + ((i / 64u) % 4u) * 128u + (i % 64u) + 64u);
}

fn st10(i: u32, x: f32) {
  b2[i] = x; return;
}

fn emit(i: u32, a: f32) {
  let x10 = a;
  st10(i, x10);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= (batch_size * 16u)) { return; }
  let bi = i / 4u;
  let qi = i % 4u;
  let qBase = bi * 64u + qi * 16u;
  let kBase = bi * 64u;
  let vBase = bi * 64u;
  var query: array<f32, 16>;
  var out: array<f32, 16>;
  var running = -3.0e38f;
  var total = 0.0f;
  for (var c = 0u; c < 16u; c = c + 1u) { query[c] = v0(qBase + c); }
  for (var j = 0u; j < 4u; j = j + 1u) {
    var dot = 0.0f;
    for (var c = 0u; c < 16u; c = c + 1u) { dot = dot + query[c] * v3(kBase + j * 16u + c); }
    let s = dot * 0.250000000f;
    let peak = max(running, s);
    let correction = exp(running - peak);
    let p = exp(s - peak);
    total = total * correction + p;
    for (var c = 0u; c < 16u; c = c + 1u) { out[c] = out[c] * correction + p * v7(vBase + j * 16u + c); }
    running = peak;
  }
  for (var c = 0u; c < 16u; c = c + 1u) { emit((bi * 4u + qi) * 16u + c, out[c] / total); }
}

// k005_layer_norm {"x":[{"perBatch":4,"fixed":0,"divisor":256}],"y":[],"z":[],"wrap":1}
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<f32>;
@group(0) @binding(3) var<storage, read> b3: array<f32>;
@group(0) @binding(4) var<storage, read_write> b4: array<f32>;
@group(0) @binding(5) var<uniform> batch_size: u32;

fn v0(i: u32) -> f32 {
  return (ld1(i) + v2(i));
}

fn ld1(i: u32) -> f32 {
  return b0[i];
}

fn v2(i: u32) -> f32 {
  return v3(i);
}

fn v3(i: u32) -> f32 {
  return ld4((i / 256u) * 256u + ((i / 64u) % 4u) * 16u + ((i / 16u) % 4u) * 64u + (i % 16u));
}

fn ld4(i: u32) -> f32 {
  return b1[i];
}

fn ld5(i: u32) -> f32 {
  return b2[i];
}

fn ld6(i: u32) -> f32 {
  return b3[i];
}

fn st7(i: u32, x: f32) {
  b4[i] = x; return;
}

fn emit(i: u32, a: f32) {
  let x7 = a;
  st7(i, x7);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= (batch_size * 4u)) { return; }
  let r = i;
  var s = 0.0f;
  for (var j = 0u; j < 64u; j = j + 1u) { s = s + v0(r * 64u + j); }
  let mean = s / 64.0f;
  var d2 = 0.0f;
  for (var j = 0u; j < 64u; j = j + 1u) { let d = v0(r * 64u + j) - mean; d2 = d2 + d * d; }
  let inv = 1.0f / sqrt(d2 / 64.0f + 0.00000999999975f);
  for (var j = 0u; j < 64u; j = j + 1u) { let xv = v0(r * 64u + j); emit(r * 64u + j, (xv - mean) * inv * ld5(j) + ld6(j)); }
}

// k006_reduce {"x":[{"perBatch":64,"fixed":0,"divisor":256}],"y":[],"z":[],"wrap":1}
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read_write> b1: array<f32>;
@group(0) @binding(2) var<uniform> batch_size: u32;

fn ld0(i: u32) -> f32 {
  return b0[i];
}

fn st1(i: u32, x: f32) {
  b1[i] = x; return;
}

fn emit(i: u32, a: f32) {
  let x1 = a;
  st1(i, x1);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= (batch_size * 64u)) { return; }
  let r = i;
  let o = r;
  let base = (o / 64u) * 256u + (o % 64u);
  var acc = 0.0f;
  for (var e = 0u; e < 4u; e = e + 1u) { acc = acc + ld0(base + e * 64u); }
  let total = acc;
  { emit(o, total / 4.0f); }
}

// k007_matmul {"x":[{"perBatch":7,"fixed":0,"divisor":256}],"y":[],"z":[],"wrap":1}
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;
@group(0) @binding(4) var<uniform> batch_size: u32;

fn ld0(i: u32) -> f32 {
  return b0[i];
}

fn v1(i: u32) -> f32 {
  return ld2((i / 7u) + (i % 7u) * 64u);
}

fn ld2(i: u32) -> f32 {
  return b1[i];
}

fn ld4(i: u32) -> f32 {
  return b2[i];
}

fn st5(i: u32, x: f32) {
  b3[i] = x; return;
}

fn emit(i: u32, a: f32) {
  let x3 = a;
  let x5 = (x3 + ld4((i % 7u)));
  st5(i, x5);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= (batch_size * 7u)) { return; }
  let bi = i / (batch_size * 7u);
  let row = i / 7u % (batch_size * 1u);
  let col = i % 7u;
  var acc = 0.0f;
  for (var c = 0u; c < 64u; c = c + 1u) { acc = acc + ld0(0u * (batch_size * 64u) + row * 64u + c) * v1(0u * 448u + c * 7u + col); }
  emit(i, acc);
}
