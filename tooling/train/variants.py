"""LLaVA architecture variants in plain PyTorch, written from Hugging Face transformers' modelling code
(modeling_llava, modeling_llama, modeling_mistral, modeling_qwen2, modeling_siglip, modeling_clip,
modeling_rope_utils, masking_utils) so their outputs are an independent reference for other runtimes.

What each variant reads from config.json, and how transformers uses it:
- decoder `model_type` llama / mistral / qwen2: the same pre-norm SwiGLU block. qwen2 always has
  q/k/v biases (o_proj none); llama has them (and an o_proj bias) only with `attention_bias`.
  `head_dim` may differ from hidden_size / heads (q/k/v/o then project to heads * head_dim).
- sliding windows (masking_utils): key k is visible to query q iff k <= q and k > q - window, so a
  query sees itself and window - 1 earlier positions. mistral: every layer when `sliding_window` is
  set. qwen2: only with `use_sliding_window`, and only layers i >= `max_window_layers` (its config
  derives `layer_types` that way); an explicit `layer_types` list wins.
- RoPE scaling (modeling_rope_utils): linear divides inv_freq by factor. dynamic (NTK) keeps the
  default inv_freq until a forward pass sees position ids up to seq_len = max(position_ids) + 1 >
  max_position_embeddings; then base' = theta * (factor * seq_len / max_pos - (factor - 1)) **
  (dim / (dim - 2)), recomputed whenever seq_len grows (each decode step past max_pos); keys already
  in the cache keep the rotation they were computed with.
- tie_word_embeddings: lm_head reuses embed_tokens.weight; the checkpoint has no lm_head.weight.
- vision tower: CLIP (class token, pre_layrnorm, quick_gelu by default) or SigLIP (patch conv with a
  bias, no class token, no pre-norm, gelu tanh approximation by default). hidden_states[0] is the
  embedding output, hidden_states[i] the output of encoder layer i (post_layernorm is never used).
- vision_feature_layer: an int picks one hidden state; a list concatenates the picked states along the
  feature axis (the projector's input is hidden_size * len(list)). strategy `default` drops the first
  row of each (CLIP's class token; for SigLIP a real patch), `full` keeps all rows.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import LlamaRMSNorm, rotate_half

NEG = float("-inf")


def act_fn(name: str):
    if name == "gelu":
        return F.gelu
    if name in ("gelu_pytorch_tanh", "gelu_new"):
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    if name == "silu":
        return F.silu
    raise ValueError(f"unsupported activation {name}")


# ---------------------------------------------------------------- decoder


class Rotary:
    """RoPE tables with transformers' default / linear / dynamic-NTK inverse frequencies."""

    def __init__(self, t: dict):
        self.dim = t["head_dim"]
        self.theta = t["rope_theta"]
        self.max_pos = t["max_position_embeddings"]
        scaling = t.get("rope_scaling")
        self.type = scaling["type"] if scaling else "default"
        self.factor = scaling["factor"] if scaling else 1.0
        self.cached_len = self.max_pos
        self.inv_freq = self.frequencies(None)

    def frequencies(self, seq_len):
        base = self.theta
        if self.type == "dynamic":
            seq_len = seq_len if seq_len is not None and seq_len > self.max_pos else self.max_pos
            base = base * ((self.factor * seq_len / self.max_pos) - (self.factor - 1)) ** (self.dim / (self.dim - 2))
        inv = 1.0 / (base ** (torch.arange(0, self.dim, 2, dtype=torch.int64).float() / self.dim))
        return inv / self.factor if self.type == "linear" else inv

    def tables(self, position_ids):
        if self.type == "dynamic":
            seq_len = int(position_ids.max()) + 1
            if seq_len > self.cached_len:
                self.inv_freq = self.frequencies(seq_len)
                self.cached_len = seq_len
            if seq_len < self.max_pos and self.cached_len > self.max_pos:
                self.inv_freq = self.frequencies(None)
                self.cached_len = self.max_pos
        freqs = position_ids.float()[..., None] * self.inv_freq
        emb = torch.cat([freqs, freqs], dim=-1)
        return emb.cos()[:, None], emb.sin()[:, None]


class Attention(nn.Module):
    def __init__(self, t: dict):
        super().__init__()
        d, hd = t["hidden_size"], t["head_dim"]
        self.heads, self.kv_heads, self.head_dim = t["num_attention_heads"], t["num_key_value_heads"], hd
        qkv_bias = t["model_type"] == "qwen2" or (t["model_type"] == "llama" and t.get("attention_bias", False))
        o_bias = t["model_type"] == "llama" and t.get("attention_bias", False)
        self.q_proj = nn.Linear(d, self.heads * hd, bias=qkv_bias)
        self.k_proj = nn.Linear(d, self.kv_heads * hd, bias=qkv_bias)
        self.v_proj = nn.Linear(d, self.kv_heads * hd, bias=qkv_bias)
        self.o_proj = nn.Linear(self.heads * hd, d, bias=o_bias)

    def forward(self, x, cos, sin, mask, past):
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        present = (k, v)
        groups = self.heads // self.kv_heads
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)  # repeat_kv
        scores = (q @ k.transpose(-1, -2)) * self.head_dim**-0.5 + mask
        out = torch.softmax(scores, dim=-1, dtype=torch.float32) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, n, -1)), present


class MLP(nn.Module):
    def __init__(self, t: dict):
        super().__init__()
        bias = t["model_type"] == "llama" and t.get("mlp_bias", False)
        self.gate_proj = nn.Linear(t["hidden_size"], t["intermediate_size"], bias=bias)
        self.up_proj = nn.Linear(t["hidden_size"], t["intermediate_size"], bias=bias)
        self.down_proj = nn.Linear(t["intermediate_size"], t["hidden_size"], bias=bias)
        self.act = act_fn(t.get("hidden_act", "silu"))

    def forward(self, x):
        return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, t: dict):
        super().__init__()
        self.self_attn = Attention(t)
        self.mlp = MLP(t)
        self.input_layernorm = LlamaRMSNorm(t["hidden_size"], t["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(t["hidden_size"], t["rms_norm_eps"])

    def forward(self, x, cos, sin, mask, past):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), present


def layer_windows(t: dict) -> list:
    """The sliding window of each decoder layer (None = full causal attention), as transformers reads it."""
    n = t["num_hidden_layers"]
    window = t.get("sliding_window")
    if t["model_type"] == "llama" or window is None:
        return [None] * n
    if t["model_type"] == "mistral":
        return [window] * n
    if not t.get("use_sliding_window", False):
        return [None] * n
    if t.get("layer_types"):
        return [window if kind == "sliding_attention" else None for kind in t["layer_types"]]
    return [window if i >= t.get("max_window_layers", 28) else None for i in range(n)]


def attention_mask(query_pos, key_pos, window):
    allowed = key_pos[None, :] <= query_pos[:, None]
    if window is not None:
        allowed &= key_pos[None, :] > query_pos[:, None] - window
    return torch.zeros(allowed.shape).masked_fill(~allowed, NEG)[None, None]


class TextModel(nn.Module):
    def __init__(self, t: dict):
        super().__init__()
        self.embed_tokens = nn.Embedding(t["vocab_size"], t["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(t) for _ in range(t["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(t["hidden_size"], t["rms_norm_eps"])
        self.windows = layer_windows(t)
        self.rotary = Rotary(t)

    def forward(self, embeds, start: int, past=None, layer_norms=None):
        """embeds [1, n, d] at positions start..start+n-1; past: per-layer (k, v) of positions 0..start-1."""
        n = embeds.shape[1]
        query_pos = torch.arange(start, start + n)
        key_pos = torch.arange(0, start + n)
        cos, sin = self.rotary.tables(query_pos[None])
        h, presents = embeds, []
        for i, layer in enumerate(self.layers):
            mask = attention_mask(query_pos, key_pos, self.windows[i])
            h, present = layer(h, cos, sin, mask, None if past is None else past[i])
            presents.append(present)
            if layer_norms is not None:
                layer_norms.append(float(h[0, -1].norm()))
        return self.norm(h), presents


# ---------------------------------------------------------------- vision towers


class VisionAttention(nn.Module):
    def __init__(self, v: dict):
        super().__init__()
        d = v["hidden_size"]
        self.heads = v["num_attention_heads"]
        self.k_proj, self.v_proj, self.q_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):
        b, n, d = x.shape
        split = lambda t: t.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        weights = torch.softmax((q @ k.transpose(-1, -2)) * (d // self.heads) ** -0.5, dim=-1)
        return self.out_proj((weights @ v).transpose(1, 2).reshape(b, n, d))


class VisionMLP(nn.Module):
    def __init__(self, v: dict, default_act: str):
        super().__init__()
        self.act = act_fn(v.get("hidden_act", default_act))
        self.fc1 = nn.Linear(v["hidden_size"], v["intermediate_size"])
        self.fc2 = nn.Linear(v["intermediate_size"], v["hidden_size"])

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class VisionLayer(nn.Module):
    def __init__(self, v: dict, eps: float, default_act: str):
        super().__init__()
        self.self_attn = VisionAttention(v)
        self.layer_norm1 = nn.LayerNorm(v["hidden_size"], eps=eps)
        self.mlp = VisionMLP(v, default_act)
        self.layer_norm2 = nn.LayerNorm(v["hidden_size"], eps=eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class Encoder(nn.Module):
    def __init__(self, v: dict, eps: float, default_act: str):
        super().__init__()
        self.layers = nn.ModuleList([VisionLayer(v, eps, default_act) for _ in range(v["num_hidden_layers"])])


class Embeddings(nn.Module):
    def __init__(self, v: dict, clip: bool):
        super().__init__()
        d, p = v["hidden_size"], v["patch_size"]
        patches = (v["image_size"] // p) ** 2
        self.clip = clip
        if clip:
            self.class_embedding = nn.Parameter(torch.zeros(d))
        self.patch_embedding = nn.Conv2d(v.get("num_channels", 3), d, p, p, bias=not clip)
        self.position_embedding = nn.Embedding(patches + (1 if clip else 0), d)

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        if self.clip:
            x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1)
        return x + self.position_embedding.weight[None]


class VisionTransformer(nn.Module):
    def __init__(self, v: dict):
        super().__init__()
        self.clip = v["model_type"] == "clip_vision_model"
        eps = v.get("layer_norm_eps", 1e-5 if self.clip else 1e-6)
        self.embeddings = Embeddings(v, self.clip)
        if self.clip:
            self.pre_layrnorm = nn.LayerNorm(v["hidden_size"], eps=eps)
        self.encoder = Encoder(v, eps, "quick_gelu" if self.clip else "gelu_pytorch_tanh")
        self.post_layernorm = nn.LayerNorm(v["hidden_size"], eps=eps)

    def hidden_states(self, pixel_values):
        h = self.embeddings(pixel_values)
        if self.clip:
            h = self.pre_layrnorm(h)
        states = [h]
        for layer in self.encoder.layers:
            h = layer(h)
            states.append(h)
        return states


class VisionModel(nn.Module):
    def __init__(self, v: dict):
        super().__init__()
        self.vision_model = VisionTransformer(v)


# ---------------------------------------------------------------- LLaVA


class Projector(nn.Module):
    def __init__(self, cfg: dict, inputs: int):
        super().__init__()
        bias = cfg.get("multimodal_projector_bias", True)
        self.linear_1 = nn.Linear(inputs, cfg["text_config"]["hidden_size"], bias=bias)
        self.linear_2 = nn.Linear(cfg["text_config"]["hidden_size"], cfg["text_config"]["hidden_size"], bias=bias)
        self.act = act_fn(cfg.get("projector_hidden_act", "gelu"))

    def forward(self, x):
        return self.linear_2(self.act(self.linear_1(x)))


class Inner(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        layers = cfg["vision_feature_layer"]
        count = 1 if isinstance(layers, int) else len(layers)
        self.vision_tower = VisionModel(cfg["vision_config"])
        self.multi_modal_projector = Projector(cfg, cfg["vision_config"]["hidden_size"] * count)
        self.language_model = TextModel(cfg["text_config"])


class VariantLlava(nn.Module):
    """LlavaForConditionalGeneration for one config.json; state_dict() keys are the checkpoint's names."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        t = cfg["text_config"]
        self.model = Inner(cfg)
        self.tied = bool(cfg.get("tie_word_embeddings") or t.get("tie_word_embeddings"))
        self.lm_head = nn.Linear(t["hidden_size"], t["vocab_size"], bias=False)
        if self.tied:
            self.lm_head.weight = self.model.language_model.embed_tokens.weight

    def image_features(self, pixel_values):
        states = self.model.vision_tower.vision_model.hidden_states(pixel_values)
        layers = self.cfg["vision_feature_layer"]
        picked = [states[layers]] if isinstance(layers, int) else [states[i] for i in layers]
        if self.cfg.get("vision_feature_select_strategy", "default") == "default":
            picked = [s[:, 1:] for s in picked]
        return self.model.multi_modal_projector(torch.cat(picked, dim=-1))

    def checkpoint(self) -> dict:
        state = dict(self.state_dict())
        if self.tied:
            state.pop("lm_head.weight")
        return state


def randomize_(model: nn.Module, generator: torch.Generator, embed_std: float = 1.0):
    """Random weights at a scale that keeps activations O(1) (std 1/sqrt(fan_in)), so attention patterns,
    positions and biases all move the logits well above float32 noise; norms start near 1. A smaller
    embed_std keeps a tied lm_head from simply echoing the last input token."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layernorm.weight") or name.endswith("norm.weight") or ".layer_norm" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))
            elif "embed_tokens" in name:
                p.copy_(embed_std * torch.randn(p.shape, generator=generator))
            elif "position_embedding" in name:
                p.copy_(torch.randn(p.shape, generator=generator))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(fan_in))
