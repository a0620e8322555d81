import type { PlaygroundSample } from '../sample-index.ts';
import { drawScene, pngBlob } from '../scenes.ts';
import type { Store } from '../store.ts';
import { setQuestion } from './compare.ts';
import { h } from './dom.ts';

/** Choose the image: a golden sample, an uploaded file, or a random shapes scene drawn in the page. */
export function imagePickerSection(
  store: Store,
  base: string,
  samples: readonly PlaygroundSample[],
): HTMLElement {
  const preview = h('img', {
    class: 'preview',
    alt: 'the image the question is about',
    'data-testid': 'preview',
  });
  const label = h('p', { class: 'image-label', 'data-testid': 'image-label' }, 'No image yet');
  const seed = h('input', { type: 'number', min: 0, value: 1, 'data-testid': 'scene-seed' });
  const upload = h('input', { type: 'file', accept: 'image/*', 'data-testid': 'image-upload' });
  let previewUrl: string | undefined;

  function choose(blob: Blob, text: string): void {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(blob);
    preview.src = previewUrl;
    label.textContent = text;
    store.update({ image: { blob, label: text } });
  }

  const sampleButtons = samples.map((sample) => {
    const button = h(
      'button',
      { type: 'button', class: 'sample', 'data-testid': `sample-${sample.id}`, title: sample.question },
      h('img', { src: `${base}samples/${sample.image}`, alt: sample.id, width: 64, height: 64 }),
    );
    button.addEventListener('click', async () => {
      const response = await fetch(`${base}samples/${sample.image}`);
      choose(
        await response.blob(),
        `sample ${sample.id} (${sample.family}; expected "${sample.expectedAnswer}")`,
      );
      setQuestion(sample.question);
    });
    return button;
  });

  const draw = h('button', { type: 'button', 'data-testid': 'scene-draw' }, 'Draw a random scene');
  draw.addEventListener('click', () => {
    const scene = drawScene(Math.max(0, Math.floor(Number(seed.value) || 0)));
    choose(pngBlob(scene.png), `shapes scene ${scene.id}`);
    const question = scene.questions.find((q) => q.family !== 'describe') ?? scene.questions[0];
    if (question) setQuestion(question.question);
    seed.value = String(Number(seed.value) + 1);
  });
  upload.addEventListener('change', () => {
    const file = upload.files?.[0];
    if (file) choose(file, `uploaded ${file.name}`);
  });

  return h(
    'section',
    { id: 'image' },
    h('h2', {}, 'Image'),
    h('div', { class: 'samples' }, ...sampleButtons),
    h('div', { class: 'row' }, draw, h('label', {}, 'seed ', seed), h('label', {}, 'or upload ', upload)),
    h('div', { class: 'row' }, preview, label),
  );
}
