// A clip's frames as RGB images: the PNG/JPEG files of a folder (natural order), or a video file decoded by ffmpeg
// where it is installed. The decoders (optional peer packages) are loaded when first needed.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import type { CodeInfo } from "../diagnostics/codes.js";
import { InputFileError, readRegularFile } from "../util/input-file.js";
import { loadOptional } from "../util/optional.js";
import { DatasetCodes } from "../diagnostics/dataset-codes.js";

/** An image as float planes in 0..255 (R, G, B), each height x width, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  planes: [Float32Array, Float32Array, Float32Array];
}

/** A clip that cannot be read: its message goes into the results line, with the code. */
export class ClipError extends Error {
  constructor(
    readonly info: CodeInfo,
    message: string,
  ) {
    super(message);
  }
}

export const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);
export const VIDEO_EXTENSIONS = new Set([".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg"]);
/** Frames larger than this are refused (a 16k x 16k frame is 1 GiB of floats). */
const MAX_PIXELS = 8192 * 8192;
/** More frames than this in one clip are refused before decoding them all. */
export const MAX_CLIP_FRAMES = 100_000;

type Decoders = { png: typeof import("pngjs").PNG; jpeg: typeof import("jpeg-js") };
let decoders: Decoders | undefined;

async function loadDecoders(): Promise<Decoders> {
  if (!decoders) {
    const purpose = "reading PNG and JPEG frames";
    const { PNG } = await loadOptional<typeof import("pngjs")>("pngjs", purpose);
    const jpeg = await loadOptional<Decoders["jpeg"] & { default?: Decoders["jpeg"] }>("jpeg-js", purpose);
    decoders = { png: PNG, jpeg: jpeg.default ?? jpeg };
  }
  return decoders;
}

/** Decodes PNG or JPEG bytes (recognised by their first bytes); alpha is dropped, grey is spread over R, G, B. */
export async function decodeImage(bytes: Uint8Array, name: string): Promise<RgbImage> {
  const { png, jpeg } = await loadDecoders();
  let width: number, height: number, rgba: Uint8Array;
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buffer.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]))) {
      // the size from the IHDR chunk, before pngjs allocates width x height x 4 bytes
      if (buffer.length >= 24 && buffer.readUInt32BE(16) * buffer.readUInt32BE(20) > MAX_PIXELS)
        throw new Error(`${buffer.readUInt32BE(16)}x${buffer.readUInt32BE(20)} pixels, more than ${MAX_PIXELS}`);
      ({ width, height, data: rgba } = png.sync.read(buffer));
    } else if (buffer[0] === 0xff && buffer[1] === 0xd8)
      ({
        width,
        height,
        data: rgba,
      } = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6 }));
    else throw new Error("neither PNG nor JPEG data");
  } catch (e) {
    throw new ClipError(DatasetCodes.FrameUndecodable, `cannot decode ${name}: ${(e as Error).message}`);
  }
  if (width * height > MAX_PIXELS || width === 0 || height === 0)
    throw new ClipError(
      DatasetCodes.FrameUndecodable,
      `${name} is ${width}x${height}, outside 1 to ${MAX_PIXELS} pixels`,
    );
  return fromRgba(rgba, width, height, 4);
}

function fromRgba(data: Uint8Array, width: number, height: number, stride: number): RgbImage {
  const n = width * height;
  const planes: RgbImage["planes"] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planes[c][i] = data[stride * i + c];
  return { width, height, planes };
}

/** The PNG/JPEG files of a folder in natural order (frame2 before frame10). */
export function frameFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
  } catch (e) {
    throw new ClipError(
      DatasetCodes.ClipUnreadable,
      `cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (names.length === 0)
    throw new ClipError(DatasetCodes.ClipUnreadable, `${dir} holds no .png, .jpg or .jpeg frames`);
  if (names.length > MAX_CLIP_FRAMES)
    throw new ClipError(
      DatasetCodes.ClipUnreadable,
      `${dir} holds ${names.length} frames, more than ${MAX_CLIP_FRAMES}`,
    );
  return names.sort((a, b) => a.localeCompare(b, "en", { numeric: true })).map((n) => join(dir, n));
}

/** A clip's frames, lazily: how many there are, and one decoded on request (only the sampled ones are decoded). */
export interface FrameSource {
  count: number;
  frame(index: number): Promise<RgbImage>;
}

export function isVideoFile(path: string): boolean {
  return VIDEO_EXTENSIONS.has(extname(path).toLowerCase());
}

/** Largest frame image netc reads (a 16k x 16k PNG is far below it). */
const MAX_FRAME_BYTES = 256 << 20;

/** A frame's bytes; a FIFO, device or folder under a frame's name is the clip's error, not a hang. */
function readFrameFile(path: string): Buffer {
  try {
    return readRegularFile(path, MAX_FRAME_BYTES);
  } catch (e) {
    if (e instanceof InputFileError) throw new ClipError(DatasetCodes.ClipUnreadable, e.message);
    throw e;
  }
}

/** A folder of frames or a video file. */
export async function openClip(path: string): Promise<FrameSource> {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    throw new ClipError(
      DatasetCodes.ClipUnreadable,
      `${path} does not exist (${(e as NodeJS.ErrnoException).code ?? "unreadable"})`,
    );
  }
  if (stat.isDirectory()) {
    const files = frameFiles(path);
    return { count: files.length, frame: async (i) => decodeImage(readFrameFile(files[i]), files[i]) };
  }
  if (stat.isFile() && isVideoFile(path)) return decodeVideo(path);
  throw new ClipError(
    DatasetCodes.ClipUnreadable,
    `${path} is neither a folder of frames nor a video file (${[...VIDEO_EXTENSIONS].join(", ")})`,
  );
}

/** Whether each ffmpeg program asked about runs (NETC_FFMPEG names another than the one on PATH). */
const ffmpegFound = new Map<string, boolean>();

export function ffmpegAvailable(program = process.env.NETC_FFMPEG ?? "ffmpeg"): boolean {
  let found = ffmpegFound.get(program);
  if (found === undefined)
    ffmpegFound.set(program, (found = spawnSync(program, ["-version"], { stdio: "ignore" }).status === 0));
  return found;
}

/** Every frame of a video as raw RGB through ffmpeg (its size from ffprobe-free probing: ffmpeg's stderr). */
function decodeVideo(path: string): FrameSource {
  const ffmpeg = process.env.NETC_FFMPEG ?? "ffmpeg";
  if (!ffmpegAvailable(ffmpeg))
    throw new ClipError(DatasetCodes.FfmpegMissing, `${path} is a video and ffmpeg is not installed (or not on PATH)`);
  const run = spawnSync(ffmpeg, ["-v", "info", "-nostdin", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], {
    maxBuffer: 4 << 30,
  });
  const size = /Stream #.*Video:.*?(\d{2,5})x(\d{2,5})/.exec(run.stderr?.toString() ?? "");
  if (run.status !== 0 || !size)
    throw new ClipError(
      DatasetCodes.ClipUnreadable,
      `ffmpeg cannot decode ${path}: ${(run.stderr?.toString() ?? "").trim().split("\n").at(-1) ?? "no message"}`,
    );
  const [width, height] = [Number(size[1]), Number(size[2])];
  const frameBytes = width * height * 3;
  const data = new Uint8Array(run.stdout.buffer, run.stdout.byteOffset, run.stdout.byteLength);
  const count = Math.floor(data.length / frameBytes);
  if (count === 0) throw new ClipError(DatasetCodes.ClipUnreadable, `${path} has no video frames`);
  return { count, frame: async (i) => fromRgba(data.subarray(i * frameBytes, (i + 1) * frameBytes), width, height, 3) };
}
