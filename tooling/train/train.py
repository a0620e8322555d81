"""Trains the bundled shapes LLaVA model from scratch on CPU, then exports a Hugging Face folder.

Stage A: the CLIP vision tower alone, with dense per-patch supervision at the LLaVA feature layer
(attributes, row and column of the patch's grid cell, and how many objects of the scene share its
shape / colour / exist at all). Stage B: the tower frozen, its features cached once per image;
projector + Llama decoder trained on all of an image's questions packed after one shared image
prefix (loss on answer tokens and </s>), with the per-cell loss kept on the projector output and a
phrase-grounding loss: at the last attribute word of each noun phrase of a question ("the small
DIAMOND"), head 0 of one early decoder layer is taught to attend to the visual tokens of the
object(s) the phrase names (the scene graph says which), the step that answer-only training
learnt slowest.

    /usr/bin/python3 tooling/train/train.py --out packages/model-shapes/model
    /usr/bin/python3 tooling/train/train.py --smoke            # a few steps, proves the script runs
"""

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import (  # noqa: E402
    CELL_CLASSES, FAMILIES, ShapesSplit, WordTokenizer, cell_targets, encode_turns, pack, pixel_values,
    referenced_objects,
)
from export import export_model  # noqa: E402
from model import (  # noqa: E402
    LlavaForConditionalGeneration, LlavaSettings, TextConfig, VisionConfig, count_parameters, scaled_init_,
    sincos_position_init_,
)

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(HERE, "data"))
    p.add_argument("--out", default=None, help="export the trained model folder here")
    p.add_argument("--run", default=os.path.join(HERE, "runs", "main"), help="checkpoints and logs")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--init", default=None, help="start stage B from the vision tower of this checkpoint")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    # architecture
    p.add_argument("--vit-dim", type=int, default=128)
    p.add_argument("--vit-layers", type=int, default=4)
    p.add_argument("--lm-dim", type=int, default=128)
    p.add_argument("--lm-ff", type=int, default=384)
    p.add_argument("--lm-layers", type=int, default=12)
    p.add_argument("--lm-heads", type=int, default=4)
    p.add_argument("--lm-kv-heads", type=int, default=2)
    p.add_argument("--rope-theta", type=float, default=10000.0)
    # stage A
    p.add_argument("--a-steps", type=int, default=600)
    p.add_argument("--a-batch", type=int, default=32)
    p.add_argument("--a-lr", type=float, default=3e-3)
    p.add_argument("--a-last-frac", type=float, default=0.2, help="final share of stage A that also trains the last ViT layer")
    # stage B
    p.add_argument("--b-steps", type=int, default=800, help="length of the stage-B learning-rate schedule")
    p.add_argument("--b-stop", type=int, default=700,
                   help="stage B ends after this step (<= --b-steps); the schedule's tail runs below 2e-4 "
                        "and is left out to keep the recipe within its 90-minute budget")
    p.add_argument("--b-batch", type=int, default=32)
    p.add_argument("--b-lr", type=float, default=2e-3)
    p.add_argument("--proj-lr-mult", type=float, default=3.0)
    p.add_argument("--aux-weight", type=float, default=0.2)
    p.add_argument("--attn-weight", type=float, default=1.0,
                   help="weight of the attention-supervision loss (0: off)")
    p.add_argument("--attn-layer", type=int, default=2, help="decoder layer whose head 0 grounds phrases")
    p.add_argument("--read-layer", type=int, default=-1,
                   help="later decoder layer whose head 0 reads the phrases at the answer position (-1: off)")
    p.add_argument("--align", action="store_true", help="projector targets tied to the word embeddings")
    p.add_argument("--tie", action="store_true", help="tie lm_head to the word embeddings")
    p.add_argument("--describe-weight", type=float, default=-1.0,
                   help="loss weight of a description next to 1 per question (negative: plain token mean)")
    p.add_argument("--warmup", type=float, default=0.05)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--eval-images", type=int, default=300)
    p.add_argument("--ckpt-every", type=int, default=50)
    p.add_argument("--train-images", type=int, default=0, help="use only the first N train images (0: all)")
    return p.parse_args(argv)


def exact_match_scores(batches):
    """Teacher-forced exact match per family over (logits, targets, spans, sel) batches: a question
    counts as right when every answer token and the closing </s> is the argmax, which is exactly when
    greedy decoding reproduces the answer. `overall` pools the single-answer families."""
    right = {f: 0 for f in FAMILIES}
    total = {f: 0 for f in FAMILIES}
    for logits, targets, spans, sel in batches:
        correct = torch.zeros(sel.shape, dtype=torch.bool)
        correct[sel] = logits.argmax(-1) == targets
        for r, first, last, family, _ in spans:
            total[family] += 1
            right[family] += int(correct[r, first : last + 1].all())
    single = [f for f in FAMILIES if f != "describe"]
    out = {f: round(right[f] / max(1, total[f]), 3) for f in FAMILIES}
    out["overall"] = round(sum(right[f] for f in single) / max(1, sum(total[f] for f in single)), 4)
    return out


def lr_at(step, total, base, warmup_frac, floor=0.05):
    warm = max(1, int(total * warmup_frac))
    if step < warm:
        return base * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


class Heads(nn.Module):
    """Linear per-token classifiers for the dense targets (training only, never exported)."""

    def __init__(self, dim):
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(dim, n) for n in CELL_CLASSES])

    # Shape is the slowest attribute to learn, so it weighs double; the scene-count targets are
    # auxiliary and weigh half.
    WEIGHTS = [2.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]

    def loss_and_acc(self, h, targets):
        losses, accs = [], []
        for k, head in enumerate(self.heads):
            logits = head(h)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets[..., k].reshape(-1))
            losses.append(self.WEIGHTS[k] * ce)
            accs.append((logits.argmax(-1) == targets[..., k]).float().mean().item())
        return sum(losses), accs


class AlignedHeads(nn.Module):
    """Per-token classifiers on the projector output whose class vectors ARE the decoder's word
    embeddings ("circle", "red", "top", "3", ...): the projector learns to write each visual token
    as the words that describe its cell, in the decoder's own embedding space (the alignment that
    LLaVA's projector pre-training gives). Classes without a word (empty cell, middle row/column)
    get their own learned vector. Training only, never exported."""

    WORDS = [
        [None, "circle", "square", "triangle", "diamond"],
        [None, "red", "green", "blue", "yellow", "purple", "orange"],
        [None, "small", "large"],
        ["top", None, "bottom"],
        ["left", None, "right"],
        [str(i) for i in range(7)],
        [str(i) for i in range(7)],
        [str(i) for i in range(7)],
    ]

    def __init__(self, embed: nn.Embedding, tok: WordTokenizer):
        super().__init__()
        object.__setattr__(self, "embed", embed)  # shared with the decoder, not a second copy
        dim = embed.weight.shape[1]
        self.ids = [[-1 if w is None else tok.ids[w] for w in words] for words in self.WORDS]
        self.extra = nn.Parameter(torch.randn(len(self.WORDS), dim) * 0.02)
        self.bias = nn.ParameterList([nn.Parameter(torch.zeros(len(w))) for w in self.WORDS])
        self.scale = nn.Parameter(torch.full((len(self.WORDS),), 10.0))

    def loss_and_acc(self, h, targets):
        losses, accs = [], []
        for k, ids in enumerate(self.ids):
            vecs = torch.stack([self.extra[k] if i < 0 else self.embed.weight[i] for i in ids])
            logits = self.scale[k] * (h @ vecs.t()) + self.bias[k]
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets[..., k].reshape(-1))
            losses.append(Heads.WEIGHTS[k] * ce)
            accs.append((logits.argmax(-1) == targets[..., k]).float().mean().item())
        return sum(losses), accs


BACKGROUND_RGB = np.array([240, 240, 240], dtype=np.int16)


def silhouettes(images_uint8: np.ndarray, patch: int) -> torch.Tensor:
    """[N, patches, patch*patch] 0/1: which pixels of each patch belong to an object (differ from
    the plain background). A dense, local target that teaches the patch embedding edges early."""
    n, h, w, _ = images_uint8.shape
    mask = (np.abs(images_uint8.astype(np.int16) - BACKGROUND_RGB).max(axis=-1) > 24).astype(np.float32)
    g = h // patch
    mask = mask.reshape(n, g, patch, g, patch).transpose(0, 1, 3, 2, 4).reshape(n, g * g, patch * patch)
    return torch.from_numpy(mask)


class Trainer:
    def __init__(self, args):
        self.args = args
        torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        random.seed(args.seed)
        np.random.seed(args.seed)
        os.makedirs(args.run, exist_ok=True)
        t0 = time.time()
        self.train = ShapesSplit(os.path.join(args.data, "train"))
        self.test = ShapesSplit(os.path.join(args.data, "test"))
        self.n_train = len(self.train) if args.train_images <= 0 else min(args.train_images, len(self.train))
        self.log(f"data: {self.n_train} train images, {len(self.test)} test images ({time.time() - t0:.1f}s)")
        self.tok = WordTokenizer(self.train.manifest["vocabulary"])
        size = self.train.manifest["size"]
        vision = VisionConfig(
            image_size=size, patch_size=6, hidden_size=args.vit_dim, intermediate_size=4 * args.vit_dim,
            num_hidden_layers=args.vit_layers, num_attention_heads=4,
        )
        text = TextConfig(
            vocab_size=len(self.tok), hidden_size=args.lm_dim, intermediate_size=args.lm_ff,
            num_hidden_layers=args.lm_layers, num_attention_heads=args.lm_heads,
            num_key_value_heads=args.lm_kv_heads, rope_theta=args.rope_theta,
        )
        self.settings = LlavaSettings(vision=vision, text=text, image_token_index=4, tie_word_embeddings=args.tie)
        self.model = LlavaForConditionalGeneration(self.settings)
        scaled_init_(self.model)
        sincos_position_init_(self.model)
        self.grid = size // vision.patch_size
        self.tokens = self.grid * self.grid
        self.vit_heads = Heads(args.vit_dim)
        self.last_heads = Heads(args.vit_dim)  # trains the last encoder layer, unused by LLaVA at -2
        if args.align:
            self.proj_heads = AlignedHeads(self.model.model.language_model.embed_tokens, self.tok)
        else:
            self.proj_heads = Heads(args.lm_dim)
        self.silhouette_head = nn.Linear(args.vit_dim, vision.patch_size**2)
        self.log(
            f"params: total {count_parameters(self.model)}, vision {count_parameters(self.model.model.vision_tower)}, "
            f"projector {count_parameters(self.model.model.multi_modal_projector)}, "
            f"lm {count_parameters(self.model.model.language_model) + self.model.lm_head.weight.numel()}"
        )
        self.train_targets = None
        self.test_targets = cell_targets(self.test.scenes, self.grid)
        self.rng = np.random.default_rng(args.seed)
        self.perm_a = self.rng.permutation(self.n_train)
        self.perm_b = self.rng.permutation(self.n_train)
        self.stage, self.step = "A", 0
        self.history = []
        self.elapsed = 0.0
        self.opt = None
        self.cache = None

    # ------------------------------------------------------------ bookkeeping

    def log(self, msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        with open(os.path.join(self.args.run, "train.log"), "a") as f:
            f.write(line + "\n")

    def record(self, row):
        self.history.append(row)
        with open(os.path.join(self.args.run, "history.jsonl"), "a") as f:
            f.write(json.dumps(row) + "\n")

    def save(self):
        path = os.path.join(self.args.run, "ckpt.pt")
        state = {
            "stage": self.stage, "step": self.step, "elapsed": self.elapsed, "history": self.history,
            "model": self.model.state_dict(), "vit_heads": self.vit_heads.state_dict(),
            "last_heads": self.last_heads.state_dict(), "proj_heads": self.proj_heads.state_dict(),
            "silhouette_head": self.silhouette_head.state_dict(),
            "opt": self.opt.state_dict() if self.opt else None, "torch_rng": torch.get_rng_state(),
        }
        torch.save(state, path + ".tmp")
        os.replace(path + ".tmp", path)

    def load(self):
        path = os.path.join(self.args.run, "ckpt.pt")
        if not os.path.exists(path):
            self.log("no checkpoint to resume from: starting fresh")
            return None
        state = torch.load(path)
        self.model.load_state_dict(state["model"])
        self.vit_heads.load_state_dict(state["vit_heads"])
        self.last_heads.load_state_dict(state["last_heads"])
        self.proj_heads.load_state_dict(state["proj_heads"])
        self.silhouette_head.load_state_dict(state["silhouette_head"])
        self.stage, self.step, self.elapsed = state["stage"], state["step"], state["elapsed"]
        self.history = state["history"]
        torch.set_rng_state(state["torch_rng"])
        self.log(f"resumed at stage {self.stage} step {self.step} ({self.elapsed / 60:.1f} min trained)")
        return state["opt"]

    # ------------------------------------------------------------ stage A

    def stage_a_optimizer(self):
        params = list(self.model.model.vision_tower.parameters()) + list(self.vit_heads.parameters())
        params += list(self.last_heads.parameters()) + list(self.silhouette_head.parameters())
        return torch.optim.AdamW(params, lr=self.args.a_lr, betas=(0.9, 0.98), weight_decay=0.01)

    def vit_forward(self, idx, split, with_last=True):
        vt = self.model.model.vision_tower.vision_model
        upto = self.model.feature_layer_count()
        states = vt.hidden_states(pixel_values(split.images[idx]), upto=None if with_last else upto)
        feat = states[upto][:, 1:]
        last = vt.post_layernorm(states[-1])[:, 1:] if with_last else None
        return feat, last

    def run_stage_a(self, opt_state):
        a = self.args
        self.opt = self.stage_a_optimizer()
        if opt_state:
            self.opt.load_state_dict(opt_state)
        if self.train_targets is None:
            self.train_targets = cell_targets(self.train.scenes[: self.n_train], self.grid)
        self.model.train()
        while self.step < a.a_steps:
            t = time.time()
            lr = lr_at(self.step, a.a_steps, a.a_lr, a.warmup)
            for g in self.opt.param_groups:
                g["lr"] = lr
            start = (self.step * a.a_batch) % self.n_train
            idx = np.sort(np.take(self.perm_a, np.arange(start, start + a.a_batch), mode="wrap"))
            # The last encoder layer feeds nothing LLaVA uses (feature layer -2): it is trained only
            # at the end, from its own heads, so that its weights are meaningful yet cost little.
            with_last = self.step >= a.a_steps * (1 - a.a_last_frac)
            feat, last = self.vit_forward(idx, self.train, with_last)
            tg = self.train_targets[idx].long()
            loss, accs = self.vit_heads.loss_and_acc(feat, tg)
            sil = silhouettes(self.train.images[idx], self.settings.vision.patch_size)
            loss = loss + F.binary_cross_entropy_with_logits(self.silhouette_head(feat), sil)
            if with_last:
                loss = loss + 0.5 * self.last_heads.loss_and_acc(last, tg)[0]
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.model.vision_tower.parameters(), 1.0)
            self.opt.step()
            self.step += 1
            self.elapsed += time.time() - t
            if self.step % 25 == 0 or self.step == a.a_steps:
                row = {"stage": "A", "step": self.step, "minutes": round(self.elapsed / 60, 2),
                       "loss": round(loss.item(), 4), "train_acc": [round(x, 3) for x in accs]}
                if self.step % 100 == 0 or self.step == a.a_steps:
                    row["test_acc"] = self.eval_stage_a()
                self.log(json.dumps(row))
                self.record(row)
            if self.step % a.ckpt_every == 0:
                self.save()
        self.stage, self.step, self.opt = "B", 0, None
        self.save()

    @torch.no_grad()
    def eval_stage_a(self, n=256):
        self.model.eval()
        idx = np.arange(min(n, len(self.test)))
        feat, _ = self.vit_forward(idx, self.test, with_last=False)
        _, accs = self.vit_heads.loss_and_acc(feat, self.test_targets[idx].long())
        self.model.train()
        return [round(x, 4) for x in accs]

    # ------------------------------------------------------------ stage B

    @torch.no_grad()
    def features(self, idx, split, cache: dict):
        """Feature-layer vision tokens for images idx: the tower is frozen, so each image's are
        computed once and kept (fp16) for the next time it comes round."""
        missing = [int(i) for i in idx if int(i) not in cache]
        self.model.model.vision_tower.eval()
        for k in range(0, len(missing), 128):
            chunk = missing[k : k + 128]
            feat = self.model.image_features(pixel_values(split.images[chunk])).half()
            for i, f in zip(chunk, feat):
                cache[i] = f.clone()
        return torch.stack([cache[int(i)] for i in idx]).float()

    def new_cache(self, n):
        return {}

    def stage_b_optimizer(self):
        a = self.args
        lm = list(self.model.model.language_model.parameters())
        lm += [p for p in self.model.lm_head.parameters() if all(p is not q for q in lm)]  # tied: once
        decay = [p for p in lm if p.dim() >= 2]
        no_decay = [p for p in lm if p.dim() < 2]
        proj = list(self.model.model.multi_modal_projector.parameters()) + list(self.proj_heads.parameters())
        return torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": 0.05, "mult": 1.0},
                {"params": no_decay, "weight_decay": 0.0, "mult": 1.0},
                {"params": proj, "weight_decay": 0.0, "mult": a.proj_lr_mult},
            ],
            lr=a.b_lr, betas=(0.9, 0.98),
        )

    def attention_loss(self, weights, read_weights, spans, batch_questions, batch_scenes):
        """Phrase grounding, in two hops. (1) At the last attribute word of each noun phrase of a
        question ("the small DIAMOND", "the RED object"), head 0 of one decoder layer attends to the
        visual tokens of the object(s) the phrase names. (2) At the position that predicts the
        answer, head 0 of a later layer attends to those phrase words. weights / read_weights:
        [B, heads, rows after the prefix, keys] of the two layers (read_weights may be None)."""
        prefix = self.tokens + 3
        per = self.grid // 3
        ground = torch.zeros(weights.shape[:1] + weights.shape[2:], dtype=torch.bool)
        read = torch.zeros_like(ground)
        turns = {}
        for r, first, _, _, at in spans:
            turns.setdefault(r, []).append((at, first))
        for r, (questions, scene) in enumerate(zip(batch_questions, batch_scenes)):
            for q, (at, first) in zip(questions, turns.get(r, [])):
                for word_at, objects in referenced_objects(q, scene["objects"]):
                    row = at + word_at - prefix
                    read[r, first - prefix, at + word_at] = True
                    for o in objects:
                        for pr in range(o["row"] * per, o["row"] * per + per):
                            start = 3 + pr * self.grid + o["col"] * per
                            ground[r, row, start : start + per] = True
        total = torch.zeros(())
        for w, target in ((weights, ground), (read_weights, read)):
            rows = target.any(-1)
            if w is not None and bool(rows.any()):
                total = total + -torch.log((w[:, 0].float() * target).sum(-1)[rows] + 1e-6).mean()
        return total

    def lm_forward(self, feats, batch_questions, batch_scenes=None):
        turns = [encode_turns(self.tok, qs) for qs in batch_questions]
        ids, pos, mask, tgt, spans = pack(turns, self.tokens)
        proj = self.model.model.multi_modal_projector(feats)
        embeds = self.model.merge(ids, proj)
        supervise = batch_scenes is not None and self.args.attn_weight > 0
        layers = self.model.model.language_model.layers
        attn = layers[self.args.attn_layer].self_attn
        reader = layers[self.args.read_layer].self_attn if self.args.read_layer >= 0 else None
        for m in (attn, reader):
            if m is not None:
                m.keep_weights = supervise
        h, _ = self.model.model.language_model(embeds, pos, mask, prefix_len=self.tokens + 3)
        if supervise:
            self.last_attention_loss = self.attention_loss(
                attn.kept_weights, reader.kept_weights if reader is not None else None,
                spans, batch_questions, batch_scenes)
        for m in (attn, reader):
            if m is not None:
                m.keep_weights, m.kept_weights = False, None
        sel = tgt != -100
        logits = self.model.lm_head(h[sel])
        # Each question weighs the same whatever its answer length; a description weighs describe_weight.
        weight = torch.zeros(tgt.shape)
        for r, first, last, family, _ in spans:
            w = self.args.describe_weight if family == "describe" else 1.0
            weight[r, first : last + 1] = w / (last + 1 - first)
        return proj, logits, tgt[sel], spans, sel, weight[sel]

    def run_stage_b(self, opt_state):
        a = self.args
        for p in self.model.model.vision_tower.parameters():
            p.requires_grad_(False)
        self.opt = self.stage_b_optimizer()
        if opt_state:
            self.opt.load_state_dict(opt_state)
        if self.train_targets is None:
            self.train_targets = cell_targets(self.train.scenes[: self.n_train], self.grid)
        train_cache = self.new_cache(self.n_train)
        self.test_cache = self.new_cache(len(self.test))
        self.model.train()
        stop = min(a.b_stop, a.b_steps) if a.b_stop > 0 else a.b_steps
        while self.step < stop:
            t = time.time()
            lr = lr_at(self.step, a.b_steps, a.b_lr, a.warmup)
            for g in self.opt.param_groups:
                g["lr"] = lr * g["mult"]
            start = (self.step * a.b_batch) % self.n_train
            idx = np.sort(np.take(self.perm_b, np.arange(start, start + a.b_batch), mode="wrap"))
            feats = self.features(idx, self.train, train_cache)
            proj, logits, targets, _, _, weight = self.lm_forward(
                feats, [self.train.questions[i] for i in idx], [self.train.scenes[i] for i in idx])
            if self.args.describe_weight < 0:
                loss_lm = F.cross_entropy(logits, targets)
            else:
                loss_lm = (F.cross_entropy(logits, targets, reduction="none") * weight).sum() / weight.sum()
            loss = loss_lm
            if a.aux_weight > 0:
                loss_aux, _ = self.proj_heads.loss_and_acc(proj, self.train_targets[idx].long())
                loss = loss + a.aux_weight * loss_aux
            if a.attn_weight > 0:
                loss = loss + a.attn_weight * self.last_attention_loss
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in self.opt.param_groups for p in g["params"]], 1.0)
            self.opt.step()
            self.step += 1
            self.elapsed += time.time() - t
            if self.step % 10 == 0 or self.step == stop:
                row = {"stage": "B", "step": self.step, "minutes": round(self.elapsed / 60, 2),
                       "loss": round(loss_lm.item(), 4), "lr": round(lr, 6)}
                if a.attn_weight > 0:
                    row["attn_loss"] = round(self.last_attention_loss.item(), 4)
                if self.step % a.eval_every == 0 or self.step == stop:
                    te = time.time()
                    row["test"] = self.eval_stage_b()
                    row["eval_seconds"] = round(time.time() - te, 1)
                self.log(json.dumps(row))
                self.record(row)
            if self.step % a.ckpt_every == 0:
                self.save()
        self.save()

    @torch.no_grad()
    def eval_stage_b(self, blank=False):
        """Teacher-forced exact match on the first eval_images test images (`exact_match_scores`)."""
        self.model.eval()
        n = min(self.args.eval_images, len(self.test))

        def batches():
            for k in range(0, n, 50):
                idx = np.arange(k, min(n, k + 50))
                feats = self.features(idx, self.test, self.test_cache)
                _, logits, targets, spans, sel, _ = self.lm_forward(feats, [self.test.questions[i] for i in idx])
                yield logits, targets, spans, sel

        out = exact_match_scores(batches())
        self.model.train()
        return out

    # ------------------------------------------------------------ driver

    def run(self):
        opt_state = self.load() if self.args.resume else None
        if self.args.init and not self.args.resume:
            state = torch.load(self.args.init)
            vision = {k: v for k, v in state["model"].items() if k.startswith("model.vision_tower.")}
            self.model.load_state_dict(vision, strict=False)
            self.stage, self.step = "B", 0
            self.log(f"vision tower from {self.args.init}; starting stage B")
        if self.stage == "A":
            self.run_stage_a(opt_state)
            opt_state = None
        if self.stage == "B":
            self.run_stage_b(opt_state)
        self.log(f"trained in {self.elapsed / 60:.1f} min")
        if self.args.out:
            export_model(self.model, self.tok, self.args.out)
            self.log(f"exported to {self.args.out}")


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:
        args.a_steps, args.b_steps, args.b_stop, args.a_batch, args.b_batch = 6, 6, 6, 16, 4
        args.eval_every, args.eval_images, args.ckpt_every, args.train_images = 3, 20, 3, 200
        if args.run == os.path.join(HERE, "runs", "main"):
            args.run = os.path.join(HERE, "runs", "smoke")
    Trainer(args).run()


if __name__ == "__main__":
    main()
