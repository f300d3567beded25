// ---+ kernels/k000_matmul.wgsl
@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;

fn ld0(i: u32) -> f32 {
  return b0[i];
}

fn v1(i: u32) -> f32 {
  return ld2((i / 3u) + (i % 3u) * 4u);
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
  let x5 = (x3 + ld4(i));
  st5(i, x5);
}

@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 256u + lid;
  if (i >= 3u) { return; }
  let bi = i / 3u;
  let row = i / 3u % 1u;
  let col = i % 3u;
  var acc = 0.0f;
  for (var c = 0u; c < 4u; c = c + 1u) { acc = acc + ld0(0u * 4u + row * 4u + c) * v1(0u * 12u + c * 3u + col); }
  emit(i, acc);
}
