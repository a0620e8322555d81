"""Golden outputs and test metrics of the exported model.

    /usr/bin/python3 tooling/train/golden.py --model packages/model-shapes/model \
        --data tooling/train/data/test --package packages/model-shapes

writes <package>/golden/golden.json (8 fixed test samples: prompt ids, last-position logits,
per-layer last-token hidden-state norms, greedy answer), <package>/golden/metrics.json (accuracy
per family on the whole test split, the same with a blank image, description scores) and copies
the sample images to <package>/samples/.
"""

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import (  # noqa: E402
    FAMILIES, IMAGE, SINGLE_ANSWER_FAMILIES, ShapesSplit, normalize_answer, pixel_values, prompt_text, token_f1,
)
from export import write_json, load_model  # noqa: E402
from infer import packed_greedy, single  # noqa: E402

BACKGROUND_RGB = (240, 240, 240)
# Test images and the family asked for each golden sample: every family once, plus a second count.
GOLDEN = [(0, "color_of_shape"), (1, "shape_of_color"), (2, "count"), (3, "exists"),
          (4, "position"), (5, "relation"), (6, "describe"), (7, "count")]


def evaluate(model, tok, split: ShapesSplit, blank: bool, batch: int = 50, limit: int = 0):
    right = {f: 0 for f in FAMILIES}
    total = {f: 0 for f in FAMILIES}
    f1_sum = 0.0
    predictions = []
    blank_feats = None
    if blank:
        img = np.zeros((1, split.images.shape[1], split.images.shape[2], 3), dtype=np.uint8)
        img[:] = BACKGROUND_RGB
        blank_feats = model.image_features(pixel_values(img))
    n = len(split) if limit <= 0 else min(limit, len(split))
    for k in range(0, n, batch):
        idx = np.arange(k, min(n, k + batch))
        if blank:
            feats = blank_feats.expand(len(idx), -1, -1)
        else:
            feats = model.image_features(pixel_values(split.images[idx]))
        qs = [split.questions[i] for i in idx]
        answers = packed_greedy(model, tok, feats, [[q["question"] for q in x] for x in qs], max_new=64)
        for per_q, per_a in zip(qs, answers):
            for q, a in zip(per_q, per_a):
                fam = q["family"]
                total[fam] += 1
                ok = normalize_answer(a) == normalize_answer(q["answer"])
                right[fam] += int(ok)
                if fam == "describe":
                    f1_sum += token_f1(a, q["answer"])
                predictions.append({"id": q["id"], "family": fam, "answer": q["answer"], "prediction": a})
    n_single = sum(total[f] for f in SINGLE_ANSWER_FAMILIES)
    return {
        "families": {f: {"questions": total[f], "accuracy": right[f] / max(1, total[f])} for f in SINGLE_ANSWER_FAMILIES},
        "overall": sum(right[f] for f in SINGLE_ANSWER_FAMILIES) / max(1, n_single),
        "questions": n_single,
        "describe": {
            "questions": total["describe"],
            "exact_match": right["describe"] / max(1, total["describe"]),
            "token_f1": f1_sum / max(1, total["describe"]),
        },
    }, predictions


def golden_samples(model, tok, split: ShapesSplit, package: str):
    samples_dir = os.path.join(package, "samples")
    os.makedirs(samples_dir, exist_ok=True)
    out = []
    for index, family in GOLDEN:
        q = next(x for x in split.questions[index] if x["family"] == family)
        scene = split.scenes[index]
        name = os.path.basename(scene["image"])
        shutil.copyfile(os.path.join(split.root, scene["image"]), os.path.join(samples_dir, name))
        r = single(model, tok, split.images[index], q["question"], max_new=64)
        answer_text = tok.decode(r["answer_ids"])
        out.append({
            "id": q["id"],
            "image": f"samples/{name}",
            "family": family,
            "question": q["question"],
            "expected_answer": q["answer"],
            "prompt_text": prompt_text(q["question"]),
            "prompt_ids": r["prompt_ids"],
            "image_token_index": r["prompt_ids"].index(IMAGE),
            "expanded_length": r["expanded_length"],
            "last_logits": [float(f"{v:.9g}") for v in r["last_logits"].tolist()],
            "last_argmax": int(r["last_logits"].argmax()),
            "layer_last_token_norms": [float(f"{v:.9g}") for v in r["layer_norms"]],
            "greedy_ids": r["answer_ids"],
            "greedy_text": answer_text,
            "correct": normalize_answer(answer_text) == normalize_answer(q["answer"]),
        })
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--package", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N test images (checks)")
    p.add_argument("--predictions", default=None, help="also write every test prediction (JSONL) here")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, tok = load_model(a.model)
    split = ShapesSplit(a.data)
    golden_dir = os.path.join(a.package, "golden")
    os.makedirs(golden_dir, exist_ok=True)
    with torch.no_grad():
        samples = golden_samples(model, tok, split, a.package)
        cfg = model.settings
        write_json(os.path.join(golden_dir, "golden.json"), {
            "format": "shortv.golden",
            "version": 1,
            "model": "model/",
            "note": (
                "prompt_ids hold ONE <image> token (id %d) as the tokenizer and chat template produce them; "
                "the runtime expands it to image_seq_length = %d positions holding the projected vision "
                "features (vision_feature_layer %d, CLS dropped), so the sequence the decoder sees has "
                "expanded_length positions with position ids 0..expanded_length-1. last_logits are the "
                "lm_head outputs at the last prompt position (the first answer token) over the whole "
                "vocabulary; layer_last_token_norms[i] is the L2 norm of the last prompt position's hidden "
                "state after decoder layer i (before the final norm). Greedy decoding stops at </s>, which "
                "greedy_ids include. Computed in float32 with PyTorch."
            ) % (IMAGE, cfg.vision.num_patches, cfg.vision_feature_layer),
            "samples": samples,
        })
        t = time.time()
        test, predictions = evaluate(model, tok, split, blank=False, limit=a.limit)
        blank, _ = evaluate(model, tok, split, blank=True, limit=a.limit)
        seconds = time.time() - t
    metrics = {
        "split": split.manifest["split"], "seed": split.manifest["seed"],
        "images": len(split) if a.limit <= 0 else min(a.limit, len(split)),
        "questions": test["questions"],
        "accuracy": {"overall": test["overall"], **{f: v["accuracy"] for f, v in test["families"].items()}},
        "questions_per_family": {f: v["questions"] for f, v in test["families"].items()},
        "blank_image_accuracy": {"overall": blank["overall"], **{f: v["accuracy"] for f, v in blank["families"].items()}},
        "describe": test["describe"],
        "blank_image_describe": blank["describe"],
        "scoring": "greedy decoding; exact match after normalisation (lower case, punctuation and articles "
                   "removed, number words to digits); overall = all single-answer families pooled; blank = "
                   "same questions with a plain background image (240,240,240)",
    }
    write_json(os.path.join(golden_dir, "metrics.json"), metrics)
    if a.predictions:
        with open(a.predictions, "w") as f:
            for row in predictions:
                f.write(json.dumps(row) + "\n")
    print(json.dumps(metrics, indent=2))
    print(f"golden samples right: {sum(s['correct'] for s in samples)}/{len(samples)}; eval {seconds:.0f}s")


if __name__ == "__main__":
    main()
