// A clip's frames to the model's input tensors, one per test-time view, as its `preprocess` declaration says:
// frame sampling, resize, crop, value range, mean/std, channel order and layout.
import type { PreprocessSpec } from "../dsl/preprocess-spec.js";
import { DatasetCodes } from "../diagnostics/dataset-codes.js";
import { ClipError, type FrameSource, type RgbImage } from "./frames.js";
import { cropImage, resizedSize, resizeImage, roundHalfEven } from "./resize.js";

/** A spec with what the model's input fixes: frames per view and the frame size it takes. */
export interface ResolvedPreprocess extends PreprocessSpec {
  frames: number;
  height: number;
  width: number;
}

type Sampling = Pick<
  ResolvedPreprocess,
  "frames" | "sampling" | "temporal_views" | "segment_length" | "short_clips" | "frame_stride"
>;

/** The frames of each temporal view, as indexes into the clip's `count` frames. */
export function sampleFrames(count: number, spec: Sampling): number[][] {
  // with a stride, the sampling sees every stride-th frame (VideoMAE's range(0, count, frame_sample_rate))
  const stride = spec.frame_stride ?? 1;
  if (stride > 1)
    return sampleFrames(Math.ceil(count / stride), { ...spec, frame_stride: 1 }).map((view) =>
      view.map((i) => i * stride),
    );
  const T = spec.frames;
  const last = count - 1;
  const consecutive = (start: number) => Array.from({ length: T }, (_, t) => Math.min(start + t, last));
  switch (spec.sampling) {
    case "segment-middle": // the middle frame of each of T equal segments
      return [Array.from({ length: T }, (_, t) => Math.min(Math.floor(((t + 0.5) * count) / T), last))];
    case "segment-start": // the first frame of each of T equal segments: int(count * t / T)
      return [Array.from({ length: T }, (_, t) => Math.floor((count * t) / T))];
    case "segments":
      return [segmentFrames(count, T, spec.segment_length ?? 1, spec.short_clips ?? "repeat-last")];
    case "uniform": // np.linspace(0, count - 1, T).astype(int)
      return [Array.from({ length: T }, (_, t) => (T === 1 ? 0 : Math.trunc((t * last) / (T - 1))))];
    case "consecutive": {
      // VideoMAE's test views: starts spread evenly over the frames left after one window
      const views = spec.temporal_views;
      const step = views > 1 ? Math.max((count - T) / (views - 1), 0) : 0;
      return Array.from({ length: views }, (_, v) => consecutive(Math.trunc(v * step)));
    }
    case "windows": // every whole non-overlapping window; a clip shorter than one window is padded with its last frame
      return Array.from({ length: Math.max(1, Math.floor(count / T)) }, (_, w) => consecutive(w * T));
  }
}

/**
 * The test indices of the TSN-style loaders (DFER-CLIP, Former-DFER: `_get_test_indices` and `get`): T / length
 * segments, each `length` consecutive frames from int(tick / 2 + tick * x), tick = (count - length + 1) / segments
 * (the last frame repeats at the clip's end). A clip of at most segments + length - 1 frames: the segments start at
 * 0, 1, ..., count - 1 and then at the last frame ("repeat-last", np.pad(..., 'edge')), or all at frame 0
 * ("from-start", np.zeros).
 */
function segmentFrames(count: number, T: number, length: number, short: "repeat-last" | "from-start"): number[] {
  const segments = Math.floor(T / length);
  const last = count - 1;
  const tick = (count - length + 1) / segments;
  const starts = Array.from({ length: segments }, (_, x) =>
    count > segments + length - 1 ? Math.trunc(tick / 2 + tick * x) : short === "from-start" ? 0 : Math.min(x, last),
  );
  return starts.flatMap((p) => Array.from({ length }, (_, i) => Math.min(p + i, last)));
}

/** Top-left corners of the spatial views' crops in a resized frame of the given size. */
export function cropOrigins(
  resized: { height: number; width: number },
  crop: { height: number; width: number },
  views: number,
): { top: number; left: number }[] {
  const [spareY, spareX] = [resized.height - crop.height, resized.width - crop.width];
  if (views === 1) return [{ top: roundHalfEven(spareY / 2), left: roundHalfEven(spareX / 2) }];
  // spread along the longer spare side, centred on the other (VideoMAE's test crops)
  return Array.from({ length: views }, (_, v) =>
    spareY >= spareX
      ? { top: Math.trunc((v * spareY) / (views - 1)), left: roundHalfEven(spareX / 2) }
      : { top: roundHalfEven(spareY / 2), left: Math.trunc((v * spareX) / (views - 1)) },
  );
}

/** The frame size after `resize` and before the crop, for a frame of this size. */
function resizeTarget(image: RgbImage, spec: ResolvedPreprocess): { height: number; width: number } {
  // without `resize` or `crop` the frame is resized straight to the model's size
  if (spec.resize === undefined && spec.crop === undefined) return { height: spec.height, width: spec.width };
  return resizedSize(image, spec.resize);
}

/** Writes one prepared frame into a view tensor at time t. */
function writeFrame(out: Float32Array, image: RgbImage, t: number, spec: ResolvedPreprocess): void {
  const plane = spec.height * spec.width;
  const [lo, hi] = spec.range;
  const scale = (hi - lo) / 255;
  const order = spec.channels === "RGB" ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const source = image.planes[order[c]];
    const offset = spec.layout === "BCTHW" ? (c * spec.frames + t) * plane : (t * 3 + c) * plane;
    const [mean, std] = [spec.mean[c], spec.std[c]];
    for (let i = 0; i < plane; i++) {
      let v = source[i] * scale + lo;
      if (spec.clamp) v = Math.min(hi, Math.max(lo, v));
      out[offset + i] = (v - mean) / std;
    }
  }
}

/** The clip's input tensor per view (temporal views outer, spatial views inner), each `3 * frames * H * W` floats. */
export async function prepareClip(source: FrameSource, spec: ResolvedPreprocess): Promise<Float32Array[]> {
  const temporal = sampleFrames(source.count, spec);
  const resized = new Map<number, RgbImage>();
  const frameAt = async (index: number) => {
    let image = resized.get(index);
    if (!image) {
      const raw = await source.frame(index);
      const target = resizeTarget(raw, spec);
      image = resizeImage(raw, target.height, target.width, spec);
      resized.set(index, image);
    }
    return image;
  };
  const views: Float32Array[] = [];
  for (const frames of temporal) {
    const tensors = Array.from(
      { length: spec.spatial_views },
      () => new Float32Array(3 * spec.frames * spec.height * spec.width),
    );
    for (let t = 0; t < frames.length; t++) {
      const image = await frameAt(frames[t]);
      if (image.height < spec.height || image.width < spec.width)
        throw new ClipError(
          DatasetCodes.ClipUnreadable,
          `a frame resized to ${image.width}x${image.height} is smaller than the model's ${spec.width}x${spec.height}`,
        );
      cropOrigins(image, spec, spec.spatial_views).forEach(({ top, left }, v) =>
        writeFrame(tensors[v], cropImage(image, top, left, spec.height, spec.width), t, spec),
      );
    }
    views.push(...tensors);
  }
  return views;
}
