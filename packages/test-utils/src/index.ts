/**
 * @lopt/test-utils: the one module of helpers that every package's tests share (never published).
 * Backends, numeric comparisons, the leak checks, and where the original test data lives.
 */
export { BACKENDS, HAVE_TENSORFLOW, useBackend, useRawCpu, type TestBackend } from './backend.js';
export { values, treeValues, expectClose, relErr } from './numbers.js';
export { fresh, noLeak, useLeakCheck } from './memory.js';
export { HAVE_ORIGINALS, ORIGINALS, itOriginals, readOriginal, originals } from './data.js';
export { useTempDir, useEnv } from './env.js';
export { expectReadmeMirrored } from './readme.js';
export { runScript, inParallel, spawnScript, type ScriptResult, type SpawnedScript } from './process.js';
export { startRedis, findRedisServer, redisMissing, type RedisServer } from './redis.js';
