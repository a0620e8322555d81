import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintText, modelFingerprint } from '../src/index.ts';

const config = {
  architectures: ['LlavaForConditionalGeneration'],
  model_type: 'llava',
  text_config: { hidden_size: 256, num_hidden_layers: 12, rope_theta: 10000.0 },
  image_token_index: 32000,
};
const tensors = [
  { name: 'language_model.model.layers.0.self_attn.q_proj.weight', dtype: 'F16', shape: [256, 256] },
  { name: 'language_model.lm_head.weight', dtype: 'F16', shape: [32064, 256] },
  { name: 'multi_modal_projector.linear_1.bias', dtype: 'F32', shape: [256] },
];

describe('modelFingerprint', () => {
  it('is "sha256:" plus the SHA-256 of the canonical text', async () => {
    const input = { config, tensors };
    const expected = createHash('sha256').update(fingerprintText(input), 'utf8').digest('hex');
    expect(await modelFingerprint(input)).toBe(`sha256:${expected}`);
  });

  it('serialises with sorted keys and tensors sorted by name', () => {
    const text = fingerprintText({
      config: { b: 1, a: { d: [1, 'x', null], c: true } },
      tensors: [
        { name: 'w2', dtype: 'F32', shape: [2] },
        { name: 'w1', dtype: 'F16', shape: [3, 4] },
      ],
    });
    expect(text).toBe(
      '{"config":{"a":{"c":true,"d":[1,"x",null]},"b":1},"tensors":[{"dtype":"F16","name":"w1","shape":[3,4]},{"dtype":"F32","name":"w2","shape":[2]}]}',
    );
  });

  it('does not depend on key order or tensor order', async () => {
    const reordered = {
      config: Object.fromEntries(Object.entries(config).reverse()),
      tensors: [...tensors].reverse(),
    };
    expect(await modelFingerprint(reordered)).toBe(await modelFingerprint({ config, tensors }));
  });

  it('ignores bookkeeping that changes when the same weights are re-saved', async () => {
    const resaved = {
      ...config,
      transformers_version: '4.99.0',
      _name_or_path: '/home/someone/llava',
      text_config: { ...config.text_config, _name_or_path: 'lmsys/vicuna-7b-v1.5' },
    };
    expect(await modelFingerprint({ config: resaved, tensors })).toBe(
      await modelFingerprint({ config, tensors }),
    );
  });

  it('changes with the config, a tensor shape, a tensor dtype or a missing tensor', async () => {
    const base = await modelFingerprint({ config, tensors });
    const variants = [
      { config: { ...config, text_config: { ...config.text_config, num_hidden_layers: 13 } }, tensors },
      { config, tensors: tensors.map((t, i) => (i === 0 ? { ...t, shape: [256, 128] } : t)) },
      { config, tensors: tensors.map((t, i) => (i === 0 ? { ...t, dtype: 'BF16' } : t)) },
      { config, tensors: tensors.slice(1) },
    ];
    const prints = await Promise.all(variants.map((variant) => modelFingerprint(variant)));
    expect(new Set([base, ...prints]).size).toBe(variants.length + 1);
  });

  it('refuses values that are not JSON and duplicate tensor names', () => {
    expect(() => fingerprintText({ config: { rope_theta: Number.NaN }, tensors: [] })).toThrow(
      expect.objectContaining({
        code: 'E_FINGERPRINT_INPUT',
        message: expect.stringContaining('$.config.rope_theta'),
      }),
    );
    expect(() =>
      fingerprintText({
        config,
        tensors: [tensors[0]!, { ...tensors[0]!, dtype: 'F32' }],
      }),
    ).toThrow(
      expect.objectContaining({ code: 'E_FINGERPRINT_INPUT', message: expect.stringContaining('twice') }),
    );
    expect(() => fingerprintText({ config, tensors: [{ name: 'w', dtype: 'F32', shape: [-1] }] })).toThrow(
      expect.objectContaining({ code: 'E_FINGERPRINT_INPUT' }),
    );
  });
});
