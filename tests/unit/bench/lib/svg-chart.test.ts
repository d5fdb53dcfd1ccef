import { describe, expect, it } from 'vitest';
import { renderLogLogChart } from '../../../../bench/lib/svg-chart.js';

describe('renderLogLogChart', () => {
  const svg = renderLogLogChart(
    [
      {
        name: 'ours <p50>',
        color: '#2563eb',
        points: [
          { x: 1, y: 20 },
          { x: 1000, y: 900 },
        ],
      },
      {
        name: 'baseline',
        color: '#dc2626',
        dashed: true,
        points: [
          { x: 1, y: 0.2 },
          { x: 10, y: 0 },
        ],
      },
    ],
    { title: 'Latency & size', xLabel: 'members', yLabel: 'ms' },
  );

  it('is a standalone SVG document with escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Latency &amp; size');
    expect(svg).toContain('ours &lt;p50&gt;');
  });

  it('draws one line per series and leaves out points a log axis cannot show', () => {
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    // Three plottable points: the baseline's y = 0 is dropped.
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('stroke-dasharray="6 4"');
  });

  it('labels decades on both axes', () => {
    expect(svg).toContain('>1k<');
    expect(svg).toContain('>0.1<');
  });
});
