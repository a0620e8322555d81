import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoProcessor,
  env,
  LlavaForConditionalGeneration,
  RawImage,
  type Tensor,
} from '@huggingface/transformers';
import { modelShapesDir, modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { afterAll, describe, expect, it } from 'vitest';
import { exportModel } from '../src/index.ts';

/**
 * Real-size graphs keep their weights in `onnx/<name>.onnx_data` (a protobuf stops at 2 GB). The same layout,
 * forced on the bundled model, must load in transformers.js through config.json's use_external_data_format.
 */
const golden = JSON.parse(await readFile(modelShapesGoldenPath(), 'utf8')) as {
  samples: { image: string; question: string; greedy_text: string }[];
};
let root: string | undefined;

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('an export with external data', () => {
  it('lists its data files and answers in transformers.js', async () => {
    root = await mkdtemp(join(tmpdir(), 'shortv-tjs-external-'));
    await exportModel({
      modelDir: modelShapesDir(),
      outDir: join(root, 'ext'),
      format: 'transformers.js',
      externalDataAbove: 0,
    });
    const onnx = (await readdir(join(root, 'ext', 'onnx'))).sort();
    expect(onnx).toEqual([
      'decoder_model_merged.onnx',
      'decoder_model_merged.onnx_data',
      'embed_tokens.onnx',
      'embed_tokens.onnx_data',
      'vision_encoder.onnx',
      'vision_encoder.onnx_data',
    ]);
    const config = JSON.parse(await readFile(join(root, 'ext', 'config.json'), 'utf8'));
    expect(config['transformers.js_config'].use_external_data_format).toEqual({
      'vision_encoder.onnx': 1,
      'embed_tokens.onnx': 1,
      'decoder_model_merged.onnx': 1,
    });
    env.allowRemoteModels = false;
    env.localModelPath = root;
    const processor = await AutoProcessor.from_pretrained('ext');
    const model = await LlavaForConditionalGeneration.from_pretrained('ext', {
      session_options: { intraOpNumThreads: 1 },
    });
    try {
      const sample = golden.samples[0]!;
      const prompt = processor.tokenizer!.apply_chat_template([{ role: 'user', content: sample.question }], {
        tokenize: false,
        add_generation_prompt: true,
      }) as string;
      const inputs = await processor(
        await RawImage.read(join(modelShapesPackageDir(), sample.image)),
        prompt,
      );
      const promptLength = (inputs.input_ids as Tensor).dims[1]!;
      const out = (await model.generate({ ...inputs, max_new_tokens: 8, do_sample: false })) as Tensor;
      const ids = Array.from(out.data as BigInt64Array, Number).slice(promptLength);
      expect(processor.tokenizer!.decode(ids, { skip_special_tokens: true })).toBe(sample.greedy_text);
    } finally {
      await model.dispose();
    }
  });
});
