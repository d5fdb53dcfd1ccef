import { describe, expect, it } from 'vitest';
import {
  GENERATED_END,
  GENERATED_START,
  LOAD_END,
  LOAD_START,
  replaceGeneratedPart,
  replaceSection,
} from '../../../../bench/lib/report.js';

describe('replaceSection', () => {
  it('replaces only the marked section and keeps the rest of the document', () => {
    const document = `# Benchmarks\n\nintro\n\n${LOAD_START}\nold load\n${LOAD_END}\n\n## Findings\nhand-written\n`;
    const updated = replaceSection(document, LOAD_START, LOAD_END, 'new load');
    expect(updated).toContain(`${LOAD_START}\nnew load\n${LOAD_END}`);
    expect(updated).not.toContain('old load');
    expect(updated).toContain('## Findings\nhand-written');
    expect(updated.startsWith('# Benchmarks\n\nintro')).toBe(true);
  });

  it('appends the section when the document has no markers yet', () => {
    const updated = replaceSection('# Benchmarks\n', LOAD_START, LOAD_END, 'first load');
    expect(updated).toBe(`# Benchmarks\n\n${LOAD_START}\nfirst load\n${LOAD_END}\n`);
  });
});

describe('replaceGeneratedPart', () => {
  it('starts a new document with a title', () => {
    const document = replaceGeneratedPart('', 'numbers');
    expect(document.startsWith('# Benchmarks\n')).toBe(true);
    expect(document).toContain(`${GENERATED_START}\nnumbers\n${GENERATED_END}`);
  });

  it('keeps the load section when the bench section is rewritten', () => {
    const first = replaceSection(replaceGeneratedPart('', 'bench 1'), LOAD_START, LOAD_END, 'load 1');
    const second = replaceGeneratedPart(first, 'bench 2');
    expect(second).toContain('bench 2');
    expect(second).not.toContain('bench 1');
    expect(second).toContain('load 1');
  });
});
