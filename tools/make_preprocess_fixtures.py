"""Reference outputs of the reference models' clip preprocessing, made with torch from the specs' descriptions.

  /usr/bin/python3 tools/make_preprocess_fixtures.py test/fixtures/preprocess

Each model's official test loader, as ../shared/specs describes it (IFDD, S2D, OUS) or as its official code has it
(the zoo models: file:line in each function's comment), is written here with torch's own resize
(F.interpolate with antialias, as torchvision's tensor Resize); test/dataset/reference-preprocess.test.ts runs
netc's preprocessing (src/dataset/prepare.ts, driven by each model's `preprocess { }` declaration) on the same
frames and compares. The frames are seeded noise with structure (gradients and a square), 18 of 36x44 pixels, so the
resize is a real upsampling with a non-square aspect, and the frame count is not a multiple of 16. The expected
tensors are stored at a stride of 8 pixels (full tensors would be tens of MB): every view, channel and frame, every
8th row and column.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

STRIDE = 8
FRAMES, HEIGHT, WIDTH = 18, 36, 44


def make_frames(seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    frames = []
    for t in range(FRAMES):
        img = np.stack([x * 255 / WIDTH, y * 255 / HEIGHT, np.full_like(x, 16 * t % 256)], -1).astype(np.float64)
        img += rng.normal(0, 20, img.shape)
        top, left = 4 + t % 10, 2 * t % 30
        img[top:top + 10, left:left + 10] = 255 - img[top:top + 10, left:left + 10]
        frames.append(np.clip(np.round(img), 0, 255).astype(np.uint8))
    return np.stack(frames)  # [N, H, W, 3]


def to_float(frames):
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255  # [N, 3, H, W] in [0, 1]


def ifdd(frames):
    # DFEW_CLS eval: RGB / 255, Resize(224, bicubic) (shorter side), clamp(0, 1); [C, T, H, W]; non-overlapping
    # 16-frame windows (18 frames: one). netc's guess for non-square frames: a centre crop to 224x224.
    x = to_float(frames)
    h, w = x.shape[-2:]
    size = (224, int(224 * w / h)) if h <= w else (int(224 * h / w), 224)
    x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)
    top, left = int(round((x.shape[-2] - 224) / 2.0)), int(round((x.shape[-1] - 224) / 2.0))
    x = x[..., top:top + 224, left:left + 224].clamp(0, 1)
    windows = [x[16 * k:16 * k + 16] for k in range(max(1, len(x) // 16))]
    return torch.stack([w.permute(1, 0, 2, 3) for w in windows])  # [views, 3, 16, 224, 224]


def s2d(frames):
    # VideoMAE-style test: 2 temporal x 2 spatial views; frames resized to 224x224 (bilinear), / 255, ImageNet
    # mean/std, [C, T, H, W]. Temporal views: 16 consecutive frames from starts spread over the frames left over.
    x = F.interpolate(to_float(frames), size=(224, 224), mode="bilinear", align_corners=False, antialias=True)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (x - mean) / std
    step = max((len(x) - 16) / (2 - 1), 0)
    views = []
    for v in range(2):
        start = int(v * step)
        clip = x[[min(start + t, len(x) - 1) for t in range(16)]].permute(1, 0, 2, 3)
        views += [clip, clip]  # the 2 spatial crops of a 224x224 frame are the whole frame
    return torch.stack(views)


def ous(frames):
    # DFER-CLIP's test loader: 16 segments, the middle frame of each; 224x224 bilinear; [0, 1]; [T, C, H, W].
    x = to_float(frames)
    n = len(x)
    index = [int((t + 0.5) * n / 16) for t in range(16)]
    x = F.interpolate(x[index], size=(224, 224), mode="bilinear", align_corners=False, antialias=True)
    return x.unsqueeze(0)  # [1, 16, 3, 224, 224]


def tsn_test_indices(n, num_segments, duration, short_clip_offsets):
    # The TSN-style test loaders' _get_test_indices and get (Former-DFER dataloader/dataset_DFEW.py:58-96, DFER-CLIP
    # dataloader/video_dataloader.py:61-96): num_segments segments of `duration` consecutive frames.
    if n > num_segments + duration - 1:
        tick = (n - duration + 1) / float(num_segments)
        offsets = [int(tick / 2.0 + tick * x) for x in range(num_segments)]
    else:
        offsets = short_clip_offsets(n, num_segments)
    index = []
    for p in offsets:
        for _ in range(duration):
            index.append(p)
            if p < n - 1:
                p += 1
    return index


def square(frames, index, size):
    # GroupResize(size): every frame resized to size x size (PIL bilinear), ToTorchFormatTensor: / 255; [T, C, H, W]
    return F.interpolate(to_float(frames)[index], size=(size, size), mode="bilinear", align_corners=False,
                         antialias=True)


def former_dfer(frames):
    # test_data_loader: 8 segments of 2 frames, 112x112, [0, 1]; a short clip's segments all start at frame 0.
    index = tsn_test_indices(len(frames), 8, 2, lambda n, s: [0] * s)
    return square(frames, index, 112).unsqueeze(0)  # [1, 16, 3, 112, 112]


def dfer_clip(frames):
    # test_data_loader(num_segments=16, duration=1, image_size=224); a short clip: np.pad(range(n), 'edge').
    index = tsn_test_indices(len(frames), 16, 1, lambda n, s: [min(i, n - 1) for i in range(s)])
    return square(frames, index, 224).unsqueeze(0)  # [1, 16, 3, 224, 224]


def m3dfel(frames):
    # dataset_DFEW.py test: frame int(n * i / 16) (without the random_sample offset), crop_size 112, [0, 1].
    n = len(frames)
    return square(frames, [int(n * i / 16) for i in range(16)], 112).unsqueeze(0)  # [1, 16, 3, 112, 112]


def mae_dfer(frames):
    # kinetics.py VideoClsDatasetFrame test: every 4th frame (DFEW's sampling_rate), the last repeated up to 16,
    # Resize((160, 160)) bilinear, ImageNet mean/std, [C, T, H, W]; 2 temporal windows x 2 crops (one crop: square).
    index = list(range(0, len(frames), 4))
    while len(index) < 16:
        index.append(index[-1])
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (square(frames, index, 160) - mean) / std
    step = max((len(x) - 16) / (2 - 1), 0)
    views = []
    for chunk in range(2):
        clip = x[int(chunk * step):int(chunk * step) + 16].permute(1, 0, 2, 3)
        views += [clip, clip]
    return torch.stack(views)  # [4, 3, 16, 160, 160]


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frames = make_frames()
    np.save(out / "frames.npy", frames)
    manifest = {"frames": "frames.npy: uint8 [N, H, W, 3], RGB", "stride": STRIDE, "models": {}}
    for name, fn, dims in [("ifdd", ifdd, [16, 224, 224]), ("s2d", s2d, [16, 224, 224]), ("ous", ous, [16, 224, 224]),
                           ("former_dfer", former_dfer, [16, 112, 112]), ("dfer_clip", dfer_clip, [16, 224, 224]),
                           ("m3dfel", m3dfel, [16, 112, 112]), ("mae_dfer", mae_dfer, [16, 160, 160])]:
        full = fn(frames).numpy().astype(np.float32)
        np.save(out / f"{name}.npy", np.ascontiguousarray(full[..., ::STRIDE, ::STRIDE]))
        manifest["models"][name] = {"file": f"{name}.npy", "views_shape": list(full.shape), "frames_height_width": dims}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/preprocess")
