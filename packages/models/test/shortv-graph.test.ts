import { encodeModel, type ModelProto, type NodeProto, valueInfo } from '@shortv/onnx';
import { describe, expect, it } from 'vitest';
import { emitDecoderGraph } from '../src/graphs/decoder.ts';
import { referenceImageFeatures } from '../src/index.ts';
import { CONFIGS, loadTiny, randomPixels } from './helpers.ts';
import { emptyPast, int64, openSession } from './ort.ts';
import { buildScenario } from './scenario.ts';

const FROZEN = [0, 2];
const ROW_PROJECTIONS = [
  'self_attn/q_proj',
  'self_attn/o_proj',
  'mlp/gate_proj',
  'mlp/up_proj',
  'mlp/down_proj',
];

function matmul(model: ModelProto, layer: number, projection: string): NodeProto {
  const node = model.graph!.node!.find(
    (n) => n.opType === 'MatMul' && n.name === `/model/layers.${layer}/${projection}/MatMul`,
  );
  if (!node) throw new Error(`no MatMul for layer ${layer} ${projection}`);
  return node;
}

/** The hidden state a layer takes in: what its input RMSNorm squares. */
function layerInput(model: ModelProto, layer: number): string {
  const node = model.graph!.node!.find((n) => n.name === `/model/layers.${layer}/input_layernorm/Mul`);
  if (!node) throw new Error(`no input norm for layer ${layer}`);
  return node.input![0]!;
}

/**
 * Where the rows of `value` come from within `layer`. Walks producers backwards along the row-carrying
 * inputs (for MatMul only its left operand: the right one is a weight, or the keys/values every query reads)
 * and reports whether the walk reaches the layer's full input hidden state without passing the layer's
 * Gather on `text_index`. Shape nodes carry only sizes, so the walk stops there.
 */
function rowLineage(
  model: ModelProto,
  layer: number,
  value: string,
): { viaTextGather: boolean; reachesFullRows: boolean } {
  const hidden = layerInput(model, layer);
  const producer = new Map<string, NodeProto>();
  for (const node of model.graph!.node!) for (const out of node.output ?? []) producer.set(out, node);
  let viaTextGather = false;
  let reachesFullRows = false;
  const seen = new Set<string>();
  const visit = (v: string) => {
    if (v === '' || seen.has(v)) return;
    seen.add(v);
    if (v === hidden) {
      reachesFullRows = true;
      return;
    }
    const node = producer.get(v);
    if (!node || node.opType === 'Shape') return;
    if (node.opType === 'GatherND' && node.name === `/model/layers.${layer}/gather_text_rows`) {
      // The gather's indices must come from text_index for this to be the text-row gather.
      const indexSeen = new Set<string>();
      const fromTextIndex = (x: string): boolean => {
        if (x === 'text_index') return true;
        if (indexSeen.has(x)) return false;
        indexSeen.add(x);
        return (producer.get(x)?.input ?? []).some(fromTextIndex);
      };
      if (fromTextIndex(node.input![1]!)) viaTextGather = true;
      return;
    }
    const inputs = node.opType === 'MatMul' ? [node.input![0]!] : (node.input ?? []);
    for (const input of inputs) visit(input);
  };
  visit(value);
  return { viaTextGather, reachesFullRows };
}

describe('ShortV graph structure', () => {
  it('frozen layers run Q, O and MLP MatMuls on gathered text rows only; K/V and dense layers on all rows', async () => {
    const { config, weights } = await loadTiny(CONFIGS[1]!);
    const model = emitDecoderGraph(config, weights, { kind: 'shortv', frozenLayers: FROZEN });
    for (let layer = 0; layer < config.text.numLayers; layer++) {
      const frozen = FROZEN.includes(layer);
      for (const projection of ROW_PROJECTIONS) {
        const lineage = rowLineage(model, layer, matmul(model, layer, projection).input![0]!);
        expect({ layer, projection, ...lineage }).toEqual({
          layer,
          projection,
          viaTextGather: frozen,
          reachesFullRows: !frozen,
        });
      }
      for (const projection of ['self_attn/k_proj', 'self_attn/v_proj']) {
        const lineage = rowLineage(model, layer, matmul(model, layer, projection).input![0]!);
        expect({ layer, projection, ...lineage }).toEqual({
          layer,
          projection,
          viaTextGather: false,
          reachesFullRows: true,
        });
      }
    }
  });

  it('at run time those MatMuls see T text rows while K/V see all S rows', async () => {
    const { config, weights } = await loadTiny(CONFIGS[1]!);
    const model = emitDecoderGraph(config, weights, { kind: 'shortv', frozenLayers: FROZEN });
    const probes = new Map<string, string>();
    for (const layer of [0, 1, 2]) {
      for (const projection of [...ROW_PROJECTIONS, 'self_attn/k_proj']) {
        const out = matmul(model, layer, projection).output![0]!;
        probes.set(`${layer}:${projection}`, out);
        model.graph!.output!.push(valueInfo(out, 'float32', null));
      }
    }
    const scene = buildScenario(
      config,
      weights,
      referenceImageFeatures(config, weights, randomPixels(14, 3, config)),
    );
    const session = await openSession(model);
    const out = await session.run({
      inputs_embeds: scene.embeds,
      position_ids: int64(scene.positionIds),
      attention_mask: int64(scene.attentionMask),
      logits_index: int64([[scene.seq - 1], [scene.seq - 1]]),
      text_index: int64(scene.textIndex),
      ...emptyPast(config, 2),
    });
    await session.release();
    const textSlots = scene.textIndex[0]!.length;
    expect(textSlots).toBeLessThan(scene.seq / 4);
    const rows = (key: string) => out[probes.get(key)!]!.dims[1];
    for (const layer of [0, 1, 2]) {
      for (const projection of ROW_PROJECTIONS) {
        expect([layer, projection, rows(`${layer}:${projection}`)]).toEqual([
          layer,
          projection,
          FROZEN.includes(layer) ? textSlots : scene.seq,
        ]);
      }
      expect(rows(`${layer}:self_attn/k_proj`)).toBe(scene.seq);
    }
    console.log(
      `shortv graph: frozen-layer Q/O/MLP MatMuls run on ${textSlots} rows, K/V and dense layers on ${scene.seq}`,
    );
    expect(encodeModel(model).bytes.length).toBeGreaterThan(0);
  });
});
