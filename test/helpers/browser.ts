import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium, headless, on a machine without a GPU or a sandbox. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** `expect.poll` with room for a loaded machine (its default gives up after 1 s). */
export const poll = <T>(read: () => Promise<T> | T, timeout = 15_000) =>
  expect.poll(read, { timeout });

/** Saves a screenshot under test/artifacts/ (gitignored), to look at after a run. */
export async function saveArtifact(page: Page, name: string, fullPage = true): Promise<void> {
  const artifacts = new URL('../artifacts/', import.meta.url);
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: new URL(name, artifacts).pathname, fullPage });
}

/** Page errors collected, to assert there were none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/**
 * Content Security Policy violations the page reports, collected from the start (call before
 * `goto`), to assert there were none: the browser's console errors and the document's
 * `securitypolicyviolation` events (which also see reports the console may fold).
 */
export async function cspViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
      violations.push(message.text());
  });
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) =>
      console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
  });
  return violations;
}
