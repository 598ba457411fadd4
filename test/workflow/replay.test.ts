/**
 * Saved histories (test/histories/, written by the workflow and dev-server tests with
 * SAVE_HISTORIES=1) replayed against the workflow bundle the worker ships: a change that would break
 * running subscriptions fails here. Replay needs no server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { workflowCode } from '../support/stack';

const dir = join(__dirname, '..', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of saved subscription histories against the shipped bundle', () => {
  it('has histories to replay, including a run that continued as new', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'subscription-continued-as-new.json',
        'subscription-period-close.json',
        'subscription-period-settled.json',
        'subscription-credits-settled.json',
      ]),
    );
    const continued = JSON.parse(readFileSync(join(dir, 'subscription-continued-as-new.json'), 'utf8')) as {
      events: { eventType: string }[];
    };
    expect(continued.events.at(-1)?.eventType).toMatch(/CONTINUED_AS_NEW/);
  });

  it.each(files)(
    'replays %s without nondeterminism',
    async (file) => {
      const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      await Worker.runReplayHistory({ ...workflowCode() }, history, file.replace(/\.json$/, ''));
    },
    60_000,
  );
});
