/**
 * Text tables: columns two spaces apart, padded to the widest cell, some aligned right.
 */

/** The header and the rows as lines; `rightAligned` lists the columns aligned right. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, rightAligned: readonly number[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (rightAligned.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
