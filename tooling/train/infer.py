"""Greedy decoding with a KV cache: one prompt at a time (golden outputs) or many questions of the
same image at once (evaluation), each question seeing only the image prefix and its own tokens."""

import numpy as np
import torch

from data import EOS, IMAGE, PAD, pixel_values, prefix_ids, prompt_text

NEG = float("-inf")


@torch.no_grad()
def single(model, tok, image_uint8: np.ndarray, question: str, max_new: int = 64):
    """The reference path a runtime mirrors: chat template -> ids with ONE <image> -> expanded to
    image_seq_length positions -> prefill -> greedy decode. Returns the pieces golden.json records."""
    ids = tok.encode(prompt_text(question))
    n_img = model.settings.vision.num_patches
    expanded = []
    for i in ids:
        expanded.extend([IMAGE] * n_img if i == IMAGE else [i])
    feats = model.image_features(pixel_values(image_uint8[None]))
    proj = model.model.multi_modal_projector(feats)
    x = torch.tensor([expanded])
    embeds = model.merge(x, proj)
    n = x.shape[1]
    mask = torch.full((n, n), NEG).triu(1)[None, None]
    norms = []
    h, past = model.model.language_model(embeds, torch.arange(n)[None], mask, layer_norms=norms)
    logits = model.lm_head(h[:, -1])
    first_logits = logits[0].clone()
    out = []
    for step in range(max_new):
        nxt = int(logits[0].argmax())
        out.append(nxt)
        if nxt == EOS:
            break
        e = model.model.language_model.embed_tokens(torch.tensor([[nxt]]))
        h, past = model.model.language_model(e, torch.tensor([[n + step]]), torch.zeros(1, 1, 1, 1), past=past)
        logits = model.lm_head(h[:, -1])
    return {
        "prompt_ids": ids,
        "expanded_length": n,
        "last_logits": first_logits,
        "layer_norms": [float(v[0]) for v in norms],
        "answer_ids": out,
    }


@torch.no_grad()
def packed_greedy(model, tok, feats: torch.Tensor, questions: list[list[str]], max_new: int):
    """Greedy answers for every question of every image in the batch. feats: [B, tokens, d_vision]."""
    lm = model.model.language_model
    b = len(questions)
    m = max(len(qs) for qs in questions)
    prefix = prefix_ids(feats.shape[1])
    p = len(prefix)
    prompts = [[tok.encode(q + " ASSISTANT:") for q in qs] for qs in questions]
    total = max(p + sum(len(x) for x in ps) for ps in prompts)
    ids = torch.full((b, total), PAD, dtype=torch.long)
    pos = torch.zeros((b, total), dtype=torch.long)
    seg = torch.full((b, total), -2, dtype=torch.long)
    last_at = torch.zeros((b, m), dtype=torch.long)  # index of each turn's last prompt token
    next_pos = torch.zeros((b, m), dtype=torch.long)
    for r, ps in enumerate(prompts):
        ids[r, :p] = torch.tensor(prefix)
        pos[r, :p] = torch.arange(p)
        seg[r, :p] = -1
        at = p
        for k, t in enumerate(ps):
            ids[r, at : at + len(t)] = torch.tensor(t)
            pos[r, at : at + len(t)] = torch.arange(p, p + len(t))
            seg[r, at : at + len(t)] = k
            last_at[r, k] = at + len(t) - 1
            next_pos[r, k] = p + len(t)
            at += len(t)
    qi = torch.arange(total)
    allowed = (qi[None, :, None] >= qi[None, None, :]) & (
        (seg[:, :, None] == seg[:, None, :]) | (seg[:, None, :] == -1)
    )
    allowed |= (seg[:, :, None] == -2) & (qi[None, None, :] == 0)
    mask = torch.zeros((b, total, total)).masked_fill_(~allowed, NEG)[:, None]
    embeds = model.merge(ids, model.model.multi_modal_projector(feats))
    h, past = lm(embeds, pos, mask)
    logits = model.lm_head(h[torch.arange(b)[:, None], last_at])  # [b, m, vocab]
    key_seg = seg
    turn_ids = torch.arange(m)[None].expand(b, m).clone()
    exists = torch.tensor([[k < len(ps) for k in range(m)] for ps in prompts])
    turn_ids[~exists] = -3
    answers = [[[] for _ in ps] for ps in prompts]
    done = ~exists
    for step in range(max_new):
        nxt = logits.argmax(-1)  # [b, m]
        for r in range(b):
            for k in range(len(prompts[r])):
                if not done[r, k]:
                    answers[r][k].append(int(nxt[r, k]))
        done |= nxt == EOS
        if bool(done.all()) or step == max_new - 1:
            break
        key_seg = torch.cat([key_seg, turn_ids], dim=1)
        # New token of turn k sees the prefix and every earlier token of turn k (prompt + answer).
        allowed = (key_seg[:, None, :] == turn_ids[:, :, None]) | (key_seg[:, None, :] == -1)
        allowed |= (turn_ids[:, :, None] == -3) & (torch.arange(key_seg.shape[1])[None, None] == 0)
        mask = torch.zeros(allowed.shape).masked_fill_(~allowed, NEG)[:, None]
        e = lm.embed_tokens(nxt)
        h, past = lm(e, next_pos + step, mask, past=past)
        logits = model.lm_head(h)
    return [[tok.decode(a) for a in per] for per in answers]
