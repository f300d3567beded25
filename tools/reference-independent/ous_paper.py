#!/usr/bin/python3
"""OUS (Mai et al., arXiv 2405.18769), an independent PyTorch reference of the inference graph.

Written from ../shared/specs/ous.md (and the public DFER-CLIP / OpenAI CLIP layout the spec says OUS shares) only,
without reading models/ous.net or tools/reference/. No OUS code is published, so every detail the spec marks as a
guess is a constructor argument of `OUS`, with the spec's default (the few changes made after reading ous.net, in the
reconciliation, are listed in README.md and docs/ous.md). The encoder uses OpenAI CLIP's key names
(`conv1`, `class_embedding`, `transformer.resblocks.N.attn.in_proj_weight`, ...), the frames encoder DFER-CLIP's
`Temporal_Transformer_Cls` key names (`cls_token`, `temporal_transformer.layers.N.0.fn.fn.to_qkv`, ...).

Run from the repository root with Debian's python3-torch (nothing is downloaded):
    /usr/bin/python3 tools/reference-independent/ous_paper.py OUTDIR [--seed N] [--set name=value ...]
It writes into OUTDIR: weights.pth (the generated state dict, a plain dict of tensors), text.pth ({'text_features'}),
manifest.json (key, shape, dtype of every tensor, and the configuration), face.npy, scene.npy (the seeded input),
logits.npy and a few intermediates (v_face.npy, v_scene.npy, z_pol.npy, f_out.npy), computed in float64 from the
float32 weights and input.
"""
import argparse
import hashlib
import json
import math
import os

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

# CLIP's pixel statistics (spec 2.1: their use by OUS is a guess; DFER-CLIP feeds [0, 1] without them).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class TanhGELU(nn.Module):
    """DFER-CLIP's temporal-transformer GELU (the tanh approximation)."""

    def forward(self, x):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


def activation(name):
    return {"quick_gelu": QuickGELU, "gelu": nn.GELU, "tanh_gelu": TanhGELU}[name]()


# ---------------------------------------------------------------------------------------------------------------
# Shared CLIP vision encoder (spec 2.2), OpenAI CLIP layout, batch-first here (CLIP runs sequence-first; same math).
# ---------------------------------------------------------------------------------------------------------------
class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", QuickGELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class ResidualStack(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads) for _ in range(layers)])


class VisionTransformer(nn.Module):
    def __init__(self, image_size, patch_size, width, layers, heads, embed_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(width))
        self.positional_embedding = nn.Parameter(torch.empty((image_size // patch_size) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = ResidualStack(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.empty(width, embed_dim))

    def forward(self, images, keep_hidden, project=True):
        """images (N, 3, H, W) -> (projected class token (N, D), [hidden state after block i for i < keep_hidden])."""
        x = self.conv1(images).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        hidden = []
        for i, block in enumerate(self.transformer.resblocks):
            x = block(x)
            if i < keep_hidden:
                hidden.append(x)
        cls = self.ln_post(x[:, 0])
        return (cls @ self.proj if project else cls), hidden


# ---------------------------------------------------------------------------------------------------------------
# Frames encoder (spec 2.3): DFER-CLIP's Temporal_Transformer_Cls, same key layout (Residual(PreNorm(fn)) nesting).
# ---------------------------------------------------------------------------------------------------------------
class SelfAttention(nn.Module):
    def __init__(self, dim, heads, dim_head):
        super().__init__()
        self.heads, self.scale = heads, dim_head ** -0.5
        self.to_qkv = nn.Linear(dim, 3 * heads * dim_head, bias=False)
        self.to_out = nn.Sequential(nn.Linear(heads * dim_head, dim))

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in self.to_qkv(x).chunk(3, dim=-1))
        out = torch.softmax(q @ k.transpose(-1, -2) * self.scale, dim=-1) @ v
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), TanhGELU(), nn.Dropout(0.0), nn.Linear(hidden, dim), nn.Dropout(0.0))

    def forward(self, x):
        return self.net(x)


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.norm, self.fn = nn.LayerNorm(dim), fn

    def forward(self, x):
        return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return x + self.fn(x)


class TemporalTransformer(nn.Module):
    def __init__(self, dim, depth, heads, dim_head, mlp_dim):
        super().__init__()
        self.layers = nn.ModuleList([
            nn.ModuleList([Residual(PreNorm(dim, SelfAttention(dim, heads, dim_head))), Residual(PreNorm(dim, FeedForward(dim, mlp_dim)))])
            for _ in range(depth)])

    def forward(self, x):
        for attn, ff in self.layers:
            x = ff(attn(x))
        return x


class FramesEncoder(nn.Module):
    """Prepends a learnable class token, adds a learnable (T+1) positional embedding, runs the transformer."""

    def __init__(self, frames, dim, depth, heads, dim_head, mlp_dim, output):
        super().__init__()
        self.output = output
        self.cls_token = nn.Parameter(torch.empty(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.empty(1, frames + 1, dim))
        self.temporal_transformer = TemporalTransformer(dim, depth, heads, dim_head, mlp_dim)

    def forward(self, x):
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding[:, : x.shape[1] + 1]
        x = self.temporal_transformer(x)
        return x[:, :1] if self.output == "cls" else x  # tokens (B, 1 or T+1, D)


# ---------------------------------------------------------------------------------------------------------------
# Scene alignment g (spec 2.4), polarity encoder (2.5), type-fusion encoder (2.6).
# ---------------------------------------------------------------------------------------------------------------
class SceneAlignment(nn.Module):
    """g = FC(frames mean(Conv1d over the frames)): for kernel 1 exactly FC(Conv1d(V_st)).

    Phase 1 applied the Conv1d to V_st as a length-1 sequence, where a kernel above 1 only ever uses its centre tap;
    the reconciliation adopted models/ous.net's reading, which gives the kernel a meaning (docs/ous.md)."""

    def __init__(self, dim, kernel):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2)
        self.fc = nn.Linear(dim, dim)

    def forward(self, seq):  # (B, T, D)
        return self.fc(self.conv(seq.transpose(1, 2)).mean(2))


class PolarityEncoder(nn.Module):
    """Blocks 1..n of the encoder, one token each (class token or token mean), mean over frames, concat, then
    fc1 -> act -> fc2 (depth 2) or fc1 alone (depth 1)."""

    def __init__(self, width, blocks, dim, act, depth, classes=3):
        super().__init__()
        if depth not in (1, 2):
            raise ValueError("polarity_depth is 1 or 2")
        self.fc1 = nn.Linear(blocks * width, dim)
        self.act = activation(act)
        self.fc2 = nn.Linear(dim, dim) if depth == 2 else None
        self.head = nn.Linear(dim, classes)  # polarity logits, used by L_pol in training only

    def forward(self, per_block):  # (B, blocks, width)
        z = self.fc1(per_block.flatten(1))
        if self.fc2 is not None:
            z = self.fc2(self.act(z))
        return z, self.head(z)


class CrossTypeBlock(nn.Module):
    """Z += MHA(LN(Z), LN(face)); Z += MHA(LN(Z), LN(scene)); Z += MLP(LN(Z)) -- or one MHA over face ++ scene."""

    def __init__(self, dim, heads, mlp_ratio, act, kv):
        super().__init__()
        self.kv = kv
        self.ln_q_face = nn.LayerNorm(dim)
        self.ln_kv_face = nn.LayerNorm(dim)
        self.attn_face = nn.MultiheadAttention(dim, heads, batch_first=True)
        if kv == "separate":
            self.ln_q_scene = nn.LayerNorm(dim)
            self.ln_kv_scene = nn.LayerNorm(dim)
            self.attn_scene = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln_mlp = nn.LayerNorm(dim)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(dim, mlp_ratio * dim))
        self.mlp.add_module("gelu", activation(act))
        self.mlp.add_module("c_proj", nn.Linear(mlp_ratio * dim, dim))

    def forward(self, z, face, scene):
        if self.kv == "separate":
            kv = self.ln_kv_face(face)
            z = z + self.attn_face(self.ln_q_face(z), kv, kv, need_weights=False)[0]
            kv = self.ln_kv_scene(scene)
            z = z + self.attn_scene(self.ln_q_scene(z), kv, kv, need_weights=False)[0]
        else:  # one attention over all tokens; the face-named modules serve it
            kv = self.ln_kv_face(torch.cat([face, scene], dim=1))
            z = z + self.attn_face(self.ln_q_face(z), kv, kv, need_weights=False)[0]
        return z + self.mlp(self.ln_mlp(z))


class TypeFusionEncoder(nn.Module):
    def __init__(self, dim, queries, layers, heads, mlp_ratio, act, kv, query_mode, pool, type_embeddings):
        super().__init__()
        self.query_mode, self.pool = query_mode, pool
        self.queries = nn.Parameter(torch.empty(queries, dim))  # Q0, shared by every block
        self.type_embedding = nn.Parameter(torch.empty(3, dim)) if type_embeddings else None  # face, scene, polarity
        self.blocks = nn.ModuleList([CrossTypeBlock(dim, heads, mlp_ratio, act, kv) for _ in range(layers)])

    def forward(self, face_tokens, scene_token, polarity_token):
        if self.type_embedding is not None:
            face_tokens = face_tokens + self.type_embedding[0]
            scene_token = scene_token + self.type_embedding[1]
            polarity_token = polarity_token + self.type_embedding[2]
        scene_tokens = torch.cat([scene_token, polarity_token], dim=1)  # the polarity code is scene-derived
        q0 = self.queries.expand(face_tokens.shape[0], -1, -1)
        if self.query_mode == "chain":
            z = q0
            for block in self.blocks:
                z = block(z, face_tokens, scene_tokens)
        else:  # "parallel": every block starts from Q0, block outputs averaged
            z = torch.stack([block(q0, face_tokens, scene_tokens) for block in self.blocks]).mean(0)
        return z.mean(1) if self.pool == "mean" else z[:, 0]


# ---------------------------------------------------------------------------------------------------------------
# OUS
# ---------------------------------------------------------------------------------------------------------------
class OUS(nn.Module):
    def __init__(self,
                 # CLIP vision encoder [paper: ViT-L/14, frozen, shared by both streams]
                 image_size=224, patch_size=14, width=1024, layers=24, heads=16, embed_dim=768,
                 frames=16,  # T [guess; DFER-CLIP's 16 segments]
                 pixel_norm="clip",  # "clip" mean/std or "none" (DFER-CLIP) [guess]
                 frame_feature="proj",  # V_f, V_s: "proj" = ln_post(cls) @ proj (spec); "cls" = ln_post(cls) [reconciliation]
                 # temporal encoding [paper: LSTM per stream; sizes guess]
                 lstm_hidden=None, lstm_layers=1, lstm_bidirectional=False, share_lstm=False,
                 # frames encoder [guess: DFER-CLIP Temporal_Transformer_Cls]
                 frames_depth=1, frames_heads=8, frames_dim_head=64, frames_mlp=1024, frames_output="cls",
                 # scene alignment g [guess]
                 align_kernel=1, align_feeds_fusion=False,
                 # polarity encoder [paper: first four blocks; design guess]
                 polarity_blocks=4, polarity_stream="scene", polarity_token="cls", polarity_act="gelu", polarity_depth=2,
                 # type fusion [paper: shared Gaussian queries, face/scene K/V; details guess]
                 queries=8, query_std=0.02, fusion_layers=2, fusion_heads=None, fusion_mlp_ratio=4,
                 fusion_act="quick_gelu", fusion_kv="separate", query_mode="chain", fusion_pool="mean",
                 type_embeddings=True,
                 # head [guess: DFER-CLIP's fixed 1/0.01]; head_proj: a Linear from the temporal width to D [reconciliation]
                 logit_scale=100.0, head_proj=None):
        super().__init__()
        lstm_hidden = lstm_hidden or embed_dim
        dim = lstm_hidden * (2 if lstm_bidirectional else 1)  # the temporal width: frames encoder, fusion, z_pol
        head_proj = dim != embed_dim if head_proj is None else head_proj
        if dim != embed_dim and not head_proj:
            raise ValueError("a temporal width other than embed_dim needs head_proj to reach the text space")
        if not 1 <= polarity_blocks <= layers:
            raise ValueError("polarity_blocks must lie in 1..layers")
        self.frames, self.pixel_norm, self.logit_scale = frames, pixel_norm, logit_scale
        self.align_feeds_fusion, self.polarity_blocks = align_feeds_fusion, polarity_blocks
        self.polarity_stream, self.polarity_token = polarity_stream, polarity_token
        self.query_std, self.project_frames = query_std, frame_feature == "proj"
        self.visual = VisionTransformer(image_size, patch_size, width, layers, heads, embed_dim)
        feature = embed_dim if self.project_frames else width
        lstm = lambda: nn.LSTM(feature, lstm_hidden, lstm_layers, batch_first=True, bidirectional=lstm_bidirectional)
        if share_lstm:
            self.lstm = lstm()
        else:
            self.lstm_face, self.lstm_scene = lstm(), lstm()
        self.frames_encoder = FramesEncoder(frames, dim, frames_depth, frames_heads, frames_dim_head, frames_mlp, frames_output)
        self.scene_alignment = SceneAlignment(dim, align_kernel)
        self.polarity = PolarityEncoder(width, polarity_blocks, dim, polarity_act, polarity_depth)
        self.fusion = TypeFusionEncoder(dim, queries, fusion_layers, fusion_heads or max(1, dim // 64),
                                        fusion_mlp_ratio, fusion_act, fusion_kv, query_mode, fusion_pool, type_embeddings)
        self.head_proj = nn.Linear(dim, embed_dim) if head_proj else None
        self.register_buffer("pixel_mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    def encode(self, clip, keep_hidden):
        b, t = clip.shape[:2]
        images = clip.flatten(0, 1)
        if self.pixel_norm == "clip":
            images = (images - self.pixel_mean) / self.pixel_std
        cls, hidden = self.visual(images, keep_hidden, self.project_frames)
        return cls.view(b, t, -1), hidden

    def forward(self, face, scene, text_features):
        """face, scene (B, T, 3, H, W) in [0, 1]; text_features (C, D) -> logits (B, C) and intermediates."""
        b, t = face.shape[:2]
        v_face, face_hidden = self.encode(face, self.polarity_blocks if self.polarity_stream == "face" else 0)
        v_scene, scene_hidden = self.encode(scene, self.polarity_blocks if self.polarity_stream == "scene" else 0)
        hidden = scene_hidden if self.polarity_stream == "scene" else face_hidden

        lstm_face, lstm_scene = (self.lstm, self.lstm) if hasattr(self, "lstm") else (self.lstm_face, self.lstm_scene)
        face_seq, _ = lstm_face(v_face)
        scene_seq, _ = lstm_scene(v_scene)
        face_tokens = self.frames_encoder(face_seq)  # (B, 1 or T+1, D)
        v_st = self.scene_alignment(scene_seq) if self.align_feeds_fusion else scene_seq.mean(1)  # frames mean

        per_block = [(h[:, 0] if self.polarity_token == "cls" else h.mean(1)).view(b, t, -1).mean(1) for h in hidden]
        z_pol, polarity_logits = self.polarity(torch.stack(per_block, dim=1))

        f_out = self.fusion(face_tokens, v_st.unsqueeze(1), z_pol.unsqueeze(1))
        if self.head_proj is not None:
            f_out = self.head_proj(f_out)
        logits = self.logit_scale * F.normalize(f_out, dim=-1) @ F.normalize(text_features, dim=-1).t()
        return logits, {"v_face": v_face, "v_scene": v_scene, "z_pol": z_pol, "f_out": f_out, "polarity_logits": polarity_logits}


# ---------------------------------------------------------------------------------------------------------------
# Deterministic weights from (key, shape, dtype) + seed, without the model's own initialisation.
# ---------------------------------------------------------------------------------------------------------------
def key_generator(seed, key):
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2 ** 63 - 1))


def generated_tensor(seed, key, shape, dtype=torch.float32):
    """A sensible scale per kind of tensor: norms near 1, biases small, matrices ~1/sqrt(fan_in), embeddings O(0.5)."""
    g = key_generator(seed, key)
    noise = torch.randn(*shape, generator=g, dtype=torch.float64)
    leaf = key.rsplit(".", 1)[-1]
    is_norm = any(part.startswith(("ln", "norm")) for part in key.split(".")[-2:-1]) or ".norm." in key
    if is_norm and leaf == "weight":
        values = 1.0 + 0.2 * noise
    elif leaf.startswith("bias") or leaf == "in_proj_bias" or (is_norm and leaf == "bias"):
        values = 0.1 * noise
    elif leaf in ("class_embedding", "positional_embedding", "cls_token", "pos_embedding", "type_embedding", "queries"):
        values = 0.5 * noise
    elif leaf == "text_features":
        values = noise
    elif leaf.startswith("weight_hh"):
        values = noise / math.sqrt(shape[1])
    else:  # weights and projections: fan_in is every dimension but the output one (proj is (in, out))
        fan_in = shape[0] if leaf == "proj" else int(np.prod(shape[1:]))
        values = noise / math.sqrt(fan_in)
    return values.to(dtype)


def manifest(state):
    return [{"key": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in state.items()]


def fill(model, seed):
    state = model.state_dict()
    with torch.no_grad():
        for key, value in state.items():
            if value.is_floating_point():
                value.copy_(generated_tensor(seed, key, value.shape, value.dtype))
    return model


# A reduced configuration that runs in a second on a CPU: every path present, every size small.
SMALL = dict(image_size=32, patch_size=8, width=64, layers=4, heads=4, embed_dim=32, frames=4,
             frames_heads=2, frames_dim_head=16, frames_mlp=64, queries=4, fusion_heads=4)


def parse_value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=2405)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--classes", type=int, default=7)
    parser.add_argument("--set", action="append", default=[], help="name=value, a constructor argument of OUS")
    args = parser.parse_args()
    config = dict(SMALL)
    for item in args.set:
        name, value = item.split("=", 1)
        config[name] = parse_value(value)

    torch.set_num_threads(1)
    model = fill(OUS(**config), args.seed).eval()
    size = config["image_size"]
    g = key_generator(args.seed, "input")
    face = torch.rand(args.batch, config["frames"], 3, size, size, generator=g)
    scene = torch.rand(args.batch, config["frames"], 3, size, size, generator=g)
    text = generated_tensor(args.seed, "text_features", (args.classes, config["embed_dim"]))
    # float32 weights and inputs, computed in float64: the expected outputs carry no float32 rounding of their own
    # (float32 runs of this script differ from each other by ~1e-5 in the logits).
    with torch.no_grad():
        logits, inter = model.double()(face.double(), scene.double(), text.double())

    os.makedirs(args.out, exist_ok=True)
    state = model.float().state_dict()
    torch.save(dict(state), os.path.join(args.out, "weights.pth"))
    torch.save({"text_features": text}, os.path.join(args.out, "text.pth"))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"seed": args.seed, "config": config, "tensors": manifest(state)}, f, indent=1)
    arrays = {"face": face, "scene": scene, "logits": logits, **{k: inter[k] for k in ("v_face", "v_scene", "z_pol", "f_out")}}
    for name, value in arrays.items():
        np.save(os.path.join(args.out, f"{name}.npy"), value.numpy().astype(np.float32))


if __name__ == "__main__":
    main()
