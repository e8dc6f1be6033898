#!/usr/bin/env node
// `pnpm setup:tensorflow`: the native TensorFlow backend (@tensorflow/tfjs-node) without the
// internet downloads its own install script makes (libtensorflow and a prebuilt addon). The
// TensorFlow C API ships inside the `tensorflow-cpu` Python wheel, which pip can fetch from any
// index it is configured for (a local mirror included); the addon then builds from source with
// npm's bundled node-gyp against the Node headers next to `node`. Everything lands in .lopt/
// (gitignored) and node_modules/@tensorflow/tfjs-node becomes a link to it, so
// `import('@tensorflow/tfjs-node')` resolves from every package without being a dependency.
//
//   pnpm setup:tensorflow                 install (idempotent: finished steps are skipped)
//   pnpm setup:tensorflow --check         report what is there and load it; change nothing
//   pnpm setup:tensorflow --if-available  as install, but exit 0 with a reason when the wheel or
//                                          this platform is not available (for CI)
//   pnpm setup:tensorflow --force         remove .lopt/tensorflow and start again
//
// Environment: LOPT_PYTHON (python with pip; default python3), LOPT_TF_WHEEL (a wheel file to
// use instead of asking pip), LOPT_TF_WHEEL_SPEC (default tensorflow-cpu==2.21.*), LOPT_NODEDIR
// (a Node install whose include/node has node_api.h), LOPT_NODE_GYP (node-gyp.js to use).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractTensorflow } from './tensorflow/extract.mjs';
import { verifyNativeBackend } from './tensorflow/verify.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOME = join(ROOT, '.lopt', 'tensorflow');
const LIBTF = join(HOME, 'libtensorflow');
const NODE_PREFIX = join(HOME, 'node');
const TFJS_NODE = join(NODE_PREFIX, 'node_modules', '@tensorflow', 'tfjs-node');
const ROOT_LINK = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const STATE = join(HOME, 'state.json');
const WHEEL_SPEC = process.env.LOPT_TF_WHEEL_SPEC || 'tensorflow-cpu==2.21.*';
const LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];

const args = new Set(process.argv.slice(2));
const known = ['--check', '--if-available', '--force', '--help', '-h'];
for (const a of args) if (!known.includes(a)) fail(`unknown option ${a} (known: ${known.join(', ')})`);
const CHECK = args.has('--check');
const IF_AVAILABLE = args.has('--if-available');

function say(step, msg) {
  console.log(`setup:tensorflow  ${step.padEnd(13)} ${msg}`);
}
function fail(msg, hint) {
  console.error(`setup:tensorflow: ${msg}${hint ? `\n  ${hint}` : ''}`);
  process.exit(1);
}
/** Not available here (platform, wheel): a failure, or with --if-available a printed skip. */
function unavailable(msg, hint) {
  if (IF_AVAILABLE) {
    console.log(`setup:tensorflow: skipped: ${msg}`);
    process.exit(0);
  }
  fail(msg, hint);
}
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}
/** Runs a command, output to a log file; on failure prints the log's tail and exits. */
function run(cmd, argv, { cwd = ROOT, log, env, cleanEnv = false } = {}) {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', env: cleanEnv ? env : { ...process.env, ...env }, maxBuffer: 1 << 28 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (log) writeFileSync(log, `$ ${cmd} ${argv.join(' ')}\n${out}`);
  if (r.status !== 0) {
    const tail = out.trim().split('\n').slice(-25).join('\n');
    return { ok: false, tail: `${tail}${r.error ? `\n${r.error.message}` : ''}${log ? `\n(full log: ${relative(ROOT, log)})` : ''}` };
  }
  return { ok: true, out };
}
function link(target, path) {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(relative(dirname(path), target), path);
}
function isLinkTo(path, target) {
  try {
    return lstatSync(path).isSymbolicLink() && realpathSync(path) === realpathSync(target);
  } catch {
    return false;
  }
}

if (args.has('--help') || args.has('-h')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 20).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
if (platform() !== 'linux' || arch() !== 'x64') {
  unavailable(`the tensorflow-cpu wheel route is for Linux x86-64, this is ${platform()}-${arch()}`, 'With internet, `npm i @tensorflow/tfjs-node` installs its prebuilt binaries instead.');
}

// The tfjs-node release that matches the @tensorflow/tfjs this repository installed (they ship in lockstep).
const tfjs = readJson(join(ROOT, 'node_modules', '@tensorflow', 'tfjs', 'package.json'));
if (!tfjs) fail('node_modules/@tensorflow/tfjs is missing', 'Run `pnpm install` first.');
const TFJS_VERSION = tfjs.version;
const TFJS_REAL = realpathSync(join(ROOT, 'node_modules', '@tensorflow', 'tfjs'));

if (args.has('--force') && !CHECK) {
  say('force', `removing ${relative(ROOT, HOME)}`);
  rmSync(HOME, { recursive: true, force: true });
}

// Someone installed tfjs-node into the root themselves (npm i / pnpm add @tensorflow/tfjs-node): use theirs.
if (existsSync(ROOT_LINK) && !isLinkTo(ROOT_LINK, TFJS_NODE)) {
  say('tfjs-node', `node_modules/@tensorflow/tfjs-node is your own install (${realpathSync(ROOT_LINK)}); leaving it as it is`);
  finish();
}

const problems = [];
const state = readJson(STATE) ?? {};

// 1. The TensorFlow C library and headers, from the wheel.
const libVersion = readJson(join(LIBTF, 'VERSION.json'));
if (libVersion && LIBS.every((l) => existsSync(join(LIBTF, 'lib', l)))) {
  say('libtensorflow', `TensorFlow ${libVersion.tensorflow} from ${libVersion.wheel}: present`);
} else if (CHECK) {
  problems.push('libtensorflow is not extracted');
  say('libtensorflow', 'missing');
} else {
  const python = process.env.LOPT_PYTHON || 'python3';
  let wheel = process.env.LOPT_TF_WHEEL;
  const download = join(HOME, 'download');
  if (!wheel) {
    rmSync(download, { recursive: true, force: true });
    mkdirSync(download, { recursive: true });
    say('libtensorflow', `asking pip for ${WHEEL_SPEC} (about 270 MB)...`);
    // Few retries: offline, pip would otherwise back off for ~10 s on each index it cannot reach.
    const r = run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', download, WHEEL_SPEC], {
      log: join(HOME, 'pip.log'),
      env: { PIP_RETRIES: process.env.PIP_RETRIES ?? '1' },
    });
    const found = r.ok ? readdirSync(download).find((f) => f.endsWith('.whl')) : undefined;
    if (!found) {
      rmSync(download, { recursive: true, force: true });
      // pip's own ERROR lines say it best; its index warnings (one per unreachable index) do not.
      const errors = (r.tail ?? '').split('\n').filter((l) => l.startsWith('ERROR') || l.startsWith('(full log'));
      unavailable(`pip could not get ${WHEEL_SPEC}:\n${errors.length > 1 ? errors.join('\n') : r.tail ?? 'no wheel downloaded'}`,
        'Point pip at an index that has it (PIP_INDEX_URL / --index-url, e.g. a local mirror), or set LOPT_TF_WHEEL to a downloaded wheel; with internet, `npm i @tensorflow/tfjs-node` also works.');
    }
    wheel = join(download, found);
  }
  say('libtensorflow', `extracting the C library and headers from ${wheel.split('/').pop()}...`);
  const tmp = `${LIBTF}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  const info = extractTensorflow(python, wheel, tmp, LIBS);
  rmSync(LIBTF, { recursive: true, force: true });
  renameSync(tmp, LIBTF); // only a complete extraction is ever in place
  rmSync(download, { recursive: true, force: true });
  say('libtensorflow', `TensorFlow ${info.tensorflow}: ${info.files} files in ${relative(ROOT, LIBTF)}`);
}

// 2. The tfjs-node package itself, without its install script (that one downloads).
const installed = readJson(join(TFJS_NODE, 'package.json'));
if (installed?.version === TFJS_VERSION && existsSync(join(NODE_PREFIX, 'node_modules', '@mapbox', 'node-pre-gyp'))) {
  say('tfjs-node', `@tensorflow/tfjs-node ${TFJS_VERSION}: present`);
} else if (CHECK) {
  problems.push(`@tensorflow/tfjs-node ${TFJS_VERSION} is not installed in ${relative(ROOT, NODE_PREFIX)}`);
  say('tfjs-node', installed ? `version ${installed.version}, wanted ${TFJS_VERSION}` : 'missing');
} else {
  say('tfjs-node', `npm install @tensorflow/tfjs-node@${TFJS_VERSION} --ignore-scripts (into ${relative(ROOT, NODE_PREFIX)}, no package depends on it)...`);
  rmSync(join(NODE_PREFIX, 'node_modules'), { recursive: true, force: true });
  mkdirSync(NODE_PREFIX, { recursive: true });
  writeFileSync(join(NODE_PREFIX, 'package.json'), `${JSON.stringify({ name: 'lopt-native-tensorflow', private: true, description: 'Made by pnpm setup:tensorflow; not part of any package.', dependencies: { '@tensorflow/tfjs-node': TFJS_VERSION } }, null, 2)}\n`);
  // Run under pnpm, the environment says the project is the repository root (npm_config_local_prefix)
  // and carries pnpm-only settings npm warns about: npm gets its own view of .lopt/tensorflow/node.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(local_prefix|verify_deps_before_run|auto_install_peers|npm_globalconfig|_jsr_registry)$/i.test(k)));
  const r = run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], { cwd: NODE_PREFIX, log: join(HOME, 'npm.log'), env, cleanEnv: true });
  if (!r.ok) {
    const why = `npm install @tensorflow/tfjs-node@${TFJS_VERSION} failed:\n${r.tail}`;
    const hint = 'It needs the npm registry (or a mirror configured in npm).';
    // No registry is "not available" (skipped with --if-available); any other npm failure is a failure.
    if (/E(NOTFOUND|CONNREFUSED|CONNRESET|TIMEDOUT|AI_AGAIN|NETUNREACH)|network/i.test(r.tail)) unavailable(why, hint);
    fail(why, hint);
  }
  delete state.addon;
}

// 3. One tfjs engine: tfjs-node's own copies of @tensorflow/* become links to the ones lopt uses,
// so its kernels, lopt's gradient fixes and your tensors all live in the same module instances.
const tfScope = join(NODE_PREFIX, 'node_modules', '@tensorflow');
if (existsSync(tfScope)) {
  const fromRoot = (name) => {
    const p = name === 'tfjs' ? TFJS_REAL : join(dirname(TFJS_REAL), name);
    return existsSync(join(p, 'package.json')) ? p : undefined;
  };
  const shared = [];
  for (const name of readdirSync(tfScope)) {
    const target = fromRoot(name);
    const path = join(tfScope, name);
    if (name === 'tfjs-node' || !target) continue;
    if (!isLinkTo(path, target)) {
      if (CHECK) problems.push(`${name} inside tfjs-node's folder is a second copy`);
      else link(target, path);
    }
    shared.push(name);
  }
  say('one engine', `${shared.join(', ')} shared with the repository's @tensorflow/tfjs ${TFJS_VERSION}`);
}

// 4. The addon, built from source against the wheel's library.
const addon = addonPath();
const tfVersion = readJson(join(LIBTF, 'VERSION.json'))?.tensorflow;
if (existsSync(addon) && state.addon?.tensorflow === tfVersion && tfVersion) {
  say('addon', `${relative(ROOT, addon)} (built against TensorFlow ${tfVersion}): present`);
} else if (CHECK) {
  problems.push('the tfjs-node addon is not built');
  say('addon', 'missing');
} else if (existsSync(TFJS_NODE) && tfVersion) {
  // binding.gyp links -ltensorflow -ltensorflow_framework from deps/lib with rpath $ORIGIN/../../deps/lib.
  // libtensorflow.so is the wheel's libtensorflow_cc (TFE_* eager API; TF_* is in _framework).
  const lib = join(TFJS_NODE, 'deps', 'lib');
  for (const l of LIBS) link(join(LIBTF, 'lib', l), join(lib, l));
  link(join(lib, 'libtensorflow_cc.so.2'), join(lib, 'libtensorflow.so'));
  link(join(lib, 'libtensorflow_framework.so.2'), join(lib, 'libtensorflow_framework.so'));
  link(join(LIBTF, 'include'), join(TFJS_NODE, 'deps', 'include'));
  const napi = napiVersion();
  const nodedir = nodeDir();
  const gyp = nodeGyp();
  for (const tool of ['make', 'c++']) if (!which(tool)) fail(`building the addon needs \`${tool}\` on PATH`, 'Debian/Ubuntu: apt-get install build-essential');
  say('addon', `building from source (node-gyp, N-API ${napi}, headers from ${nodedir})...`);
  const start = Date.now();
  const r = run(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--module_name=tfjs_binding', `--module_path=${dirname(addon)}`, `--napi_build_version=${napi}`, '--jobs=max'], { cwd: TFJS_NODE, log: join(HOME, 'node-gyp.log') });
  if (!r.ok || !existsSync(addon)) fail(`building the addon failed:\n${r.tail ?? ''}`);
  writeFileSync(STATE, `${JSON.stringify({ ...state, addon: { tensorflow: tfVersion, napi, node: process.version } }, null, 2)}\n`);
  say('addon', `built in ${((Date.now() - start) / 1000).toFixed(0)} s: ${relative(ROOT, addon)}`);
} else {
  fail('cannot build the addon: an earlier step is missing');
}

// 5. node_modules/@tensorflow/tfjs-node -> .lopt/..., which is where `import('@tensorflow/tfjs-node')`
// from any package (packages/*/src, apps/*) ends its search up the folders.
if (isLinkTo(ROOT_LINK, TFJS_NODE)) {
  say('link', `node_modules/@tensorflow/tfjs-node -> ${relative(ROOT, TFJS_NODE)}: present`);
} else if (CHECK) {
  problems.push('node_modules/@tensorflow/tfjs-node is not linked (a later `pnpm install` can remove it)');
  say('link', 'missing');
} else {
  link(TFJS_NODE, ROOT_LINK);
  say('link', `node_modules/@tensorflow/tfjs-node -> ${relative(ROOT, TFJS_NODE)}`);
}

if (problems.length > 0) {
  fail(`not ready:\n  - ${problems.join('\n  - ')}`, 'Run `pnpm setup:tensorflow` to install it.');
}
finish();

function finish() {
  // Loaded the way lopt loads it: a dynamic import resolved from inside a package.
  const v = verifyNativeBackend(join(ROOT, 'packages', 'transforms'), TFJS_REAL);
  if (!v.ok) fail(`the native backend does not load:\n${v.error}`, 'Run `pnpm setup:tensorflow --force` to rebuild it.');
  say('verify', `backend 'tensorflow' runs: libtensorflow ${v.tfVersion}, tfjs-node ${v.tfjsNode}, matMul ok, one tfjs engine`);
  console.log(`setup:tensorflow: ready. Use it with initBackend('tensorflow') or LOPT_BACKEND=tensorflow.`);
  process.exit(0);
}

function addonPath() {
  return join(TFJS_NODE, 'lib', `napi-v${napiVersion()}`, 'tfjs_binding.node');
}
/** The highest N-API version that both tfjs-node's addon and this Node support (node-pre-gyp's rule). */
function napiVersion() {
  const pj = readJson(join(TFJS_NODE, 'package.json'));
  const versions = pj?.binary?.napi_versions ?? [8];
  const mine = Number(process.versions.napi);
  const ok = versions.filter((v) => v <= mine);
  if (ok.length === 0) fail(`this Node supports N-API ${mine}; tfjs-node needs one of ${versions.join(', ')}`);
  return Math.max(...ok);
}
function nodeDir() {
  const candidates = [process.env.LOPT_NODEDIR, process.env.npm_config_nodedir, resolve(process.execPath, '..', '..')].filter(Boolean);
  for (const c of candidates) if (existsSync(join(c, 'include', 'node', 'node_api.h'))) return c;
  fail(`no Node headers (include/node/node_api.h) under ${candidates.join(', ')}; node-gyp would download them, which fails offline`,
    'Set LOPT_NODEDIR to a Node install (or unpacked node-vX-headers tarball) that has include/node/node_api.h.');
}
/** npm's bundled node-gyp (no download of its own needed). */
function nodeGyp() {
  const candidates = [process.env.LOPT_NODE_GYP, process.env.npm_config_node_gyp];
  const npm = which('npm');
  if (npm) candidates.push(join(realpathSync(npm), '..', '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  } catch {
    // no npm on PATH: the candidates above are all there is
  }
  for (const c of candidates) if (c && existsSync(c)) return c;
  fail('node-gyp not found (it comes with npm)', 'Set LOPT_NODE_GYP to a node-gyp.js.');
}
