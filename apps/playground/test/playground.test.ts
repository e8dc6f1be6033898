/**
 * The playground in a real browser: Debian's chromium, headless, driven by playwright-core, on
 * the built static site. Runs short meta-training on wasm and on webgl (SwiftShader) and checks
 * the final numbers against the same example run here in Node; checks the theta download, the
 * backend fallback notice, a failed data load, stop / restart and a diverging run; saves
 * screenshots to $LOPT_ARTIFACTS_DIR (default apps/playground/test-artifacts).
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadFashionMnist8x8 } from '@lopt/fashion-mnist-8x8';
import { deserializeTheta, LearnableRMSProp, PerParamMLPLOpt } from '@lopt/learned-optimizers';
import { expectClose } from '@lopt/test-utils';
import { initBackend } from '@lopt/transforms';
import { dispose } from '@lopt/tree';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExample } from '../src/examples/index.js';
import { resolveHyper, type HyperValues, type StepResult } from '../src/examples/types.js';
import { APP_DIR, buildSite, findChromium, launchChromium, serveStatic } from './harness.js';

const CHROMIUM = findChromium();
if (!CHROMIUM) console.log('playground browser tests skipped: no chromium found (apt-get install chromium, or set LOPT_CHROMIUM to a Chromium binary)');
/** Per test: a loaded 2-core CI machine runs other test files beside this one. */
const T = 150_000;
const ARTIFACTS = process.env.LOPT_ARTIFACTS_DIR ?? join(APP_DIR, 'test-artifacts');

/** The same example, key and hyperparameters in Node (wasm): the last step and the theta file. */
async function nodeRun(name: string, steps: number, hyper: HyperValues, seed = 0): Promise<{ last: StepResult; theta: Uint8Array }> {
  const ex = findExample(name);
  const trainer = await ex.create({ seed, hyper: resolveHyper(ex, hyper), env: { loadFashionMnist8x8 } });
  let last: StepResult | undefined;
  for (let i = 0; i < steps; i++) last = trainer.step();
  const theta = trainer.thetaFile();
  trainer.dispose();
  return { last: last!, theta };
}

describe.skipIf(!CHROMIUM)('playground in headless chromium', () => {
  let browser: Browser;
  let site: { url: string; close(): Promise<void> };
  let outDir: string;

  beforeAll(async () => {
    tf.env().set('IS_TEST', true);
    await initBackend('wasm');
    outDir = await mkdtemp(join(tmpdir(), 'lopt-playground-'));
    await mkdir(ARTIFACTS, { recursive: true });
    await buildSite(outDir); // also the browser-clean check: it fails on a Node built-in
    site = await serveStatic(outDir);
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  /** A fresh page; `errors` collects console errors and uncaught exceptions. */
  async function open(query = ''): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    await page.goto(site.url + query);
    await page.waitForSelector('#start:not([disabled])');
    return { page, errors };
  }

  async function configure(page: Page, o: { example: string; backend: string; steps: number; hyper?: Record<string, string> }): Promise<void> {
    await page.selectOption('#example', o.example);
    await page.selectOption('#backend-choice', o.backend);
    await page.fill('#steps', String(o.steps));
    for (const [k, v] of Object.entries(o.hyper ?? {})) {
      const input = page.locator(`#hyper-${k}`);
      if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(v);
      else await input.fill(v);
    }
  }

  /** Presses start and waits for the run to end; returns the state and the summary. */
  async function runToEnd(page: Page): Promise<{ state: string; summary: Record<string, unknown> }> {
    await page.click('#start');
    await page.waitForFunction(() => ['finished', 'stopped', 'diverged', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 120_000 });
    return { state: (await page.getAttribute('body', 'data-state'))!, summary: JSON.parse((await page.textContent('#summary'))!) };
  }

  const expectSame = (summary: Record<string, unknown>, node: StepResult, keys: string[], rtol: number) =>
    expectClose(
      keys.map((k) => summary[k] as number),
      keys.map((k) => (k === 'metaLoss' ? node.metaLoss : node.scalars[k]!)),
      rtol,
      1e-6,
    );

  it('meta-lr on wasm: the final numbers and the downloaded theta equal the Node run', async () => {
    const { page, errors } = await open();
    expect(await page.textContent('#backend')).toBe('not started');
    await configure(page, { example: 'meta-lr', backend: 'wasm', steps: 20 });
    const { state, summary } = await runToEnd(page);
    expect(state).toBe('finished');
    expect(await page.textContent('#backend')).toBe('wasm');
    expect(await page.isHidden('#notice')).toBe(true);
    expect(summary.steps).toBe(20);
    const node = await nodeRun('meta-lr', 20, {});
    expectSame(summary, node.last, ['metaLoss', 'learningRate', 'theta', 'logitLr'], 1e-5);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('meta-lr-learnable-rmsprop.safetensors');
    const bytes = new Uint8Array(await readFile((await download.path())!));
    const lopt = new LearnableRMSProp({ initialLr: 0.1, lrSpace: 'logit', learn: ['lr'] });
    const fromBrowser = deserializeTheta(lopt, bytes);
    const fromNode = deserializeTheta(lopt, node.theta);
    expectClose(fromBrowser.logit_lr as tf.Tensor, fromNode.logit_lr as tf.Tensor, 1e-5);
    dispose([fromBrowser, fromNode]);
    await page.screenshot({ path: join(ARTIFACTS, 'meta-lr-wasm.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, T);

  it('meta-lr on webgl (SwiftShader): the final numbers equal the Node run within float32 tolerance', async () => {
    const { page, errors } = await open();
    await configure(page, { example: 'meta-lr', backend: 'webgl', steps: 20 });
    const { state, summary } = await runToEnd(page);
    expect(state).toBe('finished');
    expect(await page.textContent('#backend')).toBe('webgl');
    const node = await nodeRun('meta-lr', 20, {});
    expectSame(summary, node.last, ['metaLoss', 'learningRate', 'theta', 'logitLr'], 2e-4);
    await page.screenshot({ path: join(ARTIFACTS, 'meta-lr-webgl.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, T);

  it('lopt-fmnist on wasm: loads the bundled data from the site; meta-loss, inner curve and theta equal the Node run', async () => {
    const { page, errors } = await open();
    const hyper = { unroll: '3', batchSize: '32' };
    await configure(page, { example: 'lopt-fmnist', backend: 'wasm', steps: 3, hyper });
    const { state, summary } = await runToEnd(page);
    expect(state).toBe('finished');
    const node = await nodeRun('lopt-fmnist', 3, { unroll: 3, batchSize: 32 });
    expectClose([summary.metaLoss as number], [node.last.metaLoss], 1e-5);
    expectClose(summary.inner as number[], [...node.last.inner!], 1e-5);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const lopt = new PerParamMLPLOpt();
    const a = deserializeTheta(lopt, new Uint8Array(await readFile((await download.path())!)));
    const b = deserializeTheta(lopt, node.theta);
    for (const k of ['w0', 'b0', 'w1', 'b1'] as const) expectClose(a[k], b[k], 1e-5, 1e-7);
    dispose([a, b]);
    await page.screenshot({ path: join(ARTIFACTS, 'lopt-fmnist-wasm.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, T);

  it('lopt-fmnist on webgl (SwiftShader): meta-loss and inner curve equal the Node run within float32 tolerance', async () => {
    const { page, errors } = await open();
    await configure(page, { example: 'lopt-fmnist', backend: 'webgl', steps: 2, hyper: { unroll: '2', batchSize: '16' } });
    const { state, summary } = await runToEnd(page);
    expect(state).toBe('finished');
    expect(await page.textContent('#backend')).toBe('webgl');
    const node = await nodeRun('lopt-fmnist', 2, { unroll: 2, batchSize: 16 });
    expectClose([summary.metaLoss as number, ...(summary.inner as number[])], [node.last.metaLoss, ...node.last.inner!], 1e-4);
    expect(errors).toEqual([]);
    await page.close();
  }, T);

  it('lstm-quadratic and maml-sinusoid on wasm: the meta-loss and inner curve equal the Node run', async () => {
    const { page, errors } = await open();
    const runs: Array<[string, number, Record<string, string>, HyperValues]> = [
      ['lstm-quadratic', 1, { unrolls: '2', unroll: '3' }, { unrolls: 2, unroll: 3 }],
      ['maml-sinusoid', 2, { tasks: '2' }, { tasks: 2 }],
    ];
    for (const [example, steps, inPage, inNode] of runs) {
      await configure(page, { example, backend: 'wasm', steps, hyper: inPage });
      const { state, summary } = await runToEnd(page);
      expect(state).toBe('finished');
      const node = await nodeRun(example, steps, inNode);
      expectClose([summary.metaLoss as number], [node.last.metaLoss], 1e-5);
      if (node.last.inner) expectClose(summary.inner as number[], [...node.last.inner], 1e-5);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'maml-sinusoid-wasm.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, T);

  it('webgpu: runs on it where the browser has an adapter, else falls back to webgl with a visible notice', async () => {
    const { page, errors } = await open('?example=meta-lr&backend=webgpu&steps=2');
    const hasAdapter = await page.evaluate(async () => {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return gpu !== undefined && (await gpu.requestAdapter()) != null;
    });
    const { state } = await runToEnd(page);
    expect(state).toBe('finished');
    if (hasAdapter) {
      expect(await page.textContent('#backend')).toBe('webgpu');
    } else {
      expect(await page.textContent('#backend')).toBe('webgl');
      expect(await page.isVisible('#notice')).toBe(true);
      expect(await page.textContent('#notice')).toMatch(/^webgpu is not available: .+\. Running on webgl instead\.$/);
    }
    expect(errors).toEqual([]);
    await page.close();
  }, T);

  it('a failed data load says what failed and where, and the page stays usable', async () => {
    const { page, errors } = await open('?example=lopt-fmnist&backend=wasm&steps=2&unroll=2&batchSize=8');
    await page.route('**/data/train-8x8.bin.gz', (r) => r.fulfill({ status: 404, body: 'not here' }));
    let { state } = await runToEnd(page);
    expect(state).toBe('error');
    const where = `${site.url}data/`;
    expect(await page.textContent('#error')).toBe(
      `Could not load the Fashion-MNIST 8×8 training split from ${where}: @lopt/fashion-mnist-8x8: fetching ${where}train-8x8.bin.gz failed: HTTP 404 Not Found`,
    );
    expect(await page.isEnabled('#start')).toBe(true);
    expect(errors.every((e) => /Failed to load resource.*404/.test(e))).toBe(true);

    await page.unroute('**/data/train-8x8.bin.gz');
    await page.route('**/data/test-8x8.bin.gz', (r) => r.fulfill({ status: 200, body: 'this is not gzip' }));
    ({ state } = await runToEnd(page));
    expect(state).toBe('error');
    expect(await page.textContent('#error')).toMatch(new RegExp(`^Could not load the Fashion-MNIST 8×8 test split from ${where}: @lopt/fashion-mnist-8x8: ${where}test-8x8.bin.gz is not valid gzip data`));
    await page.close();
  }, T);

  it('stop, change a hyperparameter, start again: a diverging run ends as a stopped run that says why', async () => {
    const { page, errors } = await open();
    await configure(page, { example: 'meta-lr', backend: 'wasm', steps: 1_000_000 });
    await page.click('#start');
    await page.waitForFunction(() => Number(JSON.parse(document.getElementById('summary')!.textContent!).step ?? 0) >= 5, null, { timeout: 60_000 });
    await page.click('#stop');
    await page.waitForFunction(() => document.body.dataset.state === 'stopped', null, { timeout: 30_000 });
    expect(await page.textContent('#status')).toMatch(/^Stopped after \d+ steps\.$/);
    expect(await page.isEnabled('#download')).toBe(true);

    // Adam's first step of 1e39 overflows float32: η becomes Infinity.
    await configure(page, { example: 'meta-lr', backend: 'wasm', steps: 50, hyper: { metaLr: '1e39' } });
    const { state, summary } = await runToEnd(page);
    expect(state).toBe('diverged');
    expect(summary.steps).toBe(1);
    expect(summary.logitLr).toBe('Infinity');
    expect(await page.textContent('#status')).toBe('diverged: stopped at step 1');
    expect(await page.textContent('#error')).toBe('The run diverged: theta.logit_lr is Infinity at step 1. Stopped; try a smaller meta learning rate.');
    expect(await page.isEnabled('#start')).toBe(true);
    expect(await page.isEnabled('#download')).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'meta-lr-diverged.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, T);
});
