import type { Scene, SceneObject } from './scene.ts';
import { BACKGROUND_RGB, COLOR_RGB, GRID, SIZE_FRACTION } from './vocabulary.ts';

/**
 * An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC): data.length = width * height * 3.
 * Structurally the same as @shortv/tensor's RgbImage, so scenes go straight into its preprocessing.
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Samples per pixel side: 4 x 4 = 16 coverage levels, plenty for 72 px scenes. */
const SUPERSAMPLE = 4;

/** Half of the object's bounding-box side, in pixels. */
export function objectHalfExtent(object: Pick<SceneObject, 'size'>, imageSize: number): number {
  return (SIZE_FRACTION[object.size] * (imageSize / GRID)) / 2;
}

type Inside = (dx: number, dy: number) => boolean;

/** Point-in-shape tests relative to the centre; r is the half extent. */
function insideTest(object: SceneObject, r: number): Inside {
  switch (object.shape) {
    case 'circle': {
      const r2 = r * r;
      return (dx, dy) => dx * dx + dy * dy <= r2;
    }
    case 'square':
      return (dx, dy) => Math.abs(dx) <= r && Math.abs(dy) <= r;
    case 'diamond':
      return (dx, dy) => Math.abs(dx) + Math.abs(dy) <= r;
    case 'triangle':
      // Apex at the top, base at the bottom; width grows linearly from apex to base.
      return (dx, dy) => dy >= -r && dy <= r && Math.abs(dx) <= (dy + r) / 2;
  }
}

function drawObject(image: RgbImage, object: SceneObject, imageSize: number): void {
  const r = objectHalfExtent(object, imageSize);
  const inside = insideTest(object, r);
  const [fr, fg, fb] = COLOR_RGB[object.color];
  const x0 = Math.max(0, Math.floor(object.cx - r));
  const x1 = Math.min(image.width - 1, Math.ceil(object.cx + r));
  const y0 = Math.max(0, Math.floor(object.cy - r));
  const y1 = Math.min(image.height - 1, Math.ceil(object.cy + r));
  const total = SUPERSAMPLE * SUPERSAMPLE;
  const data = image.data;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        const dy = y + (sy + 0.5) / SUPERSAMPLE - object.cy;
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          if (inside(x + (sx + 0.5) / SUPERSAMPLE - object.cx, dy)) hits++;
        }
      }
      if (hits === 0) continue;
      const p = (y * image.width + x) * 3;
      const miss = total - hits;
      // Objects never share a pixel (one per cell, margins wider than the jitter), so blending
      // against the stored pixel is blending against the background.
      data[p] = Math.round(((data[p] as number) * miss + fr * hits) / total);
      data[p + 1] = Math.round(((data[p + 1] as number) * miss + fg * hits) / total);
      data[p + 2] = Math.round(((data[p + 2] as number) * miss + fb * hits) / total);
    }
  }
}

/** Renders a scene with anti-aliased edges (coverage supersampling); deterministic to the byte. */
export function renderScene(scene: Scene): RgbImage {
  const side = scene.size;
  const data = new Uint8Array(side * side * 3);
  const [br, bg, bb] = BACKGROUND_RGB;
  for (let p = 0; p < data.length; p += 3) {
    data[p] = br;
    data[p + 1] = bg;
    data[p + 2] = bb;
  }
  const image: RgbImage = { width: side, height: side, data };
  for (const object of scene.objects) drawObject(image, object, side);
  return image;
}
