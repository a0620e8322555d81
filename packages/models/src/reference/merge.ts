import { ShortvError, Tensor } from '@shortv/tensor';

export interface MergedSequence {
  /** [N, d] decoder input rows, N = S + images * (n_v - 1). */
  readonly embeds: Tensor<'float32'>;
  /** For each of the N rows: true where the row is an image feature. */
  readonly visual: readonly boolean[];
  /** Row indices of text rows, ascending (what a ShortV layer's `text_index` lists). */
  readonly textIndex: readonly number[];
}

/** Positions of the image placeholder token in a token id sequence, ascending. */
export function findImageTokens(ids: readonly number[], imageTokenIndex: number): number[] {
  const out: number[] = [];
  ids.forEach((id, i) => {
    if (id === imageTokenIndex) out.push(i);
  });
  return out;
}

/**
 * Expands each `<image>` token row into that image's n_v feature rows, in order: the k-th listed position
 * (ascending) takes image k. Text rows are copied unchanged; every other row shifts by (n_v - 1) per image
 * before it. Positions are row indices of `tokenEmbeds` [S, d]; `imageFeatures` is [images, n_v, d]. The
 * merged rows take consecutive position ids 0..N-1 (LLaVA gives visual rows ordinary positions).
 */
export function mergeImageFeatures(
  tokenEmbeds: Tensor<'float32'>,
  imageFeatures: Tensor<'float32'>,
  imageTokenPositions: readonly number[],
): MergedSequence {
  const [seq, d] = tokenEmbeds.dims as [number, number];
  const [images, nv, fd] = imageFeatures.dims as [number, number, number];
  if (tokenEmbeds.rank !== 2 || imageFeatures.rank !== 3 || fd !== d) {
    throw new ShortvError(
      'E_MODEL_INPUT',
      `mergeImageFeatures needs token rows [S, d] and features [images, n_v, d]; got [${tokenEmbeds.dims}] and [${imageFeatures.dims}]`,
    );
  }
  if (imageTokenPositions.length !== images) {
    throw new ShortvError(
      'E_MODEL_INPUT',
      `the prompt has ${imageTokenPositions.length} <image> tokens but ${images} images were given; they must match`,
    );
  }
  imageTokenPositions.forEach((p, k) => {
    const prev = k === 0 ? -1 : imageTokenPositions[k - 1]!;
    if (!Number.isInteger(p) || p <= prev || p >= seq) {
      throw new ShortvError(
        'E_MODEL_INPUT',
        `image token positions must be ascending rows in [0, ${seq}); got ${imageTokenPositions.join(', ')}`,
      );
    }
  });
  const total = seq + images * (nv - 1);
  const out = new Float32Array(total * d);
  const visual: boolean[] = [];
  const textIndex: number[] = [];
  let row = 0;
  let image = 0;
  for (let s = 0; s < seq; s++) {
    if (image < images && imageTokenPositions[image] === s) {
      out.set(imageFeatures.data.subarray(image * nv * d, (image + 1) * nv * d), row * d);
      for (let k = 0; k < nv; k++) visual.push(true);
      row += nv;
      image++;
    } else {
      out.set(tokenEmbeds.data.subarray(s * d, (s + 1) * d), row * d);
      visual.push(false);
      textIndex.push(row);
      row++;
    }
  }
  return { embeds: new Tensor('float32', out, [total, d]), visual, textIndex };
}
