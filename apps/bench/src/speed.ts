import * as tf from '@tensorflow/tfjs';
import { availableBackends, initBackend } from '@lopt/transforms';
import { memoryWorkload, timeWorkload, usableBackends, type MemoryResult } from './harness.js';
import { checksAgree, findPeerPython, FRAMEWORKS, runPeer, type PeerPython, type PeerResult } from './peers.js';
import { progress } from './progress.js';
import { machine, ratios, versions, type BenchReport, type WorkloadReport } from './report.js';
import type { Workload } from './workload.js';

export interface SpeedOptions {
  readonly workloads: readonly Workload[];
  /** Backends to run on (default: wasm, cpu, and tensorflow when @tensorflow/tfjs-node is installed). */
  readonly backends?: readonly string[];
  readonly quick?: boolean;
  /** Also time each jittable workload under jit (default true). */
  readonly jit?: boolean;
  readonly repeats?: number;
  readonly peers?: boolean;
  /** Steps of the memory check for workloads with `memory: true` (default 1000; 100 with quick; 0 skips it). */
  readonly memorySteps?: number;
  readonly quiet?: boolean;
  readonly filter?: string;
  readonly log?: (line: string) => void;
}

const repeatsOf = (w: Workload, o: SpeedOptions) => o.repeats ?? (o.quick ? Math.min(5, w.repeats ?? 5) : (w.repeats ?? 20));

/** Runs every workload on every backend, eager and jit, then its peers; returns the report (no files written). */
export async function runSpeed(o: SpeedOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const log = o.log ?? ((s: string) => console.error(s));
  tf.env().set('IS_TEST', true);
  const wanted = o.backends?.length ? [...o.backends] : await availableBackends();
  const { ok: backends, skipped: skippedBackends } = await usableBackends(wanted);
  if (!backends.length) throw new Error(`no backend could start: ${Object.entries(skippedBackends).map(([b, why]) => `${b}: ${why}`).join('; ')}`);
  const jit = o.jit ?? true;
  const backendsOf = (w: Workload) => (w.backends ? backends.filter((b) => w.backends!.includes(b)) : backends);
  const modes = (w: Workload) => (jit && w.jittable !== false ? [false, true] : [false]);
  const peerPython: PeerPython = o.peers ? findPeerPython() : { why: 'not asked (--peers)' };
  const peerRuns = (w: Workload) => (peerPython.python ? FRAMEWORKS.filter((f) => w.peers?.[f] && peerPython[f]) : []);
  const memorySteps = o.memorySteps ?? (o.quick ? 100 : 1000);
  const memoryOf = o.workloads.filter((w) => w.memory && memorySteps > 0);
  const total =
    o.workloads.reduce((p, w) => p + repeatsOf(w, o) * (backendsOf(w).length * modes(w).length + peerRuns(w).length), 0) + memoryOf.length * memorySteps;
  const bar = progress(total, o.quiet ?? false);
  const reports: WorkloadReport[] = [];
  try {
    for (const w of o.workloads) {
      const lopt = [];
      for (const b of backendsOf(w)) {
        await initBackend(b);
        for (const useJit of modes(w)) {
          bar.tick(0, `${w.id} ${b} ${useJit ? 'jit' : 'eager'}`);
          const r = await timeWorkload(w, { backend: b, jit: useJit, quick: o.quick ?? false, ...(o.repeats ? { repeats: o.repeats } : {}) }, () => bar.tick());
          if (r.error) log(`\n${w.id} on ${b} (${useJit ? 'jit' : 'eager'}) failed: ${r.error}`);
          else if (r.leakedTensors) log(`\n${w.id} on ${b} (${useJit ? 'jit' : 'eager'}) leaks ${r.leakedTensors} tensors over its timed steps`);
          lopt.push(r);
        }
      }
      const peers: PeerResult[] = [];
      for (const f of peerRuns(w)) {
        bar.tick(0, `${w.id} ${f}`);
        const repeats = repeatsOf(w, o);
        const p = await runPeer(peerPython.python!, f, w.peers![f]!, w.id, { quick: o.quick ?? false, repeats, warmup: o.quick ? 1 : Math.max(2, Math.round(repeats / 10)) });
        bar.tick(repeats);
        if (p.error) log(`\n${w.id}: ${f} peer failed: ${p.error}`);
        peers.push(p);
      }
      const ref = lopt.find((r) => r.check !== undefined)?.check;
      const checks: WorkloadReport['checks'] = {};
      for (const p of peers) if (ref !== undefined && p.check !== undefined) checks[p.framework] = { lopt: ref, peer: p.check, agree: checksAgree(ref, p.check) };
      for (const [f, c] of Object.entries(checks)) if (!c.agree) log(`\n${w.id}: the ${f} peer's check value ${c.peer} differs from lopt's ${c.lopt}: they do not compute the same thing`);
      reports.push({ id: w.id, title: w.title, ...(w.tasks ? { tasks: w.tasks } : {}), lopt, peers, ratios: ratios(lopt, peers), checks });
    }
    const memory: MemoryResult[] = [];
    for (const w of memoryOf) {
      const b = backends[0]!;
      await initBackend(b);
      const useJit = jit && w.jittable !== false;
      bar.tick(0, `${w.id} memory ${b}`);
      memory.push(await memoryWorkload(w, { backend: b, jit: useJit, quick: o.quick ?? false, steps: memorySteps }, () => bar.tick()));
    }
    return {
      schema: 1,
      date: new Date().toISOString(),
      machine: machine(),
      versions: versions(),
      options: { quick: o.quick ?? false, jit, ...(o.repeats ? { repeats: o.repeats } : {}), backends, ...(o.filter ? { filter: o.filter } : {}) },
      skippedBackends,
      peers: peerPython,
      workloads: reports,
      memory,
      wallSeconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
    };
  } finally {
    bar.stop();
  }
}
