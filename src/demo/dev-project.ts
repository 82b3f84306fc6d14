import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleStreams } from './example-streams.js';
import { exampleRules } from './example-rules.js';
import type { jwtSettingsSchema } from '../auth/jwt-settings.js';
import type { Config, ProjectConfig } from '../config/schema.js';
import type { capSchema } from '../notify/caps.js';
import type { streamSpecSchema } from '../pipeline/stream-spec.js';
import type { ruleSpecSchema } from '../rules/rule-spec.js';

export const devProjectId = 'dev';

/** The dev project's definitions are the examples, typed by their owners' schemas. */
type DevProjectConfig = ProjectConfig<{
  stream: typeof streamSpecSchema;
  rule: typeof ruleSpecSchema;
  cap: typeof capSchema;
  jwt: typeof jwtSettingsSchema;
}>;

export interface DevProject {
  readonly project: DevProjectConfig;
  /** Where the key came from, for the start-up message. */
  readonly source: 'env' | 'file' | 'generated';
}

/**
 * With no projects configured, `npm start` serves one development project, with the example
 * streams and notification rules, whose single key ingests, reads and administers. The key is
 * `BACKLINE_DEV_KEY` when set, else generated once and kept in the data folder so restarts
 * and clients keep working.
 */
export function resolveDevProject(
  config: Pick<Config, 'projects' | 'dataDir' | 'devKey'>,
): DevProject | undefined {
  if (config.projects.length > 0) return undefined;
  const file = join(config.dataDir, 'dev-key');
  let key = config.devKey;
  let source: DevProject['source'] = 'env';
  if (!key) {
    key = readKey(file);
    source = 'file';
  }
  if (!key) {
    key = `dev_${randomBytes(18).toString('base64url')}`;
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    source = 'generated';
  }
  return {
    project: {
      id: devProjectId,
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      streams: exampleStreams,
      rules: exampleRules,
      notifications: { caps: [] },
      auth: {},
    },
    source,
  };
}

function readKey(file: string): string | undefined {
  try {
    const key = readFileSync(file, 'utf8').trim();
    return key.length >= 16 ? key : undefined;
  } catch {
    return undefined;
  }
}
