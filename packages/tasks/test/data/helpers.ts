import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ORIGINALS } from '@lopt/test-utils';

export { HAVE_ORIGINALS, ORIGINALS, itOriginals, useEnv, useTempDir } from '@lopt/test-utils';

export interface TestServer {
  url: string;
  /** Requested paths, in order. */
  requests: string[];
  /** Replace the body served for a file name (e.g. corrupted bytes). */
  override: Map<string, Uint8Array>;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (random port) serving the original files at /<name>; 404 for anything else. */
export async function serveOriginals(): Promise<TestServer> {
  const requests: string[] = [];
  const override = new Map<string, Uint8Array>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    // files are served at the root only: /<name>
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    requests.push(req.url ?? '');
    const body = override.get(name);
    if (body) {
      res.end(body);
      return;
    }
    if (!/^[\w.-]+\.gz$/.test(name)) {
      res.writeHead(404, 'Not Found').end();
      return;
    }
    readFile(join(ORIGINALS, name)).then(
      (b) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(b),
      () => res.writeHead(404, 'Not Found').end(),
    );
  };
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    override,
    close: async () => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/** Same length and same bytes (fast for big typed arrays, where toEqual is slow). */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
