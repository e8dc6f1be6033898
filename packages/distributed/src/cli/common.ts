import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Parses argv (prints `help` and exits on --help, exits 2 with the message on a bad flag). */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, help: string) {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    if ((r.values as { help?: boolean }).help) {
      process.stdout.write(help);
      process.exit(0);
    }
    return r.values as { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string };
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${help}`);
    process.exit(2);
  }
}

/** Runs main, printing a fatal error as one clear line on stderr (exit code 1). */
export function main(run: () => Promise<void>): void {
  run().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}

export const ENV_HELP = `Environment:
  LOPT_REDIS_URL   the Redis server, e.g. redis://127.0.0.1:6379 or rediss://user:password@host:port
                   (never in a config file; run Redis with appendonly yes to survive restarts)
`;
