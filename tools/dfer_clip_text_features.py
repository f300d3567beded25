#!/usr/bin/python3
"""Computes the `text` weight set of models/dfer_clip.net from a DFER-CLIP checkpoint, with the official code.

    /usr/bin/python3 tools/dfer_clip_text_features.py <DFER-CLIP checkout> <checkpoint.pth> <DFEW|FERV39K|MAFW> <out.pth>
        [--text-type class_descriptor] [--contexts-number 8] [--class-specific-contexts True] [--class-token-position end]

The defaults are those of the official train_*.sh scripts. The checkout is github zengqunzhao/DFER-CLIP (its code
needs einops, ftfy, regex, tqdm, PIL and torchvision next to torch). Nothing is downloaded: the CLIP model is built
from the checkpoint's own copy of it (GenerateModel keeps it as `clip_model_`), with the checkout's
clip.model.build_model, as clip.load builds it, then GenerateModel as main.py builds it loads the checkpoint (strict).
The output, {'text_features': text_encoder(prompt_learner(), tokenized_prompts)} of shape [classes, 512], is what
GenerateModel.forward computes before normalising; compile with

    netc compile models/dfer_clip.net --weights <checkpoint.pth> --weights text=<out.pth> -o dfer_clip.onnx
"""
import argparse
import os
import sys

import torch


class RecorderMeter:
    """main.py's class, pickled in its checkpoints as __main__.RecorderMeter (its state is not used here)."""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("official")
    parser.add_argument("checkpoint")
    parser.add_argument("dataset", choices=["DFEW", "FERV39K", "MAFW"])
    parser.add_argument("out")
    parser.add_argument("--text-type", default="class_descriptor", choices=["class_names", "class_names_with_context", "class_descriptor"])
    parser.add_argument("--contexts-number", type=int, default=8)
    parser.add_argument("--class-specific-contexts", default="True")
    parser.add_argument("--class-token-position", default="end")
    a = parser.parse_args()

    official = os.path.abspath(a.official)
    sys.path[:0] = [official, os.path.join(official, "models")]  # main.py's `from clip import clip` is models/clip
    from clip import model as clip_model_module
    from models.Generate_Model import GenerateModel
    from models import Text

    state_dict = torch.load(a.checkpoint, map_location="cpu")["state_dict"]
    prefix = "module.clip_model_."
    clip_state = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    clip_model = clip_model_module.build_model(clip_state).float()  # as clip.load gives it on the CPU
    classes = 11 if a.dataset == "MAFW" else 7
    text = getattr(Text, f"{a.text_type}_{classes}")
    # PromptLearner also reads args.load_and_tune_prompt_learner, which main.py's parser does not define.
    args = argparse.Namespace(contexts_number=a.contexts_number, class_token_position=a.class_token_position,
                              class_specific_contexts=a.class_specific_contexts, load_and_tune_prompt_learner="False",
                              temporal_layers=len({k.split(".")[4] for k in state_dict if ".temporal_transformer.layers." in k}))
    model = torch.nn.DataParallel(GenerateModel(input_text=text, clip_model=clip_model, args=args))
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    net = model.module
    with torch.no_grad():
        features = net.text_encoder(net.prompt_learner(), net.tokenized_prompts)
    torch.save({"text_features": features.contiguous()}, a.out)
    print(f"{a.out}: text_features {list(features.shape)}")


if __name__ == "__main__":
    main()
