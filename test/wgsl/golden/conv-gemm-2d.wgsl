@group(0) @binding(0) var<storage, read> b0: array<f32>;
@group(0) @binding(1) var<storage, read> b1: array<f32>;
@group(0) @binding(2) var<storage, read_write> b2: array<f32>;

fn ld0(i: u32) -> f32 {
  return b0[i];
}

fn ld1(i: u32) -> f32 {
  return b1[i];
}

fn st2(i: u32, x: f32) {
  b2[i] = x; return;
}

var<workgroup> tileW: array<f32, 512>;
var<workgroup> tileX: array<f32, 512>;

fn loadW(g: u32, row: u32, col: u32) -> f32 {
  if (row >= 48u || col >= 288u) { return 0.0f; }
  return ld0((g * 48u + row) * 288u + col);
}

fn loadX(xc: u32, r: u32, o0: u32, o1: u32) -> f32 {
  if (r >= 288u) { return 0.0f; }
  let c = r / 9u;
  let tap = r % 9u;
  let t0 = (tap / 3u);
  let t1 = (tap % 3u);
  let q0 = i32(o0 * 2u + t0 * 2u) - 2i;
  let q1 = i32(o1 * 2u + t1 * 2u) - 1i;
  if (q0 < 0i || q0 >= 33i || q1 < 0i || q1 >= 29i) { return 0.0f; }
  return ld1(xc + c * 957u + u32(q0) * 29u + u32(q1));
}

fn emit(i: u32, a: f32) {
  let x2 = a;
  st2(i, x2);
}

fn store(g: u32, row: u32, col: u32, acc: f32) {
  if (row >= 48u || col >= 224u) { return; }
  let nb = col / 224u;
  let p = col % 224u;
  let channel = g * 48u + row;
  emit((nb * 48u + channel) * 224u + p, acc);
}

@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.z;
  let m0 = wid.y * 32u;
  let n0 = wid.x * 32u;
  let tx = lid % 8u;
  let ty = lid / 8u;
  let column = n0 + lid % 32u;
  let nb = min(column, 223u) / 224u;
  let p = column % 224u;
  let o0 = (p / 14u);
  let o1 = (p % 14u);
  let xc = (nb * 32u + g * 32u) * 957u;
  let staged = column < 224u;
  var acc00 = 0.0f;
  var acc01 = 0.0f;
  var acc02 = 0.0f;
  var acc03 = 0.0f;
  var acc10 = 0.0f;
  var acc11 = 0.0f;
  var acc12 = 0.0f;
  var acc13 = 0.0f;
  var acc20 = 0.0f;
  var acc21 = 0.0f;
  var acc22 = 0.0f;
  var acc23 = 0.0f;
  var acc30 = 0.0f;
  var acc31 = 0.0f;
  var acc32 = 0.0f;
  var acc33 = 0.0f;
  for (var k0 = 0u; k0 < 288u; k0 = k0 + 16u) {
    for (var e = lid; e < 512u; e = e + 64u) {
      tileW[e] = loadW(g, m0 + e / 16u, k0 + e % 16u);
      tileX[e] = select(0.0f, loadX(xc, k0 + e / 32u, o0, o1), staged);
    }
    workgroupBarrier();
    for (var s = 0u; s < 16u; s = s + 1u) {
      let w0 = tileW[(ty + 0u) * 16u + s];
      let w1 = tileW[(ty + 8u) * 16u + s];
      let w2 = tileW[(ty + 16u) * 16u + s];
      let w3 = tileW[(ty + 24u) * 16u + s];
      let x0 = tileX[s * 32u + tx + 0u];
      let x1 = tileX[s * 32u + tx + 8u];
      let x2 = tileX[s * 32u + tx + 16u];
      let x3 = tileX[s * 32u + tx + 24u];
      acc00 = acc00 + w0 * x0;
      acc01 = acc01 + w0 * x1;
      acc02 = acc02 + w0 * x2;
      acc03 = acc03 + w0 * x3;
      acc10 = acc10 + w1 * x0;
      acc11 = acc11 + w1 * x1;
      acc12 = acc12 + w1 * x2;
      acc13 = acc13 + w1 * x3;
      acc20 = acc20 + w2 * x0;
      acc21 = acc21 + w2 * x1;
      acc22 = acc22 + w2 * x2;
      acc23 = acc23 + w2 * x3;
      acc30 = acc30 + w3 * x0;
      acc31 = acc31 + w3 * x1;
      acc32 = acc32 + w3 * x2;
      acc33 = acc33 + w3 * x3;
    }
    workgroupBarrier();
  }
  store(g, m0 + ty + 0u, n0 + tx + 0u, acc00);
  store(g, m0 + ty + 0u, n0 + tx + 8u, acc01);
  store(g, m0 + ty + 0u, n0 + tx + 16u, acc02);
  store(g, m0 + ty + 0u, n0 + tx + 24u, acc03);
  store(g, m0 + ty + 8u, n0 + tx + 0u, acc10);
  store(g, m0 + ty + 8u, n0 + tx + 8u, acc11);
  store(g, m0 + ty + 8u, n0 + tx + 16u, acc12);
  store(g, m0 + ty + 8u, n0 + tx + 24u, acc13);
  store(g, m0 + ty + 16u, n0 + tx + 0u, acc20);
  store(g, m0 + ty + 16u, n0 + tx + 8u, acc21);
  store(g, m0 + ty + 16u, n0 + tx + 16u, acc22);
  store(g, m0 + ty + 16u, n0 + tx + 24u, acc23);
  store(g, m0 + ty + 24u, n0 + tx + 0u, acc30);
  store(g, m0 + ty + 24u, n0 + tx + 8u, acc31);
  store(g, m0 + ty + 24u, n0 + tx + 16u, acc32);
  store(g, m0 + ty + 24u, n0 + tx + 24u, acc33);
}
