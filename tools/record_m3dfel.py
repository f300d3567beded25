#!/usr/bin/python3
"""Records the M3DFEL cases from the official code (Tencent/TFace attribute/M3DFEL, kept outside this repository).

    /usr/bin/python3 tools/record_m3dfel.py <official attribute/M3DFEL folder> <out folder> [case ...]
    /usr/bin/python3 tools/record_m3dfel.py <official folder> --export <out.onnx>   (torch.onnx.export, full size)

Needs python3-torch, python3-torchvision (r3d_18 built with weights=None: nothing is downloaded) and einops on
PYTHONPATH; timm, which the official utils.py imports for its learning-rate scheduler only, is stubbed. For each case
it writes <out>/<case>/manifest.json (the official state_dict's key, shape and dtype, and the configuration), makes
the checkpoint with tools/make_m3dfel_checkpoint.py, loads it as the official resume does (into the nn.DataParallel
model), and saves the seeded input and the official logits and intermediates as .npy.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import types
from argparse import Namespace

import numpy
import torch
import torchvision.models.video as video_models

# The cases: reduced crops (r3d_18's widths are fixed), every constructor knob varied; "full" is the paper's DFEW
# setting (16 frames in 4 instances of 4, 112x112), recorded once for docs/zoo.md and not committed.
CASES = {
    "dfew_small": dict(num_classes=7, num_frames=16, instance_length=4, crop_size=32, batch=2, seed=1),
    "mafw_small": dict(num_classes=11, num_frames=6, instance_length=2, crop_size=24, batch=2, seed=2),
    "full": dict(num_classes=7, num_frames=16, instance_length=4, crop_size=112, batch=2, seed=3),
}
TOOLS = os.path.dirname(os.path.abspath(__file__))


def official_class(folder):
    """The official M3DFEL class, with r3d_18 never fetching weights and timm stubbed."""
    build = video_models.r3d_18
    video_models.r3d_18 = lambda weights=None, **kw: build(weights=None, **kw)
    for name in ("timm", "timm.scheduler", "timm.scheduler.cosine_lr"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["timm.scheduler.cosine_lr"].CosineLRScheduler = None
    sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("official_m3dfel", os.path.join(folder, "models", "M3DFEL.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.M3DFEL


def official_model(cls, config):
    args = Namespace(gpu_ids=[], num_classes=config["num_classes"], num_frames=config["num_frames"],
                     instance_length=config["instance_length"])
    return cls(args)


def record(cls, case, out):
    config = CASES[case]
    folder = os.path.join(out, case)
    os.makedirs(folder, exist_ok=True)
    model = official_model(cls, config)
    manifest = {"config": {k: config[k] for k in ("num_classes", "num_frames", "instance_length", "crop_size")},
                "seed": config["seed"],
                "state_dict": [{"key": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")}
                               for k, v in model.state_dict().items()]}
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    with tempfile.TemporaryDirectory() as scratch:
        checkpoint_file = os.path.join(scratch, "model_best.pth")
        subprocess.run([sys.executable, os.path.join(TOOLS, "make_m3dfel_checkpoint.py"),
                        os.path.join(folder, "manifest.json"), str(config["seed"]), checkpoint_file], check=True)
        checkpoint = torch.load(checkpoint_file, map_location="cpu")
    wrapped = torch.nn.DataParallel(model)  # the official solver's wrapper for its default four GPUs
    wrapped.load_state_dict(checkpoint["state_dict"])
    model.eval()

    taps = {}
    bag = config["num_frames"] // config["instance_length"]
    model.features.register_forward_hook(lambda m, i, o: taps.__setitem__("instances", o.reshape(-1, bag, 512)))
    model.lstm.register_forward_hook(lambda m, i, o: taps.__setitem__("lstm_out", o[0]))
    model.norm.register_forward_hook(lambda m, i, o: taps.update(attention_out=i[0], dmin_out=o))
    model.fc.register_forward_hook(lambda m, i, o: taps.__setitem__("pooled_feature", i[0]))
    generator = torch.Generator().manual_seed(config["seed"])
    # Noise alone averages out in the pooled instance features: each frame also gets its own contrast and
    # per-channel brightness, so the instances of a bag, and the clips, differ.
    shape = [config["batch"], config["num_frames"], 3, config["crop_size"], config["crop_size"]]
    contrast = torch.rand(shape[:2] + [1, 1, 1], generator=generator) * 1.5 + 0.5
    brightness = torch.randn(shape[:3] + [1, 1], generator=generator)
    video = torch.randn(shape, generator=generator) * contrast + brightness
    with torch.no_grad():
        taps["logits"] = wrapped(video)
    numpy.save(os.path.join(folder, "input.npy"), video.numpy())
    for name, value in taps.items():
        numpy.save(os.path.join(folder, name + ".npy"), value.numpy())
        print(f"{case} {name} {list(value.shape)} max |x| {value.abs().max().item():.4g}"
              + (f", std over the bag {value.std(1).mean().item():.3g}" if value.dim() == 3 else ""))
    print(f"{case} logits {taps['logits'].numpy().round(4).tolist()}")


def export(cls, out):
    model = official_model(cls, CASES["full"]).eval()
    video = torch.zeros([2, 16, 3, 112, 112])
    torch.onnx.export(model, video, out, opset_version=17, input_names=["video"], output_names=["logits"])


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    official = official_class(os.path.abspath(sys.argv[1]))
    if sys.argv[2] == "--export":
        export(official, sys.argv[3])
    else:
        for name in sys.argv[3:] or ["dfew_small", "mafw_small"]:
            record(official, name, sys.argv[2])
