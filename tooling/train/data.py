"""Shapes dataset loading, the word-level tokenizer, and packed multi-turn training sequences.

The tokenizer here is the Python twin of the exported tokenizer.json (WordLevel model, Lowercase
normalizer, Whitespace pre-tokenizer, special tokens matched before normalisation); export.py
writes that file from the same vocabulary, and golden.py checks both agree on the golden prompts.
"""

import json
import os
import re

import numpy as np
import torch
from PIL import Image

SPECIALS = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
UNK, BOS, EOS, PAD, IMAGE = range(5)
TEMPLATE_WORDS = ["user", "assistant", ":"]
SHAPES = ["circle", "square", "triangle", "diamond"]
COLORS = ["red", "green", "blue", "yellow", "purple", "orange"]
SIZES = ["small", "large"]
SINGLE_ANSWER_FAMILIES = ["color_of_shape", "shape_of_color", "count", "exists", "position", "relation"]
FAMILIES = SINGLE_ANSWER_FAMILIES + ["describe"]

# CLIP's normalisation constants (what CLIPImageProcessor defaults to).
IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073]
IMAGE_STD = [0.26862954, 0.26130258, 0.27577711]


class WordTokenizer:
    def __init__(self, vocabulary: list[str]):
        words = list(SPECIALS) + list(TEMPLATE_WORDS)
        for w in vocabulary:
            if w not in words:
                words.append(w)
        self.words = words
        self.ids = {w: i for i, w in enumerate(words)}
        self._special = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")
        self._word = re.compile(r"\w+|[^\w\s]+")

    def __len__(self):
        return len(self.words)

    def encode(self, text: str) -> list[int]:
        out = []
        for part in self._special.split(text):
            if part in self.ids and part in SPECIALS:
                out.append(self.ids[part])
            elif part:
                out.extend(self.ids.get(w, UNK) for w in self._word.findall(part.lower()))
        return out

    def decode(self, ids, skip_special=True) -> str:
        words = [self.words[i] for i in ids if not (skip_special and i < len(SPECIALS))]
        return " ".join(words).replace(" ?", "?").replace(" .", ".")


CHAT_PROMPT = "<s>USER: <image>\n{question} ASSISTANT:"


def prompt_text(question: str) -> str:
    """What tokenizer_config.json's chat template renders for one user turn with an image."""
    return CHAT_PROMPT.format(question=question)


_ARTICLES = {"a", "an", "the"}
_NUMBERS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}


def normalize_answer(text: str) -> str:
    text = re.sub(r"[^\w\s]", " ", text.lower().replace("'", ""))
    return " ".join(_NUMBERS.get(w, w) for w in text.split() if w not in _ARTICLES)


def token_f1(pred: str, gold: str) -> float:
    p, g = normalize_answer(pred).split(), normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)
    common = 0
    pool = list(g)
    for w in p:
        if w in pool:
            pool.remove(w)
            common += 1
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class ShapesSplit:
    """One generated split: images as a uint8 array, scenes, and questions grouped per image."""

    def __init__(self, root: str):
        self.root = root
        with open(os.path.join(root, "manifest.json")) as f:
            self.manifest = json.load(f)
        self.scenes = read_jsonl(os.path.join(root, "scenes.jsonl"))
        self.index_of = {s["id"]: i for i, s in enumerate(self.scenes)}
        self.questions = [[] for _ in self.scenes]
        for q in read_jsonl(os.path.join(root, "data.jsonl")):
            self.questions[self.index_of[q["imageId"]]].append(q)
        self.images = self._load_images()

    def _load_images(self):
        cache = os.path.join(self.root, "images.npy")
        if os.path.exists(cache):
            arr = np.load(cache)
            if arr.shape[0] == len(self.scenes):
                return arr
        arr = np.stack([np.asarray(Image.open(os.path.join(self.root, s["image"])).convert("RGB")) for s in self.scenes])
        np.save(cache, arr)
        return arr

    def __len__(self):
        return len(self.scenes)


def pixel_values(images_uint8: np.ndarray) -> torch.Tensor:
    """CLIPImageProcessor at native size: rescale 1/255, normalise, channels first."""
    x = torch.from_numpy(images_uint8).float().div_(255.0)
    mean = torch.tensor(IMAGE_MEAN)
    std = torch.tensor(IMAGE_STD)
    return ((x - mean) / std).permute(0, 3, 1, 2).contiguous()


def cell_targets(scenes, grid_patches: int, cells: int = 3) -> torch.Tensor:
    """Per-patch labels [N, patches, 8]: shape, colour, size of the object in the patch's grid cell
    (0 = empty cell), the cell's row and column, then scene counts: objects sharing that object's
    shape, sharing its colour (0 for an empty cell), and objects in all. Every patch of a cell
    carries its cell's labels, so each object contributes the same number of visual tokens."""
    table = np.zeros((len(scenes), cells, cells, 8), dtype=np.int64)
    table[:, :, :, 3] = np.arange(cells)[None, :, None]
    table[:, :, :, 4] = np.arange(cells)[None, None, :]
    for n, s in enumerate(scenes):
        objects = s["objects"]
        shapes = [o["shape"] for o in objects]
        colors = [o["color"] for o in objects]
        table[n, :, :, 7] = len(objects)
        for o in objects:
            cell = table[n, o["row"], o["col"]]
            cell[0] = SHAPES.index(o["shape"]) + 1
            cell[1] = COLORS.index(o["color"]) + 1
            cell[2] = SIZES.index(o["size"]) + 1
            cell[5] = shapes.count(o["shape"])
            cell[6] = colors.count(o["color"])
    per = grid_patches // cells
    out = table.astype(np.uint8).repeat(per, axis=1).repeat(per, axis=2)
    return torch.from_numpy(out.reshape(len(scenes), grid_patches * grid_patches, 8))


CELL_CLASSES = [len(SHAPES) + 1, len(COLORS) + 1, len(SIZES) + 1, 3, 3, 7, 7, 7]


def encode_turns(tok: WordTokenizer, questions):
    """Per question: (ids of 'question ASSISTANT: answer </s>', index where the answer starts)."""
    turns = []
    for q in questions:
        prompt = tok.encode(q["question"] + " ASSISTANT:")
        answer = tok.encode(" " + q["answer"]) + [EOS]
        turns.append((prompt + answer, len(prompt), q["family"]))
    return turns


def prefix_ids(image_tokens: int) -> list[int]:
    return [BOS] + [IMAGE_PREFIX_USER, IMAGE_PREFIX_COLON] + [IMAGE] * image_tokens


# ids of "user" and ":" (fixed by the vocabulary order above).
IMAGE_PREFIX_USER = len(SPECIALS) + TEMPLATE_WORDS.index("user")
IMAGE_PREFIX_COLON = len(SPECIALS) + TEMPLATE_WORDS.index(":")


def pack(batch_turns, image_tokens: int):
    """Packs each image's turns after one shared prefix '<s> user : <image>*n'. Every turn sees the
    prefix and its own earlier tokens only, with positions as if it were the first turn: exactly
    the single-question inference sequence, with the image encoded once for all its questions.

    Returns ids [B, T], positions [B, T], additive mask [B, 1, T, T], targets [B, T] (-100 where no
    loss: the label at position i is the token i+1 of the same turn), and per-turn answer spans
    (batch row, first target position, last target position, family, turn start)."""
    prefix = prefix_ids(image_tokens)
    p = len(prefix)
    lengths = [p + sum(len(t[0]) for t in turns) for turns in batch_turns]
    total = max(lengths)
    b = len(batch_turns)
    ids = torch.full((b, total), PAD, dtype=torch.long)
    pos = torch.zeros((b, total), dtype=torch.long)
    tgt = torch.full((b, total), -100, dtype=torch.long)
    seg = torch.full((b, total), -2, dtype=torch.long)  # -1 = prefix, k = turn k, -2 = padding
    spans = []
    for r, turns in enumerate(batch_turns):
        ids[r, :p] = torch.tensor(prefix)
        pos[r, :p] = torch.arange(p)
        seg[r, :p] = -1
        at = p
        for k, (t_ids, answer_at, family) in enumerate(turns):
            n = len(t_ids)
            ids[r, at : at + n] = torch.tensor(t_ids)
            pos[r, at : at + n] = torch.arange(p, p + n)
            seg[r, at : at + n] = k
            # position answer_at-1 (the ':' of 'ASSISTANT:') predicts the first answer token.
            first, last = at + answer_at - 1, at + n - 2
            tgt[r, first : last + 1] = torch.tensor(t_ids[answer_at:])
            spans.append((r, first, last, family, at))
            at += n
    qi = torch.arange(total)
    causal = qi[None, :, None] >= qi[None, None, :]
    same = (seg[:, :, None] == seg[:, None, :]) | (seg[:, None, :] == -1)
    allowed = causal & same & (seg[:, :, None] != -2)
    # Padding rows attend to position 0 only, so their softmax stays finite.
    allowed = allowed | ((seg[:, :, None] == -2) & (qi[None, None, :] == 0))
    mask = torch.zeros((b, total, total)).masked_fill_(~allowed, float("-inf"))[:, None]
    return ids, pos, mask, tgt, spans


def _phrase_matches(words, objects):
    """Objects that every attribute word of a noun phrase fits ("small", "red", "circle(s)")."""
    out = []
    for o in objects:
        ok = True
        for w in words:
            if w in SHAPES or (w.endswith("s") and w[:-1] in SHAPES):
                ok &= o["shape"] == w.rstrip("s") if w not in SHAPES else o["shape"] == w
            elif w in COLORS:
                ok &= o["color"] == w
            elif w in SIZES:
                ok &= o["size"] == w
        if ok:
            out.append(o)
    return out


_ATTRIBUTE_WORDS = set(SHAPES) | {s + "s" for s in SHAPES} | set(COLORS) | set(SIZES)


def referenced_objects(question: dict, objects: list) -> list[tuple[int, list[dict]]]:
    """Noun phrases of a question and the objects they name, read from the question text and the
    scene: (index of the phrase's last attribute word among the question's tokens, objects).
    Relation questions have two phrases; a "no" to exists and "how many objects" have none."""
    words = re.findall(r"\w+|[^\w\s]+", question["question"].lower())
    family = question["family"]
    if family == "describe" or (family == "exists" and question["answer"] != "yes"):
        return []
    groups = [list(range(len(words)))]
    if family == "relation":
        split = words.index("left") if "left" in words else words.index("above")
        groups = [list(range(split)), list(range(split, len(words)))]
    out = []
    for group in groups:
        idx = [i for i in group if words[i] in _ATTRIBUTE_WORDS]
        if not idx:
            continue
        found = _phrase_matches([words[i] for i in idx], objects)
        if found:
            out.append((idx[-1], found))
    return out
