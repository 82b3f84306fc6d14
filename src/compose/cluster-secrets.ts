import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import type { StateStore } from '../state/state-store.js';
import type { AppConfig } from './config.js';

/**
 * What a single node generates once into its data folder when it is not configured (the user
 * token secret, the VAPID key pair, the dev project's key) must be one value for the whole
 * cluster: a token issued by one node is checked by another, a push subscription made with one
 * node's public key is sent by another, and every node serves the dev project. The first node
 * to start generates each into the shared StateStore (`cluster/generated/<name>`); the others
 * read it. Configured values win, as on a single node.
 *
 * @example
 * const settings = await withSharedSecrets(config, node.state);
 */
export async function withSharedSecrets(config: AppConfig, state: StateStore): Promise<AppConfig> {
  const userTokenSecret =
    config.userTokenSecret ??
    (await generatedOnce(state, 'user-token-secret', () => randomBytes(32).toString('base64url')));
  const { vapidPublicKey, vapidPrivateKey } = config.push;
  const vapid =
    vapidPublicKey !== undefined || vapidPrivateKey !== undefined
      ? {}
      : await generatedOnce(state, 'vapid-keys', () => {
          const { publicKey, privateKey } = webpush.generateVAPIDKeys();
          return { vapidPublicKey: publicKey, vapidPrivateKey: privateKey };
        });
  const devKey =
    config.devKey ??
    (config.projects.length > 0
      ? undefined
      : await generatedOnce(
          state,
          'dev-key',
          () => `dev_${randomBytes(18).toString('base64url')}`,
        ));
  return {
    ...config,
    userTokenSecret,
    push: { ...config.push, ...vapid },
    ...(devKey ? { devKey } : {}),
  };
}

/**
 * The value under `cluster/generated/<name>`, made by whichever node asks first (a single
 * node's own state store works alike: made once, kept through restarts).
 */
export async function generatedOnce<T>(state: StateStore, name: string, make: () => T): Promise<T> {
  const key = `cluster/generated/${name}`;
  await state.putIfAbsent(key, make());
  const value = await state.get<T>(key);
  if (value === undefined) throw new Error(`${key} vanished from the shared state`);
  return value;
}
