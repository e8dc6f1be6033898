/// <reference lib="dom" />
/// <reference types="vite/client" />
/** The page: controls, live charts, and the worker that trains. */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { drawChart, type Series } from './chart.js';
import { EXAMPLES, findExample } from './examples/index.js';
import type { PlaygroundExample, StepResult } from './examples/types.js';
import { BACKEND_CHOICES, type BackendChoice, type FromWorker, type ToWorker } from './protocol.js';

const WASM_PATHS = {
  'tfjs-backend-wasm.wasm': new URL(wasmPlain, document.baseURI).href,
  'tfjs-backend-wasm-simd.wasm': new URL(wasmSimd, document.baseURI).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreaded, document.baseURI).href,
};
const DATA_URL = new URL('data/', document.baseURI).href;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = {
  example: $<HTMLSelectElement>('example'),
  about: $<HTMLParagraphElement>('example-about'),
  backendChoice: $<HTMLSelectElement>('backend-choice'),
  steps: $<HTMLInputElement>('steps'),
  seed: $<HTMLInputElement>('seed'),
  hyper: $<HTMLFieldSetElement>('hyper'),
  form: $<HTMLFormElement>('controls'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  download: $<HTMLButtonElement>('download'),
  status: $<HTMLParagraphElement>('status'),
  backend: $<HTMLElement>('backend'),
  notice: $<HTMLDivElement>('notice'),
  error: $<HTMLDivElement>('error'),
  summary: $<HTMLPreElement>('summary'),
  metaChart: $<HTMLCanvasElement>('meta-chart'),
  innerChart: $<HTMLCanvasElement>('inner-chart'),
};

interface RunState {
  example: PlaygroundExample;
  worker: Worker;
  results: StepResult[];
  /** Inner-training curves kept for the chart: [step, losses]. */
  unrolls: Array<[number, readonly number[]]>;
  done: boolean;
  stopTimer?: ReturnType<typeof setTimeout>;
}
let run: RunState | undefined;
let theta: { bytes: Uint8Array; name: string } | undefined;
let drawQueued = false;

function show(box: HTMLElement, text: string | undefined): void {
  box.hidden = !text;
  box.textContent = text ?? '';
}

/** JSON with NaN and ±Infinity spelled out (JSON.stringify would print null). */
function showJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x), 2);
}

function setStatus(text: string, cls = ''): void {
  el.status.textContent = text;
  el.status.className = `status ${cls}`;
}

function renderHyper(ex: PlaygroundExample, preset: URLSearchParams): void {
  el.hyper.replaceChildren(Object.assign(document.createElement('legend'), { textContent: 'hyperparameters' }));
  for (const h of ex.hyperparams) {
    const label = document.createElement('label');
    label.textContent = h.label;
    let input: HTMLInputElement | HTMLSelectElement;
    if (h.choices) {
      input = document.createElement('select');
      for (const c of h.choices) input.append(new Option(c, c));
    } else {
      input = Object.assign(document.createElement('input'), { type: 'text', inputMode: 'decimal' });
    }
    input.id = `hyper-${h.key}`;
    input.name = h.key;
    input.value = preset.get(h.key) ?? String(h.default);
    label.append(input);
    el.hyper.append(label);
  }
}

function selectExample(name: string, preset = new URLSearchParams()): void {
  const ex = findExample(name);
  el.example.value = ex.name;
  el.about.textContent = `${ex.description} (after ${ex.source})`;
  el.steps.value = preset.get('steps') ?? String(ex.defaultSteps);
  el.seed.value = preset.get('seed') ?? String(ex.defaultSeed);
  renderHyper(ex, preset);
}

function readHyper(ex: PlaygroundExample): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const h of ex.hyperparams) {
    const v = ($<HTMLInputElement>(`hyper-${h.key}`)).value;
    out[h.key] = h.choices ? v : v.trim() === '' ? '' : Number(v);
  }
  return out;
}

function queueDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

function draw(): void {
  const r = run;
  const results = r?.results ?? [];
  drawChart(el.metaChart, {
    title: 'meta-loss (outer loss per outer step)',
    xLabel: 'outer step',
    yLabel: 'meta-loss',
    logY: true,
    series: [{ name: 'meta-loss', color: COLORS[0]!, y: results.map((s) => s.metaLoss) }],
  });
  const ic = r?.example.innerChart;
  let series: Series[] = [];
  let spec = { title: 'inner training', xLabel: 'outer step', yLabel: 'value', logY: false };
  if (ic?.kind === 'scalars') {
    series = ic.keys.map((k, i) => ({ name: k, color: COLORS[(i + 1) % COLORS.length]!, y: results.map((s) => s.scalars[k] ?? NaN) }));
    spec = { title: 'inner training (after each outer step)', xLabel: 'outer step', yLabel: 'value', logY: ic.logY ?? false };
  } else if (ic?.kind === 'unroll' && r) {
    const n = r.unrolls.length;
    series = r.unrolls.map(([step, losses], i) => ({
      name: i === n - 1 ? `step ${step}` : i === 0 ? `step ${step}` : '',
      color: `hsl(215, 70%, ${78 - (50 * (i + 1)) / n}%)`,
      y: losses,
      width: i === n - 1 ? 2.5 : 1,
    }));
    spec = { title: 'inner training: each unroll with the current meta-parameters', xLabel: ic.xLabel ?? 'inner step', yLabel: ic.label, logY: false };
  }
  drawChart(el.innerChart, { ...spec, series });
}

function onSteps(r: RunState, from: number, results: readonly StepResult[]): void {
  const every = Math.max(1, Math.floor(Number(el.steps.value) / 10));
  results.forEach((s, i) => {
    r.results.push(s);
    const step = from + i;
    if (s.inner && (step % every === 0 || i === results.length - 1)) {
      // Keep one curve every `every` steps, plus the newest one.
      const last = r.unrolls.at(-1);
      if (last && last[0] % every !== 0) r.unrolls.pop();
      r.unrolls.push([step, s.inner]);
      if (r.unrolls.length > 12) r.unrolls.splice(0, r.unrolls.length - 12);
    }
  });
  const last = r.results.at(-1)!;
  el.summary.textContent = showJson({ step: r.results.length, metaLoss: last.metaLoss, ...last.scalars });
  setStatus(`training… step ${r.results.length} / ${el.steps.value}`);
  queueDraw();
}

function finish(r: RunState, status: string, cls: string, summary?: Record<string, unknown>): void {
  r.done = true;
  clearTimeout(r.stopTimer);
  r.worker.terminate();
  el.start.disabled = false;
  el.stop.disabled = true;
  el.download.disabled = theta === undefined;
  setStatus(status, cls);
  if (summary) el.summary.textContent = showJson(summary);
  document.body.dataset.state = cls; // 'finished' | 'stopped' | 'diverged' | 'error'
  queueDraw();
}

function onMessage(r: RunState, m: FromWorker): void {
  if (r !== run || r.done) return;
  switch (m.type) {
    case 'backend':
      el.backend.textContent = m.backend;
      show(el.notice, m.notice);
      break;
    case 'status':
      setStatus(m.text);
      break;
    case 'steps':
      onSteps(r, m.from, m.results);
      break;
    case 'done': {
      if (m.theta) theta = { bytes: m.theta, name: r.example.thetaFileName };
      const summary = {
        example: r.example.name,
        backend: m.backend,
        reason: m.reason,
        steps: m.steps,
        msPerStep: Number(m.msPerStep.toFixed(2)),
        ...(m.final && { metaLoss: m.final.metaLoss, ...m.final.scalars, ...(m.final.inner && { inner: m.final.inner }) }),
        ...(m.theta && { thetaBytes: m.theta.length }),
      };
      if (m.reason === 'diverged') show(el.error, m.message);
      finish(r, m.reason === 'diverged' ? `diverged: stopped at step ${m.steps}` : m.message, m.reason, summary);
      break;
    }
    case 'error':
      show(el.error, m.message);
      finish(r, 'failed', 'error');
      break;
  }
}

function start(): void {
  show(el.error, undefined);
  const ex = findExample(el.example.value);
  const steps = Number(el.steps.value);
  const seed = Number(el.seed.value);
  if (!Number.isInteger(steps) || steps < 1) return show(el.error, `outer steps: must be a positive integer, got '${el.steps.value}'`);
  if (!Number.isInteger(seed) || seed < 0) return show(el.error, `seed: must be a non-negative integer, got '${el.seed.value}'`);
  if (run && !run.done) run.worker.terminate();
  theta = undefined;
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'lopt-trainer' });
  const r: RunState = { example: ex, worker, results: [], unrolls: [], done: false };
  run = r;
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onMessage(r, ev.data);
  worker.onerror = (ev) => {
    ev.preventDefault();
    show(el.error, `The training worker failed: ${ev.message || 'it could not be loaded'}`);
    finish(r, 'failed', 'error');
  };
  const msg: ToWorker = {
    type: 'start',
    example: ex.name,
    backend: el.backendChoice.value as BackendChoice,
    steps,
    seed,
    hyper: readHyper(ex),
    dataUrl: DATA_URL,
    wasmPaths: WASM_PATHS,
  };
  worker.postMessage(msg);
  el.start.disabled = true;
  el.stop.disabled = false;
  el.download.disabled = true;
  el.summary.textContent = '{}';
  el.backend.textContent = 'starting…';
  show(el.notice, undefined);
  document.body.dataset.state = 'running';
  setStatus('starting…');
  queueDraw();
}

function stop(): void {
  const r = run;
  if (!r || r.done) return;
  r.worker.postMessage({ type: 'stop' } satisfies ToWorker);
  setStatus('stopping after this step…');
  // A step that takes very long (a huge unroll) is cut short: the worker is ended without a theta.
  r.stopTimer = setTimeout(() => {
    if (!r.done) finish(r, `Stopped after ${r.results.length} steps (the worker was ended mid-step; no theta to download).`, 'stopped');
  }, 10_000);
}

function download(): void {
  if (!theta) return;
  const url = URL.createObjectURL(new Blob([theta.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: theta.name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// Setup. URL parameters preset the form: ?example=meta-lr&backend=wasm&steps=50&metaLr=0.01
const params = new URLSearchParams(location.search);
for (const ex of EXAMPLES) el.example.append(new Option(`${ex.name}: ${ex.title}`, ex.name));
const presetBackend = params.get('backend');
if (presetBackend && (BACKEND_CHOICES as readonly string[]).includes(presetBackend)) el.backendChoice.value = presetBackend;
try {
  selectExample(params.get('example') ?? EXAMPLES[0]!.name, params);
} catch (e) {
  show(el.error, (e as Error).message);
  selectExample(EXAMPLES[0]!.name);
}
el.example.addEventListener('change', () => selectExample(el.example.value));
el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  start();
});
el.stop.addEventListener('click', stop);
el.download.addEventListener('click', download);
addEventListener('resize', queueDraw);
document.body.dataset.state = 'idle';
draw();
