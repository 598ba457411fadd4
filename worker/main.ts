import { runWorker } from './run';

runWorker().catch((err) => {
  console.error('[worker] failed:', err);
  process.exit(1);
});
