import { createKeyStore } from '../auth/key-store.js';
import { createUserAuthenticator } from '../auth/user-authenticator.js';
import { createUserTokens, loadUserTokenSecret } from '../auth/user-token.js';
import type { Bus } from '../cluster/bus.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StateStore } from '../state/state-store.js';
import type { AppConfig } from './config.js';

/**
 * Who may call: project keys (configured ones hashed at load, those made through the API
 * kept hashed in the StateStore and announced on the bus, so a revocation holds on every
 * node), and end users (backline user tokens, and each project's JWTs per `auth.jwt`).
 * `keys` is a service: it reads the stored keys at start, before the server listens.
 */
export function composeAuth(
  config: AppConfig,
  deps: {
    state: StateStore;
    bus: Bus;
    projects: AppConfig['projects'];
    metrics: Metrics;
    log: Logger;
  },
) {
  const { projects, metrics, log } = deps;
  const keys = createKeyStore({ projects, state: deps.state, bus: deps.bus, metrics, log });
  const tokens = createUserTokens(loadUserTokenSecret(config.dataDir, config.userTokenSecret));
  const users = createUserAuthenticator({
    projects: projects.map((project) => ({ id: project.id, jwt: project.auth.jwt })),
    legacyTokens: tokens,
    metrics,
    log,
  });
  return { keys, tokens, users };
}

export type Auth = ReturnType<typeof composeAuth>;
