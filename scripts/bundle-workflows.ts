/**
 * Builds the workflow bundle once (dist/workflow-bundle.js). The worker and the replay tests load
 * this same file, so CI replays exactly what ships.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const workflowBundlePath = resolve(__dirname, '..', 'workflow-bundle.js');

async function main(): Promise<void> {
  const t0 = Date.now();
  // dist/scripts/ -> the compiled workflows live in dist/workflows/
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: quietLogger,
  });
  mkdirSync(join(workflowBundlePath, '..'), { recursive: true });
  writeFileSync(workflowBundlePath, code);
  console.log(`[build] workflow bundle ${(code.length / 1024).toFixed(0)} KiB in ${Date.now() - t0} ms`);
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
