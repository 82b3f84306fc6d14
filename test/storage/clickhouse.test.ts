import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openChdb } from '../../src/storage/chdb-client.js';
import { openClickHouseServer } from '../../src/storage/server-client.js';
import { clickHouseContract } from './clickhouse.contract.js';

clickHouseContract('embedded chdb', async () =>
  openChdb(mkdtempSync(join(tmpdir(), 'backline-chdb-'))),
);

// A ClickHouse server of a version the schema supports (23.x and later), when one is given.
const serverUrl = process.env.CLICKHOUSE_TEST_URL;
if (serverUrl) clickHouseContract('server', async () => openClickHouseServer(serverUrl));
