import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readmeBlocks, sameOutput, type ReadmeBlock } from '../src/readme.js';

/**
 * Every ```ts block of every README (the root, packages/*, apps/*) is type-checked under the
 * repository's tsconfig and run, and what it prints is compared with the ```text output block
 * that follows it, if any (see src/readme.ts for the conventions).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'lopt-readme');
const readmes = [
  join(ROOT, 'README.md'),
  ...['packages', 'apps'].flatMap((d) =>
    readdirSync(join(ROOT, d))
      .map((p) => join(ROOT, d, p, 'README.md'))
      .filter(existsSync),
  ),
];
const blocks = readmes.flatMap(readmeBlocks);
const fileOf = (b: ReadmeBlock) => join(CACHE, `${b.file.slice(ROOT.length).replace(/[/.]/g, '_')}_L${b.line}.ts`);
const rel = (b: ReadmeBlock) => `${b.file.slice(ROOT.length)}:${b.line}`;

let typeErrors = '';
beforeAll(async () => {
  rmSync(CACHE, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  for (const b of blocks) if (b.skip === undefined) writeFileSync(fileOf(b), `${b.code}\nexport {};\n`);
  writeFileSync(
    join(CACHE, 'tsconfig.json'),
    JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: ROOT }, include: [join(CACHE, '*.ts')] }),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  typeErrors = await new Promise<string>((resolve) =>
    execFile(process.execPath, [tsc, '-p', join(CACHE, 'tsconfig.json'), '--pretty', 'false'], { cwd: ROOT, maxBuffer: 16 << 20 }, (_err, stdout) => resolve(stdout)),
  );
}, 180_000);

it('there are README examples to check', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(8);
});

describe.each(readmes.map((f) => f.slice(ROOT.length)))('%s', (readme) => {
  const mine = blocks.filter((b) => b.file.slice(ROOT.length) === readme);
  for (const b of mine) if (b.skip !== undefined) console.log(`[readme] ${rel(b)} not run: ${b.skip}`);
  it.skipIf(mine.every((b) => b.skip !== undefined))('examples type-check', () => {
    const errs = typeErrors
      .split('\n')
      .filter((l) => mine.some((b) => l.includes(fileOf(b).slice(ROOT.length))))
      .map((l) => {
        const b = mine.find((x) => l.includes(fileOf(x).slice(ROOT.length)))!;
        // Report README lines, not cache-file lines.
        return l.replace(/^.*?\((\d+),(\d+)\)/, (_m, ln: string, col: string) => `${readme}:${b.line + Number(ln)}:${col}`);
      });
    expect(errs, errs.join('\n')).toEqual([]);
  });
  for (const b of mine) {
    it.skipIf(b.skip !== undefined)(`example at line ${b.line} runs${b.output !== undefined ? ' and prints what the README says' : ''}`, async () => {
      const printed: string[] = [];
      const log = console.log;
      console.log = (...args: unknown[]) => printed.push(format(...args));
      try {
        await import(/* @vite-ignore */ `${pathToFileURL(fileOf(b)).href}?t=${Date.now()}`);
      } finally {
        console.log = log;
      }
      if (b.output !== undefined) {
        const diff = sameOutput(printed.join('\n'), b.output);
        expect(diff, `${rel(b)}: ${diff}`).toBeNull();
      }
    }, 120_000);
  }
});
