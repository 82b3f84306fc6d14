import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSavedDefinitions } from '../../src/state/saved-definitions.js';
import { StartError } from '../../src/ops/start-error.js';
import { ruleSpecSchema, type RuleSpec } from '../../src/rules/rule-spec.js';

const body = {
  trigger: { kind: 'event', types: ['user.signup'] },
  audience: { kind: 'user' },
  notification: { category: 'onboarding', title: 'Welcome', body: '' },
};
const rule = (name: string, title = 'Welcome'): RuleSpec =>
  ruleSpecSchema.parse({ ...body, name, notification: { ...body.notification, title } });
const fileIn = () => join(mkdtempSync(join(tmpdir(), 'backline-saved-')), 'rules.json');
const open = (file: string) => openSavedDefinitions(file, ruleSpecSchema, 'BAD_RULE');
const names = (specs: RuleSpec[]) => specs.map((s) => `${s.name}:${s.notification.title}`);

describe('saved definitions keyed by user-given names', () => {
  it('keeps a definition named `constructor`, in a project named `constructor`, across a reopen', () => {
    const file = fileIn();
    const configured = [rule('constructor'), rule('tostring'), rule('keys')];
    const first = open(file);
    for (const project of ['dev', 'constructor'])
      expect(names(first.specsFor(project, configured))).toEqual([
        'constructor:Welcome',
        'tostring:Welcome',
        'keys:Welcome',
      ]);
    first.defined('constructor', rule('constructor', 'Replaced'));
    first.defined('constructor', rule('keys', 'Replaced'));
    first.removed('dev', 'constructor');
    // A project named `constructor` once reached the global Object through `overrides[project]`.
    expect(Object.keys).toBeTypeOf('function');

    const second = open(file);
    expect(names(second.specsFor('constructor', configured))).toEqual([
      'tostring:Welcome',
      'constructor:Replaced',
      'keys:Replaced',
    ]);
    expect(names(second.specsFor('dev', configured))).toEqual(['tostring:Welcome', 'keys:Welcome']);
  });
});

describe('a saved definitions file that cannot be read', () => {
  const refusal = (file: string) => {
    try {
      open(file);
    } catch (err) {
      return err;
    }
    return undefined;
  };

  it('stops the start with a clear error when the path is a folder', () => {
    const file = fileIn();
    mkdirSync(file);
    const err = refusal(file);
    expect(err).toBeInstanceOf(StartError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('EISDIR');
  });

  it('stops the start and leaves the file as it was when it is not valid JSON or not valid definitions', () => {
    for (const text of [
      '{"dev": {"welcome": ',
      '[1, 2]',
      JSON.stringify({ dev: { welcome: { ...body, name: 'welcome', trigger: 'x' } } }),
      JSON.stringify({ dev: { other: { ...body, name: 'welcome' } } }),
    ]) {
      const file = fileIn();
      writeFileSync(file, text);
      const err = refusal(file);
      expect(err).toBeInstanceOf(StartError);
      expect((err as Error).message).toMatch(/cannot be read .*will not start and overwrite it$/);
      expect((err as Error).message).not.toContain('\n');
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('means nothing saved only when the file does not exist', () => {
    expect(
      open(fileIn())
        .specsFor('dev', [rule('a')])
        .map((s) => s.name),
    ).toEqual(['a']);
  });
});
