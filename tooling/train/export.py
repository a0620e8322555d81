"""Writes the trained model as a Hugging Face LLaVA folder (transformers 5.x layout).

model.safetensors is written by hand (8-byte little-endian header length, JSON header, raw
little-endian tensor bytes) because the `safetensors` package is not available here.
"""

import json
import os

import numpy as np
import torch

from data import BOS, EOS, IMAGE, IMAGE_MEAN, IMAGE_STD, PAD, SPECIALS, UNK, WordTokenizer
from model import LlavaForConditionalGeneration, LlavaSettings

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}USER: "
    "{% if message['content'] is string %}{% if loop.first %}<image>\n{% endif %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %} ASSISTANT:"
    "{% elif message['role'] == 'assistant' %} {{ message['content'] }}{{ eos_token }}{% endif %}"
    "{% endfor %}"
)

MAX_NEW_TOKENS = 64


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def write_safetensors(path, tensors: dict, metadata: dict | None = None):
    header = {}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous().cpu()
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # keeps tensor data 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def read_safetensors(path) -> dict:
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] != "F32":
                raise ValueError(f"{name}: only F32 is supported here")
            start, end = info["data_offsets"]
            f.seek(base + start)
            arr = np.frombuffer(f.read(end - start), dtype="<f4").reshape(info["shape"])
            out[name] = torch.from_numpy(arr.copy())
    return out


def config_json(s: LlavaSettings, tok: WordTokenizer) -> dict:
    v, t = s.vision, s.text
    return {
        "architectures": ["LlavaForConditionalGeneration"],
        "model_type": "llava",
        "image_token_index": IMAGE,
        "image_seq_length": v.num_patches,
        "projector_hidden_act": "gelu",
        "multimodal_projector_bias": True,
        "vision_feature_layer": s.vision_feature_layer,
        "vision_feature_select_strategy": "default",
        "tie_word_embeddings": s.tie_word_embeddings,
        "dtype": "float32",
        "vision_config": {
            "model_type": "clip_vision_model",
            "hidden_size": v.hidden_size,
            "intermediate_size": v.intermediate_size,
            "num_hidden_layers": v.num_hidden_layers,
            "num_attention_heads": v.num_attention_heads,
            "num_channels": v.num_channels,
            "image_size": v.image_size,
            "patch_size": v.patch_size,
            "hidden_act": v.hidden_act,
            "layer_norm_eps": v.layer_norm_eps,
            "attention_dropout": 0.0,
            "projection_dim": v.hidden_size,
        },
        "text_config": {
            "model_type": "llama",
            "architectures": ["LlamaForCausalLM"],
            "vocab_size": len(tok),
            "hidden_size": t.hidden_size,
            "intermediate_size": t.intermediate_size,
            "num_hidden_layers": t.num_hidden_layers,
            "num_attention_heads": t.num_attention_heads,
            "num_key_value_heads": t.num_key_value_heads,
            "head_dim": t.head_dim,
            "hidden_act": "silu",
            "max_position_embeddings": t.max_position_embeddings,
            "rms_norm_eps": t.rms_norm_eps,
            "rope_theta": t.rope_theta,
            "rope_parameters": {"rope_type": "default", "rope_theta": t.rope_theta},
            "attention_bias": False,
            "mlp_bias": False,
            "tie_word_embeddings": s.tie_word_embeddings,
            "bos_token_id": BOS,
            "eos_token_id": EOS,
            "pad_token_id": PAD,
            "dtype": "float32",
        },
    }


def tokenizer_json(tok: WordTokenizer) -> dict:
    added = [
        {
            "id": i,
            "content": w,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for i, w in enumerate(SPECIALS)
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {w: i for i, w in enumerate(tok.words)}, "unk_token": "<unk>"},
    }


def tokenizer_config_json() -> dict:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "image_token": "<image>",
        "extra_special_tokens": {"image_token": "<image>"},
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": True,
        "model_max_length": 512,
        "padding_side": "left",
        "chat_template": CHAT_TEMPLATE,
        "added_tokens_decoder": {
            str(i): {
                "content": w,
                "lstrip": False,
                "normalized": False,
                "rstrip": False,
                "single_word": False,
                "special": True,
            }
            for i, w in enumerate(SPECIALS)
        },
    }


def preprocessor_config_json(s: LlavaSettings) -> dict:
    return clip_preprocessor_config(s.vision.image_size)


def clip_preprocessor_config(size: int) -> dict:
    """A CLIPImageProcessor config for square images of `size` pixels, as the bundled model ships it."""
    return {
        "image_processor_type": "CLIPImageProcessor",
        "processor_class": "LlavaProcessor",
        "do_resize": True,
        "size": {"shortest_edge": size},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": {"height": size, "width": size},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": IMAGE_MEAN,
        "image_std": IMAGE_STD,
        "do_convert_rgb": True,
    }


def generation_config_json() -> dict:
    return {
        "bos_token_id": BOS,
        "eos_token_id": EOS,
        "pad_token_id": PAD,
        "do_sample": False,
        "max_new_tokens": MAX_NEW_TOKENS,
    }


def processor_config_json(s: LlavaSettings) -> dict:
    return {
        "processor_class": "LlavaProcessor",
        "image_token": "<image>",
        "num_additional_image_tokens": 1,
        "patch_size": s.vision.patch_size,
        "vision_feature_select_strategy": "default",
    }


def export_model(model: LlavaForConditionalGeneration, tok: WordTokenizer, out_dir: str):
    os.makedirs(out_dir, exist_ok=True)
    s = model.settings
    state = {k: v for k, v in model.state_dict().items()}
    if s.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), state, {"format": "pt"})
    write_json(os.path.join(out_dir, "config.json"), config_json(s, tok))
    write_json(os.path.join(out_dir, "tokenizer.json"), tokenizer_json(tok))
    write_json(os.path.join(out_dir, "tokenizer_config.json"), tokenizer_config_json())
    write_json(os.path.join(out_dir, "preprocessor_config.json"), preprocessor_config_json(s))
    write_json(os.path.join(out_dir, "processor_config.json"), processor_config_json(s))
    write_json(os.path.join(out_dir, "generation_config.json"), generation_config_json())
    write_json(os.path.join(out_dir, "special_tokens_map.json"), {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
    })
    assert UNK == 0


def load_model(model_dir: str):
    """Rebuilds the PyTorch model from an exported folder (used by golden.py)."""
    from model import TextConfig, VisionConfig

    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    v, t = cfg["vision_config"], cfg["text_config"]
    s = LlavaSettings(
        vision=VisionConfig(
            image_size=v["image_size"], patch_size=v["patch_size"], num_channels=v["num_channels"],
            hidden_size=v["hidden_size"], intermediate_size=v["intermediate_size"],
            num_hidden_layers=v["num_hidden_layers"], num_attention_heads=v["num_attention_heads"],
            layer_norm_eps=v["layer_norm_eps"], hidden_act=v["hidden_act"],
        ),
        text=TextConfig(
            vocab_size=t["vocab_size"], hidden_size=t["hidden_size"], intermediate_size=t["intermediate_size"],
            num_hidden_layers=t["num_hidden_layers"], num_attention_heads=t["num_attention_heads"],
            num_key_value_heads=t["num_key_value_heads"], rms_norm_eps=t["rms_norm_eps"],
            rope_theta=t["rope_parameters"]["rope_theta"], max_position_embeddings=t["max_position_embeddings"],
        ),
        vision_feature_layer=cfg["vision_feature_layer"],
        image_token_index=cfg["image_token_index"],
        tie_word_embeddings=cfg["tie_word_embeddings"],
    )
    model = LlavaForConditionalGeneration(s)
    weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not (s.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise ValueError(f"weights do not match the config: missing {missing}, unexpected {unexpected}")
    with open(os.path.join(model_dir, "tokenizer.json")) as f:
        vocab = json.load(f)["model"]["vocab"]
    words = [w for w, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    tok = WordTokenizer(words)
    if tok.words != words:
        raise ValueError("tokenizer.json vocabulary order differs from the training tokenizer")
    return model.eval(), tok
