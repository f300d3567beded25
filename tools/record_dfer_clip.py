#!/usr/bin/python3
"""Records the official DFER-CLIP outputs that test/models/dfer_clip.test.ts holds models/dfer_clip.net to.

    /usr/bin/python3 tools/record_dfer_clip.py <DFER-CLIP checkout> <case> <out dir> [--onnx] [--commit d10d5a4]

The checkout is github zengqunzhao/DFER-CLIP (d10d5a4), kept outside this repository; its code needs einops, ftfy,
regex, tqdm, PIL and torchvision next to torch 1.13. Nothing is downloaded: instead of clip.load("ViT-B/32") (which
fetches OpenAI's weights), the CLIP model is built with the checkout's own clip/model.py CLIP class (fp32, as
clip.load gives it on the CPU), then GenerateModel(class_descriptor, clip_model, args) as main.py builds it
(args of train_DFEW.sh / train_MAFW.sh: 8 class-specific contexts, class token at the end), wrapped in DataParallel.
Its state dict becomes the case's manifest; tools/dfer_clip_checkpoint.py writes the checkpoint from the manifest
alone, the model loads it (strict) and runs in eval mode on a seeded input.

Cases: `small7` and `small11` (committed, test/fixtures/dfer_clip/<case>): CLIP with a 2-layer 128-wide ViT at
32x32 in 16x16 patches (small7: its patch and position embeddings drawn small, see the generator) and a 1-layer 64-wide text transformer, the official temporal model (512 wide, 2 or 1
layers), 4 frames, batch 2, the DFEW (7) and MAFW (11) class descriptors. `full`: ViT-B/32 at 224 with the
12-layer text transformer of OpenAI's ViT-B/32, one temporal layer, 16 frames, batch 1 (run once, reported in
docs/zoo.md; too large to commit).

Writes manifest.json, input.npy, text_features.pth ({'text_features': the text encoder's output, the `text` weight
set of models/dfer_clip.net}), logits.npy and intermediates (.npy, batch-first). --onnx also tries
torch.onnx.export of the official model and prints its node count.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

CASES = {
    # CLIP(embed_dim, image_resolution, vision_layers, vision_width, vision_patch_size, context_length, vocab_size,
    #      transformer_width, transformer_heads, transformer_layers)
    "small7": dict(clip=(512, 32, 2, 128, 16, 77, 49408, 64, 2, 1), temporal_layers=2, frames=4, batch=2, classes=7, seed=7,
                   scale={"module.image_encoder." + k: 0.02 for k in ("conv1.weight", "class_embedding", "positional_embedding")}),
    "small11": dict(clip=(512, 32, 2, 128, 16, 77, 49408, 64, 2, 1), temporal_layers=1, frames=4, batch=2, classes=11, seed=11),
    "full": dict(clip=(512, 224, 12, 768, 32, 77, 49408, 512, 8, 12), temporal_layers=1, frames=16, batch=1, classes=7, seed=16),
}
HERE = os.path.dirname(os.path.abspath(__file__))


def generate(manifest_file, checkpoint):
    """Runs the generator as the test does; its RecorderMeter is a class of __main__, as main.py's is."""
    subprocess.run([sys.executable, os.path.join(HERE, "dfer_clip_checkpoint.py"), manifest_file, checkpoint], check=True)


class RecorderMeter:
    """Stands in for main.py's class when the checkpoint is unpickled here (its state is not used)."""


def build(official, case):
    sys.path[:0] = [official, os.path.join(official, "models")]  # main.py's `from clip import clip` is models/clip
    from clip import model as clip_model_module
    from models.Generate_Model import GenerateModel
    from models import Text

    clip_model = clip_model_module.CLIP(*case["clip"]).float().eval()
    # PromptLearner also reads args.load_and_tune_prompt_learner, which main.py's parser does not define.
    args = argparse.Namespace(contexts_number=8, class_token_position="end", class_specific_contexts="True",
                              load_and_tune_prompt_learner="False", temporal_layers=case["temporal_layers"])
    text = Text.class_descriptor_7 if case["classes"] == 7 else Text.class_descriptor_11
    return torch.nn.DataParallel(GenerateModel(input_text=text, clip_model=clip_model, args=args))


def manifest_of(model, name, case, official, commit):
    if commit is None:
        commit = subprocess.run(["git", "-C", official, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    tensors, owner = [], {}
    for key, value in model.state_dict().items():
        entry = {"key": key, "shape": list(value.shape), "dtype": str(value.dtype).replace("torch.", "")}
        first = owner.setdefault((value.data_ptr(), tuple(value.shape), value.dtype), key)
        if first != key:
            entry["same_as"] = first
        tensors.append(entry)
    config = {k: v for k, v in case.items() if k not in ("seed", "scale")}
    return {"model": f"DFER-CLIP, official code zengqunzhao/DFER-CLIP{' at ' + commit if commit else ''}, case {name}",
            "config": config, "seed": case["seed"], "scale": case.get("scale", {}), "tensors": tensors}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("official")
    parser.add_argument("case", choices=CASES)
    parser.add_argument("out")
    parser.add_argument("--onnx", action="store_true")
    parser.add_argument("--commit", help="the checkout's commit, when it is not a git work tree (an extracted archive)")
    a = parser.parse_args()
    case = CASES[a.case]
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    model = build(os.path.abspath(a.official), case)

    manifest = manifest_of(model, a.case, case, a.official, a.commit)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    checkpoint = os.path.join(a.out, "checkpoint.pth")
    generate(os.path.join(a.out, "manifest.json"), checkpoint)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu")["state_dict"], strict=True)
    if a.case != "full":
        os.remove(checkpoint)  # the test regenerates it from the manifest
    model.eval()
    net = model.module

    res = case["clip"][1]
    video = np.random.default_rng(case["seed"]).standard_normal((case["batch"], case["frames"], 3, res, res), dtype=np.float32)
    np.save(os.path.join(a.out, "input.npy"), video)

    taps = {}
    visual = net.image_encoder
    visual.ln_pre.register_forward_hook(lambda m, i, o: taps.__setitem__("ln_pre_out", o))
    for i, block in enumerate(visual.transformer.resblocks):
        block.register_forward_hook(lambda m, inp, o, i=i: taps.__setitem__(f"block_out_{i}", o.permute(1, 0, 2)))  # LND -> NLD
    visual.register_forward_hook(lambda m, i, o: taps.__setitem__("image_features", o))
    net.temporal_net.temporal_transformer.register_forward_pre_hook(lambda m, i: taps.__setitem__("temporal_input", i[0]))
    net.temporal_net.register_forward_hook(lambda m, i, o: taps.__setitem__("video_features", o))

    with torch.no_grad():
        logits = model(torch.from_numpy(video))
        text_features = net.text_encoder(net.prompt_learner(), net.tokenized_prompts)
    torch.save({"text_features": text_features.contiguous()}, os.path.join(a.out, "text_features.pth"))
    np.save(os.path.join(a.out, "logits.npy"), logits.numpy())
    for name, value in taps.items():
        np.save(os.path.join(a.out, name + ".npy"), value.contiguous().numpy())
    print(a.case, "logits", logits.numpy().round(4).tolist())

    if a.onnx:
        path = os.path.join(a.out, "official.onnx")
        try:
            torch.onnx.export(net, torch.from_numpy(video), path, opset_version=17, input_names=["video"], output_names=["logits"])
            import onnx
            print("torch.onnx.export nodes:", len(onnx.load(path, load_external_data=False).graph.node))
        except Exception as e:  # noqa: BLE001 (reported, not hidden)
            print("torch.onnx.export failed:", type(e).__name__, str(e).splitlines()[0])


if __name__ == "__main__":
    main()
