import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

export interface TemporalHandle {
  client: Client;
  connection: Connection;
}

export async function connectTemporal(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
): Promise<TemporalHandle> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  return { client, connection };
}
