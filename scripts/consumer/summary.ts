// What each step of the consumer test found, printed as it happens and once more at the end.

export type Status = 'ok' | 'FAIL' | 'skip';

export interface Result {
  readonly name: string;
  readonly status: Status;
  readonly note: string;
  readonly ms?: number;
  /** Output to show when it failed. */
  readonly detail?: string;
}

export const results: Result[] = [];

const seconds = (ms: number | undefined) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`);

function line(r: Result): string {
  return `${r.status.padEnd(4)} ${r.name}${r.ms !== undefined ? ` [${seconds(r.ms)}]` : ''}${r.note ? `: ${r.note}` : ''}`;
}

export function record(r: Result): void {
  results.push(r);
  console.log(`consumer: ${line(r)}`);
}

/** Prints the summary; true when something ran and nothing failed (skips do not fail the run). */
export function printSummary(totalMs: number): boolean {
  const count = (s: Status) => results.filter((r) => r.status === s).length;
  const failed = results.filter((r) => r.status === 'FAIL');
  for (const r of results.filter((r) => r.detail && r.status !== 'ok')) {
    console.log(`\n---- ${r.status} ${r.name}\n${r.detail}`);
  }
  console.log('\n==== consumer test summary (packages installed from a local registry, as users get them)');
  for (const r of results) console.log(`  ${line(r)}`);
  console.log(
    `consumer: ${count('ok')} ok, ${failed.length} failed, ${count('skip')} skipped, in ${seconds(totalMs)}`,
  );
  return failed.length === 0 && results.length > 0;
}
