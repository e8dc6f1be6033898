import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { useBackend, useLeakCheck, useTempDir } from '@lopt/test-utils';
import {
  AdafacMLPLOpt,
  LearnableSGD,
  LearnableSGDM,
  MLPLOpt,
  PerParamMLPLOpt,
  decodeSafetensors,
  deserializeTheta,
  encodeSafetensors,
  serializeTheta,
} from '../src/index.js';
import { loadTheta, saveTheta } from '../src/node.js';
import mlpFx from './fixtures/mlp-lopt.json';
import { BUILTINS } from './builtins.js';
import { bitDiff, decode } from './helpers.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

const builtins = BUILTINS.map((make) => make());

describe('theta save / load (safetensors)', () => {
  beforeAll(() => useBackend('cpu'));
  useLeakCheck();
  const dir = useTempDir('lopt-theta-');

  for (const lopt of builtins) {
    it(`${lopt.name} ${JSON.stringify(lopt.config)}: round trip is bit for bit`, () => {
      const theta = lopt.init(PRNGKey(5));
      const bytes = serializeTheta(lopt, theta);
      const back = deserializeTheta(lopt, bytes);
      expect(tree.findMismatch(theta, back, { shapes: true })).toBeNull();
      expect(bitDiff(back, theta)).toBeNull();
      tree.dispose([theta, back]);
    });
  }

  it('writes the format: u64 little-endian header length, JSON header padded to 8 bytes, F32 tensors sorted by name, metadata', () => {
    const lopt = new MLPLOpt();
    const theta = lopt.init(PRNGKey(3));
    const bytes = serializeTheta(lopt, theta, { metadata: { note: 'hi' } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ note: 'hi', lopt_format: '1', name: 'MLPLOpt', config: JSON.stringify(lopt.config) });
    expect(header['mlp/~/linear_0.w']).toEqual({ dtype: 'F32', shape: [19, 32], data_offsets: [128, 128 + 19 * 32 * 4] });
    expect(Object.keys(header).filter((k) => k !== '__metadata__')).toEqual(['mlp/~/linear_0.b', 'mlp/~/linear_0.w', 'mlp/~/linear_1.b', 'mlp/~/linear_1.w', 'mlp/~/linear_2.b', 'mlp/~/linear_2.w']);
    expect(bytes.length).toBe(8 + n + 4 * (32 + 19 * 32 + 32 + 32 * 32 + 2 + 32 * 2));
    // The first weight's first value, little-endian, right after linear_0.b.
    const first = new DataView(bytes.buffer).getFloat32(8 + n + 128, true);
    expect(first).toBe(theta['mlp/~/linear_0']!.w.dataSync()[0]);
    tree.dispose(theta);
  });

  it('loads a file written by Python safetensors.numpy (PerParamMLPLOpt, hidden 8): the notebook init from PRNGKey(7), bit for bit', async () => {
    const lopt = new PerParamMLPLOpt({ hiddenSize: 8 });
    const bytes = new Uint8Array(await readFile(fixture('theta-per-param-mlp-h8.safetensors')));
    expect(decodeSafetensors(bytes).metadata.written_by).toBe('safetensors.numpy');
    const theta = deserializeTheta(lopt, bytes);
    const want = lopt.init(PRNGKey(7));
    expect(bitDiff(theta, want)).toBeNull();
    tree.dispose([theta, want]);
  });

  it('loads a file written by Python safetensors.torch (MLPLOpt, haiku names) with loadTheta, bit for bit', async () => {
    const lopt = new MLPLOpt();
    const theta = await loadTheta(fileURLPath(fixture('theta-mlp-lopt.safetensors')), lopt);
    const want = decode(mlpFx.theta);
    expect(bitDiff(theta, want)).toBeNull();
    tree.dispose([theta, want]);
  });

  it('saveTheta / loadTheta round trip through a file', async () => {
    const lopt = new AdafacMLPLOpt();
    const theta = lopt.init(PRNGKey(1));
    const path = join(dir(), 'adafac.safetensors');
    await saveTheta(path, lopt, theta);
    const back = await loadTheta(path, lopt);
    expect(bitDiff(back, theta)).toBeNull();
    tree.dispose([theta, back]);
  });

  it('a wrong optimizer, configuration or architecture is an error naming the leaf', async () => {
    const mlp = new MLPLOpt();
    const theta = mlp.init(PRNGKey(3));
    const bytes = serializeTheta(mlp, theta);
    tree.dispose(theta);
    expect(() => deserializeTheta(new AdafacMLPLOpt(), bytes)).toThrow('deserializeTheta(AdafacMLPLOpt): the file holds theta for MLPLOpt, not AdafacMLPLOpt');
    const small = new MLPLOpt({ hiddenSize: 16 });
    expect(() => deserializeTheta(small, bytes)).toThrow('deserializeTheta(MLPLOpt): the file was written with another configuration: hiddenSize: 32 in the file vs 16 here');
    expect(() => deserializeTheta(small, bytes, { strict: false })).toThrow(
      `deserializeTheta(MLPLOpt): theta["mlp/~/linear_0"].b (tensor 'mlp/~/linear_0.b'): the file has shape [32], MLPLOpt expects [16]`,
    );
    expect(() => deserializeTheta(new MLPLOpt({ hiddenLayers: 1 }), bytes, { strict: false })).toThrow(
      "deserializeTheta(MLPLOpt): the file has a tensor 'mlp/~/linear_2.b' that MLPLOpt's theta does not",
    );
    expect(() => deserializeTheta(new MLPLOpt({ hiddenLayers: 3 }), bytes, { strict: false })).toThrow(
      `theta["mlp/~/linear_2"].b (tensor 'mlp/~/linear_2.b'): the file has shape [2], MLPLOpt expects [32]`,
    );
    const sgd = new LearnableSGD();
    const sgdTheta = sgd.init(PRNGKey(0));
    const sgdBytes = serializeTheta(sgd, sgdTheta);
    tree.dispose(sgdTheta);
    expect(() => deserializeTheta(new LearnableSGDM(), sgdBytes, { strict: false })).toThrow(
      "deserializeTheta(LearnableSGDM): theta.one_minus_momentum (tensor 'one_minus_momentum') is missing from the file",
    );
    const path = join(dir(), 'bad.safetensors');
    await writeFile(path, bytes.subarray(0, 100));
    await expect(loadTheta(path, mlp)).rejects.toThrow(`loadTheta(${path}): deserializeTheta(MLPLOpt): decodeSafetensors: not a valid safetensors file: header length`);
    await expect(loadTheta(join(dir(), 'nope.safetensors'), mlp)).rejects.toThrow('loadTheta: cannot read');
  });

  it('files without lopt metadata load with strict: false; other dtypes are named; F64 converts', () => {
    const lopt = new LearnableSGD();
    const plain = encodeSafetensors([['log_lr', [], new Float32Array([-2])]]);
    expect(() => deserializeTheta(lopt, plain)).toThrow("the file has no 'name' metadata (not written by lopt); pass { strict: false }");
    const t = deserializeTheta(lopt, plain, { strict: false });
    expect(t.log_lr!.dataSync()[0]).toBe(-2);
    tree.dispose(t);
    // A hand-built F64 and an I32 file.
    const f64 = handBuilt('F64', new Float64Array([-1.5]).buffer);
    const t64 = deserializeTheta(lopt, f64, { strict: false });
    expect(t64.log_lr!.dataSync()[0]).toBe(-1.5);
    tree.dispose(t64);
    expect(() => deserializeTheta(lopt, handBuilt('I32', new Int32Array([3]).buffer), { strict: false })).toThrow(
      "theta.log_lr (tensor 'log_lr') is I32 in the file; theta is float32",
    );
  });

  it('serializeTheta refuses a theta that is not the optimizer\'s, naming the leaf', () => {
    const lopt = new PerParamMLPLOpt();
    const theta = lopt.init(PRNGKey(0));
    const wrong = { ...theta, w1: tf.zeros([64, 3]) };
    expect(() => serializeTheta(lopt, wrong)).toThrow('serializeTheta(PerParamMLPLOpt): theta.w1: expected float32 [64,2], got Tensor float32 [64,3]');
    expect(() => serializeTheta(lopt, { w0: theta.w0 } as never)).toThrow('serializeTheta(PerParamMLPLOpt): theta.b0 is missing');
    tree.dispose([theta, wrong.w1]);
  });

  it('corrupt files: gaps, overlaps and bad headers are errors', () => {
    const lopt = new LearnableSGD();
    const theta = lopt.init(PRNGKey(0));
    const bytes = serializeTheta(lopt, theta);
    tree.dispose(theta);
    const hdr = (json: string, data = new Uint8Array(4)) => {
      const j = new TextEncoder().encode(json);
      const out = new Uint8Array(8 + j.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(j.length), true);
      out.set(j, 8);
      out.set(data, 8 + j.length);
      return out;
    };
    expect(() => decodeSafetensors(hdr('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'))).toThrow('ends at byte 8 of a 4-byte data section');
    expect(() => decodeSafetensors(hdr('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(8)))).toThrow('the tensors cover 4 of 8 data bytes');
    expect(() => decodeSafetensors(hdr('[1]'))).toThrow('the header is not a JSON object');
    expect(() => decodeSafetensors(hdr('{"a":{"dtype":"X9","shape":[1],"data_offsets":[0,4]}}'))).toThrow("tensor 'a' has unknown dtype");
    expect(decodeSafetensors(bytes).tensors.get('log_lr')!.shape).toEqual([]);
  });
});

function handBuilt(dtype: string, data: ArrayBuffer): Uint8Array {
  const j = new TextEncoder().encode(JSON.stringify({ log_lr: { dtype, shape: [], data_offsets: [0, data.byteLength] } }));
  const out = new Uint8Array(8 + j.length + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(j.length), true);
  out.set(j, 8);
  out.set(new Uint8Array(data), 8 + j.length);
  return out;
}

function fileURLPath(u: URL): string {
  return decodeURIComponent(u.pathname);
}
