import { describe, expect, it } from 'vitest';
import { MODEL_SHAPES_FILES, modelShapesUrls } from '../src/index.ts';

describe('modelShapesUrls', () => {
  it('puts every model file inside the folder, with or without a trailing slash', () => {
    for (const base of ['https://example.org/assets/model', 'https://example.org/assets/model/']) {
      const urls = modelShapesUrls(base);
      expect(Object.keys(urls)).toEqual([...MODEL_SHAPES_FILES]);
      expect(urls['config.json']).toBe('https://example.org/assets/model/config.json');
      expect(urls['model.safetensors']).toBe('https://example.org/assets/model/model.safetensors');
    }
  });

  it('resolves a relative folder against an origin', () => {
    const urls = modelShapesUrls('/static/shapes', 'http://localhost:5173/app/');
    expect(urls['tokenizer.json']).toBe('http://localhost:5173/static/shapes/tokenizer.json');
  });

  it('accepts a URL object', () => {
    const urls = modelShapesUrls(new URL('file:///srv/model'));
    expect(urls['preprocessor_config.json']).toBe('file:///srv/model/preprocessor_config.json');
  });

  it('rejects a relative folder without an origin', () => {
    expect(() => modelShapesUrls('static/shapes')).toThrow();
  });
});
