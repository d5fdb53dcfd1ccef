/** One line of the chart. */
export interface ChartSeries {
  name: string;
  color: string;
  dashed?: boolean;
  points: Array<{ x: number; y: number }>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Powers of ten (and 2×, 5× steps when the range is short) covering [min, max]. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  const span = Math.log10(max) - Math.log10(min);
  const steps = span < 2.5 ? [1, 2, 5] : [1];
  for (let exponent = Math.floor(Math.log10(min)); exponent <= Math.ceil(Math.log10(max)); exponent++) {
    for (const step of steps) {
      const value = step * 10 ** exponent;
      if (value >= min * 0.999 && value <= max * 1.001) ticks.push(value);
    }
  }
  return ticks;
}

function tickLabel(value: number): string {
  if (value >= 1000) return `${value / 1000}k`;
  if (value < 1) return value.toString();
  return String(Math.round(value));
}

/**
 * A log-log line chart as a standalone SVG document, with no dependency: enough for latency
 * against room size. Points with a non-positive or non-finite value are left out.
 */
export function renderLogLogChart(series: ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const margin = { top: 48, right: 180, bottom: 56, left: 72 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const valid = series.map((line) => ({
    ...line,
    points: line.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.x > 0 && p.y > 0),
  }));
  const xs = valid.flatMap((line) => line.points.map((p) => p.x));
  const ys = valid.flatMap((line) => line.points.map((p) => p.y));
  const xMin = xs.length ? 10 ** Math.floor(Math.log10(Math.min(...xs))) : 1;
  const xMax = xs.length ? 10 ** Math.ceil(Math.log10(Math.max(...xs))) : 10;
  const yMin = ys.length ? 10 ** Math.floor(Math.log10(Math.min(...ys))) : 1;
  const yMax = ys.length ? 10 ** Math.ceil(Math.log10(Math.max(...ys))) : 10;
  const sx = (x: number) =>
    margin.left + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin) || 1)) * plotWidth;
  const sy = (y: number) =>
    margin.top +
    plotHeight -
    ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * plotHeight;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    // The accessible name of the chart, for screen readers and for linters' a11y rules.
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="28" font-size="16" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  for (const tick of logTicks(xMin, xMax)) {
    const x = sx(tick).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotHeight}" stroke="#e5e7eb"/>`,
      `<text x="${x}" y="${margin.top + plotHeight + 18}" text-anchor="middle" fill="#374151">${tickLabel(tick)}</text>`,
    );
  }
  for (const tick of logTicks(yMin, yMax)) {
    const y = sy(tick).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotWidth}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${margin.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#374151">${tickLabel(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#9ca3af"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  valid.forEach((line, index) => {
    if (line.points.length > 0) {
      const path = line.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
      parts.push(
        `<polyline points="${path}" fill="none" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
        ...line.points.map(
          (p) => `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${line.color}"/>`,
        ),
      );
    }
    const ly = margin.top + 12 + index * 20;
    const lx = margin.left + plotWidth + 16;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(line.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
