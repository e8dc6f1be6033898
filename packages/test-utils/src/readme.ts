import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/**
 * Code blocks of a README, for the test that type-checks and runs every one of them.
 *
 * - A ```ts (or ```typescript) block is an example: it must type-check under the repository's
 *   tsconfig and run to the end (top-level await is fine; import only public package names).
 * - A ```text output block after it (the next fence; prose may come between) is what the example prints: the test compares the
 *   printed lines with it, numbers to a relative 1e-4 (so tfjs' float32 differences pass),
 *   everything else exactly.
 * - `<!-- readme-test: skip (reason) -->` on the line before a ts block exempts it; the reason
 *   is printed by the test.
 */
export interface ReadmeBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  /** Expected output lines, when a ```text output block follows. */
  readonly output?: string;
  /** Why the block is not run, when marked. */
  readonly skip?: string;
}

export function readmeBlocks(file: string): ReadmeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code fence`);
    const lang = open[1]!;
    const body = lines.slice(i + 1, end).join('\n');
    if (lang === 'ts' || lang === 'typescript') {
      const marker = /<!--\s*readme-test:\s*skip\s*\(?(.*?)\)?\s*-->/.exec(lines[i - 1] ?? '');
      let output: string | undefined;
      // The next fence after the block (prose may come between) is its output, if marked so.
      const next = lines.findIndex((l, j) => j > end && l.startsWith('```'));
      if (next >= 0 && /^```text\s+output\s*$/.test(lines[next]!)) {
        const close = lines.findIndex((l, j) => j > next && /^```\s*$/.test(l));
        output = lines.slice(next + 1, close).join('\n');
      }
      blocks.push({ file, line: i + 1, code: body, ...(output !== undefined ? { output } : {}), ...(marker ? { skip: marker[1] || 'marked skip' } : {}) });
    }
    i = end;
  }
  return blocks;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** Compares printed text with an expected output: token by token, numbers to a relative tolerance. */
export function sameOutput(actual: string, expected: string, rtol = 1e-4): string | null {
  const tok = (s: string) => s.trim().split(/[\s,[\]{}()]+/).filter((t) => t !== '');
  const a = tok(actual);
  const e = tok(expected);
  if (a.length !== e.length) return `printed ${a.length} tokens, expected ${e.length}:\n--- printed\n${actual}\n--- expected\n${expected}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (NUMBER.test(x) && NUMBER.test(y)) {
      const nx = Number(x);
      const ny = Number(y);
      if (Math.abs(nx - ny) > rtol * Math.max(Math.abs(ny), 1e-6)) return `token ${i}: printed ${x}, expected ${y}`;
    } else if (x !== y) return `token ${i}: printed '${x}', expected '${y}'`;
  }
  return null;
}

/**
 * For a test file that mirrors a README's examples (`mirror`, usually `new URL(import.meta.url)`):
 * asserts that the README has `blocks` ```ts blocks and that every line of them, trimmed, is a
 * line of the mirror (after `rewrite`); blank lines, imports and the lines `skip` accepts are
 * exempt.
 */
export function expectReadmeMirrored(
  readme: URL,
  mirror: URL,
  blocks: number,
  o: { skip?: (line: string) => boolean; rewrite?: (line: string) => string } = {},
): void {
  const text = readFileSync(readme, 'utf8');
  const here = new Set(readFileSync(mirror, 'utf8').split('\n').map((l) => l.trim()));
  const found = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(found.length).toBe(blocks);
  const name = basename(fileURLToPath(mirror));
  for (const block of found) {
    for (const line of block.split('\n').map((l) => l.trim())) {
      if (line === '' || line.startsWith('import ') || o.skip?.(line)) continue;
      expect(here.has(o.rewrite ? o.rewrite(line) : line), `README line missing from ${name}: ${line}`).toBe(true);
    }
  }
}
