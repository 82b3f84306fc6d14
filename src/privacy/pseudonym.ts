import { createHash } from 'node:crypto';

/**
 * How records that outlive a user name them (the audit log, erase logs): a SHA-256 of project
 * and user id, so an erased user leaves no id behind, while whoever knows the id can still
 * find its entries (`userPseudonym('dev', 'u42')`). Pseudonymous, not anonymous: a guessable
 * id can be found by hashing guesses.
 *
 * @example
 * userPseudonym('dev', 'u42'); // 'u_3f1c…' (32 hex digits)
 */
export const userPseudonym = (project: string, userId: string): string =>
  `u_${createHash('sha256').update(`${project}\n${userId}`).digest('hex').slice(0, 32)}`;
