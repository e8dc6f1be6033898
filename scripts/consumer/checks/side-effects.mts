// What importing one package (argv[2]) changes in tfjs: engine methods, kernels and gradients,
// backends, flags and the tfjs exports object. `sideEffects: false` in a package.json promises
// bundlers that nothing here changes; the runner compares that promise with what happens.
import * as tf from '@tensorflow/tfjs';

const target = process.argv[2];
if (!target) throw new Error('usage: side-effects <package name>');

const ids = new WeakMap<object, number>();
let nextId = 0;
const id = (v: unknown): string => {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return JSON.stringify(v) ?? String(v);
  if (!ids.has(v)) ids.set(v, nextId++);
  return `#${ids.get(v)}`;
};

function methods(obj: object, label: string, out: Map<string, string>): void {
  for (let o: object | null = obj, depth = 0; o && o !== Object.prototype; o = Object.getPrototypeOf(o), depth++) {
    for (const k of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d && typeof d.value === 'function') out.set(`${label}${depth ? '.__proto__'.repeat(depth) : ''}.${k}`, id(d.value));
    }
  }
}

function snapshot(): Map<string, string> {
  const out = new Map<string, string>();
  const engine = tf.engine() as unknown as { registryFactory: Record<string, unknown> };
  methods(engine, 'engine', out);
  out.set('backends', Object.keys(engine.registryFactory).sort().join(','));
  out.set('flags', JSON.stringify(tf.env().getFlags()));
  const kernelNames = new Set<string>();
  for (const b of Object.keys(engine.registryFactory)) {
    for (const k of tf.getKernelsForBackend(b)) {
      kernelNames.add(k.kernelName);
      out.set(`kernel ${b}/${k.kernelName}`, id(k.kernelFunc));
    }
  }
  for (const v of Object.values(tf)) if (typeof v === 'string' && /^[A-Z][A-Za-z0-9]+$/.test(v)) kernelNames.add(v);
  for (const k of kernelNames) {
    const g = tf.getGradient(k);
    if (g) out.set(`gradient ${k}`, id(g.gradFunc));
  }
  for (const [k, v] of Object.entries(tf)) out.set(`tf.${k}`, id(v));
  return out;
}

const before = snapshot();
await import(target);
const after = snapshot();
const changes: string[] = [];
for (const [k, v] of after) {
  const old = before.get(k);
  if (old === undefined) changes.push(`added ${k}`);
  else if (old !== v) changes.push(k.startsWith('backends') || k === 'flags' ? `${k}: ${old} -> ${v}` : `replaced ${k}`);
}
for (const k of before.keys()) if (!after.has(k)) changes.push(`removed ${k}`);
console.log(`consumer-check: effects ${JSON.stringify(changes)}`);
