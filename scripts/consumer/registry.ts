// A throwaway npm registry (Verdaccio) on the loopback address: @lopt/* is served only from what we
// publish into it, everything else is proxied from the public registry, as users would get it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

export interface Registry {
  /** e.g. `http://127.0.0.1:4873/` (with the trailing slash npm wants). */
  readonly url: string;
  /** `//127.0.0.1:4873/:_authToken=...`, for an .npmrc. */
  readonly authLine: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** The public registry the local one proxies; overridable for a mirror. */
export const UPLINK = process.env.LOPT_CONSUMER_UPLINK ?? 'https://registry.npmjs.org/';

// Verdaccio accepts any token for packages whose `publish` is $all; npm and pnpm refuse to
// publish without one, so the clients get this dummy.
const DUMMY_TOKEN = 'lopt-consumer-rehearsal';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function config(dir: string): string {
  // @lopt/* has no proxy, so a package of that name on the public registry can never leak in.
  return `storage: ${JSON.stringify(join(dir, 'storage'))}
auth:
  htpasswd:
    file: ${JSON.stringify(join(dir, 'htpasswd'))}
    max_users: -1
uplinks:
  npmjs:
    url: ${JSON.stringify(UPLINK)}
    timeout: 60s
    max_fails: 5
    fail_timeout: 30s
packages:
  '@lopt/*':
    access: $all
    publish: $all
    unpublish: $all
  '**':
    access: $all
    publish: $all
    proxy: npmjs
server:
  keepAliveTimeout: 60
web:
  enable: false
log: { type: stdout, format: pretty, level: warn }
`;
}

async function waitUntilUp(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`verdaccio exited (${child.exitCode ?? child.signalCode}) before answering:\n${readFileSync(logFile, 'utf8')}`);
    }
    try {
      const res = await fetch(`${url}-/ping`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`verdaccio did not answer ${url}-/ping within 60 s:\n${readFileSync(logFile, 'utf8')}`);
}

/** Starts Verdaccio with storage and config under `dir`; stop() (or process exit) ends it. */
export async function startRegistry(dir: string): Promise<Registry> {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('verdaccio/package.json')), 'bin', 'verdaccio');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const configFile = join(dir, 'config.yaml');
  const logFile = join(dir, 'verdaccio.log');
  writeFileSync(configFile, config(dir));
  const log = createWriteStream(logFile);
  // Own process group, so stop() ends Verdaccio and anything it started.
  const child = spawn(process.execPath, [bin, '--config', configFile, '--listen', `127.0.0.1:${port}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const kill = (signal: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // A crash or Ctrl-C of the test must not leave the registry running.
  const onExit = () => kill('SIGKILL');
  process.on('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    log.end();
  };
  try {
    await waitUntilUp(url, child, logFile);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, authLine: `//127.0.0.1:${port}/:_authToken=${DUMMY_TOKEN}`, logFile, stop };
}
