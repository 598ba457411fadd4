// Jest setup for tests that run Temporal workers: keep the SDK's logs to warnings and errors.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
