import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@lopt/transforms';

/** Every backend the test suites know how to run on in Node. */
export const NODE_BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;
export type TestBackend = (typeof NODE_BACKENDS)[number];

/**
 * Whether the native TensorFlow backend (@tensorflow/tfjs-node or -node-gpu, e.g. from
 * `pnpm setup:tensorflow`) is installed where lopt's packages import it from. Cheap: it looks for
 * the package and its built addon without loading libtensorflow.
 */
function nativeInstalled(): boolean {
  const req = createRequire(import.meta.url);
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      const lib = join(dirname(req.resolve(`${name}/package.json`)), 'lib');
      if (readdirSync(lib).some((d) => existsSync(join(lib, d, 'tfjs_binding.node')))) return true;
    } catch {
      // not installed, or installed without its addon: not usable
    }
  }
  return false;
}

/** Whether @tensorflow/tfjs-node(-gpu) is installed with its addon (whatever LOPT_TEST_BACKENDS says). */
export const HAVE_TENSORFLOW: boolean = nativeInstalled();

function chooseBackends(): readonly TestBackend[] {
  const native = HAVE_TENSORFLOW;
  const env = process.env.LOPT_TEST_BACKENDS?.trim();
  if (!env) return native ? ['cpu', 'wasm', 'tensorflow'] : ['cpu', 'wasm'];
  const names = env.split(/[\s,]+/).filter((s) => s !== '');
  for (const n of names) {
    if (!(NODE_BACKENDS as readonly string[]).includes(n)) {
      throw new Error(`LOPT_TEST_BACKENDS: unknown backend '${n}'; known in Node: ${NODE_BACKENDS.join(', ')}`);
    }
    if (n === 'tensorflow' && !native) {
      throw new Error("LOPT_TEST_BACKENDS asks for 'tensorflow', but @tensorflow/tfjs-node is not installed here: run `pnpm setup:tensorflow`");
    }
  }
  return [...new Set(names)] as TestBackend[];
}

/**
 * The backends every test suite runs on in Node: cpu and wasm, plus tensorflow when the native
 * backend is installed; `LOPT_TEST_BACKENDS=cpu,tensorflow` (comma or space separated) overrides.
 * Decided once, when this module loads.
 */
export const BACKENDS: readonly TestBackend[] = chooseBackends();

/** lopt's backend start (with its gradient fixes), quiet for tests. */
export async function useBackend(name: string = 'cpu'): Promise<void> {
  tf.env().set('IS_TEST', true);
  // libtensorflow reads this when it loads: keep its INFO lines out of the test output.
  if (name === 'tensorflow') process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  await initBackend(name);
}

/**
 * Plain tfjs cpu, without lopt's installer: for the packages below @lopt/transforms (tree,
 * random), whose tests must not depend on its patches.
 */
export async function useRawCpu(): Promise<void> {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  await tf.ready();
}
