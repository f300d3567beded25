#!/usr/bin/python3
"""An independent PyTorch reference of OUS (models/ous.net), and the test data made with it.

OUS has no published code; this is the paper's architecture with the guesses of shared/specs/ous.md, written
the way its PyTorch authors would: OpenAI CLIP's VisionTransformer (sequence-first, nn.MultiheadAttention,
QuickGELU), nn.LSTM, a DFER-CLIP-style temporal transformer, nn.MultiheadAttention for the type fusion. It does not
read models/ous.net: it is a second implementation to compare against.

Run from the repository root with Debian's python3-torch (1.13):

    /usr/bin/python3 tools/reference/ous_reference.py [--out test/fixtures/ous]

It writes the inputs face.npy and scene.npy ([B, T, 3, image, image] in [0, 1]) and, for each configuration in
CONFIGS, a folder with
  config.json            the configuration (the netc `--set` values)
  ous_small.pth          the state dict (float32), keys equal to the netc weight paths
  logits.npy, polarity.npy and inter/*.npy
                         outputs and intermediates, computed in float64 from the float32 weights
"""
import argparse
import json
import math
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The small configurations of the test; names are the netc model parameters. "default" keeps every guess at its
# default; "alternative" flips every guess, so each option is compared with PyTorch too.
SMALL = {
    "image": 64, "patch": 16, "width": 64, "layers": 4, "heads": 4, "embed_dim": 32, "num_classes": 7, "frames": 4,
    "pixel_norm": True,
    "lstm_hidden": 32, "lstm_layers": 1, "lstm_bidirectional": False, "lstm_shared": False,
    "frame_depth": 1, "frame_heads": 2, "frame_head_dim": 16, "frame_mlp": 64, "frame_output": "tokens",
    "sim_kernel": 1, "scene_aligned": True,
    "polarity_blocks": 4, "polarity_stream": "scene", "polarity_pool": "cls",
    "num_queries": 4, "fusion_depth": 2, "fusion_heads": 2, "fusion_joint_kv": False, "fusion_chain": False,
    "fusion_pool": "mean", "logit_scale": 100.0,
}
CONFIGS = {
    "default": SMALL,
    "alternative": {
        **SMALL, "pixel_norm": False, "lstm_hidden": 24, "lstm_layers": 2, "lstm_bidirectional": True, "lstm_shared": True,
        "frame_depth": 2, "frame_output": "cls", "sim_kernel": 3, "scene_aligned": True, "polarity_blocks": 3,
        "polarity_stream": "face", "polarity_pool": "mean", "num_queries": 3, "fusion_depth": 3, "fusion_heads": 4,
        "fusion_joint_kv": True, "fusion_chain": True, "fusion_pool": "first", "logit_scale": 30.0,
    },
}
BATCH = 2
SEED = 20240529

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


# ---- OpenAI CLIP's vision tower (clip/model.py), trimmed to the visual part ----

class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(d_model, d_model * 4)),
            ("gelu", QuickGELU()),
            ("c_proj", nn.Linear(d_model * 4, d_model)),
        ]))
        self.ln_2 = nn.LayerNorm(d_model)

    def forward(self, x):  # [N, B, width], sequence-first as in CLIP
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x, taps):
        hidden = []
        for i, block in enumerate(self.resblocks):
            x = block(x)
            if i < taps:
                hidden.append(x)
        return x, hidden


class VisionTransformer(nn.Module):
    def __init__(self, input_resolution, patch_size, width, layers, heads, output_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((input_resolution // patch_size) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x, taps):
        x = self.conv1(x)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)
        x, hidden = self.transformer(x, taps)
        x = x.permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj, [h.permute(1, 0, 2) for h in hidden]


# ---- The OUS parts ----

class Residual(nn.Module):
    """DFER-CLIP's Residual(PreNorm(fn)) nesting, which gives its weight names their two `fn` levels."""

    def __init__(self, dim, fn):
        super().__init__()
        self.fn = PreNorm(dim, fn)

    def forward(self, x):
        return self.fn(x) + x


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.norm, self.fn = nn.LayerNorm(dim), fn

    def forward(self, x):
        return self.fn(self.norm(x))


class FrameAttention(nn.Module):
    """DFER-CLIP's Attention: bias-free qkv, per-head softmax, output projection."""

    def __init__(self, dim, heads, dim_head):
        super().__init__()
        self.heads, self.scale = heads, dim_head ** -0.5
        self.to_qkv = nn.Linear(dim, 3 * heads * dim_head, bias=False)
        self.to_out = nn.Sequential(nn.Linear(heads * dim_head, dim), nn.Dropout(0.0))

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in self.to_qkv(x).chunk(3, dim=-1))
        attn = (q @ k.transpose(-1, -2) * self.scale).softmax(dim=-1)
        return self.to_out((attn @ v).transpose(1, 2).reshape(b, n, -1))


class TanhGELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


class FrameFeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), TanhGELU(), nn.Dropout(0.0), nn.Linear(hidden, dim), nn.Dropout(0.0))

    def forward(self, x):
        return self.net(x)


class FrameTransformer(nn.Module):
    def __init__(self, dim, depth, heads, dim_head, mlp_dim):
        super().__init__()
        self.layers = nn.ModuleList([nn.ModuleList([Residual(dim, FrameAttention(dim, heads, dim_head)), Residual(dim, FrameFeedForward(dim, mlp_dim))]) for _ in range(depth)])

    def forward(self, x):
        for attn, ff in self.layers:
            x = ff(attn(x))
        return x


class FramesEncoder(nn.Module):
    """DFER-CLIP's Temporal_Transformer_Cls, returning every token."""

    def __init__(self, frames, dim, depth, heads, dim_head, mlp_dim):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.randn(1, frames + 1, dim))
        self.temporal_transformer = FrameTransformer(dim, depth, heads, dim_head, mlp_dim)

    def forward(self, x):
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
        return self.temporal_transformer(x)


class SimilarityProjection(nn.Module):
    def __init__(self, dim, kernel):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2)
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):  # [B, T, dim]
        return self.fc(self.conv(x.transpose(1, 2)).mean(dim=2))


class PolarityEncoder(nn.Module):
    def __init__(self, blocks, width, dim, pool):
        super().__init__()
        self.pool = pool
        self.encoder = nn.Sequential(nn.Linear(blocks * width, dim), nn.GELU(), nn.Linear(dim, dim))
        self.head = nn.Linear(dim, 3)

    def forward(self, hidden):  # list of [B, T, N, width]
        pooled = [(h[:, :, 0, :] if self.pool == "cls" else h.mean(dim=2)).mean(dim=1) for h in hidden]
        z = self.encoder(torch.cat(pooled, dim=-1))
        return z, self.head(z)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class CrossTypeBlock(nn.Module):
    def __init__(self, dim, heads, sources):
        super().__init__()
        self.norm_q = nn.ModuleList([nn.LayerNorm(dim) for _ in range(sources)])
        self.norm_kv = nn.ModuleList([nn.LayerNorm(dim) for _ in range(sources)])
        self.attn = nn.ModuleList([nn.MultiheadAttention(dim, heads, batch_first=True) for _ in range(sources)])
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, z, kv):
        for norm_q, norm_kv, attn, tokens in zip(self.norm_q, self.norm_kv, self.attn, kv):
            context = norm_kv(tokens)
            z = z + attn(norm_q(z), context, context, need_weights=False)[0]
        return z + self.mlp(self.norm_mlp(z))


class TypeFusionEncoder(nn.Module):
    def __init__(self, dim, heads, depth, num_queries, joint_kv, chain, pool):
        super().__init__()
        self.joint_kv, self.chain, self.pool = joint_kv, chain, pool
        self.queries = nn.Parameter(torch.randn(num_queries, dim) * 0.02)  # Gaussian (paper); std a guess
        self.type_embedding = nn.Parameter(torch.randn(3, dim) * 0.02)
        self.blocks = nn.ModuleList([CrossTypeBlock(dim, heads, 1 if joint_kv else 2) for _ in range(depth)])

    def forward(self, face, scene, polarity):
        face_tokens = face + self.type_embedding[0]
        scene_tokens = torch.stack([scene + self.type_embedding[1], polarity + self.type_embedding[2]], dim=1)
        kv = [torch.cat([face_tokens, scene_tokens], dim=1)] if self.joint_kv else [face_tokens, scene_tokens]
        start = self.queries.unsqueeze(0).expand(face.shape[0], -1, -1)
        z, outs = start, []
        for block in self.blocks:
            z = block(z if self.chain else start, kv)
            outs.append(z)
        fused = z if self.chain else torch.stack(outs).mean(dim=0)
        return fused.mean(dim=1) if self.pool == "mean" else fused[:, 0, :]


class OUS(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        dim = c["lstm_hidden"] * (2 if c["lstm_bidirectional"] else 1)
        self.visual = VisionTransformer(c["image"], c["patch"], c["width"], c["layers"], c["heads"], c["embed_dim"])
        lstm = lambda: nn.LSTM(c["embed_dim"], c["lstm_hidden"], c["lstm_layers"], batch_first=True, bidirectional=c["lstm_bidirectional"])
        if c["lstm_shared"]:
            self.lstm = lstm()
        else:
            self.lstm_face, self.lstm_scene = lstm(), lstm()
        self.frame_encoder = FramesEncoder(c["frames"], dim, c["frame_depth"], c["frame_heads"], c["frame_head_dim"], c["frame_mlp"])
        self.similarity = SimilarityProjection(dim, c["sim_kernel"])
        self.polarity_encoder = PolarityEncoder(c["polarity_blocks"], c["width"], dim, c["polarity_pool"])
        self.fusion = TypeFusionEncoder(dim, c["fusion_heads"], c["fusion_depth"], c["num_queries"], c["fusion_joint_kv"], c["fusion_chain"], c["fusion_pool"])
        if dim != c["embed_dim"]:
            self.head_proj = nn.Linear(dim, c["embed_dim"])
        # The class text embeddings: CLIP's text tower on the learned prompts, fixed after training.
        self.text_features = nn.Parameter(torch.randn(c["num_classes"], c["embed_dim"]))

    def forward(self, face, scene):
        c, inter = self.c, {}
        b, t = face.shape[:2]
        mean = torch.tensor(CLIP_MEAN, dtype=face.dtype).view(3, 1, 1)
        std = torch.tensor(CLIP_STD, dtype=face.dtype).view(3, 1, 1)
        if c["pixel_norm"]:
            face, scene = (face - mean) / std, (scene - mean) / std
        taps = c["polarity_blocks"]
        face_cls, face_hidden = self.visual(face.flatten(0, 1), taps)
        scene_cls, scene_hidden = self.visual(scene.flatten(0, 1), taps)
        v_f, v_s = face_cls.view(b, t, -1), scene_cls.view(b, t, -1)
        inter["v_f"], inter["v_s"] = v_f, v_s
        lstm_f, lstm_s = (self.lstm, self.lstm) if c["lstm_shared"] else (self.lstm_face, self.lstm_scene)
        face_seq, scene_seq = lstm_f(v_f)[0], lstm_s(v_s)[0]
        tokens = self.frame_encoder(face_seq)
        v_ft = tokens if c["frame_output"] == "tokens" else tokens[:, :1]
        v_st = scene_seq.mean(dim=1)
        inter["v_ft"], inter["v_st"] = v_ft, v_st
        scene_feature = self.similarity(scene_seq) if c["scene_aligned"] else v_st
        hidden = scene_hidden if c["polarity_stream"] == "scene" else face_hidden
        z_pol, polarity = self.polarity_encoder([h.reshape(b, t, *h.shape[1:]) for h in hidden])
        inter["z_pol"] = z_pol
        fused = self.fusion(v_ft, scene_feature, z_pol)
        inter["fused"] = fused
        if hasattr(self, "head_proj"):
            fused = self.head_proj(fused)
        video = fused / fused.norm(dim=-1, keepdim=True)
        text = self.text_features / self.text_features.norm(dim=-1, keepdim=True)
        return c["logit_scale"] * video @ text.t(), polarity, inter


def randomize(model, gen):
    """Random weights everywhere, LayerNorm scales and every bias included, so that no part is an identity."""
    with torch.no_grad():
        norms = {f"{m}.{p}" for m, mod in model.named_modules() if isinstance(mod, nn.LayerNorm) for p in ("weight", "bias")}
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if name in norms:
                p.copy_(1 + 0.2 * noise if name.endswith("weight") else 0.1 * noise)
            elif p.dim() == 1:
                p.copy_(0.1 * noise)
            else:
                p.copy_(noise / math.sqrt(p.numel() / p.shape[0]))  # unit-variance outputs for unit-variance inputs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "ous"))
    args = ap.parse_args()
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    shape = (BATCH, SMALL["frames"], 3, SMALL["image"], SMALL["image"])
    face = torch.rand(shape, generator=gen)
    scene = torch.rand(shape, generator=gen)
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "face.npy"), face.numpy())
    np.save(os.path.join(args.out, "scene.npy"), scene.numpy())
    for name, config in CONFIGS.items():
        out = os.path.join(args.out, name)
        os.makedirs(os.path.join(out, "inter"), exist_ok=True)
        model = OUS(config).eval()
        randomize(model, gen)
        torch.save(model.state_dict(), os.path.join(out, "ous_small.pth"))
        with torch.no_grad():
            logits, polarity, inter = model.double()(face.double(), scene.double())
        np.save(os.path.join(out, "logits.npy"), logits.float().numpy())
        np.save(os.path.join(out, "polarity.npy"), polarity.float().numpy())
        for key, value in inter.items():
            np.save(os.path.join(out, "inter", f"{key}.npy"), value.float().numpy())
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump({"generator": "tools/reference/ous_reference.py", "batch": BATCH, "seed": SEED, "config": config,
                       "state_dict_keys": len(model.state_dict())}, f, indent=1)
            f.write("\n")
        print(name, "logits", logits.float().numpy().round(3).tolist(), "polarity", polarity.float().numpy().round(3).tolist())


if __name__ == "__main__":
    main()
