import { type DefaultTreeAdapterMap, parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { formatLc, formatPercent, formatRatio, renderHtmlReport } from '../src/index.ts';
import { exampleReport } from './helpers/report.ts';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node);
  if ('childNodes' in node) for (const child of node.childNodes) elements(child, out);
  return out;
}

function attr(el: Element, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name)?.value;
}

function classes(el: Element): string[] {
  return (attr(el, 'class') ?? '').split(/\s+/).filter(Boolean);
}

function text(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterMap['textNode']).value;
  return 'childNodes' in node ? node.childNodes.map(text).join('') : '';
}

describe('renderHtmlReport', () => {
  const report = exampleReport();
  const html = renderHtmlReport(report);
  const all = elements(parse(html));
  const byTag = (tag: string) => all.filter((e) => e.tagName === tag);

  it('is self-contained: no scripts, no external resources', () => {
    expect(html).not.toMatch(/<script/i);
    expect(byTag('script')).toHaveLength(0);
    for (const el of all) {
      for (const a of el.attrs) {
        expect(['src', 'href', 'xlink:href', 'srcset', 'action', 'formaction']).not.toContain(a.name);
        expect(a.value).not.toMatch(/^\s*(https?:|\/\/|javascript:)/i);
        expect(a.name.startsWith('on')).toBe(false);
      }
    }
    for (const tag of ['link', 'img', 'iframe', 'object', 'embed', 'use', 'image', 'foreignObject']) {
      expect(byTag(tag)).toHaveLength(0);
    }
    const css = byTag('style').map(text).join('\n');
    expect(css.length).toBeGreaterThan(0);
    expect(css).not.toMatch(/@import|url\(/i);
  });

  it('has one inline SVG per chart: the LC chart and the cost chart', () => {
    const svgs = byTag('svg');
    expect(svgs.map((s) => classes(s).filter((c) => c.endsWith('-chart')))).toEqual([
      ['lc-chart'],
      ['cost-chart'],
    ]);
  });

  it('draws visual and text LC bars for every layer, taller for larger LC, none for zero', () => {
    const lcSvg = byTag('svg')[0]!;
    const rects = elements(lcSvg).filter((e) => e.tagName === 'rect' && classes(e).includes('bar'));
    for (const kind of ['visual', 'text'] as const) {
      const bars = rects.filter((r) => classes(r).includes(kind));
      expect(bars.map((b) => Number(attr(b, 'data-layer')))).toEqual([...Array(12).keys()]);
      const heights = bars.map((b) => Number(attr(b, 'height')));
      const values = report.lc[kind];
      for (let i = 0; i < 12; i++) {
        for (let j = 0; j < 12; j++) {
          if (values[i]! > values[j]! * 1.5) expect(heights[i]).toBeGreaterThan(heights[j]!);
        }
        // Each bar carries its exact value for hover.
        expect(text(bars[i]!)).toContain(formatLc(values[i]!));
      }
    }
    const zeroBar = rects.find((r) => classes(r).includes('visual') && attr(r, 'data-layer') === '11')!;
    expect(Number(attr(zeroBar, 'height'))).toBe(0);
    expect(elements(lcSvg).filter((e) => classes(e).includes('zero'))).toHaveLength(1);
    // Log axis: a tick per decade from 1e-6 to 1e1.
    const ticks = elements(lcSvg)
      .filter((e) => e.tagName === 'text')
      .map(text)
      .filter((t) => /^1e-?\d+$/.test(t));
    expect(ticks).toEqual(['1e-6', '1e-5', '1e-4', '1e-3', '1e-2', '1e-1', '1e0', '1e1']);
  });

  it('marks exactly the frozen layers in the chart and the LC table', () => {
    const frozen = [...report.plan.frozen].sort((a, b) => a - b);
    const layersWith = (cls: string) =>
      all
        .filter((e) => classes(e).includes(cls))
        .map((e) => Number(attr(e, 'data-layer')))
        .sort((a, b) => a - b);
    expect(layersWith('frozen-mark')).toEqual(frozen);
    expect(layersWith('frozen-band')).toEqual(frozen);
    const lcRows = all.filter((e) => e.tagName === 'tr' && classes(e).includes('frozen'));
    expect(lcRows.map((r) => Number(text(r.childNodes[0]!)))).toEqual(frozen);
  });

  it('shows the accuracy table with dense, ShortV and ablation rows per family', () => {
    const section = all.find((e) => attr(e, 'id') === 'accuracy')!;
    const rows = elements(section)
      .filter((e) => e.tagName === 'tr')
      .map((r) =>
        elements(r)
          .filter((c) => c.tagName === 'td' || c.tagName === 'th')
          .map(text),
      );
    const [head, denseRow, shortvRow, ...rest] = rows;
    expect(head).toEqual([
      'run',
      'overall',
      'color_of_shape (n=20)',
      'count (n=20)',
      'describe (n=20)',
      'exists (n=20)',
      'position (n=20)',
      'relation (n=20)',
    ]);
    const families = ['color_of_shape', 'count', 'describe', 'exists', 'position', 'relation'];
    const pf = report.eval.perFamily!;
    expect(denseRow).toEqual([
      'Dense',
      formatPercent(report.eval.dense.accuracy),
      ...families.map((f) => formatPercent(pf[f]!.dense)),
    ]);
    expect(shortvRow).toEqual([
      'ShortV (7 of 12 layers frozen)',
      formatPercent(report.eval.shortv.accuracy),
      ...families.map((f) => formatPercent(pf[f]!.shortv)),
    ]);
    expect(rest.slice(0, 4).map((r) => r.slice(0, 2))).toEqual(
      report.ablation!.map((a) => [a.label, formatPercent(a.accuracy)]),
    );
    expect(rest[1]![3]).toBe('41.0%');
    expect(rest[1]![2]).toBe('–');
    expect(text(section)).toContain(formatPercent(report.eval.agreement));
    expect(text(section)).toContain(formatRatio(0.7917 / 0.8125));
    // description scores
    expect(rest[5]).toEqual(['Dense', '35.0%', '0.812']);
    expect(rest[6]).toEqual(['ShortV', '30.0%', '0.799']);
  });

  it('shows the FLOPs and prefill-time ratios and the calibration provenance', () => {
    const cost = text(all.find((e) => attr(e, 'id') === 'cost')!);
    for (const value of [0.4713, 0.6712, 0.6796]) expect(cost).toContain(formatRatio(value));
    for (const ms of ['14.52 ms', '9.87 ms', '15.01 ms', '10.20 ms']) expect(cost).toContain(ms);
    const costBars = elements(byTag('svg')[1]!).filter((e) => e.tagName === 'rect');
    expect(costBars).toHaveLength(3);
    const calibration = text(all.find((e) => attr(e, 'id') === 'calibration')!);
    for (const item of [
      'shortv/llava-shapes-tiny',
      'sha256:0123abcd',
      '40',
      '12.3 s',
      'shapes calibration seed 1',
      'shortv 0.1.0',
    ]) {
      expect(calibration).toContain(item);
    }
  });

  it('names the question count of ablation rows measured on fewer questions than the eval', () => {
    const subset = {
      ...report,
      ablation: [
        { label: 'LC-chosen', accuracy: 0.8, samples: 60 },
        { label: 'last 7', accuracy: 0.7, samples: report.eval.samples },
      ],
    };
    const labels = elements(parse(renderHtmlReport(subset)))
      .filter((e) => e.tagName === 'th' || e.tagName === 'td')
      .map(text);
    expect(labels).toContain('LC-chosen (first 60 questions)');
    expect(labels).toContain('last 7');
    expect(labels.some((l) => l.startsWith('last 7 ('))).toBe(false);
  });

  it('escapes text from the report', () => {
    const hostile = {
      ...report,
      model: '<script>alert(1)</script>',
      ablation: [{ label: '<img src=x>', accuracy: 0.5 }],
    };
    const out = renderHtmlReport(hostile);
    expect(out).not.toMatch(/<script|<img/i);
    const parsed = elements(parse(out));
    expect(parsed.filter((e) => e.tagName === 'script' || e.tagName === 'img')).toHaveLength(0);
    expect(text(parsed.find((e) => e.tagName === 'h1')!)).toBe('ShortV report: <script>alert(1)</script>');
  });

  it('falls back to the eval-run prefill ratio without interleaved timing, and refuses a bad report', () => {
    const { timing: _timing, ...noTiming } = report;
    const out = renderHtmlReport(noTiming);
    const costBars = elements(elements(parse(out)).filter((e) => e.tagName === 'svg')[1]!).filter(
      (e) => e.tagName === 'rect',
    );
    expect(costBars).toHaveLength(2);
    expect(out).toContain(formatRatio(9.87 / 14.52));
    expect(() => renderHtmlReport({ ...report, numLayers: 13 })).toThrow(
      expect.objectContaining({ code: 'E_REPORT_LC' }),
    );
    expect(() => renderHtmlReport({ ...report, plan: { frozen: [12], flopsRatio: 0.9 } })).toThrow(
      expect.objectContaining({ code: 'E_REPORT_FROZEN' }),
    );
  });
});
