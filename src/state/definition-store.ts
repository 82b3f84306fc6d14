/**
 * Definitions (streams, rules) made through the admin API on top of the configuration: per
 * project and name, a definition, or a deletion of a configured one. Single node keeps them
 * in a JSON file under the data folder (`openSavedDefinitions`); cluster mode in the shared
 * StateStore (`openStateDefinitions`), where every change is announced to the other nodes.
 * One contract suite runs against both (test/state/definition-store.test.ts).
 *
 * @example
 * for (const spec of saved.specsFor('dev', configured)) rules.define('dev', spec);
 * await saved.defined('dev', saved.parse('welcome', body));
 */
export interface DefinitionStore<T extends { name: string }> {
  /** Configuration with the saved changes applied, as last loaded or written here. */
  specsFor(project: string, configured: readonly T[]): T[];
  /** Validates `raw` (a definition without its name); the error code names the bad part. */
  parse(name: string, raw: unknown): T;
  /** Saves a definition: durable once this returns (the file) or resolves (the StateStore). */
  defined(project: string, spec: T): void | Promise<void>;
  /** Saves that a definition was deleted, configured or not. */
  removed(project: string, name: string): void | Promise<void>;
  /**
   * What is saved for one definition now (another node may have changed it): the definition,
   * null when deleted, undefined when nothing is saved (its configuration applies).
   */
  reload(project: string, name: string): Promise<T | null | undefined>;
}

/**
 * Where a catalog keeps API definitions: a JSON file under the data folder (single node), or
 * a shared store (cluster mode).
 */
export type SavedIn<T extends { name: string }> = { file: string } | { saved: DefinitionStore<T> };
