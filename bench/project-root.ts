import { fileURLToPath } from 'node:url';

/** The repository's folder, with its trailing slash: where bench processes run and paths are shown from. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
