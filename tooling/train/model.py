"""A LLaVA model (CLIP ViT + 2-layer GELU projector + Llama decoder) written out in plain PyTorch.

Module names follow Hugging Face transformers (LlavaForConditionalGeneration, 5.x layout), so
`state_dict()` keys are exactly the tensor names the exported model.safetensors holds. Attention is
written out (torch 1.13 has no scaled_dot_product_attention), and the decoder accepts an explicit
attention mask and position ids so several question turns can share one image prefix in training.
"""

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class VisionConfig:
    image_size: int = 72
    patch_size: int = 6
    num_channels: int = 3
    hidden_size: int = 128
    intermediate_size: int = 512
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    layer_norm_eps: float = 1e-5
    hidden_act: str = "gelu"

    @property
    def num_patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2


@dataclass
class TextConfig:
    vocab_size: int = 64
    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 12
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    max_position_embeddings: int = 512

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


@dataclass
class LlavaSettings:
    vision: VisionConfig = field(default_factory=VisionConfig)
    text: TextConfig = field(default_factory=TextConfig)
    # hidden_states index as transformers counts it: 0 = embeddings after pre_layrnorm, -1 = last layer.
    vision_feature_layer: int = -2
    image_token_index: int = 4
    tie_word_embeddings: bool = False


def activation(name: str):
    if name == "gelu":
        return F.gelu
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    raise ValueError(f"unsupported activation {name}")


# ---------------------------------------------------------------- CLIP vision tower


class CLIPVisionEmbeddings(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.randn(c.hidden_size) * 0.02)
        self.patch_embedding = nn.Conv2d(c.num_channels, c.hidden_size, c.patch_size, c.patch_size, bias=False)
        self.position_embedding = nn.Embedding(c.num_patches + 1, c.hidden_size)
        self.register_buffer("position_ids", torch.arange(c.num_patches + 1)[None], persistent=False)

    def forward(self, pixel_values):
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding(self.position_ids)


class CLIPAttention(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        d = c.hidden_size
        self.heads = c.num_attention_heads
        self.head_dim = d // self.heads
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.q_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x):
        b, n, d = x.shape
        split = lambda t: t.view(b, n, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        weights = torch.softmax((q @ k.transpose(-1, -2)) * self.head_dim**-0.5, dim=-1)
        return self.out_proj((weights @ v).transpose(1, 2).reshape(b, n, d))


class CLIPMLP(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.act = activation(c.hidden_act)
        self.fc1 = nn.Linear(c.hidden_size, c.intermediate_size)
        self.fc2 = nn.Linear(c.intermediate_size, c.hidden_size)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.self_attn = CLIPAttention(c)
        self.layer_norm1 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mlp = CLIPMLP(c)
        self.layer_norm2 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class CLIPEncoder(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(c) for _ in range(c.num_hidden_layers)])


class CLIPVisionTransformer(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.embeddings = CLIPVisionEmbeddings(c)
        self.pre_layrnorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.encoder = CLIPEncoder(c)
        self.post_layernorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def hidden_states(self, pixel_values, upto: int | None = None):
        """transformers' `hidden_states` tuple: [embeddings after pre_layrnorm, layer 1, ..., layer N]."""
        h = self.pre_layrnorm(self.embeddings(pixel_values))
        states = [h]
        layers = self.encoder.layers if upto is None else self.encoder.layers[:upto]
        for layer in layers:
            h = layer(h)
            states.append(h)
        return states


class CLIPVisionModel(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.vision_model = CLIPVisionTransformer(c)


# ---------------------------------------------------------------- projector


class LlavaMultiModalProjector(nn.Module):
    def __init__(self, vision_hidden: int, text_hidden: int):
        super().__init__()
        self.linear_1 = nn.Linear(vision_hidden, text_hidden)
        self.linear_2 = nn.Linear(text_hidden, text_hidden)

    def forward(self, x):
        return self.linear_2(F.gelu(self.linear_1(x)))


# ---------------------------------------------------------------- Llama decoder


class LlamaRMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def rope_tables(position_ids, head_dim: int, theta: float):
    """cos/sin of shape [batch, 1, seq, head_dim] in transformers' (non-interleaved) RoPE layout."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = position_ids.float()[..., None] * inv_freq
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos()[:, None], emb.sin()[:, None]


class LlamaAttention(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.heads = c.num_attention_heads
        self.kv_heads = c.num_key_value_heads
        self.head_dim = c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c.hidden_size, bias=False)
        self.keep_weights = False
        self.kept_weights = None

    def forward(self, x, cos, sin, mask, past=None, prefix_len=0):
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        if prefix_len:
            # Training shortcut, same result: the first prefix_len rows see only the (causal) prefix,
            # so their scores are computed against those keys alone.
            top = self.attend(q[:, :, :prefix_len], k[:, :, :prefix_len], v[:, :, :prefix_len],
                              mask[:, :, :prefix_len, :prefix_len])
            rest = self.attend(q[:, :, prefix_len:], k, v, mask[:, :, prefix_len:])
            out = torch.cat([top, rest], dim=2)
        else:
            out = self.attend(q, k, v, mask)
        return self.o_proj(out.transpose(1, 2).reshape(b, n, -1)), present

    def attend(self, q, k, v, mask):
        b, _, n, _ = q.shape
        # Query head h reads key/value head h // (heads / kv_heads), as transformers' repeat_kv does.
        groups = self.heads // self.kv_heads
        qg = (q * self.head_dim**-0.5).reshape(b, self.kv_heads, groups * n, self.head_dim)
        scores = (qg @ k.transpose(-1, -2)).reshape(b, self.heads, n, -1)
        weights = torch.softmax(scores + mask, dim=-1)
        if self.keep_weights:
            self.kept_weights = weights  # training only: the rows after the prefix, for supervision
        return (weights.reshape(b, self.kv_heads, groups * n, -1) @ v).reshape(b, self.heads, n, self.head_dim)


class LlamaMLP(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMLP(c)
        self.input_layernorm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, x, cos, sin, mask, past=None, prefix_len=0):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past, prefix_len)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), present


class LlamaModel(nn.Module):
    def __init__(self, c: TextConfig):
        super().__init__()
        self.config = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, embeds, position_ids, mask, past=None, layer_norms=None, prefix_len=0):
        """mask: additive, broadcastable to [batch, heads, query, key]. Returns final-normed states.
        prefix_len: the first positions attend causally among themselves only (packed training)."""
        cos, sin = rope_tables(position_ids, self.config.head_dim, self.config.rope_theta)
        h = embeds
        presents = []
        for i, layer in enumerate(self.layers):
            h, present = layer(h, cos, sin, mask, None if past is None else past[i], prefix_len)
            presents.append(present)
            if layer_norms is not None:
                layer_norms.append(h[:, -1].norm(dim=-1))
        return self.norm(h), presents


# ---------------------------------------------------------------- LLaVA


class LlavaModel(nn.Module):
    def __init__(self, s: LlavaSettings):
        super().__init__()
        self.vision_tower = CLIPVisionModel(s.vision)
        self.multi_modal_projector = LlavaMultiModalProjector(s.vision.hidden_size, s.text.hidden_size)
        self.language_model = LlamaModel(s.text)


class LlavaForConditionalGeneration(nn.Module):
    def __init__(self, s: LlavaSettings):
        super().__init__()
        self.settings = s
        self.model = LlavaModel(s)
        self.lm_head = nn.Linear(s.text.hidden_size, s.text.vocab_size, bias=False)
        self.apply(init_weights)
        if s.tie_word_embeddings:
            self.lm_head.weight = self.model.language_model.embed_tokens.weight

    def feature_layer_count(self) -> int:
        """Encoder layers needed to reach the feature layer (-2 -> all but the last)."""
        n = self.settings.vision.num_hidden_layers
        idx = self.settings.vision_feature_layer
        return idx if idx >= 0 else n + 1 + idx

    def image_features(self, pixel_values):
        """Vision features LLaVA feeds the projector: feature layer, CLS dropped ('default')."""
        upto = self.feature_layer_count()
        states = self.model.vision_tower.vision_model.hidden_states(pixel_values, upto=upto)
        return states[upto][:, 1:]

    def merge(self, input_ids, image_embeds):
        """Replace the <image> positions of input_ids (already expanded) by projected features."""
        embeds = self.model.language_model.embed_tokens(input_ids)
        is_image = input_ids == self.settings.image_token_index
        if image_embeds is not None and bool(is_image.any()):
            embeds = embeds.clone()
            embeds[is_image] = image_embeds.reshape(-1, image_embeds.shape[-1]).to(embeds.dtype)
        return embeds


def sincos_position_init_(model: "LlavaForConditionalGeneration", scale: float = 0.5):
    """Starts the (learned) patch position embeddings from a 2-D sine/cosine table, so attention
    can find neighbouring patches from the first step; the CLS position starts at zero."""
    c = model.settings.vision
    grid = c.image_size // c.patch_size
    quarter = c.hidden_size // 4
    omega = 1.0 / (100.0 ** (torch.arange(quarter, dtype=torch.float32) / quarter))
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32), indexing="ij")
    parts = []
    for coord in (ys.reshape(-1), xs.reshape(-1)):
        angles = coord[:, None] * omega[None]
        parts += [angles.sin(), angles.cos()]
    table = torch.cat(parts, dim=1)
    emb = model.model.vision_tower.vision_model.embeddings.position_embedding.weight
    with torch.no_grad():
        emb.zero_()
        emb[1:, : table.shape[1]] = table * scale


def init_weights(m):
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        nn.init.normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Embedding):
        nn.init.normal_(m.weight, std=0.02)


def causal_mask(n: int, dtype=torch.float32):
    return torch.full((n, n), float("-inf"), dtype=dtype).triu(1)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def scaled_init_(model: LlavaForConditionalGeneration):
    """GPT-2 style: shrink residual output projections by 1/sqrt(2 * layers) for a stable start."""
    lm = model.model.language_model
    scale = 1.0 / math.sqrt(2 * len(lm.layers))
    with torch.no_grad():
        for layer in lm.layers:
            layer.self_attn.o_proj.weight.mul_(scale)
            layer.mlp.down_proj.weight.mul_(scale)
