import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../src/chat/shell/render.js';
import { fitTable, wrapText } from '../../../src/chat/shell/table.js';

const table = {
  columns: ['node', 'IP', 'formula port', 'verdict'],
  rows: [
    ['node-21', '192.168.10.21', '41621', 'direct-capable'],
    ['node-23', '192.168.10.23', '41623', 'misconfigured (fix: /router sync)'],
  ],
};
const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

describe('tables in a terminal of a given width', () => {
  it('GIVEN a table that fits THEN it is printed as it is, every column padded to its widest cell', () => {
    const { text, dropped } = fitTable(table, 200);
    expect(dropped).toEqual([]);
    expect(text.split('\n')).toEqual([
      'node     IP             formula port  verdict',
      '-------  -------------  ------------  ---------------------------------',
      'node-21  192.168.10.21  41621         direct-capable',
      'node-23  192.168.10.23  41623         misconfigured (fix: /router sync)',
    ]);
  });

  it('GIVEN a narrower terminal THEN cells wrap at spaces inside their column, rows set apart by a blank line', () => {
    const { text, dropped } = fitTable(table, 60);
    expect(dropped).toEqual([]);
    expect(widest(text)).toBeLessThanOrEqual(60);
    expect(text).toContain('misconfigured (fix:');
    expect(text).toMatch(/\n\s+\/router sync\)/);
    expect(text).toMatch(/direct-capable\n\nnode-23/);
  });

  it('GIVEN a terminal too narrow for every column THEN the columns the table names go first, then from the right, never the first, and the footnote names them', () => {
    const { text, dropped } = fitTable({ ...table, dropOrder: ['formula port'] }, 34);
    expect(dropped).toEqual(['formula port', 'verdict']);
    expect(widest(text)).toBeLessThanOrEqual(34);
    expect(text.split('\n')[0]).toMatch(/^node\s+IP$/);
    expect(renderTable({ ...table, dropOrder: ['formula port'] }, 34)).toContain('(not shown in 34 columns: formula port, verdict; --json has every column)');
  });

  it('GIVEN a word longer than its column THEN it is broken, and a lone ? in a cell gets a legend', () => {
    expect(wrapText('abcdefghij klm', 4)).toEqual(['abcd', 'efgh', 'ij', 'klm']);
    expect(renderTable({ columns: ['node', 'port'], rows: [['node-22', '?']] })).toContain('(? = not known: labgate could not read it)');
    expect(renderTable({ columns: ['node', 'port'], rows: [['node-22', '41622']] })).not.toContain('? =');
  });

  it('GIVEN no width (a pipe) THEN nothing is wrapped or left out', () => {
    expect(fitTable(table).text).toBe(fitTable(table, 1000).text);
  });
});
